"""Staff review enrolments: approve (the owner gets the join code and poster) or reject with a
reason."""

from __future__ import annotations

import html
import logging
from collections.abc import Sequence
from datetime import timedelta
from typing import TypedDict

from telegram import Update

from chat.access import is_staff
from chat.context import BotContext
from chat.flow import END, Flow, Outcome, Run
from chat.i18n import N_, _
from chat.reply import ack, edit_or_send, rows, send, stale_button
from db.review import NameApproved, decision_on, pending_cards, pending_enterprise
from domain import text_input
from services import enrolment_notices as notices
from services import enrolment_review as review

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
    decided = await review.approve(context.svc, int(button.value), user.id)
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
    return _("Please write why {name} is rejected. Type /cancel to stop.").format(
        name=html.escape(run.data["name"]))


@REJECT.step("reason", note=_reason_note, repeat=False)
async def ask_reason(run: Run[RejectData]) -> None:
    await run.say(_("Why is {name} rejected? The owner will read your answer.\n"
                    "Type /cancel to stop: the enrolment then keeps waiting.")
                  .format(name=html.escape(run.data["name"])))


def _reason(text: str | None) -> tuple[str | None, str | None]:
    # A reason is shown escaped: "<b>" or "&" in it is text, not markup.
    return text_input.clean_name(text, max_len=500, markup_allowed=True)


@ask_reason.on_text(_reason, {
    text_input.TOO_LONG: N_("That is too long: at most 500 characters, please. Type /cancel "
                            "to stop."),
    "*": N_("Please write the reason in a few words. Type /cancel to stop.")})
async def reason_given(run: Run[RejectData], reason: str) -> Outcome:
    decided = await review.reject(run.svc, int(run.data["enterprise"]), run.user_id, reason)
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
    enterprise = await review.decide_change(context.svc, int(button.value), approve=approve)
    if enterprise is None:
        await ack(update, _("This change was already decided."))
        return
    await ack(update)
    who = html.escape(context.user_row.name or "") if context.user_row else ""
    verdict = _("✅ Approved by {who}.") if approve else _("❌ Rejected by {who}.")
    verdict = verdict.format(who=who)
    await edit_or_send(update, context, html.escape(enterprise.name) + "\n\n" + verdict)
