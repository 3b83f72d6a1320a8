"""The Bot API methods the sandbox answers, on its recorded state, with the results and the
errors Telegram gives: updates and webhooks, sending and editing messages, callback answers,
commands and menu buttons, chats and files."""

from __future__ import annotations

import asyncio
import copy
import math
import re
import struct
import time
from collections.abc import Callable
from typing import Any

from sandbox.decoding import Files, Params, UploadedFile, as_int
from sandbox.errors import (
    BLOCKED,
    CHAT_NOT_FOUND,
    DELETE_NOT_FOUND,
    EDIT_NOT_FOUND,
    NOT_MODIFIED,
    POLL_CONFLICT,
    QUERY_INVALID,
    WEBHOOK_CONFLICT,
    ApiError,
)
from sandbox.rules import message_content, reply_markup
from sandbox.state import TINY_PNG, SandboxState, StoredMessage, buttons_of, drop_none

# A method takes the request's parameters and uploaded files; it may be a coroutine function.
Handler = Callable[[Params, Files], object]

_CHAT_ACTIONS = frozenset(
    {
        "typing", "upload_photo", "record_video", "upload_video", "record_voice",
        "upload_voice", "upload_document", "choose_sticker", "find_location",
        "record_video_note", "upload_video_note",
    }
)

_BOT_COMMAND_NAME_RE = re.compile(r"[a-z0-9_]{1,32}")


def _image_size(content: bytes) -> tuple[int, int]:
    if content.startswith(b"\x89PNG\r\n\x1a\n") and len(content) >= 24:
        width, height = struct.unpack(">II", content[16:24])
        return width, height
    return 800, 600


