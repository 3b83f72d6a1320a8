"""The one clock of the product: every "now", every pacing interval and every sleep.

The wiring makes one and hands it to everything (Services, the outbox sender, the flood
budget, persistence); nothing else reads the wall clock (ruff's TID251 forbids it outside
this file). Tests use FakeClock; `score-bot run --now` starts a RealClock at another instant
for tests and rehearsals.
"""

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
    """The wall clock; with `start`, shifted so that it reads `start` now and then runs at
    the wall clock's pace (a rehearsal of a later month on a copy of the database)."""

    def __init__(self, start: datetime | None = None):
        if start is not None and start.tzinfo is None:
            raise ValueError("the clock's start needs a time zone")
        self._offset = start - datetime.now(UTC) if start is not None else timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


# Where a FakeClock starts unless told: Tuesday 1 December 2026, 08:00 WIB, an hour before
# November's KPI round opens. `make test-dates` moves the tests' start (tests/clocks.py).
FAKE_START = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)


class FakeClock:
    """Virtual time: sleeping moves the clock forward at once."""

    def __init__(self, start: datetime | None = None):
        # In UTC, as the real clock reads: `now().date()` must be the UTC date here too.
        self._start = (start or FAKE_START).astimezone(UTC)
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
