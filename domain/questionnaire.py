"""Surveys as data: the definitions in `domain/questionnaires/*.toml`, read and checked here,
and the rules that run any of them (which question comes next, what an answer may be).

A definition names its questions in order. Each has a key, a type, its text in every
language (with `{month}`, the month it asks about), a short label for summaries, and may
have: a range (`min`, `max`), "at most" a product of earlier answers and constants
(`at_most = ["headcount", "workdays"]`), choices, a condition (`ask_if`: only after a given
choice, or a number above a value) and whether it may be skipped (`optional`, default yes)
with the survey's skip button ("Tidak dicatat", "Tidak mau menjawab"). A definition that
breaks these rules does not load, so a mistake fails the tests, not a user.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any

LANGUAGES = ("id", "en")

# Question types.
WHOLE = "whole"                        # a whole number
DECIMAL = "decimal"                    # a number with decimals (kWh)
WHOLE_OR_PERCENT = "whole_or_percent"  # a count, or a percentage ("2,5%")
CHOICE = "choice"                      # one of the definition's choices, as buttons
YES_NO = "yes_no"                      # Ya / Tidak, as buttons
TEXT = "text"                          # free text
NUMBER_TYPES = frozenset({WHOLE, DECIMAL, WHOLE_OR_PERCENT})
BUTTON_TYPES = frozenset({CHOICE, YES_NO})
TYPES = NUMBER_TYPES | BUTTON_TYPES | {TEXT}

YES, NO = "yes", "no"
# Who can answer a survey: as a member of the enterprise, or as its assigned trainer.
ANSWERING_ROLES = frozenset({"owner", "admin", "worker", "trainer"})
SKIPPED = "skip"  # the value of the skip button

# Error keys of check_number (the caller words them).
TOO_SMALL = "too_small"
TOO_BIG = "too_big"
ABOVE_OTHER = "above_other"        # above "at most" (women above the headcount)
PERCENT_TOO_BIG = "percent_too_big"
TEXT_MAX = 500


class DefinitionError(ValueError):
    """A survey definition that does not follow the rules above."""


Texts = Mapping[str, str]  # language -> text


@dataclass(frozen=True)
class Choice:
    value: str
    text: Texts


@dataclass(frozen=True)
class Condition:
    """Ask only when the answer to `key` is the choice `is_` or a number above `above`."""

    key: str
    is_: str | None = None
    above: Decimal | None = None

    def holds(self, answer: Answer | None) -> bool:
        if answer is None or answer.skipped:
            return False
        if self.is_ is not None:
            return answer.choice == self.is_
        return answer.number is not None and self.above is not None and answer.number > self.above


@dataclass(frozen=True)
class Question:
    key: str
    type: str
    text: Texts
    label: Texts
    choices: tuple[Choice, ...] = ()
    min: Decimal = Decimal(0)
    max: Decimal | None = None
    at_most: tuple[str | Decimal, ...] = ()
    optional: bool = True
    ask_if: Condition | None = None

    @property
    def is_number(self) -> bool:
        return self.type in NUMBER_TYPES

    @property
    def whole(self) -> bool:
        return self.type in (WHOLE, WHOLE_OR_PERCENT)

    def choice(self, value: str) -> Choice | None:
        return next((c for c in self.choices if c.value == value), None)


@dataclass(frozen=True)
class Answer:
    """An answer as the rules see it (the raw text and the time are kept by the database)."""

    number: Decimal | None = None
    percent: bool = False
    choice: str | None = None
    text: str | None = None
    skipped: bool = False


Answers = Mapping[str, Answer]


@dataclass(frozen=True)
class Questionnaire:
    key: str
    subject: str            # "enterprise" (one response each) or "worker"
    confirm: bool           # shown back for confirmation before it is final
    title: Texts
    skip: Texts
    intro: Texts | None
    questions: tuple[Question, ...]
    respondents: frozenset[str] = frozenset()  # who answers it: owner, admin, worker, trainer
    baseline: frozenset[str] = frozenset()     # who may enter a baseline (before training)
    by_key: Mapping[str, Question] = field(repr=False, default_factory=dict)

    def applies(self, question: Question, answers: Answers) -> bool:
        return question.ask_if is None or question.ask_if.holds(answers.get(question.ask_if.key))

    def asked(self, answers: Answers) -> list[Question]:
        """The questions this person is asked, given their answers so far."""
        return [q for q in self.questions if self.applies(q, answers)]

    def next_question(self, answers: Answers) -> Question | None:
        """The first question asked and not answered yet; None when all are."""
        return next((q for q in self.asked(answers) if q.key not in answers), None)

    def position(self, question: Question, answers: Answers) -> tuple[int, int]:
        """(n, of): "question n of `of`". A follow-up counts until the answer it depends on
        rules it out, so the total only ever shrinks."""
        asked = [q for q in self.questions if self.applies(q, answers)
                 or (q.ask_if is not None and q.ask_if.key not in answers)]
        keys = [q.key for q in asked]
        n = keys.index(question.key) + 1 if question.key in keys else len(keys)
        return n, len(asked)

    def first_unfit(self, answers: Answers) -> tuple[Question, str] | None:
        """The first number that no longer fits the answers it is checked against (the
        headcount changed from the summary, and now the women are more), with its error."""
        for question in self.asked(answers):
            answer = answers.get(question.key)
            if answer is None or answer.skipped or answer.number is None:
                continue
            error = check_number(question, answer.number, percent=answer.percent,
                                 answers=answers)
            if error is not None:
                return question, error
        return None

    def changes(self, before: Answers, after: Answers) -> list[Question]:
        """The questions whose answer differs between a response and the one it replaces, in
        order: a number changed, "not recorded" became a number, a follow-up asked in only
        one of them."""
        old, new = self.kept(before), self.kept(after)
        return [q for q in self.questions if old.get(q.key) != new.get(q.key)]

    def kept(self, answers: Answers) -> dict[str, Answer]:
        """The answers that count: not those to a question no longer asked (a follow-up
        after the yes became a no)."""
        asked = {q.key for q in self.asked(answers)}
        return {k: a for k, a in answers.items() if k in asked}


# --- answers and their checks --------------------------------------------------------------
def bound(question: Question, answers: Answers) -> Decimal | None:
    """The "at most" of a question from the answers it names; None when one of them is
    not known (skipped, or not asked), so nothing is refused on a guess."""
    if not question.at_most:
        return None
    result = Decimal(1)
    for factor in question.at_most:
        if isinstance(factor, Decimal):
            result *= factor
            continue
        answer = answers.get(factor)
        if answer is None or answer.skipped or answer.number is None:
            return None
        result *= answer.number
    return result


def check_number(question: Question, value: Decimal, *, percent: bool,
                 answers: Answers) -> str | None:
    """None when `value` fits the question, else an error key."""
    if percent:
        return PERCENT_TOO_BIG if value > 100 else None
    if value < question.min:
        return TOO_SMALL
    if question.max is not None and value > question.max:
        return TOO_BIG
    limit = bound(question, answers)
    if limit is not None and value > limit:
        return ABOVE_OTHER
    return None


def choice_values(question: Question) -> tuple[str, ...]:
    if question.type == YES_NO:
        return (YES, NO)
    return tuple(c.value for c in question.choices)


# --- loading --------------------------------------------------------------------------------
NAMES = ("kpi", "pulse")


@cache
def load(name: str) -> Questionnaire:
    """The survey `name`, from domain/questionnaires/<name>.toml, checked."""
    if name not in NAMES:
        raise KeyError(name)
    source = resources.files("domain").joinpath("questionnaires", f"{name}.toml")
    return parse(tomllib.loads(source.read_text(encoding="utf-8")), name)


def parse(raw: Mapping[str, Any], name: str = "?") -> Questionnaire:
    def fail(message: str) -> DefinitionError:
        return DefinitionError(f"{name}: {message}")

    def texts(value: Any, where: str, *, month: bool = False) -> dict[str, str]:
        if not isinstance(value, Mapping):
            raise fail(f"{where}: texts in {', '.join(LANGUAGES)} expected")
        result = {}
        for language in LANGUAGES:
            text = value.get(language)
            if not isinstance(text, str) or not text.strip():
                raise fail(f"{where}: no text in {language!r}")
            if month and "{month}" not in text:
                raise fail(f"{where}: the {language!r} text does not name the month")
            result[language] = text
        return result

    questions: list[Question] = []
    seen: dict[str, Question] = {}
    for position, item in enumerate(raw.get("questions") or [], 1):
        key = item.get("key")
        if not isinstance(key, str) or not key or key in seen:
            raise fail(f"question {position}: missing or repeated key")
        kind = item.get("type")
        if kind not in TYPES:
            raise fail(f"{key}: unknown type {kind!r}")
        choices = tuple(Choice(str(c.get("value")), texts(c, f"{key} choice"))
                        for c in item.get("choices") or [])
        if (kind == CHOICE) != bool(choices):
            raise fail(f"{key}: choices are for (and required by) type 'choice'")
        at_most: list[str | Decimal] = []
        for factor in item.get("at_most") or []:
            if isinstance(factor, int | float):
                at_most.append(Decimal(str(factor)))
            elif factor in seen and seen[factor].is_number:
                at_most.append(factor)
            else:
                raise fail(f"{key}: at_most names {factor!r}, not an earlier number question")
        condition = None
        if (cond := item.get("ask_if")) is not None:
            other = seen.get(cond.get("key"))
            if other is None:
                raise fail(f"{key}: ask_if names no earlier question")
            if "is" in cond:
                if cond["is"] not in choice_values(other):
                    raise fail(f"{key}: ask_if: {cond['is']!r} is not a choice of {other.key}")
                condition = Condition(other.key, is_=str(cond["is"]))
            elif "above" in cond and other.is_number:
                condition = Condition(other.key, above=Decimal(str(cond["above"])))
            else:
                raise fail(f"{key}: ask_if needs 'is' (a choice) or 'above' (a number)")
        question = Question(
            key=key, type=kind, text=texts(item.get("text"), f"{key} text", month=True),
            label=texts(item.get("label"), f"{key} label"), choices=choices,
            min=Decimal(str(item.get("min", 0))),
            max=Decimal(str(item["max"])) if "max" in item else None,
            at_most=tuple(at_most), optional=bool(item.get("optional", True)),
            ask_if=condition)
        questions.append(question)
        seen[key] = question
    if not questions:
        raise fail("no questions")
    subject = raw.get("subject")
    if subject not in ("enterprise", "worker"):
        raise fail("subject must be 'enterprise' or 'worker'")
    intro = texts(raw["intro"], "intro") if "intro" in raw else None
    roles = {}
    for field_name in ("respondents", "baseline"):
        values = raw.get(field_name, [])
        if not set(values) <= ANSWERING_ROLES:
            raise fail(f"{field_name}: roles are {sorted(ANSWERING_ROLES)}")
        roles[field_name] = frozenset(values)
    if not roles["respondents"]:
        raise fail("respondents: nobody answers it")
    return Questionnaire(
        key=str(raw.get("key", name)), subject=subject, confirm=bool(raw.get("confirm")),
        title=texts(raw.get("title"), "title", month=True), skip=texts(raw.get("skip"), "skip"),
        intro=intro, questions=tuple(questions), respondents=roles["respondents"],
        baseline=roles["baseline"], by_key=dict(seen))


def all_questionnaires() -> Sequence[Questionnaire]:
    return [load(name) for name in NAMES]
