"""Queries of workshops, their invitations and participants, in the caller's transaction."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import ColumnElement, Select, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import (
    Enterprise,
    EnterpriseStatus,
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
from domain.workshops import FIRST_MODULE, needs_first_module

DECIDERS = (MemberRole.OWNER, MemberRole.ADMIN)


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
