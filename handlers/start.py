"""First contact: greeting, language, consent, role; and /language, /privacy, /help."""

from __future__ import annotations

from telegram import Update

from chat.buttons import new_nonce
from chat.context import BotContext
from chat.i18n import _, set_locale
from db.models import Role
from db.users import decline_consent, give_consent, set_language, set_role
from domain.join_codes import parse_start_payload
from handlers import enrol, join
from handlers.common import (
    END,
    STEPS,
    ack,
    clear_main,
    role_help,
    rows,
    send,
    stale_button,
    step,
    wrong_input,
)
from chat.menu import set_chat_menu


async def start(update: Update, context: BotContext) -> str | int:
    clear_main(context)
    context.draft["nonce"] = new_nonce()
    payload = parse_start_payload(context.args[0]) if context.args else None
    if payload and payload[0] == "join":
        context.draft["pending_join"] = payload[1]
    elif payload and payload[0] == "admin":
        context.draft["pending_invite"] = payload[1]
    user = context.user_row
    assert user is not None
    if user.consent_at is None:
        return await ask_language(update, context)
    return await after_consent(update, context)


@step("lang", "button")
async def ask_language(update: Update, context: BotContext) -> None:
    kb = context.keyboard()
    await send(update, context,
               _("Welcome to SCORE Assistant, the assistant of the ILO SCORE programme.\n"
                 "Please choose your language."),
               rows([kb.button("Bahasa Indonesia", "lang", "id"),
                     kb.button("English", "lang", "en")]))


async def language_command(update: Update, context: BotContext) -> None:
    """/language and /bahasa: works inside and outside a conversation."""
    kb = context.keyboard()
    await send(update, context, _("Choose your language."),
               rows([kb.button("Bahasa Indonesia", "lang", "id"),
                     kb.button("English", "lang", "en")]))


async def language_chosen(update: Update, context: BotContext) -> str | int | None:
    button = context.button
    assert button is not None and context.user_row is not None
    if button.value not in ("id", "en") or button.nonce != context.draft.get("nonce", "-"):
        await stale_button(update, context)
        return None
    async with context.svc.sessionmaker() as session, session.begin():
        await set_language(session, context.user_row.id, button.value)
    context.user_row.language = button.value
    set_locale(button.value)
    await ack(update)
    await set_chat_menu(context.bot, update.effective_chat.id, context.role,  # type: ignore[union-attr]
                        button.value)
    current = context.draft.get("step")
    if current == "lang":
        return await ask_consent(update, context)
    await send(update, context, _("Done: I will write in English from now on."))
    if current in STEPS:
        return await STEPS[current][0](update, context)
    return None


@step("consent", "button")
async def ask_consent(update: Update, context: BotContext) -> None:
    kb = context.keyboard()
    await send(update, context,
               _("To help you, I keep your name and what you tell me about your enterprise, "
                 "for the ILO SCORE programme. /privacy explains what and why.\n"
                 "Do you agree?"),
               rows([kb.button(_("Yes, I agree"), "consent", "yes"),
                     kb.button(_("No"), "consent", "no")]))


async def consent_chosen(update: Update, context: BotContext) -> str | int | None:
    button, user = context.button, update.effective_user
    assert button is not None and user is not None
    if button.nonce != context.draft.get("nonce"):
        await stale_button(update, context)
        return None
    await ack(update)
    async with context.svc.sessionmaker() as session, session.begin():
        if button.value == "yes":
            await give_consent(session, user.id, name=user.full_name, username=user.username)
        else:
            await decline_consent(session, user.id)
    if button.value != "yes":
        clear_main(context)
        await send(update, context,
                   _("Understood: I keep nothing about you but your language.\n"
                     "Without your consent I cannot enrol an enterprise or link you to your "
                     "workplace. You can agree at any time with /start."))
        return END
    return await after_consent(update, context)


async def after_consent(update: Update, context: BotContext) -> str | int:
    if (code := context.draft.pop("pending_join", None)) is not None:
        return await join.try_code(update, context, code)
    if (token := context.draft.pop("pending_invite", None)) is not None:
        return await join.accept_invite(update, context, token)
    if context.role is None:
        return await ask_role(update, context)
    clear_main(context)
    await send(update, context, _("Welcome back! Here is what you can do:") + "\n"
               + role_help(context.role))
    return END


@step("role", "button")
async def ask_role(update: Update, context: BotContext) -> None:
    kb = context.keyboard()
    await send(update, context, _("Who are you?"),
               rows([kb.button(_("Owner / head of an enterprise"), "role", "owner"),
                     kb.button(_("Employee / worker"), "role", "worker")], width=1))


async def role_chosen(update: Update, context: BotContext) -> str | int | None:
    button, user = context.button, context.user_row
    assert button is not None and user is not None
    if button.nonce != context.draft.get("nonce") or button.value not in ("owner", "worker"):
        await stale_button(update, context)
        return None
    await ack(update)
    role = Role(button.value)
    async with context.svc.sessionmaker() as session, session.begin():
        await set_role(session, user.id, role)
    context.role = role.value
    await set_chat_menu(context.bot, user.id, context.role, user.language)
    if role is Role.OWNER:
        return await enrol.begin(update, context)
    return await join.ask_code(update, context)


async def role_typed(update: Update, context: BotContext) -> str | int | None:
    """At the role question, a worker often types the code from the poster straight away."""
    text = update.message.text if update.message else None
    if join.looks_like_code(text):
        return await join.try_code(update, context, text or "")
    return await wrong_input(update, context)


async def privacy(update: Update, context: BotContext) -> None:
    await send(update, context,
               _("<b>What SCORE Assistant keeps</b>\n"
                 "Before you agree: only your Telegram id and your language.\n"
                 "After you agree: your name and Telegram username, your role, your enterprise "
                 "and what you answer, for the ILO SCORE programme and its partners, to run the "
                 "training and measure its results. Survey answers are shown to enterprises only "
                 "as totals of at least five workers. Indonesia's Personal Data Protection Law "
                 "(UU PDP No. 27/2022) applies."))


async def help_command(update: Update, context: BotContext) -> None:
    await send(update, context, role_help(context.role) + "\n\n" + _(
        "This bot is not a complaint channel. If you see serious danger at work, report it to "
        "the labour inspectorate (pengawas ketenagakerjaan) at your provincial manpower office "
        "(Disnaker)."))


async def unknown_command(update: Update, context: BotContext) -> None:
    await send(update, context, _("I do not know that command. Here is what you can do:") + "\n"
               + role_help(context.role))


async def stray_message(update: Update, context: BotContext) -> None:
    text = update.message.text if update.message else None
    user = context.user_row
    if (join.looks_like_code(text) and context.role in (None, "worker")
            and user is not None and user.consent_at is not None):
        # A worker may simply type the code from the poster, without /join first.
        await join.try_code(update, context, text or "")
        clear_main(context)
        return
    await send(update, context, _("Please use a command from the menu; /help lists them."))


async def start_in_conversation(update: Update, context: BotContext) -> str | int | None:
    """/start while a question is open: a link (join code, admin invite) starts afresh, since
    the user just scanned or tapped it; a bare /start shows the open question again."""
    if context.args and parse_start_payload(context.args[0]) is not None:
        return await start(update, context)
    await send(update, context, _("Please answer the question first, or /cancel."))
    current = context.draft.get("step")
    return await STEPS[current][0](update, context) if current in STEPS else None
