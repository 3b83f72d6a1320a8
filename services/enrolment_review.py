"""Staff decide on enrolments and proposed changes: the use cases with the owner's news,
rendered first (texts in every language, the join code's poster)."""

from __future__ import annotations

import html

from chat import notify
from chat.context import Services
from chat.i18n import _
from db import enrolment as enrolment_db
from db import review as review_db
from db.models import Enterprise, User
from services.poster import code_text, poster_message
from services.prepared import rendered_first
from services.surveys.rounds import latecomer_messages
from services.workshops import latecomer_invitations

Decided = tuple[Enterprise, User | None] | review_db.NameApproved | None


async def approve(svc: Services, enterprise_id: int, staff_id: int) -> Decided:
    """Approve a pending enrolment: its owner gets the news, the join code and the poster
    (and, during a survey round, the KPI report's invitation) with the decision's commit."""

    async def render() -> review_db.OwnerNews | None:
        basis = await review_db.news_basis(svc.sessionmaker, enterprise_id)
        if basis is None:
            return None
        name, code = basis
        # Two messages: the news with the code, then the poster (a file).
        return review_db.OwnerNews(name=name, code=code, messages=[
            await notify.rendered(svc, lambda: notify.Message("\n\n".join([_(
                "Good news: {name} is approved for SCORE! Workers can now join with the code "
                "below.").format(name=html.escape(name)),
                code_text(svc.bot_username, name, code)]))),
            await notify.rendered(svc, lambda: poster_message(svc.bot_username, name, code)),
        ], rounds=await latecomer_messages(svc),
            workshops=await latecomer_invitations(svc, enterprise_id))

    async def commit(news: review_db.OwnerNews | None) -> Decided:
        if news is None:
            return None  # decided already
        return await review_db.decide_enrolment(svc.sessionmaker, enterprise_id, staff_id,
                                                approve=True, now=svc.clock.now(), news=news)

    decided = await rendered_first(render, commit)
    svc.outbox_changed()
    return decided


async def reject(svc: Services, enterprise_id: int, staff_id: int, reason: str) -> Decided:
    """Reject a pending enrolment: its owner is told why with the decision's commit."""

    async def render() -> review_db.OwnerNews | None:
        basis = await review_db.news_basis(svc.sessionmaker, enterprise_id)
        if basis is None:
            return None
        name = basis[0]
        return review_db.OwnerNews(name=name, code=None, messages=[
            await notify.rendered(svc, lambda: notify.Message(_(
                "Sorry, the SCORE team could not approve {name}.\nReason: {reason}\nYou can "
                "correct it with /enrol.").format(name=html.escape(name),
                                                  reason=html.escape(reason))))])

    async def commit(news: review_db.OwnerNews | None) -> Decided:
        if news is None:
            return None
        return await review_db.decide_enrolment(svc.sessionmaker, enterprise_id, staff_id,
                                                approve=False, reason=reason,
                                                now=svc.clock.now(), news=news)

    decided = await rendered_first(render, commit)
    svc.outbox_changed()
    return decided


async def decide_change(svc: Services, enterprise_id: int, *, approve: bool) -> Enterprise | None:
    """Apply (or drop) an approved enterprise's proposed details; its owner is told which,
    with the decision's commit. None when it was decided already."""

    async def render() -> enrolment_db.ChangeNews | None:
        names = await enrolment_db.proposed_change(svc.sessionmaker, enterprise_id)
        if names is None:
            return None
        name, proposed = names
        return enrolment_db.ChangeNews(
            name=name, proposed=proposed,
            applied=await notify.rendered(svc, lambda: notify.Message(_(
                "The SCORE team approved the new details of {name}.").format(
                    name=html.escape(proposed)))),
            kept=await notify.rendered(svc, lambda: notify.Message(_(
                "The SCORE team kept the approved name, city and province of {name}. Please "
                "contact the team if they are wrong.").format(name=html.escape(name)))))

    async def commit(news: enrolment_db.ChangeNews | None) -> Enterprise | None:
        if news is None:
            return None
        return await enrolment_db.decide_change(svc.sessionmaker, enterprise_id,
                                                approve=approve, now=svc.clock.now(),
                                                news=news)

    decided = await rendered_first(render, commit)
    svc.outbox_changed()
    return decided
