"""Retention (UU PDP: personal data kept no longer than needed): once a day, what messages
said (outbox texts, buttons and files) older than RETENTION_DAYS is deleted; who got what
and when stays, so delivery counts do not change (db/own_data.purge_old_messages)."""

from __future__ import annotations

import logging
from datetime import timedelta

from chat.context import BotApplication, BotContext, Services, application_of, services_of
from db.own_data import Purged, purge_old_messages

log = logging.getLogger(__name__)

INTERVAL = timedelta(days=1)


async def purge(svc: Services) -> Purged:
    """Run once now, on the service's clock (tests call this)."""
    before = svc.clock.now() - timedelta(days=svc.settings.retention_days)
    purged = await purge_old_messages(svc.sessionmaker, before=before)
    if purged.contents or purged.media:
        log.info("retention: emptied %d message texts, deleted %d files", purged.contents,
                 purged.media)
    return purged


async def _job(context: BotContext) -> None:
    await purge(services_of(application_of(context)))


def schedule(application: BotApplication) -> None:
    assert application.job_queue is not None
    # An hour after start, then daily: a restart loop does not purge over and over.
    application.job_queue.run_repeating(_job, interval=INTERVAL, first=timedelta(hours=1),
                                        name="retention")
