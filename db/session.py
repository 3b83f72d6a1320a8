"""Engine and session factory: one AsyncSession per update or per job."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from sqlalchemy import event, exc
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

# Connections kept open. The update processor runs up to 64 updates at once, each using one
# session at a time, beside the outbox sender and the job queue. With the pool's default (5
# kept, 10 more opened and closed on demand) the bot opened a new connection every few
# updates under load: a thread and four statements on SQLite, a server process on
# PostgreSQL. Connections are only opened when that many are in use at once.
POOL_SIZE = 20
MAX_OVERFLOW = 20
# PostgreSQL: a pooled connection idle this long is checked before use (seconds).
PING_IDLE = 10.0


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """hide_parameters: an error's text must not carry names or phone numbers into the logs."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            # (An in-memory database has a single connection: no pool to size.)
            kwargs.setdefault("pool_size", POOL_SIZE)
            kwargs.setdefault("max_overflow", MAX_OVERFLOW)
        engine = create_async_engine(url, connect_args={"timeout": 30}, hide_parameters=True,
                                     **kwargs)
        _skip_idle_transaction_ends(engine)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            # WAL lets readers and the writer work at once; the busy timeout waits for a lock
            # instead of failing at once; SQLite ignores foreign keys unless told.
            # synchronous stays FULL (every commit fsynced): NORMAL measured no faster here
            # (docs/benchmarks.md) and would lose the last commits in a power cut.
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    kwargs.setdefault("pool_size", POOL_SIZE)
    kwargs.setdefault("max_overflow", MAX_OVERFLOW)
    engine = create_async_engine(url, hide_parameters=True, **kwargs)
    _ping_idle_connections(engine)
    return engine


def _ping_idle_connections(engine: AsyncEngine) -> None:
    """PostgreSQL: check a pooled connection before use only when it sat idle for PING_IDLE.

    SQLAlchemy's pool_pre_ping checks every checkout, and asyncpg's ping is three round
    trips (BEGIN, an empty query, ROLLBACK): more than the query it guards, on every update.
    Connections unused for a while are the ones a firewall or the server may have dropped;
    they are still checked, and a dead one is replaced before anyone uses it. The cost: when
    PostgreSQL restarts, a connection used within the last PING_IDLE is not checked, so the
    first statement on it fails (the update gets the error handler's apology; a failed
    commit after an update stays buffered for the next one), and SQLAlchemy then replaces
    every pooled connection.
    """
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "checkin")
    def _idle_from(_dbapi_conn: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(sync_engine, "checkout")
    def _check(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < PING_IDLE:
            return
        try:
            sync_engine.dialect.do_ping(dbapi_conn)
        except Exception as error:
            # The pool drops this connection and takes (or opens) another.
            raise exc.DisconnectionError("a pooled connection is gone") from error


async def without_transaction(session: AsyncSession) -> None:
    """PostgreSQL: run this session's statements each on its own (autocommit), sparing the
    BEGIN and ROLLBACK round trips around a session that reads a row and rarely writes one
    (the gate). Call it before the session's first statement. SQLite needs nothing: sqlite3
    opens no transaction for reads, and a round trip to change that would cost more."""
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


def _skip_idle_transaction_ends(engine: AsyncEngine) -> None:
    """SQLite: no commit or rollback when no transaction is open.

    Python's sqlite3 opens a transaction only before a write, so a session that only read
    (the gate, most of the time), a pooled connection being returned, or a commit after
    reads has none to end; sqlite3 then does nothing anyway. But aiosqlite runs every call
    on the connection's own thread, and that round trip costs more than the query.
    """
    dialect = engine.sync_engine.dialect
    commit, rollback = dialect.do_commit, dialect.do_rollback

    def in_transaction(dbapi_conn: Any) -> bool:
        driver = getattr(dbapi_conn, "driver_connection", None)
        return driver is None or driver.in_transaction

    def do_commit(dbapi_conn: Any) -> None:
        if in_transaction(dbapi_conn):
            commit(dbapi_conn)

    def do_rollback(dbapi_conn: Any) -> None:
        if in_transaction(dbapi_conn):
            rollback(dbapi_conn)

    # Replaced on this engine's dialect instance only: no subclass of a SQLAlchemy dialect.
    dialect.do_commit = do_commit  # type: ignore[method-assign,assignment]
    dialect.do_rollback = do_rollback  # type: ignore[method-assign,assignment]


# What a use case opens its transactions with: one name for it, everywhere.
Sessions = async_sessionmaker[AsyncSession]


def create_sessionmaker(engine: AsyncEngine) -> Sessions:
    return async_sessionmaker(engine, expire_on_commit=False)
