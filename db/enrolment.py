"""Enrolling an enterprise: use cases that own their transaction."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Enterprise, EnterpriseStatus
from db.queries import enterprises as ent_db
from db.queries import outbox as outbox_db
from db.queries.drafts import forget_draft
from db.queries.enterprises import EnterpriseFields
from db.queries.users import set_role
from db.queries.workshops import Invitation, invite_latecomer
from db.results import Stale
from db.session import Sessions
from domain.namesakes import judge
from domain.roles import Role, role_after_enrolling


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
    """Someone else's approved enterprise of this name in this city."""

    name: str
    city: str


async def _judge(session: AsyncSession, owner_id: int, name: str, city: str,
                 own_id: int | None) -> Taken | int | None:
    found = await ent_db.namesakes(session, name, city)
    verdict = judge([ent_db.as_namesake(e) for e in found], owner_id, own_id)
    if verdict.blocked_by is not None:
        blocker = next(e for e in found if e.id == verdict.blocked_by.id)
        return Taken(blocker.name, blocker.city)
    return verdict.own_id


async def check_name(sessions: Sessions, owner_id: int, name: str, city: str,
                     own_id: int | None) -> Taken | int | None:
    """Taken when another owner's approved enterprise has this name in this city; the id of
    the owner's own enterprise of that name (confirmed just before a crash, say: updated, not
    created twice); None when nothing stops the enrolment (someone else's enrolment still
    waiting does not: staff see both, domain/namesakes.py)."""
    async with sessions() as session:
        return await _judge(session, owner_id, name, city, own_id)


@dataclass(frozen=True)
class Confirmed:
    enterprise_id: int
    approved: bool  # an approved enterprise's details were updated
    to_review: bool  # staff must (again) review it
    change_proposed: bool = False  # its new name, city or province waits for staff


async def confirm_enrolment(sessions: Sessions, owner_id: int, role: Role | None,
                            answers: dict[str, Any], *, now: datetime,
                            invitations: Mapping[int, Invitation] | None = None
                            ) -> Confirmed | Taken:
    """Store the enterprise (or update the owner's own), and delete the draft in the same
    transaction: after a crash there is either no enterprise and a draft waiting for its
    confirmation, or the enterprise and no draft. Taken when, meanwhile, staff approved
    another owner's enterprise of this name and city: nothing is stored, the draft stays.
    An approved enterprise that now wants a module is invited to that module's workshops
    planned already (`invitations`, rendered before)."""
    fields = EnterpriseFields(
        name=answers["name"], sector=answers["sector"], sector_other=answers.get("sector_other"),
        province=answers["province"], city=answers["city"],
        worker_count=int(answers["workers"]), contact_name=answers["contact"],
        phone=answers["phone"], modules=[int(m) for m in answers["modules"]])
    async with sessions() as session, session.begin():
        own = await _judge(session, owner_id, answers["name"], answers["city"],
                           answers.get("id"))
        if isinstance(own, Taken):
            return own
        own_id = answers.get("id") or own
        existing = await ent_db.get_enterprise(session, own_id) if own_id else None
        await forget_draft(session, owner_id)
        if existing is not None and existing.owner_id == owner_id:
            was_pending = existing.status != EnterpriseStatus.APPROVED
            await ent_db.update_enterprise(session, existing, fields, now=now)
            enterprise = existing
        else:
            enterprise = await ent_db.create_enterprise(session, owner_id, fields, now=now)
            was_pending = True
        after = role_after_enrolling(role)
        if after is not role:
            await set_role(session, owner_id, after)
        approved = enterprise.status == EnterpriseStatus.APPROVED
        if approved and invitations is not None:
            await session.flush()
            await invite_latecomer(session, invitations, enterprise_id=enterprise.id, now=now)
        return Confirmed(enterprise.id, approved, was_pending and not approved,
                         change_proposed=approved and enterprise.proposed_name is not None)


@dataclass(frozen=True)
class ChangeNews:
    """What the owner is told of staff's decision on a proposed change, rendered before its
    transaction for the enterprise as it was then (db.results.Stale if it changed)."""

    name: str       # its approved name then
    proposed: str   # the name it proposed then
    applied: outbox_db.Rendered  # the new details are approved
    kept: outbox_db.Rendered     # the approved ones are kept


async def proposed_change(sessions: Sessions, enterprise_id: int) -> tuple[str, str] | None:
    """An approved enterprise's name and the name it proposes, if it proposes a change."""
    async with sessions() as session:
        enterprise = await ent_db.get_enterprise(session, enterprise_id)
        if enterprise is None or enterprise.proposed_name is None:
            return None
        return enterprise.name, enterprise.proposed_name


async def decide_change(sessions: Sessions, enterprise_id: int, *, approve: bool,
                        now: datetime, news: ChangeNews) -> Enterprise | None:
    """Apply (or drop) an approved enterprise's proposed name, city and province, and queue
    the owner's news of it in the same transaction: `news.applied`, or `news.kept` also
    when another approved enterprise already has that name in that city. None when nothing
    is proposed any more (decided already)."""
    try:
        return await _decide_change(sessions, enterprise_id, approve=approve, now=now,
                                    news=news)
    except IntegrityError:
        # Another enterprise was approved under that name while this was decided (the
        # database's unique index refused the second): decided again, the name is kept.
        return await _decide_change(sessions, enterprise_id, approve=approve, now=now,
                                    news=news)


async def _decide_change(sessions: Sessions, enterprise_id: int, *, approve: bool,
                         now: datetime, news: ChangeNews) -> Enterprise | None:
    async with sessions() as session, session.begin():
        enterprise = await ent_db.get_enterprise(session, enterprise_id)
        if enterprise is None or enterprise.proposed_name is None:
            return None
        if (enterprise.name, enterprise.proposed_name) != (news.name, news.proposed):
            raise Stale(f"enterprise {enterprise_id} changed since its news was rendered")
        applied = False
        if approve:
            found = await ent_db.namesakes(session, enterprise.proposed_name,
                                           enterprise.proposed_city or enterprise.city)
            if judge([ent_db.as_namesake(e) for e in found], enterprise.owner_id or 0,
                     enterprise.id).blocked_by is None:
                enterprise.name = enterprise.proposed_name
                enterprise.name_key = ent_db.name_key(enterprise.name)
                enterprise.city = enterprise.proposed_city or enterprise.city
                enterprise.city_key = ent_db.name_key(enterprise.city)
                enterprise.province = enterprise.proposed_province or enterprise.province
                applied = True
        enterprise.proposed_name = enterprise.proposed_city = None
        enterprise.proposed_province = None
        enterprise.updated_at = now
        await session.flush()
        if enterprise.owner_id is not None:
            # One message per decision (two decisions may share a second).
            await outbox_db.enqueue_rendered(
                session, news.applied if applied else news.kept,
                group=f"owner:{enterprise.id}", key=f"change{int(now.timestamp() * 1e6)}",
                to=enterprise.owner_id, now=now, priority=outbox_db.URGENT)
        return enterprise
