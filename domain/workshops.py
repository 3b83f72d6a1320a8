"""The rules of module workshops (PRODUCT.md, "How SCORE training runs"): who is invited, until
when an answer can change, and what a participant is.

- Module 1 (Workplace Cooperation) comes first. An enterprise has *taken* module 1 when
  someone it named was recorded as attending a module-1 workshop, or a trainer reported a
  module-1 visit done there. Only such enterprises are invited to modules 2 to 5: before
  any workshop or visit is recorded, invitations to those modules reach nobody (staff see the
  count before confirming).
- An owner or admin may answer, and change the answer and the people, until the end of the
  day before the workshop, local time: the trainers plan the room and the materials then.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from domain.survey_calendar import local_moment

FIRST_MODULE = 1
MAX_DAYS = 5              # a workshop is two days; a week is the most anyone would type
MAX_PARTICIPANTS = 20     # per enterprise: more is a typing accident, not a classroom
MAX_NOTES = 300           # the invitation is a file's caption (Telegram: 1024 characters)
MAX_VENUE = 300

FEMALE, MALE = "f", "m"
SEXES = (FEMALE, MALE)
MANAGER, WORKER = "manager", "worker"
KINDS = (MANAGER, WORKER)


@dataclass(frozen=True)
class Participant:
    name: str
    sex: str   # SEXES
    kind: str  # KINDS


def needs_first_module(module: int) -> bool:
    """Whether only enterprises that took module 1 are invited to this module."""
    return module != FIRST_MODULE


def answers_close(starts_at: datetime, zone: str) -> datetime:
    """When answers can no longer change: the start of the workshop's day, local time."""
    day = starts_at.astimezone(ZoneInfo(zone)).date()
    return local_moment(day, time(0, 0), zone)


def may_answer(starts_at: datetime, zone: str, now: datetime) -> bool:
    return now < answers_close(starts_at, zone)


def ends_at(starts_at: datetime, days: int) -> datetime:
    """The end, for the calendar file: the last day at the start's hour plus eight hours (a
    working day); phones show a workshop of several days as one event."""
    return starts_at + timedelta(days=days - 1, hours=8)


def read_days(text: str | None) -> tuple[int | None, str | None]:
    """A duration typed in days: "2", "2 hari", "2 days"."""
    words = (text or "").strip().casefold().split()
    if not words or not words[0].isdigit():
        return None, "not_a_number"
    days = int(words[0])
    if not 1 <= days <= MAX_DAYS:
        return None, "out_of_range"
    return days, None
