"""The planned messages of a workshop or a visit (`event_reminders` rows), in the caller's
transaction: planned when the event is scheduled, planned again under a new version when it
moves, dropped when it is cancelled. jobs/event_reminders.py queues each through the outbox
when it is due (`db/event_reminders.py`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import EventReminder
from db.queries import outbox as outbox_db
from domain.event_schedule import Planned, not_repeated


def group_of(event: str, event_id: int, version: int) -> str:
    """The outbox group of an event's messages as dated by `version`: "visit:7:v0"."""
    return f"{event}:{event_id}:v{version}"


def key_of(event: str, event_id: int, version: int, kind: str) -> str:
    """The outbox key of one planned message (per recipient, the outbox adds who)."""
    return f"{group_of(event, event_id, version)}:{kind}"


async def plan(session: AsyncSession, event: str, event_id: int, version: int,
               planned: Sequence[Planned], *, now: datetime) -> None:
    session.add_all(EventReminder(event=event, event_id=event_id, version=version,
                                  kind=item.kind, due_at=item.due_at,
                                  expires_at=item.expires_at, created_at=now)
                    for item in planned)
    await session.flush()


async def unplan(session: AsyncSession, event: str, event_id: int, version: int, *,
                 now: datetime) -> None:
    """The event was cancelled or moved: its messages not queued yet are dropped, and those
    queued but not sent yet are skipped (its version's outbox group is cancelled)."""
    await session.execute(delete(EventReminder).where(
        EventReminder.event == event, EventReminder.event_id == event_id,
        EventReminder.queued_at.is_(None)))
    await outbox_db.cancel_group(session, group_of(event, event_id, version), now=now)


async def replan(session: AsyncSession, event: str, event_id: int, *, old_version: int,
                 new_version: int, planned: Sequence[Planned], now: datetime) -> None:
    """The event moved: what was planned for its old date goes, the new date's is planned,
    but for the reminders that went already and would come again too soon
    (domain/event_schedule.not_repeated)."""
    await unplan(session, event, event_id, old_version, now=now)
    rows = await session.execute(
        select(EventReminder.kind, func.max(EventReminder.due_at)).where(
            EventReminder.event == event, EventReminder.event_id == event_id,
            EventReminder.queued_at.is_not(None)).group_by(EventReminder.kind))
    sent = {kind: due_at for kind, due_at in rows}
    await plan(session, event, event_id, new_version, not_repeated(planned, sent), now=now)
