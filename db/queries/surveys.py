"""Queries of survey rounds and responses, in the caller's transaction: the rounds to open,
close or invite latecomers to, whom a round invites (`invitees`, one SELECT the outbox queues
from), a round's outbox groups, and what a response holds. The use cases that own a
transaction (opening a response, recording an answer, finishing, closing or moving a round)
are in `db/surveys.py`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Select, and_, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import (
    Enterprise,
    EnterpriseStatus,
    MemberRole,
    Membership,
    ResponseKind,
    ResponseStatus,
    SurveyAnswer,
    SurveyResponse,
    SurveyRound,
    User,
    UserStatus,
)
from db.queries import outbox as outbox_db
from domain.provinces import PROVINCES
from domain.questionnaire import Answer, load


def member_roles(survey: str) -> list[MemberRole]:
    """Who answers a survey by their membership in the enterprise (its definition says)."""
    return [role for role in MemberRole if role.value in load(survey).respondents]


# --- rounds -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class RoundPlan:
    """A round's dates as domain/survey_calendar.py worked them out."""

    survey: str
    period: date
    opens_on: date
    reminder_on: date
    closes_on: date
    closes_at: datetime
    members_until: datetime | None = None  # a month opened late: its end (SurveyRound)


async def get_round(session: AsyncSession, survey: str, period: date) -> SurveyRound | None:
    return await session.scalar(select(SurveyRound).where(SurveyRound.survey == survey,
                                                          SurveyRound.period == period))


async def ensure_round(session: AsyncSession, plan: RoundPlan, *, now: datetime) -> SurveyRound:
    """The round of `plan`'s survey and month, created with its dates if new (dates of an
    existing round are kept: staff may have moved it)."""
    existing = await get_round(session, plan.survey, plan.period)
    if existing is not None:
        return existing
    round_ = SurveyRound(survey=plan.survey, period=plan.period, opens_on=plan.opens_on,
                         reminder_on=plan.reminder_on, closes_on=plan.closes_on,
                         closes_at=plan.closes_at, members_until=plan.members_until,
                         version=0, created_at=now)
    session.add(round_)
    await session.flush()
    return round_


async def rounds_to_queue(session: AsyncSession, *, today: date,
                          now: datetime) -> Sequence[SurveyRound]:
    """Rounds that open today or earlier, not closed, whose messages are not queued yet."""
    return (await session.scalars(select(SurveyRound).where(
        SurveyRound.queued_at.is_(None), SurveyRound.closed_at.is_(None),
        SurveyRound.closes_at > now, SurveyRound.opens_on <= today)
        .order_by(SurveyRound.id))).all()


async def rounds_to_close(session: AsyncSession, *, now: datetime) -> Sequence[SurveyRound]:
    return (await session.scalars(select(SurveyRound).where(
        SurveyRound.closed_at.is_(None), SurveyRound.closes_at <= now)
        .order_by(SurveyRound.id))).all()


def is_open(round_: SurveyRound, now: datetime) -> bool:
    """Answers are taken from when the invitations go out until the close."""
    return (round_.queued_at is not None and round_.closed_at is None
            and now < round_.closes_at)


async def open_rounds(session: AsyncSession, survey: str, now: datetime) -> list[SurveyRound]:
    rounds = (await session.scalars(select(SurveyRound).where(
        SurveyRound.survey == survey, SurveyRound.queued_at.is_not(None),
        SurveyRound.closed_at.is_(None), SurveyRound.closes_at > now)
        .order_by(SurveyRound.period.desc()))).all()
    return list(rounds)


# Why a round's message was not sent to someone: they left the enterprise.
LEFT = "left"


def invite_group(round_: SurveyRound, version: int | None = None) -> str:
    """The outbox group of a round's invitations (per version: moving a round makes one)."""
    return f"survey:{round_.id}:v{round_.version if version is None else version}:invite"


def remind_group(round_: SurveyRound, version: int | None = None) -> str:
    return f"survey:{round_.id}:v{round_.version if version is None else version}:remind"


async def drop_for_leaver(session: AsyncSession, user_id: int) -> int:
    """Someone left their enterprise, or moved to another: the open rounds' invitations and
    reminders not sent to them yet are not sent (a reminder to answer for a workplace they
    left, a KPI report asked of an admin who is a worker elsewhere now). If they are a
    respondent again, `db.queries.round_messages.invite_latecomers` queues what they still
    need again. The number of messages dropped: the sender re-checks its claims then."""
    dropped = 0
    for round_ in await unclosed_rounds(session):
        for group in (invite_group(round_), remind_group(round_)):
            dropped += await outbox_db.drop_unsent(session, group, recipient_id=user_id,
                                                   reason=LEFT)
    return dropped


async def unclosed_rounds(session: AsyncSession) -> Sequence[SurveyRound]:
    """Rounds whose messages were queued and that have not closed."""
    return (await session.scalars(select(SurveyRound).where(
        SurveyRound.queued_at.is_not(None), SurveyRound.closed_at.is_(None)))).all()


async def rounds_not_closed(session: AsyncSession, now: datetime) -> Sequence[SurveyRound]:
    """Rounds open now or still to open: those whose messages someone joining now may need."""
    return (await session.scalars(select(SurveyRound).where(
        SurveyRound.closed_at.is_(None), SurveyRound.closes_at > now)
        .order_by(SurveyRound.id))).all()


