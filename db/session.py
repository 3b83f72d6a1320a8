"""Engine and session factory: one AsyncSession per update or per job."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

# Connections kept open. The update processor runs up to 64 updates at once, each using one
# session at a time, beside the outbox sender and the job queue. The pool's default (5 kept,
# 10 more opened and closed on demand) had the bot open a new connection for every other
# update under load: a thread and four statements on SQLite, a server process on PostgreSQL.
# Connections are only opened when that many are in use at once.
POOL_SIZE = 20
MAX_OVERFLOW = 20


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """hide_parameters: an error's text must not carry names or phone numbers into the logs."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            # (An in-memory database has a single connection: no pool to size.)
            kwargs.setdefault("pool_size", POOL_SIZE)
            kwargs.setdefault("max_overflow", MAX_OVERFLOW)
        # The pool's own rollback of every returned connection is replaced by _sqlite_reset.
        engine = create_async_engine(url, connect_args={"timeout": 30}, hide_parameters=True,
                                     pool_reset_on_return=None, **kwargs)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            # WAL lets readers and the writer work at once; the busy timeout waits for a lock
            # instead of failing at once; SQLite ignores foreign keys unless told.
            # synchronous=NORMAL: in WAL mode a commit is written to the WAL file but not
            # fsynced; the WAL is synced at checkpoints. A commit survives the bot process
            # being killed (the data is in the operating system's cache), not a power cut or
            # a kernel crash, which can lose the last commits (never corrupt the database).
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        @event.listens_for(engine.sync_engine, "reset")
        def _sqlite_reset(dbapi_conn, record, state):  # type: ignore[no-untyped-def]
            # A returned connection is rolled back only if a transaction is still open:
            # aiosqlite runs each call on its own thread, so even an empty rollback costs a
            # round trip to that thread (after every commit, for one).
            if state.terminate_only or state.transaction_was_reset or not state.asyncio_safe:
                return
            if record.driver_connection.in_transaction:
                dbapi_conn.rollback()

        return engine
    kwargs.setdefault("pool_size", POOL_SIZE)
    kwargs.setdefault("max_overflow", MAX_OVERFLOW)
    return create_async_engine(url, pool_pre_ping=True, hide_parameters=True, **kwargs)


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
