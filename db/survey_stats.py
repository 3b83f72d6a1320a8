"""What staff see of the survey rounds: who answered each round, and every final KPI report
for the programme-wide chart. Read-only queries; the arithmetic is domain/response_rates.py's
and domain/kpi.py's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, func, or_, select

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
)
from db.queries import outbox as outbox_db
from db.queries.surveys import RoundPlan, invitees, remind_group
from db.session import Sessions
from domain.join_patterns import JoinFlags, flags
from domain.questionnaire import NAMES, Answer
from domain.response_rates import EnterpriseTally, tally


@dataclass(frozen=True)
class RoundTallies:
    round: SurveyRound
    enterprises: list[EnterpriseTally]
    reminders_sent: int = 0  # of its current dates' reminder


async def latest_rounds(sessions: Sessions) -> list[SurveyRound]:
    """The most recent round of each survey (KPI first), those that exist, and beside it any
    earlier one not closed yet (a month opened late runs beside the current one)."""
    async with sessions() as session:
        found: list[SurveyRound] = []
        for survey in NAMES:
            latest = await session.scalar(select(SurveyRound).where(SurveyRound.survey == survey)
                                          .order_by(SurveyRound.period.desc()).limit(1))
            if latest is None:
                continue
            found.append(latest)
            found += (await session.scalars(select(SurveyRound).where(
                SurveyRound.survey == survey, SurveyRound.closed_at.is_(None),
                SurveyRound.id != latest.id).order_by(SurveyRound.period.desc()))).all()
        return found


async def round_periods(sessions: Sessions) -> dict[str, set[date]]:
    """The months each survey has a round of (run, running or planned)."""
    async with sessions() as session:
        rows = (await session.execute(select(SurveyRound.survey, SurveyRound.period))).all()
    found: dict[str, set[date]] = {survey: set() for survey in NAMES}
    for survey, period in rows:
        found.setdefault(survey, set()).add(period)
    return found


async def invitee_count(sessions: Sessions, plan: RoundPlan) -> int:
    """How many people a round of `plan` would invite now (a month staff may open late)."""
    # A round not added to any session: `invitees` reads only its survey, month and members.
    round_ = SurveyRound(survey=plan.survey, period=plan.period,
                         members_until=plan.members_until)
    query = invitees(round_)
    async with sessions() as session:
        return await session.scalar(
            select(func.count()).select_from(query.subquery())) or 0


async def recent_rounds(sessions: Sessions, limit: int = 12) -> list[SurveyRound]:
    """The latest rounds of every survey, newest month first."""
    async with sessions() as session:
        return list(await session.scalars(select(SurveyRound).order_by(
            SurveyRound.period.desc(), SurveyRound.survey).limit(limit)))


async def round_tallies(sessions: Sessions, round_id: int) -> RoundTallies | None:
    """Per approved enterprise: answered of asked (KPI: its final report; pulse: final
    responses of the workers the round asked, `_asked_by`). An earlier round counts the
    enterprises approved today too: simpler than their history, and one that answered is
    always counted."""
    async with sessions() as session:
        round_ = await session.get(SurveyRound, round_id)
        if round_ is None:
            return None
        enterprises = (await session.execute(
            select(Enterprise.id, Enterprise.name, Enterprise.province)
            .where(Enterprise.status == EnterpriseStatus.APPROVED))).all()
        finals: dict[int, int] = dict((await session.execute(
            select(SurveyResponse.enterprise_id, func.count())
            .where(SurveyResponse.survey == round_.survey,
                   SurveyResponse.period == round_.period,
                   SurveyResponse.kind == ResponseKind.MONTHLY,
                   SurveyResponse.status == ResponseStatus.FINAL)
            .group_by(SurveyResponse.enterprise_id))).all())
        if round_.survey == "kpi":
            asked: dict[int, int] = {row[0]: 1 for row in enterprises}
            if round_.members_until is not None:
                # A month opened late asked the enterprises approved by its end.
                asked = {key: 1 for key in (await session.scalars(select(Enterprise.id).where(
                    Enterprise.status == EnterpriseStatus.APPROVED,
                    Enterprise.decided_at < round_.members_until))).all()}
        else:
            asked = dict((await session.execute(
                select(Membership.enterprise_id, func.count())
                .where(Membership.role == MemberRole.WORKER, *_asked_by(round_))
                .group_by(Membership.enterprise_id))).all())
        # The reminders of the round's current dates that really went out.
        reminded = (await outbox_db.group_counts(session, remind_group(round_))).sent
    rows = [EnterpriseTally(row[0], row[1], row[2],
                            tally(finals.get(row[0], 0), asked.get(row[0], 0)))
            for row in enterprises]
    return RoundTallies(round_, rows, reminded)


def _asked_by(round_: SurveyRound) -> tuple[ColumnElement[bool], ...]:
    """The memberships a pulse round asked: its workers when it opened and those who joined
    before it closed (invited as they joined), not today's: a worker who left since was
    asked, one who joined after was not. A round not opened yet asks today's workers."""
    # A month opened late asked only who was a member by the month's end.
    joined_by = (round_.closes_at if round_.members_until is None
                 else min(round_.closes_at, round_.members_until))
    if round_.queued_at is None:
        return (Membership.left_at.is_(None), Membership.since < joined_by)
    return (Membership.since < joined_by,
            or_(Membership.left_at.is_(None), Membership.left_at > round_.queued_at))


