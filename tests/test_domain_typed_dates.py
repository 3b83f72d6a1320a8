"""Dates as staff type them, in Indonesian and English, counted from today in Jakarta."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from domain.typed_dates import EMPTY, NOT_A_DATE, PAST, TOO_FAR, normalise, read_coming_day

# Wednesday 2 December 2026, 10:00 in Jakarta.
NOW = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)


@pytest.mark.parametrize(("typed", "day"), [
    ("3 Desember", date(2026, 12, 3)),
    ("tgl 3 des", date(2026, 12, 3)),
    ("2026-12-03", date(2026, 12, 3)),
    ("3/12", date(2026, 12, 3)),          # day first, as Indonesians write it
    ("3-12-2026", date(2026, 12, 3)),
    ("besok", date(2026, 12, 3)),
    ("lusa", date(2026, 12, 4)),
    ("3 hari lagi", date(2026, 12, 5)),
    ("Senin depan", date(2026, 12, 7)),
    ("Jum'at", date(2026, 12, 4)),
    ("minggu depan", date(2026, 12, 9)),
    ("hari ini", date(2026, 12, 2)),
    ("2 Desember", date(2026, 12, 2)),    # today, though "future" reads it as next year's
    ("5 Januari", date(2027, 1, 5)),      # no year: the next one to come
    ("8 December", date(2026, 12, 8)),
    ("tomorrow", date(2026, 12, 3)),
    ("next Monday", date(2026, 12, 7)),
    ("Wednesday, 9 December 2026", date(2026, 12, 9)),
])
def test_days_typed_in_both_languages(typed: str, day: date) -> None:
    assert read_coming_day(typed, NOW) == (day, None)


@pytest.mark.parametrize(("typed", "error"), [
    ("", EMPTY), ("   ", EMPTY), (None, EMPTY),
    ("kemarin", PAST), ("yesterday", PAST),
    ("1 Desember", PAST),                 # just passed, not next year's
    ("1/12", PAST),
    ("3 Desember 2025", PAST),
    ("17 Agt", PAST),                     # August's has passed this year
    ("17 Agt 2027", TOO_FAR),             # a year typed: taken as typed
    ("5 Maret 2027", TOO_FAR),
    ("abc", NOT_A_DATE), ("31/2", NOT_A_DATE), ("3" * 100, NOT_A_DATE),
])
def test_what_is_refused(typed: str | None, error: str) -> None:
    assert read_coming_day(typed, NOW) == (None, error)


def test_today_is_jakarta_s() -> None:
    # 23:30 UTC on the 2nd is already the 3rd in Jakarta: "besok" is the 4th.
    late = datetime(2026, 12, 2, 23, 30, tzinfo=UTC)
    assert read_coming_day("besok", late) == (date(2026, 12, 4), None)
    assert read_coming_day("2 Desember", late) == (None, PAST)


def test_normalise() -> None:
    assert normalise("  Tanggal  5 Agt ") == "5 agu"
    assert normalise("Senin depan") == "senin"
    assert normalise("besok lusa") == "dalam 3 hari"
    assert normalise("2 minggu lagi") == "dalam 2 minggu"
