"""A survey round's messages in the outbox: the use case that queues a round's invitations and
reminders when it opens, owning its transaction. What it runs, and what the use cases that
make someone a respondent run in theirs (`invite_latecomers`), are queries:
`db/queries/round_messages.py`.
"""

from __future__ import annotations

from datetime import datetime

from db.models import SurveyRound
from db.queries.round_messages import RoundMessages, current_messages, queue_messages
from db.session import Sessions


async def queue_round(sessions: Sessions, messages: RoundMessages, *, now: datetime,
                      at_once: bool = False) -> int | None:
    """Queue a round's invitations (at the local send time of each zone, or now) and its
    reminder, both expiring at the close, and mark it queued, in one transaction; the
    number of invitations. None when it was queued already or is closed. Raises
    `db.results.Stale` when it was moved since `messages` were rendered."""
    async with sessions() as session, session.begin():
        round_ = await session.get(SurveyRound, messages.round_id, with_for_update=True)
        if round_ is None or round_.queued_at is not None or round_.closed_at is not None:
            return None
        queued = await queue_messages(
            session, round_, current_messages({round_.id: messages}, round_), now=now,
            at_once=at_once)
        round_.queued_at = now
        return queued
