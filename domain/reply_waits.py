"""How long replies waited for a place in Telegram's flood budget: the summary the outbox
watch reports, and when it is worth reporting.

Replies go before outbox messages, so a reply waits only when replies alone fill the budget
(about 30 messages a second) or one chat gets more than three a second. A wait a person
notices is the sign that the bot runs at Telegram's limit: fewer messages per answer, or a
lower BROADCAST_RATE, would help.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

# A reply that waited less than this did not wait in any way a person notices.
NOTICEABLE = 0.1
# Reported when the slowest twentieth of replies waited this long, or one waited this long.
REPORT_P95 = 0.5
REPORT_LONGEST = 2.0
# A minute with fewer replies is not near the limit of about 30 a second, whatever waited.
MIN_REPLIES = 20


@dataclass(frozen=True)
class ReplyWaits:
    replies: int     # replies sent in the period
    waited: int      # of them, how many waited a noticeable time
    median: float    # seconds
    p95: float
    longest: float

    @property
    def matters(self) -> bool:
        """Worth telling: people noticed the wait."""
        return self.replies >= MIN_REPLIES and (
            self.p95 >= REPORT_P95 or self.longest >= REPORT_LONGEST)


def summary(waits: Sequence[float]) -> ReplyWaits | None:
    """The waits of one period's replies, in seconds; None when no reply was sent."""
    if not waits:
        return None
    ordered = sorted(waits)
    p95 = ordered[max(0, -(-len(ordered) * 95 // 100) - 1)]
    return ReplyWaits(replies=len(ordered), waited=sum(w >= NOTICEABLE for w in ordered),
                      median=statistics.median(ordered), p95=p95, longest=ordered[-1])
