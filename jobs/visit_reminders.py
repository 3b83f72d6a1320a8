"""The renderer of visit reminders for jobs/event_reminders.py: what services/visits.py
says when one is due (wired in bot/app.py)."""

from __future__ import annotations

from collections.abc import Sequence

from chat.context import Services
from db.queries.outbox import Outgoing
from jobs.event_reminders import DueMessage
from services import visits


async def render(svc: Services, due: DueMessage) -> Sequence[Outgoing]:
    reminder = due.reminder
    return await visits.render_due(svc, event_id=reminder.event_id, version=reminder.version,
                                   kind=reminder.kind, late=due.late,
                                   expires_at=reminder.expires_at)
