"""Dates as staff type them, in Indonesian and English, counted from today in Jakarta."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from domain import typed_dates
from domain.provinces import WIB, WIT, WITA
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


# --- a day and a time -----------------------------------------------------------------------
# Tuesday 8 December 2026, 10:00 WIB.
TUE_8 = datetime(2026, 12, 8, 3, 0, tzinfo=UTC)


def _local(moment: datetime | None, zone: str = WIB) -> str:
    assert moment is not None
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")


@pytest.mark.parametrize(("typed", "meant"), [
    ("17/12 09.00", "2026-12-17 09:00"),
    ("17 Des jam 9", "2026-12-17 09:00"),
    ("17 Desember 2026 09.00", "2026-12-17 09:00"),
    ("2026-12-17 09:00", "2026-12-17 09:00"),
    ("besok 14.00", "2026-12-09 14:00"),
    ("lusa jam 9", "2026-12-10 09:00"),
    ("Senin depan 10.00", "2026-12-14 10:00"),
    ("tomorrow 2pm", "2026-12-09 14:00"),
    ("besok jam 2 siang", "2026-12-09 14:00"),
    ("besok jam 11 siang", "2026-12-09 11:00"),
    ("besok jam 7 malam", "2026-12-09 19:00"),
    ("Jumat 13.30", "2026-12-11 13:30"),
    ("20 Des pukul 08.00", "2026-12-20 08:00"),
    ("jam 14.00", "2026-12-08 14:00"),
    ("5/1 09.00", "2027-01-05 09:00"),
    ("  besok   14:00 ", "2026-12-09 14:00"),
])
def test_a_day_and_a_time_as_people_type_them(typed: str, meant: str) -> None:
    moment, error = typed_dates.read_coming_moment(typed, TUE_8)
    assert error is None, error
    assert _local(moment) == meant


def test_the_time_is_the_events_zone_unless_one_is_named() -> None:
    # A visit in Makassar: 09.00 there is 08.00 in Jakarta.
    moment, _ = typed_dates.read_coming_moment("besok 09.00", TUE_8, zone=WITA)
    assert _local(moment, WITA) == "2026-12-09 09:00" and _local(moment) == "2026-12-09 08:00"
    moment, _ = typed_dates.read_coming_moment("besok 09.00 WIT", TUE_8)
    assert _local(moment, WIT) == "2026-12-09 09:00"


@pytest.mark.parametrize(("typed", "error"), [
    ("", typed_dates.EMPTY),
    ("   ", typed_dates.EMPTY),
    ("hello", typed_dates.NOT_A_DATE),
    ("besok", typed_dates.NO_TIME),
    ("17 Desember 2026", typed_dates.NO_TIME),
    ("besok 25.00", typed_dates.NO_SUCH_TIME),
    ("besok 9.75", typed_dates.NO_SUCH_TIME),
    ("31/2 09.00", typed_dates.NOT_A_DATE),
    ("jam 9", typed_dates.PAST),            # 09.00 today has passed at 10.00
    ("7/12 09.00", typed_dates.PAST),       # yesterday, not next December
    ("7 Des jam 9", typed_dates.PAST),
    ("2027-12-20 09:00", typed_dates.TOO_FAR),
    ("x" * 80, typed_dates.NOT_A_DATE),
])
def test_bad_moments_say_what_is_wrong(typed: str, error: str) -> None:
    assert typed_dates.read_coming_moment(typed, TUE_8) == (None, error)
