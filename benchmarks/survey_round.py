"""Opening a pulse round for 30,000 workers in 300 enterprises: the time until every
invitation is in the outbox (target: under 10 s), on SQLite or PostgreSQL.

    .venv/bin/python -m benchmarks.survey_round --db sqlite      # about 30 s
    BENCH_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/bench_surveybench \\
        .venv/bin/python -m benchmarks.survey_round --db postgres
    ... --explain      # also the plan of one invitation INSERT ... SELECT (PostgreSQL: run
                       # with ANALYZE in a transaction that is rolled back)

The world is written in bulk SQL, not through the bot: 300 approved enterprises over all 38
provinces (so all three time zones), each with an owner and 100 workers who joined it and
agreed, one in three reading English. Then `bot.survey_admin.open_now` opens the November
pulse, as `score-bot survey open pulse 2026-11` does: its own engine, the button key, the
round row, and `services.surveys.rounds.open_round`, which queues per time zone one
INSERT ... SELECT of the invitations and one of the reminder (expiring at the close) through
`chat.notify.queue`, all in one transaction. The time is from the call to its return, commit
included. The outbox must then hold exactly one invitation and one reminder per worker.

Each repetition (`--repeat`, 3) empties the outbox and marks the round unqueued first, so
every opening queues all 60,000 rows again. Peak memory is the process's resident peak
(VmHWM, reset before each opening) and, in one more opening that is not timed, the Python
heap's peak (tracemalloc). SQLite is a file in a temporary directory; PostgreSQL is
`BENCH_DATABASE_URL` (default: the database `bench`), whose schema is dropped and recreated.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import delete, event, func, select, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine

from benchmarks.common import STAFF_ID, analyze, machine_header, prepare_database
from benchmarks.memory import Peak
from benchmarks.survey_world import World, seed_enterprises, seed_final_pulses
from bot.survey_admin import open_now
from chat.buttons import ButtonSigner
from chat.clock import FakeClock
from chat.context import Services
from chat.i18n import load_catalogs
from config.settings import Settings
from db.models import (
    OutboxContent,
    OutboxGroup,
    OutboxMessage,
    ResponseKind,
    SurveyResponse,
    SurveyRound,
)
from db.queries import outbox as outbox_db
from db.queries import surveys as survey_queries
from db.session import create_engine, create_sessionmaker
from services.surveys import rounds

TARGET_SECONDS = 10.0
PERIOD = "2026-11"
# 1 December 2026, 13:00 UTC: the November pulse opens that day (20:00 WIB).
NOW = datetime(2026, 12, 1, 13, 0, tzinfo=UTC)
FIRST_USER = 300_000_000


class Enqueues:
    """Each `db.queries.outbox.enqueue` of an opening: its group, rows added and seconds."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int, float]] = []
        self._original = outbox_db.enqueue

    def install(self) -> None:
        original = self._original

        async def timed(*args: Any, **kwargs: Any) -> int:
            started = time.perf_counter()
            added = await original(*args, **kwargs)
            self.calls.append((kwargs["group"], added, time.perf_counter() - started))
            return added

        outbox_db.enqueue = timed

    def uninstall(self) -> None:
        outbox_db.enqueue = self._original


class Statements:
    """The outbox INSERT ... SELECTs and UPDATEs as sent to the driver (for --explain)."""

    def __init__(self) -> None:
        self.inserts: list[tuple[str, Any]] = []
        self.updates: list[tuple[str, Any]] = []

    def __call__(self, _conn: Any, _cursor: Any, statement: str, parameters: Any,
                 *_args: Any) -> None:
        upper = statement.lstrip().upper()
        if upper.startswith("INSERT INTO OUTBOX ") and "SELECT" in upper:
            self.inserts.append((statement, parameters))
        elif upper.startswith("UPDATE OUTBOX "):
            self.updates.append((statement, parameters))


async def reset(engine: AsyncEngine, kind: str, *, rows_only: bool = False) -> None:
    """An empty outbox and the round not queued: the next opening queues everything again.
    With `rows_only`, the contents stay (a captured INSERT refers to them)."""
    sessions = create_sessionmaker(engine)
    async with sessions() as session, session.begin():
        await session.execute(delete(OutboxMessage))
        if rows_only:
            return
        await session.execute(delete(OutboxContent))
        await session.execute(delete(OutboxGroup))
        await session.execute(update(SurveyRound).values(queued_at=None))
    if kind == "postgres":
        async with engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            for table in ("outbox", "outbox_contents", "outbox_groups", "survey_rounds"):
                await conn.execute(text(f"VACUUM ANALYZE {table}"))


