"""What an enterprise may read of a closed pulse round: its release, made once (noisy totals
of its eligible workers' answers, domain/owner_totals.py) and kept."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import func, or_, select
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
from domain import owner_totals
from domain.questionnaire import load


async def release_of(session: AsyncSession, round_: SurveyRound, enterprise_id: int, *,
                     now: datetime) -> owner_totals.Release:
    """The round's release for the enterprise, made and stored if it has none yet."""
    stored = await _stored(session, round_.id, enterprise_id)
    if stored is None:
        made = await _made(session, round_, enterprise_id)
        await session.execute(insert_for(session)(PulseRelease).values(
            round_id=round_.id, enterprise_id=enterprise_id, responses=made.responses,
            exact_responses=made.exact_responses, counts=made.counts, epsilon=made.epsilon,
            members=made.members, released_at=now)
            .on_conflict_do_nothing(index_elements=["round_id", "enterprise_id"]))
        # Another look at the same moment released it first: theirs is the one.
        stored = await _stored(session, round_.id, enterprise_id)
    assert stored is not None
    return stored


async def release_all(session: AsyncSession, round_: SurveyRound, *, now: datetime) -> None:
    """A release for every enterprise the round has answers from: made while the answers
    still name who gave them (whether they count is who had joined when)."""
    answered = (await session.scalars(select(SurveyResponse.enterprise_id).where(
        SurveyResponse.survey == round_.survey, SurveyResponse.period == round_.period,
        SurveyResponse.kind == ResponseKind.MONTHLY,
        SurveyResponse.status == ResponseStatus.FINAL).distinct())).all()
    for enterprise_id in sorted(answered):
        await release_of(session, round_, enterprise_id, now=now)


async def _stored(session: AsyncSession, round_id: int,
                  enterprise_id: int) -> owner_totals.Release | None:
    row = await session.scalar(select(PulseRelease).where(
        PulseRelease.round_id == round_id, PulseRelease.enterprise_id == enterprise_id))
    if row is None:
        return None
    return owner_totals.Release(responses=row.responses, counts=row.counts,
                                exact_responses=row.exact_responses, epsilon=row.epsilon,
                                members=row.members)


async def _made(session: AsyncSession, round_: SurveyRound,
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
    opened = round_.queued_at
    members = await session.scalar(select(func.count()).select_from(Membership).where(
        Membership.enterprise_id == enterprise_id, Membership.role == MemberRole.WORKER,
        Membership.since <= opened,
        or_(Membership.left_at.is_(None), Membership.left_at > opened))) or 0
    return owner_totals.release(owner_totals.choices_of(load("pulse")), counts, responses,
                                members=members)
