"""What an enterprise gets back from its surveys: its KPI reports over the months with the
baseline, and what it may read of its workers' pulse (noisy totals released once,
domain/owner_totals.py; whether they may be shown is the caller's to ask)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select

from db.models import (
    Enterprise,
    ResponseKind,
    ResponseStatus,
    SurveyResponse,
    SurveyRound,
)
from db.queries.pulse_releases import release_of
from db.queries.surveys import answers_of
from db.session import Sessions
from domain import owner_totals
from domain.kpi_checks import Reference
from domain.questionnaire import Answer


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


async def kpi_reference(sessions: Sessions, enterprise_id: int, period: date, *,
                        baseline: bool) -> Reference:
    """What a KPI report of `period` is compared with (domain/kpi_checks.py): the headcount
    the enterprise enrolled with, the final report of the month before (a monthly one, else
    the baseline entered for that month) and, for a monthly report, its latest baseline."""
    before = (period.replace(day=1) - timedelta(days=1)).replace(day=1)
    async with sessions() as session:
        enrolled = await session.scalar(select(Enterprise.worker_count)
                                        .where(Enterprise.id == enterprise_id))
        final = (SurveyResponse.survey == "kpi", SurveyResponse.enterprise_id == enterprise_id,
                 SurveyResponse.status == ResponseStatus.FINAL)
        rows = (await session.execute(select(SurveyResponse.id, SurveyResponse.kind).where(
            *final, SurveyResponse.period == before))).all()
        # A monthly report of that month before its baseline: it is what the owner saw.
        earlier_id = next((r.id for r in sorted(rows, key=lambda r: r.kind
                                                is not ResponseKind.MONTHLY)), None)
        baseline_id = None if baseline else await session.scalar(
            select(SurveyResponse.id).where(*final, SurveyResponse.kind == ResponseKind.BASELINE)
            .order_by(SurveyResponse.period.desc()).limit(1))
        return Reference(
            enrolled=enrolled,
            earlier_period=before if earlier_id is not None else None,
            earlier=await answers_of(session, earlier_id) if earlier_id is not None else {},
            baseline=await answers_of(session, baseline_id) if baseline_id is not None else {})


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
        return PulseTotals(round_.period,
                           await release_of(session, round_, enterprise_id, now=now))


async def reported_months(sessions: Sessions, enterprise_id: int) -> tuple[set[date], set[date]]:
    """The months of the enterprise's final KPI reports: monthly ones, and baselines."""
    async with sessions() as session:
        rows = (await session.execute(select(SurveyResponse.period, SurveyResponse.kind).where(
            SurveyResponse.survey == "kpi", SurveyResponse.enterprise_id == enterprise_id,
            SurveyResponse.status == ResponseStatus.FINAL))).all()
    return ({p for p, k in rows if k is ResponseKind.MONTHLY},
            {p for p, k in rows if k is ResponseKind.BASELINE})


async def pulse_running(sessions: Sessions, *, now: datetime) -> list[tuple[date, date]]:
    """The month and closing day of each workers' survey running now, oldest month first
    (a month opened late runs beside the current one)."""
    async with sessions() as session:
        rows = (await session.execute(
            select(SurveyRound.period, SurveyRound.closes_on).where(
                SurveyRound.survey == "pulse", SurveyRound.queued_at.is_not(None),
                SurveyRound.closed_at.is_(None), SurveyRound.closes_at > now)
            .order_by(SurveyRound.period))).all()
    return [(row[0], row[1]) for row in rows]
