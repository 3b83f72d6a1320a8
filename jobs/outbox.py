"""The outbox sender: one long-running loop that delivers queued messages at Telegram's pace.

Not a repeating scheduler job (runs would overlap when one is long). It claims due rows,
sends each in an evenly spaced slot at `rate` per second (never a burst), keeps several
requests in flight so a slow round trip does not lower the rate, keeps at least a second
between two messages to one chat, and records outcomes in batches.

Crash safety: a request slot is released only once the outcome of its message is committed,
so after a hard kill at most `in_flight` messages were sent without being recorded; those
are sent again when the next sender starts (the only duplicates). Rows claimed but not yet
sent are simply sent then. Interactive replies never pass through here.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db import broadcasts as broadcasts_db
from db import outbox as outbox_db
from db.models import OutboxMessage, OutboxState
from jobs.channel import Channel, Outcome, OutcomeKind, OutgoingMessage
from chat.clock import Clock, RealClock
from jobs.sender_lock import NoLock

log = logging.getLogger(__name__)

# Evenly spaced slots a hair longer than 1/rate: jitter between the slot and the request
# reaching Telegram must not put rate + 1 messages into one second.
PACE_MARGIN = 0.98
# How often claimed rows are checked against cancellation while they are being sent.
RECHECK_SECONDS = 1.0


@dataclass
class SenderConfig:
    rate: float = 25.0  # messages per second, for all bulk messages together
    in_flight: int = 16  # requests in flight: also the bound on duplicates after a hard kill
    lease: timedelta = timedelta(seconds=120)
    per_chat_gap: float = 1.0  # seconds between two outbox messages to one chat
    max_attempts: int = 5  # for network errors, timeouts and 5xx
    idle_poll: float = 1.0  # how often an idle sender looks for due rows
    schedule_poll: float = 5.0  # how often scheduled broadcasts are checked
    claim_size: int = 0  # rows per claim; 0: about four seconds of sending

    def claim_limit(self) -> int:
        return self.claim_size or max(self.in_flight, min(1000, int(self.rate * 4)))


def backoff(attempts: int) -> float:
    """Seconds before retry number `attempts` after a transient error: 2, 4, 8 ... 300."""
    return float(min(300, 2 ** max(1, attempts)))


@dataclass
class _Result:
    row_id: int
    recipient_id: int
    change: dict[str, Any]
    blocked: bool = False
    holds_slot: bool = False  # a request was made for it; its slot is freed once recorded


@dataclass
class SenderStats:
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    retried: int = 0
    last_sent_at: Any = None
    errors: dict[str, int] = field(default_factory=dict)


class OutboxSender:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], channel: Channel, *,
                 config: SenderConfig | None = None, clock: Clock | None = None,
                 lock: Any = None, skip_locked: bool = False,
                 staff_ids: frozenset[int] = frozenset(),
                 on_sent: Callable[[OutgoingMessage], Awaitable[None]] | None = None):
        self.sessionmaker = sessionmaker
        self.channel = channel
        self.config = config or SenderConfig()
        self.clock = clock or RealClock()
        self.lock = lock or NoLock()
        self.skip_locked = skip_locked
        self.staff_ids = staff_ids
        self.on_sent = on_sent
        self.stats = SenderStats()
        self._slots = asyncio.Semaphore(self.config.in_flight)
        self._results: list[_Result] = []
        self._delivered = asyncio.Event()
        self._wake = asyncio.Event()
        self._stopping = False
        self._tasks: set[asyncio.Task] = set()
        self._flush_lock = asyncio.Lock()
        self._next_slot = 0.0
        self._paused_until = 0.0
        self._last_to_chat: dict[int, float] = {}
        self._next_schedule_check = 0.0
        self._task: asyncio.Task | None = None
        self._flusher: asyncio.Task | None = None
        self._stop_event = asyncio.Event()
        self._recheck_now = False
        # Claims carry this: a sender that lost the lock cannot finish the new holder's rows.
        self.owner = uuid.uuid4().hex[:16]

    # --- life cycle --------------------------------------------------------------------------
    def start(self) -> None:
        self._stopping = False
        self._stop_event.clear()
        self._task = asyncio.create_task(self.run(), name="outbox-sender")
        self._flusher = asyncio.create_task(self._flush_loop(), name="outbox-recorder")

    async def stop(self) -> None:
        """Finish what is in flight, record it, and stop."""
        self._stopping = True
        self._stop_event.set()
        self._wake.set()
        if self._task is not None:
            await self._task
        if self._flusher is not None:
            self._flusher.cancel()
            try:
                await self._flusher
            except asyncio.CancelledError:
                pass
        await self._flush()
        await self.lock.release()

    async def abandon(self) -> None:
        """Stop where it stands, sending and recording nothing more: what a killed process
        leaves behind (its claims lapse or pass to the next sender). For tests of crashes.

        A commit already under way is let finish: cut off by cancellation, it would keep
        SQLite locked in this process, where a dead process frees the file at once.
        """
        tasks = [t for t in (self._task, *self._tasks) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        async with self._flush_lock:
            if self._flusher is not None:
                self._flusher.cancel()
                await asyncio.gather(self._flusher, return_exceptions=True)

    def wake(self) -> None:
        """New rows were queued: look now rather than at the next poll."""
        self._wake.set()

    def recheck(self) -> None:
        """A broadcast was cancelled: check claimed rows before the next send."""
        self._recheck_now = True

    # --- the loop ------------------------------------------------------------------------------
    async def run(self) -> None:
        while not self._stopping:
            try:
                await self._once()
            except Exception:
                log.exception("outbox sender iteration failed; trying again")
                await self._idle(self.config.idle_poll)
        await self._drain()

    async def _once(self) -> None:
        # Cleared here, not when going idle: a wake-up during this pass is not lost.
        self._wake.clear()
        if not await self.lock.hold():
            await self._idle(self.lock.retry_seconds)
            return
        if self.lock.take_fresh():
            async with self.sessionmaker() as session, session.begin():
                released = await outbox_db.release_all_claims(session)
            if released:
                log.info("outbox: %d messages left in flight by a stopped sender are due again",
                         released)
        await self._queue_scheduled()
        async with self.sessionmaker() as session, session.begin():
            rows = await outbox_db.claim_due(
                session, now=self.clock.now(), limit=self.config.claim_limit(),
                lease=self.config.lease, skip_locked=self.skip_locked, owner=self.owner)
            blocked = await outbox_db.blocked_among(session, {r.recipient_id for r in rows})
        if not rows:
            await self._wait_for_due()
            return
        await self._send_all(rows, blocked)

    async def _wait_for_due(self) -> None:
        """Nothing due: sleep until the next retry or deferred row, or until woken."""
        async with self.sessionmaker() as session:
            due_at = await outbox_db.next_due_at(session)
        if due_at is not None:
            wait = (due_at - self.clock.now()).total_seconds()
            if wait <= self.config.idle_poll:
                await self.clock.sleep(max(wait, 0.0) + 0.001)
                return
        await self._idle(self.config.idle_poll)

    async def _queue_scheduled(self) -> None:
        if self.clock.monotonic() < self._next_schedule_check:
            return
        self._next_schedule_check = self.clock.monotonic() + self.config.schedule_poll
        async with self.sessionmaker() as session, session.begin():
            queued = await broadcasts_db.queue_due(session, now=self.clock.now(),
                                                   staff_ids=self.staff_ids)
        for broadcast in queued:
            log.info("broadcast %s queued for %s recipients", broadcast.id,
                     broadcast.recipient_count)

    async def _idle(self, seconds: float) -> None:
        """Wait for new rows (wake) or the poll interval, whichever comes first.

        In real time even under a test clock: polling is a fallback, not part of the pacing.
        """
        if self._stopping:
            return
        try:
            await asyncio.wait_for(self._wake.wait(), timeout=seconds)
        except TimeoutError:
            pass

    async def _send_all(self, rows: list[OutboxMessage], blocked: set[int]) -> None:
        recheck_at = self.clock.monotonic() + RECHECK_SECONDS
        dropped: set[int] = set()
        for index, row in enumerate(rows):
            if self._stopping or not await self.lock.hold():
                # Stopping, or the lock is gone (another process sends now): hand back.
                self._give_back(rows[index:])
                return
            if self._recheck_now or self.clock.monotonic() >= recheck_at:
                # A broadcast may have been cancelled, or the rows taken over, since the claim.
                self._recheck_now = False
                recheck_at = self.clock.monotonic() + RECHECK_SECONDS
                self._forget_old_chats()
                try:
                    dropped = await self._no_longer_ours(rows[index:])
                except Exception:
                    log.exception("outbox: could not re-check claimed rows; giving them back")
                    self._give_back(rows[index:])
                    return
            if row.id in dropped:
                continue
            if row.recipient_id in blocked:
                self._results.append(_Result(row.id, row.recipient_id, {
                    "id": row.id, "state": OutboxState.SKIPPED, "last_error": "blocked",
                    "lease_until": None}))
                self.stats.skipped += 1
                continue
            wait = self._chat_wait(row.recipient_id)
            if wait > 0:
                # Another message went to this chat less than a second ago: later, not now.
                self._results.append(_Result(row.id, row.recipient_id, {
                    "id": row.id, "state": OutboxState.PENDING, "lease_until": None,
                    "next_attempt_at": self.clock.now() + timedelta(seconds=wait)}))
                continue
            await self._acquire_slot()
            if not await self._pace():
                self._slots.release()
                self._give_back(rows[index:])
                return
            self._last_to_chat[row.recipient_id] = self.clock.monotonic()
            task = asyncio.create_task(self._deliver(row))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        self._delivered.set()

    async def _no_longer_ours(self, rows: list[OutboxMessage]) -> set[int]:
        ids = [r.id for r in rows]
        async with self.sessionmaker() as session:
            ours = await outbox_db.still_claimed(session, ids, self.owner)
            cancelled = await outbox_db.cancelled_broadcasts(
                session, {r.broadcast_id for r in rows if r.broadcast_id is not None})
        return {r.id for r in rows if r.id not in ours or r.broadcast_id in cancelled}

    def _forget_old_chats(self) -> None:
        cutoff = self.clock.monotonic() - self.config.per_chat_gap
        self._last_to_chat = {c: t for c, t in self._last_to_chat.items() if t > cutoff}

    def _give_back(self, rows: list[OutboxMessage]) -> None:
        for row in rows:
            self._results.append(_Result(row.id, row.recipient_id, {
                "id": row.id, "state": OutboxState.PENDING, "lease_until": None,
                "claimed_by": None}))
        self._delivered.set()

    def _chat_wait(self, chat_id: int) -> float:
        last = self._last_to_chat.get(chat_id)
        if last is None:
            return 0.0
        return max(0.0, last + self.config.per_chat_gap - self.clock.monotonic())

    async def _acquire_slot(self) -> None:
        # A request slot comes back when its outcome is committed (see module docstring).
        await self._slots.acquire()

    async def _pace(self) -> bool:
        """Wait for this message's send slot; False when stopping meanwhile."""
        while True:
            now = self.clock.monotonic()
            if self._paused_until > now:
                # Telegram asked us to wait (429): the whole sender waits.
                if not await self._sleep(self._paused_until - now):
                    return False
                continue
            slot = max(self._next_slot, now)
            if slot > now:
                if not await self._sleep(slot - now):
                    return False
                if self._paused_until > self.clock.monotonic():
                    continue  # a 429 arrived during the wait: wait that out first
            interval = 1.0 / (self.config.rate * PACE_MARGIN)
            # After the event loop was held up (a garbage collection, say), the late message
            # and the next one on the old schedule would leave almost together: the schedule
            # then restarts from now. Ordinary timer jitter keeps the schedule, or it would
            # add up to a slower rate.
            late = self.clock.monotonic() - slot
            self._next_slot = (slot if late < interval / 2 else slot + late) + interval
            return True

    async def _sleep(self, seconds: float) -> bool:
        """Sleep on the clock, but wake at once on stop (a 429 can ask for minutes)."""
        sleeper = asyncio.ensure_future(self.clock.sleep(seconds))
        stopper = asyncio.ensure_future(self._stop_event.wait())
        await asyncio.wait({sleeper, stopper}, return_when=asyncio.FIRST_COMPLETED)
        for task in (sleeper, stopper):
            task.cancel()
        return not self._stopping

    async def _deliver(self, row: OutboxMessage) -> None:
        message = OutgoingMessage(row.recipient_id, row.text, row.parse_mode, row.buttons)
        try:
            outcome = await self.channel.send(message)
        except Exception as exc:  # noqa: BLE001 - a bug in a channel must not stop the sender
            log.exception("outbox channel failed on message %s", row.id)
            outcome = Outcome(OutcomeKind.TRANSIENT, reason=type(exc).__name__)
        result = self._result(row, outcome)
        result.holds_slot = True
        self._results.append(result)
        self._delivered.set()
        if outcome.kind is OutcomeKind.SENT and self.on_sent is not None:
            await self.on_sent(message)

    def _result(self, row: OutboxMessage, outcome: Outcome) -> _Result:
        now = self.clock.now()
        change: dict[str, Any] = {"id": row.id, "lease_until": None}
        blocked = False
        kind = outcome.kind
        if kind is OutcomeKind.SENT:
            change.update(state=OutboxState.SENT, message_id=outcome.message_id, sent_at=now,
                          last_error=None)
            self.stats.sent += 1
            self.stats.last_sent_at = now
        elif kind is OutcomeKind.RETRY_AFTER:
            self._paused_until = max(self._paused_until,
                                     self.clock.monotonic() + outcome.retry_after)
            change.update(state=OutboxState.PENDING, last_error="429",
                          next_attempt_at=now + timedelta(seconds=outcome.retry_after))
            self.stats.retried += 1
        elif kind is OutcomeKind.BLOCKED:
            change.update(state=OutboxState.SKIPPED, last_error=_short(outcome.reason, "blocked"))
            blocked = True
            self.stats.skipped += 1
        elif kind is OutcomeKind.TRANSIENT and row.attempts + 1 < self.config.max_attempts:
            change.update(state=OutboxState.PENDING, attempts=row.attempts + 1,
                          last_error=_short(outcome.reason, "network error"),
                          next_attempt_at=now + timedelta(seconds=backoff(row.attempts + 1)))
            self.stats.retried += 1
        else:
            change.update(state=OutboxState.FAILED, attempts=row.attempts + 1,
                          last_error=_short(outcome.reason, "failed"))
            self.stats.failed += 1
        return _Result(row.id, row.recipient_id, change, blocked)

    # --- recording -------------------------------------------------------------------------
    async def _flush_loop(self) -> None:
        """Commit outcomes as they come: whatever arrived during one commit goes in the next."""
        while True:
            await self._delivered.wait()
            self._delivered.clear()
            try:
                await self._flush()
            except Exception:
                log.exception("could not record outbox outcomes; they will be retried")
                await asyncio.sleep(0.5)
                self._delivered.set()

    async def _flush(self) -> None:
        async with self._flush_lock:
            if not self._results:
                return
            results, self._results = self._results, []
            try:
                async with self.sessionmaker() as session, session.begin():
                    await outbox_db.record(session, [r.change for r in results],
                                           owner=self.owner)
                    await outbox_db.mark_blocked(session, [r.recipient_id for r in results
                                                           if r.blocked])
            except Exception:
                self._results[:0] = results
                raise
            # Request slots are freed only now that their outcomes are durable.
            for r in results:
                if r.holds_slot:
                    self._slots.release()

    async def _drain(self) -> None:
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._flush()


def _short(reason: str | None, default: str) -> str:
    return (reason or default)[:300]
