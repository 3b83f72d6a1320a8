"""The persistence writes only what changed, and never skips a write the database needs."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import delete, event, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.persistence import REFRESH, DbPersistence
from chat.clock import FakeClock
from db.models import UserDraft
from db.session import create_engine, create_sessionmaker
from tests.clocks import CLOCK_START as NOW
from tests.clocks import virtual_clock

# Draft expiry, the join lock, scheduled sends: `make test-dates` runs these at several instants.
pytestmark = pytest.mark.dates

USER = 3001
OTHER = 3002
DRAFT = {"nonce": "n1", "step": "e_name", "enrol": {"name": "PT Satu"}}


@pytest.fixture
async def maker(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(database_url)
    yield create_sessionmaker(engine)
    await engine.dispose()


class Writes:
    """Statements that write the persistence's table, as the database receives them."""

    def __init__(self, maker: async_sessionmaker[AsyncSession]):
        self.statements: list[str] = []
        event.listen(maker.kw["bind"].sync_engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn, _cursor, statement: str, *_args) -> None:
        if statement.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")) and (
                "user_drafts" in statement):
            self.statements.append(statement)

    def take(self) -> list[str]:
        taken, self.statements = self.statements, []
        return taken


async def _started(maker: async_sessionmaker[AsyncSession],
                   clock: FakeClock | None = None) -> DbPersistence:
    """As PTB starts it: everything loaded before the first update."""
    persistence = DbPersistence(maker, clock or virtual_clock())
    await persistence.get_user_data()
    return persistence


async def _row(maker: async_sessionmaker[AsyncSession], user_id: int) -> UserDraft | None:
    async with maker() as session:
        return await session.get(UserDraft, user_id)


async def test_unchanged_data_is_not_written_again(maker: async_sessionmaker[AsyncSession]) -> None:
    persistence = await _started(maker)
    writes = Writes(maker)
    await persistence.update_user_data(USER, copy.deepcopy(DRAFT))
    await persistence.commit()
    assert len(writes.take()) == 1  # one upsert
    # The next update hands over the same values (PTB does after every update).
    await persistence.update_user_data(USER, copy.deepcopy(DRAFT))
    # A user who never had a draft hands over an empty one: no row, nothing to delete.
    await persistence.update_user_data(OTHER, {})
    await persistence.commit()
    assert writes.take() == []
    # A changed answer is written.
    await persistence.update_user_data(USER, {**DRAFT, "step": "e_sector"})
    await persistence.commit()
    assert [s.split()[2] for s in writes.take()] == ["user_drafts"]
    row = await _row(maker, USER)
    assert row is not None and row.data["step"] == "e_sector"


async def test_several_users_go_in_one_statement(
        maker: async_sessionmaker[AsyncSession]) -> None:
    persistence = await _started(maker)
    writes = Writes(maker)
    for user_id in range(4001, 4011):
        await persistence.update_user_data(user_id, {"nonce": str(user_id)})
    await persistence.commit()
    assert len(writes.take()) == 1
    async with maker() as session:
        assert len((await session.scalars(select(UserDraft))).all()) == 10
    for user_id in range(4001, 4006):
        await persistence.drop_user_data(user_id)
    await persistence.commit()
    assert len(writes.take()) == 1
    async with maker() as session:
        assert len((await session.scalars(select(UserDraft))).all()) == 5


async def test_an_unchanged_row_is_rewritten_after_an_hour(
        maker: async_sessionmaker[AsyncSession]) -> None:
    """The 14-day purge reads updated_at: a draft in use must not age while unchanged."""
    clock = virtual_clock()
    persistence = await _started(maker, clock)
    await persistence.update_user_data(USER, copy.deepcopy(DRAFT))
    await persistence.commit()
    first = await _row(maker, USER)
    await clock.sleep((REFRESH - timedelta(minutes=1)).total_seconds())
    await persistence.update_user_data(USER, copy.deepcopy(DRAFT))
    await persistence.commit()
    assert (await _row(maker, USER)).updated_at == first.updated_at  # type: ignore[union-attr]
    await clock.sleep(timedelta(minutes=2).total_seconds())
    await persistence.update_user_data(USER, copy.deepcopy(DRAFT))
    await persistence.commit()
    assert (await _row(maker, USER)).updated_at == clock.now()  # type: ignore[union-attr]


@pytest.mark.parametrize("change", ["delete", "update", "insert"])
async def test_a_write_by_other_code_is_not_taken_for_ours(
        maker: async_sessionmaker[AsyncSession], change: str) -> None:
    """Code that writes the table itself (db/queries/drafts.py inside a handler's transaction)
    makes the persistence write the live values again, even unchanged ones."""
    persistence = await _started(maker)
    await persistence.update_user_data(USER, copy.deepcopy(DRAFT))
    await persistence.commit()
    async with maker() as session, session.begin():
        if change == "delete":
            await session.execute(delete(UserDraft))
        elif change == "update":
            await session.execute(update(UserDraft).values(data={"stale": True}))
        else:  # a draft for a user the persistence knows has none
            session.add(UserDraft(user_id=OTHER, data={"stale": True}, updated_at=NOW))
    await persistence.update_user_data(USER, copy.deepcopy(DRAFT))
    await persistence.update_user_data(OTHER, {})
    await persistence.commit()
    row = await _row(maker, USER)
    assert row is not None and row.data == DRAFT
    async with maker() as session:
        assert await session.get(UserDraft, OTHER) is None


async def test_a_failed_commit_is_written_by_the_next(
        maker: async_sessionmaker[AsyncSession]) -> None:
    persistence = await _started(maker)
    await persistence.update_user_data(USER, copy.deepcopy(DRAFT))
    engine = maker.kw["bind"].sync_engine

    def fail(*_args: object) -> None:
        raise RuntimeError("the database went away")

    event.listen(engine, "before_cursor_execute", fail)
    with pytest.raises(Exception, match="went away"):
        await persistence.commit()
    event.remove(engine, "before_cursor_execute", fail)
    assert await _row(maker, USER) is None
    await persistence.commit()
    row = await _row(maker, USER)
    assert row is not None and row.data == DRAFT


async def test_a_loaded_draft_changed_in_place_is_written(
        maker: async_sessionmaker[AsyncSession]) -> None:
    """After a restart, handlers change the loaded draft in place (context.draft): what the
    persistence remembers of the row must not change with it."""
    first = await _started(maker)
    await first.update_user_data(USER, copy.deepcopy(DRAFT))
    await first.commit()
    restarted = DbPersistence(maker, virtual_clock())
    live = await restarted.get_user_data()
    live[USER]["enrol"]["name"] = "PT Dua"
    # PTB hands over a deep copy of the live data after the update.
    await restarted.update_user_data(USER, copy.deepcopy(live[USER]))
    await restarted.commit()
    row = await _row(maker, USER)
    assert row is not None and row.data["enrol"]["name"] == "PT Dua"
