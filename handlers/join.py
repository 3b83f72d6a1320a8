"""Workers join with a code; owners show or replace it and invite admins; workers leave."""

from __future__ import annotations

import html
import logging
from datetime import timedelta

from telegram import InputFile, Update

from chat.context import BotContext
from chat.i18n import _, format_number, use_locale
from db import enterprises as ent_db
from db.models import EnterpriseStatus, MemberRole, Role
from db.types import utcnow
from db.users import set_role
from domain.join_codes import admin_deep_link, deep_link, new_invite_token, new_join_code, \
    normalize_code
from domain.join_limits import locked_until
from domain.poster import PosterTexts, render_poster
from handlers.common import END, ack, clear_main, rows, send, stale_button, step
from chat.menu import set_chat_menu

log = logging.getLogger(__name__)


@step("join_code", "text")
async def ask_code(update: Update, context: BotContext) -> None:
    await send(update, context, _("Please send the join code of your enterprise. You get it "
                                  "from your employer, the trainer or the improvement team."))


async def join_command(update: Update, context: BotContext) -> str | int:
    if context.user_row is None or context.user_row.consent_at is None:
        await send(update, context, _("Please start with /start and agree first."))
        return END
    if context.args:
        return await try_code(update, context, " ".join(context.args))
    return await ask_code(update, context)


async def code_typed(update: Update, context: BotContext) -> str | int:
    assert update.message is not None
    return await try_code(update, context, update.message.text or "")


