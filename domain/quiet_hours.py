"""Quiet hours: nothing sent to many people at once (a broadcast, a survey round's invitation
or reminder, later a weekly tip) reaches anyone from 21.00 to 06.00 in their own time zone;
what becomes due in the night waits for 06.00 there. Staff may mark a broadcast urgent to
send it at once, night or not (docs/decisions/0010).

Someone's zone is their enterprise's province's (domain/provinces.py); the outbox works it
out per recipient (db/queries/zones.py). These are the pure rules over instants and zones.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from domain.provinces import WIB, WIT, WITA

QUIET_FROM, QUIET_UNTIL = time(21, 0), time(6, 0)

# West to east: the order a zone is shown in, and the order that decides the zone of someone
# with enterprises in several (db/queries/zones.py).
ZONES = (WIB, WITA, WIT)
ZONE_NAMES = {WIB: "WIB", WITA: "WITA", WIT: "WIT"}


def is_quiet(moment: datetime, zone: str) -> bool:
    """Whether `moment` falls in the night (21.00-06.00) in `zone`."""
    local = moment.astimezone(ZoneInfo(zone)).time()
    return not QUIET_UNTIL <= local < QUIET_FROM


def outside_quiet_hours(moment: datetime, zone: str) -> datetime:
    """`moment`, or 06.00 local time after it when it falls in the night in `zone` (a round
    opened at once at midnight invites in the morning); in UTC."""
    if not is_quiet(moment, zone):
        return moment.astimezone(UTC)
    local = moment.astimezone(ZoneInfo(zone))
    day = local.date() + timedelta(days=1) if local.time() >= QUIET_FROM else local.date()
    return datetime.combine(day, QUIET_UNTIL, tzinfo=ZoneInfo(zone)).astimezone(UTC)


def send_times(moment: datetime) -> dict[str, datetime]:
    """When something due at `moment` reaches each zone: at `moment`, or at 06.00 there."""
    return {zone: outside_quiet_hours(moment, zone) for zone in ZONES}


def night_zones(moment: datetime) -> list[str]:
    """The zones where `moment` falls in the night, west to east."""
    return [zone for zone in ZONES if is_quiet(moment, zone)]


# One thing at a time: a bulk message to someone in the middle of a conversation with the bot
# (an open flow: a survey, an enrolment) waits until it ends or has been left this long...
CONVERSATION_IDLE = timedelta(minutes=10)
# ... and at most this long after it became due, however busy they are.
CONVERSATION_WAIT_AT_MOST = timedelta(hours=2)
