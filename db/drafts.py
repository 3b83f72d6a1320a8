"""Queries on conversation drafts, beside bot/persistence.py which writes them after updates."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import ConversationState, UserDraft
from db.results import affected
from db.session import Sessions
from domain.drafts import DRAFT_LIFETIME


def conversation_key(chat_id: int, user_id: int) -> str:
    """How PTB's (chat_id, user_id) conversation key is stored."""
    return json.dumps([chat_id, user_id], separators=(",", ":"))


async def purge_expired(sessionmaker: Sessions, *,
                        now: datetime) -> tuple[int, list[int]]:
    """Delete drafts and conversation states untouched for 14 days; return the users affected."""
    cutoff = now - DRAFT_LIFETIME
    async with sessionmaker() as session, session.begin():
        users = list(await session.scalars(
            select(UserDraft.user_id).where(UserDraft.updated_at < cutoff)))
        await session.execute(delete(UserDraft).where(UserDraft.updated_at < cutoff))
        result = await session.execute(
            delete(ConversationState).where(ConversationState.updated_at < cutoff))
    return affected(result), users


async def forget_draft(session: AsyncSession, user_id: int) -> None:
    """Delete a user's draft inside the caller's transaction: a use case that stores what the
    draft was for deletes it in the same commit, so a crash cannot leave both."""
    await session.execute(delete(UserDraft).where(UserDraft.user_id == user_id))
