"""Building the Application: handlers in one place, in an order that reads like a table of
contents; group -1 is the gate, group 0 the journeys."""

from __future__ import annotations

import functools
import logging
import warnings
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine
from telegram import Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    ExtBot,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.request import BaseRequest
from telegram.warnings import PTBUserWarning

from chat.buttons import ButtonSigner
from config.settings import Settings
from chat.context import BotContext, Services, services_of
from bot.persistence import DbPersistence
from domain.drafts import DRAFT_LIFETIME
from bot.telegram_channel import TelegramChannel
from bot.processor import PerUserUpdateProcessor
from db.secrets import get_or_create_secret
from db.session import create_engine, create_sessionmaker
from handlers import (
    broadcast,
    chat_member,
    enrol,
    errors,
    gate,
    join,
    review,
    staff_roles,
    start,
)
from handlers.common import (
    STEPS,
    cancel,
    draft_expired,
    reask,
    stale_button,
    stale_button_in_conversation,
    wrong_input,
)
from chat.menu import set_default_menus, set_staff_menus
from jobs import broadcasts as broadcast_jobs
from jobs import drafts, outbox_watch
from jobs.clock import Clock, RealClock
from jobs.outbox import OutboxSender, SenderConfig
from jobs.sender_lock import lock_for

log = logging.getLogger(__name__)

# Explicit, so that blocking and unblocking (my_chat_member) always reach us.
ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY, Update.MY_CHAT_MEMBER]
TEXT = filters.TEXT & ~filters.COMMAND


def _button(callback, kind: str) -> CallbackQueryHandler:  # noqa: ANN001
    return CallbackQueryHandler(callback, pattern=rf"^{kind}\|")


def _conversation(**kwargs: Any) -> ConversationHandler:
    """A ConversationHandler of ours: buttons and text mix in one conversation, so PTB's
    per-message tracking is not wanted and its warning about it is silenced, that one only."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"If 'per_message=False'",
                                category=PTBUserWarning)
        return ConversationHandler(**kwargs)


def _needs_draft(callback):  # noqa: ANN001, ANN202
    """A state's answer needs its draft: one deleted after 14 days ends the conversation."""

    @functools.wraps(callback)
    async def guarded(update: Update, context: BotContext):  # noqa: ANN202
        if "nonce" not in context.draft:
            await draft_expired(update, context)
            return ConversationHandler.END
        return await callback(update, context)

    return guarded


async def _in_conversation(update: Update, context: BotContext) -> str | None:
    """A command that does not belong here: say so and ask the current question again."""
    from chat.i18n import _

    return await reask(update, context, _("Please answer the question first, or /cancel."))


async def _help_in_conversation(update: Update, context: BotContext) -> str | None:
    await start.help_command(update, context)
    return await reask(update, context)


async def _privacy_in_conversation(update: Update, context: BotContext) -> str | None:
    await start.privacy(update, context)
    return await reask(update, context)


async def _nothing_to_cancel(update: Update, context: BotContext) -> None:
    from chat.i18n import _
    from handlers.common import send

    await send(update, context, _("There is nothing to cancel. /help shows what I can do."))


def main_conversation() -> ConversationHandler:
    g = _needs_draft
    states = {
        "lang": [_button(g(start.language_chosen), "lang")],
        "consent": [_button(g(start.consent_chosen), "consent")],
        "role": [_button(g(start.role_chosen), "role"), MessageHandler(TEXT, g(start.role_typed))],
        "join_code": [MessageHandler(TEXT, g(join.code_typed)),
                      CommandHandler("join", join.join_command)],
        "e_name": [MessageHandler(TEXT, g(enrol.name_given))],
        "e_sector": [_button(g(enrol.sector_chosen), "sector")],
        "e_sector_other": [MessageHandler(TEXT, g(enrol.sector_other_given))],
        "e_province": [_button(g(enrol.province_chosen), "prov"),
                       _button(g(enrol.province_page), "ppage"),
                       MessageHandler(TEXT, g(enrol.province_typed))],
        "e_city": [MessageHandler(TEXT, g(enrol.city_given))],
        "e_workers": [MessageHandler(TEXT, g(enrol.workers_given))],
        "e_contact": [MessageHandler(TEXT, g(enrol.contact_given))],
        "e_phone": [MessageHandler(filters.CONTACT, g(enrol.phone_shared)),
                    MessageHandler(TEXT, g(enrol.phone_typed))],
        "e_modules": [_button(g(enrol.module_toggled), "mod")],
        "e_summary": [_button(g(enrol.edit_chosen), "edit"), _button(g(enrol.confirmed), "confirm")],
    }
    assert set(states) <= set(STEPS), set(states) - set(STEPS)
    return _conversation(
        entry_points=[CommandHandler("start", start.start),
                      CommandHandler("enrol", enrol.begin),
                      CommandHandler("join", join.join_command)],
        states=states,  # type: ignore[arg-type]
        fallbacks=[
            CommandHandler("cancel", cancel),
            CommandHandler("start", start.start_in_conversation),
            CommandHandler(["language", "bahasa"], start.language_command),
            _button(start.language_chosen, "lang"),
            CommandHandler("help", _help_in_conversation),
            CommandHandler("privacy", _privacy_in_conversation),
            MessageHandler(filters.COMMAND, _in_conversation),
            CallbackQueryHandler(stale_button_in_conversation),
            MessageHandler(filters.ALL, wrong_input),
        ],
        name="main",
        persistent=True,
        # In memory as in the database (jobs/drafts.py), a draft lives 14 days.
        conversation_timeout=DRAFT_LIFETIME,
    )


