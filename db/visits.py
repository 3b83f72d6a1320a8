"""The use cases of trainer visits (/visit new, the trainer's answer after a visit, /visits):
each owns its transaction, and what it must tell people (rendered before it, as data) is
queued in the same commit, with the visit's planned reminders (db/queries/event_reminders).

Whether the person acting may act is checked here, on the locked row: only the visit's
trainer answers "Did the visit happen?", and only for the date they were asked about.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Enterprise, EnterpriseStatus, EventStatus, Role, User, Visit
from db.queries import event_reminders as planned_db
from db.queries import visits as visits_q
from db.queries.enterprises import approved_by_name, modules_of
from db.queries.outbox import REMINDER, Rendered, enqueue_rendered
from db.queries.workshops import Invitation, invite_latecomer
from db.session import Sessions
from domain.event_schedule import visit_reminders
from domain.visits import zone_of

EVENT = "visit"


def news_group(visit_id: int) -> str:
    """Notices that go at once (not bulk): "a trainer comes on ...", a move, a cancel."""
    return f"visit-news:{visit_id}"


@dataclass(frozen=True)
class VisitInfo:
    """A visit as the texts about it need it."""

    id: int
    enterprise_id: int
    enterprise: str
    city: str
    province: str
    trainer_id: int
    trainer: str
    module: int
    starts_at: datetime
    status: EventStatus
    version: int
    report_done: str | None = None
    report_next_steps: str | None = None
    eit_met: bool | None = None
    cancel_reason: str | None = None

    @property
    def zone(self) -> str:
        return zone_of(self.province)


def _who(user: User) -> str:
    return user.name or (f"@{user.username}" if user.username else str(user.id))


def _info(visit: Visit, enterprise: Enterprise, trainer: User) -> VisitInfo:
    return VisitInfo(visit.id, enterprise.id, enterprise.name, enterprise.city,
                     enterprise.province, trainer.id, _who(trainer), visit.module,
                     visit.starts_at, visit.status, visit.version, visit.report_done,
                     visit.report_next_steps, visit.eit_met, visit.cancel_reason)


def _joined() -> Select[Visit, Enterprise, User]:
    return (select(Visit, Enterprise, User)
            .join(Enterprise, Enterprise.id == Visit.enterprise_id)
            .join(User, User.id == Visit.trainer_id))


async def visit(sessions: Sessions, visit_id: int) -> VisitInfo | None:
    async with sessions() as session:
        row = (await session.execute(_joined().where(Visit.id == visit_id))).first()
    return _info(row[0], row[1], row[2]) if row is not None else None


# --- choosing what to schedule -------------------------------------------------------------
async def find_enterprises(sessions: Sessions, text: str, *, trainer_id: int | None,
                           limit: int = 8) -> list[Enterprise]:
    """Approved enterprises by part of their name: any for staff, a trainer's own
    (`trainer_id`) for a trainer."""
    async with sessions() as session:
        if trainer_id is None:
            return await approved_by_name(session, text, limit=limit)
        return await visits_q.assigned_by_name(session, trainer_id, text, limit=limit)


@dataclass(frozen=True)
class Choices:
    """An approved enterprise, its trainers and the modules it is interested in."""

    enterprise: Enterprise
    trainers: list[User]
    modules: list[int]


async def choices(sessions: Sessions, enterprise_id: int) -> Choices | None:
    async with sessions() as session:
        enterprise = await session.get(Enterprise, enterprise_id)
        if enterprise is None or enterprise.status is not EnterpriseStatus.APPROVED:
            return None
        return Choices(enterprise, await visits_q.assigned_trainers(session, enterprise_id),
                       await modules_of(session, enterprise_id))


# --- scheduling ----------------------------------------------------------------------------
@dataclass(frozen=True)
class NewVisit:
    enterprise_id: int
    trainer_id: int
    module: int
    starts_at: datetime


class Refusal(str, enum.Enum):
    """Why a visit could not be scheduled or answered for."""

    GONE = "gone"                  # no such visit, or its enterprise is no longer approved
    NOT_ASSIGNED = "not_assigned"  # the trainer is not (or no longer) assigned to it
    NOT_YOURS = "not_yours"        # someone else's visit
    CANCELLED = "cancelled"
    REPORTED = "reported"
    MOVED = "moved"                # the question was about a date the visit no longer has
    NOT_YET = "not_yet"            # "it happened" before its time


async def schedule(sessions: Sessions, new: NewVisit, *, by: int, now: datetime,
                   owner_news: Rendered, trainer_news: Rendered | None) -> int | Refusal:
    """Store the visit, plan its reminders, and tell its owner and admins (and the trainer,
    when someone else scheduled it), in one commit; the visit's id."""
    async with sessions() as session, session.begin():
        enterprise = await session.get(Enterprise, new.enterprise_id)
        if enterprise is None or enterprise.status is not EnterpriseStatus.APPROVED:
            return Refusal.GONE
        if not await visits_q.is_assigned(session, new.trainer_id, new.enterprise_id):
            return Refusal.NOT_ASSIGNED
        row = Visit(enterprise_id=new.enterprise_id, trainer_id=new.trainer_id,
                    module=new.module, starts_at=new.starts_at, status=EventStatus.SCHEDULED,
                    version=0, created_by=by, created_at=now, updated_at=now)
        session.add(row)
        await session.flush()
        await planned_db.plan(session, EVENT, row.id, 0,
                              visit_reminders(new.starts_at, zone_of(enterprise.province),
                                              now=now), now=now)
        await _tell(session, row, owner_news, "scheduled", now=now)
        if trainer_news is not None and by != new.trainer_id:
            await enqueue_rendered(session, trainer_news, group=news_group(row.id),
                                   key=f"{news_group(row.id)}:v0:trainer",
                                   to=new.trainer_id, now=now, priority=REMINDER)
        return row.id


