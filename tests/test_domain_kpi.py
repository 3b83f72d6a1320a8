"""The KPI report's derived rates: worked examples, missing answers, zero divisors, the change
from the baseline and the programme-wide medians."""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from domain.kpi import (
    HEADLINE_KEYS,
    LOWER_IS_BETTER,
    NO_DIRECTION,
    RATE_KEYS,
    Change,
    KpiInputs,
    changes,
    leavers,
    median_by_month,
    rates,
    round_rate,
)

D = Decimal

# A month at a plant of 120 workers: 25 scheduled days, 8 hours a day plus 2,400 hours of
# overtime (lembur).
MONTH = KpiInputs(
    headcount=D(120), women=D(54), workdays=D(25), days_absent=D(90), hours_worked=D(26_400),
    left_resigned=D(3), left_contract_ended=D(2), left_dismissed=D(1),
    units_produced=D(48_000), units_rejected=D(720), reject_is_percent=False,
    customer_claims=D(2), lost_time_accidents=D(1), accident_days_lost=D(12),
    fatal_accidents=D(0), suggestions_implemented=D(9), electricity_kwh=D(36_000),
)


def with_(**changes_: Any) -> KpiInputs:
    return dataclasses.replace(MONTH, **changes_)


def test_every_rate_of_a_worked_example() -> None:
    assert rates(MONTH) == {
        "defect_rate": D("1.50"),  # 720 / 48,000 x 100
        "absenteeism": D("3.00"),  # 90 / (120 x 25) x 100
        "turnover": D("5.00"),  # (3 + 2 + 1) / 120 x 100
        "ltifr": D("37.88"),  # 1 x 1,000,000 / 26,400 = 37.878...
        "severity": D("454.55"),  # 12 x 1,000,000 / 26,400 = 454.545...
        "suggestions_per_100": D("7.50"),  # 9 / 120 x 100
        "kwh_per_unit": D("0.75"),  # 36,000 / 48,000
        "women_share": D("45.00"),  # 54 / 120 x 100
        "customer_claims": D(2),
        "fatal_accidents": D(0),
    }


def test_rates_come_in_the_order_of_rate_keys() -> None:
    assert tuple(rates(MONTH)) == RATE_KEYS
    assert set(HEADLINE_KEYS) <= set(RATE_KEYS)
    assert LOWER_IS_BETTER | NO_DIRECTION | {"suggestions_per_100"} == set(RATE_KEYS)
    assert not LOWER_IS_BETTER & NO_DIRECTION


def test_a_reject_percentage_is_taken_as_given() -> None:
    kept_by_qc = with_(units_rejected=D("1.8"), reject_is_percent=True)
    assert rates(kept_by_qc)["defect_rate"] == D("1.80")
    # Output is not needed for the rate, only for the kWh per unit.
    no_output = with_(units_rejected=D("1.8"), reject_is_percent=True, units_produced=None)
    assert rates(no_output)["defect_rate"] == D("1.80")
    assert rates(no_output)["kwh_per_unit"] is None
    assert rates(with_(units_rejected=None, reject_is_percent=True))["defect_rate"] is None


@pytest.mark.parametrize("value, rounded", [
    (D("37.878787"), D("37.88")),
    (D("2.675"), D("2.68")),  # half up, as people round (not to even)
    (D("0.125"), D("0.13")),
    (D("0.5"), D("0.50")),
    (D("0.004"), D("0.0040")),  # 40 ppm of rejects, not 0.00 %
    (D("0.0025"), D("0.0025")),
    (D("0.00123456"), D("0.0012")),
    (D(0), D("0.00")),
    (D(12), D("12.00")),
    (D("-0.25"), D("-0.25")),
])
def test_rounding_keeps_small_rates_visible(value: Decimal, rounded: Decimal) -> None:
    assert round_rate(value) == rounded
    assert str(round_rate(value)) == str(rounded)


