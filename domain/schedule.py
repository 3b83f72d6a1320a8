"""When staff want something sent: "YYYY-MM-DD HH:MM" in WIB, or with a WITA/WIT suffix.

Pure functions: `parse_send_time` returns (UTC datetime, None) or (None, error key), like
domain/text_input.py, so the caller turns the key into a translated re-ask message.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from domain.provinces import WIB, WIT, WITA

NOT_A_TIME = "not_a_time"
NO_SUCH_DATE = "no_such_date"
PAST = "past"
TOO_FAR = "too_far"

ZONES = {"WIB": WIB, "WITA": WITA, "WIT": WIT}
# A broadcast planned more than a year ahead is almost certainly a typo in the year.
MAX_AHEAD = timedelta(days=366)

# "2026-12-07 08:00", "2026-12-7 8.00 wita": Indonesians often write 08.00 for the time.
_WHEN = re.compile(
    r"(\d{4})-(\d{1,2})-(\d{1,2})\s+(\d{1,2})[:.](\d{2})(?:\s*(WIB|WITA|WIT))?",
    re.IGNORECASE | re.ASCII)


def parse_send_time(text: str | None, *, now: datetime) -> tuple[datetime | None, str | None]:
    """The moment meant by `text` (local time, WIB unless a zone is named), in UTC."""
    match = _WHEN.fullmatch(" ".join((text or "").split()))
    if not match:
        return None, NOT_A_TIME
    year, month, day, hour, minute = (int(g) for g in match.groups()[:5])
    zone = ZoneInfo(ZONES[(match.group(6) or "WIB").upper()])
    try:
        local = datetime(year, month, day, hour, minute, tzinfo=zone)
    except ValueError:
        return None, NO_SUCH_DATE
    moment = local.astimezone(UTC)
    if moment <= now:
        return None, PAST
    if moment - now > MAX_AHEAD:
        return None, TOO_FAR
    return moment, None


def zone_named(text: str | None) -> str:
    """The time zone a typed time names (WIB when none), for showing it back as typed."""
    match = _WHEN.fullmatch(" ".join((text or "").split()))
    return ((match.group(6) if match else None) or "WIB").upper()


def in_zone(moment: datetime, zone: str) -> datetime:
    return moment.astimezone(ZoneInfo(ZONES.get(zone, WIB)))


def in_wib(moment: datetime) -> datetime:
    """Staff work from Jakarta: times shown to them are WIB."""
    return moment.astimezone(ZoneInfo(WIB))
