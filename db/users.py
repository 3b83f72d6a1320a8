"""Queries about users: first contact, language, consent, role, blocked state."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Role, User, UserStatus
from db.types import utcnow


async def touch_user(session: AsyncSession, user_id: int, *, language: str,
                     name: str | None, username: str | None, is_staff: bool = False) -> User:
    """Get the user, creating them on first contact, and note that they wrote to us.

    Name and username are kept only once the user consented (UU PDP): before that, a row
    holds nothing but the Telegram id and the language. Project staff are named in what
    they decide, so their names are kept from the start.
    """
    user = await session.get(User, user_id)
    now = utcnow()
    if user is None:
        user = User(id=user_id, language=language, status=UserStatus.ACTIVE, created_at=now,
                    last_seen_at=now)
        session.add(user)
    else:
        user.last_seen_at = now
        # Writing to the bot means they no longer block it.
        user.status = UserStatus.ACTIVE
    if user.consent_at is not None or is_staff:
        user.name = name[:200] if name else None
        user.username = username
    await session.flush()
    return user


async def get_user(session: AsyncSession, user_id: int) -> User | None:
    return await session.get(User, user_id)


async def set_language(session: AsyncSession, user_id: int, language: str) -> None:
    await session.execute(update(User).where(User.id == user_id).values(language=language))


async def give_consent(session: AsyncSession, user_id: int, *, name: str | None,
                       username: str | None) -> None:
    await session.execute(update(User).where(User.id == user_id).values(
        consent_at=utcnow(), consent_declined_at=None, name=name[:200] if name else None,
        username=username))


async def decline_consent(session: AsyncSession, user_id: int) -> None:
    await session.execute(update(User).where(User.id == user_id).values(
        consent_declined_at=utcnow()))


async def set_role(session: AsyncSession, user_id: int, role: Role) -> None:
    await session.execute(update(User).where(User.id == user_id).values(role=role))


async def set_blocked(session: AsyncSession, user_id: int, blocked: bool) -> None:
    status = UserStatus.BLOCKED if blocked else UserStatus.ACTIVE
    await session.execute(update(User).where(User.id == user_id).values(status=status))


async def display_name(session: AsyncSession, user_id: int) -> str:
    name = await session.scalar(select(User.name).where(User.id == user_id))
    return name or str(user_id)
