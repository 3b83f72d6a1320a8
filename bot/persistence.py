"""PTB persistence on our own database: the users' drafts (user_data).

PTB calls the `update_*` methods concurrently (asyncio.gather), so they only buffer; `commit()`
writes everything buffered in one transaction. The update processor calls it right after each
update is handled, so a restart, clean or hard, resumes at the step the user last reached.
PTB's own periodic flush (60 s) would lose up to a minute of answers.

Conversations are flows (chat/flow.py) whose state lives in the draft: there are no
ConversationHandlers, so no conversation states to keep (PTB's interface still asks for them:
none are ever stored).

Only what changed is written. PTB hands over a user's data after every update of theirs,
changed or not (most updates of a user without a draft hand over an empty dict). The
persistence remembers what the database holds for each user, and writes a draft only when it
differs, or when its row was last written more than `REFRESH` ago: the 14-day purge reads
`updated_at`, so a draft that a user keeps touching without changing must not age. What is
written goes as one upsert (or one delete) for the whole commit, without reading the rows
first.

A draft with an open flow (a survey, an enrolment) also says when its user last did something
in it (`flow_at`): bulk messages wait while that is recent (docs/decisions/0010). So such a
draft is written again after `TOUCH` even when unchanged (an answer refused, /help inside a
question): `flow_at` is at most that late.

That memory is only right while the persistence is the only writer of the table. Code that
writes it itself (`db/queries/drafts.py` inside a handler's transaction, the purge job, a
test) makes the persistence forget what it knew, so the next commit of each key writes it
again: an engine event watches every statement on the persistence's engine for the table's
name.
"""

from __future__ import annotations

import asyncio
import copy
import functools
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Executable, delete, event, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection
from telegram.ext import BasePersistence, PersistenceInput
from telegram.ext._utils.types import ConversationDict, ConversationKey

from chat.clock import Clock
from chat.context import BotData, ChatData, UserData
from chat.flow import DRAFT_KEY
from db.models import UserDraft
from db.session import Sessions
from domain.drafts import DRAFT_LIFETIME

# A row unchanged for this long is written again anyway, to move its `updated_at`.
REFRESH = timedelta(hours=1)
# ... and one with an open flow after this long, to move its `flow_at`.
TOUCH = timedelta(minutes=1)

_DELETE = object()  # buffered: the key goes
_ABSENT = object()  # known: the database has no row for the key
_UNKNOWN = object()  # the database may hold anything for the key
_OURS = "score_persistence"  # execution option marking the persistence's own statements
_TABLE = UserDraft.__tablename__


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
                or now - written_at >= (TOUCH if _in_flow(value) else REFRESH))

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
        self._drafts: dict[int, object] = {}
        self._stored_drafts = _Stored()
        self._lock = asyncio.Lock()
        engine = sessionmaker.kw.get("bind")
        if engine is not None:
            event.listen(engine.sync_engine, "before_cursor_execute", self._watch)

    def _watch(self, _conn: Any, _cursor: Any, statement: str, _params: Any, context: Any,
               _executemany: bool) -> None:
        """Someone else wrote the table (or may have): what we knew of it is void."""
        if _TABLE not in statement or (
                context is not None and context.execution_options.get(_OURS)):
            return
        verb = statement.lstrip()[:6].upper()
        if verb == "SELECT":
            return
        if verb in ("UPDATE", "DELETE"):
            self._stored_drafts.forget_rows()
        else:
            self._stored_drafts.forget_all()

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
        return {}  # no ConversationHandlers: a flow's state is in the draft

    async def get_chat_data(self) -> dict[int, ChatData]:
        return {}

    async def get_bot_data(self) -> BotData:
        return {}

    async def get_callback_data(self) -> None:
        return None

    # --- buffering, called by PTB ------------------------------------------------------------
    async def update_conversation(self, name: str, key: ConversationKey,
                                  new_state: object | None) -> None:
        pass

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
            if not self._drafts:
                return
            drafts, self._drafts = self._drafts, {}
            now = self._clock.now()
            users = {k: v for k, v in drafts.items()
                     if self._stored_drafts.needs_write(k, v, now)}
            if not users:
                return
            try:
                async with self._sessionmaker() as session, session.begin():
                    conn = await session.connection(execution_options={_OURS: True})
                    await _write(conn, users, now)
            except BaseException:
                # Keep what failed for the next commit, unless newer data arrived meanwhile.
                for user_id, draft in drafts.items():
                    self._drafts.setdefault(user_id, draft)
                raise
            for user_id, data in users.items():
                self._stored_drafts.wrote(user_id, data, now)

    async def flush(self) -> None:
        await self.commit()


def _in_flow(value: object) -> bool:
    return isinstance(value, dict) and value.get(DRAFT_KEY) is not None


async def _write(conn: AsyncConnection, drafts: dict[int, object], now: datetime) -> None:
    """One upsert for the drafts with a value, one delete for those that go."""
    gone = [user_id for user_id, data in drafts.items() if data is _DELETE]
    kept = [(user_id, data) for user_id, data in drafts.items() if data is not _DELETE]
    if kept:
        await conn.execute(_upsert(conn.dialect.name), [
            {"user_id": user_id, "data": data, "updated_at": now,
             "flow_at": now if _in_flow(data) else None} for user_id, data in kept])
    if gone:
        await conn.execute(delete(UserDraft).where(UserDraft.user_id.in_(gone)))


@functools.cache
def _upsert(dialect: str) -> Executable:
    """INSERT ... ON CONFLICT DO UPDATE, built once: `excluded` builds new Column objects."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(UserDraft)
    return stmt.on_conflict_do_update(
        index_elements=["user_id"],
        set_={"data": stmt.excluded.data, "updated_at": stmt.excluded.updated_at,
              "flow_at": stmt.excluded.flow_at})
