"""Survey rounds through the outbox: planning a month's round, rendering its invitation and
reminder for the use cases that queue them (opening it, inviting who joins while it is
open), closing and moving a round.

Shared by the job that runs rounds on their schedule (`jobs/survey_rounds.py`), the command
line (`score-bot survey open|close`) and staff's /surveys. Every message of a round is an
outbox row of the group `survey:<round>:v<version>:invite` or `...:remind`, queued with its
local send time and expiring at the close, so a restart loses nothing and nothing arrives
after the close.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import Enum
from typing import TypeVar
from zoneinfo import ZoneInfo

from chat import notify
from chat.context import Services
from chat.i18n import _, current_locale
from db import round_messages as round_messages_db
from db import survey_stats
from db import surveys as surveys_db
from db.models import SurveyRound
from db.queries import surveys as survey_queries
from db.queries.round_messages import ZONES as ZONES
from db.queries.round_messages import RoundMessages
from db.queries.round_messages import send_moment as send_moment

# Named here too: the round's outbox groups are this journey's (tests and staff tools ask).
from db.queries.surveys import LEFT as LEFT
from db.queries.surveys import invite_group as invite_group
from db.queries.surveys import remind_group as remind_group
from domain import survey_calendar as calendar
from domain.provinces import WIB, WIT
from domain.questionnaire import NAMES
from services.prepared import rendered_first

SURVEY_BUTTON = "survey"  # the invitation's button: opens the survey of its round


def plan(survey: str, period: date) -> survey_queries.RoundPlan:
    """The dates of a month's round, on the schedule of PRODUCT.md."""
    dates = calendar.kpi_round(period) if survey == "kpi" else calendar.pulse_round(period)
    return _plan(survey, dates)


def _plan(survey: str, dates: calendar.RoundDates) -> survey_queries.RoundPlan:
    return survey_queries.RoundPlan(survey=survey, period=dates.period, opens_on=dates.opens,
                                reminder_on=dates.reminder, closes_on=dates.closes,
                                closes_at=calendar.close_moment(dates.closes))


def late_plan(survey: str, period: date, opens: date) -> survey_queries.RoundPlan:
    """A month's round that never ran, opened late on purpose on `opens`: its own dates
    from then on (a week at least, the reminder before the close), asking only those who
    were members by the month's end."""
    dates = calendar.kpi_round(period) if survey == "kpi" else calendar.pulse_round(period)
    plan = _plan(survey, calendar.moved(dates, opens, kpi=survey == "kpi"))
    return replace(plan, members_until=calendar.month_end(period))


def moved_plan(round_: SurveyRound, opens: date) -> survey_queries.RoundPlan:
    dates = calendar.RoundDates(period=round_.period, opens=round_.opens_on,
                                reminder=round_.reminder_on, closes=round_.closes_on)
    return _plan(round_.survey, calendar.moved(dates, opens, kpi=round_.survey == "kpi"))


def month_words(period: date) -> str:
    """"Oktober" / "October": how questions name the month."""
    return calendar.month_only(period, current_locale())


def _invitation(round_: SurveyRound) -> notify.Message:
    month = month_words(round_.period)
    until = calendar.date_words(round_.closes_on, current_locale())
    if round_.survey == "kpi":
        text = _("The KPI report for {month} is open. It takes about five minutes. Items you "
                 "do not record can be skipped with “Not recorded”. Please send it by "
                 "{date}.").format(month=month, date=until)
        label = _("Fill in the report")
        if round_.members_until is not None:
            text += "\n" + _("This report is asked late on purpose. Please give the numbers "
                             "of {month}.").format(month=month)
    else:
        text = _("A short survey about your work in {month}: six questions, about one minute. "
                 "Your supervisor, HR and the owner cannot see your answers. The survey is "
                 "not compulsory.").format(month=month)
        label = _("Start the survey")
        if round_.members_until is not None:
            text += "\n" + _("This survey is asked late. Please answer about {month}, not "
                             "about this month.").format(month=month)
    return notify.Message(text, [[notify.Button(label, SURVEY_BUTTON, str(round_.id))]])


def _reminder(round_: SurveyRound) -> notify.Message:
    month = month_words(round_.period)
    until = calendar.date_words(round_.closes_on, current_locale())
    if round_.survey == "kpi":
        text = _("A reminder: the KPI report for {month} is not finished yet. It is open until "
                 "{date}.").format(month=month, date=until)
        label = _("Fill in the report")
    else:
        text = _("A reminder: the workers' survey for {month} is open until {date}. Your "
                 "supervisor, HR and the owner cannot see your answers. The survey is not "
                 "compulsory.").format(month=month, date=until)
        label = _("Start the survey")
    return notify.Message(text, [[notify.Button(label, SURVEY_BUTTON, str(round_.id))]])


async def round_messages(svc: Services, round_: SurveyRound) -> RoundMessages:
    """The round's invitation and reminder in every language, for a use case to queue."""
    return RoundMessages(round_.id, round_.version,
                         await notify.rendered(svc, lambda: _invitation(round_)),
                         await notify.rendered(svc, lambda: _reminder(round_)))


async def latecomer_messages(svc: Services) -> dict[int, RoundMessages]:
    """The messages of every round not closed, for a use case that may make someone one of
    its respondents (`db.queries.round_messages.invite_latecomers`)."""
    async with svc.sessionmaker() as session:
        found = await survey_queries.rounds_not_closed(session, svc.clock.now())
    return {round_.id: await round_messages(svc, round_) for round_ in found}


T = TypeVar("T")


