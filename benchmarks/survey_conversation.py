"""Many workers answering the monthly pulse at once, through the whole bot, against a bare
python-telegram-bot echo bot on the same Bot API sandbox in the same run; then the time to
draw one /kpi chart; and the process's peak memory in each part.

    .venv/bin/python -m benchmarks.survey_conversation --db sqlite     # about 1.5 min
    BENCH_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/bench_surveybench \\
        .venv/bin/python -m benchmarks.survey_conversation --db postgres
    ... --breakdown    # also: where the event loop's time goes, per update
    ... --profile      # also: Python calls per update and self time, by package
    ... --floor        # also, every round: bare bots doing only what an answer requires
                       # (benchmarks/floor.py), the ceiling of the ratio on this stack

50 workers (`--users`) of five enterprises, written in bulk SQL (linked, consenting), get
the invitation of an open pulse round through the outbox, as in production; then all at
once each presses "Mulai survei" and answers the six questions with buttons (the follow-up
after a "Ya" included): 7 updates each. Every simulated worker waits until the bot has
finished with their update (handlers and the commit after it) before pressing the next
button. The bare bot gets the same presses from as many users (each press on a message with
one button, as the invitation) and answers each with answerCallbackQuery and one
sendMessage. The figure is updates/s of the bot divided by updates/s of the bare bot, the
median over `--rounds` (3), each round a fresh bot and fresh workers; target at least 0.6.
At the end every worker must have one final response with six answers and the thank-you,
no Bot API call may have failed and nobody may have got an apology; otherwise the run FAILs.

Then, in the same process: `rendering.kpi_chart.draw_trend` on an owner's twelve months and
baseline (the first call, cold, and the median of `--charts` more), and /kpi end to end
through the bot (the command in, the photo and caption out, the commit after), the median
of `--charts` sequential commands. Peak memory is the process's resident peak (VmHWM, reset
before each part: see benchmarks/memory.py). The machinery (simulated users, the bare bot,
--breakdown, --profile) is benchmarks/conversation.py's.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import date
from functools import partial
from typing import Any

from sqlalchemy import func, select
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from benchmarks import floor
from benchmarks.common import analyze, machine_header, prepare_database
from benchmarks.conversation import (
    STAFF_ID,
    Breakdown,
    Fallbacks,
    Result,
    Step,
    Tracker,
    UserIds,
    add_run_args,
    logging_into,
    profile_report,
    run_echo,
    timed,
    walk,
)
from benchmarks.memory import Peak
from benchmarks.survey_world import open_pulse_round_now, seed_enterprises, seed_kpi_history
from bot.app import ALLOWED_UPDATES, build_application
from bot.flood_limits import SharedBudget
from chat.buttons import ButtonSigner
from chat.clock import RealClock
from chat.context import Services, services_of
from chat.i18n import load_catalogs, use_locale
from config.settings import Settings
from db import survey_results
from db import surveys as surveys_db
from db.models import ResponseStatus, SurveyAnswer, SurveyResponse, SurveyRound
from db.queries import round_messages as round_queries
from db.session import create_engine, create_sessionmaker
from domain import kpi
from domain.kpi_trend import trend_data
from rendering.kpi_chart import draw_trend
from sandbox import BotApiSandbox, SandboxBot
from services.surveys import rounds
from services.surveys.kpi_text import chart_words

TARGET = 0.6
FIRST_USER = 400_000_000
WORKERS_PER_ENTERPRISE = 10

# A worker in Indonesian: the invitation's button, then the six questions (PRODUCT.md's
# pulse; the fifth is the follow-up after "Ya"). `position` finds the same button if a label
# changes: its place on the latest message with buttons.
STEPS = (
    Step("press", "Mulai survei", 0),
    Step("press", "Sering", 3),
    Step("press", "Aman", 3),
    Step("press", "Selalu", 0),
    Step("press", "Ya", 0),
    Step("press", "Sudah dijalankan", 0),
    Step("press", "Tidak", 1),
)
ANSWERS = 6


def bot_settings(url: str) -> Settings:
    # The invitations are not what is measured: the outbox may send them as fast as it can.
    return Settings(_env_file=None, database_url=url,
                    staff_ids=frozenset({STAFF_ID}), bot_token=None, default_locale="id",
                    broadcast_rate=1000)


class World:
    """Fresh workers per run, written in bulk SQL, and the open round they are invited to."""

    def __init__(self, url: str, kind: str):
        self.url, self.kind = url, kind
        self.engine = create_engine(url)
        self.sessions = create_sessionmaker(self.engine)
        self.next_enterprise = 1
        self.next_user = FIRST_USER
        self.round_id = 0

    async def open_round(self) -> None:
        now = RealClock().now()
        self.round_id = await open_pulse_round_now(self.sessions, now)
        # Marked queued (nobody to invite yet): from now on the round takes answers.
        svc = Services(settings=bot_settings(self.url), engine=self.engine,
                       sessionmaker=self.sessions,
                       signer=ButtonSigner(b"unused" * 6), clock=RealClock())
        await rounds.open_round(svc, self.round_id, at_once=True)

    async def workers(self, count: int) -> list[int]:
        """`count` new workers, in enterprises of ten."""
        ids: list[int] = []
        for size in [WORKERS_PER_ENTERPRISE] * (count // WORKERS_PER_ENTERPRISE) + \
                ([count % WORKERS_PER_ENTERPRISE] if count % WORKERS_PER_ENTERPRISE else []):
            world = await seed_enterprises(self.sessions, enterprises=1, workers_each=size,
                                           first_enterprise=self.next_enterprise,
                                           first_user=self.next_user, english_every=0)
            self.next_enterprise += 1
            self.next_user += size + 1
            ids += world.all_workers
        await analyze(self.sessions, self.kind)
        return ids

    async def finished(self, user_ids: list[int]) -> dict[int, int]:
        """Per worker with a final response: how many answers it holds."""
        async with self.sessions() as session:
            rows = (await session.execute(
                select(SurveyResponse.respondent_id, func.count(SurveyAnswer.question))
                .join(SurveyAnswer, SurveyAnswer.response_id == SurveyResponse.id)
                .where(SurveyResponse.respondent_id.in_(user_ids),
                       SurveyResponse.status == ResponseStatus.FINAL)
                .group_by(SurveyResponse.respondent_id))).all()
        return {user: n for user, n in rows if user is not None}


async def invite(svc: Services, sandbox: BotApiSandbox, round_id: int, user_ids: list[int],
                 within: float = 60.0) -> None:
    """Queue the round's invitations for everyone not invited yet (these workers), as the
    round's opening does, and wait until the outbox has delivered them."""
    for user_id in user_ids:
        sandbox.open_chat(user_id, f"Sari {user_id}", language_code="id")
    async with svc.sessionmaker() as session, session.begin():
        round_ = await session.get(SurveyRound, round_id)
        assert round_ is not None
        await round_queries.queue_messages(session, round_,
                                               await rounds.round_messages(svc, round_),
                                               now=svc.clock.now(), at_once=True)
    deadline = time.monotonic() + within
    waiting = set(user_ids)
    while waiting:
        waiting = {u for u in waiting if not any(
            b.get("text") == STEPS[0].value for m in sandbox.messages(u)
            for row in m.buttons for b in row)}
        if waiting and time.monotonic() > deadline:
            raise SystemExit(f"{len(waiting)} workers got no invitation within {within} s")
        await asyncio.sleep(0.05)