async def kpi_reports(sessions: Sessions) -> list[tuple[date, dict[str, Answer]]]:
    """Every final monthly KPI report: (its month, its answers), one per enterprise and
    month (answering again marks the earlier report replaced)."""
    final = (SurveyResponse.survey == "kpi", SurveyResponse.kind == ResponseKind.MONTHLY,
             SurveyResponse.status == ResponseStatus.FINAL)
    async with sessions() as session:
        periods: dict[int, date] = dict((await session.execute(
            select(SurveyResponse.id, SurveyResponse.period).where(*final))).all())
        rows = (await session.execute(
            select(SurveyAnswer).join(SurveyResponse,
                                      SurveyResponse.id == SurveyAnswer.response_id)
            .where(*final))).scalars().all()
    answers: dict[int, dict[str, Answer]] = {response_id: {} for response_id in periods}
    for row in rows:
        if row.response_id not in answers:
            continue  # finished between the two reads: it counts next time
        answers[row.response_id][row.question] = Answer(
            number=row.number, percent=row.percent, choice=row.choice, skipped=row.skipped)
    return [(periods[response_id], found) for response_id, found in answers.items()]


@dataclass(frozen=True)
class Flagged:
    enterprise_id: int
    name: str
    flags: JoinFlags


async def join_flags(sessions: Sessions, enterprise_id: int | None = None) -> list[Flagged]:
    """Approved enterprises whose workers in the bot look like more than its workers
    (domain/join_patterns.py), or this one's flags whatever they are."""
    async with sessions() as session:
        query = select(Enterprise.id, Enterprise.name, Enterprise.worker_count).where(
            Enterprise.status == EnterpriseStatus.APPROVED)
        if enterprise_id is not None:
            query = query.where(Enterprise.id == enterprise_id)
        enterprises = (await session.execute(query.order_by(Enterprise.name))).all()
        joins = (await session.execute(
            select(Membership.enterprise_id, Membership.since, Membership.left_at)
            .where(Membership.role == MemberRole.WORKER,
                   Membership.enterprise_id.in_([e.id for e in enterprises])))).all()
    joined: dict[int, list[datetime]] = {}
    linked: dict[int, int] = {}
    for row in joins:
        joined.setdefault(row.enterprise_id, []).append(row.since)
        linked[row.enterprise_id] = linked.get(row.enterprise_id, 0) + (row.left_at is None)
    found = [Flagged(e.id, e.name, flags(joined.get(e.id, []), linked.get(e.id, 0),
                                          e.worker_count)) for e in enterprises]
    return [f for f in found if f.flags.any or enterprise_id is not None]