async def try_code(update: Update, context: BotContext, text: str) -> str | int:
    user = context.user_row
    assert user is not None
    if context.role in ("owner", "admin", "staff", "trainer"):
        await send(update, context, _("Join codes are for workers. /help shows what you can do."))
        clear_main(context)
        return END
    now = utcnow()
    async with context.svc.sessionmaker() as session, session.begin():
        wrong = await ent_db.wrong_codes_since(session, user.id, now - timedelta(hours=2))
        if (until := locked_until(wrong, now)) is None:
            code = normalize_code(text, length=None)
            enterprise = await ent_db.enterprise_by_code(session, code) if code else None
            if enterprise is None:
                await ent_db.record_wrong_code(session, user.id)
                until = locked_until([*wrong, now], now)
            else:
                await ent_db.join(session, user.id, enterprise.id, MemberRole.WORKER)
                await set_role(session, user.id, Role.WORKER)
    if until is not None:
        minutes = max(1, -(-int((until - now).total_seconds()) // 60))
        await send(update, context, _("Too many wrong codes. Please try again in {minutes} "
                                      "minutes.").format(minutes=minutes))
        clear_main(context)
        return END
    if enterprise is None:
        await send(update, context, _("I do not know this code. Please check it and send it "
                                      "again, or /cancel."))
        context.draft["step"] = "join_code"
        return "join_code"
    context.role = "worker"
    clear_main(context)
    await set_chat_menu(context.bot, user.id, "worker", user.language)
    await send(update, context, _("Welcome! You are now a member of {name}. Thank you for "
                                  "joining.").format(name=html.escape(enterprise.name)))
    return END


async def accept_invite(update: Update, context: BotContext, token: str) -> int:
    user = context.user_row
    assert user is not None
    clear_main(context)
    if context.role == "owner":
        # An owner stays an owner: the link is for someone else, and stays unused for them.
        await send(update, context, _("This link is for an enterprise admin. Please forward "
                                      "it to your admin (HRD, QC or K3)."))
        return END
    async with context.svc.sessionmaker() as session, session.begin():
        invite = await ent_db.use_invite(session, token, user.id)
        enterprise = await ent_db.get_enterprise(session, invite.enterprise_id) if invite else None
        if enterprise is not None:
            await ent_db.join(session, user.id, enterprise.id, MemberRole.ADMIN)
            if context.role not in ("staff", "trainer"):
                await set_role(session, user.id, Role.ADMIN)
    if enterprise is None:
        await send(update, context, _("This invite link was already used or is not valid. "
                                      "Please ask the owner for a new one."))
        return END
    if context.role not in ("staff", "trainer"):
        context.role = "admin"
    await set_chat_menu(context.bot, user.id, context.role, user.language)
    await send(update, context, _("Welcome! You are now an admin of {name}.").format(
        name=html.escape(enterprise.name)))
    return END


async def _approved_enterprise(update: Update, context: BotContext):  # noqa: ANN202
    user = context.user_row
    assert user is not None
    if context.role in ("worker", "admin"):
        await send(update, context, _("This is for the owner of the enterprise. /help shows "
                                      "what you can do."))
        return None, 0
    async with context.svc.sessionmaker() as session:
        enterprise = await ent_db.owned_enterprise(session, user.id)
        workers = (await ent_db.member_count(session, enterprise.id, MemberRole.WORKER)
                   if enterprise else 0)
    if enterprise is None:
        await send(update, context, _("You have not enrolled an enterprise yet: /enrol"))
        return None, 0
    if enterprise.status != EnterpriseStatus.APPROVED:
        await send(update, context, _("Your enrolment is waiting for approval by the SCORE "
                                      "team. The join code comes once it is approved."))
        return None, 0
    return enterprise, workers


async def send_code(context: BotContext, chat_id: int, enterprise_name: str, code: str,
                    locale: str) -> None:
    """The join code, its link, and the A4 poster: for the owner (and later the trainer)."""
    link = deep_link(context.svc.bot_username, code)
    await context.bot.send_message(
        chat_id, _("{name}\nJoin code: <b>{code}</b>\nLink for workers: {link}\n"
                   "Print the poster below for the notice board.").format(
            name=html.escape(enterprise_name), code=code, link=link),
        parse_mode="HTML")
    with use_locale(locale):
        texts = PosterTexts(
            headline=_("Join us on Telegram"),
            code_label=_("Join code"),
            steps=(_("Scan this QR code with your phone camera."),
                   _("Telegram opens: tap START."),
                   _("Cannot scan? Search for @{bot} in Telegram, then type the code above.")
                   .format(bot=context.svc.bot_username)),
            footer=_("ILO SCORE Programme · Indonesia"))
    poster = render_poster(enterprise_name=enterprise_name, link=link, code=code, texts=texts)
    # As a file, not a photo: Telegram would recompress a photo to a JPEG unfit for printing.
    await context.bot.send_document(chat_id, InputFile(poster, filename=f"SCORE-{code}.png"),
                                    caption=_("A4 poster for the notice board"))


async def code_command(update: Update, context: BotContext) -> None:
    enterprise, workers = await _approved_enterprise(update, context)
    if enterprise is None:
        return
    user = context.user_row
    assert user is not None
    await send_code(context, user.id, enterprise.name, enterprise.join_code, user.language)
    kb = context.keyboard()
    await send(update, context,
               _("Workers who joined: {count}.\nIf the code leaked, you can replace it: the old "
                 "one stops working.").format(count=format_number(workers)),
               rows([kb.button(_("Replace the code"), "rcode", enterprise.join_code)]))


async def replace_code_pressed(update: Update, context: BotContext) -> None:
    button, user = context.button, context.user_row
    assert button is not None and user is not None
    async with context.svc.sessionmaker() as session, session.begin():
        enterprise = await ent_db.owned_enterprise(session, user.id)
        if (enterprise is None or enterprise.status != EnterpriseStatus.APPROVED
                or enterprise.join_code != button.value):
            enterprise = None
        else:
            await ent_db.replace_code(session, enterprise, new_join_code)
    if enterprise is None:
        await stale_button(update, context)
        return
    await ack(update)
    await send(update, context, _("Done: the old code no longer works. Here is the new one."))
    await send_code(context, user.id, enterprise.name, enterprise.join_code, user.language)


async def invite_command(update: Update, context: BotContext) -> None:
    enterprise, _workers = await _approved_enterprise(update, context)
    if enterprise is None:
        return
    user = context.user_row
    assert user is not None
    token = new_invite_token()
    async with context.svc.sessionmaker() as session, session.begin():
        await ent_db.create_invite(session, enterprise.id, user.id, token)
    await send(update, context, _(
        "Send this link to your enterprise admin (HRD, QC or K3). It works once:\n{link}").format(
        link=admin_deep_link(context.svc.bot_username, token)))


async def leave_command(update: Update, context: BotContext) -> None:
    user = context.user_row
    assert user is not None
    async with context.svc.sessionmaker() as session:
        membership = await ent_db.active_membership(session, user.id)
        enterprise = (await ent_db.get_enterprise(session, membership.enterprise_id)
                      if membership and membership.role == MemberRole.WORKER else None)
    if enterprise is None:
        await send(update, context, _("You are not a member of an enterprise as a worker."))
        return
    kb = context.keyboard()
    await send(update, context, _("Leave {name}?").format(name=html.escape(enterprise.name)),
               rows([kb.button(_("I no longer work here"), "leave", str(enterprise.id)),
                     kb.button(_("No, stay"), "leave", "no")], width=1))


async def leave_pressed(update: Update, context: BotContext) -> None:
    button, user = context.button, context.user_row
    assert button is not None and user is not None
    if button.value == "no":
        await ack(update)
        await send(update, context, _("Fine, nothing changed."))
        return
    async with context.svc.sessionmaker() as session, session.begin():
        membership = await ent_db.active_membership(session, user.id)
        if membership is None or str(membership.enterprise_id) != button.value:
            left = 0
        else:
            left = await ent_db.leave(session, user.id)
    if not left:
        await stale_button(update, context)
        return
    await ack(update)
    await send(update, context, _("Done: you are no longer a member. Thank you for taking part. "
                                  "You can join another enterprise with /join."))


def looks_like_code(text: str | None) -> bool:
    return normalize_code(text) is not None
