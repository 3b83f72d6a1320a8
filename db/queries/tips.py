"""Queries of good-practice tips: the library (shipped and staff's own), who received which,
their feedback, who turned the weekly tip off. They run in the caller's transaction."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import case, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.dialect_insert import insert_for
from db.models import (
    Membership,
    ModuleInterest,
    SurveyRound,
    Tip,
    TipFeedback,
    TipOptOut,
    TipSend,
    TrainerAssignment,
    User,
    UserStatus,
)
from domain.modules import MODULES
from domain.tip_rules import Candidate, ShippedTip


@dataclass(frozen=True)
class Loaded:
    added: int
    updated: int


async def load_shipped(session: AsyncSession, shipped: Sequence[ShippedTip], *,
                       now: datetime) -> Loaded:
    """Shipped tips into the library: new keys are added; a tip staff have not edited takes
    the shipped text, module and audience; a tip staff edited, retired or made is left as
    it is."""
    stored = {t.key: t for t in await session.scalars(select(Tip).where(Tip.key.is_not(None)))}
    added = updated = 0
    for tip in shipped:
        row = stored.get(tip.key)
        if row is None:
            session.add(Tip(key=tip.key, module=tip.module, audience=tip.audience,
                            text_id=tip.text["id"], text_en=tip.text["en"], created_at=now,
                            updated_at=now))
            added += 1
        elif row.edited_at is None and (row.text_id, row.text_en, row.module, row.audience) != (
                tip.text["id"], tip.text["en"], tip.module, tip.audience):
            row.text_id, row.text_en = tip.text["id"], tip.text["en"]
            row.module, row.audience, row.updated_at = tip.module, tip.audience, now
            updated += 1
    await session.flush()
    return Loaded(added, updated)


def _order_key(tip_id: int, key: str | None) -> str:
    return key or f"staff-{tip_id}"


async def candidates(session: AsyncSession, modules: Iterable[int],
                     audience: str) -> list[Candidate]:
    """The tips in use for these modules and this audience."""
    rows = await session.execute(select(Tip.id, Tip.key).where(
        Tip.retired_at.is_(None), Tip.module.in_(sorted(set(modules))),
        Tip.audience == audience).order_by(Tip.id))
    return [Candidate(tip_id, _order_key(tip_id, key)) for tip_id, key in rows]


async def last_sent(session: AsyncSession, user_ids: Sequence[int]
                    ) -> dict[int, dict[int, datetime]]:
    """For each user, when they last received each tip they received."""
    found: dict[int, dict[int, datetime]] = defaultdict(dict)
    if not user_ids:
        return found
    rows = await session.execute(
        select(TipSend.user_id, TipSend.tip_id, func.max(TipSend.sent_at))
        .where(TipSend.user_id.in_(user_ids)).group_by(TipSend.user_id, TipSend.tip_id))
    for user_id, tip_id, at in rows:
        found[user_id][tip_id] = at
    return found


async def modules_of(session: AsyncSession, user_ids: Sequence[int]) -> dict[int, set[int]]:
    """The modules each user's tips come from: those their enterprise is interested in (a
    member's), or the enterprises they support (a trainer's); all modules without one."""
    found: dict[int, set[int]] = defaultdict(set)
    if user_ids:
        members = (select(Membership.user_id, ModuleInterest.module)
                   .join(ModuleInterest,
                         ModuleInterest.enterprise_id == Membership.enterprise_id)
                   .where(Membership.user_id.in_(user_ids), Membership.left_at.is_(None)))
        trainers = (select(TrainerAssignment.trainer_id, ModuleInterest.module)
                    .join(ModuleInterest,
                          ModuleInterest.enterprise_id == TrainerAssignment.enterprise_id)
                    .where(TrainerAssignment.trainer_id.in_(user_ids)))
        for statement in (members, trainers):
            for user_id, module in await session.execute(statement):
                found[user_id].add(module)
    return {user_id: found.get(user_id) or set(MODULES) for user_id in user_ids}


async def record_send(session: AsyncSession, user_id: int, tip_id: int, *, via: str,
                      now: datetime, week: str | None = None) -> None:
    session.add(TipSend(user_id=user_id, tip_id=tip_id, via=via, week=week, sent_at=now))
    await session.flush()


async def was_sent(session: AsyncSession, user_id: int, tip_id: int) -> bool:
    return await session.scalar(select(TipSend.id).where(
        TipSend.user_id == user_id, TipSend.tip_id == tip_id).limit(1)) is not None


async def set_feedback(session: AsyncSession, user_id: int, tip_id: int, useful: bool, *,
                       now: datetime) -> None:
    """One answer per person and tip: a second one replaces the first."""
    statement = insert_for(session)(TipFeedback).values(user_id=user_id, tip_id=tip_id,
                                                        useful=useful, answered_at=now)
    await session.execute(statement.on_conflict_do_update(
        index_elements=["user_id", "tip_id"],
        set_={"useful": statement.excluded.useful,
              "answered_at": statement.excluded.answered_at}))


async def feedback_of(session: AsyncSession, user_id: int, tip_id: int) -> bool | None:
    return await session.scalar(select(TipFeedback.useful).where(
        TipFeedback.user_id == user_id, TipFeedback.tip_id == tip_id))


async def weekly_off(session: AsyncSession, user_id: int) -> bool:
    return await session.get(TipOptOut, user_id) is not None


async def set_weekly(session: AsyncSession, user_id: int, on: bool, *, now: datetime) -> None:
    if on:
        await session.execute(delete(TipOptOut).where(TipOptOut.user_id == user_id))
    else:
        await session.execute(insert_for(session)(TipOptOut).values(user_id=user_id, since=now)
                              .on_conflict_do_nothing(index_elements=["user_id"]))


# --- the weekly tip ------------------------------------------------------------------------

@dataclass(frozen=True)
class Reader:
    """Someone the weekly tip may go to: who, and the role that decides its audience."""

    user_id: int
    role: str | None


async def weekly_readers(session: AsyncSession, week: str, *, staff_ids: frozenset[int],
                         after: int = 0, limit: int = 500) -> list[Reader]:
    """Users (ids above `after`, in order) who agreed, have a role, are not blocked, have
    not turned the weekly tip off and have not had this week's: one batch."""
    sent = select(TipSend.user_id).where(TipSend.week == week)
    rows = await session.execute(
        select(User.id, User.role).where(
            User.id > after, User.consent_at.is_not(None), User.status == UserStatus.ACTIVE,
            User.role.is_not(None) | User.id.in_(sorted(staff_ids)),
            User.id.not_in(select(TipOptOut.user_id)), User.id.not_in(sent))
        .order_by(User.id).limit(limit))
    return [Reader(user_id, "staff" if user_id in staff_ids else (role.value if role else None))
            for user_id, role in rows]


