"""The Telegram channel of the outbox: PTB's Bot and errors turned into plain outcomes."""

from __future__ import annotations

from datetime import timedelta

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.ext import ExtBot
from telegram.error import (
    BadRequest,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)

from jobs.channel import OutcomeKind, Outcome, OutgoingMessage


TOKEN_PAUSE = 60.0


def _markup(buttons: list[list[dict[str, str]]] | None) -> InlineKeyboardMarkup | None:
    if not buttons:
        return None
    return InlineKeyboardMarkup([[InlineKeyboardButton(**b) for b in row] for row in buttons])


# The outbox's messages wait behind replies in the shared flood budget (bot/flood_limits.py),
# and a 429 comes back here for the outbox to wait out.
BULK = {"bulk": True}


class TelegramChannel:
    def __init__(self, bot: ExtBot[None]):
        self.bot = bot

    async def send(self, message: OutgoingMessage) -> Outcome:
        try:
            sent = await self.bot.send_message(
                message.recipient_id, message.text, parse_mode=message.parse_mode,
                reply_markup=_markup(message.buttons), rate_limit_args=BULK)
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
        return Outcome.sent(sent.message_id)


def _reason(exc: Exception) -> str:
    return str(exc)[:300]
