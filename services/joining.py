"""Joining an enterprise: the use cases with what they queue in their transaction, rendered
first (the open survey rounds' invitations; the owner's news of a new admin)."""

from __future__ import annotations

import html

from chat import notify
from chat.context import Services
from chat.i18n import _
from db import joining as joining_db
from db.queries import outbox as outbox_db
from domain.roles import Role
from services.prepared import rendered_first
from services.surveys.rounds import inviting


async def join_with_code(svc: Services, user_id: int, text: str) -> joining_db.JoinResult:
    """A worker types a join code (db.joining.join_with_code); a round open now invites them."""
    return await inviting(svc, lambda open_rounds: joining_db.join_with_code(
        svc.sessionmaker, user_id, text, now=svc.clock.now(), rounds=open_rounds))


async def move_to(svc: Services, user_id: int, enterprise_id: int) -> str | None:
    """A worker confirmed they now work at this enterprise (db.joining.move_to): what the
    old workplace's rounds had not sent them yet is dropped, this one's invite them."""
    return await inviting(svc, lambda open_rounds: joining_db.move_to(
        svc.sessionmaker, user_id, enterprise_id, now=svc.clock.now(), rounds=open_rounds))


async def accept_admin_invite(svc: Services, user_id: int, token: str, role: Role | None, *,
                              admin_name: str) -> tuple[str, Role] | None:
    """An admin invite link opened (db.joining.accept_invite): the owner hears who now
    reports for the enterprise, and a round open now invites the new admin."""
    async def render() -> tuple[str | None, outbox_db.Rendered | None]:
        name = await joining_db.invited_to(svc.sessionmaker, token)
        if name is None:
            return None, None
        return name, await notify.rendered(svc, lambda: notify.Message(_(
            "{admin} is now an admin of {name}.").format(admin=html.escape(admin_name),
                                                         name=html.escape(name))))

    async def commit(news: tuple[str | None, outbox_db.Rendered | None]
                     ) -> tuple[str, Role] | None:
        name, rendered = news
        return await inviting(svc, lambda open_rounds: joining_db.accept_invite(
            svc.sessionmaker, user_id, token, role, now=svc.clock.now(), rounds=open_rounds,
            owner_news=rendered, news_name=name))

    # Renamed meanwhile (staff approved a new name): the owner's news is rendered again.
    return await rendered_first(render, commit)
