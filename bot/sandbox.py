"""An in-process Telegram Bot API server for tests.

:class:`BotApiSandbox` is an :class:`httpx.MockTransport` that sits under PTB's own
:class:`telegram.request.HTTPXRequest`, so the whole real request/response path of
python-telegram-bot (parameter encoding, JSON decoding, error mapping, retries) runs without
any network.  It keeps just enough state (users, chats, the bot's messages, queued updates,
callback queries, files, commands) to answer like Telegram does, including the error
descriptions Telegram uses, and lets a test act as users and inspect what the bot did::

    sandbox = BotApiSandbox()
    app = sandbox.application_builder().build()   # or Bot(..., request=sandbox.request())
    sandbox.send_text(42, "/start")
    ...
    assert "Welcome" in sandbox.last_message(42).text

Everything runs on the caller's event loop; asyncio primitives are created lazily so the
sandbox can be built outside a running loop.  It is not thread safe (it does not need to be).
"""

from __future__ import annotations

import asyncio
import collections
import copy
import dataclasses
import inspect
import itertools
import json
import re
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

import httpx
from telegram.request import HTTPXRequest

if TYPE_CHECKING:
    from telegram import Bot
    from telegram.ext import ApplicationBuilder

__all__ = [
    "ApiError",
    "BotApiSandbox",
    "SandboxMessage",
    "SentCall",
    "UploadedFile",
]

# --- Telegram's limits and (verbatim) error descriptions ----------------------------------------

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64

BLOCKED = "Forbidden: bot was blocked by the user"
CHAT_NOT_FOUND = "Bad Request: chat not found"
TEXT_EMPTY = "Bad Request: message text is empty"
TEXT_TOO_LONG = "Bad Request: message is too long"
CAPTION_TOO_LONG = "Bad Request: message caption is too long"
BUTTON_DATA_INVALID = "Bad Request: BUTTON_DATA_INVALID"
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a specified content and reply markup of the message"
)
EDIT_NOT_FOUND = "Bad Request: message to edit not found"
DELETE_NOT_FOUND = "Bad Request: message to delete not found"
QUERY_INVALID = (
    "Bad Request: query is too old and response timeout expired or query ID is invalid"
)
POLL_CONFLICT = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)

# Update types Telegram leaves out unless asked for explicitly (Bot API, getUpdates).
_NOT_DELIVERED_BY_DEFAULT = frozenset({"chat_member", "message_reaction", "message_reaction_count"})

_CHAT_ACTIONS = frozenset(
    {
        "typing", "upload_photo", "record_video", "upload_video", "record_voice",
        "upload_voice", "upload_document", "choose_sticker", "find_location",
        "record_video_note", "upload_video_note",
    }
)

# Parameters whose values PTB sends as plain strings; everything else is JSON-encoded
# (see RequestParameter.json_value), so decoding these would turn the text "123" into an int.
_STRING_PARAMS = frozenset(
    {
        "text", "caption", "parse_mode", "callback_query_id", "url", "language_code", "action",
        "inline_message_id", "file_id", "secret_token", "business_connection_id",
        "message_effect_id", "description", "short_description", "name", "title", "emoji",
        "query", "ip_address", "photo", "document", "sticker", "voice", "video", "audio",
        "animation", "video_note", "thumbnail", "custom_title", "phone_number", "first_name",
        "last_name", "address", "question", "explanation", "payload", "currency",
        "provider_token", "start_parameter", "game_short_name", "vcard", "foursquare_id",
        "foursquare_type", "google_place_id", "google_place_type", "cover",
    }
)

# The sandbox's own synthetic media, served when the bot downloads what a "user" sent.
_TINY_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


# --- public data types -------------------------------------------------------------------------


class ApiError(Exception):
    """A Bot API error answer (``{"ok": false, ...}``); raised inside method handlers."""

    def __init__(self, error_code: int, description: str, *, retry_after: int | None = None):
        super().__init__(f"{error_code} {description}")
        self.error_code = error_code
        self.description = description
        self.retry_after = retry_after

    def response(self) -> httpx.Response:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.error_code,
            "description": self.description,
        }
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        # Telegram uses the error code as the HTTP status too; PTB maps exceptions from it.
        return httpx.Response(self.error_code, json=body)


@dataclass
class UploadedFile:
    """A file part of a multipart request (what ends up in ``SentCall.params`` for uploads)."""

    filename: str | None
    content: bytes
    content_type: str | None


@dataclass
class SentCall:
    """One Bot API call the bot made (``getUpdates`` is not recorded)."""

    method: str
    params: dict[str, Any]
    result: object
    error: tuple[int, str] | None


@dataclass
class SandboxMessage:
    """A bot message in a chat as it currently looks (edits applied)."""

    message_id: int
    chat_id: int
    from_bot: bool
    text: str | None
    buttons: list[list[dict[str, Any]]]
    reply_keyboard: list[list[dict[str, Any]]] | None
    photo: bytes | None
    document: bytes | None
    document_name: str | None
    parse_mode: str | None
    # Extension: the message was sent with ReplyKeyboardRemove.
    remove_keyboard: bool = False


# --- internal state records --------------------------------------------------------------------


@dataclass
class _StoredMessage:
    view: SandboxMessage
    raw: dict[str, Any]  # the Message object as Telegram would return it
    entities: list[dict[str, Any]]
    inline_markup: dict[str, Any] | None
    # A placeholder created by press() when no bot message exists; hidden until edited.
    synthetic: bool = False


@dataclass
class _StoredFile:
    file_id: str
    file_unique_id: str
    content: bytes
    path: str


@dataclass
class _Failure:
    method: str | None  # lower-case method name, or None for "any sending method"
    chat_id: int | None
    remaining: int
    error_code: int = 500
    description: str = "Internal Server Error"
    retry_after: int | None = None
    network: type[httpx.HTTPError] | None = None


_Params = dict[str, Any]
_Files = dict[str, UploadedFile]
_Handler = Callable[[_Params, _Files], object]


# --- request decoding --------------------------------------------------------------------------


def _decode_value(key: str, value: str) -> Any:
    """Undo PTB's encoding: strings are sent raw, every other value as JSON."""
    if key in _STRING_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value  # e.g. chat_id="@channel"


_FORM_ESCAPE_RE = re.compile(r"%([0-9A-F]{2})|\\\\")


def _form_unescape(value: str) -> str:
    # Reverses httpx's HTML5 form-param escaping (" -> %22, \ -> \\, controls -> %XX).
    return _FORM_ESCAPE_RE.sub(lambda m: chr(int(m.group(1), 16)) if m.group(1) else "\\", value)


