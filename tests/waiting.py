"""Waiting for a state that nothing announces: one helper instead of copies of a loop.

What the sandbox records (messages, edits, callback answers, calls) is waited for with
`sandbox.wait_until`, which wakes on each change. Some states have no such event: rows another
process commits (`score-bot run` as a process, a standby sender), a file another process
writes, the outbox sender's commits and counters in its own task (the product announces
neither), a port another process opens. Those are asked again every `every` seconds, here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def poll_until(check: Callable[[], Awaitable[T | None]], *, timeout: float, what: str,
                     every: float = 0.01) -> T:
    """Until `check()` gives a true value (returned), asked every `every` seconds.

    The timeout is a safety net, not a pause: AssertionError naming `what` when it passes."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not (value := await check()):
        if loop.time() > deadline:
            raise AssertionError(f"{what}: not within {timeout}s")
        await asyncio.sleep(every)
    return value
