"""Acting as Telegram users: what they send (text, contacts, media, group messages), the
buttons they press and blocking the bot, each queued as the update Telegram would deliver."""

from __future__ import annotations

import copy
import re
import time
from typing import Any

from sandbox.formatting import utf16_len
from sandbox.rules import flat
from sandbox.state import TINY_PNG, SandboxState, StoredMessage, drop_none

_COMMAND_RE = re.compile(r"/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{1,32})?")


class UserActions(SandboxState):
    """The user side of the sandbox: each message, press or (un)block returns the update_id it
    queued; open_chat queues nothing."""

    def open_chat(self, user_id: int, first_name: str = "User", *,
                  language_code: str | None = "id") -> None:
        """A user who started the bot some time ago: the bot may write to them, and no update
        is queued (for bulk tests with thousands of recipients)."""
        if user_id not in self._users:
            self.add_user(user_id, first_name, language_code=language_code)
        self._chats[user_id] = self._private_chat_dict(user_id)

    def send_text(self, user_id: int, text: str) -> int:
        """A private text message; a leading ``/command`` gets a bot_command entity."""
        if not text:
            raise ValueError("Telegram clients cannot send empty messages")
        chat = self._open_private_chat(user_id)
        return self._user_message(user_id, chat, self._text_content(text))

    def send_into_chat_of(self, user_id: int, chat_id: int, text: str) -> int:
        """A private message from `user_id` that names another user's chat: what an attacker
        who can post updates (a webhook without its secret) would send. Telegram never does."""
        chat = dict(self._open_private_chat(chat_id))
        return self._user_message(user_id, chat, self._text_content(text))

    def send_group_text(
        self, user_id: int, chat_id: int, text: str, *, title: str | None = None
    ) -> int:
        """A text message in a group chat (negative ``chat_id``)."""
        if chat_id >= 0:
            raise ValueError("group chat ids are negative")
        if not text:
            raise ValueError("Telegram clients cannot send empty messages")
        chat = self._chats.get(chat_id) or {"id": chat_id, "type": "group"}
        chat["title"] = title or chat.get("title") or f"Group {-chat_id}"
        self._chats[chat_id] = chat
        return self._user_message(user_id, chat, self._text_content(text))

    def share_contact(
        self,
        user_id: int,
        phone_number: str,
        *,
        contact_user_id: int | None = None,
        first_name: str = "X",
    ) -> int:
        """A message with a contact; ``contact_user_id`` defaults to the sender (own number)."""
        contact = {
            "phone_number": phone_number,
            "first_name": first_name,
            "user_id": user_id if contact_user_id is None else contact_user_id,
        }
        return self._user_message(user_id, self._open_private_chat(user_id), {"contact": contact})

    def send_photo(self, user_id: int, *, caption: str | None = None) -> int:
        photo = [self._photo_size(self._store_file(TINY_PNG, "photos", "jpg"), 1, 1) for _ in "ab"]
        content = drop_none({"photo": photo, "caption": caption})
        return self._user_message(user_id, self._open_private_chat(user_id), content)

    def send_sticker(self, user_id: int) -> int:
        stored = self._store_file(b"RIFF sandbox sticker", "stickers", "webp")
        sticker = {
            "file_id": stored.file_id, "file_unique_id": stored.file_unique_id, "type": "regular",
            "width": 512, "height": 512, "is_animated": False, "is_video": False,
            "emoji": "\U0001f44d",
        }
        return self._user_message(user_id, self._open_private_chat(user_id), {"sticker": sticker})

    def send_voice(self, user_id: int) -> int:
        stored = self._store_file(b"OggS sandbox voice", "voice", "oga")
        voice = {
            "file_id": stored.file_id, "file_unique_id": stored.file_unique_id, "duration": 2,
            "mime_type": "audio/ogg", "file_size": len(stored.content),
        }
        return self._user_message(user_id, self._open_private_chat(user_id), {"voice": voice})

    def send_document(
        self,
        user_id: int,
        *,
        file_name: str = "document.pdf",
        content: bytes = b"%PDF-1.4 sandbox\n",
        mime_type: str = "application/pdf",
        caption: str | None = None,
    ) -> int:
        stored = self._store_file(content, "documents", file_name.rpartition(".")[2] or "bin")
        document = {
            "file_id": stored.file_id, "file_unique_id": stored.file_unique_id,
            "file_name": file_name, "mime_type": mime_type, "file_size": len(content),
        }
        message = drop_none({"document": document, "caption": caption})
        return self._user_message(user_id, self._open_private_chat(user_id), message)

    def send_location(self, user_id: int, lat: float = -6.2, lon: float = 106.8) -> int:
        location = {"latitude": lat, "longitude": lon}
        return self._user_message(user_id, self._open_private_chat(user_id), {"location": location})

    def press(self, user_id: int, callback_data: str, *, message_id: int | None = None) -> int:
        """Press an inline button carrying ``callback_data`` (it need not exist: forging is fine).

        The attached message is ``message_id`` if given, else the latest bot message in the
        chat with such a button, else the latest bot message, else a hidden placeholder.
        """
        chat = self._open_private_chat(user_id)
        chat_messages = self._bot_messages.setdefault(user_id, {})
        if message_id is not None:
            stored = chat_messages.get(message_id)
            message = stored.raw if stored else self._placeholder_raw(chat, message_id)
        else:
            visible = [s for s in chat_messages.values() if not s.synthetic]
            with_button = [
                s for s in visible
                if any(b.get("callback_data") == callback_data for b in flat(s.view.buttons))
            ]
            placeholders = [s for s in chat_messages.values() if s.synthetic]
            if with_button:
                message = with_button[-1].raw
            elif visible:
                message = visible[-1].raw
            elif placeholders:
                message = placeholders[-1].raw
            else:
                message = self._create_synthetic_message(chat).raw
        query_id = str(next(self._query_ids))
        self._query_users[query_id] = user_id
        query = {
            "id": query_id,
            "from": self._user_dict(user_id),
            "message": copy.deepcopy(message),
            "chat_instance": str(7_000_000_000_000_000 + abs(user_id)),
            "data": callback_data,
        }
        return self._queue_update({"callback_query": query})

    def press_button(self, user_id: int, text: str) -> int:
        """Press the callback button labelled ``text`` (exact match preferred, else substring)
        on the most recent bot message to ``user_id`` that has one."""
        candidates = [s for s in self._bot_messages.get(user_id, {}).values() if not s.synthetic]
        for stored in reversed(candidates):
            buttons = [b for b in flat(stored.view.buttons) if "callback_data" in b]
            match = next((b for b in buttons if b.get("text") == text), None) or next(
                (b for b in buttons if text in str(b.get("text", ""))), None
            )
            if match is not None:
                message_id = stored.view.message_id
                return self.press(user_id, match["callback_data"], message_id=message_id)
        raise LookupError(f"no bot message to {user_id} has a callback button {text!r}")

    def block(self, user_id: int) -> int:
        """The user blocks the bot: a my_chat_member update; later sends get 403."""
        self._open_private_chat(user_id)
        self._blocked.add(user_id)
        return self._queue_member_change(user_id, "member", "kicked")

    def unblock(self, user_id: int) -> int:
        """The user unblocks (restarts) the bot: my_chat_member back to member."""
        self._open_private_chat(user_id)
        self._blocked.discard(user_id)
        return self._queue_member_change(user_id, "kicked", "member")

    # --- the updates their actions make ---------------------------------------------------------

    def _text_content(self, text: str) -> dict[str, Any]:
        content: dict[str, Any] = {"text": text}
        command = _COMMAND_RE.match(text)
        if command:
            length = utf16_len(command.group(0))
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        return content

    def _user_message(self, user_id: int, chat: dict[str, Any], content: dict[str, Any]) -> int:
        chat_id = chat["id"]
        if chat["type"] == "private" and user_id in self._blocked:
            # Writing to a blocked bot means restarting it first; Telegram reports the unblock.
            self.unblock(user_id)
        message_id = self._allocate_message_id(chat_id)
        self._user_message_ids.setdefault(chat_id, set()).add(message_id)
        message = {
            "message_id": message_id,
            "from": self._user_dict(user_id),
            "chat": dict(chat),
            "date": int(time.time()),
            **content,
        }
        return self._queue_update({"message": message})

    def _queue_member_change(self, user_id: int, old: str, new: str) -> int:
        def member(status: str) -> dict[str, Any]:
            data: dict[str, Any] = {"user": self._bot_user(), "status": status}
            if status == "kicked":
                data["until_date"] = 0
            return data

        return self._queue_update(
            {
                "my_chat_member": {
                    "chat": self._open_private_chat(user_id),
                    "from": self._user_dict(user_id),
                    "date": int(time.time()),
                    "old_chat_member": member(old),
                    "new_chat_member": member(new),
                }
            }
        )

    def _placeholder_raw(self, chat: dict[str, Any], message_id: int) -> dict[str, Any]:
        return {
            "message_id": message_id,
            "from": self._bot_user(),
            "chat": dict(chat),
            "date": int(time.time()),
            "text": "[sandbox placeholder]",
        }

    def _create_synthetic_message(self, chat: dict[str, Any]) -> StoredMessage:
        text = "[sandbox placeholder]"
        stored = self._store_bot_message(chat["id"], {"text": text}, text=text)
        stored.synthetic = True
        return stored
