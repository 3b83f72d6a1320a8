"""Migrations on a database that holds data, on SQLite and PostgreSQL: a table SQLite's batch
mode copies (migration 0009 rebuilds `enterprises`) keeps every row that refers to it, both
ways; a migration that fails part-way leaves the database as it was."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import func, inspect, select, text

from db.migrate import alembic_config
from db.models import Base, MemberRole, Role
from db.queries import enterprises as enterprises_db
from db.queries import users as users_db
from db.session import create_engine, create_sessionmaker
from domain.join_codes import new_join_code
from tests.clocks import CLOCK_START as NOW
from tests.conftest import POSTGRES_URL

VIEWS = {"kpi_responses", "pulse_responses", "kpi_rates", "pulse_aggregates"}


@pytest.fixture
def url(migrated_template: str, tmp_path: Path) -> str:
    if POSTGRES_URL:
        asyncio.run(_empty(POSTGRES_URL))
        return POSTGRES_URL
    path = tmp_path / "migrations.db"
    shutil.copy(migrated_template, path)
    return f"sqlite+aiosqlite:///{path}"


async def _empty(url: str) -> None:
    engine = create_engine(url)
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    async with engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    await engine.dispose()


async def _seed(url: str, *, namesakes: bool = False) -> None:
    """An approved enterprise with its owner and a worker (or, with `namesakes`, two waiting
    enrolments of the same name and city, which only the new schema allows)."""
    engine = create_engine(url)
    async with create_sessionmaker(engine)() as session, session.begin():
        for owner in (1001, 1002) if namesakes else (1001,):
            await users_db.touch_user(session, owner, language="id", name="Sari", username=None,
                                      now=NOW)
            await users_db.give_consent(session, owner, name="Sari", username=None, now=NOW)
            await users_db.set_role(session, owner, Role.OWNER)
            fields = enterprises_db.EnterpriseFields(
                name="PT Maju Jaya", sector="auto_parts", sector_other=None, province="JB",
                city="Bekasi", worker_count=120, contact_name="Sari",
                phone="+6281234567890", modules=[1, 5])
            created = await enterprises_db.create_enterprise(session, owner, fields, now=NOW)
        if not namesakes:
            await enterprises_db.decide(session, created.id, 9001, approve=True, reason=None,
                                        new_code=new_join_code, now=NOW)
            await users_db.touch_user(session, 2001, language="id", name="Ani", username=None,
                                      now=NOW)
            await enterprises_db.join(session, 2001, created.id, MemberRole.WORKER, now=NOW)
    await engine.dispose()


async def _rows(url: str) -> dict[str, int]:
    """The rows of each table the models know and the database has (at an old revision, the
    newer tables do not exist yet)."""
    engine = create_engine(url)
    async with engine.connect() as conn:
        present = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
        counts = {t.name: (await conn.scalar(select(func.count()).select_from(t))) or 0
                  for t in Base.metadata.sorted_tables if t.name in present}
    await engine.dispose()
    return counts


async def _state(url: str) -> tuple[str | None, set[str]]:
    """The revision the database says it is at, and its tables and views."""
    engine = create_engine(url)
    async with engine.connect() as conn:
        revision = await conn.scalar(text("SELECT version_num FROM alembic_version"))
        names = await conn.run_sync(lambda c: set(inspect(c).get_table_names())
                                    | set(inspect(c).get_view_names()))
    await engine.dispose()
    return revision, names


def test_rows_that_refer_to_a_copied_table_survive_both_ways(url: str) -> None:
    config = alembic_config(url)
    command.downgrade(config, "0008")
    asyncio.run(_seed(url))
    before = asyncio.run(_rows(url))
    assert before["memberships"] == 2 and before["module_interests"] == 2
    command.upgrade(config, "head")
    # The same rows; tables new since 0008 come empty.
    after = asyncio.run(_rows(url))
    assert {t: n for t, n in after.items() if t in before} == before
    assert {n for t, n in after.items() if t not in before} <= {0}
    command.downgrade(config, "0008")
    assert asyncio.run(_rows(url)) == before
    command.upgrade(config, "head")
    assert asyncio.run(_rows(url)) == after


def test_a_downgrade_that_fails_leaves_the_database_as_it_was(url: str) -> None:
    # Two waiting enrolments of one name and city: the old unique key cannot come back.
    asyncio.run(_seed(url, namesakes=True))
    revision, names = asyncio.run(_state(url))
    with pytest.raises(Exception, match="(?i)unique"):
        command.downgrade(alembic_config(url), "0008")
    assert asyncio.run(_state(url)) == (revision, names)
    assert VIEWS <= names and not any(n.startswith("_alembic_tmp") for n in names)
    assert asyncio.run(_rows(url))["enterprises"] == 2
