"""What a statement did."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult, Result


def affected(result: Result[Any]) -> int:
    """Rows an INSERT, UPDATE or DELETE touched. AsyncSession.execute is typed as returning a
    Result; for these statements it is a CursorResult, which counts them."""
    return max(cast(CursorResult[Any], result).rowcount or 0, 0)


class Stale(Exception):
    """What a use case was given, rendered before its transaction (a message naming a round's
    dates, an enterprise's name), no longer matches what the transaction found: nothing was
    committed. The caller renders again and retries (`services/prepared.py`)."""
