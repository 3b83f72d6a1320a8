"""Which KPI answers are impossible and which are only unlikely.

An impossible answer is refused (more scheduled workdays than the month has days). An unlikely
one is asked about, never refused: a factory may really have grown tenfold, and the owner is
the one who knows. What is unlikely:

- more than 300 hours worked per worker in the month (hours worked / headcount): ten hours a
  day, every day of a 30-day month;
- a number of workers more than twice the headcount the enterprise enrolled with (most often
  "1,250" read as 1250 when 1,25 was typed, or a slip of the finger);
- ten times (or more) the same figure of the month before, or of the baseline when the month
  before has no report: a zero added. For the figures that follow the size of the enterprise
  (workers, hours, units, kWh) a tenth or less too: a zero dropped. Counts of events
  (accidents, claims, leavers) may fall to a tenth when things improve, which is the point
  of the training, so a fall is not asked about there.

Pure functions on Decimals; the earlier figures come from db/survey_results.kpi_reference.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from domain.questionnaire import Answer

HEADCOUNT = "headcount"
HOURS_WORKED = "hours_worked"
WORKDAYS = "workdays"

HOURS_PER_WORKER_LIMIT = Decimal(300)
ENROLLED_FACTOR = Decimal(2)
TENFOLD = Decimal(10)
# The figures that follow the size of the enterprise: a tenth of last month's is a slip too.
STEADY = frozenset({HEADCOUNT, HOURS_WORKED, "units_produced", "electricity_kwh"})

# Refusal (an error key, worded by services/surveys/survey_text.number_note).
MORE_DAYS_THAN_MONTH = "more_days_than_month"

# Why an answer is asked about.
HOURS_PER_WORKER = "hours_per_worker"
ABOVE_ENROLLED = "above_enrolled"
TENFOLD_UP = "tenfold_up"
TENTH_DOWN = "tenth_down"


@dataclass(frozen=True)
class Reference:
    """What an enterprise's answers are compared with: the headcount it enrolled with, the
    report of the month before (or the baseline entered for it) and its baseline."""

    enrolled: int | None = None
    earlier_period: date | None = None
    earlier: Mapping[str, Answer] = field(default_factory=dict)
    baseline: Mapping[str, Answer] = field(default_factory=dict)


@dataclass(frozen=True)
class Doubt:
    """Why an answer is asked about, and what it was compared with: the headcount (hours per
    worker), the enrolled headcount, or the earlier figure, of `period` (None: the
    baseline's)."""

    reason: str
    compared: Decimal
    period: date | None = None


def days_in_month(period: date) -> int:
    return calendar.monthrange(period.year, period.month)[1]


def refusal(key: str, value: Decimal, *, period: date) -> str | None:
    """An error key when `value` cannot be true for question `key` in the month `period`."""
    if key == WORKDAYS and value > days_in_month(period):
        return MORE_DAYS_THAN_MONTH
    return None


def _known(answer: Answer | None) -> Decimal | None:
    """A number that can be compared: typed, not skipped, not a percentage."""
    if answer is None or answer.skipped or answer.percent or answer.number is None:
        return None
    return answer.number


def doubt(key: str, value: Decimal, *, percent: bool, answers: Mapping[str, Answer],
          reference: Reference) -> Doubt | None:
    """Why `value` for question `key` should be confirmed before it is kept; None when it
    looks like any other month's. `answers`: the report's answers so far."""
    if percent:
        return None  # a share of rejects is compared with nothing
    if key == HEADCOUNT and reference.enrolled:
        enrolled = Decimal(reference.enrolled)
        if value > enrolled * ENROLLED_FACTOR:
            return Doubt(ABOVE_ENROLLED, enrolled)
    if key == HOURS_WORKED:
        workers = _known(answers.get(HEADCOUNT))
        if workers and value > workers * HOURS_PER_WORKER_LIMIT:
            return Doubt(HOURS_PER_WORKER, workers)
    # Against the month before when it has the figure; else the baseline. Not both: a
    # factory that grew tenfold since its baseline and said so last month is not asked
    # again every month.
    earlier = _known(reference.earlier.get(key))
    period = reference.earlier_period
    if earlier is None:
        earlier, period = _known(reference.baseline.get(key)), None
    if not earlier:
        return None  # nothing to compare with, or zero: any number is "ten times" zero
    if value >= earlier * TENFOLD:
        return Doubt(TENFOLD_UP, earlier, period)
    if key in STEADY and 0 < value and value * TENFOLD <= earlier:
        return Doubt(TENTH_DOWN, earlier, period)
    return None


def hours_per_worker(hours: Decimal, workers: Decimal) -> Decimal:
    """Hours worked per worker, whole hours (as the question about them says it)."""
    return (hours / workers).to_integral_value()
