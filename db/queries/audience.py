"""Who a broadcast reaches: combinable criteria, turned into one query of user ids."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Enterprise, Membership, ModuleInterest, Role, User, UserStatus

ROLES = ("owner", "admin", "worker", "trainer", "staff")


@dataclass
class Audience:
    """Criteria combine with AND; values within one criterion with OR; nothing set = everyone.

    Only users who consented and have not blocked the bot are ever counted.
    """

    roles: list[str] = field(default_factory=list)
    provinces: list[str] = field(default_factory=list)
    modules: list[int] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    enterprise_ids: list[int] = field(default_factory=list)
    # Leave out who has not written to the bot in this many days.
    active_within_days: int | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Audience:
        data = data or {}
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})

    @property
    def everyone(self) -> bool:
        return not (self.roles or self.provinces or self.modules or self.languages
                    or self.enterprise_ids or self.active_within_days)


def recipients(audience: Audience, *, now: datetime, staff_ids: frozenset[int]) -> Select[int, str]:
    """SELECT of (user id, language) for everyone the audience reaches, each once."""
    query = select(User.id, User.language).where(User.consent_at.is_not(None),
                                                   User.status == UserStatus.ACTIVE)
    if audience.roles:
        conditions = [User.role.in_([Role(r) for r in audience.roles if r in ROLES])]
        if "staff" in audience.roles and staff_ids:
            conditions.append(User.id.in_(sorted(staff_ids)))
        query = query.where(or_(*conditions))
    if audience.languages:
        query = query.where(User.language.in_(audience.languages))
    if audience.active_within_days:
        query = query.where(User.last_seen_at >= now - timedelta(days=audience.active_within_days))
    if audience.provinces or audience.modules or audience.enterprise_ids:
        members = (select(Membership.user_id)
                   .join(Enterprise, Enterprise.id == Membership.enterprise_id)
                   .where(Membership.left_at.is_(None)))
        if audience.provinces:
            members = members.where(Enterprise.province.in_(audience.provinces))
        if audience.modules:
            members = members.where(Enterprise.id.in_(
                select(ModuleInterest.enterprise_id).where(
                    ModuleInterest.module.in_(audience.modules))))
        if audience.enterprise_ids:
            members = members.where(Enterprise.id.in_(audience.enterprise_ids))
        query = query.where(User.id.in_(members))
    return query


async def count_recipients(session: AsyncSession, audience: Audience, *, now: datetime,
                           staff_ids: frozenset[int]) -> int:
    sub = recipients(audience, now=now, staff_ids=staff_ids).subquery()
    return await session.scalar(select(func.count()).select_from(sub)) or 0
