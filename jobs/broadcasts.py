"""Scheduled broadcasts are queued into the outbox when they are due.

A job on the job queue of the bot process, not part of the sender loop: queueing a broadcast
to 30,000 people is one INSERT ... SELECT that must not hold up the sender's pacing, and its
rows are created when the broadcast is queued, so `created_at` says when that was.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from chat.context import BotApplication, BotContext, application_of, services_of
from db.models import Broadcast
from db.queries import broadcasts as broadcasts_db

log = logging.getLogger(__name__)

INTERVAL = timedelta(seconds=10)


async def queue_due_broadcasts(application: BotApplication) -> list[Broadcast]:
    svc = services_of(application)
    async with svc.sessionmaker() as session, session.begin():
        queued = await broadcasts_db.queue_due(session, now=svc.clock.now(),
                                               staff_ids=svc.settings.staff_ids)
    if queued:
        svc.wake_sender()
    for broadcast in queued:
        log.info("broadcast %s queued for %s recipients", broadcast.id,
                 broadcast.recipient_count)
    return queued


async def _job(context: BotContext) -> None:
    await queue_due_broadcasts(application_of(context))


def schedule(application: BotApplication) -> None:
    assert application.job_queue is not None
    # Soon after start too: what fell due while the bot was down goes out at once.
    application.job_queue.run_repeating(_job, interval=INTERVAL, first=timedelta(seconds=1),
                                        name="queue-scheduled-broadcasts")