def test_small_defect_rates_and_energy_per_piece_keep_two_significant_digits() -> None:
    result = rates(with_(units_produced=D(4_000_000), units_rejected=D(160),
                         electricity_kwh=D(10_000)))
    assert result["defect_rate"] == D("0.0040")  # 40 ppm
    assert result["kwh_per_unit"] == D("0.0025")


@pytest.mark.parametrize("field, gone", [
    ("headcount", {"absenteeism", "turnover", "suggestions_per_100", "women_share"}),
    ("women", {"women_share"}),
    ("workdays", {"absenteeism"}),
    ("days_absent", {"absenteeism"}),
    ("hours_worked", {"ltifr", "severity"}),
    ("left_resigned", {"turnover"}),
    ("left_contract_ended", {"turnover"}),
    ("left_dismissed", {"turnover"}),
    ("units_produced", {"defect_rate", "kwh_per_unit"}),
    ("units_rejected", {"defect_rate"}),
    ("customer_claims", {"customer_claims"}),
    ("lost_time_accidents", {"ltifr"}),
    ("accident_days_lost", {"severity"}),
    ("fatal_accidents", {"fatal_accidents"}),
    ("suggestions_implemented", {"suggestions_per_100"}),
    ("electricity_kwh", {"kwh_per_unit"}),
])
def test_a_value_not_recorded_leaves_only_the_rates_that_need_it_empty(
        field: str, gone: set[str]) -> None:
    full = rates(MONTH)
    result = rates(with_(**{field: None}))
    assert {key for key, value in result.items() if value is None} == gone
    assert all(result[key] == full[key] for key in RATE_KEYS if key not in gone)


@pytest.mark.parametrize("field, gone", [
    ("headcount", {"absenteeism", "turnover", "suggestions_per_100", "women_share"}),
    ("workdays", {"absenteeism"}),
    ("hours_worked", {"ltifr", "severity"}),
    ("units_produced", {"defect_rate", "kwh_per_unit"}),
])
def test_a_zero_divisor_gives_no_rate(field: str, gone: set[str]) -> None:
    result = rates(with_(**{field: D(0)}))
    assert {key for key, value in result.items() if value is None} == gone


def test_zero_numerators_are_zero_rates() -> None:
    result = rates(with_(days_absent=D(0), lost_time_accidents=D(0), accident_days_lost=D(0),
                         left_resigned=D(0), left_contract_ended=D(0), left_dismissed=D(0)))
    assert result["absenteeism"] == result["ltifr"] == result["severity"] == D("0.00")
    assert result["turnover"] == D("0.00")


def test_turnover_needs_all_three_reasons_for_leaving() -> None:
    assert leavers(MONTH) == D(6)
    # Resignations alone would understate turnover against a complete baseline.
    partial = with_(left_contract_ended=None, left_dismissed=None)
    assert leavers(partial) is None
    assert rates(partial)["turnover"] is None
    nobody_left = with_(left_resigned=D(0), left_contract_ended=D(0), left_dismissed=D(0))
    assert leavers(nobody_left) == D(0)


def test_nothing_recorded_but_headcount_gives_no_rates() -> None:
    nothing: dict[str, Any] = {field.name: None for field in dataclasses.fields(KpiInputs)}
    empty = KpiInputs(**{**nothing, "headcount": D(80), "reject_is_percent": False})
    assert rates(empty) == dict.fromkeys(RATE_KEYS)


