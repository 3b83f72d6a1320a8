"""Expiring conversation drafts: the use case the purge job runs, owning its transaction
(bot/persistence.py writes drafts after updates; `db.queries.drafts.forget_draft` deletes one
in a use case's own transaction)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select

from db.models import UserDraft
from db.session import Sessions
from domain.drafts import DRAFT_LIFETIME


async def purge_expired(sessions: Sessions, *, now: datetime) -> list[int]:
    """Delete drafts untouched for 14 days; return the users whose draft went."""
    cutoff = now - DRAFT_LIFETIME
    async with sessions() as session, session.begin():
        users = list(await session.scalars(
            select(UserDraft.user_id).where(UserDraft.updated_at < cutoff)))
        await session.execute(delete(UserDraft).where(UserDraft.updated_at < cutoff))
    return users
