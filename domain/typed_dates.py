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
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import dateparser

from domain.provinces import WIB, WIT, WITA

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


# --- a day and a time ("7/12 09.00", "besok jam 2 siang", "tomorrow 2pm") -------------------
NO_TIME = "no_time"            # a day without its time
NO_SUCH_TIME = "no_such_time"  # 25.00, 9.75

# A workshop or a visit is planned months ahead at most; a broadcast within the year.
MOMENT_MAX_AHEAD = timedelta(days=366)

ZONES = {"wib": WIB, "wita": WITA, "wit": WIT}
_HALF_YEAR = timedelta(days=183)
_YEAR = re.compile(r"\b\d{4}\b")
_ZONE = re.compile(r"\s*\b(wib|wita|wit)\b\.?$")
# The time at the end: after "jam"/"pukul"/"at", or with minutes ("09.00", "9:30"), or with
# am/pm; "pagi/siang/sore/malam" say which half of the day ("jam 2 siang" is 14.00).
_TIME = re.compile(
    r"(?:^|\s|,)(?:(?P<word>jam|pukul|pkl|pk|at)\.?\s*)?"
    r"(?P<hour>\d{1,2})(?:[.:](?P<minute>\d{2}))?\s*"
    r"(?P<half>am|pm|a\.m\.|p\.m\.|pagi|siang|sore|malam)?$")


def _time_of(text: str) -> tuple[str, int, int] | None | str:
    """(the text before the time, hour, minute); None when no time is written; NO_SUCH_TIME
    when one is, but no clock shows it."""
    match = _TIME.search(text)
    if match is None or not (match["word"] or match["minute"] or match["half"]):
        return None
    hour, minute = int(match["hour"]), int(match["minute"] or 0)
    half = (match["half"] or "").replace(".", "")
    if half in ("pm", "siang", "sore", "malam") and hour < 12:
        # "jam 11 siang" is 11.00, "jam 1 siang" 13.00: midday words past 11 add twelve.
        if not (half == "siang" and hour >= 10):
            hour += 12
    elif half in ("am", "pagi") and hour == 12:
        hour = 0
    if hour > 23 or minute > 59:
        return NO_SUCH_TIME
    return text[:match.start()].strip(" ,"), hour, minute


def read_coming_moment(text: str | None, now: datetime, *, zone: str = WIB,
                       max_ahead: timedelta = MOMENT_MAX_AHEAD
                       ) -> tuple[datetime | None, str | None]:
    """(the moment, in UTC, None) for a day and a time still to come within `max_ahead`, else
    (None, an error key). The time is local to `zone` (the event's province) unless the text
    names one ("09.00 WITA"); "besok" counts from today there."""
    value = " ".join((text or "").split())
    if not value:
        return None, EMPTY
    if len(value) > _MAX_CHARS:
        return None, NOT_A_DATE
    words = value.casefold()
    named = _ZONE.search(words)
    if named is not None:
        zone = ZONES[named.group(1)]
        words = words[:named.start()].strip()
    found = _time_of(words)
    if found == NO_SUCH_TIME:
        return None, NO_SUCH_TIME
    if found is None or isinstance(found, str):
        # Only a day ("7 Desember"): is it a date at all?
        day_words = normalise(words)
        base = now.astimezone(ZoneInfo(zone)).replace(tzinfo=None)
        return None, (NO_TIME if day_words and _parse(day_words, base, "future") else
                      NOT_A_DATE)
    day_text, hour, minute = found
    base = now.astimezone(ZoneInfo(zone)).replace(tzinfo=None)
    day_words = normalise(day_text)
    if not day_words:
        day_words = "hari ini"  # "jam 14.00": today
    day = _parse(day_words, base, "future")
    if day is None:
        return None, NOT_A_DATE
    moment = datetime.combine(day, time(hour, minute), tzinfo=ZoneInfo(zone))
    if day > base.date() + _HALF_YEAR and not _YEAR.search(day_words):
        # "7/12" typed on 8 December is next year's to dateparser; meant was the day that
        # just passed (nobody plans a workshop a year ahead without saying the year).
        earlier = _parse(day_words, base, "past")
        if earlier is not None and earlier <= base.date():
            return None, PAST
    if moment <= now:
        return None, PAST
    if moment - now > max_ahead:
        return None, TOO_FAR
    return moment.astimezone(UTC), None


def zone_named(text: str | None) -> str | None:
    """The zone a typed moment names ("besok 09.00 WITA": "WITA"), None when it names none:
    to show the reading back in the zone it was typed in."""
    named = _ZONE.search(" ".join((text or "").split()).casefold())
    return named.group(1).upper() if named is not None else None