class BotApiMethods(SandboxState):
    """Each ``_api_*`` method answers one Bot API method; ApiError is Telegram's error answer."""

    def _api_methods(self) -> dict[str, Handler]:
        """The Bot API methods this sandbox knows, by their canonical names."""
        return {
            "getMe": self._api_get_me,
            "getUpdates": self._api_get_updates,
            "deleteWebhook": self._api_delete_webhook,
            "setWebhook": self._api_set_webhook,
            "getWebhookInfo": self._api_get_webhook_info,
            "close": lambda params, files: True,
            "logOut": lambda params, files: True,
            "sendMessage": self._api_send_message,
            "sendPhoto": self._api_send_photo,
            "sendDocument": self._api_send_document,
            "sendLocation": self._api_send_location,
            "sendVenue": self._api_send_venue,
            "sendChatAction": self._api_send_chat_action,
            "editMessageText": self._api_edit_message_text,
            "editMessageCaption": self._api_edit_message_caption,
            "editMessageReplyMarkup": self._api_edit_message_reply_markup,
            "deleteMessage": self._api_delete_message,
            "answerCallbackQuery": self._api_answer_callback_query,
            "setMyCommands": self._api_set_my_commands,
            "getMyCommands": self._api_get_my_commands,
            "deleteMyCommands": self._api_delete_my_commands,
            "setChatMenuButton": self._api_set_chat_menu_button,
            "getChatMenuButton": self._api_get_chat_menu_button,
            "getChat": self._api_get_chat,
            "getFile": self._api_get_file,
        }

    # --- reading and checking parameters --------------------------------------------------------

    def _input_file(
        self, name: str, params: Params, files: Files
    ) -> tuple[bytes | None, str | None, str | None]:
        """(content, filename, mime type) of a file parameter: upload, attach://, file_id or URL."""
        value = params.get(name)
        if isinstance(value, UploadedFile):
            uploaded: UploadedFile | None = value
        elif isinstance(value, str) and value.startswith("attach://"):
            uploaded = files.get(value.removeprefix("attach://"))
        elif isinstance(value, str) and value in self._files:
            stored = self._files[value]
            return stored.content, stored.path.rpartition("/")[2], None
        elif isinstance(value, str) and value.startswith(("http://", "https://")):
            return None, value.rpartition("/")[2] or None, None
        elif value is None:
            raise ApiError(400, f"Bad Request: there is no {name} in the request")
        else:
            raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
        if uploaded is None:
            raise ApiError(400, f"Bad Request: there is no {name} in the request")
        if not uploaded.content:
            raise ApiError(400, "Bad Request: file must be non-empty")
        return uploaded.content, uploaded.filename, uploaded.content_type

    def _target_chat(self, params: Params, *, sending: bool = True) -> int:
        if params.get("chat_id") in (None, ""):
            raise ApiError(400, "Bad Request: chat_id is empty")
        chat_id = as_int(params["chat_id"])
        if chat_id is None or chat_id not in self._chats:
            raise ApiError(400, CHAT_NOT_FOUND)
        if sending and chat_id in self._blocked:
            raise ApiError(403, BLOCKED)
        return chat_id

    def _check_reply(self, chat_id: int, params: Params) -> None:
        reply = params.get("reply_parameters")
        if not isinstance(reply, dict):  # the pre-7.0 parameters
            if params.get("reply_to_message_id") is None:
                return
            reply = {
                "message_id": params["reply_to_message_id"],
                "allow_sending_without_reply": params.get("allow_sending_without_reply"),
            }
        target = as_int(reply.get("message_id"))
        exists = target in self._bot_messages.get(chat_id, {}) or target in (
            self._user_message_ids.get(chat_id, set())
        )
        if not exists and not reply.get("allow_sending_without_reply"):
            raise ApiError(400, "Bad Request: message to be replied not found")

    def _edit_target(self, params: Params) -> StoredMessage:
        if params.get("inline_message_id"):
            raise ApiError(400, "Bad Request: MESSAGE_ID_INVALID")  # inline mode is not modelled
        chat_id = self._target_chat(params)
        message_id = as_int(params.get("message_id"))
        if message_id is None:
            raise ApiError(400, "Bad Request: message identifier is not specified")
        stored = self._bot_messages.get(chat_id, {}).get(message_id)
        if stored is None:
            if message_id in self._user_message_ids.get(chat_id, set()):
                raise ApiError(400, "Bad Request: message can't be edited")
            raise ApiError(400, EDIT_NOT_FOUND)
        return stored

    @staticmethod
    def _apply_markup(stored: StoredMessage, inline_markup: dict[str, Any] | None) -> None:
        stored.inline_markup = inline_markup
        stored.view.buttons = buttons_of(inline_markup)
        if inline_markup is None:
            stored.raw.pop("reply_markup", None)
        else:
            stored.raw["reply_markup"] = copy.deepcopy(inline_markup)
        stored.raw["edit_date"] = int(time.time())
        stored.synthetic = False

    # --- Bot API methods ------------------------------------------------------------------------

    def _api_get_me(self, params: Params, files: Files) -> dict[str, Any]:
        return {
            **self._bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _api_get_updates(self, params: Params, files: Files) -> list[dict[str, Any]]:
        if self._webhook_url:
            raise ApiError(409, WEBHOOK_CONFLICT)
        offset = as_int(params.get("offset")) or 0
        limit = min(100, max(1, as_int(params.get("limit")) or 100))
        try:
            timeout = max(0.0, float(params.get("timeout") or 0))
        except (TypeError, ValueError):
            timeout = 0.0
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = [str(kind) for kind in allowed] or None  # [] = the default set

        # The offset confirms every earlier update; a negative one keeps only the last -offset.
        if offset > 0:
            self._drop_updates(lambda update: update["update_id"] >= offset)
        elif offset < 0:
            kept_ids = {update["update_id"] for update in self._updates[offset:]}
            self._drop_updates(lambda update: update["update_id"] in kept_ids)

        # A newer getUpdates call terminates an older one still waiting, as on Telegram.
        self._poll_generation += 1
        generation = self._poll_generation
        self._notify()

        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if generation != self._poll_generation:
                raise ApiError(409, POLL_CONFLICT)
            self._drop_updates(self._update_allowed)
            batch = self._updates[:limit]
            remaining = deadline - loop.time()
            if batch or remaining <= 0:
                if batch:
                    self._handed_out_up_to = max(self._handed_out_up_to, batch[-1]["update_id"])
                    self._notify()
                return copy.deepcopy(batch)
            await self._wait_changed(remaining)

    def _api_delete_webhook(self, params: Params, files: Files) -> bool:
        self._webhook_url = ""
        if params.get("drop_pending_updates") is True:
            self._drop_updates(lambda update: False)
        return True

    def _api_set_webhook(self, params: Params, files: Files) -> bool:
        self._webhook_url = str(params.get("url") or "")
        if params.get("drop_pending_updates") is True:
            self._drop_updates(lambda update: False)
        return True

    def _api_get_webhook_info(self, params: Params, files: Files) -> dict[str, Any]:
        info: dict[str, Any] = {
            "url": self._webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self._webhook_url:
            info["max_connections"] = 40
        if self._allowed_updates is not None:
            info["allowed_updates"] = list(self._allowed_updates)
        return info

    def _api_send_message(self, params: Params, files: Files) -> dict[str, Any]:
        chat_id = self._target_chat(params)
        text, entities = message_content(params, caption=False)
        inline, keyboard, remove = reply_markup(params.get("reply_markup"))
        self._check_reply(chat_id, params)
        stored = self._store_bot_message(
            chat_id,
            drop_none({"text": text, "entities": entities or None}),
            text=text,
            entities=entities,
            parse_mode=params.get("parse_mode") or None,
            inline_markup=inline,
            reply_keyboard=keyboard,
            remove_keyboard=remove,
        )
        return copy.deepcopy(stored.raw)

    def _api_send_photo(self, params: Params, files: Files) -> dict[str, Any]:
        chat_id = self._target_chat(params)
        content, _, _ = self._input_file("photo", params, files)
        caption, entities = message_content(params, caption=True)
        inline, keyboard, remove = reply_markup(params.get("reply_markup"))
        self._check_reply(chat_id, params)
        data = content if content is not None else TINY_PNG
        width, height = _image_size(data)
        full = self._store_file(data, "photos", "jpg")
        thumb = self._store_file(data, "photos", "jpg")
        scale = min(1.0, 90 / max(width, height))
        photo = [
            self._photo_size(thumb, max(1, round(width * scale)), max(1, round(height * scale))),
            self._photo_size(full, width, height),
        ]
        stored = self._store_bot_message(
            chat_id,
            drop_none({"photo": photo, "caption": caption, "caption_entities": entities or None}),
            text=caption,
            entities=entities,
            parse_mode=params.get("parse_mode") or None,
            inline_markup=inline,
            reply_keyboard=keyboard,
            remove_keyboard=remove,
            photo=content,
        )
        return copy.deepcopy(stored.raw)

    def _api_send_document(self, params: Params, files: Files) -> dict[str, Any]:
        chat_id = self._target_chat(params)
        content, filename, mime_type = self._input_file("document", params, files)
        caption, entities = message_content(params, caption=True)
        inline, keyboard, remove = reply_markup(params.get("reply_markup"))
        self._check_reply(chat_id, params)
        data = content if content is not None else b""
        extension = (filename or "file").rpartition(".")[2] or "bin"
        stored_file = self._store_file(data, "documents", extension)
        document = drop_none(
            {
                "file_id": stored_file.file_id,
                "file_unique_id": stored_file.file_unique_id,
                "file_name": filename,
                "mime_type": mime_type,
                "file_size": len(data),
            }
        )
        stored = self._store_bot_message(
            chat_id,
            drop_none(
                {"document": document, "caption": caption, "caption_entities": entities or None}
            ),
            text=caption,
            entities=entities,
            parse_mode=params.get("parse_mode") or None,
            inline_markup=inline,
            reply_keyboard=keyboard,
            remove_keyboard=remove,
            document=content,
            document_name=filename,
        )
        return copy.deepcopy(stored.raw)

    @staticmethod
    def _coordinates(params: Params, wrong: str) -> tuple[float, float]:
        """Latitude and longitude as the Bot API reads them: each required, and a point
        on the globe (tdlib refuses an empty location: |latitude| <= 90, |longitude| <= 180)."""
        values = []
        for name in ("latitude", "longitude"):
            raw = params.get(name)
            if raw in (None, ""):
                raise ApiError(400, f"Bad Request: {name} is empty")
            try:
                value = float(raw)
            except (TypeError, ValueError):
                raise ApiError(400, f"Bad Request: {name} is empty") from None
            values.append(value)
        latitude, longitude = values
        if not (math.isfinite(latitude) and math.isfinite(longitude)
                and abs(latitude) <= 90 and abs(longitude) <= 180):
            raise ApiError(400, wrong)
        return latitude, longitude

    def _api_send_location(self, params: Params, files: Files) -> dict[str, Any]:
        chat_id = self._target_chat(params)
        latitude, longitude = self._coordinates(
            params, "Bad Request: wrong location specified")
        inline, keyboard, remove = reply_markup(params.get("reply_markup"))
        self._check_reply(chat_id, params)
        location = {"latitude": latitude, "longitude": longitude}
        stored = self._store_bot_message(
            chat_id, {"location": location}, text=None, inline_markup=inline,
            reply_keyboard=keyboard, remove_keyboard=remove, location=dict(location))
        return copy.deepcopy(stored.raw)

    def _api_send_venue(self, params: Params, files: Files) -> dict[str, Any]:
        chat_id = self._target_chat(params)
        latitude, longitude = self._coordinates(
            params, "Bad Request: wrong venue location specified")
        for name in ("title", "address"):
            if not isinstance(params.get(name), str):
                raise ApiError(400, f'Bad Request: parameter "{name}" is required')
        inline, keyboard, remove = reply_markup(params.get("reply_markup"))
        self._check_reply(chat_id, params)
        location = {"latitude": latitude, "longitude": longitude}
        venue = drop_none({
            "location": location, "title": params["title"], "address": params["address"],
            "foursquare_id": params.get("foursquare_id"),
            "foursquare_type": params.get("foursquare_type"),
            "google_place_id": params.get("google_place_id"),
            "google_place_type": params.get("google_place_type"),
        })
        # Telegram's Message of a venue carries both fields, the location and the venue.
        stored = self._store_bot_message(
            chat_id, {"location": location, "venue": venue}, text=None, inline_markup=inline,
            reply_keyboard=keyboard, remove_keyboard=remove, location=dict(location),
            venue=copy.deepcopy(venue))
        return copy.deepcopy(stored.raw)

    def _api_send_chat_action(self, params: Params, files: Files) -> bool:
        self._target_chat(params)
        if params.get("action") not in _CHAT_ACTIONS:
            raise ApiError(400, "Bad Request: wrong parameter action in request")
        return True

    def _api_edit_message_text(self, params: Params, files: Files) -> dict[str, Any]:
        stored = self._edit_target(params)
        if "text" not in stored.raw:
            raise ApiError(400, "Bad Request: there is no text in the message to edit")
        text, entities = message_content(params, caption=False)
        # Omitting reply_markup removes the inline keyboard, exactly like Telegram.
        inline, _, _ = reply_markup(params.get("reply_markup"))
        if (text, entities, inline) == (stored.view.text, stored.entities, stored.inline_markup):
            raise ApiError(400, NOT_MODIFIED)
        stored.raw["text"] = text
        stored.raw.pop("entities", None)
        if entities:
            stored.raw["entities"] = entities
        stored.entities = entities
        stored.view.text = text
        stored.view.parse_mode = params.get("parse_mode") or None
        self._apply_markup(stored, inline)
        return copy.deepcopy(stored.raw)

    def _api_edit_message_caption(self, params: Params, files: Files) -> dict[str, Any]:
        stored = self._edit_target(params)
        if "text" in stored.raw or "location" in stored.raw:
            raise ApiError(400, "Bad Request: there is no caption in the message to edit")
        caption, entities = message_content(params, caption=True)
        inline, _, _ = reply_markup(params.get("reply_markup"))
        if (caption, entities, inline) == (stored.view.text, stored.entities, stored.inline_markup):
            raise ApiError(400, NOT_MODIFIED)
        stored.raw.pop("caption", None)
        stored.raw.pop("caption_entities", None)
        stored.raw.update(drop_none({"caption": caption, "caption_entities": entities or None}))
        stored.entities = entities
        stored.view.text = caption
        stored.view.parse_mode = params.get("parse_mode") or None
        self._apply_markup(stored, inline)
        return copy.deepcopy(stored.raw)

    def _api_edit_message_reply_markup(self, params: Params, files: Files) -> dict[str, Any]:
        stored = self._edit_target(params)
        inline, _, _ = reply_markup(params.get("reply_markup"))
        if inline == stored.inline_markup:
            raise ApiError(400, NOT_MODIFIED)
        self._apply_markup(stored, inline)
        return copy.deepcopy(stored.raw)

    def _api_delete_message(self, params: Params, files: Files) -> bool:
        chat_id = self._target_chat(params, sending=False)
        message_id = as_int(params.get("message_id")) or 0
        if self._bot_messages.get(chat_id, {}).pop(message_id, None) is not None:
            return True
        user_ids = self._user_message_ids.get(chat_id, set())
        if message_id in user_ids:
            user_ids.discard(message_id)
            return True
        raise ApiError(400, DELETE_NOT_FOUND)

    def _api_answer_callback_query(self, params: Params, files: Files) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        if query_id not in self._query_users or query_id in self._answered_queries:
            raise ApiError(400, QUERY_INVALID)
        self._answered_queries.add(query_id)
        return True

    def _api_set_my_commands(self, params: Params, files: Files) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise ApiError(400, "Bad Request: can't parse commands JSON object")
        cleaned = []
        for command in commands:
            name = str(command.get("command", "")) if isinstance(command, dict) else ""
            if not _BOT_COMMAND_NAME_RE.fullmatch(name):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            description = str(command.get("description", ""))
            if not 1 <= len(description) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
            cleaned.append({"command": command["command"], "description": description})
        key = self._commands_key(params.get("scope"), params.get("language_code"))
        if cleaned:
            self._commands[key] = cleaned
        else:  # an empty list deletes the commands
            self._commands.pop(key, None)
        return True

    def _api_get_my_commands(self, params: Params, files: Files) -> list[dict[str, Any]]:
        key = self._commands_key(params.get("scope"), params.get("language_code"))
        return copy.deepcopy(self._commands.get(key, []))

    def _api_delete_my_commands(self, params: Params, files: Files) -> bool:
        key = self._commands_key(params.get("scope"), params.get("language_code"))
        self._commands.pop(key, None)
        return True

    def _api_set_chat_menu_button(self, params: Params, files: Files) -> bool:
        chat_id = None
        if params.get("chat_id") is not None:
            chat_id = self._target_chat(params, sending=False)
        button = params.get("menu_button")
        self._menu_buttons[chat_id] = button if isinstance(button, dict) else {"type": "default"}
        return True

    def _api_get_chat_menu_button(self, params: Params, files: Files) -> dict[str, Any]:
        chat_id = None
        if params.get("chat_id") is not None:
            chat_id = self._target_chat(params, sending=False)
        button = self._menu_buttons.get(chat_id) or self._menu_buttons.get(None)
        if not button or button.get("type") == "default":
            return {"type": "commands"}
        return copy.deepcopy(button)

    def _api_get_chat(self, params: Params, files: Files) -> dict[str, Any]:
        chat_id = self._target_chat(params, sending=False)
        return {
            **self._chats[chat_id],
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": True, "limited_gifts": True, "unique_gifts": True,
                "premium_subscription": True, "gifts_from_channels": True,
            },
        }

    def _api_get_file(self, params: Params, files: Files) -> dict[str, Any]:
        stored = self._files.get(str(params.get("file_id") or ""))
        if stored is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.content),
            "file_path": stored.path,
        }
