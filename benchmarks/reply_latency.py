"""How long a user waits for an answer, with and without a broadcast going out, through the
sandbox in strict mode (Telegram's flood limits: about 30 messages a second in all, short
bursts to one chat; beyond them a 429).

    .venv/bin/python -m benchmarks.reply_latency            # about 40 seconds
    .venv/bin/python -m benchmarks.reply_latency --case typing   # about 30 seconds
    .venv/bin/python -m benchmarks.reply_latency --case typing --server   # over HTTP

`--case typing` (issue 19): 50 users (`--typists`) at the language question type a message
instead of pressing a button, 25 a second in all (`--rate`) for 10 seconds; each gets the
question again with a note. The bot and the floor bot (`benchmarks/floor.py`'s
floor-read-write: a bare python-telegram-bot bot that reads the user's row and commits an
INSERT before replying with a question and its buttons) run the same script in the same run,
each on its own strict sandbox. Reported: p50 and p95 of both and their ratio (target: the
bot's p95 within twice the floor's), and how many messages each sent per typed one.

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
import os
import random
import statistics
import sys
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Any

from telegram.ext import ApplicationBuilder, MessageHandler, filters

from benchmarks.common import (
    add_users,
    machine_header,
    open_chats,
    peak_rss_mb,
    prepare_database,
    queue_broadcast,
)
from benchmarks.conversation import Step
from benchmarks.floor import FloorBot
from bot.app import ALLOWED_UPDATES, build_application
from chat.clock import RealClock
from chat.context import services_of
from chat.i18n import load_catalogs
from config.settings import Settings
from sandbox import BotApiSandbox, SandboxBot
from sandbox.server import SandboxServer

ASKERS_FROM = 300_000_000
TYPISTS_FROM = 310_000_000
ROOT = Path(__file__).resolve().parents[1]


async def _ask(sandbox: BotApiSandbox, user_id: int, delay: float,
               latencies: list[float]) -> None:
    await asyncio.sleep(delay)
    before = len(sandbox.texts(user_id))
    sent = time.monotonic()
    sandbox.send_text(user_id, "/help")
    await sandbox.wait_until(lambda: len(sandbox.texts(user_id)) > before, timeout=60)
    latencies.append(time.monotonic() - sent)


async def _started_bot(url: str) -> tuple[BotApiSandbox, SandboxBot]:
    """The bot on its own sandbox in strict mode (Telegram's flood limits), started."""
    sandbox = BotApiSandbox()
    sandbox.strict_limits = True
    settings = Settings(database_url=url, bot_token=None, staff_ids=frozenset())
    bot = SandboxBot(sandbox, partial(build_application, settings, clock=RealClock()),
                     allowed_updates=ALLOWED_UPDATES)
    await bot.start()
    return sandbox, bot


async def _round(url: str, *, users: int, seconds: float, broadcast: int,
                 seed: int) -> tuple[list[float], int, int]:
    sandbox, bot = await _started_bot(url)
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


async def _type(sandbox: BotApiSandbox, user_id: int, at: float, start: float,
                latencies: list[float]) -> None:
    """At `start + at`, type a word where a button is expected; the time until a new bot
    message arrives in the chat."""
    await asyncio.sleep(max(0.0, start + at - time.monotonic()))
    before = len(sandbox.messages(user_id))
    sent = time.monotonic()
    sandbox.send_text(user_id, "halo")
    await sandbox.wait_until(lambda: len(sandbox.messages(user_id)) > before, timeout=60)
    latencies.append(time.monotonic() - sent)


def _schedule(typists: list[int], rate: float, seconds: float) -> list[tuple[int, float]]:
    """Who types when: `rate` messages a second in all, the users in turn."""
    return [(typists[i % len(typists)], i / rate) for i in range(int(rate * seconds))]


async def _typing_bot(url: str, *, typists: int, rate: float, seconds: float
                      ) -> tuple[list[float], int, float]:
    """The bot: each typist opens first contact (/start: the language question, with its
    buttons), then types at it."""
    sandbox, bot = await _started_bot(url)
    try:
        users = list(range(TYPISTS_FROM, TYPISTS_FROM + typists))
        for user_id in users:
            sandbox.add_user(user_id, f"User {user_id}", language_code="id")
            sandbox.send_text(user_id, "/start")
        await sandbox.wait_until(lambda: all(sandbox.messages(u) for u in users), timeout=60)
        return await _drive(sandbox, users, rate=rate, seconds=seconds)
    finally:
        await bot.stop()


async def _typing_floor(url: str, *, typists: int, rate: float, seconds: float
                        ) -> tuple[list[float], int, float]:
    """The floor bot, answering every message with a question and its buttons."""
    sandbox = BotApiSandbox()
    sandbox.strict_limits = True
    return await _floor_typing(sandbox, sandbox.application_builder(), url, typists=typists,
                               rate=rate, seconds=seconds)


async def _floor_typing(sandbox: BotApiSandbox, builder: ApplicationBuilder[Any, Any, Any, Any,
                                                                           Any, Any],
                        url: str, *, typists: int, rate: float, seconds: float
                        ) -> tuple[list[float], int, float]:
    """The typing script against the floor bot, built by `builder` (in process, or over
    HTTP)."""
    floor = FloorBot("floor-read-write", url, [Step("press", "")] * 10_000)
    await floor.setup()
    app = builder.concurrent_updates(True).build()
    app.add_handler(MessageHandler(filters.TEXT, floor.on_text))
    await app.initialize()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=1, allowed_updates=ALLOWED_UPDATES)
    await app.start()
    try:
        users = list(range(TYPISTS_FROM, TYPISTS_FROM + typists))
        for user_id in users:
            sandbox.open_chat(user_id, f"User {user_id}", language_code="id")
        return await _drive(sandbox, users, rate=rate, seconds=seconds)
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
        await floor.close()


