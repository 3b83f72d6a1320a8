from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.provinces import WIB, WIT, WITA
from domain.survey_calendar import (
    KPI_INVITE_TIME,
    PULSE_INVITE_TIME,
    RoundDates,
    avoid_friday_prayers,
    close_moment,
    date_words,
    day_off_name,
    first_working_day_on_or_after,
    is_working_day,
    kpi_round,
    local_moment,
    month_name,
    month_only,
    moved,
    next_round_opens,
    next_send_moment,
    outside_prayers,
    period_key,
    period_of,
    previous_period,
    pulse_round,
    send_moment,
)


def test_a_normal_month() -> None:
    # 1 November 2026 is a Sunday: the October round opens on Monday the 2nd.
    assert kpi_round(date(2026, 10, 1)) == RoundDates(
        period=date(2026, 10, 1), opens=date(2026, 11, 2), reminder=date(2026, 11, 10),
        closes=date(2026, 11, 20))
    # November 2026: 1 December is a Tuesday, an ordinary working day.
    assert kpi_round(date(2026, 11, 1)) == RoundDates(
        period=date(2026, 11, 1), opens=date(2026, 12, 1), reminder=date(2026, 12, 10),
        closes=date(2026, 12, 20))


def test_any_day_names_the_month() -> None:
    assert kpi_round(date(2026, 11, 17)) == kpi_round(date(2026, 11, 1))


def test_the_first_is_new_year() -> None:
    # Friday 1 January 2027 is New Year's Day, then a weekend: the round opens on Monday the 4th.
    assert not is_working_day(date(2027, 1, 1))
    assert kpi_round(date(2026, 12, 1)).opens == date(2027, 1, 4)


def test_the_first_is_a_saturday() -> None:
    # 1 August 2026 is a Saturday.
    assert kpi_round(date(2026, 7, 1)).opens == date(2026, 8, 3)


@pytest.mark.parametrize("day", [
    date(2026, 2, 16),  # cuti bersama Imlek, a Monday
    date(2026, 3, 20), date(2026, 3, 23), date(2026, 3, 24),  # cuti bersama Idul Fitri
    date(2026, 5, 15),  # cuti bersama Kenaikan Yesus Kristus
    date(2026, 12, 24),  # cuti bersama Natal, a Thursday
])
def test_joint_leave_days_are_not_working_days(day: date) -> None:
    assert day.weekday() < 5
    assert not is_working_day(day)


def test_ordinary_days() -> None:
    assert is_working_day(date(2026, 12, 23))  # Wednesday
    assert not is_working_day(date(2026, 12, 26))  # Saturday
    assert not is_working_day(date(2026, 12, 25))  # Christmas, a Friday
    assert not is_working_day(date(2026, 8, 17))  # Independence Day, a Monday


def test_first_working_day_skips_holidays_and_joint_leave() -> None:
    # Christmas Eve (cuti bersama), Christmas, the weekend: Monday the 28th.
    assert first_working_day_on_or_after(date(2026, 12, 24)) == date(2026, 12, 28)
    # Lebaran 2026: cuti bersama on the 20th, Idul Fitri on the 21st and 22nd, cuti bersama
    # on the 23rd and 24th.
    assert first_working_day_on_or_after(date(2026, 3, 20)) == date(2026, 3, 25)
    assert first_working_day_on_or_after(date(2026, 12, 23)) == date(2026, 12, 23)


def test_a_round_after_lebaran() -> None:
    # Idul Fitri 2025 was 31 March and 1 April, with cuti bersama on 2, 3, 4 and 7 April: the
    # March round opens on Tuesday the 8th, and the reminder waits until the 11th.
    assert kpi_round(date(2025, 3, 1)) == RoundDates(
        period=date(2025, 3, 1), opens=date(2025, 4, 8), reminder=date(2025, 4, 11),
        closes=date(2025, 4, 20))


def test_the_reminder_skips_a_weekend() -> None:
    # Saturday 10 October 2026: the reminder goes on Monday the 12th.
    assert kpi_round(date(2026, 9, 1)).reminder == date(2026, 10, 12)


