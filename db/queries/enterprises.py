"""Queries about enterprises, their members, join codes and admin invites."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import (
    AdminInvite,
    Enterprise,
    EnterpriseStatus,
    JoinAttempt,
    MemberRole,
    Membership,
    ModuleInterest,
    RetiredJoinCode,
)
from db.results import Stale, affected
from domain.namesakes import Namesake, Standing


def name_key(text: str) -> str:
    """Lower-cased, space-folded: 'PT  Maju Jaya' and 'pt maju jaya' are one enterprise.

    Cut to the column's 200 characters: casefold can lengthen a name ("ß" becomes "ss").
    """
    return " ".join(text.casefold().replace(".", " ").split())[:200]


@dataclass
class EnterpriseFields:
    name: str
    sector: str
    sector_other: str | None
    province: str
    city: str
    worker_count: int
    contact_name: str
    phone: str
    modules: list[int]


async def namesakes(session: AsyncSession, name: str, city: str) -> list[Enterprise]:
    """The enterprises with this name in this city, whoever enrolled them, whatever their
    status (domain/namesakes.py says which of them count), oldest first."""
    return list(await session.scalars(select(Enterprise).where(
        Enterprise.name_key == name_key(name), Enterprise.city_key == name_key(city))
        .order_by(Enterprise.id).limit(20)))


def as_namesake(enterprise: Enterprise) -> Namesake:
    return Namesake(enterprise.id, enterprise.owner_id, Standing(enterprise.status.value))


async def approved_by_name(session: AsyncSession, text: str, limit: int = 8) -> list[Enterprise]:
    """Approved enterprises whose name contains `text`, ignoring case and spacing."""
    key = name_key(text)
    if not key:
        return []
    return list(await session.scalars(select(Enterprise).where(
        Enterprise.status == EnterpriseStatus.APPROVED,
        Enterprise.name_key.contains(key, autoescape=True))
        .order_by(Enterprise.name_key, Enterprise.id).limit(limit)))


async def get_enterprise(session: AsyncSession, enterprise_id: int) -> Enterprise | None:
    return await session.get(Enterprise, enterprise_id)


async def pending_enterprises(session: AsyncSession, limit: int = 20) -> list[Enterprise]:
    return list(await session.scalars(select(Enterprise).where(
        Enterprise.status == EnterpriseStatus.PENDING).order_by(Enterprise.id).limit(limit)))


async def owned_enterprise(session: AsyncSession, user_id: int) -> Enterprise | None:
    return await session.scalar(
        select(Enterprise).join(Membership, Membership.enterprise_id == Enterprise.id)
        .where(Membership.user_id == user_id, Membership.role == MemberRole.OWNER,
               Membership.left_at.is_(None))
        .order_by(Enterprise.id.desc()).limit(1))


async def active_membership(session: AsyncSession, user_id: int) -> Membership | None:
    return await session.scalar(
        select(Membership).where(Membership.user_id == user_id, Membership.left_at.is_(None))
        .order_by(Membership.id.desc()).limit(1))


async def modules_of(session: AsyncSession, enterprise_id: int) -> list[int]:
    rows = await session.scalars(select(ModuleInterest.module)
                                 .where(ModuleInterest.enterprise_id == enterprise_id)
                                 .order_by(ModuleInterest.module))
    return list(rows)


def _apply(enterprise: Enterprise, fields: EnterpriseFields) -> None:
    enterprise.name = fields.name
    enterprise.name_key = name_key(fields.name)
    enterprise.sector = fields.sector
    enterprise.sector_other = fields.sector_other
    enterprise.province = fields.province
    enterprise.city = fields.city
    enterprise.city_key = name_key(fields.city)
    enterprise.worker_count = fields.worker_count
    enterprise.contact_name = fields.contact_name
    enterprise.phone = fields.phone


async def _set_modules(session: AsyncSession, enterprise_id: int, modules: Iterable[int]) -> None:
    await session.execute(delete(ModuleInterest).where(
        ModuleInterest.enterprise_id == enterprise_id))
    session.add_all(ModuleInterest(enterprise_id=enterprise_id, module=m)
                    for m in sorted(set(modules)))


async def create_enterprise(session: AsyncSession, owner_id: int, fields: EnterpriseFields, *,
                            now: datetime) -> Enterprise:
    """A new pending enterprise with its owner and modules. The caller owns the transaction."""
    enterprise = Enterprise(owner_id=owner_id, status=EnterpriseStatus.PENDING, created_at=now,
                            updated_at=now)
    _apply(enterprise, fields)
    session.add(enterprise)
    await session.flush()
    session.add(Membership(user_id=owner_id, enterprise_id=enterprise.id, role=MemberRole.OWNER,
                           since=now))
    await _set_modules(session, enterprise.id, fields.modules)
    await session.flush()
    return enterprise


def identity_changes(enterprise: Enterprise, fields: EnterpriseFields) -> bool:
    """A new name, city or province: what staff approve again once an enterprise is approved."""
    return (name_key(fields.name) != enterprise.name_key
            or name_key(fields.city) != enterprise.city_key
            or fields.province != enterprise.province)


async def update_enterprise(session: AsyncSession, enterprise: Enterprise,
                            fields: EnterpriseFields, *, now: datetime) -> None:
    if enterprise.status == EnterpriseStatus.APPROVED and identity_changes(enterprise, fields):
        # Proposed, not applied: staff decide (db/enrolment.decide_change).
        enterprise.proposed_name, enterprise.proposed_city = fields.name, fields.city
        enterprise.proposed_province = fields.province
        fields = EnterpriseFields(**{**fields.__dict__, "name": enterprise.name,
                                     "city": enterprise.city,
                                     "province": enterprise.province})
    _apply(enterprise, fields)
    enterprise.updated_at = now
    # A rejected enrolment that is corrected goes back to staff.
    if enterprise.status == EnterpriseStatus.REJECTED:
        enterprise.status = EnterpriseStatus.PENDING
        enterprise.decided_by = enterprise.decided_at = enterprise.reject_reason = None
    await _set_modules(session, enterprise.id, fields.modules)
    await session.flush()


async def decide(session: AsyncSession, enterprise_id: int, staff_id: int, *, approve: bool,
                 now: datetime, reason: str | None = None,
                 new_code: Callable[[], str] | None = None,
                 seen: tuple[str, str | None] | None = None) -> Enterprise | None:
    """Approve or reject a pending enterprise; None when it is no longer pending. With
    `seen` (its name and join code as the news of the decision was rendered), only if it
    still has that name and no other code (approving gives it that code): db.results.Stale
    when it is still pending but changed, or that code was taken meanwhile.

    One conditional UPDATE, so that two staff deciding at the same moment cannot both win:
    SQLite ignores FOR UPDATE, and its transaction only starts at the first write.
    """
    values: dict[str, object] = {"decided_by": staff_id, "decided_at": now, "updated_at": now}
    where = [Enterprise.id == enterprise_id, Enterprise.status == EnterpriseStatus.PENDING]
    code: str | None = None
    if seen is not None:
        name, code = seen
        where.append(Enterprise.name == name)
        if approve:
            # The code the news gives: the enterprise's own, or the new one drawn for it.
            where.append(or_(Enterprise.join_code.is_(None), Enterprise.join_code == code))
            if code is not None and await code_taken(session, code, but=enterprise_id):
                raise Stale(f"join code {code} was taken meanwhile")
    if approve:
        if code is None:
            assert new_code is not None
            code = await _unused_code(session, new_code)
        values["status"] = EnterpriseStatus.APPROVED
        # Re-approval after a rejection keeps a code the enterprise may already have printed.
        values["join_code"] = func.coalesce(Enterprise.join_code, code)
    else:
        values["status"] = EnterpriseStatus.REJECTED
        values["reject_reason"] = reason
    result = await session.execute(
        update(Enterprise).where(*where).values(**values)
        .execution_options(synchronize_session=False))
    if affected(result) != 1:
        if seen is not None and await _status(session, enterprise_id) == EnterpriseStatus.PENDING:
            raise Stale(f"enterprise {enterprise_id} changed since its news was rendered")
        return None
    return await session.get(Enterprise, enterprise_id, populate_existing=True)


async def _status(session: AsyncSession, enterprise_id: int) -> EnterpriseStatus | None:
    return await session.scalar(select(Enterprise.status).where(Enterprise.id == enterprise_id))


async def code_taken(session: AsyncSession, code: str, *, but: int | None = None) -> bool:
    """Another enterprise has this join code."""
    query = select(func.count()).select_from(Enterprise).where(Enterprise.join_code == code)
    if but is not None:
        query = query.where(Enterprise.id != but)
    return bool(await session.scalar(query))


async def unused_code(session: AsyncSession, new_code: Callable[[], str]) -> str:
    """A new join code no enterprise has."""
    return await _unused_code(session, new_code)


async def _unused_code(session: AsyncSession, new_code: Callable[[], str]) -> str:
    for _ in range(20):
        code = new_code()
        taken = await session.scalar(select(func.count()).select_from(Enterprise)
                                     .where(Enterprise.join_code == code))
        if not taken:
            return code
    raise RuntimeError("could not find an unused join code")


async def replace_code(session: AsyncSession, enterprise: Enterprise,
                       new_code: Callable[[], str], *, now: datetime) -> str:
    if enterprise.join_code:
        await session.merge(RetiredJoinCode(code=enterprise.join_code,
                                            enterprise_id=enterprise.id, retired_at=now))
    enterprise.join_code = await _unused_code(session, new_code)
    enterprise.updated_at = now
    await session.flush()
    return enterprise.join_code


async def enterprise_by_code(session: AsyncSession, code: str) -> Enterprise | None:
    return await session.scalar(select(Enterprise).where(
        Enterprise.join_code == code, Enterprise.status == EnterpriseStatus.APPROVED))


async def retired_code_owner(session: AsyncSession, code: str) -> Enterprise | None:
    """The enterprise whose replaced code this is, if it is one."""
    retired = await session.get(RetiredJoinCode, code)
    return await session.get(Enterprise, retired.enterprise_id) if retired else None


async def wrong_codes_since(session: AsyncSession, user_id: int, since: datetime) -> list[datetime]:
    rows = await session.scalars(select(JoinAttempt.at).where(
        JoinAttempt.user_id == user_id, JoinAttempt.at >= since).order_by(JoinAttempt.at))
    return list(rows)


async def record_wrong_code(session: AsyncSession, user_id: int, *, now: datetime) -> None:
    session.add(JoinAttempt(user_id=user_id, at=now))
    # Old attempts say nothing after an hour; keep the table small.
    await session.execute(delete(JoinAttempt).where(
        JoinAttempt.user_id == user_id, JoinAttempt.at < now - timedelta(days=1)))


async def join(session: AsyncSession, user_id: int, enterprise_id: int,
               role: MemberRole, *, now: datetime) -> Membership:
    """Make the user a member; any other active membership as worker or admin ends.

    Joining the enterprise one already belongs to, in the same role, changes nothing.
    """
    current = await session.scalar(select(Membership).where(
        Membership.user_id == user_id, Membership.enterprise_id == enterprise_id,
        Membership.role == role, Membership.left_at.is_(None)).limit(1))
    if current is not None:
        return current
    await session.execute(update(Membership).where(
        Membership.user_id == user_id, Membership.left_at.is_(None),
        Membership.role != MemberRole.OWNER).values(left_at=now))
    membership = Membership(user_id=user_id, enterprise_id=enterprise_id, role=role, since=now)
    session.add(membership)
    await session.flush()
    return membership


async def leave(session: AsyncSession, user_id: int, *, now: datetime) -> int:
    """End the user's memberships as worker or admin; an owner's stays."""
    result = await session.execute(update(Membership).where(
        Membership.user_id == user_id, Membership.left_at.is_(None),
        Membership.role != MemberRole.OWNER).values(left_at=now))
    return affected(result)


async def create_invite(session: AsyncSession, enterprise_id: int, created_by: int,
                        token: str, *, now: datetime) -> AdminInvite:
    invite = AdminInvite(token=token, enterprise_id=enterprise_id, created_by=created_by,
                         created_at=now)
    session.add(invite)
    await session.flush()
    return invite


async def use_invite(session: AsyncSession, token: str, user_id: int, *,
                     now: datetime) -> AdminInvite | None:
    """Mark a one-time invite used by this user; None if unknown or already used."""
    result = await session.execute(update(AdminInvite).where(
        AdminInvite.token == token, AdminInvite.used_by.is_(None)).values(
        used_by=user_id, used_at=now))
    if not affected(result):
        return None
    return await session.get(AdminInvite, token)


async def member_count(session: AsyncSession, enterprise_id: int, role: MemberRole) -> int:
    return await session.scalar(select(func.count()).select_from(Membership).where(
        Membership.enterprise_id == enterprise_id, Membership.role == role,
        Membership.left_at.is_(None))) or 0


