"""Small helpers every journey uses: replying, re-asking, stale buttons, role help."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from telegram import InlineKeyboardMarkup, Message, ReplyKeyboardRemove, Update
from telegram.constants import ParseMode
from telegram.ext import ConversationHandler

from chat.context import BotContext
from chat.i18n import _

log = logging.getLogger(__name__)

END = ConversationHandler.END

# Keys of user_data that belong to the main conversation (the draft).
MAIN_KEYS = ("nonce", "step", "enrol", "pending_join", "pending_invite", "prov_page")

Asker = Callable[[Update, BotContext], Awaitable[str]]
# step name -> (function that asks it, what it expects: "text", "button" or "phone")
STEPS: dict[str, tuple[Asker, str]] = {}


def step(name: str, expects: str) -> Callable[[Asker], Asker]:
    """Register the function that asks a step, so any handler can ask it again."""

    def register(func: Asker) -> Asker:
        async def ask(update: Update, context: BotContext) -> str:
            context.draft["step"] = name
            await func(update, context)
            return name

        STEPS[name] = (ask, expects)
        return ask

    return register


async def send(update: Update, context: BotContext, text: str,
               markup: InlineKeyboardMarkup | object | None = None) -> Message:
    chat = update.effective_chat
    assert chat is not None
    return await context.bot.send_message(chat.id, text, reply_markup=markup,
                                          parse_mode=ParseMode.HTML)


def rows(buttons: list, width: int = 2) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([buttons[i:i + width] for i in range(0, len(buttons), width)])


async def ack(update: Update, text: str | None = None) -> None:
    """Answer a button press so it stops spinning; a lost answer is harmless."""
    if update.callback_query:
        try:
            await update.callback_query.answer(text)
        except Exception:  # noqa: BLE001 - the query may be too old; nothing to do about it
            log.debug("could not answer callback query", exc_info=True)


async def reask(update: Update, context: BotContext, note: str | None = None) -> str | int:
    """Say why the answer did not fit, then ask the current step again."""
    current = context.draft.get("step")
    if current not in STEPS:
        # In a conversation whose draft was deleted (14 days): nothing to ask again.
        await draft_expired(update, context)
        return END
    if note:
        await send(update, context, note)
    return await STEPS[current][0](update, context)


def expected_note(context: BotContext) -> str:
    current = context.draft.get("step")
    expects = STEPS[current][1] if current in STEPS else "text"
    if expects == "button":
        return _("Please choose one of the buttons below.")
    if expects == "province":
        return _("Please choose a province below, or type its name.")
    if expects == "phone":
        return _("Please share your number with the button, or type it.")
    return _("Please answer with text.")


async def wrong_input(update: Update, context: BotContext) -> str | None:
    """A photo, sticker, voice note, location or text where a button is expected."""
    return await reask(update, context, expected_note(context))


async def stale_button(update: Update, context: BotContext) -> None:
    await ack(update, _("This button is no longer active."))


async def stale_button_in_conversation(update: Update, context: BotContext) -> str | None:
    """A button of another step: say so, and show the question that is open now."""
    await stale_button(update, context)
    return await reask(update, context)


async def draft_expired(update: Update, context: BotContext) -> None:
    """The conversation's draft was deleted (14 days untouched): start again."""
    await ack(update)
    clear_main(context)
    await context.bot.send_message(
        update.effective_chat.id,  # type: ignore[union-attr]
        _("Your earlier answers were deleted after 14 days. Please start again: /start"),
        reply_markup=ReplyKeyboardRemove())


def clear_main(context: BotContext) -> None:
    for key in MAIN_KEYS:
        context.draft.pop(key, None)


async def cancel(update: Update, context: BotContext) -> int:
    clear_main(context)
    await context.bot.send_message(
        update.effective_chat.id,  # type: ignore[union-attr]
        _("Cancelled. Nothing was saved. /help shows what I can do."),
        reply_markup=ReplyKeyboardRemove())
    return END


def role_help(role: str | None) -> str:
    lines = {
        "owner": _("/enrol – enrol or update your enterprise\n"
                   "/code – the join code and poster for your workers\n"
                   "/invite – a one-time link for an enterprise admin"),
        "admin": _("Monthly KPI reports will come here. The owner of your enterprise added you."),
        "worker": _("/join – join your enterprise with its code\n"
                    "/leave – you no longer work there"),
        "trainer": _("Visit reminders will come here."),
        "staff": _("/pending – enrolments waiting for approval\n"
                   "/broadcast – write a message to many users\n"
                   "/broadcasts – recent broadcasts, their progress, cancelling\n"
                   "/staff – make someone a trainer or staff, or revoke it"),
    }.get(role or "", _("/start – begin: enrol an enterprise or join one as a worker"))
    common = _("/language – change language\n/privacy – what we keep\n/cancel – stop the current step")
    return f"{lines}\n{common}"
