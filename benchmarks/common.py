"""Pieces shared by the outbox benchmarks: a database, bulk users, a slow sandbox, probes.

Everything stays on 127.0.0.1: SQLite in a temporary directory, or the PostgreSQL database
`bench` (never `test`, which the test suite truncates), and the Bot API sandbox in process.
"""

from __future__ import annotations

import asyncio
import gc
import os
import platform
import resource
import sqlite3
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import delete, insert, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import Bot
from telegram.request import HTTPXRequest

from chat.clock import RealClock
from db.migrate import upgrade
from db.models import Broadcast, OutboxMessage, User, UserStatus
from db.queries import broadcasts as broadcasts_db
from db.queries import outbox as outbox_db
from db.queries.audience import Audience
from db.session import create_engine
from jobs.channel import Outcome, OutgoingMessage
from jobs.outbox import OutboxSender
from sandbox import BotApiSandbox

POSTGRES_URL = os.environ.get("BENCH_DATABASE_URL",
                              "postgresql+asyncpg://postgres@127.0.0.1:5432/bench")
FIRST_USER_ID = 100_000_000
STAFF_ID = 9001
# A realistic broadcast: HTML, a little over 200 characters, Indonesian and English.
TEXT_ID = ("<b>Tips K3 minggu ini</b>: pastikan setiap pekerja memakai alat pelindung diri "
           "sebelum masuk ke area produksi, dan periksa jalur evakuasi tidak terhalang. "
           "<i>Tim SCORE</i>")
TEXT_EN = ("<b>This week's OSH tip</b>: make sure every worker wears protective equipment "
           "before entering the production floor, and check that escape routes are clear. "
           "<i>The SCORE team</i>")


def utcnow() -> datetime:
    """Benchmarks run on the real clock, the product's one clock (chat/clock.py)."""
    return RealClock().now()


# --- the machine ---------------------------------------------------------------------------------


