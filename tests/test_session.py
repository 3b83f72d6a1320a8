"""The engine's settings: SQLite's journal, the pool, which commits and rollbacks reach
the database, and which pooled connections are checked before use."""

from __future__ import annotations

import aiosqlite
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from db import session as session_module
from db.models import AppSecret
from db.session import MAX_OVERFLOW, POOL_SIZE, create_engine, create_sessionmaker
from tests.conftest import POSTGRES_URL


async def test_pool_keeps_enough_connections(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        pool = engine.sync_engine.pool
        assert (pool.size(), pool._max_overflow) == (POOL_SIZE, MAX_OVERFLOW)  # type: ignore[attr-defined]
    finally:
        await engine.dispose()


@pytest.mark.skipif(bool(POSTGRES_URL), reason="SQLite only")
async def test_sqlite_is_in_wal_mode_and_fsyncs_every_commit(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            assert (await conn.scalar(text("PRAGMA journal_mode"))) == "wal"
            assert (await conn.scalar(text("PRAGMA synchronous"))) == 2  # FULL
    finally:
        await engine.dispose()


@pytest.mark.skipif(bool(POSTGRES_URL), reason="SQLite only")
async def test_only_open_transactions_are_ended(database_url: str,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Each commit or rollback is a round trip to aiosqlite's thread: a session that only
    read makes none, one that wrote commits once."""
    ended: list[str] = []
    for name in ("commit", "rollback"):
        original = getattr(aiosqlite.Connection, name)

        async def noted(self, _name=name, _original=original):
            ended.append(_name)
            return await _original(self)

        monkeypatch.setattr(aiosqlite.Connection, name, noted)
    engine = create_engine(database_url)
    maker = create_sessionmaker(engine)
    try:
        async with maker() as session:
            assert await session.get(AppSecret, "none") is None
        async with maker() as session, session.begin():
            assert await session.get(AppSecret, "none") is None
        assert ended == []
        async with maker() as session, session.begin():
            session.add(AppSecret(name="kept", value="v"))
        assert ended == ["commit"]
        ended.clear()
        with pytest.raises(RuntimeError):
            async with maker() as session, session.begin():
                session.add(AppSecret(name="dropped", value="v"))
                await session.flush()
                raise RuntimeError("the handler failed")
        assert ended == ["rollback"]
        async with maker() as session:
            assert await session.get(AppSecret, "kept") is not None
            assert await session.get(AppSecret, "dropped") is None
    finally:
        await engine.dispose()


@pytest.mark.skipif(bool(POSTGRES_URL), reason="SQLite only")
async def test_a_connection_returned_in_a_transaction_is_rolled_back(database_url: str) -> None:
    """The pool's rollback on return happens when a transaction is still open (here one
    opened under SQLAlchemy's nose, on the driver connection)."""
    engine = create_engine(database_url, pool_size=1, max_overflow=0)
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
            await conn.commit()  # SQLAlchemy's transaction is over: nothing for it to undo
            raw = await conn.get_raw_connection()
            await raw.driver_connection.execute(  # type: ignore[union-attr]
                "INSERT INTO app_secrets (name, value) VALUES ('left', 'open')")
            assert raw.driver_connection.in_transaction  # type: ignore[union-attr]
        async with engine.connect() as conn:  # the same connection (pool of one)
            raw = await conn.get_raw_connection()
            assert not raw.driver_connection.in_transaction  # type: ignore[union-attr]
            assert (await conn.scalar(text(
                f"SELECT count(*) FROM {AppSecret.__tablename__}"))) == 0
    finally:
        await engine.dispose()


@pytest.mark.skipif(not POSTGRES_URL, reason="PostgreSQL only")
@pytest.mark.parametrize("idle", [True, False], ids=["idle", "busy"])
async def test_a_dropped_idle_connection_is_replaced_before_use(
        database_url: str, monkeypatch: pytest.MonkeyPatch, idle: bool) -> None:
    """A connection idle for PING_IDLE is checked at checkout, a busy one is not: the cost
    written in db/session.py, one failed statement after the server dropped it."""
    monkeypatch.setattr(session_module, "PING_IDLE", 0.0 if idle else 3600.0)
    engine = create_engine(database_url, pool_size=1, max_overflow=0)
    other = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            pid = await conn.scalar(text("SELECT pg_backend_pid()"))
        async with other.connect() as conn:
            await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            await conn.commit()
        if idle:
            async with engine.connect() as conn:
                assert await conn.scalar(text("SELECT pg_backend_pid()")) != pid
        else:
            with pytest.raises(DBAPIError):
                async with engine.connect() as conn:
                    await conn.scalar(text("SELECT pg_backend_pid()"))
            async with engine.connect() as conn:  # the pool replaced it
                assert await conn.scalar(text("SELECT pg_backend_pid()")) != pid
    finally:
        await engine.dispose()
        await other.dispose()