async def check(world: World, sandbox: BotApiSandbox, user_ids: list[int]) -> list[str]:
    problems = []
    failed = [c for c in sandbox.calls if c.error is not None]
    if failed:
        problems.append(f"{len(failed)} Bot API calls failed, e.g. {failed[0].method} "
                        f"{failed[0].error}")
    done = await world.finished(user_ids)
    for user_id in user_ids:
        texts = sandbox.texts(user_id)
        if any("maaf" in t.lower() or "sorry" in t.lower() for t in texts):
            problems.append(f"worker {user_id} got an apology")
        elif not texts or "Terima kasih" not in texts[-1]:
            problems.append(f"worker {user_id} did not finish: {texts[-1:]!r}")
        elif done.get(user_id) != ANSWERS:
            problems.append(f"worker {user_id}: {done.get(user_id)} answers stored")
    return problems


async def start_bot(world: World) -> tuple[BotApiSandbox, SandboxBot, Tracker]:
    """The bot on a sandbox of its own, flood limits out of the way, its updates tracked."""
    sandbox = BotApiSandbox()
    harness = SandboxBot(sandbox, partial(build_application, bot_settings(world.url),
                                          clock=RealClock(),
                                          flood_budget=SharedBudget(overall=10**6,
                                                                    per_chat=10**6)),
                         allowed_updates=ALLOWED_UPDATES)
    await harness.start()
    assert harness.app is not None
    tracker = Tracker()
    processor = harness.app.update_processor
    processor.do_process_update = tracker.wrap(processor.do_process_update)
    return sandbox, harness, tracker


