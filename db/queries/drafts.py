"""Queries on conversation drafts, beside bot/persistence.py which writes them after updates
(the purge of expired ones is a use case: `db/drafts.py`)."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import UserDraft


async def forget_draft(session: AsyncSession, user_id: int) -> None:
    """Delete a user's draft inside the caller's transaction: a use case that stores what the
    draft was for deletes it in the same commit, so a crash cannot leave both."""
    await session.execute(delete(UserDraft).where(UserDraft.user_id == user_id))
