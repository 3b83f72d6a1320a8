"""Someone's time zone, for sending at the right hour (domain/quiet_hours.py): the zone of
the province of the enterprise they belong to (an active membership). With enterprises in
several zones, the westernmost counts (its morning comes last); without one, WIB: SCORE's
staff and trainers work from Jakarta. Trainers are assigned to enterprises, not members:
they too are WIB."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from db.models import Enterprise, Membership
from db.types import UTCDateTime
from domain.provinces import PROVINCES, WIB
from domain.quiet_hours import ZONES


def _members_in(zone: str) -> Select[int]:
    return (select(Membership.user_id)
            .join(Enterprise, Enterprise.id == Membership.enterprise_id)
            .where(Membership.left_at.is_(None),
                   Enterprise.province.in_([p.code for p in PROVINCES if p.timezone == zone])))


def send_time(user_id: ColumnElement[Any], times: Mapping[str, datetime]) -> ColumnElement[Any]:
    """When a row for `user_id` goes out: `times[their zone]`, as one SQL expression. Each
    zone's members are one uncorrelated subquery, so an INSERT ... SELECT of 30,000 rows
    stays one statement."""
    values = {zone: literal(times[zone], UTCDateTime()) for zone in ZONES}
    if len({times[zone] for zone in ZONES}) == 1:
        return values[WIB]
    # WIB first in the CASE: someone with a WIB enterprise is WIB whatever else they have.
    wib_members = _members_in(WIB)
    return case((user_id.in_(wib_members), values[WIB]),
                *((user_id.in_(_members_in(zone)), values[zone]) for zone in ZONES
                  if zone != WIB), else_=values[WIB])


def lives_in(user_id: ColumnElement[Any] | InstrumentedAttribute[int],
             zone: str) -> ColumnElement[bool]:
    """Whether `user_id`'s zone is `zone`, as `send_time` decides it (the westernmost of
    their enterprises', WIB without one)."""
    outside_west = [~user_id.in_(_members_in(z)) for z in ZONES[:ZONES.index(zone)]]
    if zone == WIB:
        return or_(user_id.in_(_members_in(WIB)),
                   and_(*(~user_id.in_(_members_in(z)) for z in ZONES if z != WIB)))
    return and_(*outside_west, user_id.in_(_members_in(zone)))


async def zones_of(session: AsyncSession, user_ids: Iterable[int]) -> dict[int, str]:
    """Each user's zone, as `send_time` reads it."""
    ids = sorted(set(user_ids))
    found: dict[int, str] = {}
    for zone in reversed(ZONES):  # east to west: the westernmost found last wins
        if ids:
            found.update((user_id, zone) for user_id in await session.scalars(
                _members_in(zone).where(Membership.user_id.in_(ids))))
    return {user_id: found.get(user_id, WIB) for user_id in ids}
