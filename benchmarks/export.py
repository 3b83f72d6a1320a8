"""The staff export of a large programme: how long it takes, how much memory it needs, and
how long the bot takes to answer meanwhile (issue 16; docs/decisions/0012-export.md).

    .venv/bin/python -m benchmarks.export        # about three minutes, most of it seeding

The world (SQLite, seeded in bulk, not through the bot): 1,000 approved enterprises with an
owner and 30 workers each; six closed monthly rounds of both surveys, each pulse round
answered by 25,700 workers (six answers each) and each KPI round by every enterprise (16
answers each): 1,021,200 survey answers in all (925,200 pulse, 96,000 KPI).

1. `score-bot export --out export.xlsx`, and the export as `/export` runs it (a fresh
   process that imports only `services.export`): wall and CPU time, peak resident memory
   (ru_maxrss: everything included, the interpreter, SQLAlchemy, SQLite, the rows in
   flight) and, in another run (tracing slows it down), Python's own peak allocations.
2. The bot: 60 users each send /help at random moments over 12 seconds, once with nothing
   else going on and once while a staff member's /export is being made (the workbook built
   in a process of its own, then queued through the outbox). Reported: median and 95th
   percentile of both; target: the p95 during the export within twice the p95 without.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path

from benchmarks.common import machine_header, prepare_database, utcnow
from benchmarks.survey_world import seed_enterprises
from bot.app import ALLOWED_UPDATES, build_application
from chat.clock import RealClock
from chat.i18n import load_catalogs
from config.settings import Settings
from db.session import create_engine, create_sessionmaker
from sandbox import BotApiSandbox, SandboxBot

ENTERPRISES = 1000
WORKERS_EACH = 30
MONTHS = 6
PULSE_EACH_MONTH = 25_700
PULSE = {"supervisor_listens": ("never", "rarely", "sometimes", "often", "always"),
         "feel_safe": ("very_unsafe", "unsafe", "fairly_safe", "safe", "very_safe"),
         "ppe_available": ("always", "sometimes", "no", "not_needed"),
         "made_suggestion": ("yes", "no"),
         "suggestion_followed": ("implemented", "not_yet", "no", "dont_know"),
         "saw_incident": ("yes", "no")}
KPI = ("headcount", "women", "workdays", "days_absent", "hours_worked", "left_resigned",
       "left_contract_ended", "left_dismissed", "units_produced", "units_rejected",
       "customer_claims", "lost_time_accidents", "accident_days_lost", "fatal_accidents",
       "suggestions_implemented", "electricity_kwh")
STAFF = 9001
ASKERS_FROM = 300_000_000
ROOT = Path(__file__).resolve().parents[1]


def _stamp(moment: datetime) -> str:
    """A time as UTCDateTime stores it on SQLite."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _months(now: datetime) -> list[date]:
    first = now.date().replace(day=1)
    months = []
    for _ in range(MONTHS):
        first = (first - timedelta(days=1)).replace(day=1)
        months.append(first)
    return sorted(months)


async def _seed_people(url: str) -> dict[int, list[int]]:
    engine = create_engine(url)
    try:
        world = await seed_enterprises(create_sessionmaker(engine), enterprises=ENTERPRISES,
                                       workers_each=WORKERS_EACH, first_enterprise=1,
                                       first_user=100_000_000)
    finally:
        await engine.dispose()
    return world.workers