def _disposition_param(disposition: str, key: str) -> str | None:
    match = re.search(rf'(?:^|;)\s*{key}="([^"]*)"', disposition)
    if match:
        return _form_unescape(match.group(1))
    match = re.search(rf"(?:^|;)\s*{key}=([^;\s]+)", disposition)
    return match.group(1) if match else None


def _parse_multipart(body: bytes, content_type: str) -> tuple[list[tuple[str, str]], _Files]:
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if not match:
        raise ApiError(400, "Bad Request: can't parse multipart/form-data request")
    delimiter = b"--" + match.group(1).encode("latin-1")
    fields: list[tuple[str, str]] = []
    files: _Files = {}
    for part in body.split(delimiter)[1:]:
        if part.startswith(b"--"):  # closing delimiter
            break
        part = part.removeprefix(b"\r\n").removesuffix(b"\r\n")
        head, _, content = part.partition(b"\r\n\r\n")
        headers: dict[str, str] = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            name, sep, value = line.partition(":")
            if sep:
                headers[name.strip().lower()] = value.strip()
        disposition = headers.get("content-disposition", "")
        name = _disposition_param(disposition, "name")
        if name is None:
            continue
        filename = _disposition_param(disposition, "filename")
        if filename is not None or "content-type" in headers:
            files[name] = UploadedFile(filename, content, headers.get("content-type"))
        else:
            fields.append((name, content.decode("utf-8", "replace")))
    return fields, files


def _decode_request(request: httpx.Request) -> tuple[_Params, _Files]:
    """Parameters from the query string plus a urlencoded, multipart or JSON body."""
    fields: list[tuple[str, str]] = list(request.url.params.multi_items())
    files: _Files = {}
    typed: _Params = {}
    content_type = request.headers.get("content-type", "")
    mime = content_type.split(";")[0].strip().lower()
    body = request.content
    if body:
        if mime == "multipart/form-data":
            more, files = _parse_multipart(body, content_type)
            fields += more
        elif mime == "application/json":
            try:
                loaded = json.loads(body)
            except ValueError:
                raise ApiError(400, "Bad Request: can't parse JSON request body") from None
            if isinstance(loaded, dict):
                typed = loaded
        else:
            fields += parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
    params: _Params = {key: _decode_value(key, value) for key, value in fields}
    params.update(typed)
    for name, uploaded in files.items():
        params.setdefault(name, uploaded)
    return params, files


# --- text formatting (parse_mode) --------------------------------------------------------------


def _utf16_len(text: str) -> int:
    # Telegram measures lengths and entity offsets in UTF-16 code units.
    return len(text.encode("utf-16-le")) // 2


def _entities_error(message: str) -> ApiError:
    return ApiError(400, f"Bad Request: can't parse entities: {message}")


