"""Staff decide on enrolments: use cases that own their transaction."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db import enterprises as ent_db
from db.models import Enterprise, EnterpriseStatus, User
from db.users import get_user
from domain.join_codes import new_join_code

Sessions = async_sessionmaker[AsyncSession]


Decided = Callable[[AsyncSession, Enterprise, User | None], Awaitable[None]]


async def decide_enrolment(sessions: Sessions, enterprise_id: int, staff_id: int, *,
                           approve: bool, reason: str | None = None,
                           then: Decided | None = None) -> tuple[Enterprise, User | None] | None:
    """Approve (a join code is drawn) or reject a pending enterprise. None when it is no
    longer pending: another staff member decided first. `then` runs inside the same
    transaction (queueing the owner's news): the decision and its news commit together."""
    async with sessions() as session, session.begin():
        enterprise = await ent_db.decide(session, enterprise_id, staff_id, approve=approve,
                                         reason=reason, new_code=new_join_code)
        if enterprise is None:
            return None
        owner = await get_user(session, enterprise.owner_id) if enterprise.owner_id else None
        if then is not None:
            await then(session, enterprise, owner)
        return enterprise, owner


async def pending_enterprise(sessions: Sessions, enterprise_id: int) -> Enterprise | None:
    async with sessions() as session:
        enterprise = await ent_db.get_enterprise(session, enterprise_id)
    return enterprise if enterprise and enterprise.status == EnterpriseStatus.PENDING else None


async def pending_with_modules(sessions: Sessions, *, limit: int
                               ) -> list[tuple[Enterprise, list[int]]]:
    async with sessions() as session:
        return [(e, await ent_db.modules_of(session, e.id))
                for e in await ent_db.pending_enterprises(session, limit=limit)]
