"""Alembic environment: async, URL from the application's settings, batch mode for SQLite."""

from __future__ import annotations

import asyncio
from logging.config import fileConfig
from typing import Any

from alembic import context
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from db.models import Base
from db.session import create_engine

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logging", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    if url:
        return url
    from config.settings import load_settings

    return load_settings().database_url


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite alters tables by copying them
        compare_type=True,
        # SQLite too: _migration_engine makes its DDL transactional (explicit BEGIN).
        transactional_ddl=True,
    )


def do_run_migrations(connection: Connection) -> None:
    _configure(connection)
    with context.begin_transaction():
        context.run_migrations()
        if connection.dialect.name == "sqlite":
            # With the foreign keys off (below), a migration must leave none broken.
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise RuntimeError(f"the migration left rows with broken references: "
                                   f"{broken[:5]}")


def _migration_engine(url: str) -> AsyncEngine:
    """The application's engine; on SQLite, two changes for migrating.

    Batch mode alters a table by copying it and dropping the old one. With foreign keys on,
    as the application keeps them, that DROP deletes every row referring to the table
    (ON DELETE CASCADE): memberships, answers. SQLite takes `foreign_keys=OFF` only outside
    a transaction, and Python's sqlite3 runs DDL outside one unless told: so the driver's
    own transaction handling is switched off and BEGIN is emitted explicitly, which also
    makes a failing migration roll back whole (as on PostgreSQL) instead of leaving the
    tables half altered. This is SQLAlchemy's documented recipe for pysqlite and aiosqlite.
    """
    engine = create_engine(url)
    if engine.dialect.name != "sqlite":
        return engine

    @event.listens_for(engine.sync_engine, "connect")
    def _for_migrations(dbapi_conn: Any, _record: Any) -> None:
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA foreign_keys=OFF")
        cursor.close()
        dbapi_conn.isolation_level = None

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN")

    return engine


async def run_async_migrations() -> None:
    engine = _migration_engine(_url())
    try:
        async with engine.connect() as connection:
            await connection.run_sync(do_run_migrations)
            await connection.commit()
    finally:
        await engine.dispose()  # also when a migration failed: no connection left open


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True,
                      render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    asyncio.run(run_async_migrations())
