"""Join codes that workers type (or scan) to join their enterprise, and the
Telegram deep links / start payloads that carry them.
"""

from __future__ import annotations

import re
import secrets
from typing import Literal

# Uppercase letters and digits minus the look-alikes 0/O and 1/I/L, so a code
# copied from a printed poster cannot be misread. 31 symbols: a 6-character
# code has ~8.9e8 values, and `secrets` makes them unguessable in sequence.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 6
# Bounds for codes of any length (links printed with an older default length
# must keep working); 4 is the shortest that is not trivially guessable.
MIN_CODE_LENGTH = 4
MAX_CODE_LENGTH = 16

JOIN_PREFIX = "join-"
ADMIN_PREFIX = "admin-"

# Telegram's rule for /start payloads: 1-64 characters of A-Z a-z 0-9 _ -.
_PAYLOAD = re.compile(r"[A-Za-z0-9_-]{1,64}")
# Invite tokens come from token_urlsafe, whose alphabet is the payload alphabet.
_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,}")
_USERNAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{3,31}")
_IGNORED = re.compile(r"[\s\-]+")


def new_join_code(length: int = CODE_LENGTH) -> str:
    """A random code with at least one digit and one letter: a word someone types while
    waiting for a code ("mantap") then never has a code's shape."""
    if not MIN_CODE_LENGTH <= length <= MAX_CODE_LENGTH:
        raise ValueError(f"join code length must be {MIN_CODE_LENGTH}-{MAX_CODE_LENGTH}")
    while True:
        code = "".join(secrets.choice(ALPHABET) for _ in range(length))
        if any(ch.isdigit() for ch in code) and any(ch.isalpha() for ch in code):
            return code


def looks_like_code(text: str | None) -> bool:
    """Typed text that counts as an attempt at a join code: the code alphabet, any case,
    spaces ignored, with a digit. Anything else ("ok pak", "terima kasih") is chat, and
    gets a hint rather than counting towards the lock."""
    code = normalize_code(text, length=None)
    return code is not None and any(ch.isdigit() for ch in code)


def normalize_code(text: str | None, *, length: int | None = CODE_LENGTH) -> str | None:
    """The canonical code for what a user typed ("abc 234", "ABC-234"), or None
    when it cannot be a code. `length=None` accepts any length from
    MIN_CODE_LENGTH to MAX_CODE_LENGTH.

    Look-alikes (O, I, L, 0, 1) are rejected, not mapped: they are outside the
    alphabet, so a code containing one is a typo the user has to see."""
    if not text:
        return None
    code = _IGNORED.sub("", text)
    if not code.isascii():  # before upper(): "ß".upper() == "SS" would pass
        return None
    code = code.upper()
    if length is None:
        if not MIN_CODE_LENGTH <= len(code) <= MAX_CODE_LENGTH:
            return None
    elif len(code) != length:
        return None
    if any(ch not in ALPHABET for ch in code):
        return None
    return code


def new_invite_token() -> str:
    """URL-safe token for admin invitations: 32 characters (192 bits), so
    "admin-" + token stays well within Telegram's 64-character payload."""
    return secrets.token_urlsafe(24)


def deep_link(bot_username: str, code: str) -> str:
    """https://t.me/<bot>?start=join-<CODE>; raises ValueError on bad input."""
    normalized = normalize_code(code, length=None)
    if normalized is None:
        raise ValueError(f"not a join code: {code!r}")
    return _start_link(bot_username, JOIN_PREFIX + normalized)


def admin_deep_link(bot_username: str, token: str) -> str:
    """https://t.me/<bot>?start=admin-<TOKEN>; raises ValueError on bad input."""
    if not _TOKEN.fullmatch(token):
        raise ValueError("not an invite token")
    return _start_link(bot_username, ADMIN_PREFIX + token)


def _start_link(bot_username: str, payload: str) -> str:
    username = bot_username.strip().removeprefix("@")
    if not _USERNAME.fullmatch(username):
        raise ValueError(f"not a Telegram bot username: {bot_username!r}")
    if not _PAYLOAD.fullmatch(payload):
        raise ValueError("start payload too long or with forbidden characters")
    return f"https://t.me/{username}?start={payload}"


def parse_start_payload(
    payload: str | None,
) -> tuple[Literal["join"], str] | tuple[Literal["admin"], str] | None:
    """("join", CODE) or ("admin", TOKEN) for a /start payload, else None.

    Payloads arrive from links anyone can craft, so everything is validated;
    a malformed one is treated like a plain /start."""
    if not payload or not _PAYLOAD.fullmatch(payload):
        return None
    head, sep, rest = payload.partition("-")
    if not sep:
        return None
    kind = head.lower()
    if kind == JOIN_PREFIX[:-1]:
        code = normalize_code(rest, length=None)
        return ("join", code) if code else None
    if kind == ADMIN_PREFIX[:-1]:
        # Tokens are case-sensitive: return them untouched.
        return ("admin", rest) if _TOKEN.fullmatch(rest) else None
    return None
