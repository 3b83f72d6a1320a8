"""Staff review enrolments: approve (the owner gets the join code and poster) or reject with a
reason."""

from __future__ import annotations

import html
import logging
from datetime import timedelta
from zoneinfo import ZoneInfo

from telegram import Update
from telegram.error import TelegramError

from chat.access import is_staff
from chat.context import BotContext
from chat.flow import END, Flow, Outcome, Run
from chat.i18n import N_, _, current_locale, format_date, format_number, use_locale
from chat.labels import module_name, sector_name
from chat.reply import ack, rows, send, stale_button
from db import enterprises as ent_db
from db.models import Enterprise, EnterpriseStatus
from db.review import decide_enrolment, pending_enterprise, pending_with_modules
from db.users import display_name, get_user
from domain import text_input
from domain.provinces import WIB, by_code
from handlers.poster import send_code

log = logging.getLogger(__name__)

# A reason not given within the hour is not waited for: the enrolment stays pending.
REASON_TIMEOUT = timedelta(hours=1)


def _details(enterprise: Enterprise, modules: list[int]) -> str:
    province = by_code(enterprise.province)
    return "\n".join([
        _("<b>New enrolment</b>: {name}").format(name=html.escape(enterprise.name)),
        _("Sector: {value}").format(value=html.escape(
            sector_name(enterprise.sector, enterprise.sector_other))),
        _("Province: {value}").format(value=province.name(current_locale()) if province else ""),
        _("City/regency: {value}").format(value=html.escape(enterprise.city)),
        _("Workers: {value}").format(value=format_number(enterprise.worker_count)),
        _("Contact: {value}").format(value=html.escape(enterprise.contact_name)),
        _("Phone: {value}").format(value=enterprise.phone),
        _("Modules: {value}").format(value=", ".join(module_name(m) for m in modules)),
        # Staff work from Jakarta: WIB.
        _("Received: {value}").format(value=format_date(
            enterprise.created_at.astimezone(ZoneInfo(WIB)))),
    ])


async def notify_staff(context: BotContext, enterprise_id: int) -> None:
    """Every staff member gets the details with Approve and Reject, in their own language."""
    svc = context.svc
    async with svc.sessionmaker() as session:
        enterprise = await ent_db.get_enterprise(session, enterprise_id)
        modules = await ent_db.modules_of(session, enterprise_id)
        staff = [(sid, (await get_user(session, sid))) for sid in sorted(svc.settings.staff_ids)]
    assert enterprise is not None
    for staff_id, row in staff:
        locale = row.language if row else svc.settings.default_locale
        with use_locale(locale):
            kb = type(context.keyboard())(svc.signer, staff_id)
            markup = rows([kb.button("✅ " + _("Approve"), "apr", str(enterprise_id)),
                           kb.button("❌ " + _("Reject"), "rej", str(enterprise_id))])
            try:
                message = await context.bot.send_message(staff_id, _details(enterprise, modules),
                                                          reply_markup=markup, parse_mode="HTML")
            except TelegramError as exc:
                # A staff member who never opened the bot cannot be written to; the others can.
                log.warning("could not notify staff=%s: %s", staff_id, exc)
                continue
        async with svc.sessionmaker() as session, session.begin():
            await ent_db.add_staff_notice(session, enterprise_id, staff_id, message.message_id)


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
    await _mark_decided(context, enterprise)


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
    await _mark_decided(run.context, enterprise)
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


async def _mark_decided(context: BotContext, enterprise: Enterprise) -> None:
    """Every staff member's copy says who decided, and loses its buttons."""
    svc = context.svc
    async with svc.sessionmaker() as session:
        notices = await ent_db.staff_notices(session, enterprise.id)
        who = await display_name(session, enterprise.decided_by or 0)
        modules = await ent_db.modules_of(session, enterprise.id)
        languages = {n.chat_id: (u.language if (u := await get_user(session, n.chat_id))
                                 else svc.settings.default_locale) for n in notices}
    for notice in notices:
        with use_locale(languages[notice.chat_id]):
            if enterprise.status == EnterpriseStatus.APPROVED:
                verdict = _("✅ Approved by {who}.").format(who=html.escape(who))
            else:
                verdict = _("❌ Rejected by {who}: {reason}").format(
                    who=html.escape(who), reason=html.escape(enterprise.reject_reason or ""))
            try:
                await context.bot.edit_message_text(
                    _details(enterprise, modules) + "\n\n" + verdict, chat_id=notice.chat_id,
                    message_id=notice.message_id, parse_mode="HTML")
            except TelegramError as exc:
                log.info("could not update staff notice %s: %s", notice.id, exc)


async def pending_command(update: Update, context: BotContext) -> None:
    """Staff: enrolments still waiting, each with its buttons again."""
    items = await pending_with_modules(context.svc.sessionmaker, limit=20)
    if not items:
        await send(update, context, _("No enrolment is waiting."))
        return
    kb = context.keyboard()
    for enterprise, modules in items:
        await send(update, context, _details(enterprise, modules),
                   rows([kb.button("✅ " + _("Approve"), "apr", str(enterprise.id)),
                         kb.button("❌ " + _("Reject"), "rej", str(enterprise.id))]))
