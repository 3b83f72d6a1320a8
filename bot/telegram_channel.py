"""The Telegram channel of the outbox: PTB's Bot and errors turned into plain outcomes.

Buttons come as what they mean and are signed here, for the recipient, with the same
`ButtonSigner` as interactive buttons: the gate verifies a reminder's button like any other.
Signing at send time (not at queueing) keeps the stored message channel-neutral.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Message
from telegram.error import (
    BadRequest,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.ext import ExtBot

from chat.buttons import ButtonSigner
from db.models import MediaKind
from jobs.channel import Outcome, OutcomeKind, OutgoingMessage

TOKEN_PAUSE = 60.0
# The outbox's messages wait behind replies in the shared flood budget (bot/flood_limits.py),
# and a 429 comes back here for the outbox to wait out.
BULK = {"bulk": True}


class TelegramChannel:
    def __init__(self, bot: ExtBot[Any], signer: ButtonSigner | None = None):
        self.bot = bot
        self.signer = signer

    def _markup(self, message: OutgoingMessage) -> InlineKeyboardMarkup | None:
        if not message.buttons:
            return None
        rows = []
        for row in message.buttons:
            keys = []
            for b in row:
                if b.url:
                    keys.append(InlineKeyboardButton(b.text, url=b.url))
                    continue
                if self.signer is None:
                    raise ValueError("buttons to sign but no ButtonSigner given")
                keys.append(InlineKeyboardButton(b.text, callback_data=self.signer.data(
                    message.recipient_id, b.kind, b.value, b.nonce)))
            rows.append(keys)
        return InlineKeyboardMarkup(rows)

    async def _send(self, message: OutgoingMessage,
                    markup: InlineKeyboardMarkup | None) -> tuple[Message, str | None]:
        chat, attachment = message.recipient_id, message.attachment
        if attachment is None:
            return await self.bot.send_message(chat, message.text, parse_mode=message.parse_mode,
                                               reply_markup=markup, rate_limit_args=BULK), None
        if attachment.place is not None:
            place = attachment.place
            return await self.bot.send_venue(
                chat, latitude=place.latitude, longitude=place.longitude, title=place.title,
                address=place.address, reply_markup=markup, rate_limit_args=BULK), None
        file = attachment.ref or InputFile(attachment.data or b"", filename=attachment.filename)
        caption = message.text or None
        if attachment.kind is MediaKind.PHOTO:
            sent = await self.bot.send_photo(chat, file, caption=caption,
                                             parse_mode=message.parse_mode, reply_markup=markup,
                                             rate_limit_args=BULK)
            uploaded = sent.photo[-1].file_id if sent.photo else None
        else:
            sent = await self.bot.send_document(chat, file, caption=caption,
                                                parse_mode=message.parse_mode,
                                                reply_markup=markup, rate_limit_args=BULK)
            uploaded = sent.document.file_id if sent.document else None
        # Only a fresh upload gives a reference worth keeping.
        return sent, None if attachment.ref else uploaded

    async def send(self, message: OutgoingMessage) -> Outcome:
        try:
            markup = self._markup(message)
        except ValueError as exc:  # unsigned buttons or callback data over 64 bytes
            return Outcome(OutcomeKind.FAILED, reason=_reason(exc))
        try:
            sent, media_ref = await self._send(message, markup)
        except RetryAfter as exc:
            wait = exc.retry_after
            seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
            return Outcome(OutcomeKind.RETRY_AFTER, retry_after=seconds, reason="429")
        except InvalidToken:
            # The bot's token was revoked or mistyped: nothing can go out. Hold the whole
            # sender rather than failing every message; the stall watch tells staff.
            return Outcome(OutcomeKind.RETRY_AFTER, retry_after=TOKEN_PAUSE,
                           reason="token rejected")
        except Forbidden as exc:
            return Outcome(OutcomeKind.BLOCKED, reason=_reason(exc))
        except BadRequest as exc:
            return Outcome(OutcomeKind.FAILED, reason=_reason(exc))
        except NetworkError as exc:  # includes TimedOut and 5xx answers
            return Outcome(OutcomeKind.TRANSIENT, reason=_reason(exc) or type(exc).__name__)
        except TelegramError as exc:
            return Outcome(OutcomeKind.FAILED, reason=_reason(exc))
        return Outcome.sent(sent.message_id, media_ref)


def _reason(exc: Exception) -> str:
    return str(exc)[:300]