def code_version() -> str:
    """The commit benchmarked, and which files of the outbox differ from it (read-only git)."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root,
                              capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "jobs", "db", "bot"],
                               cwd=root, capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return "code: unknown (no git)"
    changed = sorted(line[3:] for line in dirty.splitlines() if line[3:].endswith(".py"))
    return f"code: {head or '?'}" + (f" + uncommitted {', '.join(changed)}" if changed else "")


def machine_header() -> str:
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f
                       if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return (f"date {utcnow():%Y-%m-%d %H:%M} UTC; {os.cpu_count()} cores ({cpu}); "
            f"Python {platform.python_version()} ({sys.implementation.name}); "
            f"SQLite {sqlite3.sqlite_version}\n# {code_version()}")


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class GcWatch:
    """Garbage collector pauses (they stop the event loop, so the pacing too)."""

    def __init__(self) -> None:
        self.pauses: list[tuple[int, float]] = []  # (generation, seconds)
        self._started = 0.0

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.pauses.append((info["generation"], time.perf_counter() - self._started))

    def __enter__(self) -> GcWatch:
        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self._callback)

    def summary(self) -> str:
        parts = []
        for generation in (0, 1, 2):
            pauses = [s for g, s in self.pauses if g == generation]
            if pauses:
                parts.append(f"gen{generation}: {len(pauses)} x, max {1000 * max(pauses):.1f} ms, "
                             f"total {1000 * sum(pauses):.0f} ms")
        return "; ".join(parts) or "none"


# --- the database --------------------------------------------------------------------------------


def _check_postgres_url(url: str) -> None:
    parsed = make_url(url)
    if parsed.database in (None, "", "test", "postgres", "template0", "template1"):
        raise SystemExit(f"refusing to benchmark in database {parsed.database!r}: use 'bench'")
    if parsed.host not in ("127.0.0.1", "localhost"):
        raise SystemExit(f"refusing a database on {parsed.host!r}: benchmarks stay on 127.0.0.1")


def prepare_database(kind: str, tmpdir: str) -> str:
    """A freshly migrated, empty database; call before the event loop starts (Alembic runs
    its own loop)."""
    if kind == "sqlite":
        url = f"sqlite+aiosqlite:///{tmpdir}/bench.db"
    elif kind == "postgres":
        url = POSTGRES_URL
        _check_postgres_url(url)

        async def reset() -> None:
            engine = create_engine(url)
            async with engine.begin() as conn:
                await conn.execute(text("DROP SCHEMA public CASCADE"))
                await conn.execute(text("CREATE SCHEMA public"))
            await engine.dispose()

        asyncio.run(reset())
    else:
        raise SystemExit(f"unknown database {kind!r}")
    upgrade(url)
    return url


async def add_users(sessionmaker: async_sessionmaker[AsyncSession], count: int, *,
                    chunk: int = 5000) -> list[int]:
    """`count` users who consented and did not block the bot; every third one in English."""
    now = utcnow()
    ids = list(range(FIRST_USER_ID, FIRST_USER_ID + count))
    for start in range(0, count, chunk):
        rows = [dict(id=i, language="en" if i % 3 == 0 else "id", consent_at=now,
                     status=UserStatus.ACTIVE, created_at=now, last_seen_at=now)
                for i in ids[start:start + chunk]]
        async with sessionmaker() as session, session.begin():
            await session.execute(insert(User), rows)
    return ids


async def queue_broadcast(
        sessionmaker: async_sessionmaker[AsyncSession]) -> tuple[int, int, float]:
    """db.queries.broadcasts.create(send_at=now) in its own transaction, commit included:
    (broadcast id, rows queued, seconds)."""
    started = time.perf_counter()
    async with sessionmaker() as session, session.begin():
        now = utcnow()
        broadcast = await broadcasts_db.create(
            session, created_by=STAFF_ID, text_id=TEXT_ID, text_en=TEXT_EN,
            audience=Audience(), send_at=now, now=now, staff_ids=frozenset())
    seconds = time.perf_counter() - started
    return broadcast.id, broadcast.recipient_count or 0, seconds


async def clear_outbox(sessionmaker: async_sessionmaker[AsyncSession], kind: str) -> None:
    """Between two runs: no rows left, so every run starts from the same table."""
    async with sessionmaker() as session, session.begin():
        await session.execute(delete(OutboxMessage))
        await session.execute(delete(Broadcast))
    if kind == "postgres":
        engine = sessionmaker.kw["bind"]
        async with engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("VACUUM ANALYZE outbox"))
            await conn.execute(text("VACUUM ANALYZE broadcasts"))


async def analyze(sessionmaker: async_sessionmaker[AsyncSession], kind: str) -> None:
    """Fresh planner statistics after a bulk load on PostgreSQL, as autovacuum would soon
    give them; SQLite is left as the bot leaves it (no ANALYZE)."""
    if kind != "postgres":
        return
    async with sessionmaker() as session, session.begin():
        await session.execute(text("ANALYZE"))


async def outbox_counts(sessionmaker: async_sessionmaker[AsyncSession],
                        broadcast_id: int) -> outbox_db.Counts:
    async with sessionmaker() as session:
        return await outbox_db.broadcast_counts(session, broadcast_id)


# --- the Bot API side ----------------------------------------------------------------------------


def open_chats(sandbox: BotApiSandbox, ids: list[int]) -> None:
    for i in ids:
        sandbox.open_chat(i, language_code="en" if i % 3 == 0 else "id")


class SlowSandboxTransport(httpx.AsyncBaseTransport):
    """The sandbox's transport behind a fixed delay, noting when each sendMessage arrives.

    Arrival times are taken here, where the request reaches the "server", before the delay:
    that is the moment Telegram's flood control would count it.
    """

    def __init__(self, sandbox: BotApiSandbox, delay: float = 0.0, *, time_handler: bool = False):
        self.inner = sandbox.transport
        self.delay = delay
        self.time_handler = time_handler
        self.arrivals: list[float] = []
        self.handler_seconds = 0.0
        self.handled = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/sendMessage"):
            self.arrivals.append(time.monotonic())
            if self.delay:
                await asyncio.sleep(self.delay)
        if not self.time_handler:
            return await self.inner.handle_async_request(request)
        started = time.perf_counter()
        response = await self.inner.handle_async_request(request)
        self.handler_seconds += time.perf_counter() - started
        self.handled += 1
        return response


def make_bot(sandbox: BotApiSandbox, transport: httpx.AsyncBaseTransport, *,
             pool: int = 64) -> Bot:
    """PTB's Bot, the real request path (HTTPXRequest), on the given transport."""
    def request() -> HTTPXRequest:
        return HTTPXRequest(connection_pool_size=pool, httpx_kwargs={"transport": transport})

    return Bot(sandbox.token, base_url=sandbox.base_url + "/bot",
               base_file_url=sandbox.file_base_url, request=request(),
               get_updates_request=request())


class NullChannel:
    """The cheapest possible Channel: every message is sent, at once, without a request."""

    def __init__(self) -> None:
        self.count = 0

    async def send(self, message: OutgoingMessage) -> Outcome:
        self.count += 1
        return Outcome.sent(self.count)


