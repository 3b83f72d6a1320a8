"""How long a user waits for an answer, with and without a broadcast going out, through the
sandbox in strict mode (Telegram's flood limits: about 30 messages a second in all, short
bursts to one chat; beyond them a 429).

    .venv/bin/python -m benchmarks.reply_latency            # about 40 seconds

60 users (`--users`) each send /help at random moments over 12 seconds (about 5 a second in
all), once with the outbox idle and once while a broadcast to 1,000 users leaves at
BROADCAST_RATE (25 a second). The latency of one question is the time from the user's message
entering the sandbox to the bot's answer arriving there. Reported: median and 95th percentile
in each case, the 429s the sandbox had to answer (0 means the shared budget kept everything
under the limits), and how many broadcast messages left while the users were asking.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from functools import partial

from benchmarks.common import (
    add_users,
    machine_header,
    open_chats,
    peak_rss_mb,
    prepare_database,
    queue_broadcast,
)
from bot.app import ALLOWED_UPDATES, build_application
from chat.clock import RealClock
from chat.context import services_of
from chat.i18n import load_catalogs
from config.settings import Settings
from sandbox import BotApiSandbox, SandboxBot

ASKERS_FROM = 300_000_000


async def _ask(sandbox: BotApiSandbox, user_id: int, delay: float,
               latencies: list[float]) -> None:
    await asyncio.sleep(delay)
    before = len(sandbox.texts(user_id))
    sent = time.monotonic()
    sandbox.send_text(user_id, "/help")
    while len(sandbox.texts(user_id)) == before:
        await asyncio.sleep(0.002)
    latencies.append(time.monotonic() - sent)


async def _round(url: str, *, users: int, seconds: float, broadcast: int,
                 seed: int) -> tuple[list[float], int, int]:
    sandbox = BotApiSandbox()
    sandbox.strict_limits = True
    settings = Settings(database_url=url, bot_token=None, staff_ids=frozenset())
    bot = SandboxBot(sandbox, partial(build_application, settings, clock=RealClock()),
                     allowed_updates=ALLOWED_UPDATES)
    await bot.start()
    assert bot.app is not None
    sessions = services_of(bot.app).sessionmaker
    try:
        if broadcast:
            ids = await add_users(sessions, broadcast)
            open_chats(sandbox, ids)
            await queue_broadcast(sessions)
            services_of(bot.app).wake_sender()
            await asyncio.sleep(2)  # the broadcast is in full flow before anyone asks
        askers = list(range(ASKERS_FROM, ASKERS_FROM + users))
        for user_id in askers:
            sandbox.add_user(user_id, f"User {user_id}", language_code="en")
        rng = random.Random(seed)
        latencies: list[float] = []
        sent_before = len(sandbox.calls_of("sendMessage"))
        await asyncio.gather(*(_ask(sandbox, u, rng.uniform(0, seconds), latencies)
                               for u in askers))
        during = len(sandbox.calls_of("sendMessage")) - sent_before - users
        return latencies, sandbox.limit_hits, max(0, during)
    finally:
        await bot.stop()


def _line(name: str, latencies: list[float], hits: int, during: int, seconds: float) -> str:
    ordered = sorted(latencies)
    p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
    return (f"{name:<22} median {statistics.median(ordered) * 1000:6.0f} ms   "
            f"p95 {p95 * 1000:6.0f} ms   max {ordered[-1] * 1000:6.0f} ms   "
            f"429s {hits}   broadcast messages meanwhile {during} "
            f"({during / seconds:.1f}/s)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=60)
    parser.add_argument("--seconds", type=float, default=12.0)
    parser.add_argument("--recipients", type=int, default=1000)
    args = parser.parse_args(argv)
    load_catalogs()
    print(machine_header())
    with tempfile.TemporaryDirectory() as tmp:
        results = []
        for name, recipients in (("no broadcast", 0), ("during a broadcast", args.recipients)):
            url = prepare_database("sqlite", tempfile.mkdtemp(dir=tmp))
            latencies, hits, during = asyncio.run(_round(
                url, users=args.users, seconds=args.seconds, broadcast=recipients, seed=7))
            results.append(_line(name, latencies, hits, during, args.seconds))
    for line in results:
        print(line)
    print(f"peak memory {peak_rss_mb():.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
