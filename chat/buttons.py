"""Signed callback data: a button is tied to the user it was sent to and to one conversation.

Format: `kind|nonce|value|sig` (at most 64 bytes, Telegram's limit). `sig` is a truncated HMAC
of the user id and the other fields, so a client cannot invent a button (forged: ignored and
logged), while a real button from an earlier step or conversation still verifies and is then
recognised as stale by its nonce or kind.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from telegram import InlineKeyboardButton

SEP = "|"
SIG_LEN = 10
MAX_BYTES = 64
NO_NONCE = "-"


@dataclass(frozen=True, slots=True)
class Button:
    kind: str
    nonce: str
    value: str


class ButtonSigner:
    def __init__(self, key: bytes):
        self._key = key

    def _sig(self, user_id: int, body: str) -> str:
        mac = hmac.new(self._key, f"{user_id}{SEP}{body}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).decode()[:SIG_LEN]

    def data(self, user_id: int, kind: str, value: str = "", nonce: str = NO_NONCE) -> str:
        if SEP in kind or SEP in nonce or SEP in value:
            raise ValueError("button fields must not contain the separator")
        if not (kind + nonce + value).isascii():
            raise ValueError("button fields must be ASCII")
        body = SEP.join((kind, nonce, value))
        data = f"{body}{SEP}{self._sig(user_id, body)}"
        if len(data.encode()) > MAX_BYTES:
            raise ValueError(f"callback data over {MAX_BYTES} bytes: {kind}")
        return data

    def verify(self, user_id: int, data: str | None) -> Button | None:
        """The button, or None when the data was not signed by us for this user."""
        # Anything a client can put there is checked before it is used: we only ever sign
        # ASCII, and compare_digest refuses to compare non-ASCII text at all.
        if not data or not data.isascii():
            return None
        parts = data.split(SEP)
        if len(parts) != 4:
            return None
        kind, nonce, value, sig = parts
        if len(sig) != SIG_LEN:
            return None
        expected = self._sig(user_id, SEP.join((kind, nonce, value)))
        if not hmac.compare_digest(sig, expected):
            return None
        return Button(kind, nonce, value)


class Keyboard:
    """Builds inline buttons signed for one user and one conversation nonce."""

    def __init__(self, signer: ButtonSigner, user_id: int, nonce: str = NO_NONCE):
        self.signer, self.user_id, self.nonce = signer, user_id, nonce

    def button(self, text: str, kind: str, value: str = "") -> InlineKeyboardButton:
        return InlineKeyboardButton(
            text, callback_data=self.signer.data(self.user_id, kind, value, self.nonce))


def new_nonce() -> str:
    return secrets.token_urlsafe(4)
