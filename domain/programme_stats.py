"""What staff's /stats counts, apart from reading it and wording it: the calendar months it
compares (in WIB, where staff work), the three states of an enrolment, and the numbers behind
its chart (drawn by rendering/programme_chart.py, with matplotlib, only when it is sent)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

from domain.provinces import PROVINCES, WIB

# The order in which an enterprise's states are listed and stacked in the chart.
STATES = ("approved", "pending", "rejected")


@dataclass(frozen=True)
class Month:
    """A calendar month in WIB: `first` names it, [start, end) are its UTC moments."""

    first: date
    start: datetime
    end: datetime


def _first_of_next(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _first_of_previous(day: date) -> date:
    return date(day.year - (day.month == 1), (day.month - 2) % 12 + 1, 1)


def _moment(day: date) -> datetime:
    return datetime.combine(day, time(0), ZoneInfo(WIB)).astimezone(UTC)


def months_around(now: datetime) -> tuple[Month, Month]:
    """(this month, last month) as staff in Jakarta count them at `now`."""
    first = now.astimezone(ZoneInfo(WIB)).date().replace(day=1)
    previous = _first_of_previous(first)
    this = Month(first, _moment(first), _moment(_first_of_next(first)))
    return this, Month(previous, _moment(previous), this.start)


@dataclass(frozen=True)
class StateCounts:
    """Enterprises in each state of their enrolment."""

    approved: int = 0
    pending: int = 0
    rejected: int = 0

    @property
    def total(self) -> int:
        return self.approved + self.pending + self.rejected

    def of(self, state: str) -> int:
        return int(getattr(self, state))

    def __add__(self, other: StateCounts) -> StateCounts:
        return StateCounts(self.approved + other.approved, self.pending + other.pending,
                           self.rejected + other.rejected)


def state_counts(counts: Mapping[str, int]) -> StateCounts:
    """From a state -> count mapping (unknown states are not counted)."""
    return StateCounts(**{state: counts.get(state, 0) for state in STATES})


_PROVINCE_ORDER = {p.code: i for i, p in enumerate(PROVINCES)}


def by_province_order(codes: Iterable[str]) -> list[str]:
    """Province codes Java first, as domain/provinces.py lists them (unknown codes last)."""
    return sorted(set(codes), key=lambda code: (_PROVINCE_ORDER.get(code, 99), code))


@dataclass(frozen=True)
class StatsWords:
    """The chart's words, translated by the caller."""

    title: str
    enterprises: str  # the first panel's title
    states: Mapping[str, str]  # state -> its label in the legend
    rates: str  # the second panel's title
    locale: str  # for numbers and percentages


@dataclass(frozen=True)
class StatsChart:
    """The numbers behind the picture: enterprises per province by state (labels already
    in the reader's language, top to bottom), and the response rate of each survey round
    shown (label, share or None when nobody was asked)."""

    provinces: list[tuple[str, StateCounts]]
    rates: list[tuple[str, Decimal | None]]

    @property
    def empty(self) -> bool:
        return not self.provinces and not self.rates
