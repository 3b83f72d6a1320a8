"""Expiring conversation drafts: the use case the purge job runs, owning its transaction
(bot/persistence.py writes drafts after updates; `db.queries.drafts.forget_draft` deletes one
in a use case's own transaction)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select

from db.models import UserDraft
from db.session import Sessions
from domain.drafts import DRAFT_LIFETIME

# Where the draft keeps an open question (chat/flow.py's DRAFT_KEY): db/ cannot import chat/.
FLOW_KEY = "flow"


async def purge_expired(sessions: Sessions, *, now: datetime) -> dict[int, bool]:
    """Delete drafts untouched for 14 days; return the users whose draft went, each with
    whether it held an open question (a flow) then."""
    cutoff = now - DRAFT_LIFETIME
    async with sessions() as session, session.begin():
        rows = (await session.execute(
            select(UserDraft.user_id, UserDraft.data).where(UserDraft.updated_at < cutoff))).all()
        await session.execute(delete(UserDraft).where(UserDraft.updated_at < cutoff))
    return {user_id: bool((data or {}).get(FLOW_KEY)) for user_id, data in rows}
