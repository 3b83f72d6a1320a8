"""A user who blocks the bot is marked blocked (and skipped by bulk messages); unblocking
undoes it."""

from __future__ import annotations

import logging

from telegram import ChatMember, Update

from chat.context import BotContext
from db.contact import mark_blocked

log = logging.getLogger(__name__)


async def my_chat_member(update: Update, context: BotContext) -> None:
    change = update.my_chat_member
    if change is None or change.chat.type != "private":
        return
    blocked = change.new_chat_member.status in (ChatMember.BANNED, ChatMember.LEFT)
    await mark_blocked(context.svc.sessionmaker, change.from_user.id, blocked)
    log.info("user=%s %s the bot", change.from_user.id, "blocked" if blocked else "unblocked")
