"""A day as staff type it, in Indonesian or English: "3 Desember", "2026-12-03", "3/12",
"besok", "Senin depan", "tomorrow".

`dateparser` reads the dates; a small normaliser first turns the Indonesian phrases it does
not know ("lusa", "Senin depan", "3 hari lagi") into ones it does. Days are read day first
(3/12 is the 3rd of December, as Indonesians write it), a date without a year is the next
one to come, and "besok" counts from today in Jakarta (WIB), where staff work.

`read_coming_day` says what is wrong with a typed day by an error key; the caller words it.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import dateparser

from domain.provinces import WIB

# Error keys.
EMPTY = "empty"
NOT_A_DATE = "not_a_date"
PAST = "past"
TOO_FAR = "too_far"

# A round is moved for a holiday, not planned a season ahead: a date further off is more
# likely a wrong month or year than a wish.
MAX_AHEAD = timedelta(days=92)
_MAX_CHARS = 60

_WEEKDAYS_ID = ("senin", "selasa", "rabu", "kamis", "jumat", "jum'at", "sabtu", "minggu",
                "ahad")
_WEEKDAY_NEXT = re.compile(r"\b(" + "|".join(_WEEKDAYS_ID) + r")\s+(depan|ini)\b")
# (pattern, replacement), applied in order to the lower-cased, space-folded text.
_PHRASES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\b(tgl|tanggal)\.?\s*"), ""),
    (re.compile(r"\bbesok\s+lusa\b"), "dalam 3 hari"),
    (re.compile(r"\blusa\b"), "dalam 2 hari"),
    (re.compile(r"\b(\d{1,2})\s+hari\s+lagi\b"), r"dalam \1 hari"),
    (re.compile(r"\b(\d{1,2})\s+minggu\s+lagi\b"), r"dalam \1 minggu"),
    (re.compile(r"\bminggu\s+depan\b"), "dalam 1 minggu"),
    (re.compile(r"\bpekan\s+depan\b"), "dalam 1 minggu"),
    # A weekday is the next one to come anyway ("Senin depan": the coming Monday).
    (_WEEKDAY_NEXT, r"\1"),
    (re.compile(r"\bjum'at\b"), "jumat"),
    (re.compile(r"\bahad\b"), "minggu"),
    # "Agt" is the usual Indonesian short form of Agustus; dateparser knows "Agu".
    (re.compile(r"\bagt\b"), "agu"),
)


def normalise(text: str) -> str:
    """The typed text in words dateparser reads."""
    value = " ".join(text.casefold().split())
    for pattern, replacement in _PHRASES:
        value = pattern.sub(replacement, value)
    return " ".join(value.split())


def _parse(text: str, base: datetime, prefer: str) -> date | None:
    parsed = dateparser.parse(text, languages=["id", "en"], settings={
        "DATE_ORDER": "DMY", "PREFER_DATES_FROM": prefer, "RELATIVE_BASE": base,
        "RETURN_AS_TIMEZONE_AWARE": False})
    return parsed.date() if parsed is not None else None


def local_today(now: datetime) -> date:
    """Today in Jakarta."""
    return now.astimezone(ZoneInfo(WIB)).date()


def read_coming_day(text: str | None, now: datetime, *,
                    max_ahead: timedelta = MAX_AHEAD) -> tuple[date | None, str | None]:
    """(the day, None) for a day from today to `max_ahead` on, else (None, an error key).
    `now` is the clock's (aware) time; relative words count from it in WIB."""
    value = (text or "").strip()
    if not value:
        return None, EMPTY
    if len(value) > _MAX_CHARS:
        return None, NOT_A_DATE
    base = now.astimezone(ZoneInfo(WIB)).replace(tzinfo=None)
    today = base.date()
    words = normalise(value)
    day = _parse(words, base, "future")
    if day is None:
        return None, NOT_A_DATE
    if day < today:
        return None, PAST
    if day > today + max_ahead:
        # "1 Desember" typed on the 2nd is next year's to dateparser; meant was the one
        # that just passed. A typed year reads the same either way.
        earlier = _parse(words, base, "past")
        if earlier == today:  # today's date: "future" read it as next year's
            return today, None
        if earlier is not None and earlier < today:
            return None, PAST
        return None, TOO_FAR
    return day, None
