"""A Bot API request as PTB sends it, turned back into parameters: the query string and a
urlencoded, multipart (uploads) or JSON body, each value decoded the way PTB encoded it."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import httpx

from sandbox.errors import ApiError

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


@dataclass
class UploadedFile:
    """A file part of a multipart request (what ends up in ``SentCall.params`` for uploads)."""

    filename: str | None
    content: bytes
    content_type: str | None


Params = dict[str, Any]
Files = dict[str, UploadedFile]


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


def _parse_multipart(body: bytes, content_type: str) -> tuple[list[tuple[str, str]], Files]:
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if not match:
        raise ApiError(400, "Bad Request: can't parse multipart/form-data request")
    delimiter = b"--" + match.group(1).encode("latin-1")
    fields: list[tuple[str, str]] = []
    files: Files = {}
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
        param = _disposition_param(disposition, "name")
        if param is None:
            continue
        name = param
        filename = _disposition_param(disposition, "filename")
        if filename is not None or "content-type" in headers:
            files[name] = UploadedFile(filename, content, headers.get("content-type"))
        else:
            fields.append((name, content.decode("utf-8", "replace")))
    return fields, files


def decode_request(request: httpx.Request) -> tuple[Params, Files]:
    """Parameters from the query string plus a urlencoded, multipart or JSON body."""
    fields: list[tuple[str, str]] = list(request.url.params.multi_items())
    files: Files = {}
    typed: Params = {}
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
    params: Params = {key: _decode_value(key, value) for key, value in fields}
    params.update(typed)
    for name, uploaded in files.items():
        params.setdefault(name, uploaded)
    return params, files


def as_int(value: object) -> int | None:
    """An integer parameter (chat_id, message_id, offset) as sent, or None if it is not one."""
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
