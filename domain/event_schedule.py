"""When the messages about a workshop or a visit are due (PRODUCT.md, "How SCORE training
runs"): pure rules, from the event's start and the time zone of its place.

- A workshop: 7 days and 1 day before, at 08.00 local time (to those attending and those who
  have not answered).
- A visit: the trainer the day before at 08.00 and one hour before; the owner the day before at
  08.00; after the visit's time the trainer is asked whether it happened, and once more the
  next morning at 08.00 if there is no answer.

Each reminder before the event expires at its start (a "one hour before" that could not go by
then never goes). One whose moment passed while the bot was down goes late, saying so
(`is_late`), unless the event has begun. A reminder whose moment has already passed when the
event is scheduled or moved is not planned at all: it was never due.

A reminder says how far away the event is. When the event moves after a reminder of a kind
went (for any of its dates), that kind is planned again only if its new moment comes at least
half its lead time after the one that went (`not_repeated`): a week-before reminder sent on
7 December for the 14th is not sent again on the 8th when the workshop moves to the 15th
(the notice of the change gave the new date), but is when it moves to the 28th; a day-before
reminder goes again when the event moves by a day or more. The questions after a visit
(`ask`, `ask_again`) follow the new date whatever went before.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from domain.survey_calendar import local_moment

REMINDER_TIME = time(8, 0)
# A reminder sent more than this after its moment says that it comes late.
LATE_AFTER = timedelta(hours=1)
# When to ask the trainer whether the visit happened: a visit takes a morning or so.
ASK_AFTER = timedelta(hours=3)

# Reminder kinds.
WEEK_BEFORE = "week"
DAY_BEFORE = "day"
HOUR_BEFORE = "hour"
OWNER_DAY_BEFORE = "owner_day"
ASK = "ask"
ASK_AGAIN = "ask_again"


@dataclass(frozen=True)
class Planned:
    kind: str
    due_at: datetime              # UTC
    expires_at: datetime | None   # UTC: not sent by then, never sent


def _morning_before(starts_at: datetime, days: int, zone: str) -> datetime:
    day = starts_at.astimezone(ZoneInfo(zone)).date() - timedelta(days=days)
    return local_moment(day, REMINDER_TIME, zone)


def _next_morning(after: datetime, zone: str) -> datetime:
    day = after.astimezone(ZoneInfo(zone)).date() + timedelta(days=1)
    return local_moment(day, REMINDER_TIME, zone)


def workshop_reminders(starts_at: datetime, zone: str, *, now: datetime) -> list[Planned]:
    planned = [Planned(WEEK_BEFORE, _morning_before(starts_at, 7, zone), starts_at),
               Planned(DAY_BEFORE, _morning_before(starts_at, 1, zone), starts_at)]
    return [p for p in planned if p.due_at > now]


def visit_reminders(starts_at: datetime, zone: str, *, now: datetime) -> list[Planned]:
    ask = starts_at + ASK_AFTER
    planned = [Planned(DAY_BEFORE, _morning_before(starts_at, 1, zone), starts_at),
               Planned(HOUR_BEFORE, starts_at - timedelta(hours=1), starts_at),
               Planned(OWNER_DAY_BEFORE, _morning_before(starts_at, 1, zone), starts_at),
               Planned(ASK, ask, None),
               Planned(ASK_AGAIN, _next_morning(ask, zone), None)]
    return [p for p in planned if p.due_at > now]


# How long before the event each reminder comes: its new moment must be at least half of it
# after the one already sent for it to go again.
LEADS = {WEEK_BEFORE: timedelta(days=7), DAY_BEFORE: timedelta(days=1),
         OWNER_DAY_BEFORE: timedelta(days=1), HOUR_BEFORE: timedelta(hours=1)}


def not_repeated(planned: Sequence[Planned], sent: Mapping[str, datetime]
                 ) -> list[Planned]:
    """The reminders of a moved event to plan, given when each kind last went for it
    (`sent`: kind -> its moment): a kind that went is planned again only when its new moment
    is at least half its lead time after that one."""
    return [p for p in planned
            if p.kind not in sent or p.kind not in LEADS
            or p.due_at - sent[p.kind] >= LEADS[p.kind] / 2]


def is_late(due_at: datetime, now: datetime) -> bool:
    """Whether a reminder sent `now` comes late (the bot was down at its moment)."""
    return now - due_at > LATE_AFTER
