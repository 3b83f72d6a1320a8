"""Staff decide on enrolments: use cases that own their transaction (the card and namesakes
they read: `db/queries/review.py`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Enterprise, EnterpriseStatus, User
from db.queries import enterprises as ent_db
from db.queries import outbox as outbox_db
from db.queries.review import Card, card_of, rivals_of
from db.queries.round_messages import RoundMessages, invite_latecomers
from db.queries.users import display_name, get_user
from db.queries.workshops import Invitation, invite_latecomer
from db.session import Sessions
from domain.join_codes import new_join_code


@dataclass(frozen=True)
class OwnerNews:
    """What the owner is told of a decision, rendered before its transaction for the
    enterprise as it was then: its `name` and, approving, the join `code` the news gives
    (the decision is made only if they still hold: db.results.Stale otherwise)."""

    name: str
    code: str | None
    messages: Sequence[outbox_db.Rendered]  # in the order they are to arrive
    # Approving during a survey round: its messages, inviting the new owner to report.
    rounds: Mapping[int, RoundMessages] = field(default_factory=dict)
    # Approving: the invitations of workshops already planned that it now qualifies for.
    workshops: Mapping[int, Invitation] = field(default_factory=dict)


async def news_basis(sessions: Sessions, enterprise_id: int) -> tuple[str, str] | None:
    """A pending enterprise's name and the join code approving it gives (the one it kept
    from an earlier approval, or a new one no one has), for rendering the owner's news."""
    async with sessions() as session:
        enterprise = await ent_db.get_enterprise(session, enterprise_id)
        if enterprise is None or enterprise.status != EnterpriseStatus.PENDING:
            return None
        code = enterprise.join_code or await ent_db.unused_code(session, new_join_code)
        return enterprise.name, code


@dataclass(frozen=True)
class NameApproved:
    """Not approved: another enterprise of the same name and city is approved already."""

    enterprise_id: int


async def _approved_rival(session: AsyncSession, enterprise_id: int) -> NameApproved | None:
    enterprise = await ent_db.get_enterprise(session, enterprise_id)
    if enterprise is None:
        return None
    approved = [e for e in await rivals_of(session, enterprise)
                if e.status == EnterpriseStatus.APPROVED]
    return NameApproved(approved[0].id) if approved else None


async def decide_enrolment(sessions: Sessions, enterprise_id: int, staff_id: int, *,
                           approve: bool, now: datetime, reason: str | None = None,
                           news: OwnerNews
                           ) -> tuple[Enterprise, User | None] | NameApproved | None:
    """Approve (it gets a join code) or reject a pending enterprise, and queue the owner's
    `news` in the same transaction (approving during a survey round, its invitation too):
    a decision is never stored without its news, and the outbox retries them if Telegram
    refuses them for a while. None when it is no longer pending: another staff member
    decided first. NameApproved, and nothing changes, when approving it while another
    enterprise of its name and city is approved (also when someone approved that one at
    the same instant)."""
    try:
        return await _decide(sessions, enterprise_id, staff_id, approve=approve, reason=reason,
                             now=now, news=news)
    except IntegrityError:
        async with sessions() as session:
            taken = await _approved_rival(session, enterprise_id) if approve else None
        if taken is None:
            raise
        return taken


async def _decide(sessions: Sessions, enterprise_id: int, staff_id: int, *, approve: bool,
                  reason: str | None, now: datetime, news: OwnerNews
                  ) -> tuple[Enterprise, User | None] | NameApproved | None:
    async with sessions() as session, session.begin():
        if approve and (taken := await _approved_rival(session, enterprise_id)) is not None:
            return taken
        enterprise = await ent_db.decide(
            session, enterprise_id, staff_id, approve=approve, now=now, reason=reason,
            new_code=new_join_code, seen=(news.name, news.code))
        if enterprise is None:
            return None
        owner = await get_user(session, enterprise.owner_id) if enterprise.owner_id else None
        if owner is not None:
            # One key per decision: a rejection, then an approval, each tell the owner.
            key = f"decision{int(now.timestamp() * 1e6)}"
            for n, message in enumerate(news.messages):
                await outbox_db.enqueue_rendered(
                    session, message, group=f"owner:{enterprise.id}", key=f"{key}.{n}",
                    to=owner.id, now=now, priority=outbox_db.URGENT)
        if approve:
            # Its owner was not among the open rounds' respondents when they opened.
            await invite_latecomers(session, news.rounds, now=now,
                                    enterprise_id=enterprise.id)
            # Nor among the workshops' invited when they were saved.
            await invite_latecomer(session, news.workshops, enterprise_id=enterprise.id,
                                   now=now)
        return enterprise, owner


@dataclass(frozen=True)
class Decision:
    """An enterprise already decided on, and by whom (a name, or the id)."""

    enterprise: Enterprise
    by: str


async def decision_on(sessions: Sessions, enterprise_id: int) -> Decision | None:
    async with sessions() as session:
        enterprise = await ent_db.get_enterprise(session, enterprise_id)
        if enterprise is None:
            return None
        who = await display_name(session, enterprise.decided_by) if enterprise.decided_by else ""
    return Decision(enterprise, who)


async def pending_enterprise(sessions: Sessions, enterprise_id: int) -> Enterprise | None:
    async with sessions() as session:
        enterprise = await ent_db.get_enterprise(session, enterprise_id)
    return enterprise if enterprise and enterprise.status == EnterpriseStatus.PENDING else None


async def pending_cards(sessions: Sessions, *, limit: int) -> list[Card]:
    async with sessions() as session:
        return [await card_of(session, e)
                for e in await ent_db.pending_enterprises(session, limit=limit)]
