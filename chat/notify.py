"""Queue a message that is not a direct reply: for one user or many, now or later, in each
recipient's language, sent by the outbox (jobs/outbox.py) at Telegram's pace.

    async with svc.sessionmaker() as session, session.begin():
        await notify.queue(svc, session, group=f"survey:{month}", key=f"pulse:{month}",
                           to=invitees, at=evening, expires=close, render=lambda: Message(
                               _("..."), [[Button(_("Start"), "pulse", month)]]))

`to` is a user id, several, or a SELECT of (user id, language) such as
`db.queries.audience.recipients(...)`: a SELECT becomes one INSERT ... SELECT however many
people it reaches. `render` is called once per language with that language current, so `_()`
inside it speaks the recipient's language; it may be a coroutine function (render an image
with `await asyncio.to_thread(...)` there, never on the event loop). Handlers and jobs both use
this; the rows commit with the caller's transaction and the sender is woken then.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from chat.context import Services
from chat.i18n import LOCALES, use_locale
from db.models import MediaKind
from db.queries import outbox as outbox_db
from db.queries.outbox import BULK, REMINDER, URGENT, Button, Content, Counts, Media

__all__ = ["BULK", "REMINDER", "URGENT", "Button", "Counts", "Media", "Message", "cancel",
           "counts", "document", "drop", "photo", "prepare", "queue", "rendered", "venue"]


@dataclass(frozen=True)
class Message:
    """What one language's recipients get: text (the caption under media), buttons as what
    they mean (signed for each recipient when sent), a photo or document."""

    text: str = ""
    buttons: Sequence[Sequence[Button]] = ()
    media: Media | None = None
    html: bool = True

    def content(self) -> Content:
        return Content(self.text, "HTML" if self.html else None,
                       tuple(tuple(row) for row in self.buttons), self.media)


Render = Callable[[], Message | Awaitable[Message]]


def photo(data: bytes) -> Media:
    return Media(MediaKind.PHOTO, data)


def document(data: bytes, filename: str) -> Media:
    return Media(MediaKind.DOCUMENT, data, filename)


def venue(latitude: float, longitude: float, title: str, address: str) -> Media:
    """A place on the map, sent as a Telegram venue: a message of its own, whose text is
    not shown (keep it the title, for the logs and /mydata)."""
    return outbox_db.Place(latitude, longitude, title, address).media()


async def queue(svc: Services, session: AsyncSession, *, group: str, key: str,
                to: int | Iterable[int] | Select[int, str], render: Render,
                at: datetime | None = None, expires: datetime | None = None,
                priority: int = BULK, revive: str | None = None) -> int:
    """Queue `render()` for everyone in `to`; the number of rows added (or queued again).

    `group` ("workshop:7") is what staff count and cancel; `key` makes each recipient's
    row unique (`key:<user id>`), so queueing the same message again adds nothing. `at` is
    when to send (default now); a row not sent by `expires` is marked expired, never sent
    late. Nothing is queued into a cancelled group. With `revive`, a recipient's row that
    `drop` skipped with that reason before it was sent is queued again instead (someone who
    left is a recipient again: what they never got is not lost, nothing is sent twice).
    """
    fallback = svc.settings.default_locale
    recipients: outbox_db.Recipients
    if isinstance(to, Select):
        recipients, languages = to, set(LOCALES)
    else:
        ids = [to] if isinstance(to, int) else list(to)
        if not ids:
            return 0
        known = await outbox_db.languages_of(session, ids)
        recipients = [(i, known.get(i)) for i in ids]
        # Only the languages someone reads: an image is not rendered for nobody.
        languages = {language if language in LOCALES else fallback
                     for language in (known.get(i) for i in ids)}
    contents = await _rendered(render, languages | {fallback})
    queued = await outbox_db.enqueue(
        session, group=group, key=key, recipients=recipients, contents=contents,
        fallback=fallback, now=svc.clock.now(), at=at, expires_at=expires, priority=priority,
        revive=revive)
    if queued:
        svc.wake_sender_on_commit(session)
    return queued


async def rendered(svc: Services, render: Render) -> outbox_db.Rendered:
    """`render()` in every language, as data for a use case to queue in its own transaction
    (`db.queries.outbox.enqueue_rendered`), to recipients it finds there. Wake the sender
    (`svc.outbox_changed()`) once the use case has committed."""
    fallback = svc.settings.default_locale
    return outbox_db.Rendered(await _rendered(render, set(LOCALES) | {fallback}), fallback)


async def prepare(svc: Services, *, group: str, key: str,
                  to: int | Iterable[int] | Select[int, str],
                  render: Render, at: datetime | None = None, expires: datetime | None = None,
                  priority: int = BULK, revive: str | None = None) -> outbox_db.Outgoing:
    """What `queue` would queue, as data for a use case to queue in its own transaction
    (`db.queries.outbox.enqueue_outgoing`), rendered in every language now, before it. Wake
    the sender (`svc.outbox_changed()`) once the use case has committed."""
    return outbox_db.Outgoing(
        group=group, key=key, to=to if isinstance(to, Select) else (
            (to,) if isinstance(to, int) else tuple(to)),
        message=await rendered(svc, render), at=at, expires_at=expires, priority=priority,
        revive=revive)


async def _rendered(render: Render, languages: Iterable[str]) -> dict[str, Content]:
    """`render()` once per language, with that language current."""
    contents: dict[str, Content] = {}
    for language in sorted(languages):
        with use_locale(language):
            message = render()
            if inspect.isawaitable(message):
                message = await message
        contents[language] = message.content()
    return contents


async def drop(svc: Services, session: AsyncSession, *, group: str,
               recipient_id: int | None = None, reason: str = "dropped") -> int:
    """Skip what the group has not sent yet: to one recipient (a reminder for someone who
    answered meanwhile), or to everyone. The group stays open for new rows."""
    dropped = await outbox_db.drop_unsent(session, group, recipient_id=recipient_id,
                                          reason=reason)
    if dropped:
        svc.recheck_sender_on_commit(session)
    return dropped


async def cancel(svc: Services, session: AsyncSession, *, group: str) -> int:
    """Cancel the group: nothing more of it is sent, nothing can be added to it."""
    dropped = await outbox_db.cancel_group(session, group, now=svc.clock.now())
    svc.recheck_sender_on_commit(session)
    return dropped


async def counts(session: AsyncSession, group: str) -> Counts:
    """Sent, pending, skipped, failed (with reasons) and expired messages of a group."""
    return await outbox_db.group_counts(session, group)
