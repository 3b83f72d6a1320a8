"""(a) Pacing: a broadcast to 3,000 users at BROADCAST_RATE=25 through a Bot API that answers
each sendMessage after 150 ms, on the real clock.

    .venv/bin/python -m benchmarks.outbox_pacing                # the full run, about 2 minutes
    .venv/bin/python -m benchmarks.outbox_pacing --users 200    # a smoke run, about 8 seconds

(The 5% check is meant for the full run: on a short one the last answer and the first claim
weigh more.) Diagnosis: --gc-freeze; experiment with the proposed pacing change: --try-pace-fix.

What it checks: the broadcast takes N / rate seconds (within 5%), and no one-second window,
measured where the sandbox receives the requests, ever holds more than `rate` messages.
SQLite in a temporary directory; PTB's real request path (HTTPXRequest) over the sandbox.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import sys
import tempfile
import time

from benchmarks.common import (
    GcWatch,
    Probe,
    RecordingChannel,
    SlowSandboxTransport,
    add_users,
    busiest_clock_second,
    busiest_second,
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
from jobs.outbox import PACE_MARGIN, OutboxSender, SenderConfig
from sandbox import BotApiSandbox


def proposed_pace(sender: OutboxSender, stall: float = 0.005):
    """The sender's own _pace plus one rule: no request within one slot after a long pause.

    What goes wrong today: a full garbage collection stops the event loop for 60-100 ms (here
    it starts where most allocation happens, in SQLAlchemy recording outcomes). If it falls
    during the pacer's sleep, the pacer makes up the missed slot at once (the next slot is
    counted from the planned one, not from the wake-up); if it falls between the pacer letting
    message k go and k's request reaching the server, k arrives late while k+1 keeps its slot.
    Either way two requests arrive within a millisecond and one second holds 26. A sliding-
    window guard on the sender's own timestamps misses the second case (they are taken before
    the pause). The rule: a gc.callbacks hook notes when a pause longer than `stall` ended, and
    the next request waits until one full slot after that. Costs one slot (41 ms at 25/s) per
    long pause, one or two per two-minute run here. Wraps whatever _pace this version has
    (RealClock only: the hook uses time.monotonic)."""
    interval = 1.0 / (sender.config.rate * PACE_MARGIN)
    pauses = {"started": 0.0, "ended": -1e9}

    def on_gc(phase: str, info: dict[str, int]) -> None:
        now = time.monotonic()
        if phase == "start":
            pauses["started"] = now
        elif now - pauses["started"] > stall:
            pauses["ended"] = now

    gc.callbacks.append(on_gc)
    original = sender._pace

    async def _pace():
        result = await original()
        if result is False:  # stopping
            return result
        clock = sender.clock
        wait = pauses["ended"] + interval - clock.monotonic()
        if wait > 0:
            await clock.sleep(wait)
            sender._next_slot = max(sender._next_slot, clock.monotonic() + interval)
        return result

    return _pace


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.outbox_pacing",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=3000, help="recipients (default 3000)")
    parser.add_argument("--rate", type=float, default=25.0,
                        help="SenderConfig.rate, i.e. BROADCAST_RATE (default 25)")
    parser.add_argument("--in-flight", type=int, default=16,
                        help="SenderConfig.in_flight (default 16, the bot's default)")
    parser.add_argument("--latency", type=float, default=0.150,
                        help="seconds before the sandbox answers each sendMessage (default 0.150)")
    parser.add_argument("--gc-freeze", action="store_true",
                        help="diagnosis only: gc.freeze() after setting up, so that no full "
                             "collection (a pause of tens of ms) happens during the run")
    parser.add_argument("--try-pace-fix", action="store_true",
                        help="experiment: wrap the sender's _pace, in this process only, with "
                             "the change proposed in docs/benchmarks.md (one slot of rest after "
                             "a garbage collection pause)")
    parser.add_argument("--tolerance", type=float, default=0.05,
                        help="allowed deviation of the wall time from users / rate (default 0.05)")
    return parser.parse_args(argv)


async def run(url: str, args: argparse.Namespace) -> bool:
    engine = create_engine(url)
    sessionmaker = create_sessionmaker(engine)
    ids = await add_users(sessionmaker, args.users)
    sandbox = BotApiSandbox()
    open_chats(sandbox, ids)
    transport = SlowSandboxTransport(sandbox, delay=args.latency)
    bot = make_bot(sandbox, transport, pool=64)
    probe = Probe()
    probe.patch_queries()
    try:
        async with bot:
            broadcast_id, queued, queue_seconds = await queue_broadcast(sessionmaker)
            channel = RecordingChannel(TelegramChannel(bot), queued)
            config = SenderConfig(rate=args.rate, in_flight=args.in_flight)
            sender = OutboxSender(sessionmaker, channel, clock=RealClock(), config=config)
            if args.try_pace_fix:
                sender._pace = proposed_pace(sender)  # type: ignore[method-assign]
            probe.patch_sender(sender)
            ideal = queued / args.rate
            if args.gc_freeze:
                gc.collect()
                gc.freeze()
            with GcWatch() as gc_watch:
                started = time.monotonic()
                cpu_started = time.process_time()
                sender.start()
                try:
                    await asyncio.wait_for(channel.done.wait(), timeout=ideal * 2 + 60)
                finally:
                    stopping = time.monotonic()
                    await sender.stop()
                    stop_seconds = time.monotonic() - stopping
                # Until the last outcome was committed (sender.stop() is timed on its own).
                wall = (probe.recorded_at or time.monotonic()) - started
                cpu = time.process_time() - cpu_started
        counts = await outbox_counts(sessionmaker, broadcast_id)
    finally:
        probe.restore()
        await engine.dispose()

    arrivals = sorted(transport.arrivals)
    span = arrivals[-1] - arrivals[0]
    gaps = [b - a for a, b in zip(arrivals, arrivals[1:])]
    slot = 1.0 / (args.rate * PACE_MARGIN)
    # How far behind its evenly spaced slot each request arrived (a late claim shows here).
    late = [t - (arrivals[0] + i * slot) for i, t in enumerate(arrivals)]
    window = busiest_second(arrivals)
    bucket = busiest_clock_second(arrivals)
    deviation = (wall - ideal) / ideal

    print(f"# outbox pacing: {queued} recipients, rate {args.rate:g}/s, in_flight "
          f"{args.in_flight}, claim {config.claim_limit()} rows, answers after "
          f"{1000 * args.latency:.0f} ms, SQLite, real clock")
    print(f"# {machine_header()}")
    if args.try_pace_fix:
        print("# EXPERIMENT: OutboxSender._pace wrapped with the proposed change (--try-pace-fix)")
    print(f"queued by db.queries.broadcasts.create: {queued} rows in "
          f"{queue_seconds * 1000:.1f} ms")
    print(f"outcomes in the database:              sent {counts.sent}, pending {counts.pending}, "
          f"skipped {counts.skipped}, failed {counts.failed}")
    print(f"sendMessage requests received:         {len(arrivals)}")
    print(f"wall time, sender start -> all recorded: {wall:.2f} s (ideal {queued} / "
          f"{args.rate:g} = {ideal:.2f} s, {100 * deviation:+.2f}%)")
    print(f"sender.stop() once all was sent:       {stop_seconds:.2f} s")
    print(f"first -> last request at the sandbox:  {span:.2f} s "
          f"({(len(arrivals) - 1) / span:.2f} messages/s)")
    print(f"most requests in any 1 s window:       {window} (sliding); {bucket} "
          f"(whole seconds from the first request)")
    print(f"gap between requests:                  min {1000 * min(gaps):.1f} ms, median "
          f"{1000 * statistics.median(gaps):.1f} ms, max {1000 * max(gaps):.1f} ms "
          f"(slot {1000 * slot:.1f} ms)")
    print(f"behind the even schedule:              max {1000 * max(late):.1f} ms, at the end "
          f"{1000 * late[-1]:.1f} ms")
    print(f"process CPU:                           {cpu:.1f} s ({100 * cpu / wall:.1f}% of one "
          f"core); peak RSS {peak_rss_mb():.0f} MiB")
    print(f"garbage collections during the run:    {gc_watch.summary()}"
          f"{' (after gc.freeze())' if args.gc_freeze else ''}")
    print("where the sender's tasks spent their time (overlapping):")
    print("\n".join(probe.report(wall)))

    ok_time = abs(deviation) <= args.tolerance
    ok_window = window <= args.rate
    ok_all = counts.sent == queued == len(arrivals)
    print(f"CHECK wall time within {100 * args.tolerance:.0f}% of ideal: "
          f"{'PASS' if ok_time else 'FAIL'}")
    print(f"CHECK never more than {args.rate:g} in one second: {'PASS' if ok_window else 'FAIL'}")
    print(f"CHECK every message sent exactly once: {'PASS' if ok_all else 'FAIL'}")
    return ok_time and ok_window and ok_all


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="outbox-pacing-") as tmp:
        url = prepare_database("sqlite", tmp)
        ok = asyncio.run(run(url, args))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
