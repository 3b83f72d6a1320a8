"""Time for the outbox, injectable: tests run hours of pacing in milliseconds."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...

    def monotonic(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class RealClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


class FakeClock:
    """Virtual time: sleeping moves the clock forward at once."""

    def __init__(self, start: datetime | None = None):
        self._start = start or datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
        self._t = 0.0

    def now(self) -> datetime:
        return self._start + timedelta(seconds=self._t)

    def monotonic(self) -> float:
        return self._t

    def advance(self, seconds: float) -> None:
        self._t += max(0.0, seconds)

    async def sleep(self, seconds: float) -> None:
        # Let tasks that are ready run at the current time first, as they would in real time.
        await asyncio.sleep(0)
        self.advance(seconds)
        await asyncio.sleep(0)
