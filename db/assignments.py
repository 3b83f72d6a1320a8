"""Which trainers staff assigned to which enterprise: reading and changing it (/trainers).
What an assignment lets a trainer do is in db/surveys.places_of."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select

from db.models import Enterprise, EnterpriseStatus, Role, TrainerAssignment, User
from db.queries.enterprises import approved_by_name
from db.queries.outbox import Outgoing, enqueue_outgoing
from db.queries.users import users_with_role
from db.session import Sessions


@dataclass(frozen=True)
class Assigned:
    enterprise: Enterprise
    trainers: list[User]


async def find_approved(sessions: Sessions, text: str, limit: int = 8) -> list[Enterprise]:
    """Approved enterprises whose name contains `text` (one more than `limit` tells that
    there are more)."""
    async with sessions() as session:
        return await approved_by_name(session, text, limit=limit)


async def enterprises_by_id(sessions: Sessions, ids: list[int]) -> list[Enterprise]:
    """The enterprises of these ids that still exist, in the order given."""
    async with sessions() as session:
        found = {e.id: e for e in await session.scalars(
            select(Enterprise).where(Enterprise.id.in_(ids)))}
    return [found[i] for i in ids if i in found]


async def assigned_to(sessions: Sessions, enterprise_id: int) -> Assigned | None:
    """An approved enterprise and its trainers, by name."""
    async with sessions() as session:
        enterprise = await session.get(Enterprise, enterprise_id)
        if enterprise is None or enterprise.status is not EnterpriseStatus.APPROVED:
            return None
        trainers = list(await session.scalars(
            select(User).join(TrainerAssignment, TrainerAssignment.trainer_id == User.id)
            .where(TrainerAssignment.enterprise_id == enterprise_id)
            .order_by(User.name, User.id)))
    return Assigned(enterprise, trainers)


async def trainers(sessions: Sessions, limit: int = 30) -> list[User]:
    """Users with the trainer role, by name."""
    async with sessions() as session:
        return await users_with_role(session, Role.TRAINER, limit=limit)


async def is_trainer(sessions: Sessions, user_id: int) -> bool:
    async with sessions() as session:
        user = await session.get(User, user_id)
    return user is not None and user.role is Role.TRAINER


async def assign_trainer(sessions: Sessions, trainer_id: int, enterprise_id: int, *,
                         staff_id: int, now: datetime, notice: Outgoing | None = None) -> bool:
    """Assign the trainer, and queue `notice` (telling them) in the same commit: False, and
    nothing queued, when the trainer was assigned to it already."""
    async with sessions() as session, session.begin():
        if await session.get(TrainerAssignment, (trainer_id, enterprise_id)) is not None:
            return False
        session.add(TrainerAssignment(trainer_id=trainer_id, enterprise_id=enterprise_id,
                                      assigned_by=staff_id, assigned_at=now))
        if notice is not None:
            await enqueue_outgoing(session, notice, now=now)
        return True


async def unassign_trainer(sessions: Sessions, trainer_id: int, enterprise_id: int) -> bool:
    async with sessions() as session, session.begin():
        result = await session.execute(delete(TrainerAssignment).where(
            TrainerAssignment.trainer_id == trainer_id,
            TrainerAssignment.enterprise_id == enterprise_id))
        return bool(getattr(result, "rowcount", 0))
