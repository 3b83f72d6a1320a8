"""Good-practice tips as data: the library shipped in `domain/tips/*.toml` (one file per
SCORE module), read and checked here, and the pure rules that hand them out: which tip
someone gets next, and when the weekly tip is due.

A shipped tip has a stable `key`: the database keeps it beside staff's own tips, so an
upgrade adds new shipped tips and refreshes the texts staff have not edited
(db/tips.load_shipped). A file that breaks the rules below does not load, so a mistake fails
the tests, not a user.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

from domain.modules import MODULES

LANGUAGES = ("id", "en")
WORKER, MANAGER = "worker", "manager"
AUDIENCES = (WORKER, MANAGER)
KEY = re.compile(r"^[a-z0-9][a-z0-9-]{2,39}$")
# A tip is read in a chat: a few sentences, never a page.
MIN_CHARS, MAX_CHARS = 120, 900


class TipError(ValueError):
    """A tip file that does not follow the rules."""


@dataclass(frozen=True)
class ShippedTip:
    key: str
    module: int
    audience: str
    text: Mapping[str, str]  # language -> text


def audience_of(role: str | None) -> str:
    """Workers read tips written for workers ("Anda": what they can do or ask for); owners,
    admins, trainers and staff the ones written for managers."""
    return WORKER if role in (None, WORKER) else MANAGER


def check_text(text: str) -> str | None:
    """Why a tip's text (typed by staff, or shipped) cannot be used; None when it can."""
    stripped = text.strip()
    if len(stripped) < MIN_CHARS:
        return "too_short"
    if len(stripped) > MAX_CHARS:
        return "too_long"
    return None


def parse(raw: Mapping[str, Any], name: str = "?") -> list[ShippedTip]:
    def fail(message: str) -> TipError:
        return TipError(f"{name}: {message}")

    module = raw.get("module")
    if module not in MODULES:
        raise fail(f"module must be one of {MODULES}, not {module!r}")
    entries = raw.get("tip")
    if not isinstance(entries, list) or not entries:
        raise fail("no [[tip]] entries")
    tips: list[ShippedTip] = []
    for entry in entries:
        key = entry.get("key")
        if not isinstance(key, str) or not KEY.match(key):
            raise fail(f"bad key {key!r}: lower-case letters, digits and dashes, 3-40")
        unknown = set(entry) - {"key", "audience", *LANGUAGES}
        if unknown:
            raise fail(f"{key}: unknown fields {sorted(unknown)}")
        audience = entry.get("audience")
        if audience not in AUDIENCES:
            raise fail(f"{key}: audience must be one of {AUDIENCES}")
        texts: dict[str, str] = {}
        for language in LANGUAGES:
            text = entry.get(language)
            if not isinstance(text, str):
                raise fail(f"{key}: no text in {language}")
            problem = check_text(text)
            if problem is not None:
                raise fail(f"{key}: the {language} text is {problem.replace('_', ' ')}")
            texts[language] = " ".join(text.split())
        tips.append(ShippedTip(key, module, audience, texts))
    return tips


@cache
def library() -> tuple[ShippedTip, ...]:
    """Every shipped tip, checked: keys unique across the files."""
    folder = resources.files("domain").joinpath("tips")
    tips: list[ShippedTip] = []
    for source in sorted(folder.iterdir(), key=lambda f: f.name):
        if source.name.endswith(".toml"):
            tips += parse(tomllib.loads(source.read_text(encoding="utf-8")), source.name)
    keys = [t.key for t in tips]
    twice = sorted({k for k in keys if keys.count(k) > 1})
    if twice:
        raise TipError(f"tip keys used twice: {twice}")
    return tuple(tips)


# --- who gets which tip --------------------------------------------------------------------

@dataclass(frozen=True)
class Candidate:
    id: int
    key: str  # a stable name for the order (a shipped key, or the row id of staff's own)


def next_tip(candidates: Sequence[Candidate], last_sent: Mapping[int, datetime],
             user_id: int) -> Candidate | None:
    """The tip this user gets next: one they have never had, else (all seen) the one they
    had longest ago, so the library starts over in the same order. Among those never had,
    an order of the user's own (a hash), so colleagues do not all read the same tip."""
    if not candidates:
        return None

    def shuffled(candidate: Candidate) -> str:
        return hashlib.sha256(f"{user_id}:{candidate.key}".encode()).hexdigest()

    fresh = [c for c in candidates if c.id not in last_sent]
    if fresh:
        return min(fresh, key=shuffled)
    return min(candidates, key=lambda c: (last_sent[c.id], shuffled(c)))


# --- the weekly tip ------------------------------------------------------------------------

WEEKLY_DAY = 0                 # Monday
WEEKLY_TIME = time(19, 30)     # after the day shift, at home
# A bot that was down at the moment still sends that week's tip within this time after it.
CATCH_UP = timedelta(days=2)
# A pulse survey's first days: workers get no tip then (one message at a time is enough).
SURVEY_QUIET_DAYS = 3


def weekly_moment(now: datetime, zone: str) -> datetime:
    """This week's tip moment in `zone`: Monday 19.30 there, of the week `now` is in."""
    local = now.astimezone(ZoneInfo(zone))
    monday = local.date() - timedelta(days=(local.weekday() - WEEKLY_DAY) % 7)
    return datetime.combine(monday, WEEKLY_TIME, tzinfo=ZoneInfo(zone))


def week_label(moment: datetime) -> str:
    """"2026-W50": the ISO week of a tip moment; part of the outbox keys."""
    year, week, _day = moment.date().isocalendar()
    return f"{year}-W{week:02d}"


def weekly_due(now: datetime, zone: str) -> datetime | None:
    """This week's moment in `zone` when its tip is due now (passed, within CATCH_UP)."""
    moment = weekly_moment(now, zone)
    return moment if moment <= now < moment + CATCH_UP else None


def survey_just_opened(opens_on: Sequence[date], day: date) -> bool:
    """Whether a pulse round opened on one of `opens_on` is in its first days on `day`."""
    return any(0 <= (day - opened).days < SURVEY_QUIET_DAYS for opened in opens_on)