def _seed_surveys(path: str, workers: dict[int, list[int]], now: datetime) -> int:
    """Closed rounds, final responses (pulse ones unlinked, as a close leaves them) and their
    answers, with sqlite3's executemany: a million rows in seconds."""
    rng = random.Random(7)
    stamp = _stamp(now)
    answers = 0
    db = sqlite3.connect(path)
    with db:
        next_id = 1
        for period in _months(now):
            closes = _stamp(datetime.combine(period + timedelta(days=45), datetime.min.time(),
                                             UTC))
            for survey in ("kpi", "pulse"):
                db.execute(
                    "INSERT INTO survey_rounds (survey, period, opens_on, reminder_on, "
                    "closes_on, closes_at, version, queued_at, closed_at, created_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?, ?)",
                    (survey, period.isoformat(), period.isoformat(), period.isoformat(),
                     period.isoformat(), closes, stamp, closes, stamp))
            responses, rows = [], []
            for enterprise_id in workers:
                responses.append((next_id, "kpi", period.isoformat(), "monthly", "final",
                                  enterprise_id, None, None, "owner", stamp, stamp, stamp))
                rows += [(next_id, key, str(n), float(n), 0, None, 0, stamp)
                         for key, n in ((k, rng.randint(1, 500)) for k in KPI)]
                next_id += 1
            pool = [(e, w) for e, ws in workers.items() for w in ws]
            for enterprise_id, _worker in rng.sample(pool, PULSE_EACH_MONTH):
                responses.append((next_id, "pulse", period.isoformat(), "monthly", "final",
                                  enterprise_id, None, secrets.token_hex(8), "worker",
                                  stamp, stamp, period.isoformat() + " 00:00:00.000000"))
                rows += [(next_id, key, choice, None, 0, choice, 0, stamp)
                         for key, choice in ((k, rng.choice(c)) for k, c in PULSE.items())]
                next_id += 1
            db.executemany(
                "INSERT INTO survey_responses (id, survey, period, kind, status, "
                "enterprise_id, respondent_id, respondent_ref, entered_as, started_at, "
                "updated_at, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                responses)
            db.executemany(
                "INSERT INTO survey_answers (response_id, question, raw, number, percent, "
                "choice, skipped, answered_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
            answers += len(rows)
    db.execute("ANALYZE")
    db.close()
    return answers


# The export as the bot runs it in its own process: only services.export imported.
_CHILD = """
import json, resource, sys, time, tracemalloc
from pathlib import Path
from chat.clock import RealClock
from services.export import Request, write_in_process
trace = sys.argv[3] == "trace"
if trace:
    tracemalloc.start()
started = time.perf_counter()
summary = write_in_process(sys.argv[1], Request(fmt="xlsx", out=Path(sys.argv[2]), lang="en",
                                                now=RealClock().now()))
usage = resource.getrusage(resource.RUSAGE_SELF)
# VmHWM, not ru_maxrss: that counts the parent's memory copied by the fork before the exec.
hwm = next(int(line.split()[1]) for line in open("/proc/self/status")
           if line.startswith("VmHWM"))
print(json.dumps({"seconds": time.perf_counter() - started, "size": summary.size,
                  "cpu": usage.ru_utime + usage.ru_stime, "rss": hwm / 1024,
                  "traced": tracemalloc.get_traced_memory()[1] / 2**20 if trace else 0}))
"""


def _run_export(url: str, out: str, *, trace: bool) -> dict[str, float]:
    """The export in a fresh process, as `/export` runs it: wall and CPU seconds, file
    size, peak RSS (its ru_maxrss) and, with `trace`, Python's peak allocations."""
    done = subprocess.run([sys.executable, "-c", _CHILD, url, out, "trace" if trace else ""],
                          capture_output=True, text=True, check=True, cwd=ROOT)
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


# `score-bot export`, and its peak memory (VmHWM) and CPU time when it is done.
_CLI = """
import json, resource, sys
from bot.cli import main
status = main(sys.argv[1:])
usage = resource.getrusage(resource.RUSAGE_SELF)
hwm = next(int(line.split()[1]) for line in open("/proc/self/status")
           if line.startswith("VmHWM"))
print(json.dumps({"status": status, "cpu": usage.ru_utime + usage.ru_stime,
                  "rss": hwm / 1024}))
"""


def _run_cli(url: str, out: str) -> tuple[float, float, float]:
    """`score-bot export` itself (migrations, the check of the catalogs and all): wall and
    CPU seconds, peak RSS."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", _CLI, "export", "--out", out, "--lang", "en"],
                          capture_output=True, text=True, check=True, cwd=ROOT,
                          env={**os.environ, "DATABASE_URL": url})
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["status"] == 0
    return time.perf_counter() - started, result["cpu"], result["rss"]


async def _ask(sandbox: BotApiSandbox, user_id: int, delay: float,
               latencies: list[float]) -> None:
    await asyncio.sleep(delay)
    before = len(sandbox.texts(user_id))
    sent = time.monotonic()
    sandbox.send_text(user_id, "/help")
    await sandbox.wait_until(lambda: len(sandbox.texts(user_id)) > before, timeout=120)
    latencies.append(time.monotonic() - sent)


async def _latency(url: str, *, users: int, seconds: float, during_export: bool,
                   seed: int) -> tuple[list[float], float | None]:
    sandbox = BotApiSandbox()
    settings = Settings(database_url=url, bot_token=None, staff_ids=frozenset({STAFF}),
                        default_locale="en")
    bot = SandboxBot(sandbox, partial(build_application, settings, clock=RealClock()),
                     allowed_updates=ALLOWED_UPDATES)
    await bot.start()
    try:
        askers = list(range(ASKERS_FROM + seed * 1000, ASKERS_FROM + seed * 1000 + users))
        for user_id in askers:
            sandbox.add_user(user_id, f"User {user_id}", language_code="en")
        export_started = time.monotonic()
        if during_export:
            sandbox.add_user(STAFF, "Rina", language_code="en")
            sandbox.send_text(STAFF, "/export")
            await sandbox.wait_until(lambda: sandbox.texts(STAFF), timeout=60)
            await asyncio.sleep(3)  # the child has started and is writing
        rng = random.Random(seed)
        latencies: list[float] = []
        await asyncio.gather(*(_ask(sandbox, u, rng.uniform(0, seconds), latencies)
                               for u in askers))
        took = None
        if during_export:
            await sandbox.wait_until(
                lambda: any(m.document or "MB" in (m.text or "")
                            for m in sandbox.messages(STAFF)), timeout=600)
            took = time.monotonic() - export_started
        return latencies, took
    finally:
        await bot.stop()


def _line(name: str, latencies: list[float]) -> tuple[str, float]:
    ordered = sorted(latencies)
    p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
    return (f"/help {name:<24} median {statistics.median(ordered) * 1000:6.0f} ms   "
            f"p95 {p95 * 1000:6.0f} ms   max {ordered[-1] * 1000:6.0f} ms"), p95


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=60)
    parser.add_argument("--seconds", type=float, default=12.0)
    parser.add_argument("--part", choices=("all", "latency"), default="all",
                        help="latency: only the bot's replies with and without /export")
    args = parser.parse_args(argv)
    load_catalogs()
    print(machine_header())
    print(f"# load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory() as tmp:
        url = prepare_database("sqlite", tmp)
        started = time.perf_counter()
        workers = asyncio.run(_seed_people(url))
        answers = _seed_surveys(f"{tmp}/bench.db", workers, utcnow())
        print(f"seeded {answers:,} survey answers in {time.perf_counter() - started:.0f} s "
              f"({os.path.getsize(f'{tmp}/bench.db') / 1e6:.0f} MB database)")
        out = f"{tmp}/export.xlsx"
        if args.part == "all":
            _exports(url, out)
        quiet, _ = asyncio.run(_latency(url, users=args.users, seconds=args.seconds,
                                        during_export=False, seed=1))
        busy, took = asyncio.run(_latency(url, users=args.users, seconds=args.seconds,
                                          during_export=True, seed=2))
    line, p95_quiet = _line("nothing else", quiet)
    print(line)
    line, p95_busy = _line("during /export", busy)
    print(line)
    print(f"p95 during / without: {p95_busy / p95_quiet:.2f} (target: 2 or less); /export "
          f"until its file was sent: {took:.0f} s")
    print(f"# load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


def _exports(url: str, out: str) -> None:
    """`score-bot export`, and the export as /export runs it (twice: once traced)."""
    wall, cpu, rss = _run_cli(url, out)
    print(f"score-bot export --out export.xlsx: {wall:.1f} s ({cpu:.1f} s CPU), "
          f"{os.path.getsize(out) / 1e6:.1f} MB file, peak RSS {rss:.0f} MiB")
    run = _run_export(url, out, trace=False)
    print(f"the export as /export runs it (its own process): {run['seconds']:.1f} s "
          f"({run['cpu']:.1f} s CPU), {run['size'] / 1e6:.1f} MB file, peak RSS "
          f"{run['rss']:.0f} MiB (target: 60 s, 150 MB)")
    traced = _run_export(url, out, trace=True)
    print(f"  Python's peak allocations while exporting (tracemalloc, another run): "
          f"{traced['traced']:.1f} MiB")
    print(f"# load average after the exports: "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")




if __name__ == "__main__":
    sys.exit(main())
