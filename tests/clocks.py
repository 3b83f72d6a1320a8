"""Where the tests' clock starts. Every test runs on a FakeClock (chat/clock.py) unless it says
it needs the real one; `make test-dates` runs the date-sensitive tests (marked `dates`) with
TEST_CLOCK_START set to each instant that has broken a calendar before."""

from __future__ import annotations

import os
from datetime import datetime

from chat.clock import FAKE_START, FakeClock


def _start() -> datetime:
    text = os.environ.get("TEST_CLOCK_START")
    if not text:
        return FAKE_START
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"TEST_CLOCK_START={text!r}: give a time zone (+07:00 for WIB)")
    return moment


CLOCK_START = _start()


def virtual_clock(start: datetime | None = None) -> FakeClock:
    """A virtual clock at `start`, or where this run's tests start."""
    return FakeClock(start or CLOCK_START)
