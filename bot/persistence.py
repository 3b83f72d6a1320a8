"""PTB persistence on our own database: conversation states and drafts (user_data).

PTB calls the `update_*` methods concurrently (asyncio.gather), so they only buffer; `commit()`
writes everything buffered in one transaction. The update processor calls it right after each
update is handled, so a restart, clean or hard, resumes at the step the user last reached.
PTB's own periodic flush (60 s) would lose up to a minute of answers.

Only what changed is written. PTB hands over a user's data after every update of theirs,
changed or not (most updates of a user without a draft hand over an empty dict), and a
ConversationHandler hands over its state whenever a callback returns one, often the same.
The persistence remembers what the database holds for each key, and writes a key only when
its value differs, or when its row was last written more than `REFRESH` ago: the 14-day purge
reads `updated_at`, so a draft that a user keeps touching without changing must not age.
What is written goes as one upsert (or one delete) per table for the whole commit, without
reading the rows first.

That memory is only right while the persistence is the only writer of the two tables. Code
that writes them itself (`db/drafts.py` inside a handler's transaction, the purge job, a
test) makes the persistence forget what it knew, so the next commit of each key writes it
again: an engine event watches every statement on the persistence's engine for the tables'
names.
"""

from __future__ import annotations

import asyncio
import copy
import functools
import json
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Executable, Table, delete, event, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection
from telegram.ext import BasePersistence, PersistenceInput
from telegram.ext._utils.types import ConversationDict, ConversationKey

from chat.clock import Clock
from chat.context import BotData, ChatData, UserData
from db.drafts import conversation_key
from db.models import ConversationState, UserDraft
from db.session import Sessions
from domain.drafts import DRAFT_LIFETIME

# A row unchanged for this long is written again anyway, to move its `updated_at`.
REFRESH = timedelta(hours=1)

_DELETE = object()  # buffered: the key goes
_ABSENT = object()  # known: the database has no row for the key
_UNKNOWN = object()  # the database may hold anything for the key
_OURS = "score_persistence"  # execution option marking the persistence's own statements
_TABLES = (ConversationState.__tablename__, UserDraft.__tablename__)

_StateKey = tuple[str, str]  # (conversation name, stored key)


def _key_to_str(key: ConversationKey) -> str:
    return conversation_key(*key)  # type: ignore[arg-type]


def _key_from_str(text: str) -> ConversationKey:
    return tuple(json.loads(text))


class _Stored:
    """What the database holds for each key, as far as this process knows, and when the row
    was written: a value, `_ABSENT` (no row), or `_UNKNOWN`. A key not listed has no row when
    `complete` (everything was loaded at start-up), else it is unknown."""

    def __init__(self) -> None:
        self.rows: dict[Any, tuple[object, datetime | None]] = {}
        self.complete = False

    def needs_write(self, key: Any, value: object, now: datetime) -> bool:
        stored, written_at = self.rows.get(key, (_ABSENT if self.complete else _UNKNOWN, None))
        if stored is _UNKNOWN:
            return True
        if value is _DELETE:
            return stored is not _ABSENT
        return (stored is _ABSENT or stored != value or written_at is None
                or now - written_at >= REFRESH)

    def wrote(self, key: Any, value: object, now: datetime) -> None:
        self.rows[key] = (_ABSENT, None) if value is _DELETE else (value, now)

    def forget_rows(self) -> None:
        """Rows may have changed or gone (an UPDATE or DELETE), none can have appeared."""
        for key, (stored, _) in self.rows.items():
            if stored is not _ABSENT:
                self.rows[key] = (_UNKNOWN, None)

    def forget_all(self) -> None:
        self.rows.clear()
        self.complete = False


