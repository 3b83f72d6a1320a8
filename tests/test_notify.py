"""One outbox for every message that is not a direct reply (chat/notify.py): expiry, groups,
photos and documents, scheduled broadcasts; through the real Application on a virtual clock."""

from __future__ import annotations

import asyncio
import io
from datetime import timedelta
from types import SimpleNamespace

import pytest
from PIL import Image
from sqlalchemy import func, select

from bot.telegram_channel import TelegramChannel
from chat import notify
from chat.clock import FakeClock
from chat.context import Services, services_of
from chat.i18n import current_locale
from db.models import Broadcast, OutboxContent, OutboxMedia, OutboxMessage, OutboxState, User
from jobs.outbox import OutboxSender, SenderConfig
from sandbox import UploadedFile
from tests.harness import BotHarness
from tests.outbox_helpers import TimedChannel, add_recipients, deliveries, queued_rows, wait_final

R = range(5000, 5100)


@pytest.fixture
def bot(clocked_bot: BotHarness) -> BotHarness:
    """The Application on the virtual clock; each test starts the sender when it wants."""
    return clocked_bot


def svc(bot: BotHarness) -> Services:
    assert bot.app is not None
    return services_of(bot.app)


def start_sender(bot: BotHarness, clock: FakeClock, channel=None, **config) -> OutboxSender:
    """The app's sender, on the test's clock: queueing wakes it, settle() waits for it."""
    assert bot.app is not None
    sender = OutboxSender(bot.sessionmaker,
                          channel or TelegramChannel(bot.app.bot, svc(bot).signer),
                          clock=clock, config=SenderConfig(**{"rate": 25, "in_flight": 4,
                                                              **config}))
    svc(bot).sender = sender  # stopped with the app
    sender.start()
    return sender


def text(value: str):
    return lambda: notify.Message(value)


async def test_a_message_not_sent_by_its_expiry_is_expired_never_late(
        bot: BotHarness, clock: FakeClock) -> None:
    await add_recipients(bot, R)
    await add_recipients(bot, [5200, 5201])
    start = clock.monotonic()
    async with bot.sessionmaker() as session, session.begin():
        # A hundred reminders that must arrive within two seconds: about fifty can, at 25/s.
        await notify.queue(svc(bot), session, group="visit:1", key="v1-soon", to=list(R),
                           render=text("Tip: the visit starts soon"),
                           expires=clock.now() + timedelta(seconds=2), priority=notify.REMINDER)
        # Two that can no longer go by the time a sender looks.
        await notify.queue(svc(bot), session, group="visit:2", key="v2-soon", to=[5200, 5201],
                           render=text("Tip: too late"),
                           expires=clock.now() + timedelta(seconds=1))
    clock.advance(1)
    channel = TimedChannel(TelegramChannel(bot.app.bot), clock)  # type: ignore[union-attr]
    start_sender(bot, clock, channel)
    counts = await wait_final(bot, len(R) + 2)
    assert counts[OutboxState.SENT] + counts[OutboxState.EXPIRED] == len(R) + 2
    sent_at = [t for t, _chat, kind in channel.log if kind == "sent"]
    assert 10 < len(sent_at) < len(R) and max(sent_at) <= start + 2  # none late
    async with bot.sessionmaker() as session:
        first, second = (await notify.counts(session, "visit:1"),
                         await notify.counts(session, "visit:2"))
    assert first.sent == len(sent_at) and first.expired == len(R) - len(sent_at)
    assert (second.sent, second.expired, second.pending) == (0, 2, 0)
    assert not {5200, 5201} & set(deliveries(bot.sandbox))