class _TextBuilder:
    """Accumulates parsed plain text and entities with UTF-16 offsets."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.pos = 0
        self.entities: list[dict[str, Any]] = []

    def emit(self, text: str) -> None:
        self.parts.append(text)
        self.pos += _utf16_len(text)

    def entity(self, kind: str, start: int, **extra: Any) -> None:
        if self.pos > start:
            length = self.pos - start
            self.entities.append({"type": kind, "offset": start, "length": length, **extra})

    def result(self) -> tuple[str, list[dict[str, Any]]]:
        entities = sorted(self.entities, key=lambda e: (e["offset"], -e["length"]))
        return "".join(self.parts), entities


_HTML_ENTITY_TYPES = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline",
    "ins": "underline", "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough",
    "tg-spoiler": "spoiler", "span": "spoiler", "code": "code", "pre": "pre",
    "blockquote": "blockquote", "a": "text_link", "tg-emoji": "custom_emoji",
}
_HTML_CHAR_REF_RE = re.compile(r"&(?:(lt|gt|amp|quot)|#([0-9]{1,7})|#[xX]([0-9a-fA-F]{1,6}));")
_HTML_NAMED_REFS = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_HTML_NAME_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]+")


def _html_unescape(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        if match.group(1):
            return _HTML_NAMED_REFS[match.group(1)]
        code = int(match.group(2)) if match.group(2) else int(match.group(3), 16)
        valid = 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF
        return chr(code) if valid else match.group(0)

    return _HTML_CHAR_REF_RE.sub(replace, text)


def _parse_html(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Telegram's HTML dialect; error messages follow tdlib's parse_html()."""
    out = _TextBuilder()
    stack: list[tuple[str, int, dict[str, str]]] = []  # (tag, start offset, attributes)
    n = len(text)

    def byte_offset(index: int) -> int:
        return len(text[:index].encode("utf-8"))

    i = 0
    while i < n:
        char = text[i]
        if char == "&":
            match = _HTML_CHAR_REF_RE.match(text, i)
            decoded = _html_unescape(match.group(0)) if match else "&"
            if match and decoded != match.group(0):
                out.emit(decoded)
                i = match.end()
            else:  # unknown entities stay literal, like Telegram does
                out.emit("&")
                i += 1
            continue
        if char != "<":
            j = i + 1
            while j < n and text[j] not in "<&":
                j += 1
            out.emit(text[i:j])
            i = j
            continue

        begin = i
        if i + 1 < n and text[i + 1] == "/":  # end tag
            if not stack:
                raise _entities_error(f"Unexpected end tag at byte offset {byte_offset(begin)}")
            j = i + 2
            while j < n and not text[j].isspace() and text[j] != ">":
                j += 1
            end_name = text[i + 2 : j].lower()
            while j < n and text[j].isspace():
                j += 1
            if j >= n or text[j] != ">":
                raise _entities_error(f"Unclosed end tag at byte offset {byte_offset(begin)}")
            tag, start, attrs = stack[-1]
            if end_name and end_name != tag:
                raise _entities_error(
                    f'Unmatched end tag at byte offset {byte_offset(begin)}, '
                    f'expected "</{tag}>", found "</{end_name}>"'
                )
            stack.pop()
            _close_html_entity(out, tag, start, attrs, stack)
            i = j + 1
            continue

        # start tag
        j = i + 1
        while j < n and not text[j].isspace() and text[j] != ">":
            j += 1
        if j >= n:
            raise _entities_error(f"Unclosed start tag at byte offset {byte_offset(begin)}")
        tag = text[i + 1 : j].lower()
        if tag not in _HTML_ENTITY_TYPES:
            raise _entities_error(
                f'Unsupported start tag "{tag}" at byte offset {byte_offset(begin)}'
            )
        attrs: dict[str, str] = {}
        while True:
            while j < n and text[j].isspace():
                j += 1
            if j >= n:
                raise _entities_error(f"Unclosed start tag at byte offset {byte_offset(begin)}")
            if text[j] == ">":
                j += 1
                break
            name_start = j
            while j < n and not text[j].isspace() and text[j] not in "=>":
                j += 1
            attr_name = text[name_start:j].lower()
            if not attr_name:
                raise _entities_error(
                    f'Empty attribute name in the tag "{tag}" at byte offset {byte_offset(begin)}'
                )
            while j < n and text[j].isspace():
                j += 1
            if j >= n or text[j] != "=":
                if tag == "blockquote" and attr_name == "expandable":
                    attrs[attr_name] = ""
                    continue
                raise _entities_error(
                    f'Expected equal sign in declaration of an attribute of the tag "{tag}" '
                    f"at byte offset {byte_offset(begin)}"
                )
            j += 1
            while j < n and text[j].isspace():
                j += 1
            if j >= n:
                raise _entities_error(f"Unclosed start tag at byte offset {byte_offset(begin)}")
            if text[j] in "\"'":
                close = text.find(text[j], j + 1)
                if close == -1:
                    raise _entities_error(f"Unclosed start tag at byte offset {byte_offset(begin)}")
                attrs[attr_name] = _html_unescape(text[j + 1 : close])
                j = close + 1
            else:
                token = _HTML_NAME_TOKEN_RE.match(text, j)
                if not token:
                    raise _entities_error(
                        f"Unexpected start of name token at byte offset {byte_offset(j)}"
                    )
                after = text[token.end()] if token.end() < n else ">"
                if not (after.isspace() or after == ">"):
                    raise _entities_error(
                        f"Unexpected end of name token at byte offset {byte_offset(j)}"
                    )
                attrs[attr_name] = token.group(0).lower()
                j = token.end()
        if tag == "span" and attrs.get("class") != "tg-spoiler":
            raise _entities_error(
                f'Tag "span" must have class "tg-spoiler" at byte offset {byte_offset(begin)}'
            )
        stack.append((tag, out.pos, attrs))
        i = j

    if stack:
        raise _entities_error(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    return out.result()


def _close_html_entity(
    out: _TextBuilder,
    tag: str,
    start: int,
    attrs: dict[str, str],
    stack: list[tuple[str, int, dict[str, str]]],
) -> None:
    kind = _HTML_ENTITY_TYPES[tag]
    if tag == "a":
        if attrs.get("href"):
            out.entity(kind, start, url=attrs["href"])
    elif (
        tag == "code"
        and stack
        and stack[-1][0] == "pre"
        and attrs.get("class", "").startswith("language-")
    ):
        # <pre><code class="language-x"> is one pre entity with a language, as in Telegram.
        stack[-1][2]["language"] = attrs["class"].removeprefix("language-")
    elif tag == "pre" and attrs.get("language"):
        out.entity(kind, start, language=attrs["language"])
    elif tag == "tg-emoji":
        if attrs.get("emoji-id"):
            out.entity(kind, start, custom_emoji_id=attrs["emoji-id"])
    elif tag == "blockquote" and "expandable" in attrs:
        out.entity("expandable_blockquote", start)
    else:
        out.entity(kind, start)


_MD2_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")
_MD2_MARKERS = {
    "*": "Bold", "__": "Underline", "_": "Italic", "~": "Strikethrough", "||": "Spoiler",
}
_MD2_TYPES = {"*": "bold", "__": "underline", "_": "italic", "~": "strikethrough", "||": "spoiler"}


def _parse_markdown_v2(text: str) -> tuple[str, list[dict[str, Any]]]:
    """A compact MarkdownV2 parser: catches the classic unescaped-reserved-character bug."""
    out = _TextBuilder()
    stack: list[tuple[str, int, int]] = []  # (marker, start offset, byte offset)
    n = len(text)

    def byte_offset(index: int) -> int:
        return len(text[:index].encode("utf-8"))

    def scan(start: int, delimiter: str) -> tuple[str, int] | None:
        # Content up to `delimiter`, honouring backslash escapes; None if never closed.
        buf: list[str] = []
        k = start
        while k < n:
            if text[k] == "\\" and k + 1 < n and 0 < ord(text[k + 1]) <= 126:
                buf.append(text[k + 1])
                k += 2
            elif text.startswith(delimiter, k):
                return "".join(buf), k + len(delimiter)
            else:
                buf.append(text[k])
                k += 1
        return None

    i = 0
    while i < n:
        char = text[i]
        if char == "\\" and i + 1 < n and 0 < ord(text[i + 1]) <= 126:
            out.emit(text[i + 1])
            i += 2
        elif text.startswith("```", i):
            scanned = scan(i + 3, "```")
            if scanned is None:
                raise _entities_error(
                    f"Can't find end of Pre entity at byte offset {byte_offset(i)}"
                )
            content, i_next = scanned
            language, newline, body = content.partition("\n")
            if not newline or not language or any(c.isspace() for c in language):
                language, body = "", content
            start = out.pos
            out.emit(body)
            if language:
                out.entity("pre", start, language=language)
            else:
                out.entity("pre", start)
            i = i_next
        elif char == "`":
            scanned = scan(i + 1, "`")
            if scanned is None:
                raise _entities_error(
                    f"Can't find end of Code entity at byte offset {byte_offset(i)}"
                )
            start = out.pos
            out.emit(scanned[0])
            out.entity("code", start)
            i = scanned[1]
        elif char in "*_~|" and (char != "|" or text.startswith("||", i)):
            marker = "__" if text.startswith("__", i) else "||" if char == "|" else char
            if stack and stack[-1][0] == marker:
                _, start, _ = stack.pop()
                out.entity(_MD2_TYPES[marker], start)
            elif any(entry[0] == marker for entry in stack):
                top = stack[-1]
                name = "TextUrl" if top[0] == "[" else _MD2_MARKERS[top[0]]
                raise _entities_error(f"Can't find end of {name} entity at byte offset {top[2]}")
            else:
                stack.append((marker, out.pos, byte_offset(i)))
            i += len(marker)
        elif char == "[":
            stack.append(("[", out.pos, byte_offset(i)))
            i += 1
        elif char == "]" and stack and stack[-1][0] == "[" and text.startswith("(", i + 1):
            scanned = scan(i + 2, ")")
            if scanned is None:
                raise _entities_error(
                    f"Can't find end of a URL at byte offset {byte_offset(i + 1)}"
                )
            _, start, _ = stack.pop()
            out.entity("text_link", start, url=scanned[0])
            i = scanned[1]
        elif char == ">" and (i == 0 or text[i - 1] == "\n"):
            i += 1  # block quote marker; the quote entity itself is not modelled
        elif char in _MD2_RESERVED:
            raise _entities_error(
                f"Character '{char}' is reserved and must be escaped with the preceding '\\'"
            )
        else:
            out.emit(char)
            i += 1
    if stack:
        marker, _, offset = stack[-1]
        name = "TextUrl" if marker == "[" else _MD2_MARKERS[marker]
        raise _entities_error(f"Can't find end of {name} entity at byte offset {offset}")
    return out.result()


def _parse_markdown(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Legacy Markdown: *bold*, _italic_, `code`, ```pre```, [text](url); no nesting."""
    out = _TextBuilder()
    n = len(text)
    i = 0
    while i < n:
        char = text[i]
        if char == "\\" and i + 1 < n and text[i + 1] in "_*`[":
            out.emit(text[i + 1])
            i += 2
            continue
        delimiter = "```" if text.startswith("```", i) else char if char in "*_`" else None
        if delimiter:
            end = text.find(delimiter, i + len(delimiter))
            if end == -1:
                raise _entities_error(
                    f"Can't find end of the entity starting at byte offset "
                    f"{len(text[:i].encode('utf-8'))}"
                )
            start = out.pos
            out.emit(text[i + len(delimiter) : end])
            kind = {"```": "pre", "`": "code", "*": "bold", "_": "italic"}[delimiter]
            out.entity(kind, start)
            i = end + len(delimiter)
            continue
        if char == "[":
            close = text.find("]", i + 1)
            url_end = text.find(")", close + 2) if close != -1 else -1
            if close != -1 and text.startswith("(", close + 1) and url_end != -1:
                start = out.pos
                out.emit(text[i + 1 : close])
                out.entity("text_link", start, url=text[close + 2 : url_end])
                i = url_end + 1
                continue
        out.emit(char)
        i += 1
    return out.result()


def _strip_with_entities(
    text: str, entities: list[dict[str, Any]]
) -> tuple[str, list[dict[str, Any]]]:
    """Telegram trims surrounding whitespace of messages; shift and clip entities to match."""
    stripped = text.strip()
    if stripped == text:
        return text, entities
    lead = _utf16_len(text[: len(text) - len(text.lstrip())])
    size = _utf16_len(stripped)
    adjusted = []
    for entity in entities:
        start = max(0, entity["offset"] - lead)
        end = min(size, entity["offset"] - lead + entity["length"])
        if end > start:
            adjusted.append({**entity, "offset": start, "length": end - start})
    return stripped, adjusted


def format_text(text: str, parse_mode: str | None) -> tuple[str, list[dict[str, Any]]]:
    """Text as Telegram shows it (markup removed, entities unescaped) plus its entities.

    Raises :class:`ApiError` with Telegram's "can't parse entities" description on bad markup.
    """
    mode = (parse_mode or "").lower()
    if not mode:
        return _strip_with_entities(text, [])
    parsers = {"html": _parse_html, "markdownv2": _parse_markdown_v2, "markdown": _parse_markdown}
    if mode not in parsers:
        raise ApiError(400, "Bad Request: unsupported parse_mode")
    return _strip_with_entities(*parsers[mode](text))


# --- misc helpers ------------------------------------------------------------------------------


def _drop_none(data: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in data.items() if value is not None}


def _as_int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return None
    return None


def _flat(rows: list[list[Any]]) -> list[Any]:
    return [item for row in rows for item in row]


def _buttons_of(inline_markup: dict[str, Any] | None) -> list[list[dict[str, Any]]]:
    return copy.deepcopy(inline_markup["inline_keyboard"]) if inline_markup else []


def _image_size(content: bytes) -> tuple[int, int]:
    if content.startswith(b"\x89PNG\r\n\x1a\n") and len(content) >= 24:
        width, height = struct.unpack(">II", content[16:24])
        return width, height
    return 800, 600


_COMMAND_RE = re.compile(r"/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{1,32})?")
_BOT_COMMAND_NAME_RE = re.compile(r"[a-z0-9_]{1,32}")
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


# --- the sandbox -------------------------------------------------------------------------------


class BotApiSandbox:
    """A fake Telegram Bot API server living inside an :class:`httpx.MockTransport`."""

    base_url = "http://sandbox.invalid"

    def __init__(
        self,
        *,
        token: str = "123456:SANDBOX-TOKEN",
        bot_id: int | None = None,
        username: str = "ScoreAssistantBot",
        first_name: str = "SCORE Assistant",
    ) -> None:
        self.token = token
        # Telegram tokens start with the bot's id; keep them consistent unless told otherwise.
        prefix = token.split(":", 1)[0]
        self.bot_id = bot_id if bot_id is not None else int(prefix) if prefix.isdigit() else 123456
        self.username = username
        self.first_name = first_name
        self.transport = httpx.MockTransport(self._handle)

        self.calls: list[SentCall] = []

        self._users: dict[int, dict[str, Any]] = {}
        self._chats: dict[int, dict[str, Any]] = {}  # chats the bot may talk to
        self._blocked: set[int] = set()
        self._next_message_id: dict[int, int] = {}
        self._bot_messages: dict[int, dict[int, _StoredMessage]] = {}
        self._user_message_ids: dict[int, set[int]] = {}

        self._updates: list[dict[str, Any]] = []  # queued, not yet confirmed
        self._update_ids = itertools.count(10_001)
        self._handed_out_up_to = 0  # highest update_id returned by getUpdates
        self._allowed_updates: list[str] | None = None
        self._poll_generation = 0
        self._webhook_url = ""

        self._query_ids = itertools.count(4_200_000_000_000_001)
        self._query_users: dict[str, int] = {}
        self._answered_queries: set[str] = set()

        self._file_ids = itertools.count(1)
        self._files: dict[str, _StoredFile] = {}
        self._files_by_path: dict[str, _StoredFile] = {}

        self._commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._menu_buttons: dict[int | None, dict[str, Any]] = {}
        self._failures: list[_Failure] = []
        # Strict mode: Telegram-like flood limits on every send (off by default).
        self.strict_limits = False
        self.global_limit = 30
        self.chat_burst = 3
        self.limit_hits = 0
        self._sent_times: collections.deque[float] = collections.deque()
        self._chat_times: dict[int, collections.deque[float]] = {}

        # Created lazily inside the running loop (see _wait_changed).
        self._changed: asyncio.Event | None = None
        self._changed_loop: asyncio.AbstractEventLoop | None = None

        handlers: dict[str, _Handler] = {
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
        # Bot API method names are case-insensitive.
        self._methods = {name.lower(): (name, handler) for name, handler in handlers.items()}

    # --- wiring into PTB ------------------------------------------------------------------------

    @property
    def file_base_url(self) -> str:
        """What to pass as ``base_file_url`` (PTB appends the token)."""
        return self.base_url + "/file/bot"

    def request(self, **kwargs: Any) -> HTTPXRequest:
        """A new :class:`HTTPXRequest` talking to this sandbox; kwargs pass through."""
        httpx_kwargs = dict(kwargs.pop("httpx_kwargs", None) or {})
        httpx_kwargs["transport"] = self.transport
        return HTTPXRequest(httpx_kwargs=httpx_kwargs, **kwargs)

    def make_bot(self, **kwargs: Any) -> Bot:
        """A :class:`telegram.Bot` wired to this sandbox (use as ``async with``)."""
        from telegram import Bot

        return Bot(
            self.token,
            base_url=self.base_url + "/bot",
            base_file_url=self.file_base_url,
            request=self.request(),
            get_updates_request=self.request(),
            **kwargs,
        )

    def application_builder(self) -> ApplicationBuilder:
        """An :class:`ApplicationBuilder` with token, URLs and requests set to this sandbox."""
        from telegram.ext import ApplicationBuilder

        return (
            ApplicationBuilder()
            .token(self.token)
            .base_url(self.base_url + "/bot")
            .base_file_url(self.file_base_url)
            .request(self.request())
            .get_updates_request(self.request())
        )

    # --- acting as users ------------------------------------------------------------------------

    def add_user(
        self,
        user_id: int,
        first_name: str = "User",
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "id",
    ) -> None:
        """Remember a user profile (it does not open a chat with the bot)."""
        self._users[user_id] = _drop_none(
            {
                "id": user_id,
                "is_bot": False,
                "first_name": first_name,
                "last_name": last_name,
                "username": username,
                "language_code": language_code,
            }
        )
        if user_id in self._chats:  # keep a known private chat in sync with the profile
            self._chats[user_id] = self._private_chat_dict(user_id)

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
        photo = [self._photo_size(self._store_file(_TINY_PNG, "photos", "jpg"), 1, 1) for _ in "ab"]
        content = _drop_none({"photo": photo, "caption": caption})
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
        message = _drop_none({"document": document, "caption": caption})
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
                if any(b.get("callback_data") == callback_data for b in _flat(s.view.buttons))
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
            buttons = [b for b in _flat(stored.view.buttons) if "callback_data" in b]
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

    # --- inspection -----------------------------------------------------------------------------

    def calls_of(self, method: str) -> list[SentCall]:
        wanted = method.lower()
        return [call for call in self.calls if call.method.lower() == wanted]

    def messages(self, chat_id: int) -> list[SandboxMessage]:
        """Bot messages currently in the chat (edits applied, deleted ones gone), oldest first."""
        return [
            dataclasses.replace(
                s.view,
                buttons=copy.deepcopy(s.view.buttons),
                reply_keyboard=copy.deepcopy(s.view.reply_keyboard),
            )
            for s in self._bot_messages.get(chat_id, {}).values()
            if not s.synthetic
        ]

    def last_message(self, chat_id: int) -> SandboxMessage:
        messages = self.messages(chat_id)
        if not messages:
            raise LookupError(f"the bot has no message in chat {chat_id}")
        return messages[-1]

    def texts(self, chat_id: int) -> list[str]:
        """Texts (or captions) of the bot messages in the chat; messages without any are skipped."""
        return [m.text for m in self.messages(chat_id) if m.text is not None]

    def callback_answers(self, user_id: int | None = None) -> list[dict[str, Any]]:
        """Parameters of successful answerCallbackQuery calls, optionally for one user's presses."""
        answers = []
        for call in self.calls_of("answerCallbackQuery"):
            presser = self._query_users.get(str(call.params.get("callback_query_id")))
            if call.error is None and (user_id is None or presser == user_id):
                answers.append(dict(call.params))
        return answers

    def commands(
        self, scope: dict[str, Any] | None = None, language_code: str = ""
    ) -> list[dict[str, Any]]:
        """The command list set for exactly this scope and language (like getMyCommands)."""
        return copy.deepcopy(self._commands.get(self._commands_key(scope, language_code), []))

    def menu_button(self, chat_id: int | None = None) -> dict[str, Any] | None:
        """What setChatMenuButton set for the chat (None: the default for all chats)."""
        return copy.deepcopy(self._menu_buttons.get(chat_id))

    def is_blocked(self, user_id: int) -> bool:
        return user_id in self._blocked

    def clear(self) -> None:
        """Forget recorded calls; users, chats, messages and queued updates stay."""
        self.calls.clear()

    # --- failure injection ----------------------------------------------------------------------

    def fail(
        self,
        method: str | None = None,
        *,
        chat_id: int | None = None,
        error_code: int = 500,
        description: str = "Internal Server Error",
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` matching calls with this error (method None: any send/edit)."""
        if error_code == 429:
            retry_after = retry_after if retry_after is not None else 1
            if description == "Internal Server Error":
                description = f"Too Many Requests: retry after {retry_after}"
        self._failures.append(
            _Failure(
                method.lower() if method else None, chat_id, times,
                error_code=error_code, description=description, retry_after=retry_after,
            )
        )

    def fail_network(
        self,
        method: str | None = None,
        *,
        chat_id: int | None = None,
        times: int = 1,
        timeout: bool = False,
    ) -> None:
        """Make the transport raise httpx.ConnectError (or httpx.ReadTimeout) for matching calls."""
        self._failures.append(
            _Failure(
                method.lower() if method else None, chat_id, times,
                network=httpx.ReadTimeout if timeout else httpx.ConnectError,
            )
        )

    # --- settling -------------------------------------------------------------------------------

    @property
    def polls_started(self) -> int:
        """getUpdates calls received so far (they are not in `calls`). Once the count moved,
        a long poll that found nothing is waiting: it reaches its wait without yielding."""
        return self._poll_generation

    @property
    def pending_updates(self) -> int:
        """Updates queued but not yet handed out by getUpdates."""
        return sum(1 for update in self._updates if update["update_id"] > self._handed_out_up_to)

    async def wait_fetched(self, timeout: float = 5.0) -> None:
        """Wait until every queued update was handed out *and* confirmed by a later getUpdates
        offset (PTB confirms right after queueing a batch into its update_queue; it does not
        mean the handlers have run)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self._updates:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(
                    f"{len(self._updates)} update(s) not confirmed after {timeout}s "
                    f"({self.pending_updates} never fetched) - is the bot polling?"
                )
            await self._wait_changed(remaining)

    # --- transport ------------------------------------------------------------------------------

    async def _handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        file_match = re.fullmatch(r"/file/bot([^/]+)/(.+)", path)
        if file_match:
            return self._download(*file_match.groups())
        api_match = re.fullmatch(r"/bot([^/]+)/([A-Za-z0-9_]+)/?", path)
        if not api_match:
            return ApiError(404, "Not Found").response()
        token, method_name = api_match.groups()
        if token != self.token:
            return ApiError(401, "Unauthorized").response()
        entry = self._methods.get(method_name.lower())
        method = entry[0] if entry else method_name
        record = method != "getUpdates"  # polling noise is not interesting to tests

        try:
            params, files = _decode_request(request)
        except ApiError as exc:
            return exc.response()

        failure = self._take_failure(method, params)
        if failure is None and self.strict_limits and method.lower().startswith("send"):
            error = self._over_limit(_as_int(params.get("chat_id")))
            if error is not None:
                if record:
                    self.calls.append(SentCall(method, params, None, error[:2]))
                self.limit_hits += 1
                return ApiError(error[0], error[1], retry_after=error[2]).response()
        if failure is not None and failure.network is not None:
            name = failure.network.__name__
            if record:
                self.calls.append(SentCall(method, params, None, (0, f"network: {name}")))
            raise failure.network(f"sandbox: injected {name}", request=request)
        if failure is not None:
            error = (failure.error_code, failure.description)
            if record:
                self.calls.append(SentCall(method, params, None, error))
            return ApiError(*error, retry_after=failure.retry_after).response()

        try:
            if entry is None:
                raise ApiError(404, "Not Found")
            result = entry[1](params, files)
            if inspect.isawaitable(result):
                result = await result
        except ApiError as exc:
            if record:
                self.calls.append(SentCall(method, params, None, (exc.error_code, exc.description)))
            return exc.response()
        except Exception as exc:  # a sandbox bug: make it loud instead of a vague network error
            description = f"Internal Server Error: sandbox failed on {method}: {exc!r}"
            if record:
                self.calls.append(SentCall(method, params, None, (500, description)))
            return ApiError(500, description).response()
        if record:
            self.calls.append(SentCall(method, params, copy.deepcopy(result), None))
        return httpx.Response(200, json={"ok": True, "result": result})

    def _download(self, token: str, path: str) -> httpx.Response:
        if token != self.token:
            return ApiError(401, "Unauthorized").response()
        stored = self._files_by_path.get(path)
        if stored is None:
            return ApiError(404, "Not Found").response()
        return httpx.Response(200, content=stored.content)

    def _over_limit(self, chat_id: int | None) -> tuple[int, str, int] | None:
        """Telegram's flood limits, roughly: about 30 messages a second in all, and short
        bursts only to one chat. Over them, a 429 with retry_after, as Telegram answers."""
        now = time.monotonic()
        window = self._sent_times
        while window and window[0] <= now - 1.0:
            window.popleft()
        chat = self._chat_times.setdefault(chat_id or 0, collections.deque())
        while chat and chat[0] <= now - 1.0:
            chat.popleft()
        if len(window) >= self.global_limit or len(chat) >= self.chat_burst:
            return (429, "Too Many Requests: retry after 1", 1)
        window.append(now)
        chat.append(now)
        return None

    def _take_failure(self, method: str, params: _Params) -> _Failure | None:
        lowered = method.lower()
        for failure in self._failures:
            if failure.method is None:
                if not lowered.startswith(("send", "edit", "copy", "forward")):
                    continue
            elif failure.method != lowered:
                continue
            if failure.chat_id is not None and _as_int(params.get("chat_id")) != failure.chat_id:
                continue
            failure.remaining -= 1
            if failure.remaining <= 0:
                self._failures.remove(failure)
            return failure
        return None

    # --- change notification (lazy, loop-bound) -------------------------------------------------

    def _notify(self) -> None:
        event, self._changed = self._changed, None
        if event is not None:
            event.set()

    async def _wait_changed(self, timeout: float) -> None:
        loop = asyncio.get_running_loop()
        if self._changed is None or self._changed_loop is not loop:
            self._changed, self._changed_loop = asyncio.Event(), loop
        try:
            await asyncio.wait_for(self._changed.wait(), timeout)
        except TimeoutError:
            pass

    # --- updates queue --------------------------------------------------------------------------

    def _queue_update(self, payload: dict[str, Any]) -> int:
        update_id = next(self._update_ids)
        self._updates.append({"update_id": update_id, **payload})
        self._notify()
        return update_id

    def _update_allowed(self, update: dict[str, Any]) -> bool:
        kind = next(key for key in update if key != "update_id")
        if self._allowed_updates is None:
            return kind not in _NOT_DELIVERED_BY_DEFAULT
        return kind in self._allowed_updates

    def _drop_updates(self, keep: Callable[[dict[str, Any]], bool]) -> None:
        kept = [update for update in self._updates if keep(update)]
        if len(kept) != len(self._updates):
            self._updates = kept
            self._notify()

    # --- users and chats ------------------------------------------------------------------------

    def _user_dict(self, user_id: int) -> dict[str, Any]:
        if user_id not in self._users:
            self.add_user(user_id)
        return dict(self._users[user_id])

    def _bot_user(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.first_name,
            "username": self.username,
        }

    def _private_chat_dict(self, user_id: int) -> dict[str, Any]:
        user = self._user_dict(user_id)
        return _drop_none(
            {
                "id": user_id,
                "type": "private",
                "first_name": user.get("first_name"),
                "last_name": user.get("last_name"),
                "username": user.get("username"),
            }
        )

    def _open_private_chat(self, user_id: int) -> dict[str, Any]:
        """The user interacts with the bot, so the bot may now write to them."""
        if user_id not in self._chats:
            self._chats[user_id] = self._private_chat_dict(user_id)
        return dict(self._chats[user_id])

    def _allocate_message_id(self, chat_id: int) -> int:
        # Users and the bot share one message id sequence per chat, as in Telegram.
        message_id = self._next_message_id.get(chat_id, 1)
        self._next_message_id[chat_id] = message_id + 1
        return message_id

    def _text_content(self, text: str) -> dict[str, Any]:
        content: dict[str, Any] = {"text": text}
        command = _COMMAND_RE.match(text)
        if command:
            length = _utf16_len(command.group(0))
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

    def _create_synthetic_message(self, chat: dict[str, Any]) -> _StoredMessage:
        text = "[sandbox placeholder]"
        stored = self._store_bot_message(chat["id"], {"text": text}, text=text)
        stored.synthetic = True
        return stored

    # --- files ----------------------------------------------------------------------------------

    def _store_file(self, content: bytes, folder: str, extension: str) -> _StoredFile:
        number = next(self._file_ids)
        stored = _StoredFile(
            file_id=f"SBX{number:06d}-{folder}",
            file_unique_id=f"U{number:06d}",
            content=content,
            path=f"{folder}/file_{number}.{extension}",
        )
        self._files[stored.file_id] = stored
        self._files_by_path[stored.path] = stored
        return stored

    @staticmethod
    def _photo_size(stored: _StoredFile, width: int, height: int) -> dict[str, Any]:
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "width": width,
            "height": height,
            "file_size": len(stored.content),
        }

    def _input_file(
        self, name: str, params: _Params, files: _Files
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

    # --- validation helpers ---------------------------------------------------------------------

    def _target_chat(self, params: _Params, *, sending: bool = True) -> int:
        if params.get("chat_id") in (None, ""):
            raise ApiError(400, "Bad Request: chat_id is empty")
        chat_id = _as_int(params["chat_id"])
        if chat_id is None or chat_id not in self._chats:
            raise ApiError(400, CHAT_NOT_FOUND)
        if sending and chat_id in self._blocked:
            raise ApiError(403, BLOCKED)
        return chat_id

    @staticmethod
    def _content(params: _Params, *, caption: bool) -> tuple[str | None, list[dict[str, Any]]]:
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
        if _utf16_len(parsed) > (MAX_CAPTION_LENGTH if caption else MAX_TEXT_LENGTH):
            raise ApiError(400, CAPTION_TOO_LONG if caption else TEXT_TOO_LONG)
        return parsed, parsed_entities

    @staticmethod
    def _markup(
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
            for button in _flat(rows):
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
            if not all(isinstance(b.get("text"), str) and b["text"] for b in _flat(normalized)):
                raise ApiError(
                    400, "Bad Request: can't parse keyboard button: Text is not specified"
                )
            return None, normalized, False
        if raw.get("remove_keyboard"):
            return None, None, True
        if raw.get("force_reply"):
            return None, None, False
        raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")

    def _check_reply(self, chat_id: int, params: _Params) -> None:
        reply = params.get("reply_parameters")
        if not isinstance(reply, dict):  # the pre-7.0 parameters
            if params.get("reply_to_message_id") is None:
                return
            reply = {
                "message_id": params["reply_to_message_id"],
                "allow_sending_without_reply": params.get("allow_sending_without_reply"),
            }
        target = _as_int(reply.get("message_id"))
        exists = target in self._bot_messages.get(chat_id, {}) or target in (
            self._user_message_ids.get(chat_id, set())
        )
        if not exists and not reply.get("allow_sending_without_reply"):
            raise ApiError(400, "Bad Request: message to be replied not found")

    def _store_bot_message(
        self,
        chat_id: int,
        content: dict[str, Any],
        *,
        text: str | None,
        entities: list[dict[str, Any]] | None = None,
        parse_mode: str | None = None,
        inline_markup: dict[str, Any] | None = None,
        reply_keyboard: list[list[dict[str, Any]]] | None = None,
        remove_keyboard: bool = False,
        photo: bytes | None = None,
        document: bytes | None = None,
        document_name: str | None = None,
    ) -> _StoredMessage:
        message_id = self._allocate_message_id(chat_id)
        raw: dict[str, Any] = {
            "message_id": message_id,
            "from": self._bot_user(),
            "chat": dict(self._chats[chat_id]),
            "date": int(time.time()),
            **content,
        }
        if inline_markup is not None:
            raw["reply_markup"] = copy.deepcopy(inline_markup)
        view = SandboxMessage(
            message_id=message_id,
            chat_id=chat_id,
            from_bot=True,
            text=text,
            buttons=_buttons_of(inline_markup),
            reply_keyboard=reply_keyboard,
            photo=photo,
            document=document,
            document_name=document_name,
            parse_mode=parse_mode,
            remove_keyboard=remove_keyboard,
        )
        stored = _StoredMessage(view, raw, list(entities or []), inline_markup)
        self._bot_messages.setdefault(chat_id, {})[message_id] = stored
        return stored

    def _edit_target(self, params: _Params) -> _StoredMessage:
        if params.get("inline_message_id"):
            raise ApiError(400, "Bad Request: MESSAGE_ID_INVALID")  # inline mode is not modelled
        chat_id = self._target_chat(params)
        message_id = _as_int(params.get("message_id"))
        if message_id is None:
            raise ApiError(400, "Bad Request: message identifier is not specified")
        stored = self._bot_messages.get(chat_id, {}).get(message_id)
        if stored is None:
            if message_id in self._user_message_ids.get(chat_id, set()):
                raise ApiError(400, "Bad Request: message can't be edited")
            raise ApiError(400, EDIT_NOT_FOUND)
        return stored

    @staticmethod
    def _apply_markup(stored: _StoredMessage, inline_markup: dict[str, Any] | None) -> None:
        stored.inline_markup = inline_markup
        stored.view.buttons = _buttons_of(inline_markup)
        if inline_markup is None:
            stored.raw.pop("reply_markup", None)
        else:
            stored.raw["reply_markup"] = copy.deepcopy(inline_markup)
        stored.raw["edit_date"] = int(time.time())
        stored.synthetic = False

    # --- Bot API methods ------------------------------------------------------------------------

    def _api_get_me(self, params: _Params, files: _Files) -> dict[str, Any]:
        return {
            **self._bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _api_get_updates(self, params: _Params, files: _Files) -> list[dict[str, Any]]:
        if self._webhook_url:
            raise ApiError(409, WEBHOOK_CONFLICT)
        offset = _as_int(params.get("offset")) or 0
        limit = min(100, max(1, _as_int(params.get("limit")) or 100))
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

    def _api_delete_webhook(self, params: _Params, files: _Files) -> bool:
        self._webhook_url = ""
        if params.get("drop_pending_updates") is True:
            self._drop_updates(lambda update: False)
        return True

    def _api_set_webhook(self, params: _Params, files: _Files) -> bool:
        self._webhook_url = str(params.get("url") or "")
        if params.get("drop_pending_updates") is True:
            self._drop_updates(lambda update: False)
        return True

    def _api_get_webhook_info(self, params: _Params, files: _Files) -> dict[str, Any]:
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

    def _api_send_message(self, params: _Params, files: _Files) -> dict[str, Any]:
        chat_id = self._target_chat(params)
        text, entities = self._content(params, caption=False)
        inline, keyboard, remove = self._markup(params.get("reply_markup"))
        self._check_reply(chat_id, params)
        stored = self._store_bot_message(
            chat_id,
            _drop_none({"text": text, "entities": entities or None}),
            text=text,
            entities=entities,
            parse_mode=params.get("parse_mode") or None,
            inline_markup=inline,
            reply_keyboard=keyboard,
            remove_keyboard=remove,
        )
        return copy.deepcopy(stored.raw)

    def _api_send_photo(self, params: _Params, files: _Files) -> dict[str, Any]:
        chat_id = self._target_chat(params)
        content, _, _ = self._input_file("photo", params, files)
        caption, entities = self._content(params, caption=True)
        inline, keyboard, remove = self._markup(params.get("reply_markup"))
        self._check_reply(chat_id, params)
        data = content if content is not None else _TINY_PNG
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
            _drop_none({"photo": photo, "caption": caption, "caption_entities": entities or None}),
            text=caption,
            entities=entities,
            parse_mode=params.get("parse_mode") or None,
            inline_markup=inline,
            reply_keyboard=keyboard,
            remove_keyboard=remove,
            photo=content,
        )
        return copy.deepcopy(stored.raw)

    def _api_send_document(self, params: _Params, files: _Files) -> dict[str, Any]:
        chat_id = self._target_chat(params)
        content, filename, mime_type = self._input_file("document", params, files)
        caption, entities = self._content(params, caption=True)
        inline, keyboard, remove = self._markup(params.get("reply_markup"))
        self._check_reply(chat_id, params)
        data = content if content is not None else b""
        extension = (filename or "file").rpartition(".")[2] or "bin"
        stored_file = self._store_file(data, "documents", extension)
        document = _drop_none(
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
            _drop_none(
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

    def _api_send_chat_action(self, params: _Params, files: _Files) -> bool:
        self._target_chat(params)
        if params.get("action") not in _CHAT_ACTIONS:
            raise ApiError(400, "Bad Request: wrong parameter action in request")
        return True

    def _api_edit_message_text(self, params: _Params, files: _Files) -> dict[str, Any]:
        stored = self._edit_target(params)
        if "text" not in stored.raw:
            raise ApiError(400, "Bad Request: there is no text in the message to edit")
        text, entities = self._content(params, caption=False)
        # Omitting reply_markup removes the inline keyboard, exactly like Telegram.
        inline, _, _ = self._markup(params.get("reply_markup"))
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

    def _api_edit_message_caption(self, params: _Params, files: _Files) -> dict[str, Any]:
        stored = self._edit_target(params)
        if "text" in stored.raw:
            raise ApiError(400, "Bad Request: there is no caption in the message to edit")
        caption, entities = self._content(params, caption=True)
        inline, _, _ = self._markup(params.get("reply_markup"))
        if (caption, entities, inline) == (stored.view.text, stored.entities, stored.inline_markup):
            raise ApiError(400, NOT_MODIFIED)
        stored.raw.pop("caption", None)
        stored.raw.pop("caption_entities", None)
        stored.raw.update(_drop_none({"caption": caption, "caption_entities": entities or None}))
        stored.entities = entities
        stored.view.text = caption
        stored.view.parse_mode = params.get("parse_mode") or None
        self._apply_markup(stored, inline)
        return copy.deepcopy(stored.raw)

    def _api_edit_message_reply_markup(self, params: _Params, files: _Files) -> dict[str, Any]:
        stored = self._edit_target(params)
        inline, _, _ = self._markup(params.get("reply_markup"))
        if inline == stored.inline_markup:
            raise ApiError(400, NOT_MODIFIED)
        self._apply_markup(stored, inline)
        return copy.deepcopy(stored.raw)

    def _api_delete_message(self, params: _Params, files: _Files) -> bool:
        chat_id = self._target_chat(params, sending=False)
        message_id = _as_int(params.get("message_id")) or 0
        if self._bot_messages.get(chat_id, {}).pop(message_id, None) is not None:
            return True
        user_ids = self._user_message_ids.get(chat_id, set())
        if message_id in user_ids:
            user_ids.discard(message_id)
            return True
        raise ApiError(400, DELETE_NOT_FOUND)

    def _api_answer_callback_query(self, params: _Params, files: _Files) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        if query_id not in self._query_users or query_id in self._answered_queries:
            raise ApiError(400, QUERY_INVALID)
        self._answered_queries.add(query_id)
        return True

    @staticmethod
    def _commands_key(scope: object, language_code: object) -> tuple[str, str]:
        scope_dict = scope if isinstance(scope, dict) and scope else {"type": "default"}
        return json.dumps(scope_dict, sort_keys=True), str(language_code or "")

    def _api_set_my_commands(self, params: _Params, files: _Files) -> bool:
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

    def _api_get_my_commands(self, params: _Params, files: _Files) -> list[dict[str, Any]]:
        key = self._commands_key(params.get("scope"), params.get("language_code"))
        return copy.deepcopy(self._commands.get(key, []))

    def _api_delete_my_commands(self, params: _Params, files: _Files) -> bool:
        key = self._commands_key(params.get("scope"), params.get("language_code"))
        self._commands.pop(key, None)
        return True

    def _api_set_chat_menu_button(self, params: _Params, files: _Files) -> bool:
        chat_id = None
        if params.get("chat_id") is not None:
            chat_id = self._target_chat(params, sending=False)
        button = params.get("menu_button")
        self._menu_buttons[chat_id] = button if isinstance(button, dict) else {"type": "default"}
        return True

    def _api_get_chat_menu_button(self, params: _Params, files: _Files) -> dict[str, Any]:
        chat_id = None
        if params.get("chat_id") is not None:
            chat_id = self._target_chat(params, sending=False)
        button = self._menu_buttons.get(chat_id) or self._menu_buttons.get(None)
        if not button or button.get("type") == "default":
            return {"type": "commands"}
        return copy.deepcopy(button)

    def _api_get_chat(self, params: _Params, files: _Files) -> dict[str, Any]:
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

    def _api_get_file(self, params: _Params, files: _Files) -> dict[str, Any]:
        stored = self._files.get(str(params.get("file_id") or ""))
        if stored is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.content),
            "file_path": stored.path,
        }