class DbPersistence(BasePersistence[UserData, ChatData, BotData]):
    def __init__(self, sessionmaker: Sessions, clock: Clock):
        # update_interval only drives PTB's background flush; we commit after every update.
        super().__init__(
            store_data=PersistenceInput(bot_data=False, chat_data=False, user_data=True,
                                        callback_data=False),
            update_interval=60,
        )
        self._sessionmaker = sessionmaker
        self._clock = clock
        self._conversations: dict[_StateKey, object] = {}
        self._drafts: dict[int, object] = {}
        self._stored_states = _Stored()
        self._stored_drafts = _Stored()
        self._lock = asyncio.Lock()
        engine = sessionmaker.kw.get("bind")
        if engine is not None:
            event.listen(engine.sync_engine, "before_cursor_execute", self._watch)

    def _watch(self, _conn: Any, _cursor: Any, statement: str, _params: Any, context: Any,
               _executemany: bool) -> None:
        """Someone else wrote the tables (or may have): what we knew of them is void."""
        if not any(table in statement for table in _TABLES) or (
                context is not None and context.execution_options.get(_OURS)):
            return
        verb = statement.lstrip()[:6].upper()
        if verb == "SELECT":
            return
        for stored in (self._stored_states, self._stored_drafts):
            if verb in ("UPDATE", "DELETE"):
                stored.forget_rows()
            else:
                stored.forget_all()

    # --- loading, once at start-up -----------------------------------------------------------
    async def get_user_data(self) -> dict[int, UserData]:
        since = self._clock.now() - DRAFT_LIFETIME
        async with self._sessionmaker() as session:
            rows = (await session.execute(
                select(UserDraft.user_id, UserDraft.data, UserDraft.updated_at)
                .where(UserDraft.updated_at >= since))).all()
        # Older rows are not loaded; post_init purges them (jobs/drafts.py) before the first
        # update, so from then on a user not listed has no draft.
        for user_id, data, updated_at in rows:
            self._stored_drafts.rows[user_id] = (data, updated_at)
        self._stored_drafts.complete = True
        # PTB's copy is the live one handlers change in place: ours must not share with it.
        return {user_id: copy.deepcopy(data) for user_id, data, _ in rows}

    async def get_conversations(self, name: str) -> ConversationDict:
        since = self._clock.now() - DRAFT_LIFETIME
        async with self._sessionmaker() as session:
            rows = (await session.execute(
                select(ConversationState.key, ConversationState.state,
                       ConversationState.updated_at)
                .where(ConversationState.name == name,
                       ConversationState.updated_at >= since))).all()
        for key, state, updated_at in rows:
            self._stored_states.rows[(name, key)] = (state, updated_at)
        # Every persistent ConversationHandler loads its states at start-up, before the
        # first update.
        self._stored_states.complete = True
        return {_key_from_str(key): copy.deepcopy(state) for key, state, _ in rows}

    async def get_chat_data(self) -> dict[int, ChatData]:
        return {}

    async def get_bot_data(self) -> BotData:
        return {}

    async def get_callback_data(self) -> None:
        return None

    # --- buffering, called by PTB ------------------------------------------------------------
    async def update_conversation(self, name: str, key: ConversationKey,
                                  new_state: object | None) -> None:
        self._conversations[(name, _key_to_str(key))] = (
            _DELETE if new_state is None else new_state)

    async def update_user_data(self, user_id: int, data: UserData) -> None:
        # PTB hands over a deep copy (Application.update_persistence), which nothing else
        # holds: it can be kept as it is, and compared with what comes next.
        self._drafts[user_id] = data if data else _DELETE

    async def drop_user_data(self, user_id: int) -> None:
        self._drafts[user_id] = _DELETE

    async def refresh_user_data(self, user_id: int, user_data: UserData) -> None:
        pass

    async def update_chat_data(self, chat_id: int, data: ChatData) -> None:
        pass

    async def drop_chat_data(self, chat_id: int) -> None:
        pass

    async def refresh_chat_data(self, chat_id: int, chat_data: ChatData) -> None:
        pass

    async def update_bot_data(self, data: BotData) -> None:
        pass

    async def refresh_bot_data(self, bot_data: BotData) -> None:
        pass

    async def update_callback_data(self, data: object) -> None:
        pass

    # --- writing -----------------------------------------------------------------------------
    async def commit(self) -> None:
        """Write what was buffered and differs from the database, in one transaction.

        Commits run one at a time: whatever buffers up while one runs (other users' updates
        finishing meanwhile) goes together in the next one. So when this returns, everything
        buffered before it was called is in the database.
        """
        async with self._lock:
            if not self._conversations and not self._drafts:
                return
            conversations, self._conversations = self._conversations, {}
            drafts, self._drafts = self._drafts, {}
            now = self._clock.now()
            states = {k: v for k, v in conversations.items()
                      if self._stored_states.needs_write(k, v, now)}
            users = {k: v for k, v in drafts.items()
                     if self._stored_drafts.needs_write(k, v, now)}
            if not states and not users:
                return
            try:
                async with self._sessionmaker() as session, session.begin():
                    conn = await session.connection(execution_options={_OURS: True})
                    await _write(conn, cast(Table, ConversationState.__table__),
                                 ("name", "key"), "state", states, now)
                    await _write(conn, cast(Table, UserDraft.__table__), ("user_id",), "data",
                                 users, now)
            except BaseException:
                # Keep what failed for the next commit, unless newer data arrived meanwhile.
                for k, v in conversations.items():
                    self._conversations.setdefault(k, v)
                for user_id, draft in drafts.items():
                    self._drafts.setdefault(user_id, draft)
                raise
            for k, v in states.items():
                self._stored_states.wrote(k, v, now)
            for user_id, data in users.items():
                self._stored_drafts.wrote(user_id, data, now)

    async def flush(self) -> None:
        await self.commit()


async def _write(conn: AsyncConnection, table: Table, key_columns: tuple[str, ...],
                 value_column: str, values: dict[Any, object], now: datetime) -> None:
    """One upsert for the keys with a value, one delete for the keys that go."""
    gone = [key for key, value in values.items() if value is _DELETE]
    kept = [(key, value) for key, value in values.items() if value is not _DELETE]
    if kept:
        await conn.execute(_upsert(conn.dialect.name, table, key_columns, value_column), [
            {**dict(zip(key_columns, _as_tuple(key), strict=True)), value_column: value,
             "updated_at": now}
            for key, value in kept])
    if gone:
        if len(key_columns) == 1:
            await conn.execute(delete(table).where(table.c[key_columns[0]].in_(gone)))
        else:
            by_first: dict[Any, list[Any]] = {}
            for first, second in gone:
                by_first.setdefault(first, []).append(second)
            for first, seconds in by_first.items():
                await conn.execute(delete(table).where(table.c[key_columns[0]] == first,
                                                       table.c[key_columns[1]].in_(seconds)))


@functools.cache
def _upsert(dialect: str, table: Table, key_columns: tuple[str, ...],
            value_column: str) -> Executable:
    """INSERT ... ON CONFLICT DO UPDATE, built once: `excluded` builds new Column objects."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(table)
    return stmt.on_conflict_do_update(
        index_elements=list(key_columns),
        set_={value_column: stmt.excluded[value_column], "updated_at": stmt.excluded.updated_at})


def _as_tuple(key: Any) -> Iterable[Any]:
    return key if isinstance(key, tuple) else (key,)
