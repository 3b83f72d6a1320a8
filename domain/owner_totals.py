"""What owners and admins may read of their workers' survey: noisy totals, released once.

An owner holds the join code, so he can join accounts of his own and answer beside his
workers; with exact counts, subtracting his own answers gives theirs. So what an enterprise
reads of a closed round (issue 14, docs/architecture.md "What an owner can learn"):

- counts only the answers of workers who had joined at least 14 days before the round opened
  (`ELIGIBLE_AFTER`): accounts made for the round count for nothing;
- is released once per round and enterprise and stored: asking again shows the same numbers,
  so the noise cannot be averaged away;
- carries differential-privacy noise: every count of every choice (zeros too: which choices
  nobody picked is not left exact) and the number of answers get discrete Laplace noise of
  scale `NOISE_SCALE` (OpenDP: its sampler is exact, not floating point, which floating-point
  Laplace noise is not); one worker's response moves each question's counts by one, so each
  question's totals are `EPSILON_PER_QUESTION`-differentially private, a round's whole
  release `epsilon_of_round`;
- is shown as shares rounded to 10%, and only when at least five eligible workers answered
  and the noisy count is five or more too.

Staff, the SQL views and the export keep exact counts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import Any

from domain.anonymity import MIN_ANSWERS
from domain.questionnaire import NO, YES, YES_NO, Questionnaire

# Who counts: workers who had joined this long before the round opened.
ELIGIBLE_AFTER = timedelta(days=14)
# One worker's response changes each question's counts by one (adding or removing it): with
# discrete Laplace noise of scale 2, each question's totals are 0.5-DP.
NOISE_SCALE = 2.0
EPSILON_PER_QUESTION = 1 / NOISE_SCALE
SHARE_STEP = 10  # per cent

# Noise for a vector of counts: the counts with noise added, in the same order.
Noise = Callable[[list[int]], list[int]]


def choices_of(questionnaire: Questionnaire) -> dict[str, list[str]]:
    """Every answer a question's totals count, in the order shown: its choices (Yes and No
    for a yes/no question)."""
    return {q.key: [YES, NO] if q.type == YES_NO else [c.value for c in q.choices]
            for q in questionnaire.questions}


def epsilon_of_round(questions: int) -> float:
    """The privacy loss of a round's whole release: each question's counts, and the number
    of answers, compose."""
    return (questions + 1) * EPSILON_PER_QUESTION


@dataclass(frozen=True)
class Release:
    """What an enterprise may read of a closed round: noisy counts (never below zero)."""

    responses: int
    counts: dict[str, dict[str, int]]  # question -> choice -> noisy count
    exact_responses: int               # not shown: whether five eligible workers answered
    epsilon: float
    members: int = 0                   # its workers in the bot when the round opened


def release(choices: Mapping[str, Sequence[str]], counts: Mapping[str, Mapping[str, int]],
            responses: int, noise: Noise | None = None, *, members: int = 0) -> Release:
    """Noisy totals of the eligible workers' answers: every choice of every question
    (`choices`, in order) and the number of responses."""
    order = [(question, choice) for question, values in choices.items() for choice in values]
    exact = [counts.get(question, {}).get(choice, 0) for question, choice in order] + [responses]
    noisy = (noise or laplace_noise)(exact)
    released: dict[str, dict[str, int]] = {question: {} for question in choices}
    for (question, choice), value in zip(order, noisy, strict=False):
        released[question][choice] = max(0, value)
    return Release(responses=max(0, noisy[-1]), counts=released, exact_responses=responses,
                   epsilon=epsilon_of_round(len(choices)), members=members)


def may_show(release_: Release) -> bool:
    """Shown only when five eligible workers answered, and the noisy count says five too."""
    return release_.exact_responses >= MIN_ANSWERS and release_.responses >= MIN_ANSWERS


def shares(counts: Mapping[str, int]) -> dict[str, int]:
    """Each choice's share of a question's (noisy) answers, in per cent rounded to 10."""
    total = sum(counts.values())
    if total <= 0:
        return {choice: 0 for choice in counts}
    return {choice: int(SHARE_STEP * round(100 * n / total / SHARE_STEP))
            for choice, n in counts.items()}


def about(count: int, step: int = 5) -> int:
    """A noisy count as shown: to the nearest five."""
    return int(step * round(count / step))


def laplace_noise(values: list[int]) -> list[int]:
    """Discrete Laplace noise of scale NOISE_SCALE on each value (OpenDP's sampler)."""
    return list(_measurement()(values))


@cache
def _measurement() -> Any:
    import opendp.prelude as dp  # loaded at the first release, not at every start-up

    dp.enable_features("contrib")
    return dp.m.make_laplace(dp.vector_domain(dp.atom_domain(T=int)), dp.l1_distance(T=int),
                             scale=NOISE_SCALE)
