"""What staff's /stats reads: the whole programme counted, in one read-only session (the
survey rounds' tallies through db/survey_stats.py, the broadcasts' delivery through the
outbox's own counts). Nothing here writes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import false, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from db import survey_stats
from db.models import (
    Broadcast,
    Enterprise,
    EventStatus,
    MemberRole,
    Membership,
    ModuleInterest,
    Rsvp,
    User,
    UserStatus,
    Visit,
    Workshop,
    WorkshopInvite,
    WorkshopParticipant,
)
from db.queries import broadcasts as broadcasts_db
from db.queries import outbox as outbox_db
from db.session import Sessions
from domain.programme_stats import Month, StateCounts, months_around, state_counts
from domain.roles import Role

BROADCASTS_SHOWN = 3


@dataclass(frozen=True)
class People:
    """Users of one role (None: no role yet) by whether Telegram still delivers to them."""

    active: int = 0
    blocked: int = 0


@dataclass(frozen=True)
class Workshops:
    """The workshops of a month (by their first day) and what their invitations say;
    answers and people only of the workshops not cancelled."""

    month: Month
    held: int  # begun by now
    coming: int
    cancelled: int
    invited: int  # enterprises
    attending: int
    declined: int
    named: int  # people the enterprises named
    women: int
    attended: int  # people recorded as present


@dataclass(frozen=True)
class Visits:
    month: Month
    done: int  # reported as held
    unreported: int  # its time has passed, the trainer has not answered
    coming: int
    cancelled: int


@dataclass(frozen=True)
class Delivery:
    broadcast: Broadcast
    counts: outbox_db.Counts


@dataclass(frozen=True)
class ProgrammeStats:
    now: datetime
    provinces: dict[str, StateCounts]  # province code -> its enterprises
    modules: dict[int, StateCounts]  # module of interest -> enterprises
    linked_workers: int
    linking_enterprises: int  # enterprises with at least one linked worker
    people: dict[str | None, People]  # role -> users
    rounds: list[survey_stats.RoundTallies]
    workshops: tuple[Workshops, Workshops]  # this month, last month
    visits: tuple[Visits, Visits]
    broadcasts: list[Delivery]

    @property
    def enterprises(self) -> StateCounts:
        return sum(self.provinces.values(), StateCounts())


async def read(sessions: Sessions, *, now: datetime, staff_ids: frozenset[int],
               broadcasts: int = BROADCASTS_SHOWN) -> ProgrammeStats:
    """The programme's numbers at `now`. Staff in STAFF_IDS count as staff whatever their
    stored role, as the gate treats them."""
    this, last = months_around(now)
    async with sessions() as session:
        provinces = await _by_state(session, Enterprise.province)
        modules = await _by_state(session, ModuleInterest.module)
        linked = (await session.execute(
            select(func.count(), func.count(func.distinct(Membership.enterprise_id)))
            .where(Membership.role == MemberRole.WORKER, Membership.left_at.is_(None)))).one()
        people = await _people(session, staff_ids)
        workshops = (await _workshops(session, this, now), await _workshops(session, last, now))
        visits = (await _visits(session, this, now), await _visits(session, last, now))
        deliveries = [Delivery(b, await outbox_db.broadcast_counts(session, b.id))
                      for b in await broadcasts_db.recent(session, broadcasts)]
    rounds = [tallies for round_ in await survey_stats.latest_rounds(sessions)
              if (tallies := await survey_stats.round_tallies(sessions, round_.id))]
    return ProgrammeStats(now, provinces, modules, linked[0], linked[1], people, rounds,
                          workshops, visits, deliveries)


async def _by_state(session: AsyncSession,
                    key: InstrumentedAttribute[Any]) -> dict[Any, StateCounts]:
    """Enterprises counted by `key` (their province, or a module they are interested in)
    and state."""
    query = select(key, Enterprise.status, func.count())
    if key is ModuleInterest.module:
        query = query.select_from(ModuleInterest).join(
            Enterprise, Enterprise.id == ModuleInterest.enterprise_id)
    rows = (await session.execute(query.group_by(key, Enterprise.status))).all()
    found: dict[Any, dict[str, int]] = {}
    for value, state, count in rows:
        found.setdefault(value, {})[state.value] = count
    return {value: state_counts(counts) for value, counts in found.items()}


async def _people(session: AsyncSession, staff_ids: frozenset[int]) -> dict[str | None, People]:
    # Two reads, not a GROUP BY on `id IN (...)`: PostgreSQL would see the list twice.
    listed = User.id.in_(staff_ids) if staff_ids else false()
    rows = [(None if role is None else Role(role).value, status, count)
            for role, status, count in (await session.execute(
                # Not the anonymous placeholders of people who used /forget (negative
                # ids, db/own_data.py): they are nobody.
                select(User.role, User.status, func.count()).where(~listed, User.id > 0)
                .group_by(User.role, User.status))).all()]
    rows += [(Role.STAFF.value, status, count) for status, count in (await session.execute(
        select(User.status, func.count()).where(listed).group_by(User.status))).all()]
    found: dict[str | None, dict[UserStatus, int]] = {}
    for key, status, count in rows:
        by_status = found.setdefault(key, {})
        by_status[UserStatus(status)] = by_status.get(UserStatus(status), 0) + count
    return {key: People(counts.get(UserStatus.ACTIVE, 0), counts.get(UserStatus.BLOCKED, 0))
            for key, counts in found.items()}


async def _workshops(session: AsyncSession, month: Month, now: datetime) -> Workshops:
    in_month = (Workshop.starts_at >= month.start, Workshop.starts_at < month.end)
    cancelled = Workshop.status == EventStatus.CANCELLED
    # Counts with FILTER, not GROUP BY a CASE: PostgreSQL sees `now` twice as two parameters.
    held, coming, dropped = (await session.execute(
        select(func.count().filter(~cancelled, Workshop.starts_at <= now),
               func.count().filter(~cancelled, Workshop.starts_at > now),
               func.count().filter(cancelled)).where(*in_month))).one()
    live = (*in_month, Workshop.status != EventStatus.CANCELLED)
    answers: dict[Rsvp | None, int] = dict((await session.execute(
        select(WorkshopInvite.answer, func.count())
        .join(Workshop, Workshop.id == WorkshopInvite.workshop_id)
        .where(*live).group_by(WorkshopInvite.answer))).all())
    people = (await session.execute(
        select(func.count(), func.count().filter(WorkshopParticipant.sex == "f"),
               func.count().filter(WorkshopParticipant.attended.is_(True)))
        .select_from(WorkshopParticipant)
        .join(WorkshopInvite, WorkshopInvite.id == WorkshopParticipant.invite_id)
        .join(Workshop, Workshop.id == WorkshopInvite.workshop_id)
        .where(*live))).one()
    return Workshops(month, held, coming, dropped, sum(answers.values()),
                     answers.get(Rsvp.ATTEND, 0), answers.get(Rsvp.DECLINE, 0),
                     people[0], people[1], people[2])


async def _visits(session: AsyncSession, month: Month, now: datetime) -> Visits:
    scheduled = Visit.status == EventStatus.SCHEDULED
    done, unreported, coming, cancelled = (await session.execute(
        select(func.count().filter(Visit.status == EventStatus.DONE),
               func.count().filter(scheduled, Visit.starts_at <= now),
               func.count().filter(scheduled, Visit.starts_at > now),
               func.count().filter(Visit.status == EventStatus.CANCELLED))
        .where(Visit.starts_at >= month.start, Visit.starts_at < month.end))).one()
    return Visits(month, done, unreported, coming, cancelled)