async def run_bot(world: World, user_ids: list[int], warmup_ids: list[int], peak: Peak, *,
                  profiler: cProfile.Profile | None = None,
                  breakdown: Breakdown | None = None) -> Result:
    sandbox, harness, tracker = await start_bot(world)
    assert harness.app is not None
    svc = services_of(harness.app)
    fallbacks = Fallbacks()
    try:
        await invite(svc, sandbox, world.round_id, warmup_ids + user_ids)
        await asyncio.gather(*(walk(sandbox, tracker, u, i, echo=False, fallbacks=fallbacks,
                                    steps=STEPS) for i, u in enumerate(warmup_ids)))
        if breakdown is not None:
            breakdown.install(harness)

        async def drive() -> None:
            await asyncio.gather(*(walk(sandbox, tracker, u, i, echo=False,
                                        fallbacks=fallbacks, steps=STEPS)
                                   for i, u in enumerate(user_ids)))

        peak.reset()
        wall, cpu, loop_cpu = await timed(drive, tracker, profiler)
        latencies = list(tracker.latencies)
    finally:
        if breakdown is not None:
            breakdown.uninstall()
        await harness.stop()
    problems = await check(world, sandbox, warmup_ids + user_ids)
    return Result("bot", len(user_ids) * len(STEPS), wall, cpu, loop_cpu, latencies, problems,
                  fallbacks.used)


async def _echo_invitations(sandbox: BotApiSandbox, app: Any, user_ids: list[int]) -> None:
    """The bare bot's users get a message with one button first, as the invitation."""
    for user_id in user_ids:
        sandbox.open_chat(user_id, f"Sari {user_id}", language_code="id")
        await app.bot.send_message(user_id, "Survei pekerja", reply_markup=InlineKeyboardMarkup(
            [[InlineKeyboardButton("Mulai survei", callback_data="echo")]]))


# --- where an answer's time goes: the survey's use cases ---------------------------------------

# The survey path's calls into db/, each charged with everything it runs (its SQL, the ORM,
# the pool, commit): what one use case costs, not only its Python.
USE_CASES = ("places_of", "open_response", "record_answer", "finish_response")


