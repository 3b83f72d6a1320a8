"""(b) Capacity: queue a broadcast to 30,000 users, then deliver it as fast as the outbox can.

    .venv/bin/python -m benchmarks.outbox_capacity --db sqlite
    .venv/bin/python -m benchmarks.outbox_capacity --db postgres    # database `bench`
    .venv/bin/python -m benchmarks.outbox_capacity --users 2000     # a smoke run

Steps: create the users in bulk (consented, active), time
`db.queries.broadcasts.create(send_at=now)` (one INSERT ... SELECT, commit included), then
deliver the broadcast with the rate limit lifted (rate=1,000,000) and no latency, for each
in_flight x claim_size asked for, through
  * `null`: a Channel that returns Outcome.sent at once: what the outbox itself costs;
  * `sandbox`: TelegramChannel over PTB's Bot and the Bot API sandbox: outbox + PTB + emulator.
Between runs the outbox is emptied and the broadcast queued again. Messages per second are
counted from the first send to the last (the moment each channel.send starts). Finally the
emulator's own cost per sendMessage is measured with direct `bot.send_message` calls.

PostgreSQL: the database `bench` on 127.0.0.1 (or BENCH_DATABASE_URL); its public schema is
dropped and recreated. Never the database `test`, which the test suite truncates.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import text

from benchmarks.common import (
    TEXT_ID,
    GcWatch,
    NullChannel,
    Probe,
    RecordingChannel,
    SlowSandboxTransport,
    add_users,
    analyze,
    clear_outbox,
    machine_header,
    make_bot,
    open_chats,
    outbox_counts,
    peak_rss_mb,
    prepare_database,
    queue_broadcast,
)
from bot.telegram_channel import TelegramChannel
from chat.clock import RealClock
from db.session import create_engine, create_sessionmaker
from jobs.outbox import OutboxSender, SenderConfig
from sandbox import BotApiSandbox

UNLIMITED_RATE = 1_000_000.0


def _ints(value: str) -> list[int]:
    return [int(v) for v in value.split(",") if v.strip()]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.outbox_capacity",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--users", type=int, default=30_000, help="recipients (default 30000)")
    parser.add_argument("--channels", default="null,sandbox",
                        help="comma-separated: null, sandbox (default both)")
    parser.add_argument("--in-flight", type=_ints, default=[16, 64, 256],
                        help="SenderConfig.in_flight values (default 16,64,256)")
    parser.add_argument("--claim-size", type=_ints, default=[0, 5000],
                        help="SenderConfig.claim_size values; 0 is the default, about four "
                             "seconds of sending, at most 1000 rows (default 0,5000)")
    parser.add_argument("--sandbox-calls", type=int, default=5000,
                        help="direct bot.send_message calls to time the emulator (default 5000)")
    parser.add_argument("--profile", metavar="CHANNEL:IN_FLIGHT:CLAIM",
                        help="also run this one delivery under cProfile, e.g. null:64:0, and "
                             "print where the event loop's time goes")
    return parser.parse_args(argv)


# --- where the CPU time goes ---------------------------------------------------------------------


def postgres_cpu_seconds() -> float:
    """CPU used so far by all PostgreSQL server processes on this machine (from /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        if name.startswith("postgres"):
            fields = stat[stat.rindex(")") + 2:].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


AREAS = (
    ("/sandbox/", "sandbox (Bot API emulator)"),
    ("benchmarks/", "benchmark harness"),
    ("jobs/", "jobs/outbox.py (sender)"),
    ("db/", "db/ (queries, types)"),
    ("/telegram/", "python-telegram-bot"),
    ("/httpx/", "httpx"),
    ("/httpcore/", "httpx"),
    ("/sqlalchemy/", "SQLAlchemy"),
    ("/asyncpg/", "asyncpg driver"),
    ("/aiosqlite/", "aiosqlite driver"),
    ("/greenlet/", "SQLAlchemy"),
    ("/asyncio/", "asyncio event loop"),
    ("/json/", "json"),
    ("/copy.py", "copy (deepcopy)"),
    ("/dataclasses.py", "dataclasses"),
    ("/enum.py", "enum"),
    ("/re/", "re"),
    ("/urllib/", "urllib"),
)


# Cumulative time is only trusted for paths without SQLAlchemy's greenlet switches: cProfile
# keeps one stack per thread, so a switch leaves frames on it and whatever runs meanwhile is
# counted under them (db.queries.outbox.record would show more time than the whole run spent
# in SQL).
SPLIT = (
    (("bot/telegram_channel.py", "send"), "TelegramChannel.send (PTB + httpx + emulator)"),
    (("/sandbox/transport.py", "_handle"), "  of which BotApiSandbox._handle (the emulator)"),
    (("telegram/_message.py", "de_json"), "  of which Message.de_json (PTB parsing the answer)"),
)
OUTBOX_AREAS = ("jobs/outbox.py (sender)", "db/ (queries, types)", "SQLAlchemy",
                "asyncpg driver", "aiosqlite driver")


def _area(filename: str) -> str:
    for needle, area in AREAS:
        if needle in filename:
            return area
    if filename.startswith("~") or filename == "":
        return "builtins (C)"
    return "other"


def print_profile(profile: cProfile.Profile, wall: float, top: int = 25) -> None:
    stats = pstats.Stats(profile)
    by_area: defaultdict[str, float] = defaultdict(float)
    total = 0.0
    rows = []
    for (filename, line, name), (_cc, ncalls, tottime, cumtime, _callers) in \
            stats.stats.items():  # type: ignore[attr-defined]
        area = _area(filename)
        if area == "builtins (C)" and "select.epoll" in name:
            area = "idle: waiting in epoll"
        by_area[area] += tottime
        total += tottime
        rows.append((tottime, ncalls, cumtime, f"{_short(filename)}:{line} {name}"))
    print(f"  profiled time on the event loop thread: {total:.2f} s of {wall:.2f} s wall "
          "(self time, by area; cProfile slows Python code down, compare shares, not seconds)")
    for area, seconds in sorted(by_area.items(), key=lambda kv: -kv[1]):
        print(f"    {area:32} {seconds:7.2f} s {100 * seconds / total:5.1f}%")
    # Entry points, cumulative (for a coroutine: while it runs, not while it waits).
    print("  split (% of profiled time):")
    for needle, label in SPLIT:
        cum = sum(v[3] for (f, _l, n), v in stats.stats.items()  # type: ignore[attr-defined]
                  if f.endswith(needle[0]) and n == needle[1])
        if cum:
            print(f"    {label:58} {cum:7.2f} s {100 * cum / total:5.1f}%")
    own = sum(by_area.get(area, 0.0) for area in OUTBOX_AREAS)
    print(f"    {'the outbox: jobs/, db/, SQLAlchemy, driver (self time)':58} {own:7.2f} s "
          f"{100 * own / total:5.1f}%")
    print(f"  top {top} functions by self time:")
    for tottime, ncalls, cumtime, where in sorted(rows, reverse=True)[:top]:
        print(f"    {tottime:6.2f} s self {cumtime:7.2f} s cum {ncalls:8d} calls  {where}")


def _short(filename: str) -> str:
    for marker in ("site-packages/", "/lib/python3.11/", "/work/main/"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


# --- one delivery --------------------------------------------------------------------------------


@dataclass
class Run:
    channel: str
    in_flight: int
    claim_size: int
    claim_rows: int
    queued: int
    queue_seconds: float
    sent: int = 0
    wall: float = 0.0  # sender start -> the last outcome committed
    stop_seconds: float = 0.0  # how long sender.stop() took once everything was sent
    span: float = 0.0  # first send -> last send
    loop_cpu: float = 0.0
    process_cpu: float = 0.0
    server_cpu: float = 0.0
    gc: str = ""
    complete: bool = False
    probe_lines: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return (self.sent - 1) / self.span if self.span > 0 else 0.0

    @property
    def overall(self) -> float:
        return self.sent / self.wall if self.wall > 0 else 0.0


async def deliver(sessionmaker, kind: str, channel_kind: str, in_flight: int,
                  claim_size: int, ids: list[int], *, broadcast: tuple[int, int, float],
                  profile: cProfile.Profile | None = None) -> Run:
    broadcast_id, queued, queue_seconds = broadcast
    config = SenderConfig(rate=UNLIMITED_RATE, in_flight=in_flight, claim_size=claim_size)
    run = Run(channel_kind, in_flight, claim_size, config.claim_limit(), queued, queue_seconds)
    bot = None
    if channel_kind == "null":
        inner = NullChannel()
    elif channel_kind == "sandbox":
        sandbox = BotApiSandbox()
        open_chats(sandbox, ids)
        bot = make_bot(sandbox, SlowSandboxTransport(sandbox), pool=max(64, in_flight))
        await bot.initialize()
        inner = TelegramChannel(bot)
    else:
        raise SystemExit(f"unknown channel {channel_kind!r}")
    channel = RecordingChannel(inner, queued)
    sender = OutboxSender(sessionmaker, channel, clock=RealClock(), config=config,
                          skip_locked=kind == "postgres")
    probe = Probe()
    probe.patch_queries()
    probe.patch_sender(sender)
    timeout = max(120.0, queued / 100)
    try:
        with GcWatch() as gc_watch:
            server_started = postgres_cpu_seconds() if kind == "postgres" else 0.0
            started, loop_started, cpu_started = (time.monotonic(), time.thread_time(),
                                                  time.process_time())
            if profile is not None:
                profile.enable()
            sender.start()
            try:
                await asyncio.wait_for(channel.done.wait(), timeout=timeout)
                run.complete = True
            except TimeoutError:
                print(f"  !! {channel_kind} in_flight={in_flight} claim={claim_size}: "
                      f"only {len(channel.times)} of {queued} sent after {timeout:.0f} s")
            finally:
                stopping = time.monotonic()
                await sender.stop()
                run.stop_seconds = time.monotonic() - stopping
                if profile is not None:
                    profile.disable()
            run.wall = (probe.recorded_at or time.monotonic()) - started
            loop_cpu, process_cpu = probe.recorded_cpu if probe.recorded_at else (
                time.thread_time(), time.process_time())
            run.loop_cpu = loop_cpu - loop_started
            run.process_cpu = process_cpu - cpu_started
            if kind == "postgres":
                run.server_cpu = postgres_cpu_seconds() - server_started
        run.gc = gc_watch.summary()
    finally:
        probe.restore()
        if bot is not None:
            await bot.shutdown()
    counts = await outbox_counts(sessionmaker, broadcast_id)
    run.sent = counts.sent
    if counts.sent != queued:
        run.complete = False
        print(f"  !! outcomes: sent {counts.sent}, pending {counts.pending}, skipped "
              f"{counts.skipped}, failed {counts.failed} ({counts.failed_by_reason})")
    times = channel.times
    run.span = times[-1] - times[0] if len(times) > 1 else 0.0
    run.probe_lines = probe.report(run.wall)
    return run


async def sandbox_cost(ids: list[int], calls: int) -> tuple[float, float, float]:
    """Direct, sequential bot.send_message calls: (seconds per call, of which the sandbox's
    handler, peak RSS after)."""
    sandbox = BotApiSandbox()
    chats = ids[:calls]
    open_chats(sandbox, chats)
    transport = SlowSandboxTransport(sandbox, time_handler=True)
    bot = make_bot(sandbox, transport)
    async with bot:
        started = time.perf_counter()
        for chat in chats:
            await bot.send_message(chat, TEXT_ID, parse_mode="HTML")
        seconds = time.perf_counter() - started
    return seconds / len(chats), transport.handler_seconds / max(transport.handled, 1), \
        peak_rss_mb()


# --- the whole benchmark -------------------------------------------------------------------------


async def run_all(url: str, args: argparse.Namespace) -> int:
    kind = args.db
    engine = create_engine(url)
    sessionmaker = create_sessionmaker(engine)
    server = "SQLite"
    if kind == "postgres":
        async with engine.connect() as conn:
            server = (await conn.scalar(text("select version()"))).split(" on ")[0]
    print(f"# outbox capacity: {args.users} users, {server}")
    print(f"# {machine_header()}")

    started = time.perf_counter()
    ids = await add_users(sessionmaker, args.users)
    await analyze(sessionmaker, kind)
    print(f"users created in bulk:        {args.users} in {time.perf_counter() - started:.2f} s")
    broadcast = await queue_broadcast(sessionmaker)
    print(f"queue the broadcast (db.queries.broadcasts.create, INSERT ... SELECT, commit): "
          f"{broadcast[1]} rows in {1000 * broadcast[2]:.0f} ms "
          f"({broadcast[1] / broadcast[2]:,.0f} rows/s)")
    print(f"peak RSS after queuing:       {peak_rss_mb():.0f} MiB")
    sys.stdout.flush()

    per_call, handler, rss_direct, direct_gc = (0.0, 0.0, 0.0, "")
    if args.sandbox_calls:
        with GcWatch() as gc_watch:
            per_call, handler, rss_direct = await sandbox_cost(
                ids, min(args.sandbox_calls, len(ids)))
        direct_gc = gc_watch.summary()
        print(f"emulator alone: {1e6 * per_call:.0f} µs per direct bot.send_message")

    channels = [c.strip() for c in args.channels.split(",") if c.strip()]
    plan = [(c, f, s) for c in channels for f in args.in_flight for s in args.claim_size]
    runs: list[Run] = []
    rss_after: dict[str, float] = {}
    first = True
    failures = 0
    for channel_kind, in_flight, claim_size in plan:
        if not first:
            await clear_outbox(sessionmaker, kind)
            broadcast = await queue_broadcast(sessionmaker)
        first = False
        run = await deliver(sessionmaker, kind, channel_kind, in_flight, claim_size, ids,
                            broadcast=broadcast)
        runs.append(run)
        failures += not run.complete
        rss_after[channel_kind] = peak_rss_mb()
        print(f"  {channel_kind:8} in_flight {in_flight:4} claim {run.claim_rows:5}: "
              f"{run.rate:7.0f} msg/s first->last, {run.overall:7.0f} msg/s start->recorded, "
              f"event loop CPU {100 * run.loop_cpu / run.wall:3.0f}%"
              f"{'' if run.complete else '  INCOMPLETE'}")
        sys.stdout.flush()

    if args.profile:
        channel_kind, in_flight, claim_size = args.profile.split(":")
        await clear_outbox(sessionmaker, kind)
        broadcast = await queue_broadcast(sessionmaker)
        profile = cProfile.Profile()
        run = await deliver(sessionmaker, kind, channel_kind, int(in_flight), int(claim_size),
                            ids, broadcast=broadcast, profile=profile)
        print(f"\n## cProfile of {channel_kind} in_flight {in_flight} claim {run.claim_rows}: "
              f"{run.rate:.0f} msg/s under the profiler")
        print_profile(profile, run.wall)

    await engine.dispose()

    queue_times = [r.queue_seconds for r in runs] or [broadcast[2]]
    print(f"\n## results ({kind}, {args.users} users)")
    print(f"queue time, db.queries.broadcasts.create: first {1000 * queue_times[0]:.0f} ms; over "
          f"{len(queue_times)} runs median {1000 * statistics.median(queue_times):.0f} ms, "
          f"min {1000 * min(queue_times):.0f}, max {1000 * max(queue_times):.0f}")
    server_col = kind == "postgres"
    print("| channel | in_flight | claim rows | msg/s first→last send | msg/s start→all recorded "
          "| event-loop CPU | process CPU |" + (" PostgreSQL CPU |" if server_col else "")
          + " sender.stop() |")
    print("|---|---:|---:|---:|---:|---:|---:|" + ("---:|" if server_col else "") + "---:|")
    for r in runs:
        print(f"| {r.channel} | {r.in_flight} | {r.claim_rows} | {r.rate:,.0f} | "
              f"{r.overall:,.0f} | {100 * r.loop_cpu / r.wall:.0f}% | "
              f"{100 * r.process_cpu / r.wall:.0f}% |"
              + (f" {100 * r.server_cpu / r.wall:.0f}% |" if server_col else "")
              + f" {r.stop_seconds:.2f} s |" + ("" if r.complete else " INCOMPLETE"))
    if args.sandbox_calls:
        print(f"emulator cost ({min(args.sandbox_calls, len(ids))} sequential calls, before "
              f"the runs): {1e6 * per_call:.0f} µs per direct bot.send_message "
              f"(= {1 / per_call:,.0f}/s at most on one core), of which the sandbox's handler "
              f"{1e6 * handler:.0f} µs and PTB + httpx {1e6 * (per_call - handler):.0f} µs; "
              f"gc: {direct_gc}")
    print("peak RSS (ru_maxrss, whole process so far): "
          + (f"after direct sandbox calls {rss_direct:.0f} MiB, " if args.sandbox_calls else "")
          + ", ".join(f"after {k} runs {v:.0f} MiB" for k, v in rss_after.items()))
    for channel_kind in channels:
        best = max((r for r in runs if r.channel == channel_kind), key=lambda r: r.rate,
                   default=None)
        if best is None:
            continue
        print(f"\n### where the sender's tasks spent their time, best {channel_kind} run "
              f"(in_flight {best.in_flight}, claim {best.claim_rows}, {best.rate:,.0f} msg/s, "
              f"{best.wall:.2f} s); gc: {best.gc}")
        print("\n".join(best.probe_lines))
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="outbox-capacity-") as tmp:
        url = prepare_database(args.db, tmp)
        return asyncio.run(run_all(url, args))


if __name__ == "__main__":
    sys.exit(main())
