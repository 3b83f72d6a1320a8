"""What an update is, in a word, for the log."""

from __future__ import annotations

from telegram import Update


def describe(update: object) -> str:
    """What an update is, for the log: never its text, a phone number or a name."""
    if not isinstance(update, Update):
        return type(update).__name__
    if update.callback_query:
        data = update.callback_query.data or ""
        return f"button:{data.split('|', 1)[0][:12]}"
    if update.my_chat_member:
        return f"chat_member:{update.my_chat_member.new_chat_member.status}"
    msg = update.effective_message
    if msg is None:
        return "other"
    if msg.text and msg.text.startswith("/"):
        return f"command:{msg.text.split()[0].split('@')[0][:32]}"
    for kind in ("text", "contact", "photo", "sticker", "voice", "document", "location",
                 "video", "audio", "animation", "video_note"):
        if getattr(msg, kind, None):
            return kind
    return "message"
