"""A workshop as a calendar file (.ics, RFC 5545) that phones open in their calendar.

Made with `icalendar`: escaping, line folding and time zones written by hand are easy to get
subtly wrong, and calendar apps then refuse the whole file. Times are written in UTC, which
every calendar app converts to the phone's zone; the UID stays the same across edits (with
a higher SEQUENCE), so a calendar that imported the first file updates the event.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from icalendar import Calendar, Event, vGeo


@dataclass(frozen=True)
class CalendarEvent:
    uid: str
    sequence: int
    title: str
    starts_at: datetime  # aware
    ends_at: datetime
    location: str
    description: str
    stamp: datetime
    geo: tuple[float, float] | None = None


def ics(event: CalendarEvent) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//ILO SCORE Indonesia//SCORE Assistant//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    item = Event()
    item.add("uid", event.uid)
    item.add("sequence", event.sequence)
    item.add("dtstamp", event.stamp)
    item.add("dtstart", event.starts_at)
    item.add("dtend", event.ends_at)
    item.add("summary", event.title)
    item.add("location", event.location)
    if event.description:
        item.add("description", event.description)
    if event.geo is not None:
        item.add("geo", vGeo(event.geo))
    calendar.add_component(item)
    data: bytes = calendar.to_ical()
    return data
