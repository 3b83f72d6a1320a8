"""Replying to the user who wrote: messages, button rows, answering a button press."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from contextvars import ContextVar

from telegram import (
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import TelegramError

from chat.context import AppBot, BotContext
from chat.i18n import _

log = logging.getLogger(__name__)

# The button press answered while handling this update (its callback query id). Telegram
# refuses a second answer, so the first one counts: the router answers every press it handled
# (chat/flow.py), and code that answered earlier, with a note, is not answered over. Keyed by
# the id, so it cannot leak to another update whatever task it runs in.
_answered: ContextVar[str | None] = ContextVar("answered_query", default=None)

# Any reply markup PTB accepts: inline keyboard, reply keyboard, its removal.
Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | ForceReply


def chat_id_of(update: Update) -> int:
    chat = update.effective_chat
    assert chat is not None, "the gate lets only updates with a chat through"
    return chat.id


async def send(update: Update, context: BotContext, text: str,
               markup: Markup | None = None) -> Message:
    bot: AppBot = context.bot
    return await bot.send_message(chat_id_of(update), text, reply_markup=markup,
                                  parse_mode=ParseMode.HTML)


def rows(buttons: Sequence[InlineKeyboardButton], width: int = 2) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([list(buttons[i:i + width]) for i in range(0, len(buttons), width)])


def with_rows(markup: InlineKeyboardMarkup,
              *extra: Sequence[InlineKeyboardButton]) -> InlineKeyboardMarkup:
    """The same keyboard with more rows below (navigation, Confirm)."""
    return InlineKeyboardMarkup([*markup.inline_keyboard, *(list(row) for row in extra if row)])


async def ack(update: Update, text: str | None = None) -> None:
    """Answer a button press so it stops spinning, once: a press already answered is left
    as it is (the first answer, and its note, stand). A lost answer is harmless."""
    query = update.callback_query
    if query is None or _answered.get() == query.id:
        return
    _answered.set(query.id)
    try:
        await query.answer(text)
    except TelegramError:
        # The press may be too old to answer (Telegram allows a few minutes).
        log.debug("could not answer callback query", exc_info=True)


async def stale_button(update: Update) -> None:
    await ack(update, _("This button is no longer active."))


async def edit_or_send(update: Update, context: BotContext, text: str,
                       markup: InlineKeyboardMarkup | None = None) -> None:
    """Show the new text in the message whose button was pressed; an old or unchanged
    message cannot always be edited, so then it comes as a new message."""
    query = update.callback_query
    if query is not None:
        try:
            await query.edit_message_text(text, reply_markup=markup, parse_mode=ParseMode.HTML)
            return
        except TelegramError as exc:
            if "not modified" in str(exc).lower():
                return
    await send(update, context, text, markup)
