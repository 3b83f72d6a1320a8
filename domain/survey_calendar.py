"""When the monthly survey rounds run, and how their months and days are named.

A round asks about one month (its period) and runs in the next one. It opens on the first
working day of that month, when owners and admins get the KPI report at 09:00 and workers
the pulse at 19:30 local time (by the enterprise's province); it closes at the end of the
20th, and whatever has not been sent by then expires. The KPI reminder goes around the 10th,
the pulse reminder three days after the invitation, each only to those not finished.

Working days skip weekends, Indonesia's public holidays and the joint leave days (cuti
bersama) the government fixes each year, from the `holidays` package. Dates here are local
calendar dates, the same in every zone; `local_moment` turns a date and a time into an
instant for one zone.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from types import MappingProxyType
from zoneinfo import ZoneInfo

import holidays
from babel.dates import format_date

from domain import quiet_hours
from domain.provinces import WIB

KPI_INVITE_TIME = time(9, 0)
# Phones are in lockers during shifts: workers are asked in the evening.
PULSE_INVITE_TIME = time(19, 30)

# The KPI reminder: around the 10th, on a working day, and not within days of the invitation.
KPI_REMINDER_DAY = 10
KPI_REMINDER_MIN_GAP = timedelta(days=3)
PULSE_REMINDER_AFTER = timedelta(days=3)
CLOSING_DAY = 20
# However late a round opens (or is moved), it stays open at least a week.
MIN_OPEN = timedelta(days=7)

# Friday prayers: nothing is sent to anyone from 11:30 to 13:30 local time on a Friday.
FRIDAY_PRAYERS = (time(11, 30), time(13, 30))
_FRIDAY = 4


@lru_cache(maxsize=16)
def _days_off(year: int) -> Mapping[date, str]:
    """The year's days off and their names (in Indonesian). Joint leave days (cuti bersama)
    are in the government category, not the public one. The language is given so the
    package never reads the process's locale."""
    calendar = holidays.country_holidays(
        "ID", years=year, categories=(holidays.PUBLIC, holidays.GOVERNMENT), language="id")
    return MappingProxyType({day: str(name) for day, name in calendar.items()})


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _days_off(day.year)


def day_off_name(day: date) -> str | None:
    """Why `day` is not a working day: the holiday's name (in Indonesian), "" for a weekend;
    None on a working day."""
    name = _days_off(day.year).get(day)
    if name is not None:
        return name
    return "" if day.weekday() >= 5 else None


def first_working_day_on_or_after(day: date) -> date:
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


@dataclass(frozen=True)
class RoundDates:
    """A round's local calendar dates, the same for every zone."""

    period: date  # the first day of the month the survey asks about
    opens: date  # invitations are sent
    reminder: date  # one reminder to those not finished
    closes: date  # the last day answers are taken


