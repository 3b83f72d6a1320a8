"""Queries on conversation drafts, beside bot/persistence.py which writes them after updates."""

from __future__ import annotations

import json

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import ConversationState, UserDraft


def conversation_key(chat_id: int, user_id: int) -> str:
    """How PTB's (chat_id, user_id) conversation key is stored."""
    return json.dumps([chat_id, user_id], separators=(",", ":"))


async def forget_conversation(session: AsyncSession, name: str, chat_id: int,
                              user_id: int) -> None:
    """Delete a user's draft and conversation state, inside the caller's transaction."""
    await session.execute(delete(ConversationState).where(
        ConversationState.name == name,
        ConversationState.key == conversation_key(chat_id, user_id)))
    await session.execute(delete(UserDraft).where(UserDraft.user_id == user_id))
