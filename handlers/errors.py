"""One error handler: log the update kind and the traceback, tell the user something kind."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import TelegramError

from chat.context import BotContext
from chat.describe import describe
from chat.flow import reask_open, router_of
from chat.i18n import _
from chat.reply import ack

log = logging.getLogger(__name__)


async def on_error(update: object, context: BotContext) -> None:
    log.error("error while handling %s", describe(update, router_of(context).commands),
              exc_info=context.error)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    if update.effective_chat.type != "private":
        return
    if update.callback_query:
        # Perhaps answered already, before the failure: the apology below comes anyway.
        await ack(update)
    try:
        await context.bot.send_message(
            update.effective_chat.id,
            _("Sorry, something went wrong on our side. Your earlier answers are kept: "
              "please try again in a moment."))
    except TelegramError:
        log.warning("could not tell the user about the error", exc_info=True)
        return
    try:
        # The answer may have been kept and the next question lost on the way: show the
        # question open now, so what is typed next answers the question the user saw.
        await reask_open(update, context)
    except Exception:  # an error handler must not fail in turn: logged, and no more
        log.warning("could not ask the open question again after the error", exc_info=True)
