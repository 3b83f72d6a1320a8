"""More than one process on PostgreSQL: one sender at a time, takeover, no row sent twice."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from bot.telegram_channel import TelegramChannel
from chat.clock import RealClock
from db.session import create_engine, create_sessionmaker
from jobs.outbox import OutboxSender, SenderConfig
from jobs.sender_lock import CHECK_SECONDS, LOCK_KEY, AdvisoryLock, NoLock
from sandbox import BotApiSandbox, SandboxServer
from tests.bot_process import now_option, process_clock
from tests.conftest import POSTGRES_URL, STAFF_ID
from tests.harness import BotHarness
from tests.outbox_helpers import TimedChannel, add_recipients, deliveries, kill, queue, wait_final
from tests.waiting import poll_until

pytestmark = pytest.mark.skipif(not POSTGRES_URL, reason="PostgreSQL only (CI runs it)")
ROOT = Path(__file__).resolve().parent.parent
R = range(5000, 5300)


@pytest.fixture
def bot(quiet_bot: BotHarness) -> BotHarness:
    """Without the app's own sender: each test runs the sender it needs."""
    return quiet_bot


async def _lock_holder(bot: BotHarness, timeout: float = 10.0) -> int:
    """The server process (pid) of the connection holding the sender lock in this database,
    once someone holds it; seen from PostgreSQL, as another process would see it."""
    query = text("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
                 " AND database = (SELECT oid FROM pg_database"
                 "                 WHERE datname = current_database())"
                 " AND classid = :high AND objid = :low")
    key = {"high": LOCK_KEY >> 32, "low": LOCK_KEY & 0xFFFFFFFF}

    async def holder() -> int | None:
        async with bot.sessionmaker() as session:
            return await session.scalar(query, key)

    # The lock is PostgreSQL's: it tells no one when it is taken, so it is asked.
    return await poll_until(holder, timeout=timeout, what="nobody took the sender lock")


async def _terminate(bot: BotHarness, pid: int) -> None:
    """As when the process holding that connection dies: PostgreSQL drops it, and its locks."""
    async with bot.sessionmaker() as session:
        assert await session.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})


def _sender(bot: BotHarness, lock: NoLock | AdvisoryLock, channel: TimedChannel,
            **config: Any) -> OutboxSender:
    # The real clock: the advisory lock is retried, and lost, in real seconds.
    return OutboxSender(bot.sessionmaker, channel, clock=RealClock(), lock=lock,
                        skip_locked=True,
                        config=SenderConfig(**{"rate": 1000, "in_flight": 4, **config}))


async def test_only_the_lock_holder_sends_and_a_standby_takes_over(bot: BotHarness) -> None:
    assert POSTGRES_URL
    engines = [create_engine(POSTGRES_URL), create_engine(POSTGRES_URL)]
    telegram = TelegramChannel(bot.app.bot)  # type: ignore[union-attr]
    first_log = TimedChannel(telegram, RealClock())
    second_log = TimedChannel(telegram, RealClock())
    first = _sender(bot, AdvisoryLock(engines[0], retry_seconds=0.1), first_log, rate=100)
    second = _sender(bot, AdvisoryLock(engines[1], retry_seconds=0.1), second_log, rate=100)
    try:
        await add_recipients(bot, R)
        first.start()
        holder = await _lock_holder(bot)  # the first, alone so far
        second.start()
        await queue(bot, R)
        first.wake()
        second.wake()
        await first_log.wait_logged(50, timeout=20)
        assert second_log.log == []  # the standby never sends while the holder lives
        # The holder's process dies: its connection goes, and with it the lock.
        await kill(first)
        await _terminate(bot, holder)
        await first.lock.release()  # here in the test process: closes what is left of it
        await wait_final(bot, len(R))
        assert len(second_log.log) > 0
        got = deliveries(bot.sandbox)
        assert set(got) == set(R)
        assert sum(got.values()) - len(R) <= 4  # at most what was in flight at the death
    finally:
        await second.stop()
        for engine in engines:
            await engine.dispose()