async def inviting(svc: Services, use_case: Callable[[Mapping[int, RoundMessages]], Awaitable[T]]
                   ) -> T:
    """Run a use case that may make someone one of an open round's respondents, with the
    messages of the rounds not closed rendered before its transaction (it queues them in
    it; rendered again if a round opened or was moved in between)."""
    result = await rendered_first(lambda: latecomer_messages(svc), use_case)
    svc.outbox_changed()
    return result


async def open_round(svc: Services, round_id: int, *, at_once: bool = False) -> int | None:
    """Queue a round's messages once; None when they were queued already (or it is gone)."""

    async def render() -> RoundMessages | None:
        round_ = await surveys_db.round_by_id(svc.sessionmaker, round_id)
        return None if round_ is None else await round_messages(svc, round_)

    async def commit(messages: RoundMessages | None) -> int | None:
        if messages is None:
            return None
        return await round_messages_db.queue_round(svc.sessionmaker, messages,
                                                   now=svc.clock.now(), at_once=at_once)

    queued = await rendered_first(render, commit)
    if queued is not None:
        svc.wake_sender()
    return queued


async def close_round(svc: Services, round_id: int) -> SurveyRound | None:
    """Close now: what is not sent yet of the round is dropped."""
    closed = await surveys_db.close_round(svc.sessionmaker, round_id, now=svc.clock.now())
    if closed is not None:
        svc.recheck_sender()
    return closed


async def move_round(svc: Services, round_id: int, opens: date, *,
                     staff_id: int) -> SurveyRound | None:
    """New dates from `opens`. Messages of the old dates not sent yet are dropped; the
    round's messages are queued again for the new dates when they come."""
    current = await surveys_db.round_by_id(svc.sessionmaker, round_id)
    if current is None:
        return None
    moved = await surveys_db.move_round(svc.sessionmaker, round_id, moved_plan(current, opens),
                                        staff_id=staff_id, now=svc.clock.now())
    if moved is not None:
        svc.recheck_sender()
    return moved


class Opening(Enum):
    """What asking to open a month's round now came to."""

    OPENED = "opened"            # its invitations are queued now (`queued` of them)
    OPENED_LATE = "opened_late"  # a month that never ran, opened late with its own dates
    ALREADY_OPEN = "already_open"
    CLOSED = "closed"            # it ran and closed: it never takes answers again
    NEVER_RAN = "never_ran"      # it never ran and its dates have passed: only `late` opens it
    NOT_ENDED = "not_ended"      # the month has not ended yet


@dataclass(frozen=True)
class OpenResult:
    outcome: Opening
    round: SurveyRound | None = None
    queued: int = 0


def month_ended(period: date, now: datetime) -> bool:
    """A month is asked about only once it has ended (in the easternmost zone first, as the
    job counts opening days)."""
    return period <= calendar.previous_period(now.astimezone(ZoneInfo(WIT)).date())


def needs_late(survey: str, period: date, existing: SurveyRound | None, now: datetime) -> bool:
    """A month whose round never ran and whose planned dates have passed."""
    return existing is None and plan(survey, period).closes_at <= now


async def open_month(svc: Services, survey: str, period: date, *,
                     late: bool = False) -> OpenResult:
    """Open a month's round now (`score-bot survey open`, /surveys): its invitations go out at
    once, outside the night and Friday prayers. A month whose round never ran and whose dates
    have passed opens only `late`: its own dates from today, asking those who were members by
    the month's end. Without `late` it is not recorded: a "closed" round that never ran would
    list enterprises that were not there then as not having answered."""
    now = svc.clock.now()
    if not month_ended(period, now):
        return OpenResult(Opening.NOT_ENDED)
    async with svc.sessionmaker() as session:
        existing = await survey_queries.get_round(session, survey, period)
    the_plan = plan(survey, period)
    opened = Opening.OPENED
    if needs_late(survey, period, existing, now):
        if not late:
            return OpenResult(Opening.NEVER_RAN)
        the_plan = late_plan(survey, period, now.astimezone(ZoneInfo(WIB)).date())
        opened = Opening.OPENED_LATE
    async with svc.sessionmaker() as session, session.begin():
        round_ = await survey_queries.ensure_round(session, the_plan, now=now)
        round_id = round_.id
        # Past its close but not marked closed yet (the job had not run): its invitations
        # would only expire.
        closed = round_.closed_at is not None or round_.closes_at <= now
    if closed:
        return OpenResult(Opening.CLOSED, round_)
    queued = await open_round(svc, round_id, at_once=True)
    current = await surveys_db.round_by_id(svc.sessionmaker, round_id)
    if queued is None:
        return OpenResult(Opening.ALREADY_OPEN, current)
    if current is not None and current.members_until is not None:
        opened = Opening.OPENED_LATE
    return OpenResult(opened, current, queued)


def months_never_run(survey: str, existing: set[date], now: datetime,
                     count: int = 3) -> list[date]:
    """The last `count` ended months whose round never ran and whose dates have passed:
    what staff may open late."""
    today = now.astimezone(ZoneInfo(WIT)).date()
    return [period for period in calendar.recent_periods(today, count)
            if period not in existing and plan(survey, period).closes_at <= now]


async def late_months(svc: Services) -> list[tuple[str, date]]:
    """(survey, month) of each recent month whose round never ran: what staff may open
    late from /surveys, KPI first, most recent month first."""
    existing = await survey_stats.round_periods(svc.sessionmaker)
    now = svc.clock.now()
    return [(survey, period) for survey in NAMES
            for period in months_never_run(survey, existing.get(survey, set()), now)]
