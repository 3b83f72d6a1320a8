"""Refusing code guessing: more than five wrong join codes in an hour lock joining for an hour."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

MAX_WRONG = 6  # five wrong codes are forgiven; the sixth within the hour locks
WINDOW = timedelta(hours=1)
LOCK = timedelta(hours=1)
# How far back wrong codes matter: a lock can start at most WINDOW after the first of six
# and lasts LOCK.
LOOKBACK = WINDOW + LOCK


def locked_until(wrong_attempts: Sequence[datetime], now: datetime) -> datetime | None:
    """When joining opens again, or None if it is open now.

    `wrong_attempts` are the times of wrong codes, oldest first. The lock starts at the sixth
    wrong code that falls within one hour of the first of those six.
    """
    attempts = sorted(wrong_attempts)
    for i in range(len(attempts) - MAX_WRONG + 1):
        first, fifth = attempts[i], attempts[i + MAX_WRONG - 1]
        if fifth - first <= WINDOW and now < fifth + LOCK:
            return fifth + LOCK
    return None


# From the third wrong code on, the user is told how many tries are left.
WARN_FROM = 3


def tries_left(wrong_attempts: Sequence[datetime], now: datetime) -> int:
    """Codes the user may still try before the lock, counting wrong ones of the last hour."""
    recent = [at for at in wrong_attempts if now - at <= WINDOW]
    return max(0, MAX_WRONG - len(recent))
