"""Staff review enrolments: approve (the owner gets the join code and poster) or reject with a
reason."""

from __future__ import annotations

import html
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import TypedDict

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update

from chat import notify
from chat.access import is_staff
from chat.context import BotContext, Services
from chat.flow import END, Flow, Outcome, Run
from chat.i18n import N_, _
from chat.reply import ack, edit_or_send, rows, send, stale_button
from db.enrolment import decide_change
from db.models import Enterprise, EnterpriseStatus, User
from db.review import (
    Decided,
    NameApproved,
    decide_enrolment,
    decision_on,
    pending_cards,
    pending_enterprise,
)
from domain import text_input
from handlers.poster import code_text, poster_message
from services import enrolment_notices as notices
from services.surveys import rounds

log = logging.getLogger(__name__)

# A reason not given within the hour is not waited for: the enrolment stays pending.
REASON_TIMEOUT = timedelta(hours=1)


async def approve_pressed(update: Update, context: BotContext) -> None:
    """Approve on a staff notice (staff only: the router checks the role)."""
    button, user = context.button, context.user_row
    assert button is not None and user is not None
    if not button.value.isdigit():
        await stale_button(update)
        return
    decided = await decide_enrolment(context.svc.sessionmaker, int(button.value), user.id,
                                     approve=True, now=context.svc.clock.now(),
                                     then=_approved(context.svc))
    if decided is None:
        await _already_decided(update, context, int(button.value))
        return
    if isinstance(decided, NameApproved):
        await ack(update, _("Not approved: no. {other}, of the same name and city, is already "
                            "approved. Reject this one, or check with the owners.").format(
                                other=decided.enterprise_id))
        return
    enterprise, _owner = decided
    await ack(update, _("Approved."))
    await notices.mark_decided(context, enterprise, pressed=_pressed(update))


def _pressed(update: Update) -> tuple[int, int] | None:
    """The staff message whose button decided (a notice, or a /pending card)."""
    message = update.callback_query.message if update.callback_query else None
    return (message.chat.id, message.message_id) if message is not None else None


def _approved(svc: Services) -> Decided:
    """The owner's news and, for a round open now, the KPI report's invitation (its owner
    was not one of the round's respondents when it opened)."""
    tell = _tell_owner(svc)

    async def then(session: AsyncSession, enterprise: Enterprise, owner: User | None) -> None:
        await tell(session, enterprise, owner)
        await rounds.invite_latecomers(svc, session, enterprise_id=enterprise.id)

    return then


def _tell_owner(svc: Services) -> Decided:
    """The owner's news, queued in the decision's own transaction: a decision is never
    stored without it, and the outbox retries it if Telegram refuses it for a while."""

    async def then(session: AsyncSession, enterprise: Enterprise, owner: User | None) -> None:
        if owner is None:
            return
        decided_at = enterprise.decided_at.timestamp() if enterprise.decided_at else 0
        group, key = f"owner:{enterprise.id}", f"decision{int(decided_at * 1e6)}"
        name, code = enterprise.name, enterprise.join_code or ""
        if enterprise.status != EnterpriseStatus.APPROVED:
            reason = enterprise.reject_reason or ""
            await notify.queue(svc, session, group=group, key=key, to=owner.id,
                               priority=notify.URGENT, render=lambda: notify.Message(_(
                                   "Sorry, the SCORE team could not approve {name}.\nReason: "
                                   "{reason}\nYou can correct it with /enrol.").format(
                                   name=html.escape(name), reason=html.escape(reason))))
            return
        messages: list[Callable[[], notify.Message | Awaitable[notify.Message]]] = [
            lambda: notify.Message(_("Good news: {name} is approved for SCORE! Workers can now "
                                     "join with the code below.").format(
                                         name=html.escape(name))),
            lambda: notify.Message(code_text(svc.bot_username, name, code)),
            lambda: poster_message(svc.bot_username, name, code),
        ]
        for n, render in enumerate(messages):
            await notify.queue(svc, session, group=group, key=f"{key}.{n}", to=owner.id,
                               priority=notify.URGENT, render=render)

    return then


# --- rejecting: the reason is asked first ------------------------------------------------------
class RejectData(TypedDict, total=False):
    enterprise: int
    name: str
    # The staff notice whose Reject was pressed (chat, message): a tuple when written, a list
    # once the draft was read back from the database.
    pressed: Sequence[int] | None


REJECT: Flow[RejectData] = Flow("reject", allowed=is_staff, reentry=True,
                                lifetime=REASON_TIMEOUT,
                                cancelled=N_("Cancelled. The enrolment is still waiting."))


