"""Telegram's parse modes: HTML, MarkdownV2 and legacy Markdown turned into the text a user
sees and its entities, with offsets in UTF-16 code units and tdlib's error messages."""

from __future__ import annotations

import re
from typing import Any

from sandbox.errors import ApiError


def utf16_len(text: str) -> int:
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
        self.pos += utf16_len(text)

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
        attrs = {}
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
    lead = utf16_len(text[: len(text) - len(text.lstrip())])
    size = utf16_len(stripped)
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
