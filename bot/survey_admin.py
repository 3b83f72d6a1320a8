"""`score-bot survey open|close`: open or close a month's round at once, from the command
line (staff, and tests). Opening twice sends nothing new; the running bot's sender sends
what is queued here."""

from __future__ import annotations

from chat.buttons import ButtonSigner
from chat.clock import Clock
from chat.context import Services
from config.settings import Settings
from db.queries import surveys as survey_queries
from db.secrets import get_or_create_secret
from db.session import create_engine, create_sessionmaker
from domain import survey_calendar as calendar
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
        month = f"{period:%Y-%m}"
        result = await rounds.open_month(svc, survey, period, late=late)
        match result.outcome:
            case rounds.Opening.NOT_ENDED:
                raise ValueError(f"{month} has not ended yet: its round cannot open")
            case rounds.Opening.NEVER_RAN:
                return (f"the {survey} round of {month} never ran and its dates have "
                        "passed; nothing was recorded. --late opens it now, with its own "
                        "dates from today")
            case rounds.Opening.CLOSED:
                return f"the {survey} round of {month} is closed; nothing was sent"
            case rounds.Opening.ALREADY_OPEN:
                return f"the {survey} round of {month} was open already; nothing new was sent"
        assert result.round is not None
        opened = "open late" if result.outcome is rounds.Opening.OPENED_LATE else "open"
        asks = (f", asking those who were members by the end of {month}"
                if result.round.members_until is not None else "")
        return (f"the {survey} round of {month} is {opened} until {result.round.closes_on}"
                f"{asks}: {result.queued} invitations queued")
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
