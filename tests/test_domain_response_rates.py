"""Response rates of a round: in all, per province (Java first), per enterprise."""

from __future__ import annotations

from decimal import Decimal

from domain.response_rates import (
    EnterpriseTally,
    Tally,
    asked,
    by_province,
    nobody_to_ask,
    not_answered,
    overall,
    tally,
)

ROWS = [
    EnterpriseTally(1, "pt beta", "JB", tally(1, 4)),
    EnterpriseTally(2, "PT Alpha", "SN", tally(2, 2)),
    EnterpriseTally(3, "PT Gamma", "JB", tally(0, 0)),
    EnterpriseTally(4, "PT Delta", "JK", tally(0, 3)),
    EnterpriseTally(5, "PT Left", "JK", tally(2, 1)),  # answered, then left
]


def test_tallies() -> None:
    assert overall(ROWS) == Tally(5, 11)
    assert Tally(1, 3).share == Decimal(1) / Decimal(3) and Tally(0, 0).share is None
    assert by_province(ROWS) == [("JK", Tally(2, 5)), ("JB", Tally(1, 4)), ("SN", Tally(2, 2))]
    assert [row.enterprise_id for row in asked(ROWS)] == [4, 1, 2, 5]
    assert [row.enterprise_id for row in not_answered(ROWS)] == [4]
    assert nobody_to_ask(ROWS) == 1