def test_the_pulse_reminds_three_days_later() -> None:
    kpi, pulse = kpi_round(date(2026, 9, 1)), pulse_round(date(2026, 9, 1))
    assert (pulse.period, pulse.opens, pulse.closes) == (kpi.period, kpi.opens, kpi.closes)
    assert pulse.opens == date(2026, 10, 1)
    # An evening message: a Sunday is fine.
    assert pulse.reminder == date(2026, 10, 4)


def test_nine_o_clock_is_three_instants() -> None:
    day = date(2026, 12, 1)
    assert local_moment(day, KPI_INVITE_TIME, WIB) == datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    assert local_moment(day, KPI_INVITE_TIME, WITA) == datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
    assert local_moment(day, KPI_INVITE_TIME, WIT) == datetime(2026, 12, 1, 0, 0, tzinfo=UTC)
    assert local_moment(day, PULSE_INVITE_TIME, WIT) == datetime(2026, 12, 1, 10, 30, tzinfo=UTC)
    assert local_moment(day, KPI_INVITE_TIME, WIB).tzinfo is UTC


@pytest.mark.parametrize(("at", "expected"), [
    (time(11, 29), time(11, 29)),
    (time(11, 30), time(13, 30)),
    (time(12, 15), time(13, 30)),
    (time(13, 29, 59), time(13, 30)),
    (time(13, 30), time(13, 30)),
    (time(19, 30), time(19, 30)),
])
def test_friday_prayers(at: time, expected: time) -> None:
    friday = date(2026, 12, 4)
    for zone in (WIB, WITA, WIT):
        local = datetime.combine(friday, at, tzinfo=ZoneInfo(zone))
        assert avoid_friday_prayers(local) == datetime.combine(friday, expected,
                                                               tzinfo=ZoneInfo(zone))


def test_friday_prayers_only_on_fridays() -> None:
    thursday = datetime(2026, 12, 3, 12, 0, tzinfo=ZoneInfo(WIB))
    assert avoid_friday_prayers(thursday) == thursday


def test_send_moment() -> None:
    friday = date(2026, 12, 4)
    assert send_moment(friday, time(12, 0), WITA) == datetime(2026, 12, 4, 5, 30, tzinfo=UTC)
    assert send_moment(friday, PULSE_INVITE_TIME, WIB) == local_moment(
        friday, PULSE_INVITE_TIME, WIB)


def test_next_send_moment_for_who_joins_late() -> None:
    def wib(day: int, hour: int, minute: int = 0) -> datetime:
        return local_moment(date(2026, 12, day), time(hour, minute), WIB)

    # The pulse: this evening, or (after 19:30) tomorrow's, weekends too.
    assert next_send_moment(wib(5, 10), PULSE_INVITE_TIME, WIB,
                            working_days=False) == wib(5, 19, 30)
    assert next_send_moment(wib(5, 19, 30), PULSE_INVITE_TIME, WIB,
                            working_days=False) == wib(5, 19, 30)
    assert next_send_moment(wib(5, 19, 31), PULSE_INVITE_TIME, WIB,
                            working_days=False) == wib(6, 19, 30)
    # In its own zone: 21:00 WIT is past that evening there, not yet in Jakarta.
    assert next_send_moment(wib(5, 19), PULSE_INVITE_TIME, WIT, working_days=False) == \
        local_moment(date(2026, 12, 6), PULSE_INVITE_TIME, WIT)
    # The KPI report: 09:00 on a working day. Friday afternoon: Monday; Wednesday 23
    # December: Monday the 28th (Christmas Eve and Day are joint leave and a holiday).
    assert next_send_moment(wib(4, 8), KPI_INVITE_TIME, WIB, working_days=True) == wib(4, 9)
    assert next_send_moment(wib(4, 15), KPI_INVITE_TIME, WIB, working_days=True) == wib(7, 9)
    assert next_send_moment(wib(23, 10), KPI_INVITE_TIME, WIB, working_days=True) == wib(28, 9)
    assert next_send_moment(wib(4, 15), KPI_INVITE_TIME, WIB, working_days=True).tzinfo == UTC


