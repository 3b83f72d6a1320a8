"""What an update is, in a word, for the log."""

from __future__ import annotations

import re
from collections.abc import Collection
from contextvars import ContextVar

from telegram import Update

# What a user typed must never reach the log: not a phone number typed as "/0812...", and
# not a newline that would forge a second log line.
_WORD = re.compile(r"[^a-z0-9_]")


# The update whose log line names no user (keyed by its id, so it cannot leak to another).
_unnamed: ContextVar[int | None] = ContextVar("unnamed_update", default=None)


def leave_unnamed(update: Update) -> None:
    """This update's log line names no user: a worker's pulse answer, which the log must not
    tie to a person through its time."""
    _unnamed.set(update.update_id)


def names_no_user(update: object) -> bool:
    return isinstance(update, Update) and _unnamed.get() == update.update_id


def describe(update: object, commands: Collection[str] = ()) -> str:
    """What an update is, for the log: never its text, a phone number or a name. A command
    is named only when it is one of `commands` (the bot's own)."""
    if not isinstance(update, Update):
        return type(update).__name__
    if update.callback_query:
        kind = (update.callback_query.data or "").split("|", 1)[0]
        return f"button:{_WORD.sub('?', kind.lower())[:12]}"
    if update.my_chat_member:
        return f"chat_member:{update.my_chat_member.new_chat_member.status}"
    msg = update.effective_message
    if msg is None:
        return "other"
    if msg.text and msg.text.startswith("/"):
        name = msg.text.split()[0][1:].split("@")[0].lower()
        return f"command:/{name}" if name in commands else "command:other"
    for kind in ("text", "contact", "photo", "sticker", "voice", "document", "location",
                 "video", "audio", "animation", "video_note"):
        if getattr(msg, kind, None):
            return kind
    return "message"
