"""Staff review enrolments: approve (the owner gets the join code and poster) or reject."""

from __future__ import annotations

import html
import logging
from datetime import timedelta

from telegram import Update
from telegram.error import TelegramError

from chat.context import BotContext
from chat.i18n import _, use_locale
from db import enterprises as ent_db
from db.models import EnterpriseStatus
from db.users import display_name, get_user
from domain import text_input
from domain.join_codes import new_join_code
from handlers import enrolment_notices as notices
from handlers.common import END, ack, rows, send, stale_button

log = logging.getLogger(__name__)

# A reason not given within the hour is not waited for: the enrolment stays pending.
REASON_TIMEOUT = timedelta(hours=1)


def _is_staff(context: BotContext) -> bool:
    return context.role == "staff"


async def approve_pressed(update: Update, context: BotContext) -> None:
    button, user = context.button, context.user_row
    assert button is not None and user is not None
    if not _is_staff(context) or not button.value.isdigit():
        log.warning("staff action by non-staff user=%s ignored", user.id)
        return
    async with context.svc.sessionmaker() as session, session.begin():
        enterprise = await ent_db.decide(session, int(button.value), user.id, approve=True,
                                         new_code=new_join_code)
        owner = await get_user(session, enterprise.owner_id) if enterprise and \
            enterprise.owner_id else None
    if enterprise is None:
        await _already_decided(update, context, int(button.value))
        return
    await ack(update, _("Approved."))
    if owner is not None:
        from handlers.join import send_code  # the join journey owns the code message

        with use_locale(owner.language):
            try:
                await context.bot.send_message(owner.id, _(
                    "Good news: {name} is approved for SCORE! Workers can now join with the "
                    "code below.").format(name=html.escape(enterprise.name)), parse_mode="HTML")
                await send_code(context, owner.id, enterprise.name, enterprise.join_code,
                                owner.language)
            except TelegramError as exc:
                log.warning("could not tell owner=%s of approval: %s", owner.id, exc)
    await notices.mark_decided(context, enterprise)


async def reject_pressed(update: Update, context: BotContext) -> str | int | None:
    button, user = context.button, context.user_row
    assert button is not None and user is not None
    if not _is_staff(context) or not button.value.isdigit():
        log.warning("staff action by non-staff user=%s ignored", user.id)
        return END
    async with context.svc.sessionmaker() as session:
        enterprise = await ent_db.get_enterprise(session, int(button.value))
    if enterprise is None or enterprise.status != EnterpriseStatus.PENDING:
        await _already_decided(update, context, int(button.value))
        return END
    await ack(update)
    context.draft["review"] = enterprise.id
    context.draft["review_name"] = enterprise.name
    await send(update, context, _("Why is {name} rejected? The owner will read your answer.")
               .format(name=html.escape(enterprise.name)))
    return "reason"


async def reason_given(update: Update, context: BotContext) -> str | int | None:
    reason, error = text_input.clean_name(update.message.text if update.message else None,
                                          max_len=500)
    if error:
        await send(update, context, _("Please write the reason in a few words, or /cancel."))
        return "reason"
    user = context.user_row
    assert user is not None and reason is not None
    if not _is_staff(context):
        return END
    enterprise_id = context.draft.pop("review", None)
    context.draft.pop("review_name", None)
    async with context.svc.sessionmaker() as session, session.begin():
        enterprise = await ent_db.decide(session, int(enterprise_id or 0), user.id,
                                         approve=False, reason=reason)
        owner = await get_user(session, enterprise.owner_id) if enterprise and \
            enterprise.owner_id else None
    if enterprise is None:
        await send(update, context, _("Someone else already decided on this enrolment."))
        return END
    await send(update, context, _("Rejected. The owner is told why."))
    if owner is not None:
        with use_locale(owner.language):
            try:
                await context.bot.send_message(owner.id, _(
                    "Sorry, the SCORE team could not approve {name}.\nReason: {reason}\n"
                    "You can correct it with /enrol.").format(
                    name=html.escape(enterprise.name), reason=html.escape(reason)),
                    parse_mode="HTML")
            except TelegramError as exc:
                log.warning("could not tell owner=%s of rejection: %s", owner.id, exc)
    await notices.mark_decided(context, enterprise)
    return END


async def reason_wrong_input(update: Update, context: BotContext) -> str:
    """Anything but a text (a command included) while the reason is awaited."""
    await send(update, context, _("Please write why {name} is rejected, or /cancel.").format(
        name=html.escape(context.draft.get("review_name", ""))))
    return "reason"


async def cancel_review(update: Update, context: BotContext) -> int:
    context.draft.pop("review", None)
    context.draft.pop("review_name", None)
    await send(update, context, _("Cancelled. The enrolment is still waiting."))
    return END


async def _already_decided(update: Update, context: BotContext, enterprise_id: int) -> None:
    async with context.svc.sessionmaker() as session:
        enterprise = await ent_db.get_enterprise(session, enterprise_id)
        who = await display_name(session, enterprise.decided_by) if enterprise and \
            enterprise.decided_by else ""
    if enterprise is None:
        await stale_button(update, context)
        return
    await ack(update, _("Already decided by {who}.").format(who=who))


async def pending_command(update: Update, context: BotContext) -> None:
    """Staff: enrolments still waiting, each with its buttons again."""
    if not _is_staff(context):
        log.warning("staff command by non-staff user=%s ignored", update.effective_user.id)
        from handlers.start import unknown_command  # same reply as any unknown command

        await unknown_command(update, context)
        return
    async with context.svc.sessionmaker() as session:
        items = [(e, await ent_db.modules_of(session, e.id))
                 for e in await ent_db.pending_enterprises(session, limit=20)]
    if not items:
        await send(update, context, _("No enrolment is waiting."))
        return
    kb = type(context.keyboard())(context.svc.signer, context.user_row.id)  # type: ignore[union-attr]
    for enterprise, modules in items:
        assert enterprise is not None
        await send(update, context, notices.details(enterprise, modules),
                   rows([kb.button("✅ " + _("Approve"), "apr", str(enterprise.id)),
                         kb.button("❌ " + _("Reject"), "rej", str(enterprise.id))]))
