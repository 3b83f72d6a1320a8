"""Joining and leaving an enterprise, its join code and admin invites: use cases that own
their transaction."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from db.models import AdminInvite, Enterprise, EnterpriseStatus, MemberRole
from db.queries import enterprises as ent_db
from db.queries import outbox as outbox_db
from db.queries import surveys as survey_queries
from db.queries.round_messages import RoundMessages, invite_latecomers
from db.queries.users import get_user, revoke_role, set_role
from db.results import Stale
from db.session import Sessions
from domain.join_codes import new_invite_token, new_join_code, normalize_code
from domain.join_limits import LOOKBACK, locked_until, tries_left
from domain.roles import Role, role_after_admin_invite


@dataclass(frozen=True)
class JoinResult:
    enterprise_name: str | None = None  # joined this one
    locked_until: datetime | None = None  # too many wrong codes: refused until then
    tries_left: int | None = None  # after a wrong code: how many more before the lock
    already: bool = False  # a member of that enterprise already: nothing changed
    enterprise_id: int | None = None
    moving_from: str | None = None  # a member of this other one: asked before moving
    replaced_of: str | None = None  # an old code of this enterprise: it was replaced


async def is_join_code(sessions: Sessions, text: str) -> bool:
    """The code of an approved enterprise (typed where something else was asked)."""
    code = normalize_code(text, length=None)
    if code is None:
        return False
    async with sessions() as session:
        return await ent_db.enterprise_by_code(session, code) is not None


async def join_with_code(sessions: Sessions, user_id: int, text: str, *, now: datetime,
                         rounds: Mapping[int, RoundMessages]) -> JoinResult:
    """Link a worker to the approved enterprise whose code they typed, and invite them to
    the survey rounds open now (`rounds`: their messages), in one transaction. A wrong code
    is recorded (the lock of domain/join_limits.py), in the same transaction as the
    check."""
    async with sessions() as session, session.begin():
        wrong = await ent_db.wrong_codes_since(session, user_id, now - LOOKBACK)
        if (until := locked_until(wrong, now)) is not None:
            return JoinResult(locked_until=until)
        code = normalize_code(text, length=None)
        enterprise = await ent_db.enterprise_by_code(session, code) if code else None
        if enterprise is None and code is not None:
            # A code from an old poster is no guess: say it was replaced, count nothing.
            old = await ent_db.retired_code_owner(session, code)
            if old is not None and old.status == EnterpriseStatus.APPROVED:
                return JoinResult(replaced_of=old.name)
        if enterprise is None:
            await ent_db.record_wrong_code(session, user_id, now=now)
            wrong = [*wrong, now]
            return JoinResult(locked_until=locked_until(wrong, now),
                              tries_left=tries_left(wrong, now))
        current = await ent_db.active_membership(session, user_id)
        if current is not None and current.enterprise_id == enterprise.id:
            return JoinResult(enterprise_name=enterprise.name, already=True)
        if current is not None and current.role != MemberRole.OWNER:
            # Working somewhere else: a code read off another factory's poster must not
            # move anyone without asking.
            other = await ent_db.get_enterprise(session, current.enterprise_id)
            if other is not None:
                return JoinResult(enterprise_name=enterprise.name, enterprise_id=enterprise.id,
                                  moving_from=other.name)
        await ent_db.join(session, user_id, enterprise.id, MemberRole.WORKER, now=now)
        await set_role(session, user_id, Role.WORKER)
        await invite_latecomers(session, rounds, now=now, user_id=user_id)
        return JoinResult(enterprise_name=enterprise.name)


async def move_to(sessions: Sessions, user_id: int, enterprise_id: int, *, now: datetime,
                  rounds: Mapping[int, RoundMessages]) -> str | None:
    """Confirmed: leave the current workplace and join this approved enterprise. In the
    same transaction the survey messages not sent to them yet are dropped, as leaving drops
    them, and the rounds open now (`rounds`: their messages) invite them as a member of
    this one."""
    async with sessions() as session, session.begin():
        enterprise = await ent_db.get_enterprise(session, enterprise_id)
        if enterprise is None or enterprise.status != EnterpriseStatus.APPROVED:
            return None
        await ent_db.join(session, user_id, enterprise.id, MemberRole.WORKER, now=now)
        await set_role(session, user_id, Role.WORKER)
        await survey_queries.drop_for_leaver(session, user_id)
        await invite_latecomers(session, rounds, now=now, user_id=user_id)
        return enterprise.name


async def invited_to(sessions: Sessions, token: str) -> str | None:
    """The name of the enterprise an admin invite not used yet is for."""
    async with sessions() as session:
        invite = await session.get(AdminInvite, token)
        if invite is None or invite.used_by is not None:
            return None
        enterprise = await ent_db.get_enterprise(session, invite.enterprise_id)
        return enterprise.name if enterprise else None


async def accept_invite(sessions: Sessions, user_id: int, token: str, role: Role | None, *,
                        now: datetime, rounds: Mapping[int, RoundMessages],
                        owner_news: outbox_db.Rendered | None,
                        news_name: str | None = None) -> tuple[str, Role] | None:
    """Use a one-time admin invite: the user becomes an admin of its enterprise; its owner
    gets `owner_news` (who reports for the enterprise now, rendered naming it `news_name`:
    db.results.Stale if it was renamed since) and the rounds open now
    (`rounds`: their messages) invite the new admin, in one transaction. Returns the
    enterprise's name and the user's role afterwards, or None for a used or unknown
    link."""
    async with sessions() as session, session.begin():
        invite = await ent_db.use_invite(session, token, user_id, now=now)
        enterprise = await ent_db.get_enterprise(session, invite.enterprise_id) if invite else None
        if enterprise is None:
            return None
        await ent_db.join(session, user_id, enterprise.id, MemberRole.ADMIN, now=now)
        after = role_after_admin_invite(role)
        if after is not role:
            await set_role(session, user_id, after)
        if owner_news is not None and news_name is not None and enterprise.name != news_name:
            raise Stale(f"enterprise {enterprise.id} was renamed since its news was rendered")
        if owner_news is not None and enterprise.owner_id is not None:
            await outbox_db.enqueue_rendered(
                session, owner_news, group=f"owner:{enterprise.id}", key=f"admin{user_id}",
                to=enterprise.owner_id, now=now, priority=outbox_db.URGENT)
        await invite_latecomers(session, rounds, now=now, user_id=user_id)
        return enterprise.name, after


@dataclass(frozen=True)
class Workplace:
    enterprise_id: int
    name: str


async def workplace_of(sessions: Sessions, user_id: int) -> Workplace | None:
    """The enterprise the user works at, as a worker or an admin (not as its owner)."""
    async with sessions() as session:
        membership = await ent_db.active_membership(session, user_id)
        if membership is None or membership.role == MemberRole.OWNER:
            return None
        enterprise = await ent_db.get_enterprise(session, membership.enterprise_id)
        return Workplace(enterprise.id, enterprise.name) if enterprise else None


async def leave_workplace(sessions: Sessions, user_id: int, enterprise_id: int, *,
                          now: datetime) -> bool:
    """End the worker's membership, if it is still this enterprise's, and drop the survey
    messages not sent to them yet, in the same transaction."""
    async with sessions() as session, session.begin():
        membership = await ent_db.active_membership(session, user_id)
        if membership is None or membership.enterprise_id != enterprise_id:
            return False
        left = await ent_db.leave(session, user_id, now=now) > 0
        user = await get_user(session, user_id)
        if left and user is not None and user.role in (Role.WORKER, Role.ADMIN):
            # Worker and admin follow the membership: no longer, once they left.
            await revoke_role(session, user_id)
        if left:
            await survey_queries.drop_for_leaver(session, user_id)
        return left


@dataclass(frozen=True)
class OwnedEnterprise:
    enterprise: Enterprise | None
    workers: int = 0


async def owned_enterprise(sessions: Sessions, user_id: int) -> OwnedEnterprise:
    async with sessions() as session:
        enterprise = await ent_db.owned_enterprise(session, user_id)
        workers = (await ent_db.member_count(session, enterprise.id, MemberRole.WORKER)
                   if enterprise else 0)
        return OwnedEnterprise(enterprise, workers)


async def current_join_code(sessions: Sessions, owner_id: int) -> str | None:
    """The join code of the owner's approved enterprise, if any."""
    async with sessions() as session:
        enterprise = await ent_db.owned_enterprise(session, owner_id)
        if enterprise is None or enterprise.status != EnterpriseStatus.APPROVED:
            return None
        return enterprise.join_code


async def replace_join_code(sessions: Sessions, owner_id: int, current: str, *,
                            now: datetime) -> Enterprise | None:
    """A new code for the owner's approved enterprise, if its code is still `current` (an
    older Replace button, or a second press, changes nothing)."""
    async with sessions() as session, session.begin():
        enterprise = await ent_db.owned_enterprise(session, owner_id)
        if (enterprise is None or enterprise.status != EnterpriseStatus.APPROVED
                or enterprise.join_code != current):
            return None
        await ent_db.replace_code(session, enterprise, new_join_code, now=now)
        return enterprise


async def create_admin_invite(sessions: Sessions, enterprise_id: int, owner_id: int, *,
                              now: datetime) -> str:
    token = new_invite_token()
    async with sessions() as session, session.begin():
        await ent_db.create_invite(session, enterprise_id, owner_id, token, now=now)
    return token
