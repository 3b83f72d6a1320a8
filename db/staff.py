"""Who is staff: STAFF_IDS from the configuration plus users promoted in the bot."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Role, User


async def all_staff(session: AsyncSession, configured: frozenset[int]) -> list[User | int]:
    """Every staff member: their user row when we have one, else just their id."""
    promoted = list(await session.scalars(select(User).where(User.role == Role.STAFF)))
    known = {u.id for u in promoted}
    for staff_id in sorted(configured - known):
        promoted.append(await session.get(User, staff_id) or staff_id)  # type: ignore[arg-type]
    return promoted
