"""One error handler: log the update kind and the traceback, tell the user something kind."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import TelegramError

from chat.context import BotContext
from chat.describe import describe
from chat.flow import reask_open, router_of
from chat.i18n import _
from chat.reply import ack, flush

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
    sorry = _("Sorry, something went wrong on our side. Your earlier answers are kept: please "
              "try again in a moment.")
    try:
        # The answer may have been kept and the next question lost on the way: the question
        # open now is shown again, the apology its first line, so what is typed next
        # answers the question the user saw.
        if await reask_open(update, context, sorry):
            await flush(update, context)  # the apology, if the question did not take it
            return
    except Exception:  # an error handler must not fail in turn: logged, then the apology
        log.warning("could not ask the open question again after the error", exc_info=True)
    try:
        await context.bot.send_message(update.effective_chat.id, sorry)
    except TelegramError:
        log.warning("could not tell the user about the error", exc_info=True)
