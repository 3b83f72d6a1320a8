"""Survey rounds through the outbox: planning a month's round, queueing its invitations and
its one reminder per time zone, inviting who joins while it is open, dropping a finisher's
reminder, closing and moving a round.

Shared by the job that runs rounds on their schedule (`jobs/survey_rounds.py`), the command
line (`score-bot survey open|close`) and staff's /surveys. Every message of a round is an
outbox row of the group `survey:<round>:v<version>:invite` or `...:remind`, queued with its
local send time and expiring at the close, so a restart loses nothing and nothing arrives
after the close.
"""

from __future__ import annotations

import html
from datetime import date, datetime

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from chat import notify
from chat.context import Services
from chat.i18n import N_, _, current_locale
from db import surveys as surveys_db
from db.models import ResponseKind, SurveyResponse, SurveyRound

# Named here too: the round's outbox groups are this journey's (tests and staff tools ask).
from db.surveys import LEFT as LEFT
from db.surveys import invite_group as invite_group
from db.surveys import remind_group as remind_group
from domain import survey_calendar as calendar
from domain.provinces import WIB, WIT, WITA
from domain.questionnaire import load

ZONES = (WIB, WITA, WIT)
SURVEY_BUTTON = "survey"  # the invitation's button: opens the survey of its round


def plan(survey: str, period: date) -> surveys_db.RoundPlan:
    """The dates of a month's round, on the schedule of PRODUCT.md."""
    dates = calendar.kpi_round(period) if survey == "kpi" else calendar.pulse_round(period)
    return _plan(survey, dates)


def _plan(survey: str, dates: calendar.RoundDates) -> surveys_db.RoundPlan:
    return surveys_db.RoundPlan(survey=survey, period=dates.period, opens_on=dates.opens,
                                reminder_on=dates.reminder, closes_on=dates.closes,
                                closes_at=calendar.close_moment(dates.closes))


def moved_plan(round_: SurveyRound, opens: date) -> surveys_db.RoundPlan:
    dates = calendar.RoundDates(period=round_.period, opens=round_.opens_on,
                                reminder=round_.reminder_on, closes=round_.closes_on)
    return _plan(round_.survey, calendar.moved(dates, opens, kpi=round_.survey == "kpi"))


def send_moment(survey: str, day: date, zone: str) -> datetime:
    """When a round's message goes out in a zone: KPI at 09:00, the pulse at 19:30 (phones
    are in lockers during shifts), never during Friday prayers."""
    at = calendar.KPI_INVITE_TIME if survey == "kpi" else calendar.PULSE_INVITE_TIME
    return calendar.send_moment(day, at, zone)


def next_send_moment(survey: str, after: datetime, zone: str) -> datetime:
    """A round's next send time in a zone from `after` on, for someone who joins it late: the
    same local time as its invitations, on a working day for the KPI report (offices)."""
    at = calendar.KPI_INVITE_TIME if survey == "kpi" else calendar.PULSE_INVITE_TIME
    return calendar.next_send_moment(after, at, zone, working_days=survey == "kpi")


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
    else:
        text = _("A short survey about your work in {month}: six questions, about one minute. "
                 "Answering is voluntary.").format(month=month)
        label = _("Start the survey")
    return notify.Message(text, [[notify.Button(label, SURVEY_BUTTON, str(round_.id))]])


def _reminder(round_: SurveyRound) -> notify.Message:
    month = month_words(round_.period)
    until = calendar.date_words(round_.closes_on, current_locale())
    if round_.survey == "kpi":
        text = _("A reminder: the KPI report for {month} is not finished yet. It is open until "
                 "{date}.").format(month=month, date=until)
        label = _("Fill in the report")
    else:
        text = _("A reminder: the workers' survey for {month} is open until {date}. Answering "
                 "is voluntary.").format(month=month, date=until)
        label = _("Start the survey")
    return notify.Message(text, [[notify.Button(label, SURVEY_BUTTON, str(round_.id))]])


async def queue_messages(svc: Services, session: AsyncSession, round_: SurveyRound, *,
                         now: datetime, at_once: bool = False) -> int:
    """Queue the round's invitations (at the local send time of each zone, or now) and its
    reminder; both expire at the close. Queueing again adds nothing (outbox keys)."""
    queued = 0
    for zone in ZONES:
        planned = send_moment(round_.survey, round_.opens_on, zone)
        # Sent now (at once, or the job ran after the planned time): still never in Friday
        # prayers, which only the planned times avoid by themselves.
        invite_at = calendar.outside_prayers(now if at_once else max(now, planned), zone)
        queued += await _queue_zone(svc, session, round_, zone, invite_at=invite_at)
    return queued


async def _queue_zone(svc: Services, session: AsyncSession, round_: SurveyRound, zone: str, *,
                      invite_at: datetime, user_id: int | None = None,
                      enterprise_id: int | None = None) -> int:
    """One zone's invitations at `invite_at`, and its reminders if the reminder comes after
    them and before the close: to everyone the round invites there, or (`user_id`,
    `enterprise_id`) to one person or one enterprise's people only. The outbox keys are the
    round's, per recipient: whoever has a row of the group already gets nothing new, but
    for a row dropped when they left before it was sent (`db.surveys.drop_for_leaver`), which is
    queued again for now: who left and joined again, or moved to another enterprise,
    still gets the round's invitation once."""
    provinces = surveys_db.provinces_in(zone)

    def to() -> Select[int, str]:
        return surveys_db.invitees(round_.survey, round_.period, provinces=provinces,
                                   user_id=user_id, enterprise_id=enterprise_id)

    queued = await notify.queue(
        svc, session, group=invite_group(round_), key=invite_group(round_), to=to(),
        render=lambda: _invitation(round_), at=invite_at, expires=round_.closes_at, revive=LEFT)
    remind_at = send_moment(round_.survey, round_.reminder_on, zone)
    if invite_at < remind_at < round_.closes_at:
        await notify.queue(
            svc, session, group=remind_group(round_), key=remind_group(round_), to=to(),
            render=lambda: _reminder(round_), at=remind_at, expires=round_.closes_at,
            priority=notify.REMINDER, revive=LEFT)
    return queued