async def pulse_openings(session: AsyncSession, since: date, until: date) -> list[date]:
    """The days pulse rounds open on between `since` and `until` (a moved round: its new
    day)."""
    return list(await session.scalars(select(SurveyRound.opens_on).where(
        SurveyRound.survey == "pulse", SurveyRound.opens_on >= since,
        SurveyRound.opens_on <= until)))


# --- staff's view --------------------------------------------------------------------------

async def tips_of_module(session: AsyncSession, module: int) -> list[Tip]:
    return list(await session.scalars(select(Tip).where(Tip.module == module).order_by(
        Tip.retired_at.is_not(None), Tip.audience, Tip.id)))


@dataclass(frozen=True)
class Usefulness:
    tip: Tip
    sent: int
    useful: int
    not_useful: int


async def usefulness(session: AsyncSession) -> list[Usefulness]:
    """Every tip that has feedback, with its counts."""
    votes = (select(TipFeedback.tip_id,
                    func.sum(case((TipFeedback.useful, 1), else_=0)).label("yes"),
                    func.sum(case((TipFeedback.useful, 0), else_=1)).label("no"))
             .group_by(TipFeedback.tip_id).subquery())
    sends = (select(TipSend.tip_id, func.count().label("sent"))
             .group_by(TipSend.tip_id).subquery())
    rows = await session.execute(
        select(Tip, func.coalesce(sends.c.sent, 0), votes.c.yes, votes.c.no)
        .join(votes, votes.c.tip_id == Tip.id)
        .outerjoin(sends, sends.c.tip_id == Tip.id))
    return [Usefulness(tip, sent, int(yes), int(no)) for tip, sent, yes, no in rows]


async def library_counts(session: AsyncSession) -> dict[int, int]:
    """Tips in use per module."""
    rows = await session.execute(select(Tip.module, func.count()).where(
        Tip.retired_at.is_(None)).group_by(Tip.module))
    return {module: count for module, count in rows}
