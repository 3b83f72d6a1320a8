"""A broadcast to hundreds of users by `score-bot run`, through a Bot API server with
Telegram-like flood limits that also answers some users 429 and 403, killed and restarted."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from db.models import OutboxMessage, OutboxState, User, UserStatus
from db.queries import broadcasts as broadcasts_db
from db.queries.audience import Audience
from db.session import create_engine, create_sessionmaker
from sandbox import BotApiSandbox, SandboxServer
from tests.bot_process import now_option, process_clock
from tests.conftest import STAFF_ID
from tests.outbox_helpers import deliveries
from tests.waiting import poll_until

ROOT = Path(__file__).resolve().parent.parent
USERS = range(20_000, 20_200)
FLOODED = {20_010, 20_150}
BLOCKED = {20_020, 20_120, 20_190}
IN_FLIGHT = 8

pytestmark = pytest.mark.slow


async def test_broadcast_survives_a_kill_under_telegram_limits(database_url: str,
                                                               tmp_path: Path) -> None:
    sandbox = BotApiSandbox()
    sandbox.strict_limits = True
    server = SandboxServer(sandbox)
    await server.start()
    engine = create_engine(database_url)
    maker = create_sessionmaker(engine)
    env = {**os.environ, "BOT_TOKEN": sandbox.token, "TELEGRAM_API_BASE_URL": server.url,
           "DATABASE_URL": database_url, "STAFF_IDS": str(STAFF_ID), "PYTHONPATH": str(ROOT),
           "BROADCAST_RATE": "25", "OUTBOX_IN_FLIGHT": str(IN_FLIGHT)}
    log = (tmp_path / "bot.log").open("ab")
    procs: list[asyncio.subprocess.Process] = []

    clock = process_clock()

    async def spawn() -> asyncio.subprocess.Process:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "run", *now_option(clock), cwd=tmp_path,
            env=env, stdout=log, stderr=log)
        procs.append(proc)
        return proc

    async def states() -> dict:
        async with maker() as session:
            rows = await session.execute(select(OutboxMessage.state, func.count())
                                         .group_by(OutboxMessage.state))
            return dict(rows.all())

    try:
        now = clock.now()
        async with maker() as session, session.begin():
            session.add_all(User(id=i, language="id", consent_at=now, status=UserStatus.ACTIVE,
                                 created_at=now, last_seen_at=now) for i in USERS)
        for i in USERS:
            sandbox.open_chat(i)
        for chat in FLOODED:
            sandbox.fail("sendMessage", chat_id=chat, error_code=429,
                         description="Too Many Requests: retry after 1", retry_after=1)
        for chat in BLOCKED:
            sandbox.fail("sendMessage", chat_id=chat, error_code=403,
                         description="Forbidden: bot was blocked by the user", times=10)
        # The database is migrated already (the fixture's): queued before the bot starts,
        # the broadcast goes out from its first look at the outbox.
        async with maker() as session, session.begin():
            await broadcasts_db.create(session, created_by=STAFF_ID, text_id="Tip: 5S",
                                       text_en=None, audience=Audience(), send_at=clock.now(),
                                       now=clock.now(), staff_ids=frozenset({STAFF_ID}))
        bot = await spawn()
        await sandbox.wait_until(lambda: sum(deliveries(sandbox).values()) >= 80, timeout=60)
        bot.send_signal(signal.SIGKILL)
        await bot.wait()
        await spawn()

        async def all_done() -> bool:
            current = await states()
            return not current.get(OutboxState.PENDING) and not current.get(OutboxState.SENDING)

        # The bot process commits the outcomes: nothing here is told, so the rows are asked.
        await poll_until(all_done, timeout=60, every=0.05, what="the broadcast did not finish")
        final = await states()
    finally:
        for proc in procs:
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
                await asyncio.wait_for(proc.wait(), 30)
        log.close()
        await engine.dispose()
        await server.stop()

    reachable = set(USERS) - BLOCKED
    got = deliveries(sandbox, "Tip")
    assert set(got) == reachable  # nobody missed, the blocked ones skipped
    assert sum(got.values()) - len(reachable) <= IN_FLIGHT  # only what was in flight at the kill
    assert final.get(OutboxState.SENT) == len(reachable)
    assert final.get(OutboxState.SKIPPED) == len(BLOCKED)
    assert sandbox.limit_hits == 0  # never over Telegram's limits
    engine = create_engine(database_url)
    async with create_sessionmaker(engine)() as session:
        blocked = set(await session.scalars(select(User.id).where(
            User.status == UserStatus.BLOCKED)))
    await engine.dispose()
    assert blocked == BLOCKED
