"""Queries about broadcasts: create, queue when due, list, cancel (the use cases staff's
/broadcast runs are in `db/broadcasts.py`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Broadcast, BroadcastStatus
from db.queries.audience import Audience, recipients
from db.queries.outbox import BULK, Content, broadcast_group, cancel_group, enqueue
from db.results import affected


async def create(session: AsyncSession, *, created_by: int, text_id: str, text_en: str | None,
                 audience: Audience, send_at: datetime, now: datetime,
                 staff_ids: frozenset[int], urgent: bool = False) -> Broadcast:
    """A broadcast; one due now is queued in the same transaction, a later one by the job
    `jobs/broadcasts.py` when it is due."""
    broadcast = Broadcast(created_by=created_by, text_id=text_id, text_en=text_en,
                          audience=audience.to_json(), status=BroadcastStatus.SCHEDULED,
                          send_at=send_at, urgent=urgent, created_at=now)
    session.add(broadcast)
    await session.flush()
    if send_at <= now:
        await _queue(session, broadcast, now=now, staff_ids=staff_ids)
    return broadcast


async def _queue(session: AsyncSession, broadcast: Broadcast, *, now: datetime,
                 staff_ids: frozenset[int]) -> bool:
    # Conditional, so two processes looking at the same due broadcast queue it once.
    result = await session.execute(
        update(Broadcast).where(Broadcast.id == broadcast.id,
                                Broadcast.status == BroadcastStatus.SCHEDULED)
        .values(status=BroadcastStatus.QUEUED, queued_at=now)
        .execution_options(synchronize_session=False))
    if affected(result) != 1:
        return False
    # Staff wrote the text: Indonesian always, English optionally. Everyone who does not read
    # English gets the Indonesian text, and so do English readers when there is no English one.
    indonesian = Content(broadcast.text_id)
    # A broadcast is bulk: each recipient's row is due at 06.00 in their zone when it is
    # night there, and waits while they are in a conversation; an urgent one does neither.
    count = await enqueue(
        session, group=broadcast_group(broadcast.id), key=f"b{broadcast.id}",
        recipients=recipients(Audience.from_json(broadcast.audience), now=now,
                              staff_ids=staff_ids),
        contents={"id": indonesian,
                  "en": Content(broadcast.text_en) if broadcast.text_en else indonesian},
        fallback="id", now=now, priority=BULK, bulk=not broadcast.urgent)
    broadcast.status, broadcast.queued_at, broadcast.recipient_count = (
        BroadcastStatus.QUEUED, now, count)
    await session.flush()
    return True


async def queue_due(session: AsyncSession, *, now: datetime,
                    staff_ids: frozenset[int]) -> list[Broadcast]:
    due = list(await session.scalars(select(Broadcast).where(
        Broadcast.status == BroadcastStatus.SCHEDULED, Broadcast.send_at <= now)
        .order_by(Broadcast.send_at)))
    return [b for b in due if await _queue(session, b, now=now, staff_ids=staff_ids)]


async def recent(session: AsyncSession, limit: int = 10) -> list[Broadcast]:
    return list(await session.scalars(select(Broadcast).order_by(Broadcast.id.desc())
                                      .limit(limit)))


async def get(session: AsyncSession, broadcast_id: int) -> Broadcast | None:
    return await session.get(Broadcast, broadcast_id)


async def cancel(session: AsyncSession, broadcast_id: int, *, now: datetime) -> int | None:
    """Cancel a broadcast that has not finished; the number of messages dropped, or None
    when it was already cancelled."""
    result = await session.execute(
        update(Broadcast).where(Broadcast.id == broadcast_id,
                                Broadcast.status != BroadcastStatus.CANCELLED)
        .values(status=BroadcastStatus.CANCELLED, cancelled_at=now)
        .execution_options(synchronize_session=False))
    if affected(result) != 1:
        return None
    return await cancel_group(session, broadcast_group(broadcast_id), now=now)
