"""Staff broadcasts, as use cases that own their transaction: the audience's size, storing a
composed broadcast, the list with its counts (their queries: `db/queries/broadcasts.py`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from db.models import Broadcast, BroadcastStatus
from db.queries import broadcasts as broadcasts_db
from db.queries import enterprises as ent_db
from db.queries import outbox as outbox_db
from db.queries.audience import Audience, count_recipients
from db.queries.drafts import forget_draft
from db.session import Sessions


async def audience_size(sessions: Sessions, audience: Audience, *, now: datetime,
                        staff_ids: frozenset[int]) -> int:
    async with sessions() as session:
        return await count_recipients(session, audience, now=now, staff_ids=staff_ids)


async def find_approved(sessions: Sessions, text: str) -> dict[int, str]:
    """Approved enterprises whose name contains `text`: id -> name."""
    async with sessions() as session:
        return {e.id: e.name for e in await ent_db.approved_by_name(session, text)}


@dataclass(frozen=True)
class Stored:
    id: int
    queued: bool  # due now: its messages are in the outbox
    count: int  # recipients queued, or matching now for a later one


async def confirm_broadcast(sessions: Sessions, *, created_by: int, text_id: str,
                            text_en: str | None, audience: Audience, send_at: datetime,
                            now: datetime, staff_ids: frozenset[int],
                            urgent: bool = False) -> Stored:
    """Store the broadcast (queued at once when due) and delete the composer's draft in the
    same transaction: after a crash its Confirm button is stale, never a second broadcast."""
    async with sessions() as session, session.begin():
        broadcast = await broadcasts_db.create(
            session, created_by=created_by, text_id=text_id, text_en=text_en,
            audience=audience, send_at=send_at, now=now, staff_ids=staff_ids, urgent=urgent)
        queued = broadcast.status == BroadcastStatus.QUEUED
        count = broadcast.recipient_count if queued else await count_recipients(
            session, audience, now=now, staff_ids=staff_ids)
        await forget_draft(session, created_by)
        return Stored(broadcast.id, queued, count or 0)


async def recent_with_counts(sessions: Sessions, limit: int, *, now: datetime,
                             staff_ids: frozenset[int]
                             ) -> list[tuple[Broadcast, outbox_db.Counts, int | None]]:
    """The latest broadcasts, each with its outbox counts and, while scheduled, how many
    would receive it now."""
    items = []
    async with sessions() as session:
        for broadcast in await broadcasts_db.recent(session, limit):
            counts = await outbox_db.broadcast_counts(session, broadcast.id)
            matching = await count_recipients(
                session, Audience.from_json(broadcast.audience), now=now,
                staff_ids=staff_ids) if broadcast.status == BroadcastStatus.SCHEDULED else None
            items.append((broadcast, counts, matching))
    return items


async def broadcast_with_counts(sessions: Sessions, broadcast_id: int
                                ) -> tuple[Broadcast | None, outbox_db.Counts | None]:
    async with sessions() as session:
        broadcast = await broadcasts_db.get(session, broadcast_id)
        counts = await outbox_db.broadcast_counts(session, broadcast_id) if broadcast else None
    return broadcast, counts


async def cancel_broadcast(sessions: Sessions, broadcast_id: int, *, now: datetime) -> int | None:
    """Cancel it: the number of messages dropped, or None when it was cancelled already."""
    async with sessions() as session, session.begin():
        return await broadcasts_db.cancel(session, broadcast_id, now=now)
