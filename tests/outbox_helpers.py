"""Shared pieces of the outbox tests: recipients, a timed channel, killing a sender."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import func, select

from bot.sandbox import BotApiSandbox
from db.models import OutboxContent, OutboxGroup, OutboxMessage, OutboxState, User, UserStatus
from db.outbox import Content, enqueue
from db.types import utcnow
from jobs.channel import Channel, Outcome, OutgoingMessage
from jobs.clock import Clock
from jobs.outbox import OutboxSender
from tests.harness import BotHarness

FINAL = (OutboxState.SENT, OutboxState.FAILED, OutboxState.SKIPPED, OutboxState.EXPIRED)


@dataclass
class TimedChannel:
    """Notes when (on the sender's clock) each message left, and what came of it."""

    inner: Channel
    clock: Clock
    log: list[tuple[float, int, str]] = field(default_factory=list)

    async def send(self, message: OutgoingMessage) -> Outcome:
        at = self.clock.monotonic()
        outcome = await self.inner.send(message)
        self.log.append((at, message.recipient_id, outcome.kind.value))
        return outcome


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
    now = utcnow()
    async with bot.sessionmaker() as session, session.begin():
        session.add_all(User(id=i, language=language, consent_at=now, status=UserStatus.ACTIVE,
                             created_at=now, last_seen_at=now) for i in ids)
    if open_chat:
        for i in ids:
            bot.sandbox.open_chat(i, language_code=language)


async def queue(bot: BotHarness, ids: range | list[int], *, tag: str = "t", at=None,  # noqa: ANN001
                group: str = "test:tips", **options) -> None:  # noqa: ANN003
    """A message "Tip <tag>" to each of `ids`, under the key `tag` (rows `tag:<id>`)."""
    now = utcnow()
    async with bot.sessionmaker() as session, session.begin():
        await enqueue(session, group=group, key=tag, recipients=[(i, "id") for i in ids],
                      contents={"id": options.pop("content", Content(f"Tip {tag}"))},
                      fallback="id", now=now, at=at or now, **options)


async def count_states(bot: BotHarness) -> Counter:
    async with bot.sessionmaker() as session:
        rows = await session.execute(select(OutboxMessage.state, func.count())
                                     .group_by(OutboxMessage.state))
        return Counter({state: n for state, n in rows})


async def wait_final(bot: BotHarness, total: int, timeout: float = 30.0) -> Counter:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        counts = await count_states(bot)
        if sum(counts[s] for s in FINAL) >= total:
            return counts
        await asyncio.sleep(0.01)
    raise AssertionError(f"not all final: {await count_states(bot)}")


async def kill(sender: OutboxSender) -> None:
    """As SIGKILL would: every task of the sender stops where it is; nothing more is recorded.

    A commit already under way is let finish first: in one test process, a transaction
    cut off by cancellation would keep SQLite locked, where a dead process frees it at once.
    """
    tasks = [t for t in (sender._task, *sender._tasks) if t is not None]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    async with sender._flush_lock:
        if sender._flusher is not None:
            sender._flusher.cancel()
            await asyncio.gather(sender._flusher, return_exceptions=True)


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
