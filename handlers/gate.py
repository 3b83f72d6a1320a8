"""Group -1: who is this user, which language, which role; forged buttons and groups stop here."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import ApplicationHandlerStop

from chat.context import BotContext
from chat.i18n import _, resolve_locale, set_locale
from db.contact import first_message_in_group, user_who_wrote
from domain.roles import effective_role

log = logging.getLogger(__name__)


async def gate(update: Update, context: BotContext) -> None:
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None:
        raise ApplicationHandlerStop
    if update.my_chat_member is not None:
        return  # blocking and unblocking is handled in group 0, for any chat type
    if chat.type != ChatType.PRIVATE:
        await _tell_group_once(update, context)
        raise ApplicationHandlerStop
    if chat.id != user.id:
        # A private chat is the user's own: an update naming another chat did not come from
        # Telegram. Replies never go to a chat the sender names.
        log.warning("update from user=%s naming another private chat refused", user.id)
        raise ApplicationHandlerStop
    svc = context.svc
    in_staff_ids = svc.is_staff_id(user.id)
    row = await user_who_wrote(svc.sessionmaker, user.id,
                               language=resolve_locale(None, user.language_code,
                                                       svc.settings.default_locale),
                               name=user.full_name, username=user.username,
                               is_staff=in_staff_ids, now=svc.clock.now())
    context.user_row = row
    role = effective_role(row.role, in_staff_ids=in_staff_ids)
    context.role = role.value if role else None
    set_locale(row.language)

    query = update.callback_query
    if query is not None:
        button = svc.signer.verify(user.id, query.data)
        if button is None:
            # Forged: data we never sent to this user. Do nothing visible, keep a trace.
            log.warning("forged button from user=%s ignored", user.id)
            raise ApplicationHandlerStop
        context.button = button


async def _tell_group_once(update: Update, context: BotContext) -> None:
    chat = update.effective_chat
    if update.message is None or chat is None:
        return
    if not await first_message_in_group(context.svc.sessionmaker, chat.id,
                                        now=context.svc.clock.now()):
        return
    set_locale(resolve_locale(None, update.effective_user.language_code if update.effective_user
                              else None, context.svc.settings.default_locale))
    await context.bot.send_message(
        chat.id, _("I only work in private chats. Please open a chat with me directly."))
