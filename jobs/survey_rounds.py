"""Survey rounds on their schedule: a job that plans each month's rounds, queues their
messages on the opening day and closes them on the 20th.

Rounds are rows in the database and their messages rows of the outbox
(`services/surveys/rounds.py`), not scheduler jobs: this job only looks at the clock every few
minutes, so a restart, or a bot that was down on the opening day, loses nothing. What it does
is idempotent.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from zoneinfo import ZoneInfo

from chat.context import BotApplication, BotContext, Services, application_of, services_of
from db.queries import surveys as survey_queries
from domain import survey_calendar as calendar
from domain.provinces import WIB, WIT
from domain.questionnaire import NAMES
from services.surveys import rounds

log = logging.getLogger(__name__)

INTERVAL = timedelta(minutes=5)


async def run_rounds(svc: Services) -> None:
    """Plan the round of the month that ended, close what is due, queue what opens."""
    now = svc.clock.now()
    period = calendar.previous_period(now.astimezone(ZoneInfo(WIB)).date())
    async with svc.sessionmaker() as session, session.begin():
        for survey in NAMES:
            plan = rounds.plan(survey, period)
            # A bot first started after the 20th plans no round that could ask nobody.
            if plan.closes_at > now:
                await survey_queries.ensure_round(session, plan, now=now)
    async with svc.sessionmaker() as session:
        due = [r.id for r in await survey_queries.rounds_to_close(session, now=now)]
    for round_id in due:
        if await rounds.close_round(svc, round_id) is not None:
            log.info("survey round %s closed", round_id)
    # The opening day has begun somewhere once it has in the easternmost zone; each zone's
    # messages carry their own local send time.
    today = now.astimezone(ZoneInfo(WIT)).date()
    async with svc.sessionmaker() as session:
        opening = [r.id for r in await survey_queries.rounds_to_queue(session, today=today,
                                                                       now=now)]
    for round_id in opening:
        queued = await rounds.open_round(svc, round_id)
        if queued is not None:
            log.info("survey round %s opened: %s invitations queued", round_id, queued)


async def _job(context: BotContext) -> None:
    await run_rounds(services_of(application_of(context)))


def schedule(application: BotApplication) -> None:
    assert application.job_queue is not None
    application.job_queue.run_repeating(_job, interval=INTERVAL, first=timedelta(seconds=5),
                                        name="survey-rounds")