def review_conversation() -> ConversationHandler:
    return _conversation(
        entry_points=[_button(review.reject_pressed, "rej")],
        states={"reason": [MessageHandler(TEXT, review.reason_given)]},
        fallbacks=[CommandHandler("cancel", review.cancel_review),
                   MessageHandler(filters.ALL, review.reason_wrong_input)],
        name="review",
        persistent=True,
        # Pressing Reject on another enrolment switches to that one.
        allow_reentry=True,
        conversation_timeout=review.REASON_TIMEOUT,
    )


def _staff_fallbacks(flow: staff_roles.Flow, kinds: str) -> list:
    """A staff conversation's fallbacks: /cancel, /help and /language work; another command
    or input that does not fit re-asks; a button of this conversation from an earlier step
    is stale. Other buttons pass through to their own handlers."""
    g = flow.guard
    return [CommandHandler("cancel", flow.cancel),
            CommandHandler("help", g(flow.help)),
            CommandHandler(["language", "bahasa"], start.language_command),
            MessageHandler(filters.COMMAND, g(flow.other_command)),
            CallbackQueryHandler(g(flow.stale), pattern=rf"^{kinds}[a-z]*\|"),
            MessageHandler(filters.ALL, g(flow.wrong_input))]


def broadcast_conversation() -> ConversationHandler:
    g = broadcast.FLOW.guard
    states = {
        "bc_text_id": [MessageHandler(TEXT, g(broadcast.text_id_given))],
        "bc_text_en": [MessageHandler(TEXT, g(broadcast.text_en_given)),
                       _button(g(broadcast.english_skipped), "bcskip")],
        "bc_audience": [_button(g(broadcast.audience_menu), "bcaud"),
                        _button(g(broadcast.audience_toggled), "bctog"),
                        MessageHandler(TEXT, g(broadcast.audience_typed))],
        "bc_when": [_button(g(broadcast.send_now), "bcnow"),
                    MessageHandler(TEXT, g(broadcast.when_typed))],
        "bc_confirm": [_button(g(broadcast.confirmed), "bcok")],
    }
    assert set(states) == set(broadcast.FLOW.steps), set(states) ^ set(broadcast.FLOW.steps)
    return _conversation(
        entry_points=[CommandHandler("broadcast", broadcast.begin)],
        states=states,  # type: ignore[arg-type]
        fallbacks=_staff_fallbacks(broadcast.FLOW, "bc"),
        name="broadcast",
        persistent=True,
        # /broadcast again starts afresh.
        allow_reentry=True,
        conversation_timeout=DRAFT_LIFETIME,
    )


def staff_roles_conversation() -> ConversationHandler:
    g = staff_roles.ROLES.guard
    states = {
        "sr_menu": [_button(g(staff_roles.action_chosen), "srole")],
        "sr_target": [MessageHandler(TEXT, g(staff_roles.target_typed))],
        "sr_confirm": [_button(g(staff_roles.confirmed), "srok")],
    }
    assert set(states) == set(staff_roles.ROLES.steps)
    return _conversation(
        entry_points=[CommandHandler("staff", staff_roles.staff_command)],
        states=states,  # type: ignore[arg-type]
        fallbacks=_staff_fallbacks(staff_roles.ROLES, "sr"),
        name="staff_roles",
        persistent=True,
        allow_reentry=True,
        conversation_timeout=DRAFT_LIFETIME,
    )


