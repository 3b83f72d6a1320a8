"""Replying to the user who wrote: messages, button rows, answering a button press.

One reply per update where one can say it: Telegram lets a bot send about 30 messages a
second in all, so a note sent apart from its question halves how many people the bot can
answer at once, and on a phone it is noise. Text that only leads into what comes next (a note
on wrong input, "Thank you.", /help's list inside a question) is *held* and becomes the first
lines of the next message this update sends; the router sends what is still held, alone, when
the update is done (`flush`). Only `send` merges: code that calls the Bot API directly after
holding text flushes first.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

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


# Telegram's limit on a message's text: held text that would make the next one longer goes
# out apart.
MAX_TEXT = 4096


@dataclass
class _Reply:
    """What this update has held so far, to lead its next message."""

    update_id: int
    held: list[str] = field(default_factory=list)
    holding: bool = False       # text-only messages are held (`holding`)
    edit_pressed: bool = False  # the next message edits the one whose button was pressed


# Keyed by the update's id, as `_answered`: it cannot leak to another update.
_reply: ContextVar[_Reply | None] = ContextVar("reply", default=None)


def _of(update: Update) -> _Reply:
    reply = _reply.get()
    if reply is None or reply.update_id != update.update_id:
        reply = _Reply(update.update_id)
        _reply.set(reply)
    return reply


def chat_id_of(update: Update) -> int:
    chat = update.effective_chat
    assert chat is not None, "the gate lets only updates with a chat through"
    return chat.id


def lead(update: Update, text: str) -> None:
    """Hold `text` to be the first lines of the next message this update sends."""
    _of(update).held.append(text)


@contextmanager
def holding(update: Update) -> Iterator[None]:
    """Within: text-only messages are held to lead the next message (a command answered
    inside a question: its text then leads the question asked again)."""
    reply = _of(update)
    before, reply.holding = reply.holding, True
    try:
        yield
    finally:
        reply.holding = before


def edit_pressed(update: Update) -> None:
    """The next message this update sends replaces the text of the message whose button was
    pressed, where Telegram allows it (a stale button: the question shown again in place)."""
    if update.callback_query is not None and update.callback_query.message is not None:
        _of(update).edit_pressed = True


async def send(update: Update, context: BotContext, text: str,
               markup: Markup | None = None, *, hold: bool = False) -> Message | None:
    """Send `text` (HTML) with what this update holds as its first lines. With `hold` (or
    while `holding`), text without buttons is held instead (None is returned)."""
    reply = _of(update)
    if markup is None and (hold or reply.holding) and not reply.edit_pressed:
        reply.held.append(text)
        return None
    if reply.held:
        *before, text = _pieces([*reply.held, text])
        reply.held.clear()
        for piece in before:  # held text too long to lead it: apart, in order
            await _send_now(update, context, piece, None)
    if reply.edit_pressed:
        reply.edit_pressed = False
        if (markup is None or isinstance(markup, InlineKeyboardMarkup)) and await _edit_pressed(
                update, text, markup):
            return None
    return await _send_now(update, context, text, markup)


async def flush(update: Update, context: BotContext) -> None:
    """Send what this update still holds, alone: the update is done (or the code goes on to
    call the Bot API directly, after which held text would arrive out of order)."""
    reply = _reply.get()
    if reply is None or reply.update_id != update.update_id or not reply.held:
        return
    pieces = _pieces(reply.held)
    reply.held.clear()
    for piece in pieces:
        await _send_now(update, context, piece, None)


def _length(text: str) -> int:
    """A text's length as Telegram counts it (UTF-16 code units), here before its HTML tags
    are taken out: never less than Telegram's count."""
    return len(text.encode("utf-16-le")) // 2


def _pieces(texts: list[str]) -> list[str]:
    """`texts` joined into as few messages as fit Telegram's limit, in order; the last
    piece ends with the last text."""
    pieces: list[str] = []
    for text in texts:
        if pieces and _length(pieces[-1]) + 2 + _length(text) <= MAX_TEXT:
            pieces[-1] += "\n\n" + text
        else:
            pieces.append(text)
    return pieces


async def _send_now(update: Update, context: BotContext, text: str,
                    markup: Markup | None) -> Message:
    bot: AppBot = context.bot
    return await bot.send_message(chat_id_of(update), text, reply_markup=markup,
                                  parse_mode=ParseMode.HTML)


async def _edit_pressed(update: Update, text: str, markup: InlineKeyboardMarkup | None) -> bool:
    query = update.callback_query
    assert query is not None
    try:
        await query.edit_message_text(text, reply_markup=markup, parse_mode=ParseMode.HTML)
    except TelegramError as exc:
        # Unchanged: it shows the question already. Too old, or a photo: sent anew.
        return "not modified" in str(exc).lower()
    return True


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
