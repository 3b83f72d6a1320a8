"""PTB persistence on our own database: conversation states and drafts (user_data).

PTB calls the `update_*` methods concurrently (asyncio.gather), so they only buffer; `commit()`
writes everything buffered in one transaction. The update processor calls it right after each
update is handled, so a restart, clean or hard, resumes at the step the user last reached.
PTB's own periodic flush (60 s) would lose up to a minute of answers.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram.ext import BasePersistence, PersistenceInput
from telegram.ext._utils.types import ConversationDict, ConversationKey

from db.drafts import conversation_key
from db.models import ConversationState, UserDraft
from db.types import utcnow
from domain.drafts import DRAFT_LIFETIME

log = logging.getLogger(__name__)

_DELETE = object()


def _key_to_str(key: ConversationKey) -> str:
    return conversation_key(*key)  # type: ignore[arg-type]


def _key_from_str(text: str) -> ConversationKey:
    return tuple(json.loads(text))


class DbPersistence(BasePersistence[dict[str, Any], dict, dict]):
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]):
        # update_interval only drives PTB's background flush; we commit after every update.
        super().__init__(
            store_data=PersistenceInput(bot_data=False, chat_data=False, user_data=True,
                                        callback_data=False),
            update_interval=60,
        )
        self._sessionmaker = sessionmaker
        self._conversations: dict[tuple[str, str], object] = {}
        self._drafts: dict[int, object] = {}
        self._lock = asyncio.Lock()

    # --- loading, once at start-up -----------------------------------------------------------
    async def get_user_data(self) -> dict[int, dict[str, Any]]:
        since = utcnow() - DRAFT_LIFETIME
        async with self._sessionmaker() as session:
            rows = await session.scalars(select(UserDraft).where(UserDraft.updated_at >= since))
            return {row.user_id: dict(row.data) for row in rows}

    async def get_conversations(self, name: str) -> ConversationDict:
        since = utcnow() - DRAFT_LIFETIME
        async with self._sessionmaker() as session:
            rows = await session.scalars(
                select(ConversationState).where(ConversationState.name == name,
                                                ConversationState.updated_at >= since))
            return {_key_from_str(row.key): row.state for row in rows}

    async def get_chat_data(self) -> dict[int, dict]:
        return {}

    async def get_bot_data(self) -> dict:
        return {}

    async def get_callback_data(self) -> None:
        return None

    # --- buffering, called by PTB ------------------------------------------------------------
    async def update_conversation(self, name: str, key: ConversationKey,
                                  new_state: object | None) -> None:
        self._conversations[(name, _key_to_str(key))] = (
            _DELETE if new_state is None else new_state)

    async def update_user_data(self, user_id: int, data: dict[str, Any]) -> None:
        # A deep copy: the handler keeps mutating the live dict after this call.
        self._drafts[user_id] = copy.deepcopy(data) if data else _DELETE

    async def drop_user_data(self, user_id: int) -> None:
        self._drafts[user_id] = _DELETE

    async def refresh_user_data(self, user_id: int, user_data: dict[str, Any]) -> None:
        pass

    async def update_chat_data(self, chat_id: int, data: dict) -> None:
        pass

    async def drop_chat_data(self, chat_id: int) -> None:
        pass

    async def refresh_chat_data(self, chat_id: int, chat_data: dict) -> None:
        pass

    async def update_bot_data(self, data: dict) -> None:
        pass

    async def refresh_bot_data(self, bot_data: dict) -> None:
        pass

    async def update_callback_data(self, data: object) -> None:
        pass

    # --- writing -----------------------------------------------------------------------------
    async def commit(self) -> None:
        """Write what was buffered, in one transaction."""
        async with self._lock:
            if not self._conversations and not self._drafts:
                return
            conversations, self._conversations = self._conversations, {}
            drafts, self._drafts = self._drafts, {}
            now = utcnow()
            try:
                async with self._sessionmaker() as session, session.begin():
                    for (name, key), state in conversations.items():
                        await self._write_state(session, name, key, state, now)
                    for user_id, data in drafts.items():
                        await self._write_draft(session, user_id, data, now)
            except Exception:
                # Keep what failed for the next commit, unless newer data arrived meanwhile.
                for k, v in conversations.items():
                    self._conversations.setdefault(k, v)
                for k, v in drafts.items():
                    self._drafts.setdefault(k, v)
                raise

    @staticmethod
    async def _write_state(session: AsyncSession, name: str, key: str, state: object,
                           now: Any) -> None:
        row = await session.get(ConversationState, (name, key))
        if state is _DELETE:
            if row is not None:
                await session.delete(row)
        elif row is None:
            session.add(ConversationState(name=name, key=key, state=state, updated_at=now))
        else:
            row.state, row.updated_at = state, now

    @staticmethod
    async def _write_draft(session: AsyncSession, user_id: int, data: object, now: Any) -> None:
        row = await session.get(UserDraft, user_id)
        if data is _DELETE:
            if row is not None:
                await session.delete(row)
        elif row is None:
            session.add(UserDraft(user_id=user_id, data=data, updated_at=now))
        else:
            row.data, row.updated_at = data, now

    async def flush(self) -> None:
        await self.commit()