async def test_groups_count_cancel_and_drop_one_recipient(bot: BotHarness,
                                                          clock: FakeClock) -> None:
    people = [7101, 7102, 7103]
    await add_recipients(bot, [*people, 7104])
    later = clock.now() + timedelta(days=1)
    async with bot.sessionmaker() as session, session.begin():
        assert await notify.queue(svc(bot), session, group="workshop:7", key="ws7-invite",
                                  to=people, render=text("Tip: workshop 7")) == 3
        # Queueing the same message again adds nothing.
        assert await notify.queue(svc(bot), session, group="workshop:7", key="ws7-invite",
                                  to=people, render=text("Tip: workshop 7")) == 0
        await notify.queue(svc(bot), session, group="workshop:7", key="ws7-remind", to=people,
                           render=text("Tip: reminder 7"), at=later)
        await notify.queue(svc(bot), session, group="workshop:8", key="ws8-remind", to=[7104],
                           render=text("Tip: reminder 8"), at=later)
    sender = start_sender(bot, clock)
    await wait_final(bot, 3)
    # 7102 answered the invitation: their reminder is dropped, the others' stay.
    async with bot.sessionmaker() as session, session.begin():
        assert await notify.drop(svc(bot), session, group="workshop:7", recipient_id=7102,
                                 reason="answered") == 1
    async with bot.sessionmaker() as session:
        counts = await notify.counts(session, "workshop:7")
    assert (counts.sent, counts.pending, counts.skipped, counts.total) == (3, 2, 1, 6)
    # The workshop is called off: nothing more of it goes out, nothing can be added.
    async with bot.sessionmaker() as session, session.begin():
        assert await notify.cancel(svc(bot), session, group="workshop:7") == 2
        assert await notify.queue(svc(bot), session, group="workshop:7", key="ws7-late",
                                  to=people, render=text("Tip: never")) == 0
    clock.advance(2 * 24 * 3600)
    sender.wake()
    await wait_final(bot, 7)
    async with bot.sessionmaker() as session:
        counts = await notify.counts(session, "workshop:7")
        other = await notify.counts(session, "workshop:8")
    assert (counts.sent, counts.pending, counts.skipped) == (3, 0, 3)
    assert other.sent == 1  # another group is not touched
    texts = [c.params["text"] for c in bot.sandbox.calls_of("sendMessage")]
    assert sorted(texts) == ["Tip: reminder 8"] + ["Tip: workshop 7"] * 3
    reminders = [r.state for r in await queued_rows(bot) if r.text == "Tip: reminder 7"]
    assert reminders == [OutboxState.SKIPPED] * 3


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 45, 190)).save(out, "PNG")
    return out.getvalue()


async def test_a_photo_to_many_is_stored_once_and_uploaded_once(bot: BotHarness,
                                                                clock: FakeClock) -> None:
    indonesian, english = [7301, 7302, 7303, 7304], [7305]
    await add_recipients(bot, indonesian, language="id")
    await add_recipients(bot, english, language="en")
    png = await asyncio.to_thread(_png)  # images are rendered off the event loop
    rendered: list[str] = []

    def chart() -> notify.Message:
        rendered.append(current_locale())
        caption = "Grafik KPI" if current_locale() == "id" else "KPI chart"
        return notify.Message(caption, media=notify.photo(png))

    async with bot.sessionmaker() as session, session.begin():
        await notify.queue(svc(bot), session, group="chart:kpi", key="kpi-2026-11",
                           to=indonesian + english, render=chart)
    start_sender(bot, clock)
    counts = await wait_final(bot, 5)
    assert counts[OutboxState.SENT] == 5 and sorted(rendered) == ["en", "id"]
    calls = [c for c in bot.sandbox.calls_of("sendPhoto") if c.error is None]
    uploads = [c for c in calls if not isinstance(c.params["photo"], str)]
    references = {c.params["photo"] for c in calls if isinstance(c.params["photo"], str)}
    assert len(calls) == 5 and len(uploads) == 1 and len(references) == 1
    for chat in indonesian + english:
        message = bot.sandbox.last_message(chat)
        assert message.photo == png
        assert message.text == ("KPI chart" if chat in english else "Grafik KPI")
    async with bot.sessionmaker() as session:
        media = (await session.scalars(select(OutboxMedia))).all()
        contents = await session.scalar(select(func.count()).select_from(OutboxContent))
    assert len(media) == 1 and media[0].file_ref in references  # the bytes once, not per row
    assert contents == 2  # one per language, shared by its readers
    # The same chart queued again later: no new upload, the stored reference is sent.
    async with bot.sessionmaker() as session, session.begin():
        await notify.queue(svc(bot), session, group="chart:kpi", key="kpi-again",
                           to=indonesian[:2], render=chart)
    await wait_final(bot, 7)
    again = [c for c in bot.sandbox.calls_of("sendPhoto") if c.error is None][5:]
    assert [c.params["photo"] for c in again] == [media[0].file_ref] * 2


async def test_a_document_goes_with_its_name_and_later_rows_reuse_the_upload(
        bot: BotHarness, clock: FakeClock) -> None:
    await add_recipients(bot, [7401, 7402])
    data = b"enterprise,workers\nPT Maju Jaya,120\n"
    async with bot.sessionmaker() as session, session.begin():
        await notify.queue(svc(bot), session, group="export:1", key="export-1",
                           to=[7401, 7402], render=lambda: notify.Message(
                               "<b>Export</b>", media=notify.document(data, "score.csv")))
    start_sender(bot, clock)
    await wait_final(bot, 2)
    calls = [c for c in bot.sandbox.calls_of("sendDocument") if c.error is None]
    assert [isinstance(c.params["document"], (UploadedFile, str)) for c in calls] == [True] * 2
    assert sum(isinstance(c.params["document"], str) for c in calls) == 1
    for chat in (7401, 7402):
        message = bot.sandbox.last_message(chat)
        assert message.document == data
        assert message.text == "Export" and message.parse_mode == "HTML"
    # Sent by reference, Telegram keeps the file's name; the sandbox only knows it on upload.
    uploaded = next(c for c in calls if not isinstance(c.params["document"], str))
    assert bot.sandbox.last_message(uploaded.params["chat_id"]).document_name == "score.csv"


async def test_a_scheduled_broadcast_is_queued_by_the_job_when_due(bot: BotHarness,
                                                                   clock: FakeClock) -> None:
    from db.queries import broadcasts as broadcasts_db
    from db.queries.audience import Audience

    await add_recipients(bot, [8001, 8002])
    created = clock.now()
    async with bot.sessionmaker() as session, session.begin():
        broadcast = await broadcasts_db.create(
            session, created_by=9001, text_id="Tip: 5S", text_en=None, audience=Audience(),
            send_at=created + timedelta(hours=1), now=created, staff_ids=frozenset())
    assert bot.app is not None and bot.app.job_queue is not None
    [job] = bot.app.job_queue.get_jobs_by_name("queue-scheduled-broadcasts")
    context = SimpleNamespace(application=bot.app)
    await job.callback(context)
    assert await queued_rows(bot) == []  # not due yet
    clock.advance(3600)
    due = clock.now()
    await job.callback(context)
    async with bot.sessionmaker() as session:
        rows = (await session.scalars(select(OutboxMessage))).all()
        reloaded = await session.get(Broadcast, broadcast.id)
    assert reloaded is not None and reloaded.queued_at == due
    assert len(rows) == 2 and {r.created_at for r in rows} == {due}  # queued, not created
    assert {r.next_attempt_at for r in rows} == {due}
    start_sender(bot, clock)
    await wait_final(bot, 2)
    assert set(deliveries(bot.sandbox)) == {8001, 8002}


async def test_a_row_dropped_for_a_reason_is_queued_again_only_if_never_sent(
        bot: BotHarness, clock: FakeClock) -> None:
    """`revive`: someone who left (their row dropped "left" before it went out) is a
    recipient again; what was sent, dropped for another reason, or held by a sender when it
    was dropped (it may be on its way) stays as it is."""
    ids = [5300, 5301, 5302, 5303, 5304]
    await add_recipients(bot, ids)
    later = clock.now() + timedelta(hours=5)

    async def queue(to, *, at=None, revive=None) -> int:
        async with bot.sessionmaker() as session, session.begin():
            return await notify.queue(svc(bot), session, group="survey:9:v0:invite",
                                      key="survey:9:v0:invite", to=to,
                                      render=text("Survey"), at=at, revive=revive)

    assert await queue(ids) == 5
    async with bot.sessionmaker() as session, session.begin():
        rows = {r.recipient_id: r for r in await session.scalars(select(OutboxMessage))}
        rows[5301].state, rows[5301].sent_at = OutboxState.SENT, clock.now()
        rows[5303].state, rows[5303].lease_until = OutboxState.SENDING, later
        for who, reason in ((5300, "left"), (5301, "left"), (5302, "answered"),
                            (5303, "left"), (5304, "left")):
            await notify.drop(svc(bot), session, group="survey:9:v0:invite",
                              recipient_id=who, reason=reason)
    # Without `revive` nothing changes; with it, by a list of ids or by a SELECT.
    assert await queue(ids, at=later) == 0
    assert await queue([5300, 5301, 5302, 5303], at=later, revive="left") == 1
    users = select(User.id, User.language).where(User.id.in_([5304]))
    assert await queue(users, at=later, revive="left") == 1
    assert await queue(ids, at=later, revive="left") == 0  # pending again: left as it is
    async with bot.sessionmaker() as session:
        found = {r.recipient_id: (r.state, r.last_error, r.next_attempt_at == later)
                 for r in await session.scalars(select(OutboxMessage))}
    assert found == {5300: (OutboxState.PENDING, None, True),
                     5301: (OutboxState.SENT, None, False),
                     5302: (OutboxState.SKIPPED, "answered", False),
                     5303: (OutboxState.SKIPPED, "left", False),
                     5304: (OutboxState.PENDING, None, True)}
