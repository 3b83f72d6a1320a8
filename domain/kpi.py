"""The enterprise KPI report's derived rates, their change from the baseline, and the
programme-wide median per month.

Pure arithmetic on Decimals. A value is None when it was not recorded ("Tidak dicatat"), and a
rate is None whenever a number it needs is None or its divisor is 0: the bot never shows a rate
made up from a guess. Rates are compared with the baseline taken at the intake visit.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from domain.questionnaire import Answer

DEFECT_RATE = "defect_rate"
ABSENTEEISM = "absenteeism"
TURNOVER = "turnover"
LTIFR = "ltifr"
SEVERITY = "severity"
SUGGESTIONS_PER_100 = "suggestions_per_100"
KWH_PER_UNIT = "kwh_per_unit"
WOMEN_SHARE = "women_share"
CUSTOMER_CLAIMS = "customer_claims"
FATAL_ACCIDENTS = "fatal_accidents"

RATE_KEYS: tuple[str, ...] = (
    DEFECT_RATE, ABSENTEEISM, TURNOVER, LTIFR, SEVERITY, SUGGESTIONS_PER_100, KWH_PER_UNIT,
    WOMEN_SHARE, CUSTOMER_CLAIMS, FATAL_ACCIDENTS,
)
# What the owner's summary and the /kpi chart show: one rate per SCORE module's main concern.
HEADLINE_KEYS: tuple[str, ...] = (
    DEFECT_RATE, ABSENTEEISM, TURNOVER, LTIFR, SUGGESTIONS_PER_100, KWH_PER_UNIT,
)
# More implemented suggestions is the only rate where higher is better; the share of women has
# no better direction (a change says who was hired, not whether the enterprise improved).
LOWER_IS_BETTER: frozenset[str] = frozenset({
    DEFECT_RATE, ABSENTEEISM, TURNOVER, LTIFR, SEVERITY, KWH_PER_UNIT, CUSTOMER_CLAIMS,
    FATAL_ACCIDENTS,
})
NO_DIRECTION: frozenset[str] = frozenset({WOMEN_SHARE})

# Accident rates per 1,000,000 hours worked, as the ILO and Indonesia's K3 reports count them.
_PER_MILLION_HOURS = Decimal(1_000_000)
_HUNDRED = Decimal(100)


@dataclass(frozen=True)
class KpiInputs:
    """One month's (or the baseline's) answers; None is "not recorded"."""

    headcount: Decimal | None
    women: Decimal | None
    workdays: Decimal | None  # scheduled workdays in the month
    days_absent: Decimal | None  # sick, permitted, unexplained (not annual leave)
    hours_worked: Decimal | None  # overtime included
    left_resigned: Decimal | None
    left_contract_ended: Decimal | None
    left_dismissed: Decimal | None
    units_produced: Decimal | None
    units_rejected: Decimal | None  # a count, or a percentage when reject_is_percent
    reject_is_percent: bool
    customer_claims: Decimal | None
    lost_time_accidents: Decimal | None
    accident_days_lost: Decimal | None
    fatal_accidents: Decimal | None
    suggestions_implemented: Decimal | None
    electricity_kwh: Decimal | None


@dataclass(frozen=True)
class Change:
    """A rate now, at baseline, and whether the difference is an improvement.

    `better` is None when either value is missing, when nothing changed, and for a rate with no
    better direction (NO_DIRECTION)."""

    key: str
    now: Decimal | None
    baseline: Decimal | None
    delta: Decimal | None
    better: bool | None


def round_rate(value: Decimal) -> Decimal:
    """Two decimals; below 1, two significant digits, so that a 40 ppm defect rate (0.0040 %)
    or 0.0025 kWh per piece does not read as 0.00. Half up, as people round."""
    if value == 0:
        return Decimal("0.00")
    places = max(2, 1 - value.adjusted())
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _ratio(numerator: Decimal | None, denominator: Decimal | None,
           scale: Decimal = Decimal(1)) -> Decimal | None:
    if numerator is None or denominator is None or denominator == 0:
        return None
    return round_rate(numerator * scale / denominator)


def leavers(inputs: KpiInputs) -> Decimal | None:
    """Workers who left, all three reasons together; None unless all three were recorded.

    A partial sum would understate turnover against a complete baseline and show as an
    improvement that did not happen, so a missing reason is never counted as 0."""
    parts = (inputs.left_resigned, inputs.left_contract_ended, inputs.left_dismissed)
    if any(part is None for part in parts):
        return None
    return sum((part for part in parts if part is not None), Decimal(0))


def defect_rate(inputs: KpiInputs) -> Decimal | None:
    """Rejected or reworked units per 100 produced; a reject % kept by QC is taken as given."""
    if inputs.reject_is_percent:
        return None if inputs.units_rejected is None else round_rate(inputs.units_rejected)
    return _ratio(inputs.units_rejected, inputs.units_produced, _HUNDRED)


def absenteeism(inputs: KpiInputs) -> Decimal | None:
    """Workdays lost to absence per 100 scheduled workdays of the whole workforce."""
    if inputs.headcount is None or inputs.workdays is None:
        return None
    return _ratio(inputs.days_absent, inputs.headcount * inputs.workdays, _HUNDRED)


def rates(inputs: KpiInputs) -> dict[str, Decimal | None]:
    """Every derived rate, keyed and ordered as RATE_KEYS."""
    return {
        DEFECT_RATE: defect_rate(inputs),
        ABSENTEEISM: absenteeism(inputs),
        TURNOVER: _ratio(leavers(inputs), inputs.headcount, _HUNDRED),
        LTIFR: _ratio(inputs.lost_time_accidents, inputs.hours_worked, _PER_MILLION_HOURS),
        SEVERITY: _ratio(inputs.accident_days_lost, inputs.hours_worked, _PER_MILLION_HOURS),
        SUGGESTIONS_PER_100: _ratio(inputs.suggestions_implemented, inputs.headcount, _HUNDRED),
        KWH_PER_UNIT: _ratio(inputs.electricity_kwh, inputs.units_produced),
        WOMEN_SHARE: _ratio(inputs.women, inputs.headcount, _HUNDRED),
        # Counts, shown as they were reported: one fatal accident is never a "rate".
        CUSTOMER_CLAIMS: inputs.customer_claims,
        FATAL_ACCIDENTS: inputs.fatal_accidents,
    }


def is_better(key: str, delta: Decimal | None) -> bool | None:
    if delta is None or delta == 0 or key in NO_DIRECTION:
        return None
    return (delta < 0) == (key in LOWER_IS_BETTER)


def changes(now: Mapping[str, Decimal | None],
            baseline: Mapping[str, Decimal | None] | None) -> list[Change]:
    """Each rate of `now` against the baseline (RATE_KEYS first, in their order)."""
    keys = [key for key in RATE_KEYS if key in now] + [key for key in now if key not in RATE_KEYS]
    result = []
    for key in keys:
        value = now[key]
        base = baseline.get(key) if baseline is not None else None
        delta = value - base if value is not None and base is not None else None
        result.append(Change(key, value, base, delta, is_better(key, delta)))
    return result


def month_of(day: date) -> date:
    """A month is named by its first day."""
    return day.replace(day=1)


def median_by_month(
    rows: Iterable[tuple[date, Mapping[str, Decimal | None]]],
) -> dict[date, dict[str, Decimal | None]]:
    """Per month (its first day), the median of each rate over the enterprises that recorded it.

    One row per enterprise and month (the caller's query ensures it). A rate nobody recorded in
    a month is None; months come out in date order, rates in RATE_KEYS order then any others."""
    values: defaultdict[date, defaultdict[str, list[Decimal]]] = defaultdict(
        lambda: defaultdict(list))
    seen: dict[str, None] = {}
    for day, row in rows:
        month = values[month_of(day)]
        for key, value in row.items():
            seen.setdefault(key, None)
            if value is not None:
                month[key].append(value)
    keys = [key for key in RATE_KEYS if key in seen] + [key for key in seen if key not in RATE_KEYS]
    return {
        month: {key: round_rate(statistics.median(found[key])) if found[key] else None
                for key in keys}
        for month, found in sorted(values.items())
    }


def inputs_from(answers: Mapping[str, Answer]) -> KpiInputs:
    """A KPI report's answers (by question key, domain/questionnaires/kpi.toml) as the
    rates' inputs: a skipped item ("Tidak dicatat") is None."""

    def number(key: str) -> Decimal | None:
        answer = answers.get(key)
        return None if answer is None or answer.skipped else answer.number

    rejected = answers.get("units_rejected")
    return KpiInputs(
        headcount=number("headcount"), women=number("women"), workdays=number("workdays"),
        days_absent=number("days_absent"), hours_worked=number("hours_worked"),
        left_resigned=number("left_resigned"),
        left_contract_ended=number("left_contract_ended"),
        left_dismissed=number("left_dismissed"), units_produced=number("units_produced"),
        units_rejected=number("units_rejected"),
        reject_is_percent=bool(rejected is not None and rejected.percent),
        customer_claims=number("customer_claims"),
        # Not asked when there was no lost-time accident: then none were lost.
        lost_time_accidents=number("lost_time_accidents"),
        accident_days_lost=(Decimal(0) if number("lost_time_accidents") == 0
                            else number("accident_days_lost")),
        fatal_accidents=number("fatal_accidents"),
        suggestions_implemented=number("suggestions_implemented"),
        electricity_kwh=number("electricity_kwh"))