async def _tell(session: AsyncSession, row: Visit, news: Rendered, what: str, *,
                now: datetime) -> int:
    told = await visits_q.owners_and_admins(session, row.enterprise_id)
    if not told:
        return 0
    return await enqueue_rendered(session, news, group=news_group(row.id),
                                  key=f"{news_group(row.id)}:v{row.version}:{what}", to=told,
                                  now=now, priority=REMINDER)


# --- the trainer's answer after the visit --------------------------------------------------
def _refusal(row: Visit | None, version: int, trainer_id: int) -> Refusal | None:
    if row is None:
        return Refusal.GONE
    if row.trainer_id != trainer_id:
        return Refusal.NOT_YOURS
    if row.status is EventStatus.CANCELLED:
        return Refusal.CANCELLED
    if row.status is EventStatus.DONE:
        return Refusal.REPORTED
    if row.version != version:
        return Refusal.MOVED
    return None


async def check(sessions: Sessions, visit_id: int, version: int,
                trainer_id: int) -> Refusal | None:
    """Whether this trainer may still answer for this visit as it was dated (`version`)."""
    async with sessions() as session:
        return _refusal(await session.get(Visit, visit_id), version, trainer_id)


@dataclass(frozen=True)
class Report:
    done: str
    next_steps: str
    eit_met: bool


async def report(sessions: Sessions, visit_id: int, version: int, trainer_id: int,
                 given: Report, *, now: datetime, owner_news: Rendered,
                 invitations: Mapping[int, Invitation] | None = None) -> Refusal | None:
    """The visit happened: its report is stored, what was still planned for it dropped
    (asking again), and its owner and admins get the next steps. A module-1 visit done
    makes the enterprise one that took module 1: the workshops of the later modules
    planned already invite it (`invitations`, rendered before)."""
    async with sessions() as session, session.begin():
        row = await visits_q.locked_visit(session, visit_id)
        refused = _refusal(row, version, trainer_id)
        if refused is not None:
            return refused
        assert row is not None
        if row.starts_at > now:
            return Refusal.NOT_YET
        row.status, row.report_done, row.report_next_steps = (
            EventStatus.DONE, given.done, given.next_steps)
        row.eit_met, row.reported_by, row.reported_at, row.updated_at = (
            given.eit_met, trainer_id, now, now)
        await planned_db.unplan(session, EVENT, row.id, row.version, now=now)
        await _tell(session, row, owner_news, "report", now=now)
        if invitations is not None:
            await session.flush()
            await invite_latecomer(session, invitations, enterprise_id=row.enterprise_id,
                                   now=now)
    return None


