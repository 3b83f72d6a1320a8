"""Parsing a send time typed by staff: WIB by default, WITA/WIT on request, never the past."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.schedule import NO_SUCH_DATE, NOT_A_TIME, PAST, TOO_FAR, in_wib, parse_send_time

NOW = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)  # 08:00 WIB


@pytest.mark.parametrize("text, expected", [
    ("2026-12-07 08:00", datetime(2026, 12, 7, 1, 0, tzinfo=UTC)),
    ("2026-12-07 08:00 WIB", datetime(2026, 12, 7, 1, 0, tzinfo=UTC)),
    ("2026-12-07 08:00 WITA", datetime(2026, 12, 7, 0, 0, tzinfo=UTC)),
    ("2026-12-07 08:00 wit", datetime(2026, 12, 6, 23, 0, tzinfo=UTC)),
    ("  2026-12-7   8.30wita ", datetime(2026, 12, 7, 0, 30, tzinfo=UTC)),
    ("2026-12-01 08:01", datetime(2026, 12, 1, 1, 1, tzinfo=UTC)),
])
def test_valid_times(text: str, expected: datetime) -> None:
    assert parse_send_time(text, now=NOW) == (expected, None)


@pytest.mark.parametrize("text, error", [
    (None, NOT_A_TIME), ("", NOT_A_TIME), ("tomorrow 8am", NOT_A_TIME),
    ("07-12-2026 08:00", NOT_A_TIME), ("2026-12-07", NOT_A_TIME),
    ("2026-12-07 08:00 CET", NOT_A_TIME), ("2026-12-07 8", NOT_A_TIME),
    ("2026-02-30 08:00", NO_SUCH_DATE), ("2026-12-07 24:00", NO_SUCH_DATE),
    ("2026-13-01 08:00", NO_SUCH_DATE),
    ("2026-12-01 08:00", PAST), ("2026-12-01 07:59", PAST), ("2025-12-07 08:00", PAST),
    ("2026-12-01 08:30 WITA", PAST),  # 07:30 WIB
    ("2028-01-01 08:00", TOO_FAR),
])
def test_invalid_times(text: str | None, error: str) -> None:
    assert parse_send_time(text, now=NOW) == (None, error)


def test_in_wib() -> None:
    shown = in_wib(datetime(2026, 12, 6, 23, 0, tzinfo=UTC))
    assert (shown.day, shown.hour, shown.minute) == (7, 6, 0)
