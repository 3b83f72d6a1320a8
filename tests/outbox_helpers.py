"""Shared pieces of the outbox tests: recipients, a timed channel, killing a sender."""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from chat.clock import Clock
from db.models import OutboxContent, OutboxGroup, OutboxMessage, OutboxState, User, UserStatus
from db.queries.outbox import Content, enqueue
from jobs.channel import Channel, Outcome, OutgoingMessage
from jobs.outbox import OutboxSender
from sandbox import BotApiSandbox
from tests.harness import BotHarness
from tests.waiting import poll_until

FINAL = (OutboxState.SENT, OutboxState.FAILED, OutboxState.SKIPPED, OutboxState.EXPIRED)
MARKER_CHAT = 4_000_000  # receives `sent_marker`'s messages; outside every test's ids
_markers = itertools.count(1)
# Due on any clock a test uses: the real one, and a FakeClock (which starts on 2026-12-01).
# Not "now": once real time passed the FakeClock's, such rows were never due under it.
DUE_LONG_AGO = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass
class TimedChannel:
    """Notes when (on the sender's clock) each message left, and what came of it."""

    inner: Channel
    clock: Clock
    log: list[tuple[float, int, str]] = field(default_factory=list)
    _grew: asyncio.Event = field(default_factory=asyncio.Event, repr=False, compare=False)

    async def send(self, message: OutgoingMessage) -> Outcome:
        at = self.clock.monotonic()
        outcome = await self.inner.send(message)
        self.log.append((at, message.recipient_id, outcome.kind.value))
        self._grew.set()
        return outcome

    async def wait_logged(self, count: int, timeout: float) -> None:
        """Until `count` messages went through this channel (woken by each)."""
        async def enough() -> None:
            while len(self.log) < count:
                self._grew.clear()
                await self._grew.wait()

        await asyncio.wait_for(enough(), timeout)


class GateChannel:
    """Lets `allow` messages through, then holds every later one before or after sending."""

    def __init__(self, inner: Channel, allow: int, *, hold_after_send: bool):
        self.inner, self.allow, self.after = inner, allow, hold_after_send
        self.count = 0
        self.held = asyncio.Event()

    async def send(self, message: OutgoingMessage) -> Outcome:
        self.count += 1
        if self.count <= self.allow:
            return await self.inner.send(message)
        if self.after:
            await self.inner.send(message)
        self.held.set()
        await asyncio.Event().wait()  # until the "process" is killed
        raise AssertionError("unreachable")


async def add_recipients(bot: BotHarness, ids: range | list[int], *, language: str = "id",
                         open_chat: bool = True) -> None:
    now = bot.clock.now()
    async with bot.sessionmaker() as session, session.begin():
        session.add_all(User(id=i, language=language, consent_at=now, status=UserStatus.ACTIVE,
                             created_at=now, last_seen_at=now) for i in ids)
    if open_chat:
        for i in ids:
            bot.sandbox.open_chat(i, language_code=language)


async def queue(bot: BotHarness, ids: range | list[int], *, tag: str = "t",
                at: datetime = DUE_LONG_AGO, group: str = "test:tips",
                **options: Any) -> None:
    """A message "Tip <tag>" to each of `ids`, under the key `tag` (rows `tag:<id>`)."""
    async with bot.sessionmaker() as session, session.begin():
        await enqueue(session, group=group, key=tag, recipients=[(i, "id") for i in ids],
                      contents={"id": options.pop("content", Content(f"Tip {tag}"))},
                      fallback="id", now=min(at, bot.clock.now()), at=at, **options)


async def count_states(bot: BotHarness) -> Counter:
    async with bot.sessionmaker() as session:
        rows = await session.execute(select(OutboxMessage.state, func.count())
                                     .group_by(OutboxMessage.state))
        return Counter({state: n for state, n in rows})


async def wait_final(bot: BotHarness, total: int, timeout: float = 30.0) -> Counter:
    async def all_final() -> Counter | None:
        counts = await count_states(bot)
        return counts if sum(counts[s] for s in FINAL) >= total else None

    # The sender commits the outcomes in its own task, and announces none: asked again.
    try:
        return await poll_until(all_final, timeout=timeout, what="not all final")
    except AssertionError:
        raise AssertionError(f"not all final: {await count_states(bot)}") from None


async def kill(sender: OutboxSender) -> None:
    """As SIGKILL would: every task of the sender stops where it is; nothing more is recorded."""
    await sender.abandon()


async def sent_marker(bot: BotHarness, sender: OutboxSender, timeout: float = 20.0) -> None:
    """Queue a marker message now and wait until `sender` has sent and recorded it.

    The pass that claimed it also queued due broadcasts and claimed every other due row, so
    afterwards "nothing else was queued or sent" holds without a guessed pause. The marker
    goes to a chat without a user row (no audience includes it) and is no "Tip" (see
    `deliveries`).
    """
    key = f"marker:{next(_markers)}"
    bot.sandbox.open_chat(MARKER_CHAT)
    async with bot.sessionmaker() as session, session.begin():
        now = sender.clock.now()
        await enqueue(session, group="test:markers", key=key, recipients=[(MARKER_CHAT, "id")],
                      contents={"id": Content("Marker")}, fallback="id", now=now, at=now)
    sender.wake()

    async def marker_sent() -> bool:
        async with bot.sessionmaker() as session:
            state = await session.scalar(select(OutboxMessage.state)
                                         .where(OutboxMessage.dedup_key == f"{key}:{MARKER_CHAT}"))
        assert state in (OutboxState.PENDING, OutboxState.SENDING, OutboxState.SENT), state
        return state == OutboxState.SENT

    # Sent *and recorded*: the sender's commit, which nothing announces, so it is asked again.
    await poll_until(marker_sent, timeout=timeout, what="the sender never sent the marker")


def deliveries(sandbox: BotApiSandbox, text_prefix: str = "Tip") -> Counter:
    """How many times each chat received an outbox message."""
    return Counter(c.params["chat_id"] for c in sandbox.calls_of("sendMessage")
                   if c.error is None and str(c.params.get("text", "")).startswith(text_prefix))


@dataclass(frozen=True)
class QueuedRow:
    recipient_id: int
    text: str
    parse_mode: str | None
    group: str
    state: OutboxState


async def queued_rows(bot: BotHarness) -> list[QueuedRow]:
    """Every outbox row with what it says and its group, by recipient."""
    async with bot.sessionmaker() as session:
        rows = await session.execute(
            select(OutboxMessage.recipient_id, OutboxContent.text, OutboxContent.parse_mode,
                   OutboxGroup.key, OutboxMessage.state)
            .join(OutboxContent, OutboxContent.id == OutboxMessage.content_id)
            .join(OutboxGroup, OutboxGroup.id == OutboxContent.group_id)
            .order_by(OutboxMessage.recipient_id, OutboxMessage.id))
        return [QueuedRow(*r) for r in rows]
