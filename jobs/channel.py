"""What the outbox sends through: a message, a recipient, an outcome; no Telegram objects.

Another channel (WhatsApp, the everyday messenger in Indonesia) can be put behind the same
`Channel` later without touching the journeys or the outbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Protocol


@dataclass(frozen=True)
class OutgoingMessage:
    recipient_id: int
    text: str
    parse_mode: str | None = None
    # Rows of buttons, each {"text": ..., "url": ...} or {"text": ..., "callback_data": ...}.
    buttons: list[list[dict[str, str]]] | None = None


class OutcomeKind(Enum):
    SENT = "sent"
    RETRY_AFTER = "retry_after"  # flood control: wait, then the same message again
    BLOCKED = "blocked"  # the recipient blocked us or is gone: never again
    FAILED = "failed"  # will never work (bad request): give up at once
    TRANSIENT = "transient"  # network, timeout, server error: try again later


@dataclass(frozen=True)
class Outcome:
    kind: OutcomeKind
    message_id: int | None = None
    retry_after: float = 0.0
    reason: str | None = None

    @classmethod
    def sent(cls, message_id: int | None) -> Outcome:
        return cls(OutcomeKind.SENT, message_id=message_id)


class Channel(Protocol):
    async def send(self, message: OutgoingMessage) -> Outcome: ...
