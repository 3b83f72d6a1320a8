"""Validation of free-text answers (names, counts).

Functions return (value, error_key); exactly one is None. The caller turns the
error key into a translated re-ask message, so keys are part of the API:

clean_name:          "empty", "too_long", "no_letters", "looks_like_code", "chat_reply"
parse_whole_number:  "not_a_number", "out_of_range"
"""

from __future__ import annotations

import re
import unicodedata

from domain.numbers import PEOPLE_UNITS, without_words

EMPTY = "empty"
TOO_LONG = "too_long"
NO_LETTERS = "no_letters"
LOOKS_LIKE_CODE = "looks_like_code"
CHAT_REPLY = "chat_reply"
NOT_A_NUMBER = "not_a_number"
OUT_OF_RANGE = "out_of_range"

# Zero-width joiners are kept: they hold emoji sequences together. Other
# format characters (zero-width spaces, direction marks, BOM) are invisible
# noise that would make two identical-looking names differ.
_KEEP_FORMAT = {"\u200c", "\u200d"}

# Input that is an injection attempt or a test of one rather than a name.
# Storage is parameterised and output escaped anyway; these are rejected so
# that such strings never end up in reports or on printed posters. The
# patterns need SQL/HTML structure, so ordinary names ("Toko Update Jaya",
# "PT Maju & Sejahtera") pass.
_CODE_PATTERNS = re.compile(
    "|".join(
        (
            r"\b(?:drop|truncate|alter)\s+(?:table|database|schema)\b",
            r"\bdelete\s+from\b",
            r"\binsert\s+into\b",
            r"\bupdate\s+\w+\s+set\b",
            r"\bunion\s+(?:all\s+)?select\b",
            r"\bselect\s+(?:\*|.+\bfrom\b.*[;'\"])",
            r"\b(?:or|and)\s+(['\"]?)(\w+)\1\s*=\s*\1\2(?:\1)?",  # 1 OR 1=1, ' or 'a'='a
            r"['\"]\s*(?:;|--|#)",  # a quote closing a string literal
            r";\s*--|--\s*$|/\*|\*/",  # SQL comments
            r"\bexec(?:ute)?\s*\(|\bxp_\w+",
            r"<\s*/?\s*[a-z][a-z0-9]*(?:\s[^<>]*)?/?\s*>",  # HTML tags
            r"\bjavascript\s*:|\bon[a-z]+\s*=",
            r"\$\{|\{\{.*\}\}",  # template injection
        )
    ),
    re.IGNORECASE,
)


# What people type in chat while a bot waits for a name: an answer to a question, not a name.
_CHAT_REPLIES = frozenset({
    "ok", "oke", "okay", "ok pak", "ok bu", "oke pak", "oke bu", "ya", "iya", "tidak", "nggak",
    "siap", "siap pak", "siap bu", "baik", "baik pak", "baik bu", "mantap", "sip", "halo", "hai",
    "terima kasih", "makasih", "thanks", "thank you", "yes", "no", "hi", "hello", "test", "tes",
})


def clean_name(text: str | None, *, max_len: int = 200,
               markup_allowed: bool = False) -> tuple[str | None, str | None]:
    """A name with whitespace collapsed, or the reason it cannot be one. With
    `markup_allowed` (a free-text reason, shown escaped), tags and code-like text pass."""
    if text is None:
        return None, EMPTY
    text = unicodedata.normalize("NFC", text)
    text = "".join(
        ch
        for ch in text
        if ch in _KEEP_FORMAT or unicodedata.category(ch) not in ("Cc", "Cf") or ch.isspace()
    )
    value = " ".join(text.split())
    if not value:
        return None, EMPTY
    if len(value) > max_len:
        return None, TOO_LONG
    # Letters of any script count; emoji, digits and punctuation alone do not.
    if not any(unicodedata.category(ch).startswith("L") for ch in value):
        return None, NO_LETTERS
    if not markup_allowed and _CODE_PATTERNS.search(value):
        return None, LOOKS_LIKE_CODE
    if value.casefold().strip(".!") in _CHAT_REPLIES:
        return None, CHAT_REPLY
    return value, None


# Digits grouped by threes with one consistent separator: "1.200" (Indonesian),
# "1,200" (English), "1 200"; or plain digits. "10.5" is not grouped by three,
# so it is rejected rather than guessed at.
_NUMBER = re.compile(r"([+-]?)(\d{1,3}(?:([., ])\d{3})(?:\3\d{3})*|\d+)", re.ASCII)


def parse_whole_number(text: str | None, *, lo: int, hi: int) -> tuple[int | None, str | None]:
    """A whole number within [lo, hi], or the reason the answer is not one."""
    if not text:
        return None, NOT_A_NUMBER
    # Any whitespace run (incl. non-breaking spaces) counts as one space. Only words for
    # people go with the number: the enrolment asks for a headcount.
    value = without_words(" ".join(text.split()), PEOPLE_UNITS)
    match = _NUMBER.fullmatch(value)
    if not match:
        return None, NOT_A_NUMBER
    sign, digits, sep = match.group(1), match.group(2), match.group(3)
    number = int(digits.replace(sep, "") if sep else digits)
    if sign == "-":
        number = -number
    if not lo <= number <= hi:
        return None, OUT_OF_RANGE
    return number, None


def tidy_place(text: str) -> str:
    """A place name as it is written: "semarang" and "KOTA SEMARANG" become "Semarang" and
    "Kota Semarang"; a name typed with capitals on purpose ("DKI Jakarta", "Tanjung
    Priok") is kept as typed."""
    if text != text.lower() and text != text.upper():
        return text
    return " ".join(word[:1].upper() + word[1:].lower() for word in text.split(" "))
