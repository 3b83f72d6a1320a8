"""Signs that an enterprise's workers in the bot are not all its workers: more linked than
it enrolled with, or several joining within the hour (an owner joining accounts of his own
to read back a worker's survey answers, domain/owner_totals.py). Staff see them; what the
owner reads is protected whatever they show."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

# "Several within one hour": a poster read by a shift at once is possible, so this is a flag
# for staff to look at, not a refusal.
BURST = 3
WITHIN = timedelta(hours=1)


@dataclass(frozen=True)
class JoinFlags:
    linked: int                     # workers linked now
    enrolled: int                   # the headcount it enrolled with
    # When the latest group of BURST or more within one hour began (the latest: accounts
    # joined just before a round matter more than a shift that read the poster in March).
    burst_at: datetime | None = None
    burst_size: int = 0

    @property
    def over_headcount(self) -> bool:
        return self.linked > self.enrolled

    @property
    def any(self) -> bool:
        return self.over_headcount or self.burst_at is not None


def flags(joined: Sequence[datetime], linked: int, enrolled: int) -> JoinFlags:
    """`joined`: when each worker membership began (those who left too)."""
    times = sorted(joined)
    best_at, best = None, 0
    reached: datetime | None = None  # the last join of the group found so far
    start = 0
    for end, moment in enumerate(times):
        while moment - times[start] > WITHIN:
            start += 1
        size = end - start + 1
        if size < BURST:
            continue
        if reached is None or times[start] > reached:
            best_at, best = times[start], size  # a later group, apart from the one before
        elif size > best:
            best_at, best = times[start], size  # the same group, seen at its largest
        reached = moment
    return JoinFlags(linked=linked, enrolled=enrolled, burst_at=best_at, burst_size=best)
