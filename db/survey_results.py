"""What an enterprise gets back from its surveys: its KPI reports over the months with the
baseline, and what it may read of its workers' pulse (noisy totals released once,
domain/owner_totals.py; whether they may be shown is the caller's to ask)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.dialect_insert import insert_for
from db.models import (
    MemberRole,
    Membership,
    PulseRelease,
    ResponseKind,
    ResponseStatus,
    SurveyAnswer,
    SurveyResponse,
    SurveyRound,
)
from db.queries.surveys import answers_of
from db.session import Sessions
from domain import owner_totals
from domain.questionnaire import Answer, load


@dataclass
class KpiHistory:
    months: dict[date, dict[str, Answer]] = field(default_factory=dict)
    baseline_period: date | None = None
    baseline: dict[str, Answer] | None = None
    # Every month entered as a baseline (before training), the latest being `baseline`.
    before: dict[date, dict[str, Answer]] = field(default_factory=dict)


async def kpi_history(sessions: Sessions, enterprise_id: int) -> KpiHistory:
    """The enterprise's final monthly reports by month, and its most recent baseline."""
    history = KpiHistory()
    async with sessions() as session:
        responses = (await session.scalars(select(SurveyResponse).where(
            SurveyResponse.survey == "kpi", SurveyResponse.enterprise_id == enterprise_id,
            SurveyResponse.status == ResponseStatus.FINAL)
            .order_by(SurveyResponse.period))).all()
        for response in responses:
            answers = await answers_of(session, response.id)
            if response.kind is ResponseKind.BASELINE:
                history.before[response.period] = answers
                if history.baseline_period is None or response.period >= history.baseline_period:
                    history.baseline_period, history.baseline = response.period, answers
            else:
                history.months[response.period] = answers
    return history


@dataclass
class PulseTotals:
    """What an enterprise may read of its latest closed pulse round: the noisy release
    (domain/owner_totals.py), never the exact counts."""

    period: date
    release: owner_totals.Release


async def latest_pulse_totals(sessions: Sessions, enterprise_id: int, *,
                              now: datetime) -> PulseTotals | None:
    """The release of the most recent closed pulse round, made and stored at the first look
    (then always the same); None before the first round closed."""
    async with sessions() as session, session.begin():
        # Only a round that was sent: one planned too late to run asked nobody.
        round_ = await session.scalar(
            select(SurveyRound).where(SurveyRound.survey == "pulse",
                                      SurveyRound.queued_at.is_not(None),
                                      SurveyRound.closes_at <= now)
            .order_by(SurveyRound.period.desc()).limit(1))
        if round_ is None:
            return None
        stored = await _stored_release(session, round_.id, enterprise_id)
        if stored is None:
            made = await _release(session, round_, enterprise_id)
            await session.execute(insert_for(session)(PulseRelease).values(
                round_id=round_.id, enterprise_id=enterprise_id, responses=made.responses,
                exact_responses=made.exact_responses, counts=made.counts,
                epsilon=made.epsilon, released_at=now).on_conflict_do_nothing(
                index_elements=["round_id", "enterprise_id"]))
            # Another look at the same moment released it first: theirs is the one.
            stored = await _stored_release(session, round_.id, enterprise_id)
        assert stored is not None
        return PulseTotals(round_.period, stored)


async def _stored_release(session: AsyncSession, round_id: int,
                          enterprise_id: int) -> owner_totals.Release | None:
    row = await session.scalar(select(PulseRelease).where(
        PulseRelease.round_id == round_id, PulseRelease.enterprise_id == enterprise_id))
    if row is None:
        return None
    return owner_totals.Release(responses=row.responses, counts=row.counts,
                                exact_responses=row.exact_responses, epsilon=row.epsilon)


async def _release(session: AsyncSession, round_: SurveyRound,
                   enterprise_id: int) -> owner_totals.Release:
    """The noisy totals of the round's final responses at the enterprise by workers who had
    joined it at least ELIGIBLE_AFTER before the round opened."""
    assert round_.queued_at is not None
    cutoff = round_.queued_at - owner_totals.ELIGIBLE_AFTER
    eligible = select(Membership.id).where(
        Membership.user_id == SurveyResponse.respondent_id,
        Membership.enterprise_id == enterprise_id, Membership.since <= cutoff).exists()
    finals = (SurveyResponse.survey == "pulse", SurveyResponse.period == round_.period,
              SurveyResponse.kind == ResponseKind.MONTHLY,
              SurveyResponse.status == ResponseStatus.FINAL,
              SurveyResponse.enterprise_id == enterprise_id, eligible)
    responses = await session.scalar(
        select(func.count()).select_from(SurveyResponse).where(*finals)) or 0
    rows = (await session.execute(
        select(SurveyAnswer.question, SurveyAnswer.choice, func.count())
        .join(SurveyResponse, SurveyResponse.id == SurveyAnswer.response_id)
        .where(*finals, SurveyAnswer.skipped.is_(False), SurveyAnswer.choice.is_not(None))
        .group_by(SurveyAnswer.question, SurveyAnswer.choice))).all()
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    for question, choice, count in rows:
        counts[question][str(choice)] = count
    return owner_totals.release(owner_totals.choices_of(load("pulse")), counts, responses)


async def linked_workers(sessions: Sessions, enterprise_id: int) -> int:
    """How many workers joined the enterprise (never who)."""
    async with sessions() as session:
        return await session.scalar(select(func.count()).select_from(Membership).where(
            Membership.enterprise_id == enterprise_id, Membership.left_at.is_(None),
            Membership.role == MemberRole.WORKER)) or 0


async def reported_months(sessions: Sessions, enterprise_id: int) -> tuple[set[date], set[date]]:
    """The months of the enterprise's final KPI reports: monthly ones, and baselines."""
    async with sessions() as session:
        rows = (await session.execute(select(SurveyResponse.period, SurveyResponse.kind).where(
            SurveyResponse.survey == "kpi", SurveyResponse.enterprise_id == enterprise_id,
            SurveyResponse.status == ResponseStatus.FINAL))).all()
    return ({p for p, k in rows if k is ResponseKind.MONTHLY},
            {p for p, k in rows if k is ResponseKind.BASELINE})


async def pulse_running(sessions: Sessions, *, now: datetime) -> tuple[date, date] | None:
    """The month and closing day of the workers' survey running now, if one is."""
    async with sessions() as session:
        row = (await session.execute(
            select(SurveyRound.period, SurveyRound.closes_on).where(
                SurveyRound.survey == "pulse", SurveyRound.queued_at.is_not(None),
                SurveyRound.closed_at.is_(None), SurveyRound.closes_at > now)
            .order_by(SurveyRound.period.desc()).limit(1))).first()
    return (row[0], row[1]) if row is not None else None