async def test_a_sender_that_loses_its_lock_while_alive_stops(bot: BotHarness) -> None:
    """A database failover or a killed connection: the old sender must stop at once, and
    the new holder must not find its own rows finished by the old one."""
    assert POSTGRES_URL

    engines = [create_engine(POSTGRES_URL), create_engine(POSTGRES_URL)]
    telegram = TelegramChannel(bot.app.bot)  # type: ignore[union-attr]
    logs = [TimedChannel(telegram, RealClock()), TimedChannel(telegram, RealClock())]
    rate, in_flight = 40, 2
    first = _sender(bot, AdvisoryLock(engines[0], retry_seconds=0.1), logs[0], rate=rate,
                    in_flight=in_flight)
    second = _sender(bot, AdvisoryLock(engines[1], retry_seconds=0.1), logs[1], rate=rate,
                     in_flight=in_flight)
    try:
        await add_recipients(bot, R)
        first.start()
        holder = await _lock_holder(bot)  # the first, alone so far
        second.start()
        await queue(bot, R)
        first.wake()
        await logs[0].wait_logged(40, timeout=20)
        await _terminate(bot, holder)
        await wait_final(bot, len(R))
    finally:
        await first.stop()
        await second.stop()
        for engine in engines:
            await engine.dispose()
    got = deliveries(bot.sandbox)
    assert set(got) == set(R)
    # What the old sender could still send before it noticed: its requests in flight and
    # one lock check's worth of slots.
    assert sum(got.values()) - len(R) <= in_flight + rate * CHECK_SECONDS + 1


async def test_two_senders_never_send_one_row_twice(bot: BotHarness) -> None:
    """Even without the lock, claims with SKIP LOCKED never hand a row to both."""
    assert POSTGRES_URL
    await add_recipients(bot, R)
    await queue(bot, R)
    engines = [create_engine(POSTGRES_URL), create_engine(POSTGRES_URL)]
    telegram = TelegramChannel(bot.app.bot)  # type: ignore[union-attr]
    logs = [TimedChannel(telegram, RealClock()), TimedChannel(telegram, RealClock())]
    senders = [OutboxSender(create_sessionmaker(e), log, clock=RealClock(), lock=NoLock(),
                            skip_locked=True,
                            config=SenderConfig(rate=10_000, in_flight=8, claim_size=20))
               for e, log in zip(engines, logs, strict=True)]
    # Each would release the other's claims as a new lock holder would: not here.
    for sender in senders:
        sender.lock.take_fresh()
    try:
        for sender in senders:
            sender.start()
        await wait_final(bot, len(R))
    finally:
        for sender in senders:
            await sender.stop()
        for engine in engines:
            await engine.dispose()
    assert all(log.log for log in logs)  # both took part
    got = deliveries(bot.sandbox)
    assert set(got) == set(R) and set(got.values()) == {1}


async def test_send_only_process_takes_over_from_a_killed_bot(database_url: str,
                                                              tmp_path: Path) -> None:
    sandbox = BotApiSandbox()
    server = SandboxServer(sandbox)
    await server.start()
    env = {**os.environ, "BOT_TOKEN": sandbox.token, "TELEGRAM_API_BASE_URL": server.url,
           "DATABASE_URL": database_url, "STAFF_IDS": str(STAFF_ID), "PYTHONPATH": str(ROOT),
           "BROADCAST_RATE": "200"}
    log = (tmp_path / "procs.log").open("ab")
    procs: list[asyncio.subprocess.Process] = []

    clock = process_clock()

    async def spawn(*extra: str) -> asyncio.subprocess.Process:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "run", *extra, *now_option(clock), cwd=tmp_path,
            env=env, stdout=log, stderr=log)
        procs.append(proc)
        return proc

    try:
        main = await spawn()
        sandbox.open_chat(STAFF_ID)
        sandbox.send_text(STAFF_ID, "/help")
        await sandbox.wait_until(lambda: sandbox.texts(STAFF_ID), timeout=30)
        standby = await spawn("--send-only")

        async def standby_started() -> bool:
            return b"send-only process started" in (tmp_path / "procs.log").read_bytes()

        # Kill the bot once the standby runs (and so waits for the lock), not before. Its log
        # file, written by another process, is what says so.
        await poll_until(standby_started, timeout=30, every=0.05,
                         what="the standby did not start")
        main.send_signal(signal.SIGKILL)
        await main.wait()
        # Messages queued after the bot died are delivered by the standby.
        engine = create_engine(database_url)
        harness_users = range(7000, 7020)
        from db.models import User, UserStatus
        from db.queries.outbox import Content, enqueue

        maker = create_sessionmaker(engine)
        async with maker() as session, session.begin():
            now = clock.now()
            session.add_all(User(id=i, language="id", consent_at=now, status=UserStatus.ACTIVE,
                                 created_at=now, last_seen_at=now) for i in harness_users)
            await enqueue(session, group="test:standby", key="x",
                          recipients=[(i, "id") for i in harness_users],
                          contents={"id": Content("Tip baru")}, fallback="id", now=now)
        for i in harness_users:
            sandbox.open_chat(i)
        await sandbox.wait_until(lambda: sum(deliveries(sandbox).values()) >= 20, timeout=30)
        await engine.dispose()
        assert set(deliveries(sandbox)) == set(harness_users)
        standby.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(standby.wait(), 30) == 0
    finally:
        for proc in procs:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
        log.close()
        await server.stop()
