"""Staff give and take roles in the bot: use cases that own their transaction."""

from __future__ import annotations

from dataclasses import dataclass

from db.models import User
from db.queries.users import (
    find_users,
    get_user,
    membership_role,
    revoke_role,
    set_role,
    users_with_role,
)
from db.session import Sessions
from domain.roles import Role


@dataclass(frozen=True)
class RoleHolders:
    fixed: list[User | int]  # STAFF_IDS: a user row once they wrote to the bot, else the id
    promoted: list[User]
    trainers: list[User]


async def role_holders(sessions: Sessions, staff_ids: frozenset[int]) -> RoleHolders:
    async with sessions() as session:
        fixed: list[User | int] = [await get_user(session, sid) or sid for sid in sorted(staff_ids)]
        promoted = [u for u in await users_with_role(session, Role.STAFF) if u.id not in staff_ids]
        trainers = await users_with_role(session, Role.TRAINER)
    return RoleHolders(fixed, promoted, trainers)


async def find_people(sessions: Sessions, typed: str) -> list[User]:
    async with sessions() as session:
        return await find_users(session, typed)


async def people_by_id(sessions: Sessions, ids: list[int]) -> list[User]:
    async with sessions() as session:
        return [u for i in ids if (u := await get_user(session, i)) is not None]


async def person_and_role_after_revoke(sessions: Sessions, user_id: int
                                       ) -> tuple[User | None, Role | None]:
    """The user, and the role their enterprise would leave them with after a revoke."""
    async with sessions() as session:
        user = await get_user(session, user_id)
        after = await membership_role(session, user_id) if user else None
    return user, after


async def change_role(sessions: Sessions, user_id: int, action: str
                      ) -> tuple[User, Role | None, Role | None] | None:
    """Make a trainer or staff, or revoke ("revoke": back to the enterprise's role). Returns
    the user, their role before and after; None for an unknown user."""
    async with sessions() as session, session.begin():
        user = await get_user(session, user_id)
        if user is None:
            return None
        before = user.role
        if action == "revoke":
            after = await revoke_role(session, user_id)
        else:
            after = Role(action)
            await set_role(session, user_id, after)
        return user, before, after