def test_changes_from_the_baseline_know_which_way_is_better() -> None:
    baseline = rates(MONTH)
    now = rates(with_(units_rejected=D(480), suggestions_implemented=D(6), women=D(60),
                      days_absent=D(120), lost_time_accidents=D(1)))
    by_key = {change.key: change for change in changes(now, baseline)}
    assert [change.key for change in changes(now, baseline)] == list(RATE_KEYS)
    assert by_key["defect_rate"] == Change("defect_rate", D("1.00"), D("1.50"), D("-0.50"), True)
    assert by_key["absenteeism"] == Change("absenteeism", D("4.00"), D("3.00"), D("1.00"), False)
    assert by_key["suggestions_per_100"] == Change(
        "suggestions_per_100", D("5.00"), D("7.50"), D("-2.50"), False)
    # More women is a change, not an improvement or a decline.
    assert by_key["women_share"] == Change("women_share", D("50.00"), D("45.00"), D("5.00"), None)
    # Unchanged is neither better nor worse.
    assert by_key["ltifr"] == Change("ltifr", D("37.88"), D("37.88"), D("0.00"), None)


def test_more_suggestions_and_fewer_claims_are_better() -> None:
    baseline = {"suggestions_per_100": D("2.00"), "customer_claims": D(5),
                "fatal_accidents": D(0)}
    now = {"suggestions_per_100": D("6.50"), "customer_claims": D(1), "fatal_accidents": D(1)}
    assert changes(now, baseline) == [
        Change("suggestions_per_100", D("6.50"), D("2.00"), D("4.50"), True),
        Change("customer_claims", D(1), D(5), D(-4), True),
        Change("fatal_accidents", D(1), D(0), D(1), False),
    ]


def test_changes_without_a_value_or_without_a_baseline_have_no_delta() -> None:
    now = {"defect_rate": D("1.00"), "turnover": None, "absenteeism": D("2.00")}
    assert changes(now, {"defect_rate": None, "turnover": D("5.00")}) == [
        Change("defect_rate", D("1.00"), None, None, None),
        Change("absenteeism", D("2.00"), None, None, None),
        Change("turnover", None, D("5.00"), None, None),
    ]
    assert changes(now, None) == [
        Change("defect_rate", D("1.00"), None, None, None),
        Change("absenteeism", D("2.00"), None, None, None),
        Change("turnover", None, None, None, None),
    ]


def test_changes_keep_unknown_keys_after_the_known_ones() -> None:
    now = {"something_new": D(1), "defect_rate": D(2)}
    assert [change.key for change in changes(now, {})] == ["defect_rate", "something_new"]


def test_median_by_month_ignores_what_was_not_recorded() -> None:
    october, november = date(2025, 10, 1), date(2025, 11, 1)
    rows: list[tuple[date, dict[str, Decimal | None]]] = [
        (october, {"defect_rate": D("1.00"), "turnover": D("4.00"), "ltifr": None}),
        (date(2025, 10, 31), {"defect_rate": D("3.00"), "turnover": None, "ltifr": None}),
        (october, {"defect_rate": D("2.50"), "turnover": D("1.00"), "ltifr": None}),
        (november, {"defect_rate": D("0.80"), "turnover": D("2.00"), "ltifr": D("10.00")}),
        (november, {"defect_rate": D("1.20"), "turnover": None, "ltifr": D("20.00")}),
    ]
    assert median_by_month(reversed(rows)) == {
        october: {"defect_rate": D("2.50"), "turnover": D("2.50"), "ltifr": None},
        november: {"defect_rate": D("1.00"), "turnover": D("2.00"), "ltifr": D("15.00")},
    }
    assert list(median_by_month(reversed(rows))) == [october, november]


def test_median_by_month_keeps_the_order_of_rate_keys_and_small_values() -> None:
    month = date(2026, 1, 1)
    rows = [(month, {"kwh_per_unit": D("0.0021"), "defect_rate": D("0.0040")}),
            (month, {"kwh_per_unit": D("0.0030"), "defect_rate": D("0.0050")})]
    result = median_by_month(rows)
    assert list(result[month]) == ["defect_rate", "kwh_per_unit"]
    assert result[month] == {"defect_rate": D("0.0045"), "kwh_per_unit": D("0.0026")}


def test_median_by_month_of_nothing_is_empty() -> None:
    assert median_by_month([]) == {}
