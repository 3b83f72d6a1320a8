"""Enrolling an enterprise: use cases that own their transaction."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db import enterprises as ent_db
from db.drafts import forget_draft
from db.enterprises import EnterpriseFields
from db.models import Enterprise, EnterpriseStatus
from db.users import set_role
from domain.roles import Role, role_after_enrolling

Sessions = async_sessionmaker[AsyncSession]


async def own_answers(sessions: Sessions, owner_id: int) -> dict[str, Any] | None:
    """What the owner enrolled, as the enrolment's answers, to update it; None if nothing."""
    async with sessions() as session:
        enterprise = await ent_db.owned_enterprise(session, owner_id)
        if enterprise is None:
            return None
        modules = await ent_db.modules_of(session, enterprise.id)
    return {"id": enterprise.id, "name": enterprise.name, "sector": enterprise.sector,
            "sector_other": enterprise.sector_other, "province": enterprise.province,
            "city": enterprise.city, "workers": enterprise.worker_count,
            "contact": enterprise.contact_name, "phone": enterprise.phone, "modules": modules}


@dataclass(frozen=True)
class Taken:
    """Someone else's enterprise of this name in this city."""

    name: str
    city: str


async def check_name(sessions: Sessions, owner_id: int, name: str, city: str,
                     own_id: int | None) -> Taken | int | None:
    """Taken when another owner enrolled this name in this city; the id of the owner's own
    enterprise of that name (confirmed just before a crash, say: updated, not created twice);
    None when the name is free."""
    async with sessions() as session:
        existing = await ent_db.find_same(session, name, city)
    if existing is None or existing.id == own_id:
        return None
    if existing.owner_id == owner_id:
        return existing.id
    return Taken(existing.name, existing.city)


@dataclass(frozen=True)
class Confirmed:
    enterprise_id: int
    approved: bool  # an approved enterprise's details were updated
    to_review: bool  # staff must (again) review it
    change_proposed: bool = False  # its new name, city or province waits for staff


async def confirm_enrolment(sessions: Sessions, owner_id: int, role: Role | None,
                            answers: dict[str, Any]) -> Confirmed | None:
    """Store the enterprise (or update the owner's own), and delete the draft in the same
    transaction: after a crash there is either no enterprise and a draft waiting for its
    confirmation, or the enterprise and no draft. None when another owner stored the same
    name and city at the same instant (the unique key refused this one)."""
    try:
        return await _confirm(sessions, owner_id, role, answers)
    except IntegrityError:
        return None


async def _confirm(sessions: Sessions, owner_id: int, role: Role | None,
                   answers: dict[str, Any]) -> Confirmed:
    fields = EnterpriseFields(
        name=answers["name"], sector=answers["sector"], sector_other=answers.get("sector_other"),
        province=answers["province"], city=answers["city"],
        worker_count=int(answers["workers"]), contact_name=answers["contact"],
        phone=answers["phone"], modules=[int(m) for m in answers["modules"]])
    async with sessions() as session, session.begin():
        existing = (await ent_db.get_enterprise(session, answers["id"]) if answers.get("id")
                    else None)
        await forget_draft(session, owner_id)
        if existing is not None and existing.owner_id == owner_id:
            was_pending = existing.status != EnterpriseStatus.APPROVED
            await ent_db.update_enterprise(session, existing, fields)
            enterprise = existing
        else:
            enterprise = await ent_db.create_enterprise(session, owner_id, fields)
            was_pending = True
        after = role_after_enrolling(role)
        if after is not role:
            await set_role(session, owner_id, after)
        approved = enterprise.status == EnterpriseStatus.APPROVED
        return Confirmed(enterprise.id, approved, was_pending and not approved,
                         change_proposed=approved and enterprise.proposed_name is not None)


async def decide_change(sessions: Sessions, enterprise_id: int, *, approve: bool,
                        then: Callable[[AsyncSession, Enterprise, bool], Awaitable[None]]
                        ) -> Enterprise | None:
    """Apply (or drop) an approved enterprise's proposed name, city and province. None when
    nothing is proposed any more (decided already). `then` runs in the same transaction with
    whether the change was applied: False also when another enterprise already has that
    name in that city."""
    async with sessions() as session, session.begin():
        enterprise = await ent_db.get_enterprise(session, enterprise_id)
        if enterprise is None or enterprise.proposed_name is None:
            return None
        applied = False
        if approve:
            taken = await ent_db.find_same(session, enterprise.proposed_name,
                                           enterprise.proposed_city or enterprise.city)
            if taken is None or taken.id == enterprise.id:
                enterprise.name = enterprise.proposed_name
                enterprise.name_key = ent_db.name_key(enterprise.name)
                enterprise.city = enterprise.proposed_city or enterprise.city
                enterprise.city_key = ent_db.name_key(enterprise.city)
                enterprise.province = enterprise.proposed_province or enterprise.province
                applied = True
        enterprise.proposed_name = enterprise.proposed_city = None
        enterprise.proposed_province = None
        await session.flush()
        await then(session, enterprise, applied)
        return enterprise
