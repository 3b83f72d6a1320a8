"""Drafts (half-written answers) are personal data: delete those untouched for 14 days."""

from __future__ import annotations

import logging
from datetime import timedelta

from chat.context import BotApplication, BotContext, application_of, services_of
from chat.flow import EXPIRED_KEY
from db.drafts import purge_expired

log = logging.getLogger(__name__)

INTERVAL = timedelta(hours=6)


async def purge_drafts(application: BotApplication) -> None:
    svc = services_of(application)
    users = await purge_expired(svc.sessionmaker, now=svc.clock.now())
    for user_id, had_question in users.items():
        # The live copy too, or the next commit would write the draft back; a mark (no
        # personal data) tells the user's next message why the question they left is gone.
        application.drop_user_data(user_id)
        if had_question:
            application.user_data[user_id][EXPIRED_KEY] = True
    if users:
        log.info("purged %d expired drafts", len(users))


async def _job(context: BotContext) -> None:
    await purge_drafts(application_of(context))


def schedule(application: BotApplication) -> None:
    assert application.job_queue is not None
    application.job_queue.run_repeating(_job, interval=INTERVAL, first=INTERVAL,
                                        name="purge-drafts")