async def invite_latecomers(svc: Services, session: AsyncSession, *,
                            user_id: int | None = None, enterprise_id: int | None = None) -> int:
    """Someone became one of a round's respondents after it opened (a worker who joined with
    the code, an admin who accepted the owner's invite: `user_id`; an enterprise approved
    by staff: `enterprise_id`): each round still taking answers invites them too, in the
    round's own groups, at its next send time in their zone (the pulse at 19:30, KPI at
    09:00 on a working day), with its reminder if that is still ahead. Nothing when that
    time falls after the close, nor for whoever has finished or has a row of the round
    already (joined twice; left and came back after it was sent); a row dropped when they
    left, never sent, is queued again. Runs in the caller's transaction, where
    the membership became active; the number of invitations queued."""
    if user_id is None and enterprise_id is None:
        raise ValueError("whom to invite: a user or an enterprise")
    now = svc.clock.now()
    queued = 0
    for round_ in await surveys_db.rounds_taking_answers(session, now):
        provinces = await surveys_db.invitee_provinces(
            session, round_.survey, round_.period, user_id=user_id, enterprise_id=enterprise_id)
        for zone in ZONES:
            if provinces.isdisjoint(surveys_db.provinces_in(zone)):
                continue
            invite_at = next_send_moment(round_.survey, now, zone)
            if invite_at < round_.closes_at:
                queued += await _queue_zone(svc, session, round_, zone, invite_at=invite_at,
                                            user_id=user_id, enterprise_id=enterprise_id)
    return queued


async def open_round(svc: Services, round_id: int, *, at_once: bool = False) -> int | None:
    """Queue a round's messages once; None when they were queued already."""
    now = svc.clock.now()

    async def queue(session: AsyncSession, round_: SurveyRound) -> int:
        return await queue_messages(svc, session, round_, now=now, at_once=at_once)

    return await surveys_db.queue_round(svc.sessionmaker, round_id, now=now, queue=queue)


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
    async with svc.sessionmaker() as session:
        current = await session.get(SurveyRound, round_id)
    if current is None:
        return None

    moved = await surveys_db.move_round(svc.sessionmaker, round_id, moved_plan(current, opens),
                                        staff_id=staff_id, now=svc.clock.now())
    if moved is not None:
        svc.recheck_sender()
    return moved


async def drop_reminders(svc: Services, session: AsyncSession, response: SurveyResponse) -> None:
    """Someone finished: what the round still holds for them (and, for an enterprise's
    report, for its other owners and admins) is not sent."""
    round_ = await surveys_db.get_round(session, response.survey, response.period)
    if round_ is None:
        return
    if load(response.survey).subject == "enterprise":
        people = await surveys_db.respondents_of(session, response.survey, response.enterprise_id)
    else:
        people = [response.respondent_id] if response.respondent_id else []
    for person in people:
        for group in (invite_group(round_), remind_group(round_)):
            await notify.drop(svc, session, group=group, recipient_id=person, reason="answered")


async def tell_owners(svc: Services, session: AsyncSession, response: SurveyResponse, *,
                      trainer: str) -> None:
    """A trainer entered an enterprise's report: its owner and admins hear of it (they may
    have been about to send their own, which would replace it)."""
    people = await surveys_db.respondents_of(session, "kpi", response.enterprise_id)
    await _tell(svc, session, response, people, group=f"survey-entered:{response.id}",
                name=trainer,
                baseline=N_("SCORE trainer {name} entered the baseline for {month}. Type /kpi "
                            "to see it."),
                report=N_("SCORE trainer {name} entered the KPI report for {month}. Type /kpi "
                          "to see it."))


async def tell_replaced(svc: Services, session: AsyncSession, earlier: SurveyResponse, *,
                        by: str) -> None:
    """Someone else sent the enterprise's report (or baseline) for a month: who sent the one
    it replaces hears of it (they might otherwise think theirs stands)."""
    if earlier.respondent_id is None:
        return
    await _tell(svc, session, earlier, [earlier.respondent_id],
                group=f"survey-replaced:{earlier.id}", name=by,
                baseline=N_("{name} sent a new baseline for {month}. It replaces the one you "
                            "sent. Type /kpi to see it."),
                report=N_("{name} sent a new KPI report for {month}. It replaces the one you "
                          "sent. Type /kpi to see it."))


async def _tell(svc: Services, session: AsyncSession, response: SurveyResponse, to: list[int],
                *, group: str, name: str, baseline: str, report: str) -> None:
    """A notice about a response, each in their language: `baseline` or `report` as its kind
    is, with the person's `name` and the response's month."""
    period, kind = response.period, response.kind

    def render() -> notify.Message:
        text = _(baseline if kind is ResponseKind.BASELINE else report)
        return notify.Message(text.format(name=html.escape(name),
                                          month=calendar.month_name(period, current_locale())))

    await notify.queue(svc, session, group=group, key=group, to=to, render=render)

