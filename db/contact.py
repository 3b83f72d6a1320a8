"""Who wrote to the bot: use cases the gate runs for every update, and the list of who did,
each owning its transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from db.models import GroupChat, User, UserStatus
from db.queries.users import set_blocked, touch_user
from db.session import Sessions, without_transaction


async def user_who_wrote(sessions: Sessions, user_id: int, *, language: str,
                         name: str | None, username: str | None, is_staff: bool,
                         now: datetime) -> User:
    """The user's row, created on first contact and refreshed when something changed."""
    async with sessions() as session:
        # Reads without BEGIN/ROLLBACK round trips (db/session.py): most updates change
        # nothing here.
        await without_transaction(session)
        row = await touch_user(session, user_id, language=language, name=name,
                               username=username, now=now, is_staff=is_staff, flush=False)
        # Most updates only read the row (touch_user changes only what differs): then
        # closing the session ends its transaction, with no commit to wait for.
        if session.new or session.dirty:
            await session.commit()
        return row


async def mark_blocked(sessions: Sessions, user_id: int, blocked: bool) -> None:
    """The user blocked the bot (bulk messages skip them) or unblocked it."""
    async with sessions() as session, session.begin():
        await set_blocked(session, user_id, blocked)


async def first_message_in_group(sessions: Sessions, chat_id: int, *, now: datetime) -> bool:
    """True once per group: the bot says there, once, that it works in private chats."""
    try:
        async with sessions() as session, session.begin():
            if await session.get(GroupChat, chat_id) is not None:
                return False
            session.add(GroupChat(chat_id=chat_id, told_at=now))
    except IntegrityError:
        return False  # another member's message in the same group got there first
    return True


async def chat_users(sessions: Sessions) -> list[tuple[int, str, str]]:
    """(id, name, language) of everyone who has written to the bot and not blocked it (the
    simulator opens their chats: `score-bot simulate`)."""
    async with sessions() as session:
        rows = (await session.execute(select(User.id, User.name, User.language).where(
            User.status == UserStatus.ACTIVE).order_by(User.id))).all()
    return [(user_id, name or f"User{user_id}", language) for user_id, name, language in rows]