@REJECT.entry
async def reject_begin(run: Run[RejectData], enterprise_id: str) -> Outcome:
    """Reject on a staff notice: ask why. Reject on another notice meanwhile switches."""
    pending = (await pending_enterprise(run.svc.sessionmaker, int(enterprise_id))
               if enterprise_id.isdigit() else None)
    if pending is None:
        await _already_decided(run.update, run.context, int(enterprise_id or 0))
        return END
    run.data.update({"enterprise": pending.id, "name": pending.name,
                     "pressed": _pressed(run.update)})
    return ask_reason


def _reason_note(run: Run[RejectData]) -> str:
    return _("Please write why {name} is rejected, or /cancel.").format(
        name=html.escape(run.data["name"]))


@REJECT.step("reason", note=_reason_note, repeat=False)
async def ask_reason(run: Run[RejectData]) -> None:
    await run.say(_("Why is {name} rejected? The owner will read your answer.\n"
                    "/cancel keeps the enrolment waiting.")
                  .format(name=html.escape(run.data["name"])))


def _reason(text: str | None) -> tuple[str | None, str | None]:
    # A reason is shown escaped: "<b>" or "&" in it is text, not markup.
    return text_input.clean_name(text, max_len=500, markup_allowed=True)


@ask_reason.on_text(_reason, {
    text_input.TOO_LONG: N_("That is too long: at most 500 characters, please, or /cancel."),
    "*": N_("Please write the reason in a few words, or /cancel.")})
async def reason_given(run: Run[RejectData], reason: str) -> Outcome:
    decided = await decide_enrolment(run.svc.sessionmaker, int(run.data["enterprise"]),
                                     run.user_id, approve=False, reason=reason,
                                     now=run.svc.clock.now(), then=_tell_owner(run.svc))
    if decided is None:
        await run.say(_("Someone else already decided on this enrolment."))
        return END
    assert not isinstance(decided, NameApproved), "a rejection is never refused so"
    enterprise, _owner = decided
    await run.say(_("Rejected. The owner is told why."))
    pressed = run.data.get("pressed")
    await notices.mark_decided(run.context, enterprise,
                               pressed=(pressed[0], pressed[1]) if pressed else None)
    return END


async def _already_decided(update: Update, context: BotContext, enterprise_id: int) -> None:
    decision = await decision_on(context.svc.sessionmaker, enterprise_id)
    if decision is None:
        await stale_button(update)
        return
    await ack(update, _("Already decided by {who}.").format(who=decision.by))


async def pending_command(update: Update, context: BotContext) -> None:
    """Staff: enrolments still waiting, each with its buttons again."""
    cards = await pending_cards(context.svc.sessionmaker, limit=20)
    if not cards:
        await send(update, context, _("No enrolment is waiting."))
        return
    kb = context.keyboard()
    for card in cards:
        enterprise_id = str(card.enterprise.id)
        await send(update, context, notices.details(card),
                   rows([kb.button("✅ " + _("Approve"), "apr", enterprise_id),
                         kb.button("❌ " + _("Reject"), "rej", enterprise_id)]))


# --- a change to an approved enterprise's name, city or province ----------------------------
async def change_pressed(update: Update, context: BotContext) -> None:
    """Approve or Reject under a proposed change (staff only: the router checks the role)."""
    button = context.button
    assert button is not None
    if not button.value.isdigit():
        await stale_button(update)
        return
    approve = button.kind == "chok"
    svc = context.svc

    async def tell_owner(session: AsyncSession, enterprise: Enterprise, applied: bool) -> None:
        if enterprise.owner_id is None:
            return
        name = enterprise.name
        await notify.queue(svc, session, group=f"owner:{enterprise.id}",
                           # One message per decision (two decisions may share a second).
                           key=f"change{int(svc.clock.now().timestamp() * 1e6)}",
                           to=enterprise.owner_id,
                           priority=notify.URGENT, render=lambda: notify.Message(
                               _("The SCORE team approved the new details of {name}.").format(
                                   name=html.escape(name)) if applied else
                               _("The SCORE team kept the approved name, city and province of "
                                 "{name}. Please contact the team if they are wrong.").format(
                                   name=html.escape(name))))

    enterprise = await decide_change(svc.sessionmaker, int(button.value), approve=approve,
                                     now=svc.clock.now(), then=tell_owner)
    if enterprise is None:
        await ack(update, _("This change was already decided."))
        return
    await ack(update)
    who = html.escape(context.user_row.name or "") if context.user_row else ""
    verdict = _("✅ Approved by {who}.") if approve else _("❌ Rejected by {who}.")
    verdict = verdict.format(who=who)
    await edit_or_send(update, context, html.escape(enterprise.name) + "\n\n" + verdict)
