"""The use cases of jobs/event_reminders.py: which planned messages of workshops and visits
are due, and queueing one through the outbox with its row marked queued, in one transaction
(so a restart neither loses nor repeats one)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from db.models import EventReminder
from db.queries import outbox as outbox_db
from db.session import Sessions


@dataclass(frozen=True)
class Due:
    """A planned message whose moment has come."""

    id: int
    event: str       # "workshop", "visit"
    event_id: int
    version: int
    kind: str        # domain/event_schedule.py's kinds
    due_at: datetime
    expires_at: datetime | None


async def due(sessions: Sessions, *, now: datetime, limit: int = 200) -> list[Due]:
    async with sessions() as session:
        rows = (await session.scalars(select(EventReminder).where(
            EventReminder.queued_at.is_(None), EventReminder.due_at <= now)
            .order_by(EventReminder.due_at, EventReminder.id).limit(limit))).all()
    return [Due(r.id, r.event, r.event_id, r.version, r.kind, r.due_at, r.expires_at)
            for r in rows]


async def queue(sessions: Sessions, reminder_id: int, outgoing: Sequence[outbox_db.Outgoing],
                *, now: datetime) -> int | None:
    """Queue what a due reminder says and mark it queued; None when it was queued already
    (another sender's job) or is gone (its event moved or was cancelled meanwhile)."""
    async with sessions() as session, session.begin():
        row = await session.scalar(select(EventReminder).where(EventReminder.id == reminder_id)
                                   .with_for_update())
        if row is None or row.queued_at is not None:
            return None
        queued = 0
        for message in outgoing:
            queued += await outbox_db.enqueue_outgoing(session, message, now=now)
        row.queued_at, row.queued = now, queued
    return queued
