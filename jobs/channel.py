"""What the outbox sends through: a message, a recipient, an outcome; no Telegram objects.

Another channel (WhatsApp, the everyday messenger in Indonesia) can be put behind the same
`Channel` later without touching the journeys or the outbox. Buttons arrive as what they mean
(`db.queries.outbox.Button`); each channel encodes them for the recipient its own way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Protocol

from db.models import MediaKind
from db.queries.outbox import Button, Place


@dataclass(frozen=True)
class Attachment:
    """A photo or document: the channel's reference to a file it already has, else the bytes;
    or a venue (`place`), a message of its own without text."""

    kind: MediaKind
    ref: str | None = None
    data: bytes | None = field(default=None, repr=False)
    filename: str | None = None
    place: Place | None = None


@dataclass(frozen=True)
class OutgoingMessage:
    recipient_id: int
    text: str  # the caption when there is an attachment
    parse_mode: str | None = None
    buttons: tuple[tuple[Button, ...], ...] = ()
    attachment: Attachment | None = None


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
    # After uploading an attachment: the channel's reference to send it again without bytes.
    media_ref: str | None = None

    @classmethod
    def sent(cls, message_id: int | None, media_ref: str | None = None) -> Outcome:
        return cls(OutcomeKind.SENT, message_id=message_id, media_ref=media_ref)


class Channel(Protocol):
    async def send(self, message: OutgoingMessage) -> Outcome: ...
