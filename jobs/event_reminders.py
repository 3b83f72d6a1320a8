"""The messages of workshops and visits on their schedule: a job that looks every minute for
planned messages whose moment has come (`event_reminders` rows, domain/event_schedule.py),
has each rendered by its event's service and queues it through the outbox.

The rows are in the database, not scheduler jobs: a restart loses nothing, and one whose
moment passed while the bot was down goes out late, rendered as late (`Due.late`), unless
its event has begun (it expires at the start). What it does is idempotent: a row is marked
queued in the transaction that queues its messages.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta

from chat.context import BotApplication, BotContext, Services, application_of, services_of
from db import event_reminders as reminders_db
from db.queries import outbox as outbox_db
from domain.event_schedule import is_late

log = logging.getLogger(__name__)

INTERVAL = timedelta(minutes=1)


@dataclass(frozen=True)
class DueMessage:
    """A due reminder as its event's service renders it."""

    reminder: reminders_db.Due
    late: bool  # its moment passed while the bot was down: the message says so


# Per event kind ("workshop", "visit"): what a due reminder says, to whom (outbox messages of
# the event's group, rendered in every language); nothing when there is no one to tell.
Render = Callable[[Services, DueMessage], Awaitable[Sequence[outbox_db.Outgoing]]]


async def run_reminders(svc: Services, renderers: Mapping[str, Render]) -> int:
    """Queue every due reminder; the number of messages queued."""
    now = svc.clock.now()
    total = 0
    for reminder in await reminders_db.due(svc.sessionmaker, now=now):
        if reminder.expires_at is not None and reminder.expires_at <= now:
            # The event has begun: a reminder of it would only confuse.
            await reminders_db.queue(svc.sessionmaker, reminder.id, (), now=now)
            continue
        render = renderers.get(reminder.event)
        if render is None:
            log.warning("no renderer for %s reminders (row %s)", reminder.event, reminder.id)
            continue
        try:
            outgoing = await render(svc, DueMessage(reminder, is_late(reminder.due_at, now)))
            queued = await reminders_db.queue(svc.sessionmaker, reminder.id, outgoing, now=now)
        except Exception:
            # One event's bug must not hold back the others; the row is tried again.
            log.exception("reminder %s of %s %s failed", reminder.id, reminder.event,
                          reminder.event_id)
            continue
        total += queued or 0
    if total:
        svc.outbox_changed()
    return total


def schedule(application: BotApplication, renderers: Mapping[str, Render]) -> None:
    async def job(context: BotContext) -> None:
        await run_reminders(services_of(application_of(context)), renderers)

    assert application.job_queue is not None
    application.job_queue.run_repeating(job, interval=INTERVAL, first=timedelta(seconds=7),
                                        name="event-reminders")