async def latest_round(session: AsyncSession, survey: str) -> SurveyRound | None:
    return await session.scalar(select(SurveyRound).where(SurveyRound.survey == survey)
                                .order_by(SurveyRound.period.desc()).limit(1))


def provinces_in(zone: str) -> list[str]:
    return [p.code for p in PROVINCES if p.timezone == zone]


def invitees(round_: SurveyRound, *, provinces: Iterable[str] | None = None,
             user_id: int | None = None, enterprise_id: int | None = None) -> Select[int, str]:
    """SELECT of (user id, language) of everyone `round_` invites: the owners and admins
    (KPI) or the workers (pulse) of approved enterprises, who consented and have not
    blocked the bot, leaving out whoever already finished. `user_id` or `enterprise_id`
    keeps only that person, or that enterprise's people (who joined after the opening).
    A month opened late asks only who was a member, of an enterprise approved, by its end."""
    survey, period = round_.survey, round_.period
    roles = member_roles(survey)
    query = (select(User.id, User.language)
             .join(Membership, and_(Membership.user_id == User.id, Membership.left_at.is_(None)))
             .join(Enterprise, Enterprise.id == Membership.enterprise_id)
             .where(Membership.role.in_(roles), Enterprise.status == EnterpriseStatus.APPROVED,
                    User.consent_at.is_not(None), User.status == UserStatus.ACTIVE))
    if round_.members_until is not None:
        query = query.where(Membership.since < round_.members_until,
                            Enterprise.decided_at < round_.members_until)
    if provinces is not None:
        query = query.where(Enterprise.province.in_(list(provinces)))
    if user_id is not None:
        query = query.where(User.id == user_id)
    if enterprise_id is not None:
        query = query.where(Enterprise.id == enterprise_id)
    finished = select(SurveyResponse.id).where(
        SurveyResponse.survey == survey, SurveyResponse.period == period,
        SurveyResponse.kind == ResponseKind.MONTHLY, SurveyResponse.status == ResponseStatus.FINAL)
    if load(survey).subject == "enterprise":
        finished = finished.where(SurveyResponse.enterprise_id == Enterprise.id)
    else:
        finished = finished.where(SurveyResponse.respondent_id == User.id)
    return query.where(~exists(finished))


async def invitee_provinces(session: AsyncSession, round_: SurveyRound, *,
                            user_id: int | None = None,
                            enterprise_id: int | None = None) -> set[str]:
    """The provinces of the enterprises `invitees` finds for one person or one enterprise:
    the time zones their invitations are queued in."""
    query = invitees(round_, user_id=user_id, enterprise_id=enterprise_id)
    return set((await session.scalars(
        query.with_only_columns(Enterprise.province).distinct())).all())


async def rounds_taking_answers(session: AsyncSession, now: datetime) -> list[SurveyRound]:
    """The rounds open now, of every survey. Locked FOR SHARE (PostgreSQL): a round being
    opened or closed at this moment is waited for, and then seen as it is committed, so
    someone joining meanwhile is invited either by the opening or by the caller, never by
    neither. The lock is taken before the "queued" check for that reason."""
    rounds = (await session.scalars(select(SurveyRound).where(
        SurveyRound.closed_at.is_(None), SurveyRound.closes_at > now)
        .order_by(SurveyRound.id).with_for_update(read=True)
        .execution_options(populate_existing=True))).all()
    return [round_ for round_ in rounds if is_open(round_, now)]


# --- responses --------------------------------------------------------------------------------
def _answer_of(row: SurveyAnswer) -> Answer:
    return Answer(number=row.number, percent=row.percent, choice=row.choice,
                  text=row.raw if row.choice is None and row.number is None else None,
                  skipped=row.skipped)


async def answers_of(session: AsyncSession, response_id: int) -> dict[str, Answer]:
    rows = (await session.scalars(select(SurveyAnswer).where(
        SurveyAnswer.response_id == response_id))).all()
    return {row.question: _answer_of(row) for row in rows}


async def drop_answered(session: AsyncSession, response: SurveyResponse) -> None:
    """What the round still holds for whoever this response answered for (the person; for
    an enterprise's report, all its owners and admins) is not sent."""
    round_ = await get_round(session, response.survey, response.period)
    if round_ is None:
        return
    if load(response.survey).subject == "enterprise":
        people = await respondents_of(session, response.survey, response.enterprise_id)
    else:
        people = [response.respondent_id] if response.respondent_id else []
    for person in people:
        for group in (invite_group(round_), remind_group(round_)):
            await outbox_db.drop_unsent(session, group, recipient_id=person, reason="answered")


async def respondents_of(session: AsyncSession, survey: str, enterprise_id: int) -> list[int]:
    """Who is reminded on the enterprise's behalf (KPI: its owner and admins)."""
    return list((await session.scalars(select(Membership.user_id).where(
        Membership.enterprise_id == enterprise_id, Membership.left_at.is_(None),
        Membership.role.in_(member_roles(survey))))).all())


async def final_count(session: AsyncSession, survey: str, period: date) -> int:
    return await session.scalar(select(func.count()).select_from(SurveyResponse).where(
        SurveyResponse.survey == survey, SurveyResponse.period == period,
        SurveyResponse.kind == ResponseKind.MONTHLY,
        SurveyResponse.status == ResponseStatus.FINAL)) or 0
