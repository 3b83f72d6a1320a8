"""Queries about trainer visits and who hears of them, in the caller's transaction."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import (
    Enterprise,
    EnterpriseStatus,
    MemberRole,
    Membership,
    Role,
    TrainerAssignment,
    User,
    Visit,
)
from db.queries.enterprises import name_key

# Who is told of a visit on the enterprise's behalf.
TOLD = (MemberRole.OWNER, MemberRole.ADMIN)


async def owners_and_admins(session: AsyncSession, enterprise_id: int) -> list[int]:
    """The enterprise's owner and admins (still members): told who comes and when."""
    return list((await session.scalars(select(Membership.user_id).where(
        Membership.enterprise_id == enterprise_id, Membership.left_at.is_(None),
        Membership.role.in_(TOLD)).order_by(Membership.user_id))).all())


async def is_assigned(session: AsyncSession, trainer_id: int, enterprise_id: int) -> bool:
    """Whether staff assigned this trainer (still a trainer) to the enterprise."""
    return await session.scalar(
        select(TrainerAssignment.trainer_id)
        .join(User, User.id == TrainerAssignment.trainer_id)
        .where(TrainerAssignment.trainer_id == trainer_id,
               TrainerAssignment.enterprise_id == enterprise_id,
               User.role == Role.TRAINER)) is not None


async def assigned_by_name(session: AsyncSession, trainer_id: int, text: str,
                           limit: int = 8) -> list[Enterprise]:
    """The approved enterprises assigned to the trainer whose name contains `text` (all of
    them for an empty text)."""
    query = (select(Enterprise)
             .join(TrainerAssignment, TrainerAssignment.enterprise_id == Enterprise.id)
             .where(TrainerAssignment.trainer_id == trainer_id,
                    Enterprise.status == EnterpriseStatus.APPROVED))
    key = name_key(text)
    if key:
        query = query.where(Enterprise.name_key.contains(key, autoescape=True))
    return list(await session.scalars(query.order_by(Enterprise.name_key, Enterprise.id)
                                      .limit(limit)))


async def assigned_trainers(session: AsyncSession, enterprise_id: int) -> list[User]:
    """The trainers assigned to the enterprise who still have the trainer role, by name."""
    return list(await session.scalars(
        select(User).join(TrainerAssignment, TrainerAssignment.trainer_id == User.id)
        .where(TrainerAssignment.enterprise_id == enterprise_id, User.role == Role.TRAINER)
        .order_by(User.name, User.id)))


async def told_enterprises(session: AsyncSession, user_id: int) -> list[int]:
    """The approved enterprises this person owns or administers."""
    return list((await session.scalars(
        select(Membership.enterprise_id)
        .join(Enterprise, Enterprise.id == Membership.enterprise_id)
        .where(Membership.user_id == user_id, Membership.left_at.is_(None),
               Membership.role.in_(TOLD),
               Enterprise.status == EnterpriseStatus.APPROVED))).all())


async def locked_visit(session: AsyncSession, visit_id: int) -> Visit | None:
    """The visit, locked until the caller's commit (two presses of one button)."""
    return await session.scalar(select(Visit).where(Visit.id == visit_id).with_for_update())
