"""The weekly tip on its schedule: a job that looks every few minutes whether Monday 19.30
has come in a zone and queues that week's tips (services/tips.run_weekly). What it does is
idempotent (one row per person and week), so the interval and restarts do not matter."""

from __future__ import annotations

from datetime import timedelta

from chat.context import BotApplication, BotContext, application_of, services_of
from services import tips

INTERVAL = timedelta(minutes=5)


async def _job(context: BotContext) -> None:
    await tips.run_weekly(services_of(application_of(context)))


def schedule(application: BotApplication) -> None:
    assert application.job_queue is not None
    application.job_queue.run_repeating(_job, interval=INTERVAL, first=timedelta(seconds=11),
                                        name="weekly-tips")