async def _typing_over_http(url: str, *, typists: int, rate: float, seconds: float,
                            who: str) -> tuple[list[float], int, float]:
    """The same through a Bot API server over HTTP (the sandbox's, strict): the bot as its
    own `score-bot run` process, the floor bot as a PTB application talking HTTP to it."""
    sandbox = BotApiSandbox()
    sandbox.strict_limits = True
    server = SandboxServer(sandbox)
    await server.start()
    users = list(range(TYPISTS_FROM, TYPISTS_FROM + typists))
    try:
        if who == "bot":
            env = {**os.environ, "BOT_TOKEN": sandbox.token, "TELEGRAM_API_BASE_URL": server.url,
                   "DATABASE_URL": url, "STAFF_IDS": "", "LOG_LEVEL": "WARNING",
                   # This checkout's code, whatever the virtualenv has installed.
                   "PYTHONPATH": str(ROOT)}
            with tempfile.TemporaryDirectory() as cwd:
                proc = await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "bot.cli", "run", cwd=cwd, env=env,
                    stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
                try:
                    for user_id in users:
                        sandbox.add_user(user_id, f"User {user_id}", language_code="id")
                        sandbox.send_text(user_id, "/start")
                    await sandbox.wait_until(lambda: all(sandbox.messages(u) for u in users),
                                             timeout=120)
                    return await _drive(sandbox, users, rate=rate, seconds=seconds)
                finally:
                    proc.terminate()
                    await proc.wait()
        return await _floor_typing(
            sandbox, ApplicationBuilder().token(sandbox.token).base_url(f"{server.url}/bot"),
            url, typists=typists, rate=rate, seconds=seconds)
    finally:
        await server.stop()


async def _drive(sandbox: BotApiSandbox, users: list[int], *, rate: float, seconds: float
                 ) -> tuple[list[float], int, float]:
    """The typing script; the latencies, the 429s and the messages sent per typed one."""
    hits_before = sandbox.limit_hits
    sent_before = sum(len(sandbox.messages(u)) for u in users)
    latencies: list[float] = []
    start = time.monotonic() + 0.5
    plan = _schedule(users, rate, seconds)
    await asyncio.gather(*(_type(sandbox, user, at, start, latencies) for user, at in plan))
    await asyncio.sleep(0.5)  # anything more a typed message caused arrives too
    sent = sum(len(sandbox.messages(u)) for u in users) - sent_before
    return latencies, sandbox.limit_hits - hits_before, sent / len(plan)


def _percentiles(latencies: list[float]) -> tuple[float, float]:
    ordered = sorted(latencies)
    return statistics.median(ordered), ordered[max(0, round(0.95 * len(ordered)) - 1)]


def _typing(args: argparse.Namespace, tmp: str) -> list[str]:
    lines, p95s = [], {}
    for name, run in (("floor-read-write", _typing_floor), ("bot", _typing_bot)):
        url = prepare_database("sqlite", tempfile.mkdtemp(dir=tmp))
        if args.server:
            run = partial(_typing_over_http, who=name)
        latencies, hits, per_message = asyncio.run(run(
            url, typists=args.typists, rate=args.rate, seconds=args.seconds))
        p50, p95 = _percentiles(latencies)
        p95s[name] = p95
        where = " over HTTP" if args.server else ""
        lines.append(f"typing at a button question{where}, {name:<17} p50 {p50 * 1000:6.0f} ms   "
                     f"p95 {p95 * 1000:6.0f} ms   max {max(latencies) * 1000:6.0f} ms   "
                     f"429s {hits}   messages per typed one {per_message:.2f}")
    ratio = p95s["bot"] / p95s["floor-read-write"]
    lines.append(f"p95 bot / floor: {ratio:.2f} (target: 2 or less)")
    return lines


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
    parser.add_argument("--case", choices=("asking", "typing"), default="asking",
                        help="asking: /help with and without a broadcast (the default); "
                             "typing: text where a button is expected, against the floor")
    parser.add_argument("--typists", type=int, default=50)
    parser.add_argument("--rate", type=float, default=25.0)
    parser.add_argument("--server", action="store_true",
                        help="typing: through a Bot API server over HTTP, the bot as its own "
                             "`score-bot run` process")
    args = parser.parse_args(argv)
    load_catalogs()
    print(machine_header())
    if args.case == "typing":
        if "--seconds" not in (argv or sys.argv):
            args.seconds = 10.0
        with tempfile.TemporaryDirectory() as tmp:
            for line in _typing(args, tmp):
                print(line)
        print(f"peak memory {peak_rss_mb():.0f} MiB")
        return 0
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
