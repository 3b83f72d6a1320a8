"""Use cases that queue messages rendered before their transaction: render, commit, and
again when the transaction found that what was rendered no longer fits (`db.results.Stale`).

Rendering (texts in every language, a poster) happens outside the transaction, so no lock
waits behind it; the use case then queues the rendered messages with what it stores, in
one commit, and a reader of the use case sees everything it commits.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from db.results import Stale

ATTEMPTS = 3

P = TypeVar("P")
T = TypeVar("T")


async def rendered_first(render: Callable[[], Awaitable[P]],
                         commit: Callable[[P], Awaitable[T]]) -> T:
    """`commit(await render())`, rendered afresh and retried (up to ATTEMPTS) when the
    commit raises Stale: something changed in between, such as a round opening."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return await commit(await render())
        except Stale:
            if attempt == ATTEMPTS:
                raise
    raise AssertionError("unreachable")
