"""INSERT ... ON CONFLICT, which SQLAlchemy builds per dialect: the one for this session."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession


def insert_for(session: AsyncSession) -> Any:
    """`insert` of PostgreSQL or SQLite, both with on_conflict_do_nothing/do_update."""
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
