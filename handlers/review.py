"""Staff review enrolments: approve (the owner gets the join code and poster) or reject with a
reason."""

from __future__ import annotations

import html
import logging
from datetime import timedelta

from telegram import Update
from telegram.error import TelegramError

from chat.access import is_staff
from chat.context import BotContext
from chat.flow import END, Flow, Outcome, Run
from chat.i18n import N_, _, use_locale
from chat.reply import ack, rows, send, stale_button
from db import enterprises as ent_db
from db.review import decide_enrolment, pending_enterprise, pending_with_modules
from db.users import display_name
from domain import text_input
from handlers import enrolment_notices as notices
from handlers.poster import send_code

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
                                     approve=True)
    if decided is None:
        await _already_decided(update, context, int(button.value))
        return
    enterprise, owner = decided
    await ack(update, _("Approved."))
    if owner is not None and enterprise.join_code:
        with use_locale(owner.language):
            try:
                await context.bot.send_message(owner.id, _(
                    "Good news: {name} is approved for SCORE! Workers can now join with the "
                    "code below.").format(name=html.escape(enterprise.name)), parse_mode="HTML")
                await send_code(context.bot, context.svc.bot_username, owner.id,
                                enterprise.name, enterprise.join_code, owner.language)
            except TelegramError as exc:
                log.warning("could not tell owner=%s of approval: %s", owner.id, exc)
    await notices.mark_decided(context, enterprise)


# --- rejecting: the reason is asked first ------------------------------------------------------
REJECT = Flow("reject", allowed=is_staff, reentry=True, lifetime=REASON_TIMEOUT,
              cancelled=N_("Cancelled. The enrolment is still waiting."))


async def reject_pressed(update: Update, context: BotContext) -> None:
    """Reject on a staff notice: ask why. Reject on another notice meanwhile switches."""
    button = context.button
    assert button is not None
    await REJECT.start(update, context, enterprise_id=button.value)


@REJECT.entry
async def reject_begin(run: Run, enterprise_id: str) -> Outcome:
    pending = (await pending_enterprise(run.svc.sessionmaker, int(enterprise_id))
               if enterprise_id.isdigit() else None)
    if pending is None:
        await _already_decided(run.update, run.context, int(enterprise_id or 0))
        return END
    await run.ack()
    run.data.update(enterprise=pending.id, name=pending.name)
    return ask_reason


def _reason_note(run: Run) -> str:
    return _("Please write why {name} is rejected, or /cancel.").format(
        name=html.escape(run.data["name"]))


@REJECT.step("reason", note=_reason_note, repeat=False)
async def ask_reason(run: Run) -> None:
    await run.say(_("Why is {name} rejected? The owner will read your answer.\n"
                    "/cancel keeps the enrolment waiting.")
                  .format(name=html.escape(run.data["name"])))


def _reason(text: str | None) -> tuple[str | None, str | None]:
    # A reason is shown escaped: "<b>" or "&" in it is text, not markup.
    return text_input.clean_name(text, max_len=500, markup_allowed=True)


@ask_reason.on_text(_reason, {"*": N_("Please write the reason in a few words, or /cancel.")})
async def reason_given(run: Run, reason: str) -> Outcome:
    decided = await decide_enrolment(run.svc.sessionmaker, int(run.data["enterprise"]),
                                     run.user_id, approve=False, reason=reason)
    if decided is None:
        await run.say(_("Someone else already decided on this enrolment."))
        return END
    enterprise, owner = decided
    await run.say(_("Rejected. The owner is told why."))
    if owner is not None:
        with use_locale(owner.language):
            try:
                await run.context.bot.send_message(owner.id, _(
                    "Sorry, the SCORE team could not approve {name}.\nReason: {reason}\n"
                    "You can correct it with /enrol.").format(
                    name=html.escape(enterprise.name), reason=html.escape(reason)),
                    parse_mode="HTML")
            except TelegramError as exc:
                log.warning("could not tell owner=%s of rejection: %s", owner.id, exc)
    await notices.mark_decided(run.context, enterprise)
    return END


async def _already_decided(update: Update, context: BotContext, enterprise_id: int) -> None:
    async with context.svc.sessionmaker() as session:
        enterprise = await ent_db.get_enterprise(session, enterprise_id)
        who = await display_name(session, enterprise.decided_by) if enterprise and \
            enterprise.decided_by else ""
    if enterprise is None:
        await stale_button(update)
        return
    await ack(update, _("Already decided by {who}.").format(who=who))


async def pending_command(update: Update, context: BotContext) -> None:
    """Staff: enrolments still waiting, each with its buttons again."""
    items = await pending_with_modules(context.svc.sessionmaker, limit=20)
    if not items:
        await send(update, context, _("No enrolment is waiting."))
        return
    kb = context.keyboard()
    for enterprise, modules in items:
        await send(update, context, notices.details(enterprise, modules),
                   rows([kb.button("✅ " + _("Approve"), "apr", str(enterprise.id)),
                         kb.button("❌ " + _("Reject"), "rej", str(enterprise.id))]))