def test_outside_prayers_is_per_zone() -> None:
    # Friday 4 December 2026, 05:00 UTC: 12:00 WIB and 13:00 WITA are in prayers, 14:00 WIT
    # is not.
    now = datetime(2026, 12, 4, 5, 0, tzinfo=UTC)
    assert outside_prayers(now, WIB) == datetime(2026, 12, 4, 6, 30, tzinfo=UTC)
    assert outside_prayers(now, WITA) == datetime(2026, 12, 4, 5, 30, tzinfo=UTC)
    assert outside_prayers(now, WIT) == now
    assert outside_prayers(now, WIT).tzinfo == UTC


def test_close_moment_is_midnight_in_jakarta() -> None:
    assert close_moment(date(2026, 12, 20)) == datetime(2026, 12, 20, 17, 0, tzinfo=UTC)
    assert close_moment(date(2026, 12, 31)) == datetime(2026, 12, 31, 17, 0, tzinfo=UTC)


def test_moved_keeps_the_offsets() -> None:
    kpi = kpi_round(date(2026, 11, 1))  # opens 1 Dec, reminder 10 Dec, closes 20 Dec
    assert moved(kpi, date(2026, 12, 3), kpi=True) == RoundDates(
        period=kpi.period, opens=date(2026, 12, 3), reminder=date(2026, 12, 14),  # not Sat 12th
        closes=date(2026, 12, 20))
    pulse = pulse_round(date(2026, 11, 1))
    assert moved(pulse, date(2026, 12, 3), kpi=False).reminder == date(2026, 12, 6)


def test_moved_late_stays_open_a_week() -> None:
    kpi = kpi_round(date(2026, 11, 1))
    late = moved(kpi, date(2026, 12, 16), kpi=True)
    assert late.opens == date(2026, 12, 16)
    # Nine days later is Christmas (a Friday), then a weekend.
    assert late.reminder == date(2026, 12, 28)
    assert late.closes == date(2026, 12, 29)  # after the reminder, never on its day
    pulse = moved(pulse_round(date(2026, 11, 1)), date(2026, 12, 16), kpi=False)
    assert (pulse.reminder, pulse.closes) == (date(2026, 12, 19), date(2026, 12, 23))


def test_moved_not_before_the_month_ends() -> None:
    kpi = kpi_round(date(2026, 11, 1))
    with pytest.raises(ValueError):
        moved(kpi, date(2026, 11, 30), kpi=True)
    assert moved(kpi, date(2026, 12, 1), kpi=True) == kpi


def test_periods() -> None:
    assert period_of("2026-11") == date(2026, 11, 1)
    assert period_of(" 2026-01 ") == date(2026, 1, 1)
    assert period_key(date(2026, 11, 1)) == "2026-11"
    assert previous_period(date(2026, 12, 1)) == date(2026, 11, 1)
    assert previous_period(date(2027, 1, 31)) == date(2026, 12, 1)
    assert previous_period(date(2026, 3, 31)) == date(2026, 2, 1)


@pytest.mark.parametrize("text", ["2026-13", "2026-00", "2026-1", "26-11", "2026/11",
                                  "2026-11-01", "", "november"])
def test_period_of_refuses(text: str) -> None:
    with pytest.raises(ValueError):
        period_of(text)


def test_words() -> None:
    october = date(2026, 10, 1)
    assert month_name(october, "id") == "Oktober 2026"
    assert month_name(october, "en") == "October 2026"
    assert month_only(october, "id") == "Oktober"
    assert month_only(date(2026, 8, 1), "en") == "August"
    assert date_words(date(2026, 12, 1), "id") == "Selasa, 1 Desember 2026"
    assert date_words(date(2026, 12, 7), "en") == "Monday, 7 December 2026"
    assert date_words(date(2026, 12, 1) + timedelta(days=6), "id") == "Senin, 7 Desember 2026"


def test_a_moved_round_opens_on_working_days_and_closes_before_the_next_one() -> None:
    assert day_off_name(date(2026, 12, 25)) == "Hari Raya Natal"
    assert day_off_name(date(2026, 12, 24)) == "Cuti Bersama Hari Raya Natal"
    assert day_off_name(date(2026, 12, 26)) == ""  # a Saturday
    assert day_off_name(date(2026, 12, 14)) is None
    assert next_round_opens(date(2026, 11, 1), kpi=True) == date(2027, 1, 4)
