"""`score-bot survey open|close`: open or close a month's round at once, from the command
line (staff, and tests). Opening twice sends nothing new; the running bot's sender sends
what is queued here."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from chat.buttons import ButtonSigner
from chat.clock import Clock
from chat.context import Services
from config.settings import Settings
from db.queries import surveys as survey_queries
from db.secrets import get_or_create_secret
from db.session import create_engine, create_sessionmaker
from domain import survey_calendar as calendar
from domain.provinces import WIB, WIT
from services.surveys import rounds


async def _services(settings: Settings, clock: Clock) -> Services:
    engine = create_engine(settings.database_url)
    sessionmaker = create_sessionmaker(engine)
    # The bot's own key: the invitations' buttons verify in the bot's gate.
    secret = await get_or_create_secret(sessionmaker, "buttons")
    return Services(settings=settings, engine=engine, sessionmaker=sessionmaker,
                    signer=ButtonSigner(bytes.fromhex(secret)), clock=clock)


async def open_now(settings: Settings, survey: str, period_text: str, *,
                   clock: Clock, late: bool = False) -> str:
    """Open the round now: its invitations go out at once. A month whose round never ran and
    whose dates have passed opens only `late`, with its own dates from today. What to
    print."""
    svc = await _services(settings, clock)
    try:
        period = calendar.period_of(period_text)
        now = svc.clock.now()
        # As in calendar.moved: a month is asked about only once it has ended (in the
        # easternmost zone first, as the job counts opening days).
        if period > calendar.previous_period(now.astimezone(ZoneInfo(WIT)).date()):
            raise ValueError(f"{period:%Y-%m} has not ended yet: its round cannot open")
        plan = rounds.plan(survey, period)
        async with svc.sessionmaker() as session:
            existing = await survey_queries.get_round(session, survey, period)
        if existing is None and plan.closes_at <= now:
            if not late:
                # Not recorded: a "closed" round that never ran would list enterprises that
                # were not there then as not having answered.
                return (f"the {survey} round of {period:%Y-%m} never ran and its dates have "
                        "passed; nothing was recorded. --late opens it now, with its own "
                        "dates from today")
            plan = rounds.late_plan(survey, period, now.astimezone(ZoneInfo(WIB)).date())
        async with svc.sessionmaker() as session, session.begin():
            round_ = await survey_queries.ensure_round(session, plan, now=now)
            # Past its close but not marked closed yet (the job had not run): its
            # invitations would only expire.
            round_id, closes_on = round_.id, round_.closes_on
            closed = round_.closed_at is not None or round_.closes_at <= now
        if closed:
            return f"the {survey} round of {period:%Y-%m} is closed; nothing was sent"
        queued = await rounds.open_round(svc, round_id, at_once=True)
        if queued is None:
            return f"the {survey} round of {period:%Y-%m} was open already; nothing new was sent"
        opened = "open late" if plan.closes_on != rounds.plan(survey, period).closes_on \
            else "open"
        return (f"the {survey} round of {period:%Y-%m} is {opened} until {closes_on}: "
                f"{queued} invitations queued")
    finally:
        await svc.engine.dispose()


async def close_now(settings: Settings, survey: str, period_text: str, *,
                    clock: Clock) -> str:
    svc = await _services(settings, clock)
    try:
        period = calendar.period_of(period_text)
        async with svc.sessionmaker() as session:
            round_ = await survey_queries.get_round(session, survey, period)
        if round_ is None:
            return f"there is no {survey} round of {period:%Y-%m}"
        if await rounds.close_round(svc, round_.id) is None:
            return f"the {survey} round of {period:%Y-%m} was closed already"
        return f"the {survey} round of {period:%Y-%m} is closed; unsent messages were dropped"
    finally:
        await svc.engine.dispose()
