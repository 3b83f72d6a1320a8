"""One budget for everything the bot sends to Telegram, replies first.

Telegram lets a bot send about 30 messages a second in all and only short bursts to one chat,
and answers 429 (retry_after) beyond that. Replies to users and the outbox (broadcasts,
reminders) leave through the same bot, so they share one budget here, as PTB's rate limiter:

- every message waits for a free place in a sliding second, in all and for its chat;
- a reply waiting for a place goes before any outbox message (`rate_limit_args={"bulk":
  True}` marks those), so a broadcast never makes a user wait for an answer, and together
  they stay under the limit; the outbox's own pacing (BROADCAST_RATE) is the most it takes;
- a 429 all the same (Telegram's limits are not published exactly) stops every send for
  `retry_after`; a reply is then sent again, a few times at most, so the conversation never
  moves on as if the user had seen it. An outbox message's 429 goes back to the outbox, which
  waits it out and retries the row itself.
"""

from __future__ import annotations

import collections
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from chat.clock import Clock, RealClock

log = logging.getLogger(__name__)

# Methods that put a message in a chat: what Telegram's flood limits count.
_COUNTED = ("send", "copymessage", "forwardmessage")
JSON = Any


class SharedBudget(BaseRateLimiter[dict[str, Any]]):
    def __init__(self, *, overall: int = 29, per_chat: int = 3, window: float = 1.0,
                 reply_retries: int = 3, clock: Clock | None = None):
        # 29, not 30: the sandbox and Telegram count a sliding second from when they receive,
        # a little after we send.
        self.overall, self.per_chat, self.window = overall, per_chat, window
        self.reply_retries = reply_retries
        self.clock: Clock = clock or RealClock()
        self._sent: collections.deque[float] = collections.deque()
        self._by_chat: dict[object, collections.deque[float]] = {}
        self._paused_until = 0.0
        self._replies_waiting = 0
        # How long each reply since the last `take_reply_waits` waited for its place (the
        # outbox watch reports them); bounded, in case nothing takes them.
        self._reply_waits: collections.deque[float] = collections.deque(maxlen=100_000)

    def take_reply_waits(self) -> list[float]:
        """The seconds each reply waited for a place in all since the last call (0 for one
        that waited only for its own chat's turn)."""
        waits = list(self._reply_waits)
        self._reply_waits.clear()
        return waits

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def process_request(self, callback: Callable[..., Coroutine[Any, Any, JSON]],
                              args: Any, kwargs: dict[str, Any], endpoint: str,
                              data: dict[str, Any],
                              rate_limit_args: dict[str, Any] | None) -> JSON:
        bulk = bool(rate_limit_args and rate_limit_args.get("bulk"))
        counted = endpoint.lower().startswith(_COUNTED)
        attempt = 0
        while True:
            if counted:
                await self._take_place(data.get("chat_id"), bulk=bulk)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                wait = float(exc.retry_after if isinstance(exc.retry_after, (int, float))
                             else exc.retry_after.total_seconds())
                self._paused_until = max(self._paused_until, self.clock.monotonic() + wait)
                if bulk or attempt >= self.reply_retries:
                    raise
                attempt += 1
                log.warning("reply hit Telegram's flood limit; sending it again in %.0f s "
                            "(attempt %d)", wait, attempt)

    async def _take_place(self, chat: object, *, bulk: bool) -> None:
        if not bulk:
            self._replies_waiting += 1
        asked = self.clock.monotonic()
        # Whether the bot's limit in all held it (or a 429's pause), not this chat's own burst:
        # only that says how close the bot runs to Telegram's limit.
        crowded = False
        try:
            while True:
                now = self.clock.monotonic()
                wait = self._paused_until - now
                crowded = crowded or wait > 0
                if wait <= 0:
                    wait = self._wait_for_place(chat, now, bulk=bulk)
                    if wait <= 0:
                        self._record(chat, now)
                        if not bulk:
                            self._reply_waits.append(now - asked if crowded else 0.0)
                        return
                    crowded = crowded or len(self._sent) >= self.overall
                await self.clock.sleep(wait)
        finally:
            if not bulk:
                self._replies_waiting -= 1

    def _wait_for_place(self, chat: object, now: float, *, bulk: bool) -> float:
        """0 when a message may leave now, else how long until a place may free up."""
        horizon = now - self.window
        while self._sent and self._sent[0] <= horizon:
            self._sent.popleft()
        mine = self._by_chat.get(chat)
        while mine and mine[0] <= horizon:
            mine.popleft()
        if mine is not None and not mine:
            del self._by_chat[chat]
            mine = None
        waits = []
        if len(self._sent) >= self.overall:
            waits.append(self._sent[0] + self.window - now)
        if mine is not None and len(mine) >= self.per_chat:
            waits.append(mine[0] + self.window - now)
        if bulk and self._replies_waiting:
            # Replies first: look again shortly.
            waits.append(0.01)
        return max(waits, default=0.0)

    def _record(self, chat: object, now: float) -> None:
        self._sent.append(now)
        self._by_chat.setdefault(chat, collections.deque()).append(now)