def add_handlers(app: Application) -> None:
    # group -1: who is this, which language and role; forged buttons and groups stop here.
    app.add_handler(TypeHandler(Update, gate.gate), group=-1)
    # group 0: the journeys.
    app.add_handler(ChatMemberHandler(chat_member.my_chat_member,
                                      ChatMemberHandler.MY_CHAT_MEMBER))
    app.add_handler(_button(review.approve_pressed, "apr"))
    app.add_handler(review_conversation())
    # Staff tools come before the main conversation: they work while a question of it is
    # open, and a non-staff user gets the unknown-command reply (and a log line) everywhere.
    app.add_handler(broadcast_conversation())
    app.add_handler(staff_roles_conversation())
    app.add_handler(CommandHandler("broadcasts", broadcast.list_command))
    app.add_handler(_button(broadcast.cancel_pressed, "blx"))
    app.add_handler(_button(broadcast.cancel_confirmed, "blxy"))
    app.add_handler(_button(broadcast.keep_pressed, "blxn"))
    app.add_handler(CallbackQueryHandler(staff_roles.staff_button_elsewhere,
                                         pattern=r"^(bc|sr)[a-z]*\|"))
    app.add_handler(main_conversation())
    app.add_handler(CommandHandler("help", start.help_command))
    app.add_handler(CommandHandler("privacy", start.privacy))
    app.add_handler(CommandHandler(["language", "bahasa"], start.language_command))
    app.add_handler(_button(start.language_chosen, "lang"))
    app.add_handler(CommandHandler("code", join.code_command))
    app.add_handler(_button(join.replace_code_pressed, "rcode"))
    app.add_handler(CommandHandler("invite", join.invite_command))
    app.add_handler(CommandHandler("leave", join.leave_command))
    app.add_handler(_button(join.leave_pressed, "leave"))
    app.add_handler(CommandHandler("pending", review.pending_command))
    app.add_handler(CommandHandler("cancel", _nothing_to_cancel))
    app.add_handler(MessageHandler(filters.COMMAND, start.unknown_command))
    app.add_handler(CallbackQueryHandler(stale_button))
    app.add_handler(MessageHandler(TEXT, start.stray_message))
    app.add_handler(MessageHandler(filters.ALL, start.stray_message))
    app.add_error_handler(errors.on_error)


async def _post_init(app: Application) -> None:
    svc = services_of(app)
    secret = await get_or_create_secret(svc.sessionmaker, "buttons")
    svc.signer = ButtonSigner(bytes.fromhex(secret))
    svc.bot_username = app.bot.username
    await drafts.purge_drafts(app)
    await set_default_menus(app.bot)
    await set_staff_menus(app.bot, svc)
    if svc.extra.get("start_sender", True):
        sender = make_sender(svc, app.bot)
        svc.extra["sender"] = sender
        sender.start()
    log.info("bot @%s ready", svc.bot_username)


def make_sender(svc: Services, bot: ExtBot) -> OutboxSender:
    engine: AsyncEngine = svc.extra["engine"]
    config = svc.extra.get("sender_config") or SenderConfig(
        rate=svc.settings.broadcast_rate, in_flight=svc.settings.outbox_in_flight)
    return OutboxSender(svc.sessionmaker, TelegramChannel(bot, svc.signer), config=config,
                        clock=svc.clock, lock=lock_for(engine),
                        skip_locked=engine.dialect.name == "postgresql")


async def _post_stop(app: Application) -> None:
    sender: OutboxSender | None = services_of(app).extra.pop("sender", None)
    if sender is not None:
        await sender.stop()


async def _post_shutdown(app: Application) -> None:
    engine: AsyncEngine = services_of(app).extra["engine"]
    await engine.dispose()


def build_application(settings: Settings, *, token: str | None = None,
                      request: BaseRequest | None = None,
                      get_updates_request: BaseRequest | None = None,
                      clock: Clock | None = None,
                      sender_config: SenderConfig | None = None,
                      start_sender: bool = True) -> Application:
    engine = create_engine(settings.database_url)
    sessionmaker = create_sessionmaker(engine)
    persistence = DbPersistence(sessionmaker)
    processor = PerUserUpdateProcessor()
    builder = (
        ApplicationBuilder()
        .token(token or settings.bot_token or "")
        .base_url(settings.api_base_url)
        .base_file_url(settings.api_file_url)
        .persistence(persistence)
        .concurrent_updates(processor)
        .context_types(ContextTypes(context=BotContext))
        .post_init(_post_init)
        .post_stop(_post_stop)
        .post_shutdown(_post_shutdown)
    )
    if request is not None:
        builder = builder.request(request)
    if get_updates_request is not None:
        builder = builder.get_updates_request(get_updates_request)
    app = builder.build()

    async def _commit_after_update() -> None:
        await app.update_persistence()
        await persistence.commit()

    processor.after_update = _commit_after_update
    app.bot_data["services"] = Services(settings=settings, sessionmaker=sessionmaker,
                                        signer=ButtonSigner(b"unset"), clock=clock or RealClock(),
                                        extra={"engine": engine, "processor": processor,
                                               "sender_config": sender_config,
                                               "start_sender": start_sender})
    add_handlers(app)
    drafts.schedule(app)
    outbox_watch.schedule(app)
    broadcast_jobs.schedule(app)
    return app