def _month_after(period: date) -> date:
    return date(period.year + period.month // 12, period.month % 12 + 1, 1)


def _closes(period: date, opens: date, reminder: date) -> date:
    # A round never closes before its reminder or within a week of opening.
    return max(_month_after(period).replace(day=CLOSING_DAY), opens + MIN_OPEN, reminder)


def kpi_round(period: date) -> RoundDates:
    """The KPI round for the month of `period` (any day of it names the month)."""
    period = period.replace(day=1)
    next_month = _month_after(period)
    opens = first_working_day_on_or_after(next_month)
    # After a long Lebaran break the round may open on the 8th: the reminder then waits a
    # few days rather than following the invitation at once.
    reminder = first_working_day_on_or_after(
        max(next_month.replace(day=KPI_REMINDER_DAY), opens + KPI_REMINDER_MIN_GAP))
    return RoundDates(period, opens, reminder, _closes(period, opens, reminder))


def pulse_round(period: date) -> RoundDates:
    """The pulse for the month of `period`: it opens and closes with the KPI round, and
    reminds three days after the invitation (evenings, so not only on working days)."""
    kpi = kpi_round(period)
    reminder = kpi.opens + PULSE_REMINDER_AFTER
    return RoundDates(kpi.period, kpi.opens, reminder, _closes(kpi.period, kpi.opens, reminder))


def moved(dates: RoundDates, opens: date, *, kpi: bool) -> RoundDates:
    """The round opening on `opens` instead (staff moved it: Lebaran, a national holiday).
    The reminder keeps its distance from the opening (a KPI reminder then goes on to the next
    working day: it is for offices); the close stays, unless that leaves less than a week or
    falls on or before the reminder. A round cannot open before the month it asks about has
    ended (ValueError)."""
    if opens < _month_after(dates.period):
        raise ValueError(f"a round for {dates.period:%Y-%m} cannot open on {opens}")
    reminder = opens + (dates.reminder - dates.opens)
    if kpi:
        reminder = first_working_day_on_or_after(reminder)
    # The reminder comes before the closing day, never on it.
    closes = max(dates.closes, opens + MIN_OPEN, reminder + timedelta(days=1))
    return RoundDates(dates.period, opens, reminder, closes)


def next_round_opens(period: date, *, kpi: bool) -> date:
    """When the round about the month after `period` is planned to open: a moved round must
    have closed by then (two rounds of one survey are never open at once)."""
    following = _month_after(period)
    return (kpi_round(following) if kpi else pulse_round(following)).opens


def local_moment(day: date, at: time, zone: str) -> datetime:
    """`at` o'clock on `day` in `zone` (an IANA name, e.g. a province's timezone), in UTC."""
    return datetime.combine(day, at, tzinfo=ZoneInfo(zone)).astimezone(UTC)


def avoid_friday_prayers(moment_local: datetime) -> datetime:
    """`moment_local` (local wall time), or 13:30 that day if it falls in Friday prayers."""
    start, end = FRIDAY_PRAYERS
    if moment_local.weekday() == _FRIDAY and start <= moment_local.time() < end:
        return moment_local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    return moment_local


def send_moment(day: date, at: time, zone: str) -> datetime:
    """When to send something planned for `at` local time on `day`, in UTC: moved out of
    Friday prayers (the invitation times never fall in them; a moved or resent one might)."""
    local = datetime.combine(day, at, tzinfo=ZoneInfo(zone))
    return avoid_friday_prayers(local).astimezone(UTC)


def next_send_moment(after: datetime, at: time, zone: str, *, working_days: bool) -> datetime:
    """The first `at` local time in `zone` not before `after` (on a working day, with
    `working_days`), as `send_moment` gives it: for someone who joins a round already open."""
    day = after.astimezone(ZoneInfo(zone)).date()
    while (working_days and not is_working_day(day)) or send_moment(day, at, zone) < after:
        day += timedelta(days=1)
    return send_moment(day, at, zone)


def outside_prayers(moment: datetime, zone: str) -> datetime:
    """`moment`, or 13:30 that day in `zone` if it falls in Friday prayers there; in UTC.
    For what goes out now rather than at its planned time (a late or forced opening)."""
    return avoid_friday_prayers(moment.astimezone(ZoneInfo(zone))).astimezone(UTC)


# Quiet hours: no invitation or reminder reaches anyone from 21.00 to 06.00 local time; the
# rule is shared with every bulk message (domain/quiet_hours.py).
outside_quiet_hours = quiet_hours.outside_quiet_hours


def close_moment(day: date) -> datetime:
    """The end of a round's closing `day`: 00:00 WIB the day after (staff work from
    Jakarta), in UTC. Unsent invitations and reminders expire then."""
    return local_moment(day + timedelta(days=1), time(0, 0), WIB)


def month_end(period: date) -> datetime:
    """The end of the month of `period`: 00:00 WIB on the first of the next month, in UTC
    (who was a member "in October" had joined before then)."""
    return local_moment(_month_after(period), time(0, 0), WIB)


_PERIOD = re.compile(r"(\d{4})-(\d{2})", re.ASCII)


def period_of(text: str) -> date:
    """"2026-11" -> date(2026, 11, 1); ValueError for anything else."""
    match = _PERIOD.fullmatch(text.strip())
    if not match:
        raise ValueError(f"not a period: {text!r}")
    return date(int(match.group(1)), int(match.group(2)), 1)  # ValueError for month 13


def period_key(period: date) -> str:
    """date(2026, 11, 1) -> "2026-11", what `period_of` reads."""
    return f"{period.year:04d}-{period.month:02d}"


def previous_period(today: date) -> date:
    """The month before `today`'s: the one a round running now asks about."""
    first = today.replace(day=1)
    return (first - timedelta(days=1)).replace(day=1)


def month_name(period: date, locale: str) -> str:
    """"Oktober 2026" / "October 2026"."""
    return format_date(period, "LLLL y", locale=locale)


def month_only(period: date, locale: str) -> str:
    """"Oktober" / "October", as in "Selama bulan Oktober, ..."."""
    return format_date(period, "LLLL", locale=locale)


def date_words(day: date, locale: str) -> str:
    """"Selasa, 1 Desember 2026" / "Tuesday, 1 December 2026"."""
    return format_date(day, "EEEE, d MMMM y", locale=locale)


def recent_periods(today: date, count: int) -> list[date]:
    """The `count` months before `today`'s, most recent first (a baseline's month)."""
    periods = [previous_period(today)]
    while len(periods) < count:
        periods.append(previous_period(periods[-1]))
    return periods
