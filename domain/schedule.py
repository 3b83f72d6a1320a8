"""Moments shown to staff in a zone by its name (WIB, WITA, WIT).

Typed send times are read by domain/typed_dates.read_coming_moment, the one reader of dates
in the product; this only converts a moment for showing it back.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from domain.provinces import WIB, WIT, WITA

ZONES = {"WIB": WIB, "WITA": WITA, "WIT": WIT}


def in_zone(moment: datetime, zone: str) -> datetime:
    return moment.astimezone(ZoneInfo(ZONES.get(zone, WIB)))


def in_wib(moment: datetime) -> datetime:
    """Staff work from Jakarta: times shown to them are WIB."""
    return moment.astimezone(ZoneInfo(WIB))