class RecordingChannel:
    """Notes when each send starts (monotonic), and wakes the runner when all have been sent."""

    def __init__(self, inner: Any, expected: int):
        self.inner = inner
        self.expected = expected
        self.times: list[float] = []
        self.kinds: Counter[str] = Counter()
        self.done = asyncio.Event()

    async def send(self, message: OutgoingMessage) -> Outcome:
        self.times.append(time.monotonic())
        outcome = await self.inner.send(message)
        self.kinds[outcome.kind.value] += 1
        if len(self.times) >= self.expected:
            self.done.set()
        return outcome


def busiest_second(times: list[float]) -> int:
    """Most events in any window [t, t + 1 s) over the sorted times (a sliding window)."""
    times = sorted(times)
    best, j = 0, 0
    for i, t in enumerate(times):
        while times[j] <= t - 1.0:
            j += 1
        best = max(best, i - j + 1)
    return best


def busiest_clock_second(times: list[float]) -> int:
    """Most events in one whole second counted from the first event (fixed buckets)."""
    if not times:
        return 0
    first = min(times)
    return max(Counter(int(t - first) for t in times).values())


# --- where the sender's time goes ---------------------------------------------------------------


class Probe:
    """Wall time spent in the sender's steps and the outbox queries, summed per name.

    The sender's tasks overlap (recording runs while the next rows are sent), so the sums are
    not parts of one total: each says how long that step kept its own task busy.
    """

    def __init__(self) -> None:
        self.seconds: defaultdict[str, float] = defaultdict(float)
        self.calls: Counter[str] = Counter()
        self.rows: Counter[str] = Counter()
        self.recorded_at = 0.0  # monotonic time the last non-empty flush committed
        self.recorded_cpu = (0.0, 0.0)  # (event loop thread, process) CPU time then
        self._restore: list[Callable[[], None]] = []

    def _timed(self, name: str, func: Callable[..., Awaitable[Any]],
               rows_of: Callable[[tuple, dict, Any], int] | None = None):
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                result = await func(*args, **kwargs)
            finally:
                self.seconds[name] += time.perf_counter() - started
                self.calls[name] += 1
            if rows_of is not None:
                self.rows[name] += rows_of(args, kwargs, result)
            return result

        return wrapper

    def patch_queries(self) -> None:
        """db.queries.outbox's queries as the sender calls them (it looks them up on the module)."""
        counted = {
            "claim_due": lambda a, k, r: len(r),
            "record": lambda a, k, r: len(a[1]),
            "blocked_among": lambda a, k, r: 0,
            "still_claimed": lambda a, k, r: len(a[1]),
            "cancelled_groups": lambda a, k, r: 0,
            "contents_of": lambda a, k, r: len(r),
            "next_due_at": lambda a, k, r: 0,
            "mark_blocked": lambda a, k, r: 0,
        }
        for name, rows_of in counted.items():
            original = getattr(outbox_db, name, None)
            if original is None:  # not in this version of db/queries/outbox.py
                continue
            setattr(outbox_db, name, self._timed(f"db.queries.outbox.{name}", original, rows_of))
            self._restore.append(lambda n=name, o=original: setattr(outbox_db, n, o))

    def patch_sender(self, sender: OutboxSender) -> None:
        for name in ("_once", "_send_all", "_wait_for_due", "_expire_overdue",
                     "_acquire_slot", "_pace"):
            setattr(sender, name, self._timed(f"sender.{name}", getattr(sender, name)))
        flush = self._timed("sender._flush", sender._flush)

        async def noting_flush() -> None:
            # When the last outcome became durable (reads the sender's private buffer).
            had_results = bool(sender._results)
            await flush()
            if had_results:
                self.recorded_at = time.monotonic()
                self.recorded_cpu = (time.thread_time(), time.process_time())

        sender._flush = noting_flush  # type: ignore[method-assign]

    def restore(self) -> None:
        for undo in reversed(self._restore):
            undo()
        self._restore.clear()

    def report(self, wall: float) -> list[str]:
        lines = [f"  {'step':34} {'calls':>7} {'rows':>8} {'seconds':>9} {'% of wall':>9} "
                 f"{'ms/call':>8}"]
        for name, seconds in sorted(self.seconds.items(), key=lambda kv: -kv[1]):
            calls = self.calls[name]
            rows = self.rows.get(name, 0)
            lines.append(f"  {name:34} {calls:7d} {rows or '':>8} {seconds:9.3f} "
                         f"{100 * seconds / wall:8.1f}% {1000 * seconds / max(calls, 1):8.3f}")
        return lines
