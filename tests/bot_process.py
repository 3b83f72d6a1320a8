"""`score-bot run` as a real process against a Bot API server over HTTP (the sandbox's
SandboxServer): starting, stopping and killing it, and waiting for what it sends."""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from chat.clock import RealClock
from db.models import UserDraft
from db.session import create_engine
from sandbox import BotApiSandbox, SandboxServer
from tests.clocks import CLOCK_START
from tests.conftest import STAFF_ID
from tests.waiting import poll_until

ROOT = Path(__file__).resolve().parent.parent


def process_clock(start: datetime = CLOCK_START) -> RealClock:
    """The clock of the `score-bot` processes a test starts: it reads `start` now and runs on
    in real time (the processes wait for real seconds)."""
    return RealClock(start)


def now_option(clock: RealClock) -> list[str]:
    """`--now` for a process started now: where the test's process clock has got to."""
    return ["--now", clock.now().isoformat()]


class BotProcess:
    def __init__(self, server: SandboxServer, database_url: str, tmp: Path):
        self.server, self.database_url, self.tmp = server, database_url, tmp
        self.proc: asyncio.subprocess.Process | None = None
        self.log = (tmp / "bot.log").open("ab")
        self.extra_env: dict[str, str] = {}
        # The process runs on this clock (`score-bot run --now`), not on the calendar of the
        # day the suite runs; a restart goes on from where the killed one had got to.
        self.clock = process_clock()

    async def start(self) -> None:
        env = {**os.environ, "BOT_TOKEN": self.server.sandbox.token,
               "TELEGRAM_API_BASE_URL": self.server.url, "DATABASE_URL": self.database_url,
               "STAFF_IDS": str(STAFF_ID), "LOG_LEVEL": "INFO", "PYTHONPATH": str(ROOT),
               **self.extra_env}
        if self.log.closed:
            self.log = (self.tmp / "bot.log").open("ab")
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "run", *now_option(self.clock), cwd=self.tmp,
            env=env, stdout=self.log, stderr=self.log)

    async def stop(self, sig: int) -> int:
        assert self.proc is not None
        self.proc.send_signal(sig)
        code = await asyncio.wait_for(self.proc.wait(), 30)
        self.log.close()
        return code

    async def close(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()
        if not self.log.closed:
            self.log.close()

    async def wait_committed(self, state: str, timeout: float = 30) -> None:
        """Until the conversation state the user reached is in the database."""
        engine = create_engine(self.database_url)

        async def committed() -> bool:
            async with engine.connect() as conn:
                drafts = (await conn.execute(select(UserDraft.data))).scalars()
                return state in [(d or {}).get("flow", {}).get("step") for d in drafts]

        try:
            # The bot process commits it: nothing here can be told, so the database is asked.
            await poll_until(committed, timeout=timeout, every=0.05,
                             what=f"state {state!r} was never committed")
        finally:
            await engine.dispose()


async def wait_for(sandbox: BotApiSandbox, chat_id: int, needle: str,
                   timeout: float = 30) -> str:
    """Until the bot's last message in the chat contains `needle`; that message."""
    def last_has_it() -> str | None:
        texts = sandbox.texts(chat_id)
        return texts[-1] if texts and needle in texts[-1] else None

    try:
        return await sandbox.wait_until(last_has_it, timeout)
    except TimeoutError:
        raise AssertionError(f"no {needle!r} in {sandbox.texts(chat_id)[-3:]}") from None
