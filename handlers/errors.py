"""One error handler: log the update kind and the traceback, tell the user something kind."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop

from chat.context import BotContext
from chat.describe import describe
from chat.flow import reask_open, router_of
from chat.i18n import _, resolve_locale, set_locale
from chat.reply import ack, flush

log = logging.getLogger(__name__)


async def on_error(update: object, context: BotContext) -> None:
    log.error("error while handling %s", describe(update, router_of(context).commands),
              exc_info=context.error)
    if not isinstance(update, Update):
        return
    try:
        await _apologise(update, context)
    finally:
        # One apology, and the update goes no further: the gate (group -1) failing must not
        # leave the router to handle it without the user's role and verified button.
        raise ApplicationHandlerStop


async def _apologise(update: Update, context: BotContext) -> None:
    if update.effective_chat is None:
        return
    if update.effective_chat.type != "private":
        return
    if context.user_row is None and update.effective_user is not None:
        # The gate failed before it knew the user's language: Telegram's, as for a newcomer.
        set_locale(resolve_locale(None, update.effective_user.language_code,
                                  context.svc.settings.default_locale))
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
