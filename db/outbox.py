"""Queries of the durable outbox: queue, claim, record outcomes, count, cancel."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    String,
    and_,
    bindparam,
    case,
    cast,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.audience import Audience, recipients
from db.models import (
    Broadcast,
    BroadcastStatus,
    OutboxMessage,
    OutboxState,
    User,
    UserStatus,
)


@dataclass(frozen=True)
class NewMessage:
    dedup_key: str
    recipient_id: int
    text: str
    parse_mode: str | None = "HTML"
    buttons: list | None = None
    priority: int = 100
    broadcast_id: int | None = None


async def enqueue(session: AsyncSession, messages: Iterable[NewMessage], *,
                  at: datetime) -> int:
    """Queue messages; one already queued under the same dedup key is left as it is."""
    rows = [dict(dedup_key=m.dedup_key, recipient_id=m.recipient_id, text=m.text,
                 parse_mode=m.parse_mode, buttons=m.buttons, priority=m.priority,
                 broadcast_id=m.broadcast_id, state=OutboxState.PENDING, attempts=0,
                 next_attempt_at=at, created_at=at) for m in messages]
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    insert_ = pg_insert if dialect == "postgresql" else sqlite_insert
    # ON CONFLICT: another process queueing the same message at the same moment is no error.
    statement = insert_(OutboxMessage.__table__).on_conflict_do_nothing(
        index_elements=["dedup_key"])
    queued = 0
    for start in range(0, len(rows), 500):  # SQLite limits the parameters of one statement
        result = await session.execute(statement, rows[start:start + 500])
        queued += max(result.rowcount or 0, 0)
    return queued


async def enqueue_broadcast(session: AsyncSession, broadcast_id: int, *, text_id: str,
                            text_en: str | None, audience: Audience, now: datetime,
                            staff_ids: frozenset[int]) -> int:
    """One row per recipient, in their language, in a single INSERT ... SELECT."""
    who = recipients(audience, now=now, staff_ids=staff_ids).subquery()
    text = (case((who.c.language == "en", literal(text_en)), else_=literal(text_id))
            if text_en else literal(text_id))
    source = select(
        literal(f"b{broadcast_id}:") + cast(who.c.id, String), who.c.id, text,
        literal("HTML"), literal(100), literal(broadcast_id),
        literal(OutboxState.PENDING.value), literal(0), literal(now), literal(now))
    result = await session.execute(insert(OutboxMessage).from_select(
        ["dedup_key", "recipient_id", "text", "parse_mode", "priority", "broadcast_id",
         "state", "attempts", "next_attempt_at", "created_at"], source))
    return result.rowcount or 0


def _due(now: datetime) -> Any:
    # A "sending" row whose lease ran out belonged to a sender that died: due again.
    return or_(and_(OutboxMessage.state == OutboxState.PENDING,
                    OutboxMessage.next_attempt_at <= now),
               and_(OutboxMessage.state == OutboxState.SENDING,
                    OutboxMessage.lease_until < now))


async def claim_due(session: AsyncSession, *, now: datetime, limit: int, lease: timedelta,
                    skip_locked: bool, owner: str) -> list[OutboxMessage]:
    """Mark up to `limit` due rows as being sent by `owner`, until the lease ends."""
    due = (select(OutboxMessage.id).where(_due(now))
           .order_by(OutboxMessage.priority, OutboxMessage.id).limit(limit))
    if skip_locked:
        due = due.with_for_update(skip_locked=True)
    result = await session.scalars(
        update(OutboxMessage).where(OutboxMessage.id.in_(due.scalar_subquery()))
        .values(state=OutboxState.SENDING, lease_until=now + lease, claimed_by=owner)
        .returning(OutboxMessage)
        .execution_options(synchronize_session=False))
    return sorted(result.all(), key=lambda r: (r.priority, r.id))


async def release_all_claims(session: AsyncSession) -> int:
    """The one sender starting up: rows left "sending" by a dead sender are due at once."""
    result = await session.execute(
        update(OutboxMessage).where(OutboxMessage.state == OutboxState.SENDING)
        .values(state=OutboxState.PENDING, lease_until=None, claimed_by=None)
        .execution_options(synchronize_session=False))
    return result.rowcount or 0


async def blocked_among(session: AsyncSession, user_ids: Iterable[int]) -> set[int]:
    ids = sorted(set(user_ids))
    if not ids:
        return set()
    return set(await session.scalars(select(User.id).where(
        User.id.in_(ids), User.status == UserStatus.BLOCKED)))


async def record(session: AsyncSession, changes: Sequence[dict[str, Any]], *,
                 owner: str) -> None:
    """Apply outcomes by primary key, many rows per statement.

    A message that was sent is recorded as sent whatever happened meanwhile. Any other
    outcome applies only while the row is still ours (claimed by `owner`): a broadcast
    cancelled during the request must not come back as pending, nor a row that another
    sender took over.
    """
    groups: dict[tuple[bool, tuple[str, ...]], list[dict[str, Any]]] = {}
    for change in changes:
        columns = tuple(sorted(k for k in change if k != "id"))
        sent = change.get("state") == OutboxState.SENT
        groups.setdefault((sent, columns), []).append(change)
    table = OutboxMessage.__table__  # Core, not ORM: an executemany with extra criteria
    for (sent, columns), rows in groups.items():
        statement = update(table).where(table.c.id == bindparam("row_id"))
        if not sent:
            statement = statement.where(table.c.state == OutboxState.SENDING,
                                        table.c.claimed_by == owner)
        statement = statement.values({c: bindparam(f"v_{c}") for c in columns})
        params = [{"row_id": r["id"], **{f"v_{c}": r[c] for c in columns}} for r in rows]
        await session.execute(statement, params)


async def still_claimed(session: AsyncSession, row_ids: Sequence[int], owner: str) -> set[int]:
    """Which of these claimed rows are still ours to send (not cancelled, not taken over)."""
    if not row_ids:
        return set()
    return set(await session.scalars(select(OutboxMessage.id).where(
        OutboxMessage.id.in_(list(row_ids)), OutboxMessage.state == OutboxState.SENDING,
        OutboxMessage.claimed_by == owner)))


async def cancelled_broadcasts(session: AsyncSession, ids: Iterable[int]) -> set[int]:
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return set()
    return set(await session.scalars(select(Broadcast.id).where(
        Broadcast.id.in_(wanted), Broadcast.status == BroadcastStatus.CANCELLED)))


async def next_due_at(session: AsyncSession) -> datetime | None:
    """When the next row becomes due: a retry or a deferred message, or a lapsing lease."""
    pending = await session.scalar(select(func.min(OutboxMessage.next_attempt_at)).where(
        OutboxMessage.state == OutboxState.PENDING))
    leased = await session.scalar(select(func.min(OutboxMessage.lease_until)).where(
        OutboxMessage.state == OutboxState.SENDING))
    times = [t for t in (pending, leased) if t is not None]
    return min(times) if times else None


async def mark_blocked(session: AsyncSession, user_ids: Iterable[int]) -> None:
    ids = sorted(set(user_ids))
    if ids:
        await session.execute(update(User).where(User.id.in_(ids))
                              .values(status=UserStatus.BLOCKED)
                              .execution_options(synchronize_session=False))


@dataclass
class Counts:
    sent: int = 0
    pending: int = 0
    skipped: int = 0
    failed: int = 0
    failed_by_reason: dict[str, int] | None = None

    @property
    def total(self) -> int:
        return self.sent + self.pending + self.skipped + self.failed


async def broadcast_counts(session: AsyncSession, broadcast_id: int) -> Counts:
    rows = await session.execute(
        select(OutboxMessage.state, OutboxMessage.last_error, func.count())
        .where(OutboxMessage.broadcast_id == broadcast_id)
        .group_by(OutboxMessage.state, OutboxMessage.last_error))
    counts = Counts(failed_by_reason={})
    for state, error, n in rows:
        if state == OutboxState.SENT:
            counts.sent += n
        elif state in (OutboxState.PENDING, OutboxState.SENDING):
            counts.pending += n
        elif state == OutboxState.SKIPPED:
            counts.skipped += n
        else:
            counts.failed += n
            assert counts.failed_by_reason is not None
            reason = error or "unknown"
            counts.failed_by_reason[reason] = counts.failed_by_reason.get(reason, 0) + n
    return counts


async def cancel_pending(session: AsyncSession, broadcast_id: int) -> int:
    """Drop what was not sent yet (claimed rows too: the sender re-checks them before
    sending); what was sent stays recorded."""
    result = await session.execute(
        update(OutboxMessage).where(OutboxMessage.broadcast_id == broadcast_id,
                                    OutboxMessage.state.in_([OutboxState.PENDING,
                                                             OutboxState.SENDING]))
        .values(state=OutboxState.SKIPPED, last_error="cancelled")
        .execution_options(synchronize_session=False))
    return result.rowcount or 0


async def oldest_due(session: AsyncSession, now: datetime) -> datetime | None:
    """Since when the longest-waiting due message waits (a lapsed claim counts too)."""
    pending = await session.scalar(select(func.min(OutboxMessage.next_attempt_at)).where(
        OutboxMessage.state == OutboxState.PENDING, OutboxMessage.next_attempt_at <= now))
    lapsed = await session.scalar(select(func.min(OutboxMessage.next_attempt_at)).where(
        OutboxMessage.state == OutboxState.SENDING, OutboxMessage.lease_until < now))
    times = [t for t in (pending, lapsed) if t is not None]
    return min(times) if times else None


async def count_due(session: AsyncSession, now: datetime) -> int:
    return await session.scalar(select(func.count()).select_from(OutboxMessage).where(
        _due(now))) or 0


async def last_sent(session: AsyncSession) -> datetime | None:
    return await session.scalar(select(func.max(OutboxMessage.sent_at)))
