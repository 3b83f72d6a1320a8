"""Per-user ordering, cross-user concurrency, and a commit of the state after every update."""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import Awaitable, Callable, Collection
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from chat.describe import describe, names_no_user

log = logging.getLogger("bot.updates")

# A person on a bad network may have a few dozen messages delivered at once; thousands are a
# flood (a script, an attacker). Beyond this many waiting, a user's updates are dropped, so
# their queue never makes anyone else wait.
MAX_WAITING_PER_USER = 50


def _key(update: object) -> int | None:
    if isinstance(update, Update):
        if update.effective_user:
            return update.effective_user.id
        if update.effective_chat:
            return update.effective_chat.id
    return None


class PerUserUpdateProcessor(BaseUpdateProcessor):
    """Updates of one user run one after another, in arrival order; different users at once.

    After each update, `after_update` runs while the user's lock is still held: it commits the
    conversation state, so the next update of that user always sees the committed state.
    """

    def __init__(self, max_concurrent_updates: int = 64):
        # PTB's own semaphore is taken before our per-user lock, so one user with many queued
        # updates would hold every slot; it gets a wide limit, and the real one is taken
        # inside the user's lock, where only running updates count.
        super().__init__(max(4096, max_concurrent_updates))
        self._running = asyncio.Semaphore(max_concurrent_updates)
        # The bot's own commands: only those are named in the log.
        self.commands: Collection[str] = ()
        self._locks: dict[int, tuple[asyncio.Lock, int]] = {}
        self.after_update: Callable[[], Awaitable[Any]] | None = None
        # Updates dropped because their user already had too many waiting.
        self.dropped = 0
        self.dropped_from: dict[int, int] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = _key(update)
        if key is not None and self._locks.get(key, (None, 0))[1] >= MAX_WAITING_PER_USER:
            if inspect.iscoroutine(coroutine):
                coroutine.close()  # never started: nothing to undo
            self.dropped += 1
            if self.dropped_from.get(key, 0) % 1000 == 0:
                log.warning("user=%s sends faster than they can be answered: dropping updates",
                            key)
            self.dropped_from[key] = self.dropped_from.get(key, 0) + 1
            return
        start = time.perf_counter()
        try:
            if key is None:
                await self._run(update, coroutine)
            else:
                lock, users = self._locks.get(key, (asyncio.Lock(), 0))
                self._locks[key] = (lock, users + 1)
                try:
                    async with lock:
                        await self._run(update, coroutine)
                finally:
                    lock, users = self._locks[key]
                    if users <= 1:
                        del self._locks[key]
                    else:
                        self._locks[key] = (lock, users - 1)
        finally:
            log.info("update user=%s %s %.0fms", "-" if names_no_user(update) else key,
                     describe(update, self.commands), (time.perf_counter() - start) * 1000)

    async def _run(self, update: object, coroutine: Awaitable[Any]) -> None:
        async with self._running:
            await self._handle(update, coroutine)

    async def _handle(self, update: object, coroutine: Awaitable[Any]) -> None:
        await coroutine
        if self.after_update is not None:
            try:
                await self.after_update()
            except Exception:
                log.exception("could not save conversation state after %s",
                              describe(update, self.commands))

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass
