"""The outbox sender through the real Application's bot and the sandbox, on a test clock."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta
from itertools import pairwise

import pytest
from sqlalchemy import select

from bot.telegram_channel import TelegramChannel
from chat.clock import FakeClock
from chat.context import services_of
from config.settings import Settings
from db.models import OutboxMessage, OutboxState, User, UserStatus
from db.queries.outbox import Content
from db.session import create_engine, create_sessionmaker
from jobs.channel import Outcome, OutgoingMessage
from jobs.outbox import OutboxSender, SenderConfig, backoff
from sandbox import BotApiSandbox, SandboxBot
from tests.harness import BotHarness
from tests.outbox_helpers import (
    GateChannel,
    TimedChannel,
    add_recipients,
    count_states,
    deliveries,
    kill,
    queue,
    sent_marker,
    wait_final,
)
from tests.waiting import poll_until

R = range(5000, 5100)  # a hundred recipients


@pytest.fixture
def bot(clocked_bot: BotHarness) -> BotHarness:
    """Without the app's own sender: each test runs the sender it needs."""
    return clocked_bot


def sender_for(bot: BotHarness, clock: FakeClock, channel=None, **config) -> OutboxSender:
    assert bot.app is not None
    inner = channel or TelegramChannel(bot.app.bot)
    return OutboxSender(bot.sessionmaker, inner, clock=clock,
                        config=SenderConfig(**{"rate": 25, "in_flight": 4, **config}))


async def claims(bot: BotHarness) -> dict[int, str | None]:
    """Rows being sent, and which sender claimed each."""
    async with bot.sessionmaker() as session:
        rows = await session.execute(select(OutboxMessage.id, OutboxMessage.claimed_by)
                                     .where(OutboxMessage.state == OutboxState.SENDING))
        return dict(rows.all())


async def wait_until_sent(bot: BotHarness, count: int, timeout: float = 20.0) -> None:
    async def sent() -> bool:
        return (await count_states(bot))[OutboxState.SENT] >= count

    # The sender's commits announce nothing: asked again.
    try:
        await poll_until(sent, timeout=timeout, every=0.005, what=f"not {count} sent")
    except AssertionError:
        raise AssertionError(f"not {count} sent: {await count_states(bot)}") from None


def busiest_second(times: list[float]) -> int:
    times = sorted(times)
    best, j = 0, 0
    for i, t in enumerate(times):
        while times[j] <= t - 1.0:
            j += 1
        best = max(best, i - j + 1)
    return best


async def test_pacing_is_even_and_never_above_the_rate(bot: BotHarness, clock: FakeClock) -> None:
    await add_recipients(bot, R)
    await queue(bot, R)
    channel = TimedChannel(TelegramChannel(bot.app.bot), clock)  # type: ignore[union-attr]
    sender = sender_for(bot, clock, channel)
    sender.start()
    counts = await wait_final(bot, len(R))
    await sender.stop()
    assert counts[OutboxState.SENT] == len(R)
    times = [t for t, _, _ in channel.log]
    assert busiest_second(times) <= 25
    gaps = [b - a for a, b in pairwise(times)]
    assert min(gaps) >= 1 / 25 and max(gaps) < 1 / 25 * 1.1  # evenly spaced, no burst
    assert times[-1] - times[0] == pytest.approx(99 / 25, rel=0.05)
    assert set(deliveries(bot.sandbox).values()) == {1}


async def test_at_least_a_second_between_two_messages_to_one_chat(bot: BotHarness,
                                                                 clock: FakeClock) -> None:
    await add_recipients(bot, [7000, *range(7001, 7011)])
    for tag in "abcd":
        await queue(bot, [7000], tag=tag)
    await queue(bot, range(7001, 7011))
    channel = TimedChannel(TelegramChannel(bot.app.bot), clock)  # type: ignore[union-attr]
    sender = sender_for(bot, clock, channel, rate=100)
    sender.start()
    await wait_final(bot, 14)
    await sender.stop()
    to_one = [t for t, chat, _ in channel.log if chat == 7000]
    assert len(to_one) == 4
    assert all(b - a >= 1.0 for a, b in pairwise(to_one))


async def test_a_message_put_back_for_the_chats_gap_is_sent_when_due_not_at_the_next_poll(
        bot: BotHarness, clock: FakeClock) -> None:
    """The second message to a chat goes back to the outbox for a second. The sender may have
    looked for due rows before that was recorded (the row then still claimed, its lease an
    hour away); recording it makes the sender look again. Its poll here is an hour too, so
    the message is sent only that way."""
    await add_recipients(bot, [7000])
    for tag in "ab":
        await queue(bot, [7000], tag=tag)
    sender = sender_for(bot, clock, idle_poll=3600.0, lease=timedelta(hours=2))
    sender.start()
    counts = await wait_final(bot, 2)
    await sender.stop()
    assert counts[OutboxState.SENT] == 2


async def test_429_pauses_the_whole_sender_then_retries_the_row(bot: BotHarness,
                                                                clock: FakeClock) -> None:
    await add_recipients(bot, R)
    await queue(bot, R)
    bot.sandbox.fail("sendMessage", chat_id=5010, error_code=429,
                     description="Too Many Requests: retry after 7", retry_after=7)
    channel = TimedChannel(TelegramChannel(bot.app.bot), clock)  # type: ignore[union-attr]
    sender = sender_for(bot, clock, channel, in_flight=16)
    sender.start()
    counts = await wait_final(bot, len(R))
    await sender.stop()
    assert counts[OutboxState.SENT] == len(R)
    flood = next(t for t, chat, kind in channel.log if chat == 5010 and kind == "retry_after")
    # Requests already in flight when the 429 came back may land; none starts afterwards
    # until the wait is over.
    started_after = [t for t, _, _ in channel.log if t > flood + 16 / 25]
    assert started_after and min(started_after) >= flood + 7
    assert deliveries(bot.sandbox)[5010] == 1


async def test_blocked_user_is_skipped_from_then_on_until_they_write(bot: BotHarness,
                                                                     clock: FakeClock) -> None:
    await add_recipients(bot, [6001, 6002])
    bot.sandbox.fail("sendMessage", chat_id=6001, error_code=403,
                     description="Forbidden: bot was blocked by the user")
    await queue(bot, [6001, 6002])
    sender = sender_for(bot, clock)
    sender.start()
    await wait_final(bot, 2)
    async with bot.sessionmaker() as session:
        row = await session.scalar(select(OutboxMessage).where(OutboxMessage.recipient_id == 6001))
        user = await session.get(User, 6001)
    assert row is not None and row.state == OutboxState.SKIPPED
    assert row.last_error is not None and "blocked" in row.last_error
    assert user is not None and user.status == UserStatus.BLOCKED
    # The next message to them is skipped without asking Telegram.
    calls_before = len(bot.sandbox.calls_of("sendMessage"))
    await queue(bot, [6001], tag="second")
    sender.wake()
    await wait_final(bot, 3)
    assert len(bot.sandbox.calls_of("sendMessage")) == calls_before
    # They write to the bot again: active, and reached again.
    await bot.text(6001, "/help")
    await queue(bot, [6001], tag="third")
    sender.wake()
    counts = await wait_final(bot, 4)
    await sender.stop()
    assert counts[OutboxState.SENT] == 2
    async with bot.sessionmaker() as session:
        user = await session.get(User, 6001)
    assert user is not None and user.status == UserStatus.ACTIVE


async def test_blocking_and_unblocking_through_my_chat_member(bot: BotHarness,
                                                              clock: FakeClock) -> None:
    async def status() -> UserStatus:
        async with bot.sessionmaker() as session:
            user = await session.get(User, 6100)
        assert user is not None
        return user.status

    await add_recipients(bot, [6100, 6101])
    bot.sandbox.block(6100)
    await bot.settle()
    assert await status() == UserStatus.BLOCKED
    # While blocked, bulk messages skip them without asking Telegram.
    await queue(bot, [6100, 6101])
    sender = sender_for(bot, clock)
    sender.start()
    await wait_final(bot, 2)
    assert deliveries(bot.sandbox) == Counter({6101: 1})
    assert not any(c.params["chat_id"] == 6100 for c in bot.sandbox.calls_of("sendMessage"))
    bot.sandbox.unblock(6100)
    await bot.settle()
    assert await status() == UserStatus.ACTIVE
    await queue(bot, [6100], tag="after")
    sender.wake()
    counts = await wait_final(bot, 3)
    await sender.stop()
    assert counts[OutboxState.SENT] == 2 and counts[OutboxState.SKIPPED] == 1
    assert deliveries(bot.sandbox)[6100] == 1


async def test_transient_errors_back_off_then_fail_with_the_reason(bot: BotHarness,
                                                                   clock: FakeClock) -> None:
    await add_recipients(bot, [6201, 6202, 6203, 6204])
    bot.sandbox.fail("sendMessage", chat_id=6201, error_code=502, description="Bad Gateway",
                     times=2)
    bot.sandbox.fail_network("sendMessage", chat_id=6202, timeout=True, times=1)
    bot.sandbox.fail("sendMessage", chat_id=6203, error_code=500,
                     description="Internal Server Error", times=100)
    bot.sandbox.fail_network("sendMessage", chat_id=6204, times=100)
    await queue(bot, [6201, 6202, 6203, 6204])
    channel = TimedChannel(TelegramChannel(bot.app.bot), clock)  # type: ignore[union-attr]
    sender = sender_for(bot, clock, channel, max_attempts=3)
    sender.start()

    async def done_or_advanced() -> bool:
        counts = await count_states(bot)
        if counts[OutboxState.SENT] + counts[OutboxState.FAILED] >= 4:
            return True
        # Retries wait on the clock: move it on while the sender idles.
        clock.advance(10)
        sender.wake()
        return False

    # The outcomes are the sender's commits, which announce nothing: asked again.
    await poll_until(done_or_advanced, timeout=30, what="the retries did not end")
    await sender.stop()
    async with bot.sessionmaker() as session:
        rows = {r.recipient_id: r for r in await session.scalars(select(OutboxMessage))}
    assert rows[6201].state == OutboxState.SENT and rows[6201].attempts == 2
    assert rows[6202].state == OutboxState.SENT and rows[6202].attempts == 1
    assert rows[6203].state == OutboxState.FAILED and rows[6203].attempts == 3
    assert "Internal Server Error" in (rows[6203].last_error or "")
    assert rows[6204].state == OutboxState.FAILED and rows[6204].last_error
    tries = [t for t, chat, _ in channel.log if chat == 6203]
    assert [round(b - a) >= backoff(i + 1) for i, (a, b) in enumerate(pairwise(tries))] \
        == [True, True]


async def test_bad_request_fails_at_once_with_the_reason(bot: BotHarness,
                                                         clock: FakeClock) -> None:
    await add_recipients(bot, [6301])
    await add_recipients(bot, [6302], open_chat=False)  # never started the bot
    await queue(bot, [6301])
    await queue(bot, [6301], tag="bad-html", content=Content("<b>unclosed"))
    await queue(bot, [6302])
    sender = sender_for(bot, clock)
    sender.start()
    await wait_final(bot, 3)
    await sender.stop()
    async with bot.sessionmaker() as session:
        rows = {r.dedup_key: r for r in await session.scalars(select(OutboxMessage))}
    assert rows["t:6301"].state == OutboxState.SENT
    assert rows["bad-html:6301"].state == OutboxState.FAILED and rows["bad-html:6301"].attempts == 1
    assert "parse entities" in (rows["bad-html:6301"].last_error or "")
    assert rows["t:6302"].state == OutboxState.FAILED
    assert "chat not found" in (rows["t:6302"].last_error or "").lower()


async def test_the_same_message_is_never_queued_twice(bot: BotHarness) -> None:
    await add_recipients(bot, [6401])
    await queue(bot, [6401])
    await queue(bot, [6401])
    assert sum((await count_states(bot)).values()) == 1


@pytest.mark.parametrize("point", ["before_send", "between_send_and_record", "after_record"])
async def test_kill_and_restart_resumes_without_losses(bot: BotHarness, clock: FakeClock,
                                                       point: str) -> None:
    await add_recipients(bot, R)
    await queue(bot, R)
    telegram = TelegramChannel(bot.app.bot)  # type: ignore[union-attr]
    # With one request in flight, a message is sent only once the one before is recorded.
    in_flight = 4 if point == "between_send_and_record" else 1
    gate = GateChannel(telegram, allow=30, hold_after_send=point == "between_send_and_record")
    # The "killed process" has its own connections, closed with it, as the OS would.
    first_engine = create_engine(bot.settings.database_url)
    first = OutboxSender(create_sessionmaker(first_engine), gate, clock=clock,
                         config=SenderConfig(rate=25, in_flight=in_flight))
    first.start()
    await asyncio.wait_for(gate.held.wait(), 20)
    if point == "after_record":
        await wait_until_sent(bot, 30)
    await kill(first)
    await first_engine.dispose()
    sent_before = sum(deliveries(bot.sandbox).values())

    second = sender_for(bot, clock, telegram, in_flight=in_flight)
    second.start()
    counts = await wait_final(bot, len(R))
    await second.stop()
    got = deliveries(bot.sandbox)
    assert counts[OutboxState.SENT] == len(R) and set(got) == set(R)  # nobody missed
    duplicates = sum(got.values()) - len(R)
    if point == "between_send_and_record":
        assert 1 <= duplicates <= in_flight  # only what was in flight at the kill
    else:
        assert duplicates == 0
    assert sent_before >= 30


async def test_an_expired_lease_is_sent_again(bot: BotHarness, clock: FakeClock) -> None:
    """A claim whose sender vanished (no new lock holder to hand it back) lapses, then is due."""
    from jobs.sender_lock import NoLock

    await add_recipients(bot, R)
    await queue(bot, R)
    telegram = TelegramChannel(bot.app.bot)  # type: ignore[union-attr]
    gate = GateChannel(telegram, allow=10, hold_after_send=False)
    first = sender_for(bot, clock, gate, in_flight=1, lease=timedelta(seconds=60))
    first.start()
    await asyncio.wait_for(gate.held.wait(), 20)
    await kill(first)
    lock = NoLock()
    lock.take_fresh()  # as if it had always held the lock: it hands nothing back
    second = OutboxSender(bot.sessionmaker, telegram, clock=clock, lock=lock,
                          config=SenderConfig(rate=25, in_flight=1))
    leased = await claims(bot)
    assert leased and set(leased.values()) == {first.owner}
    second.start()
    await sent_marker(bot, second)
    assert await claims(bot) == leased  # still leased to the dead sender, none sent again
    clock.advance(61)
    second.wake()
    counts = await wait_final(bot, len(R) + 1)
    await second.stop()
    assert counts[OutboxState.SENT] == len(R) + 1  # and the marker
    assert set(deliveries(bot.sandbox).values()) == {1}


async def test_stop_does_not_wait_out_a_long_429(bot: BotHarness) -> None:
    """A clean stop must stay clean (and quick) even when Telegram asks for minutes."""
    await add_recipients(bot, R)
    await queue(bot, R)
    bot.sandbox.fail("sendMessage", chat_id=5003, error_code=429,
                     description="Too Many Requests: retry after 600", retry_after=600)
    sender = OutboxSender(bot.sessionmaker, TelegramChannel(bot.app.bot),  # type: ignore[union-attr]
                          clock=bot.clock, config=SenderConfig(rate=1000, in_flight=1))
    sender.start()
    async def retried() -> int:
        return sender.stats.retried

    # A counter of the sender, in its own task, announced by nothing: asked again.
    await poll_until(retried, timeout=10, what="no retry")
    await asyncio.wait_for(sender.stop(), 5)
    counts = await count_states(bot)
    assert counts[OutboxState.SENDING] == 0  # the rest was handed back, not left leased
    assert counts[OutboxState.PENDING] > 0


async def test_cancel_drops_pending_keeps_sent(bot: BotHarness, clock: FakeClock) -> None:
    from db.queries import broadcasts as broadcasts_db
    from db.queries.audience import Audience

    await add_recipients(bot, R)
    gate = GateChannel(TelegramChannel(bot.app.bot), allow=20,  # type: ignore[union-attr]
                       hold_after_send=False)
    async with bot.sessionmaker() as session, session.begin():
        broadcast = await broadcasts_db.create(
            session, created_by=9001, text_id="Tip hari ini", text_en=None,
            audience=Audience(), send_at=clock.now(), now=clock.now(),
            staff_ids=frozenset())
    sender = sender_for(bot, clock, gate)
    sender.start()
    await asyncio.wait_for(gate.held.wait(), 20)
    # Cancel once the 20 that went out are recorded: a message sent while the cancel runs
    # is recorded as sent after all, and would not be among the dropped.
    await wait_until_sent(bot, 20)
    async with bot.sessionmaker() as session, session.begin():
        dropped = await broadcasts_db.cancel(session, broadcast.id, now=clock.now())
    await kill(sender)
    counts = await count_states(bot)
    assert dropped == len(R) - 20 and counts[OutboxState.SKIPPED] == dropped
    assert counts[OutboxState.SENT] == 20  # sent ones are kept as sent
    assert counts[OutboxState.PENDING] == counts[OutboxState.SENDING] == 0
    restarted = sender_for(bot, clock)
    restarted.start()
    await sent_marker(bot, restarted)
    await restarted.stop()
    assert sum(deliveries(bot.sandbox).values()) == 20  # nothing after the cancel
    assert (await count_states(bot))[OutboxState.SKIPPED] == dropped


async def test_broadcast_reaches_each_recipient_in_their_language(bot: BotHarness,
                                                                  clock: FakeClock) -> None:
    from db.queries import broadcasts as broadcasts_db
    from db.queries.audience import Audience

    await add_recipients(bot, [8001, 8002], language="id")
    await add_recipients(bot, [8003], language="en")
    async with bot.sessionmaker() as session, session.begin():
        await broadcasts_db.create(session, created_by=9001, text_id="Tip: <b>5S</b> hari ini",
                                   text_en="Tip: <b>5S</b> today", audience=Audience(),
                                   send_at=clock.now(), now=clock.now(), staff_ids=frozenset())
    sender = sender_for(bot, clock)
    sender.start()
    await wait_final(bot, 3)
    await sender.stop()
    texts = {c.params["chat_id"]: c.params["text"] for c in bot.sandbox.calls_of("sendMessage")}
    assert texts[8001] == texts[8002] == "Tip: <b>5S</b> hari ini"
    assert texts[8003] == "Tip: <b>5S</b> today"
    assert Counter(deliveries(bot.sandbox)) == Counter({8001: 1, 8002: 1, 8003: 1})


async def test_stalled_outbox_alerts_staff_once_per_stall(bot: BotHarness,
                                                         clock: FakeClock) -> None:
    from jobs.outbox_watch import check_stall

    alerts: list[tuple[int, int]] = []

    async def alert(due: int, minutes: int) -> None:
        alerts.append((due, minutes))

    await add_recipients(bot, [6501, 6502])
    await queue(bot, [6501, 6502], at=clock.now())
    clock.advance(4 * 60)
    assert not await check_stall(bot.sessionmaker, clock, alert)  # under five minutes
    clock.advance(2 * 60)
    assert await check_stall(bot.sessionmaker, clock, alert)
    assert alerts == [(2, 6)]
    clock.advance(5 * 60)
    assert not await check_stall(bot.sessionmaker, clock, alert)  # same stall: once
    # Sending resumes, then stops again with a new due message: a new stall, a new alert.
    sender = sender_for(bot, clock)
    sender.start()
    await wait_final(bot, 2)
    await sender.stop()
    await queue(bot, [6501], tag="again", at=clock.now())
    clock.advance(6 * 60)
    assert await check_stall(bot.sessionmaker, clock, alert)
    assert len(alerts) == 2


async def test_stall_alert_reaches_staff_directly(bot: BotHarness) -> None:
    app = bot.app
    assert app is not None and app.job_queue is not None
    bot.sandbox.open_chat(9001, language_code="en")
    await add_recipients(bot, [6601])
    await queue(bot, [6601], at=services_of(app).clock.now() - timedelta(minutes=10))
    # The job the application scheduled, run now rather than at its next minute.
    [watch] = app.job_queue.get_jobs_by_name("outbox-stall-watch")
    await watch.run(app)
    alert = bot.sandbox.last_message(9001).text or ""
    assert "1 message is waiting" in alert or "1 pesan" in alert


async def test_interactive_reply_is_not_held_behind_a_broadcast(settings: Settings,
                                                                sandbox: BotApiSandbox) -> None:
    harness = BotHarness(settings, sandbox, sender_config=SenderConfig(rate=50, in_flight=4))
    await harness.start()
    try:
        await add_recipients(harness, R)
        await queue(harness, R)
        services_of(harness.app).wake_sender()  # type: ignore[arg-type]
        await sandbox.wait_until(lambda: sum(deliveries(sandbox).values()) >= 5, timeout=20)
        harness.sandbox.send_text(4242, "/help")
        await SandboxBot.settle(harness)  # the update only, not the whole broadcast
        # The answer came while most of the broadcast was still waiting its turn.
        assert sum(deliveries(sandbox).values()) < len(R) // 2
        assert "/start" in harness.last_text(4242)
    finally:
        await harness.stop()
    # Stopped in the middle, the sender handed back what it had not sent (sending all of
    # it is other tests' business).
    engine = create_engine(settings.database_url)
    async with create_sessionmaker(engine)() as session:
        states = Counter(await session.scalars(select(OutboxMessage.state)))
    await engine.dispose()
    assert states[OutboxState.SENT] >= 5 and sum(states.values()) == len(R)
    assert set(states) <= {OutboxState.SENT, OutboxState.PENDING}


async def test_settled_waits_until_what_is_in_flight_is_recorded(bot: BotHarness,
                                                                  clock: FakeClock) -> None:
    """What a cancelled broadcast still had on its way is counted as sent once recorded:
    `settled` is how the cancel waits for it."""
    await add_recipients(bot, R[:3])
    await queue(bot, R[:3])
    release, started = asyncio.Event(), asyncio.Event()
    telegram = TelegramChannel(bot.app.bot)  # type: ignore[union-attr]

    class Slow:
        async def send(self, message: OutgoingMessage) -> Outcome:
            started.set()
            await release.wait()
            return await telegram.send(message)

    sender = sender_for(bot, clock, Slow(), in_flight=1)
    sender.start()
    await asyncio.wait_for(started.wait(), 10)
    waiter = asyncio.create_task(sender.settled(10))
    await asyncio.sleep(0.05)
    assert not waiter.done()
    release.set()
    await asyncio.wait_for(waiter, 10)
    assert (await count_states(bot))[OutboxState.SENT] >= 1
    await sender.stop()
