"""Queries of workshops, their invitations and participants, in the caller's transaction;
and `invite_latecomer`, which the use cases that make an enterprise invitable run (approving
it, recording that it took module 1, a change of its modules)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Select, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import (
    Enterprise,
    EnterpriseStatus,
    EventReminder,
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
from db.queries import event_reminders as planned_db
from db.queries import outbox as outbox_db
from db.results import Stale
from domain.provinces import WIB, by_code
from domain.workshops import FIRST_MODULE, may_answer, needs_first_module

DECIDERS = (MemberRole.OWNER, MemberRole.ADMIN)
EVENT = "workshop"
INVITE = "invite"  # the planned message that carries the invitation, due when it is saved


def took_first_module() -> ColumnElement[bool]:
    """The enterprise (`Enterprise.id`) has taken module 1 (domain/workshops.py): someone it
    named attended a module-1 workshop, or a module-1 visit was done there."""
    attended = (select(WorkshopParticipant.id)
                .join(WorkshopInvite, WorkshopInvite.id == WorkshopParticipant.invite_id)
                .join(Workshop, Workshop.id == WorkshopInvite.workshop_id)
                .where(WorkshopInvite.enterprise_id == Enterprise.id,
                       Workshop.module == FIRST_MODULE,
                       Workshop.status != EventStatus.CANCELLED,
                       WorkshopParticipant.attended.is_(True)))
    visited = select(Visit.id).where(Visit.enterprise_id == Enterprise.id,
                                     Visit.module == FIRST_MODULE,
                                     Visit.status == EventStatus.DONE)
    return or_(exists(attended), exists(visited))


def invitable(module: int, province: str) -> Select[int]:
    """The enterprises a workshop of `module` in `province` invites: approved, interested in
    the module, and for modules after the first, having taken module 1."""
    query = select(Enterprise.id).where(
        Enterprise.status == EnterpriseStatus.APPROVED, Enterprise.province == province,
        exists(select(ModuleInterest.enterprise_id).where(
            ModuleInterest.enterprise_id == Enterprise.id, ModuleInterest.module == module)))
    if needs_first_module(module):
        query = query.where(took_first_module())
    return query.order_by(Enterprise.id)


def deciders(enterprise_ids: Select[int] | Iterable[int]) -> Select[int, str]:
    """(user id, language) of the owners and admins of these enterprises, each once: who
    answers an invitation."""
    ids = enterprise_ids if isinstance(enterprise_ids, Select) else list(enterprise_ids)
    return (select(User.id, User.language).where(
        User.consent_at.is_not(None), User.status == UserStatus.ACTIVE,
        User.id.in_(select(Membership.user_id).where(
            Membership.left_at.is_(None), Membership.role.in_(DECIDERS),
            Membership.enterprise_id.in_(ids)))))


def invited(workshop_id: int, *, answers: Iterable[Rsvp | None] | None = None
            ) -> Select[int]:
    """The enterprises invited to a workshop; with `answers`, only those that answered so
    (None: not answered)."""
    query = select(WorkshopInvite.enterprise_id).where(WorkshopInvite.workshop_id == workshop_id)
    if answers is not None:
        wanted = list(answers)
        given = [a for a in wanted if a is not None]
        conditions = [WorkshopInvite.answer.in_(given)] if given else []
        if None in wanted:
            conditions.append(WorkshopInvite.answer.is_(None))
        query = query.where(or_(*conditions))
    return query


async def decider_place(session: AsyncSession, user_id: int) -> int | None:
    """The enterprise this user answers for (owner or admin, an active membership)."""
    return await session.scalar(select(Membership.enterprise_id).where(
        Membership.user_id == user_id, Membership.left_at.is_(None),
        Membership.role.in_(DECIDERS)))


async def invite_of(session: AsyncSession, workshop_id: int, enterprise_id: int
                    ) -> WorkshopInvite | None:
    return await session.scalar(select(WorkshopInvite).where(
        WorkshopInvite.workshop_id == workshop_id, WorkshopInvite.enterprise_id == enterprise_id))


async def participants(session: AsyncSession, invite_ids: Iterable[int]
                       ) -> list[WorkshopParticipant]:
    ids = list(invite_ids)
    if not ids:
        return []
    return list(await session.scalars(select(WorkshopParticipant).where(
        WorkshopParticipant.invite_id.in_(ids)).order_by(WorkshopParticipant.id)))


# --- inviting an enterprise that qualifies later -------------------------------------------
@dataclass(frozen=True)
class Invitation:
    """A workshop's invitation (and its map pin, when it has one) rendered before the
    transaction that invites an enterprise late, for the workshop as it was (`version`)."""

    workshop_id: int
    version: int
    message: outbox_db.Rendered
    venue: outbox_db.Rendered | None = None


def open_to(enterprise_id: int, now: datetime) -> Select[Workshop]:
    """The workshops an enterprise may still be invited to: scheduled, not started, in its
    province, and not inviting it yet. Whether it qualifies (approved, wanting the module,
    module 1 taken for the later modules) is checked by `invite_latecomer`, in the
    transaction that may make it qualify."""
    return select(Workshop).where(
        Workshop.status == EventStatus.SCHEDULED, Workshop.starts_at > now,
        Workshop.province == select(Enterprise.province).where(
            Enterprise.id == enterprise_id).scalar_subquery(),
        ~exists(select(WorkshopInvite.id).where(
            WorkshopInvite.workshop_id == Workshop.id,
            WorkshopInvite.enterprise_id == enterprise_id))).order_by(Workshop.starts_at)


def _zone(province: str) -> str:
    found = by_code(province)
    return found.timezone if found else WIB


async def invite_latecomer(session: AsyncSession, invitations: Mapping[int, Invitation], *,
                           enterprise_id: int, now: datetime) -> int:
    """An enterprise qualifies for workshops created before it did (staff approved it, it
    took module 1, it added a module): each one it would be invited to now, while answers
    are still open, invites it once (a `workshop_invites` row), and its owners and admins
    get the invitation with its calendar file and map pin, in the workshop's current group.
    When the invitation was not queued yet, the row is enough: it goes to every enterprise
    invited when it is queued. Later reminders reach it as they reach everyone invited.

    Runs in the caller's transaction; the workshops are locked against an edit, and
    `invitations` must hold each as it is now (`db.results.Stale` otherwise: render again).
    Returns the number of workshops it was invited to."""
    invited = 0
    for workshop in await session.scalars(open_to(enterprise_id, now).with_for_update()):
        if not may_answer(workshop.starts_at, _zone(workshop.province), now):
            continue
        qualifies = await session.scalar(invitable(workshop.module, workshop.province).where(
            Enterprise.id == enterprise_id))
        if qualifies is None:
            continue
        found = invitations.get(workshop.id)
        if found is None or found.version != workshop.version:
            raise Stale(f"workshop {workshop.id} is new or changed since it was rendered")
        session.add(WorkshopInvite(workshop_id=workshop.id, enterprise_id=enterprise_id,
                                   invited_at=now))
        invited += 1
        await session.flush()
        if await _invitation_queued(session, workshop.id):
            group = planned_db.group_of(EVENT, workshop.id, workshop.version)
            key = planned_db.key_of(EVENT, workshop.id, workshop.version, INVITE)
            to = deciders([enterprise_id])
            await outbox_db.enqueue_rendered(
                session, found.message, group=group, key=key, to=to, now=now,
                expires_at=workshop.starts_at, priority=outbox_db.REMINDER)
            if found.venue is not None:
                # Queued second: its rows come after the invitation's and wait for them.
                await outbox_db.enqueue_rendered(
                    session, found.venue, group=group, key=f"{key}:venue", to=to, now=now,
                    expires_at=workshop.starts_at, priority=outbox_db.REMINDER)
    return invited


async def _invitation_queued(session: AsyncSession, workshop_id: int) -> bool:
    return await session.scalar(select(EventReminder.id).where(
        EventReminder.event == EVENT, EventReminder.event_id == workshop_id,
        EventReminder.kind == INVITE, EventReminder.queued_at.is_not(None))) is not None