class SurveyBreakdown(Breakdown):
    """conversation.py's breakdown, with the survey's db/ use cases as parts of the handlers:
    inside one of them nothing is split further."""

    def _enter(self, name: str,
               func: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        inner = super()._enter(name, func)

        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            task = asyncio.current_task()
            phase = self._phase.get(task) if task is not None else None
            if phase is not None and ": db." in phase:
                return await func(*args, **kwargs)
            return await inner(*args, **kwargs)

        return wrapper

    def install(self, harness: SandboxBot) -> None:
        super().install(harness)
        for name in USE_CASES:
            original = getattr(surveys_db, name)
            setattr(surveys_db, name, self._enter(f"db.surveys.{name}", original))
            self._undo.append(partial(setattr, surveys_db, name, original))


# --- the /kpi chart ----------------------------------------------------------------------------


async def charts(world: World, count: int, peak: Peak) -> tuple[list[str], list[str]]:
    """draw_trend alone, then /kpi through the bot: lines to print, and problems."""
    lines, problems = [], []
    owner_world = await seed_enterprises(world.sessions, enterprises=1, workers_each=0,
                                         first_enterprise=world.next_enterprise,
                                         first_user=world.next_user, english_every=0)
    world.next_enterprise += 1
    world.next_user += 1
    enterprise_id = owner_world.enterprise_ids[0]
    owner = owner_world.owners[enterprise_id]
    last = (RealClock().now().date().replace(day=1) - date.resolution).replace(day=1)
    months = await seed_kpi_history(world.sessions, enterprise_id=enterprise_id, owner=owner,
                                    last_period=last, months=12)

    # The chart alone, as handlers/kpi.py draws it (there in a thread, here on this one).
    history = await survey_results.kpi_history(world.sessions, enterprise_id)
    assert history.baseline is not None
    monthly = {m: kpi.rates(kpi.inputs_from(a)) for m, a in history.months.items()}
    chart = trend_data(monthly, kpi.rates(kpi.inputs_from(history.baseline)), kpi.HEADLINE_KEYS)
    with use_locale("id"):
        words = chart_words(f"PT Bench {enterprise_id}")
    peak.reset()
    started = time.perf_counter()
    png = draw_trend(chart, words)
    cold = time.perf_counter() - started
    draws = []
    for _ in range(count):
        started = time.perf_counter()
        draw_trend(chart, words)
        draws.append(time.perf_counter() - started)
    lines.append(f"draw_trend, {len(months)} months and a baseline, {len(chart.series)} panels, "
                 f"{len(png) / 1024:.0f} KiB PNG: first {1000 * cold:.0f} ms, then median "
                 f"{1000 * statistics.median(draws):.0f} ms (min {1000 * min(draws):.0f}, max "
                 f"{1000 * max(draws):.0f}, {count} draws); peak RSS {peak.read_mb():.0f} MiB")

    # /kpi end to end: the command in, the photo out, the commit after.
    sandbox, harness, tracker = await start_bot(world)
    sandbox.open_chat(owner, f"Sari {owner}", language_code="id")
    seconds = []
    peak.reset()
    try:
        for _ in range(count + 1):  # the first warms the bot's caches; not counted
            started = time.perf_counter()
            await asyncio.wait_for(tracker.expect(sandbox.send_text(owner, "/kpi")), 60)
            seconds.append(time.perf_counter() - started)
    finally:
        await harness.stop()
    photos = sandbox.calls_of("sendPhoto")
    if len(photos) != count + 1 or any(c.error is not None for c in sandbox.calls):
        problems.append(f"/kpi: {len(photos)} photos for {count + 1} commands, "
                        f"{sum(c.error is not None for c in sandbox.calls)} failed calls")
    timed_ = seconds[1:]
    lines.append(f"/kpi end to end: first {1000 * seconds[0]:.0f} ms, then median "
                 f"{1000 * statistics.median(timed_):.0f} ms (min {1000 * min(timed_):.0f}, max "
                 f"{1000 * max(timed_):.0f}, {len(timed_)} commands one after another); peak "
                 f"RSS {peak.read_mb():.0f} MiB")
    return lines, problems


# --- the run -----------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.survey_conversation",
                                     description=__doc__.split("\n\n")[0])
    add_run_args(parser, "workers")
    parser.add_argument("--charts", type=int, default=7,
                        help="draws and /kpi commands timed (default 7; 0: no chart part)")
    parser.add_argument("--breakdown", action="store_true",
                        help="also one more round of the bot with the event loop's CPU time "
                             "split into the parts of an update")
    parser.add_argument("--profile", action="store_true",
                        help="also profile one more round of each bot with cProfile")
    parser.add_argument("--floor", action="store_true",
                        help="also, in every round, the bare bots of benchmarks/floor.py: the "
                             "least any survey bot on this stack does per answer")
    return parser.parse_args(argv)


