"""Queries for staff deciding on enrolments, in the caller's transaction: an enrolment's
card and the namesakes staff must see beside it. The decisions themselves are use cases:
`db/review.py`."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Enterprise
from db.queries import enterprises as ent_db
from domain.namesakes import rivals


async def rivals_of(session: AsyncSession, enterprise: Enterprise) -> list[Enterprise]:
    """The other enterprises of its name and city, waiting or approved: staff deciding on
    it must see them (domain/namesakes.py)."""
    found = await ent_db.namesakes(session, enterprise.name, enterprise.city)
    keep = {n.id for n in rivals([ent_db.as_namesake(e) for e in found], enterprise.id)}
    return [e for e in found if e.id in keep]


@dataclass(frozen=True)
class Card:
    """What a staff card of an enrolment shows."""

    enterprise: Enterprise
    modules: list[int]
    rivals: list[Enterprise]  # the same name and city, waiting or approved


async def card_of(session: AsyncSession, enterprise: Enterprise) -> Card:
    return Card(enterprise, await ent_db.modules_of(session, enterprise.id),
                await rivals_of(session, enterprise))
