"""Trainer visits (kunjungan pendampingan): pure rules. Where a visit's times are read and
shown (its enterprise's province), what a report's free text may be, and which visits
are "unreported" (their time passed, the trainer has not said what happened)."""

from __future__ import annotations

from datetime import datetime

from domain.provinces import WIB, by_code

# What the trainer writes: a few sentences, not an essay (the owner reads the next steps).
REPORT_MAX = 1000
REASON_MAX = 300
EMPTY = "empty"
TOO_LONG = "too_long"
TOO_SHORT = "too_short"


def zone_of(province: str | None) -> str:
    """The time zone of a visit: its enterprise's province (WIB when unknown)."""
    found = by_code(province)
    return found.timezone if found else WIB


def clean_text(text: str | None, *, max_chars: int = REPORT_MAX) -> tuple[str | None, str | None]:
    """(the text, tidied, None) or (None, an error key): what was done, the next steps, a
    cancel's reason."""
    value = "\n".join(" ".join(line.split()) for line in (text or "").strip().splitlines())
    value = "\n".join(line for line in value.split("\n") if line)
    if not value:
        return None, EMPTY
    if len(value) > max_chars:
        return None, TOO_LONG
    if sum(ch.isalnum() for ch in value) < 2:
        return None, TOO_SHORT
    return value, None


def clean_reason(text: str | None) -> tuple[str | None, str | None]:
    return clean_text(text, max_chars=REASON_MAX)


def is_unreported(starts_at: datetime, now: datetime) -> bool:
    """A scheduled visit whose trainer could have reported it: past its time."""
    return starts_at <= now


def may_be_asked(starts_at: datetime, now: datetime) -> bool:
    """Whether "Did the visit happen?" can be answered yet (at its start, not before)."""
    return starts_at <= now