async def check_outbox(engine: AsyncEngine, workers: int) -> tuple[dict[str, int], list[str]]:
    """Rows per group of the round, and what is wrong with them."""
    sessions = create_sessionmaker(engine)
    problems = []
    async with sessions() as session:
        round_ = await session.scalar(select(SurveyRound))
        assert round_ is not None
        groups = {"invite": rounds.invite_group(round_), "remind": rounds.remind_group(round_)}
        counts = {}
        for name, group in groups.items():
            counted = await outbox_db.group_counts(session, group)
            counts[name] = counted.total
            if counted.pending != workers or counted.total != workers:
                problems.append(f"{group}: {counted.pending} pending of {counted.total}, "
                                f"expected {workers}")
        distinct = await session.scalar(select(func.count(func.distinct(
            OutboxMessage.recipient_id))))
        counts["recipients"] = distinct or 0
        if distinct != workers:
            problems.append(f"{distinct} distinct recipients, expected {workers}")
        counts["all rows"] = await session.scalar(
            select(func.count()).select_from(OutboxMessage)) or 0
    return counts, problems


async def explain(engine: AsyncEngine, kind: str, statement: str, parameters: Any) -> list[str]:
    """The plan of one captured INSERT ... SELECT; PostgreSQL runs it (ANALYZE), rolled back."""
    prefix = "EXPLAIN (ANALYZE, BUFFERS) " if kind == "postgres" else "EXPLAIN QUERY PLAN "
    async with engine.connect() as conn:
        started = time.perf_counter()
        result = await conn.exec_driver_sql(prefix + statement, parameters)
        rows = result.all()
        seconds = time.perf_counter() - started
        await conn.rollback()
    if kind == "postgres":
        return [row[0] for row in rows] + [f"(EXPLAIN ANALYZE took {1000 * seconds:.0f} ms)"]
    return [" | ".join(str(c) for c in row) for row in rows]


async def finishing(engine: AsyncEngine, settings: Settings, world: World,
                    count: int) -> list[float]:
    """What a worker's finish costs the outbox with the whole round queued: seconds of
    `db.queries.surveys.drop_answered` (their invitation and reminder skipped), per worker,
    each in its own transaction as in `db.surveys.finish_response`."""
    svc = Services(settings=settings, engine=engine, sessionmaker=create_sessionmaker(engine),
                   signer=ButtonSigner(b"k" * 32), clock=FakeClock(NOW))
    period = date.fromisoformat(f"{PERIOD}-01")
    ids = [(e, ws[-1]) for e, ws in world.workers.items()][:count]
    seconds = []
    for enterprise_id, worker in ids:
        response = SurveyResponse(survey="pulse", period=period, kind=ResponseKind.MONTHLY,
                                  enterprise_id=enterprise_id, respondent_id=worker)
        started = time.perf_counter()
        async with svc.sessionmaker() as session, session.begin():
            await survey_queries.drop_answered(session, response)
        seconds.append(time.perf_counter() - started)
    return seconds


async def opening(settings: Settings, enqueues: Enqueues) -> tuple[str, float]:
    enqueues.calls.clear()
    started = time.perf_counter()
    said = await open_now(settings, "pulse", PERIOD, clock=FakeClock(NOW))
    return said, time.perf_counter() - started