async def reschedule(sessions: Sessions, visit_id: int, version: int, trainer_id: int,
                     starts_at: datetime, *, now: datetime,
                     owner_news: Rendered) -> Refusal | None:
    """The visit moves: its reminders are planned again for the new date (a new version,
    so nothing of the old date goes), and its owner and admins are told."""
    async with sessions() as session, session.begin():
        row = await visits_q.locked_visit(session, visit_id)
        refused = _refusal(row, version, trainer_id)
        if refused is not None:
            return refused
        assert row is not None
        enterprise = await session.get(Enterprise, row.enterprise_id)
        assert enterprise is not None
        old = row.version
        row.version, row.starts_at, row.updated_at = old + 1, starts_at, now
        await planned_db.replan(session, EVENT, row.id, old_version=old, new_version=old + 1,
                                planned=visit_reminders(starts_at, zone_of(enterprise.province),
                                                        now=now), now=now)
        await _tell(session, row, owner_news, "moved", now=now)
    return None


async def cancel(sessions: Sessions, visit_id: int, version: int, trainer_id: int,
                 reason: str, *, now: datetime, owner_news: Rendered) -> Refusal | None:
    """The visit will not happen: its reason kept, what was planned dropped, the owner and
    admins told."""
    async with sessions() as session, session.begin():
        row = await visits_q.locked_visit(session, visit_id)
        refused = _refusal(row, version, trainer_id)
        if refused is not None:
            return refused
        assert row is not None
        row.status, row.cancel_reason, row.cancelled_at, row.updated_at = (
            EventStatus.CANCELLED, reason, now, now)
        await planned_db.unplan(session, EVENT, row.id, row.version, now=now)
        await _tell(session, row, owner_news, "cancelled", now=now)
    return None


async def told_of(sessions: Sessions, enterprise_id: int) -> list[int]:
    """Who hears of a visit on the enterprise's behalf: its owner and admins."""
    async with sessions() as session:
        return await visits_q.owners_and_admins(session, enterprise_id)


# --- /visits -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Listing:
    upcoming: list[VisitInfo]
    unreported: list[VisitInfo]


async def listing(sessions: Sessions, *, now: datetime, trainer_ids: Sequence[int] | None = None,
                  enterprise_ids: Sequence[int] | None = None, province: str | None = None,
                  limit: int = 15) -> Listing:
    """Scheduled visits ahead (soonest first) and those whose time passed without a report
    (oldest first), narrowed to trainers, enterprises or a province."""
    query = _joined().where(Visit.status == EventStatus.SCHEDULED)
    if trainer_ids is not None:
        query = query.where(Visit.trainer_id.in_(list(trainer_ids)))
    if enterprise_ids is not None:
        query = query.where(Visit.enterprise_id.in_(list(enterprise_ids)))
    if province is not None:
        query = query.where(Enterprise.province == province)
    async with sessions() as session:
        ahead = (await session.execute(query.where(Visit.starts_at > now)
                                       .order_by(Visit.starts_at, Visit.id).limit(limit))).all()
        passed = (await session.execute(query.where(Visit.starts_at <= now)
                                        .order_by(Visit.starts_at, Visit.id).limit(limit))).all()
    return Listing([_info(r[0], r[1], r[2]) for r in ahead],
                   [_info(r[0], r[1], r[2]) for r in passed])


async def told_enterprises(sessions: Sessions, user_id: int) -> list[int]:
    async with sessions() as session:
        return await visits_q.told_enterprises(session, user_id)


async def trainers_named(sessions: Sessions, text: str, limit: int = 10) -> list[User]:
    """Users with the trainer role, or who have had visits, whose name contains `text`."""
    key = " ".join(text.split()).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    async with sessions() as session:
        return list(await session.scalars(
            select(User).where(or_(User.role == Role.TRAINER,
                                   User.id.in_(select(Visit.trainer_id))),
                               User.name.ilike(f"%{key}%", escape="\\")
                               if key else User.id.is_not(None))
            .order_by(User.name, User.id).limit(limit)))
