"""What Telegram checks in a message the bot sends: the text or caption (parse mode, empty,
too long) and the reply markup (keyboard shapes, button kinds, 64-byte callback data)."""

from __future__ import annotations

import copy
from typing import Any

from sandbox.decoding import Params
from sandbox.errors import (
    BUTTON_DATA_INVALID,
    CAPTION_TOO_LONG,
    TEXT_EMPTY,
    TEXT_TOO_LONG,
    ApiError,
)
from sandbox.formatting import format_text, utf16_len

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64

_ARRAY_OF_ARRAYS = 'Bad Request: field "{}" of the {} should be an Array of Arrays'
_BAD_INLINE_BUTTON = "Bad Request: can't parse inline keyboard button: "
_TEXT_BUTTONS_UNALLOWED = "Text buttons are unallowed in the inline keyboard"
_INLINE_BUTTON_ACTIONS = frozenset(
    {
        "url", "callback_data", "web_app", "login_url", "switch_inline_query",
        "switch_inline_query_current_chat", "switch_inline_query_chosen_chat", "copy_text",
        "callback_game", "pay",
    }
)


def flat(rows: list[list[Any]]) -> list[Any]:
    return [item for row in rows for item in row]


def message_content(params: Params, *, caption: bool) -> tuple[str | None, list[dict[str, Any]]]:
    """Text (or caption) as Telegram would store it, with its entities; validated."""
    raw = params.get("caption" if caption else "text")
    parse_mode = params.get("parse_mode")
    entities = params.get("caption_entities" if caption else "entities")
    text = "" if raw is None else str(raw)
    if parse_mode:
        parsed, parsed_entities = format_text(text, str(parse_mode))
    else:
        parsed, parsed_entities = format_text(text, None)
        if isinstance(entities, list):
            parsed_entities = [e for e in entities if isinstance(e, dict)]
    if not parsed:
        if caption:
            return None, []
        raise ApiError(400, TEXT_EMPTY)
    if utf16_len(parsed) > (MAX_CAPTION_LENGTH if caption else MAX_TEXT_LENGTH):
        raise ApiError(400, CAPTION_TOO_LONG if caption else TEXT_TOO_LONG)
    return parsed, parsed_entities


def reply_markup(
    raw: object,
) -> tuple[dict[str, Any] | None, list[list[dict[str, Any]]] | None, bool]:
    """Validate reply_markup: (inline markup or None, reply keyboard rows or None, remove)."""
    if raw is None:
        return None, None, False
    if not isinstance(raw, dict):
        raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in raw:
        rows = raw["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise ApiError(
                400, _ARRAY_OF_ARRAYS.format("inline_keyboard", "InlineKeyboardMarkup")
            )
        for button in flat(rows):
            if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                raise ApiError(400, _BAD_INLINE_BUTTON + "Text is not specified")
            if not _INLINE_BUTTON_ACTIONS & button.keys():
                raise ApiError(400, _BAD_INLINE_BUTTON + _TEXT_BUTTONS_UNALLOWED)
            if "callback_data" in button:
                data = str(button["callback_data"]).encode("utf-8")
                if not 0 < len(data) <= MAX_CALLBACK_DATA_BYTES:
                    raise ApiError(400, BUTTON_DATA_INVALID)
            if "url" in button:
                url = str(button["url"])
                if not url or any(c.isspace() for c in url):
                    raise ApiError(400, "Bad Request: BUTTON_URL_INVALID")
        # An empty inline keyboard is no keyboard at all.
        return ({"inline_keyboard": copy.deepcopy(rows)} if any(rows) else None), None, False
    if "keyboard" in raw:
        rows = raw["keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise ApiError(400, _ARRAY_OF_ARRAYS.format("keyboard", "ReplyKeyboardMarkup"))
        normalized = [
            [{"text": b} if isinstance(b, str) else dict(b) for b in row] for row in rows
        ]
        if not all(isinstance(b.get("text"), str) and b["text"] for b in flat(normalized)):
            raise ApiError(
                400, "Bad Request: can't parse keyboard button: Text is not specified"
            )
        return None, normalized, False
    if raw.get("remove_keyboard"):
        return None, None, True
    if raw.get("force_reply"):
        return None, None, False
    raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
