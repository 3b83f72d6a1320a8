"""The engine's settings: SQLite's durability pragma, the pool, and what a returned
connection keeps."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from db.models import AppSecret
from db.session import MAX_OVERFLOW, POOL_SIZE, create_engine
from tests.conftest import POSTGRES_URL


async def test_pool_keeps_enough_connections(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        pool = engine.sync_engine.pool
        assert (pool.size(), pool._max_overflow) == (POOL_SIZE, MAX_OVERFLOW)  # type: ignore[attr-defined]
    finally:
        await engine.dispose()


@pytest.mark.skipif(bool(POSTGRES_URL), reason="SQLite only")
async def test_sqlite_commits_without_fsync_in_wal_mode(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            assert (await conn.scalar(text("PRAGMA journal_mode"))) == "wal"
            assert (await conn.scalar(text("PRAGMA synchronous"))) == 1  # NORMAL
    finally:
        await engine.dispose()


@pytest.mark.skipif(bool(POSTGRES_URL), reason="SQLite only")
async def test_a_connection_returned_in_a_transaction_is_rolled_back(database_url: str) -> None:
    """The pool's rollback on return is skipped when no transaction is open; one still open
    (here opened under SQLAlchemy's nose, on the driver connection) is rolled back."""
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
