"""The outbox sender: one long-running loop that delivers queued messages at Telegram's pace.

Not a repeating scheduler job (runs would overlap when one is long). It claims due rows,
sends each in an evenly spaced slot at `rate` per second (never a burst), keeps several
requests in flight so a slow round trip does not lower the rate, keeps at least a second
between two messages to one chat, and records outcomes in batches. A row past its expiry
time is marked expired instead of sent; a row of a cancelled group is skipped. A photo or
document is uploaded once: later rows wait a moment and then send the channel's reference.

Crash safety: a request slot is released only once the outcome of its message is committed,
so after a hard kill at most `in_flight` messages were sent without being recorded; those
are sent again when the next sender starts (the only duplicates). Rows claimed but not yet
sent are simply sent then. Interactive replies never pass through here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from chat.clock import Clock
from db.models import MediaKind, OutboxMessage, OutboxState
from db.queries import outbox as outbox_db
from db.session import Sessions
from jobs.channel import Attachment, Channel, Outcome, OutcomeKind, OutgoingMessage
from jobs.sender_lock import NoLock

log = logging.getLogger(__name__)

# Evenly spaced slots a hair longer than 1/rate: jitter between the slot and the request
# reaching Telegram must not put rate + 1 messages into one second.
PACE_MARGIN = 0.98
# How often claimed rows are checked against cancellation while they are being sent.
RECHECK_SECONDS = 1.0
# A row whose photo or document is being uploaded by another row, or a venue whose invitation
# is not sent yet, tries again this much later.
UPLOAD_WAIT = 1.0


@dataclass
class SenderConfig:
    rate: float = 25.0  # messages per second, for all bulk messages together
    in_flight: int = 16  # requests in flight: also the bound on duplicates after a hard kill
    lease: timedelta = timedelta(seconds=120)
    per_chat_gap: float = 1.0  # seconds between two outbox messages to one chat
    max_attempts: int = 5  # for network errors, timeouts and 5xx
    idle_poll: float = 1.0  # how often an idle sender looks for due rows
    expiry_poll: float = 5.0  # how often pending rows past their expiry are marked expired
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
    media_ref: tuple[int, str] | None = None  # (media id, the channel's reference to it)


@dataclass
class SenderStats:
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    expired: int = 0
    retried: int = 0
    last_sent_at: Any = None
    errors: dict[str, int] = field(default_factory=dict)


class OutboxSender:
    def __init__(self, sessionmaker: Sessions, channel: Channel, *,
                 clock: Clock, config: SenderConfig | None = None,
                 lock: Any = None, skip_locked: bool = False,
                 on_sent: Callable[[OutgoingMessage], Awaitable[None]] | None = None):
        self.sessionmaker = sessionmaker
        self.channel = channel
        self.config = config or SenderConfig()
        self.clock = clock
        self.lock = lock or NoLock()
        self.skip_locked = skip_locked
        self.on_sent = on_sent
        self.stats = SenderStats()
        self._slots = asyncio.Semaphore(self.config.in_flight)
        # Requests out whose outcome is not recorded yet, and an event set when there are none.
        self._out = 0
        self._quiet = asyncio.Event()
        self._quiet.set()
        self._results: list[_Result] = []
        self._delivered = asyncio.Event()
        self._wake = asyncio.Event()
        self._stopping = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._flush_lock = asyncio.Lock()
        self._next_slot = 0.0
        self._paused_until = 0.0
        self._last_to_chat: dict[int, float] = {}
        self._next_expiry_check = 0.0
        # Media the channel already has (id -> reference), and media being uploaded now.
        self._media_refs: dict[int, str] = {}
        self._uploading: set[int] = set()
        self._task: asyncio.Task[None] | None = None
        self._flusher: asyncio.Task[None] | None = None
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
        """Rows were cancelled or dropped: check claimed rows before the next send."""
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
        await self._expire_overdue()
        async with self.sessionmaker() as session, session.begin():
            rows = await outbox_db.claim_due(
                session, now=self.clock.now(), limit=self.config.claim_limit(),
                lease=self.config.lease, skip_locked=self.skip_locked, owner=self.owner)
            blocked = await outbox_db.blocked_among(session, {r.recipient_id for r in rows})
            contents = await outbox_db.contents_of(session, {r.content_id for r in rows})
            behind = await outbox_db.waiting_behind(
                session, [r.id for r in rows if contents[r.content_id].place is not None])
        if not rows:
            await self._wait_for_due()
            return
        cancelled = {c.group_id for c in contents.values() if c.cancelled}
        await self._send_all(rows, _Batch(blocked, cancelled, contents, behind))

    async def _wait_for_due(self) -> None:
        """Nothing due: sleep until the next retry or deferred row, or until woken."""
        async with self.sessionmaker() as session:
            due_at = await outbox_db.next_due_at(session, self.clock.now())
        if due_at is not None:
            wait = (due_at - self.clock.now()).total_seconds()
            if wait <= self.config.idle_poll:
                await self.clock.sleep(max(wait, 0.0) + 0.001)
                return
        await self._idle(self.config.idle_poll)

    async def _expire_overdue(self) -> None:
        """Mark what can no longer be sent in time, so the counts say so without waiting for
        the row's turn (it is checked again right before sending)."""
        if self.clock.monotonic() < self._next_expiry_check:
            return
        self._next_expiry_check = self.clock.monotonic() + self.config.expiry_poll
        async with self.sessionmaker() as session, session.begin():
            expired = await outbox_db.expire_overdue(session, self.clock.now())
        if expired:
            log.info("outbox: %d messages expired before they could be sent", expired)

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

    async def _send_all(self, rows: list[OutboxMessage], batch: _Batch) -> None:
        recheck_at = self.clock.monotonic() + RECHECK_SECONDS
        dropped: set[int] = set()
        for index, row in enumerate(rows):
            if self._stopping or not await self.lock.hold():
                # Stopping, or the lock is gone (another process sends now): hand back.
                self._give_back(rows[index:])
                return
            if self._recheck_now or self.clock.monotonic() >= recheck_at:
                # A group may have been cancelled, rows dropped or taken over since the claim.
                self._recheck_now = False
                recheck_at = self.clock.monotonic() + RECHECK_SECONDS
                self._forget_old_chats()
                try:
                    dropped, cancelled = await self._no_longer_ours(rows[index:], batch)
                except Exception:
                    log.exception("outbox: could not re-check claimed rows; giving them back")
                    self._give_back(rows[index:])
                    return
                batch.cancelled |= cancelled
            if row.id in dropped:
                continue
            content = batch.contents[row.content_id]
            if content.group_id in batch.cancelled:
                # Queued while its group was being cancelled: skipped like the rest of it.
                self._finish(row, OutboxState.SKIPPED, "cancelled")
                continue
            if row.recipient_id in batch.blocked:
                self._finish(row, OutboxState.SKIPPED, "blocked")
                continue
            if self._expired(row):
                self._finish(row, OutboxState.EXPIRED)
                continue
            wait = self._chat_wait(row.recipient_id)
            if not wait and (self._upload_pending(content) or row.id in batch.behind):
                wait = UPLOAD_WAIT
            if wait > 0:
                # Another message went to this chat less than a second ago, or another row is
                # uploading this row's file: later, not now.
                self._results.append(_Result(row.id, row.recipient_id, {
                    "id": row.id, "state": OutboxState.PENDING, "lease_until": None,
                    "next_attempt_at": self.clock.now() + timedelta(seconds=wait)}))
                continue
            await self._acquire_slot()
            if not await self._pace():
                self._release_slot()
                self._give_back(rows[index:])
                return
            if self._expired(row):
                # Its time ran out while it waited for its slot (a 429 can ask for minutes).
                self._release_slot()
                self._finish(row, OutboxState.EXPIRED)
                continue
            uploads = content.media_id if self._needs_upload(content) else None
            if uploads is not None:
                self._uploading.add(uploads)
            self._last_to_chat[row.recipient_id] = self.clock.monotonic()
            task = asyncio.create_task(self._deliver(row, content, uploads))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        self._delivered.set()

    def _finish(self, row: OutboxMessage, state: OutboxState, reason: str | None = None) -> None:
        """A row that ends without a request: skipped or expired."""
        change: dict[str, Any] = {"id": row.id, "state": state, "lease_until": None}
        if reason:
            change["last_error"] = reason
        self._results.append(_Result(row.id, row.recipient_id, change))
        if state is OutboxState.EXPIRED:
            self.stats.expired += 1
        else:
            self.stats.skipped += 1

    def _expired(self, row: OutboxMessage) -> bool:
        return row.expires_at is not None and row.expires_at <= self.clock.now()

    def _needs_upload(self, content: outbox_db.StoredContent) -> bool:
        return (content.uploads and content.media_ref is None
                and content.media_id not in self._media_refs)

    def _upload_pending(self, content: outbox_db.StoredContent) -> bool:
        return self._needs_upload(content) and content.media_id in self._uploading

    async def _no_longer_ours(self, rows: list[OutboxMessage],
                              batch: _Batch) -> tuple[set[int], set[int]]:
        """Rows no longer ours (cancelled, dropped, taken over), and cancelled groups."""
        ids = [r.id for r in rows]
        groups = {batch.contents[r.content_id].group_id for r in rows}
        async with self.sessionmaker() as session:
            ours = await outbox_db.still_claimed(session, ids, self.owner)
            cancelled = await outbox_db.cancelled_groups(session, groups)
        return {r.id for r in rows if r.id not in ours}, cancelled

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
        self._out += 1
        self._quiet.clear()

    def _release_slot(self) -> None:
        self._slots.release()
        self._out -= 1
        if self._out == 0:
            self._quiet.set()

    async def settled(self, within: float) -> None:
        """Until every request already sent has its outcome recorded (a cancelled broadcast's
        messages in flight then count as sent); at most `within` seconds."""
        if self._out:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._quiet.wait(), within)

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

    async def _deliver(self, row: OutboxMessage, content: outbox_db.StoredContent,
                       uploads: int | None) -> None:
        message: OutgoingMessage | None = None
        try:
            message = await self._message(row, content, uploads)
            outcome = await self.channel.send(message)
        except Exception as exc:
            log.exception("outbox channel failed on message %s", row.id)
            outcome = Outcome(OutcomeKind.TRANSIENT, reason=type(exc).__name__)
        result = self._result(row, outcome)
        result.holds_slot = True
        if uploads is not None:
            self._uploading.discard(uploads)
            if outcome.media_ref:
                self._media_refs[uploads] = outcome.media_ref
                result.media_ref = (uploads, outcome.media_ref)
        self._results.append(result)
        self._delivered.set()
        if outcome.kind is OutcomeKind.SENT and self.on_sent is not None and message:
            await self.on_sent(message)

    async def _message(self, row: OutboxMessage, content: outbox_db.StoredContent,
                       uploads: int | None) -> OutgoingMessage:
        attachment = None
        if content.place is not None:
            attachment = Attachment(MediaKind.VENUE, place=content.place)
        elif content.media_id is not None and content.media_kind is not None:
            if uploads is not None:
                async with self.sessionmaker() as session:
                    data = await outbox_db.media_data(session, uploads)
                attachment = Attachment(content.media_kind, data=data,
                                        filename=content.media_filename)
            else:
                ref = content.media_ref or self._media_refs[content.media_id]
                attachment = Attachment(content.media_kind, ref=ref,
                                        filename=content.media_filename)
        return OutgoingMessage(row.recipient_id, content.text, content.parse_mode,
                               content.buttons, attachment)

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
                    await outbox_db.set_media_refs(session, dict(
                        r.media_ref for r in results if r.media_ref))
            except Exception:
                self._results[:0] = results
                raise
            # Request slots are freed only now that their outcomes are durable.
            for r in results:
                if r.holds_slot:
                    self._release_slot()
            if any(r.change.get("state") is OutboxState.PENDING for r in results):
                # Rows put back for later (the chat's gap, an upload, a retry): the loop may
                # have chosen its wait before this commit, seeing them still claimed (due
                # only when the lease lapses), and would idle a whole poll. It looks again.
                self._wake.set()

    async def _drain(self) -> None:
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._flush()


@dataclass
class _Batch:
    """What the sender learnt about a claim of rows: blocked recipients, cancelled groups
    (more may be found while sending), and the rows' contents."""

    blocked: set[int]
    cancelled: set[int]
    contents: dict[int, outbox_db.StoredContent]
    # Venues whose invitation (an earlier message of their group) to the same recipient is
    # not sent yet: they wait for it.
    behind: set[int] = field(default_factory=set)


def _short(reason: str | None, default: str) -> str:
    return (reason or default)[:300]
