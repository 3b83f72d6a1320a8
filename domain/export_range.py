"""The days an export covers, as staff write them after /export or on the command line:
ISO dates, `2026-10-01`, the first and the last day (both optional)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

NOT_A_DATE = "not_a_date"
TOO_MANY = "too_many"
BACKWARDS = "backwards"


def read_day(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return None


def read_range(words: Sequence[str]) -> tuple[date | None, date | None, str | None]:
    """(first day, last day, None), or (None, None, an error key)."""
    if len(words) > 2:
        return None, None, TOO_MANY
    days = [read_day(word) for word in words]
    if any(day is None for day in days):
        return None, None, NOT_A_DATE
    since = days[0] if days else None
    until = days[1] if len(days) > 1 else None
    if since is not None and until is not None and since > until:
        return None, None, BACKWARDS
    return since, until, None
