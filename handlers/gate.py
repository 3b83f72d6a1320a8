"""Group -1: who is this user, which language, which role; forged buttons and groups stop here."""

from __future__ import annotations

import logging

from sqlalchemy.exc import IntegrityError
from telegram import Update
from telegram.constants import ChatType
from telegram.ext import ApplicationHandlerStop

from chat.context import BotContext
from chat.i18n import _, resolve_locale, set_locale
from db.models import GroupChat
from db.session import without_transaction
from db.users import touch_user

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
    svc = context.svc
    async with svc.sessionmaker() as session:
        await without_transaction(session)
        row = await touch_user(session, user.id,
                               language=resolve_locale(None, user.language_code,
                                                       svc.settings.default_locale),
                               name=user.full_name, username=user.username,
                               is_staff=svc.is_staff_id(user.id), flush=False)
        # Most updates only read the row (touch_user changes only what differs): then
        # closing the session ends its transaction, with no commit to wait for.
        if session.new or session.dirty:
            await session.commit()
        existing_language = row.language
    context.user_row = row
    context.role = "staff" if svc.is_staff_id(user.id) else (row.role.value if row.role else None)
    set_locale(existing_language)

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
    try:
        async with context.svc.sessionmaker() as session, session.begin():
            if await session.get(GroupChat, chat.id) is not None:
                return
            session.add(GroupChat(chat_id=chat.id))
    except IntegrityError:
        return  # another member's message in the same group got there first
    set_locale(resolve_locale(None, update.effective_user.language_code if update.effective_user
                              else None, context.svc.settings.default_locale))
    await context.bot.send_message(
        chat.id, _("I only work in private chats. Please open a chat with me directly."))
