"""The storage layer on the database under test (SQLite here, PostgreSQL in CI)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Base, EnterpriseStatus, MemberRole, User
from db.queries import enterprises as ent_db
from db.queries.users import touch_user
from db.session import create_engine
from domain.join_codes import new_join_code
from tests.clocks import CLOCK_START as NOW

BIG_ID = 7_000_000_000_123  # Telegram ids no longer fit in 32 bits


def _fields(name: str = "PT Uji", city: str = "Bekasi") -> ent_db.EnterpriseFields:
    return ent_db.EnterpriseFields(name=name, sector="auto_parts", sector_other=None,
                                   province="JB", city=city, worker_count=100,
                                   contact_name="Sari", phone="+6281234567890", modules=[1, 3])


async def test_big_telegram_ids_and_utc_times_round_trip(session: AsyncSession) -> None:
    async with session.begin():
        user = await touch_user(session, BIG_ID, language="id", name="X", username="x", now=NOW)
        assert user.name is None  # no consent yet
        user.consent_at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=7)))
    session.expunge_all()
    loaded = await session.get(User, BIG_ID)
    assert loaded is not None
    assert loaded.consent_at == datetime(2026, 1, 1, 20, 4, 5, tzinfo=UTC)
    assert loaded.consent_at.tzinfo is not None and loaded.consent_at.utcoffset() == timedelta(0)
    assert loaded.created_at.tzinfo is not None


async def test_naive_datetimes_are_refused(session: AsyncSession) -> None:
    session.add(User(id=5, language="id", consent_at=datetime(2026, 1, 1)))
    with pytest.raises(Exception, match="naive"):
        await session.flush()


async def test_enterprise_lifecycle(session: AsyncSession) -> None:
    async with session.begin():
        await touch_user(session, BIG_ID, language="id", name=None, username=None, now=NOW)
        enterprise = await ent_db.create_enterprise(session, BIG_ID, _fields(), now=NOW)
        eid = enterprise.id
    async with session.begin():
        assert await ent_db.modules_of(session, eid) == [1, 3]
        assert (await ent_db.owned_enterprise(session, BIG_ID)).id == eid  # type: ignore[union-attr]
        assert [e.id for e in await ent_db.namesakes(session, "pt  UJI", "bekasi")] == [eid]
        approved = await ent_db.decide(session, eid, 1, approve=True, new_code=new_join_code,
                                       now=NOW)
        assert approved is not None and approved.status == EnterpriseStatus.APPROVED
        # A second decision finds nothing pending.
        assert await ent_db.decide(session, eid, 2, approve=False, reason="x", now=NOW) is None
        code = approved.join_code
        assert code and await ent_db.enterprise_by_code(session, code) is not None
    async with session.begin():
        await touch_user(session, 42, language="id", name=None, username=None, now=NOW)
        await ent_db.join(session, 42, eid, MemberRole.WORKER, now=NOW)
        assert await ent_db.member_count(session, eid, MemberRole.WORKER) == 1
        assert await ent_db.leave(session, 42, now=NOW) == 1
        assert await ent_db.member_count(session, eid, MemberRole.WORKER) == 0


async def test_only_one_approved_enterprise_per_name_and_city(session: AsyncSession) -> None:
    """Enrolments still waiting may share a name and city (staff pick the real one); the
    database refuses a second approved one."""
    async with session.begin():
        await touch_user(session, 1, language="id", name=None, username=None, now=NOW)
        first = await ent_db.create_enterprise(session, 1, _fields(), now=NOW)
        second = await ent_db.create_enterprise(session, 1, _fields(name="PT. Uji",
                                                                   city="BEKASI"), now=NOW)
        first_id, second_id = first.id, second.id
        assert await ent_db.decide(session, first_id, 1, approve=True,
                                   new_code=new_join_code, now=NOW) is not None
    with pytest.raises(IntegrityError):
        async with session.begin():
            await ent_db.decide(session, second_id, 1, approve=True, new_code=new_join_code,
                                now=NOW)


async def test_invite_is_used_once(session: AsyncSession) -> None:
    async with session.begin():
        await touch_user(session, 1, language="id", name=None, username=None, now=NOW)
        enterprise = await ent_db.create_enterprise(session, 1, _fields(), now=NOW)
        await ent_db.create_invite(session, enterprise.id, 1, "t" * 20, now=NOW)
    async with session.begin():
        assert await ent_db.use_invite(session, "t" * 20, 2, now=NOW) is not None
        assert await ent_db.use_invite(session, "t" * 20, 3, now=NOW) is None


async def test_migrations_match_the_models(database_url: str) -> None:
    """`alembic check`, in-process: the migrated schema has nothing the models lack."""
    engine = create_engine(database_url)

    def compare(connection):
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, Base.metadata)

    async with engine.connect() as conn:
        diff = await conn.run_sync(compare)
    await engine.dispose()
    assert diff == []