async def run(url: str, args: argparse.Namespace) -> int:
    load_catalogs()
    workers = args.enterprises * args.workers
    print(f"# {machine_header()}")
    print(f"# database: {args.db}; {args.enterprises} enterprises x {args.workers} workers "
          f"= {workers} invitations (and as many reminders); {args.repeat} openings")
    engine = create_engine(url)
    sessions = create_sessionmaker(engine)
    peak = Peak()
    started = time.perf_counter()
    world = await seed_enterprises(sessions, enterprises=args.enterprises,
                                   workers_each=args.workers, first_enterprise=1,
                                   first_user=FIRST_USER)
    finished = await seed_final_pulses(sessions, world, date.fromisoformat(f"{PERIOD}-01"),
                                       args.finished) if args.finished else 0
    workers -= finished
    if args.try_index:
        # An experiment, not the schema: what a migration adding this index would change.
        async with sessions() as session, session.begin():
            await session.execute(text(
                "CREATE INDEX ix_try_responses_respondent ON survey_responses "
                "(respondent_id, survey, period)"))
        print("experiment: index survey_responses (respondent_id, survey, period) added")
    await analyze(sessions, args.db)
    if finished:
        print(f"{finished} workers already finished this pulse: {workers} are invited")
    print(f"seeded in bulk in {time.perf_counter() - started:.1f} s; "
          f"peak RSS so far {peak.read_mb():.0f} MiB")

    settings = Settings(_env_file=None, database_url=url,
                        staff_ids=frozenset({STAFF_ID}), bot_token=None, default_locale="id")
    enqueues = Enqueues()
    enqueues.install()
    statements = Statements()
    event.listen(Engine, "before_cursor_execute", statements)
    walls: list[float] = []
    problems: list[str] = []
    try:
        for n in range(1, args.repeat + 1):
            if n > 1:
                await reset(engine, args.db)
            peak.reset()
            said, wall = await opening(settings, enqueues)
            walls.append(wall)
            counts, wrong = await check_outbox(engine, workers)
            problems += wrong
            parts = ", ".join(f"{group.rsplit(':', 1)[1]} {added} in {1000 * s:.0f} ms"
                              for group, added, s in enqueues.calls)
            print(f"opening {n}: {wall:.2f} s ({said!r}); peak RSS {peak.read_mb():.0f} MiB")
            print(f"  enqueue calls: {parts}")
            print(f"  outbox: {counts}")
            if n == 1 and args.explain and statements.inserts:
                statement, parameters = statements.inserts[0]
                await reset(engine, args.db, rows_only=True)
                print("  plan of the first invitation INSERT ... SELECT:")
                for line in await explain(engine, args.db, statement, parameters):
                    print(f"    {line}")
        # A worker finishing while the round's 60,000 rows are queued.
        statements.updates.clear()
        drops = await finishing(engine, settings, world, args.finishers)
        print(f"finishing with the round queued: drop_answered "
              f"{1000 * statistics.median(drops):.1f} ms per worker (median of {len(drops)}, "
              f"max {1000 * max(drops):.1f} ms)")
        if args.explain and statements.updates:
            print("  plan of its first UPDATE (one worker's unsent invitation skipped):")
            for line in await explain(engine, args.db, *statements.updates[0]):
                print(f"    {line}")
        # The Python heap's peak, in an opening of its own (tracemalloc slows Python down).
        await reset(engine, args.db)
        tracemalloc.start()
        _said, traced_wall = await opening(settings, enqueues)
        _current, heap_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"with tracemalloc (not timed: {traced_wall:.2f} s): Python heap peak "
              f"{heap_peak / 2**20:.1f} MiB during the opening")
    finally:
        event.remove(Engine, "before_cursor_execute", statements)
        enqueues.uninstall()
        await engine.dispose()
    median = statistics.median(walls)
    verdict = "PASS" if median < TARGET_SECONDS and not problems else "FAIL"
    print(f"{verdict}: median {median:.2f} s to queue {workers} invitations and {workers} "
          f"reminders (openings {', '.join(f'{w:.2f}' for w in walls)} s; target under "
          f"{TARGET_SECONDS:.0f} s); process peak RSS {peak.max_rss_mb():.0f} MiB")
    for problem in problems[:10]:
        print(f"  {problem}")
    return 0 if verdict == "PASS" else 1


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.survey_round",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--enterprises", type=int, default=300)
    parser.add_argument("--workers", type=int, default=100, help="per enterprise")
    parser.add_argument("--repeat", type=int, default=3, help="openings timed (default 3)")
    parser.add_argument("--finished", type=int, default=0,
                        help="workers who already finished the pulse (a round moved after "
                             "they answered); they are not invited")
    parser.add_argument("--finishers", type=int, default=20,
                        help="workers whose finish is timed with the round queued (20)")
    parser.add_argument("--try-index", action="store_true",
                        help="experiment: add an index on survey_responses (respondent_id, "
                             "survey, period) before opening (see --finished)")
    parser.add_argument("--explain", action="store_true",
                        help="also the plan of the first invitation INSERT ... SELECT")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-survey-round-") as tmpdir:
        url = prepare_database(args.db, tmpdir)
        return asyncio.run(run(url, args))


if __name__ == "__main__":
    sys.exit(main())
