"""Queries on conversation drafts, beside bot/persistence.py which writes them after updates."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import UserDraft
from db.session import Sessions
from domain.drafts import DRAFT_LIFETIME


async def purge_expired(sessionmaker: Sessions, *, now: datetime) -> list[int]:
    """Delete drafts untouched for 14 days; return the users whose draft went."""
    cutoff = now - DRAFT_LIFETIME
    async with sessionmaker() as session, session.begin():
        users = list(await session.scalars(
            select(UserDraft.user_id).where(UserDraft.updated_at < cutoff)))
        await session.execute(delete(UserDraft).where(UserDraft.updated_at < cutoff))
    return users


async def forget_draft(session: AsyncSession, user_id: int) -> None:
    """Delete a user's draft inside the caller's transaction: a use case that stores what the
    draft was for deletes it in the same commit, so a crash cannot leave both."""
    await session.execute(delete(UserDraft).where(UserDraft.user_id == user_id))
