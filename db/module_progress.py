"""Where an enterprise stands in SCORE, module by module (/modules): read-only.

For each module it takes (its module interests, and any module a visit was planned for): the
workshops it was invited to that were not cancelled, with its answer and how many of its
people attended; the visits done; the next visit still to come. The words are
services/module_progress.py's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Integer, case, func, select

from db.models import (
    Enterprise,
    EnterpriseStatus,
    EventStatus,
    ModuleInterest,
    Rsvp,
    User,
    Visit,
    Workshop,
    WorkshopInvite,
    WorkshopParticipant,
)
from db.session import Sessions


@dataclass(frozen=True)
class WorkshopSeen:
    """A workshop the enterprise was invited to, and how it went for it."""

    starts_at: datetime
    days: int
    province: str  # the workshop's: its time is local there
    city: str
    answer: Rsvp | None
    named: int     # people the enterprise named as coming
    attended: int  # of them, recorded as present
    recorded: bool  # staff or the trainer recorded attendance for its people


@dataclass(frozen=True)
class NextVisit:
    starts_at: datetime
    trainer: str


@dataclass
class ModuleStand:
    module: int
    workshops: list[WorkshopSeen] = field(default_factory=list)  # oldest first
    visits_done: int = 0
    last_visit: datetime | None = None
    next_visit: NextVisit | None = None


@dataclass(frozen=True)
class Stand:
    enterprise_id: int
    name: str
    province: str
    modules: list[ModuleStand]


def _who(name: str | None, username: str | None, user_id: int) -> str:
    return name or (f"@{username}" if username else str(user_id))


async def stand_of(sessions: Sessions, enterprise_id: int, *, now: datetime) -> Stand | None:
    """The enterprise's modules, workshops and visits; None unless it is approved."""
    async with sessions() as session:
        enterprise = await session.get(Enterprise, enterprise_id)
        if enterprise is None or enterprise.status is not EnterpriseStatus.APPROVED:
            return None
        taken = set(await session.scalars(select(ModuleInterest.module).where(
            ModuleInterest.enterprise_id == enterprise_id)))
        present = func.sum(case((WorkshopParticipant.attended.is_(True), 1), else_=0))
        recorded = func.sum(case((WorkshopParticipant.attended.is_not(None), 1), else_=0))
        workshops = (await session.execute(
            select(Workshop.module, Workshop.starts_at, Workshop.days, Workshop.province,
                   Workshop.city, WorkshopInvite.answer,
                   func.count(WorkshopParticipant.id), present.cast(Integer),
                   recorded.cast(Integer))
            .join(WorkshopInvite, WorkshopInvite.workshop_id == Workshop.id)
            .outerjoin(WorkshopParticipant, WorkshopParticipant.invite_id == WorkshopInvite.id)
            .where(WorkshopInvite.enterprise_id == enterprise_id,
                   Workshop.status != EventStatus.CANCELLED)
            .group_by(Workshop.id, WorkshopInvite.id)
            .order_by(Workshop.starts_at, Workshop.id))).all()
        done = (await session.execute(
            select(Visit.module, func.count(), func.max(Visit.starts_at))
            .where(Visit.enterprise_id == enterprise_id, Visit.status == EventStatus.DONE)
            .group_by(Visit.module))).all()
        coming = (await session.execute(
            select(Visit.module, Visit.starts_at, User.name, User.username, User.id)
            .join(User, User.id == Visit.trainer_id)
            .where(Visit.enterprise_id == enterprise_id,
                   Visit.status == EventStatus.SCHEDULED, Visit.starts_at > now)
            .order_by(Visit.starts_at, Visit.id))).all()
    modules = {m: ModuleStand(m) for m in sorted(
        taken | {r[0] for r in done} | {r[0] for r in coming})}
    for module, starts_at, days, province, city, answer, named, attended, marked in workshops:
        if module in modules:  # invited to a module it no longer takes: not its path
            modules[module].workshops.append(WorkshopSeen(
                starts_at, days, province, city, answer, named, attended or 0,
                bool(marked)))
    for module, count, last in done:
        modules[module].visits_done = count
        modules[module].last_visit = last
    for module, starts_at, name, username, user_id in coming:
        if modules[module].next_visit is None:
            modules[module].next_visit = NextVisit(starts_at, _who(name, username, user_id))
    return Stand(enterprise.id, enterprise.name, enterprise.province, list(modules.values()))