async def run_all(url: str, args: argparse.Namespace, log_path: str) -> int:
    load_catalogs()
    print(f"# {machine_header()}")
    print(f"# database: {args.db}; {args.users} workers x {len(STEPS)} updates at once, "
          f"{args.rounds} rounds; bare bot concurrency {args.echo_concurrency}; log at INFO "
          f"into {log_path}; load average {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    world = World(url, args.db)
    await world.open_round()
    peak = Peak()
    echo_users = UserIds(FIRST_USER - 10_000_000)  # the bare bots' users: only in their sandboxes
    bots: list[Result] = []
    bares: list[Result] = []
    problems: list[str] = []
    floors: dict[str, list[float]] = {}
    for round_no in range(1, args.rounds + 1):
        warm, timed_ids = echo_users.run(args.warmup, args.users)
        peak.reset()
        bare = await run_echo(timed_ids, warm, concurrency=args.echo_concurrency, steps=STEPS,
                              prepare=_echo_invitations)
        bare_peak = peak.read_mb()
        floor_lines = []
        for variant in (floor.VARIANTS if args.floor else ()):
            warm, timed_ids = echo_users.run(args.warmup, args.users)
            result = await floor.run_floor(variant, url, timed_ids, warm, steps=STEPS,
                                           concurrency=args.echo_concurrency)
            floors.setdefault(variant, []).append(result.rate / bare.rate)
            floor_lines.append(f"  {result.line()}; ratio {result.rate / bare.rate:.3f}")
            problems += result.problems
        warm, timed_ids = await world.workers(args.warmup), await world.workers(args.users)
        bot = await run_bot(world, timed_ids, warm, peak)
        bot_peak = peak.read_mb()
        bares.append(bare)
        bots.append(bot)
        print(f"round {round_no}:")
        print(f"  {bare.line()}; peak RSS {bare_peak:.0f} MiB")
        for line in floor_lines:
            print(line)
        print(f"  {bot.line()}; peak RSS {bot_peak:.0f} MiB")
        print(f"  ratio {bot.rate / bare.rate:.3f}")
        problems += bare.problems + bot.problems
        if bot.fallbacks:
            print(f"  note: buttons found by position, not text: {dict(bot.fallbacks)}")

    bot_rate = statistics.median(r.rate for r in bots)
    bare_rate = statistics.median(r.rate for r in bares)
    ratio = bot_rate / bare_rate
    ratios = sorted(b.rate / e.rate for b, e in zip(bots, bares, strict=True))
    print(f"median: bot {bot_rate:.1f} updates/s, bare PTB {bare_rate:.1f} updates/s, "
          f"ratio {ratio:.3f} (rounds {ratios[0]:.3f}-{ratios[-1]:.3f}); "
          f"process peak RSS {peak.max_rss_mb():.0f} MiB")
    for variant, ratios_of in floors.items():
        print(f"median ratio of {variant}: {statistics.median(ratios_of):.3f} "
              f"(rounds {min(ratios_of):.3f}-{max(ratios_of):.3f})")
    if args.breakdown:
        breakdown = SurveyBreakdown()
        warm, ids = await world.workers(args.warmup), await world.workers(args.users)
        result = await run_bot(world, ids, warm, peak, breakdown=breakdown)
        print(f"breakdown (every loop callback timed): {result.line()}")
        print("\n".join(breakdown.report(result)))
        problems += result.problems

    if args.profile:
        profiled = {}
        profiler = cProfile.Profile()
        warm, ids = echo_users.run(args.warmup, args.users)
        result = await run_echo(ids, warm, concurrency=args.echo_concurrency, steps=STEPS,
                                prepare=_echo_invitations, profiler=profiler)
        print(f"profiled {result.line()}")
        profiled["bare"] = (profiler, result)
        profiler = cProfile.Profile()
        warm, ids = await world.workers(args.warmup), await world.workers(args.users)
        result = await run_bot(world, ids, warm, peak, profiler=profiler)
        print(f"profiled {result.line()}")
        profiled["bot"] = (profiler, result)
        problems += result.problems
        print("profile (cProfile slows Python down: read calls and shares, not seconds):")
        print("\n".join(profile_report(profiled["bare"], profiled["bot"], top=30)))

    if args.charts:
        lines, wrong = await charts(world, args.charts, peak)
        print("\n".join(lines))
        problems += wrong
    await world.engine.dispose()

    verdict = "PASS" if ratio >= TARGET else "FAIL"
    print(f"{verdict}: ratio {ratio:.3f} (target >= {TARGET}); process peak RSS "
          f"{peak.max_rss_mb():.0f} MiB; load average now "
          f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    if problems:
        print(f"FAIL: the conversations did not go as expected ({len(problems)} problems):")
        for problem in problems[:10]:
            print(f"  {problem}")
    return 0 if verdict == "PASS" and not problems else 1


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-survey-conversation-") as tmpdir:
        url = prepare_database(args.db, tmpdir)
        log_path = os.path.join(tmpdir, "bot.log")
        with logging_into(log_path):
            return asyncio.run(run_all(url, args, log_path))


if __name__ == "__main__":
    sys.exit(main())
