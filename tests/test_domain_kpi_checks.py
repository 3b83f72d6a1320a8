"""Which KPI answers are refused and which are asked about (domain/kpi_checks.py)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from domain.kpi_checks import (
    ABOVE_ENROLLED,
    HOURS_PER_WORKER,
    MORE_DAYS_THAN_MONTH,
    TENFOLD_UP,
    TENTH_DOWN,
    Doubt,
    Reference,
    days_in_month,
    doubt,
    hours_per_worker,
    refusal,
)
from domain.questionnaire import Answer

D = Decimal
OCT = date(2026, 10, 1)


def _n(value: int | str, *, percent: bool = False) -> Answer:
    return Answer(number=D(value), percent=percent)


@pytest.mark.parametrize(("period", "days"), [
    (date(2026, 2, 1), 28), (date(2028, 2, 1), 29), (date(2026, 11, 1), 30),
    (date(2026, 12, 1), 31)])
def test_more_workdays_than_the_month_has_are_refused(period: date, days: int) -> None:
    assert days_in_month(period) == days
    assert refusal("workdays", D(days), period=period) is None
    assert refusal("workdays", D(days + 1), period=period) == MORE_DAYS_THAN_MONTH
    assert refusal("hours_worked", D(days + 1), period=period) is None


def test_more_than_300_hours_per_worker_is_asked_about() -> None:
    answers = {"headcount": _n(100)}
    assert doubt("hours_worked", D(30000), percent=False, answers=answers,
                 reference=Reference()) is None
    assert doubt("hours_worked", D(30001), percent=False, answers=answers,
                 reference=Reference()) == Doubt(HOURS_PER_WORKER, D(100))
    assert hours_per_worker(D(33333), D(100)) == 333
    # Without a headcount there is nothing to divide by: not asked.
    for unknown in ({}, {"headcount": Answer(skipped=True)}):
        assert doubt("hours_worked", D(10**6), percent=False, answers=unknown,
                     reference=Reference()) is None


def test_more_than_twice_the_enrolled_workers_is_asked_about() -> None:
    reference = Reference(enrolled=150)
    assert doubt("headcount", D(300), percent=False, answers={}, reference=reference) is None
    assert doubt("headcount", D(1250), percent=False, answers={},
                 reference=reference) == Doubt(ABOVE_ENROLLED, D(150))
    # Only the headcount: 1250 women are the "at most" check's (refused above the headcount).
    assert doubt("women", D(1250), percent=False, answers={}, reference=reference) is None


def test_ten_times_last_month_is_asked_about() -> None:
    reference = Reference(earlier_period=OCT, earlier={"customer_claims": _n(2),
                                                       "units_produced": _n(15000)})
    assert doubt("customer_claims", D(19), percent=False, answers={},
                 reference=reference) is None
    assert doubt("customer_claims", D(20), percent=False, answers={},
                 reference=reference) == Doubt(TENFOLD_UP, D(2), OCT)
    assert doubt("units_produced", D(150000), percent=False, answers={},
                 reference=reference) == Doubt(TENFOLD_UP, D(15000), OCT)


def test_a_tenth_is_asked_about_only_for_figures_that_follow_the_size() -> None:
    reference = Reference(earlier_period=OCT, earlier={"units_produced": _n(15000),
                                                       "customer_claims": _n(20)})
    assert doubt("units_produced", D(1500), percent=False, answers={},
                 reference=reference) == Doubt(TENTH_DOWN, D(15000), OCT)
    assert doubt("units_produced", D(1501), percent=False, answers={},
                 reference=reference) is None
    # Claims falling from 20 to 2 is what the training is for; none at all is no slip.
    assert doubt("customer_claims", D(2), percent=False, answers={},
                 reference=reference) is None
    assert doubt("units_produced", D(0), percent=False, answers={},
                 reference=reference) is None


def test_the_baseline_counts_only_when_last_month_has_no_figure() -> None:
    baseline = {"units_produced": _n(1000), "hours_worked": _n(2000)}
    # Last month already said the factory grew tenfold: not asked again every month.
    grown = Reference(earlier_period=OCT, earlier={"units_produced": _n(12000)},
                      baseline=baseline)
    assert doubt("units_produced", D(12500), percent=False, answers={},
                 reference=grown) is None
    # Last month had no hours recorded: the baseline's are compared.
    assert doubt("hours_worked", D(20000), percent=False, answers={},
                 reference=grown) == Doubt(TENFOLD_UP, D(2000), None)


def test_nothing_to_compare_with_asks_nothing() -> None:
    reference = Reference(earlier_period=OCT, earlier={
        "left_resigned": _n(0), "units_rejected": _n("2.5", percent=True),
        "women": Answer(skipped=True)})
    for key, value in (("left_resigned", 5), ("units_rejected", 300), ("women", 40),
                       ("electricity_kwh", 10**6)):
        assert doubt(key, D(value), percent=False, answers={}, reference=reference) is None
    # A share of rejects is never compared with a count.
    assert doubt("units_rejected", D(50), percent=True, answers={},
                 reference=Reference(earlier={"units_rejected": _n(2)})) is None
