"""Who is staff: the ids in STAFF_IDS plus users whose stored role is staff (promoted with
/staff). The one definition; everything that reaches "all staff" asks here."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Role, User


async def staff_ids(session: AsyncSession, fixed: frozenset[int]) -> list[int]:
    """Every staff member's Telegram id, sorted; `fixed` is STAFF_IDS from the settings."""
    promoted = await session.scalars(select(User.id).where(User.role == Role.STAFF))
    return sorted(set(fixed) | set(promoted))


async def all_staff(session: AsyncSession, fixed: frozenset[int]) -> list[User | int]:
    """Every staff member: their user row when we have one, else just their id."""
    ids = await staff_ids(session, fixed)
    rows = {u.id: u for u in await session.scalars(select(User).where(User.id.in_(ids)))}
    return [rows.get(i, i) for i in ids]
