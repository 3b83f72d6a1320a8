"""The gate's note of a user who writes: the row is read on every update, written only when
something in it changes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import event, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import User, UserStatus
from db.queries.users import SEEN_PRECISION, touch_user
from tests.clocks import CLOCK_START as NOW

USER = 5001


async def _touch(session: AsyncSession, **changes: Any) -> tuple[User, list[str]]:
    """touch_user as the gate calls it, and the statements that wrote the users table."""
    written: list[str] = []

    def seen(_conn, _cursor, statement: str, *_args) -> None:
        if statement.lstrip().upper().startswith(("INSERT", "UPDATE")):
            written.append(statement)

    engine = session.bind.sync_engine  # type: ignore[union-attr]
    event.listen(engine, "before_cursor_execute", seen)
    try:
        async with session.begin():
            user = await touch_user(session, USER, language="id", flush=False, now=NOW,
                                    **{"name": "Sari", "username": "sari", **changes})
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    session.expunge_all()
    return user, written


async def test_a_second_update_writes_nothing(session: AsyncSession) -> None:
    user, written = await _touch(session)
    assert len(written) == 1 and user.name is None  # created; no consent yet, no name
    user, written = await _touch(session)
    assert written == []
    assert user.last_seen_at == NOW


async def test_last_seen_moves_once_it_is_an_hour_old(session: AsyncSession) -> None:
    await _touch(session)
    old = NOW - SEEN_PRECISION - timedelta(minutes=1)
    async with session.begin():
        await session.execute(update(User).values(last_seen_at=old))
    user, written = await _touch(session)
    assert len(written) == 1 and user.last_seen_at == NOW


async def test_a_blocked_user_who_writes_is_active_again(session: AsyncSession) -> None:
    await _touch(session)
    async with session.begin():
        await session.execute(update(User).values(status=UserStatus.BLOCKED))
    user, written = await _touch(session)
    assert len(written) == 1 and user.status == UserStatus.ACTIVE


async def test_a_consenting_users_new_name_is_kept(session: AsyncSession) -> None:
    await _touch(session)
    async with session.begin():
        await session.execute(update(User).values(consent_at=NOW))
    user, written = await _touch(session)
    assert len(written) == 1 and (user.name, user.username) == ("Sari", "sari")
    user, written = await _touch(session)
    assert written == []
    user, written = await _touch(session, name="Sari W.", username=None)
    assert len(written) == 1 and (user.name, user.username) == ("Sari W.", None)
