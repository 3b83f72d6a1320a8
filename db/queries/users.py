"""Queries about users: first contact, language, consent, role, blocked state."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Membership, Role, User, UserStatus

# How stale `last_seen_at` may get before an update writes it again. It serves "active within
# N days" (db/queries/audience.py); writing it on every update made every update a write
# transaction.
SEEN_PRECISION = timedelta(hours=1)


async def touch_user(session: AsyncSession, user_id: int, *, language: str,
                     name: str | None, username: str | None, now: datetime,
                     is_staff: bool = False, flush: bool = True) -> User:
    """Get the user, creating them on first contact, and note that they wrote to us.

    Name and username are kept only once the user consented (UU PDP): before that, a row
    holds nothing but the Telegram id and the language. Project staff are named in what
    they decide, so their names are kept from the start.

    Most updates change nothing here, and then nothing is written: `last_seen_at` moves only
    when it is more than SEEN_PRECISION old, status, name and username only when they differ.
    `flush`: write what changed at once, so that rows added later in the same transaction
    may refer to a new user. Without it, the caller's commit writes it; `session.new` and
    `session.dirty` tell whether there is anything to commit.
    """
    user = await session.get(User, user_id)
    if user is None:
        user = User(id=user_id, language=language, status=UserStatus.ACTIVE, created_at=now,
                    last_seen_at=now)
        session.add(user)
    else:
        if user.last_seen_at is None or now - user.last_seen_at >= SEEN_PRECISION:
            user.last_seen_at = now
        if user.status != UserStatus.ACTIVE:
            # Writing to the bot means they no longer block it.
            user.status = UserStatus.ACTIVE
    if user.consent_at is not None or is_staff:
        kept_name = name[:200] if name else None
        if user.name != kept_name:
            user.name = kept_name
        if user.username != username:
            user.username = username
    if flush and (session.new or session.dirty):
        await session.flush()
    return user


async def get_user(session: AsyncSession, user_id: int) -> User | None:
    return await session.get(User, user_id)


async def set_language(session: AsyncSession, user_id: int, language: str) -> None:
    await session.execute(update(User).where(User.id == user_id).values(language=language))


async def give_consent(session: AsyncSession, user_id: int, *, name: str | None,
                       username: str | None, now: datetime) -> None:
    await session.execute(update(User).where(User.id == user_id).values(
        consent_at=now, consent_declined_at=None, name=name[:200] if name else None,
        username=username))


async def decline_consent(session: AsyncSession, user_id: int, *, now: datetime) -> None:
    await session.execute(update(User).where(User.id == user_id).values(
        consent_declined_at=now))


async def set_role(session: AsyncSession, user_id: int, role: Role) -> None:
    await session.execute(update(User).where(User.id == user_id).values(role=role))


def typed_id(text: str | None) -> int | None:
    """A Telegram id as staff type it; "²" and other non-ASCII digits are not one."""
    value = (text or "").strip()
    if not (value.isascii() and value.isdigit()):
        return None
    # Telegram ids fit in 64 bits; a longer number is no one (and would overflow).
    return int(value) if int(value) < 2 ** 63 else None


async def find_users(session: AsyncSession, text: str | None, limit: int = 5) -> list[User]:
    """Users by Telegram id ("123456") or username ("@sari" or "sari"), as staff type it.
    A username can be held by two stored users (one changed it, another took it)."""
    value = (text or "").strip()
    if (user_id := typed_id(value)) is not None:
        user = await session.get(User, user_id)
        return [user] if user else []
    username = value.removeprefix("@")
    if not username or len(username) > 64 or not username.isascii():
        return []
    return list(await session.scalars(select(User).where(
        func.lower(User.username) == username.lower()).order_by(User.last_seen_at.desc())
        .limit(limit)))


async def membership_role(session: AsyncSession, user_id: int) -> Role | None:
    """The role a user has through their active membership (owner, admin, worker), if any."""
    member = await session.scalar(
        select(Membership).where(Membership.user_id == user_id, Membership.left_at.is_(None))
        .order_by(Membership.id.desc()).limit(1))
    return Role(member.role.value) if member is not None else None


async def revoke_role(session: AsyncSession, user_id: int) -> Role | None:
    """Take away a role given by staff: back to what their enterprise makes them, or none."""
    role = await membership_role(session, user_id)
    await session.execute(update(User).where(User.id == user_id).values(role=role))
    return role


async def users_with_role(session: AsyncSession, role: Role, limit: int = 30) -> list[User]:
    return list(await session.scalars(select(User).where(User.role == role)
                                      .order_by(User.name, User.id).limit(limit)))


async def set_blocked(session: AsyncSession, user_id: int, blocked: bool) -> None:
    status = UserStatus.BLOCKED if blocked else UserStatus.ACTIVE
    await session.execute(update(User).where(User.id == user_id).values(status=status))


async def display_name(session: AsyncSession, user_id: int) -> str:
    name = await session.scalar(select(User.name).where(User.id == user_id))
    return name or str(user_id)

