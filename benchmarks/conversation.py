"""A conversation's round trip through the whole bot, against a bare python-telegram-bot echo
bot on the same Bot API sandbox, in the same run.

    .venv/bin/python -m benchmarks.conversation --db sqlite      # about 30 seconds
    .venv/bin/python -m benchmarks.conversation --db postgres    # the database `bench`
    ... --breakdown         # also: where the event loop's time goes, per update
    ... --profile           # also: Python calls per update and self time, by package
    ... --try no-timeout    # also: the bot with an experiment (EXPERIMENTS below)

50 users (`--users`) go through first contact and enrolment at once: /start, language,
consent, role "owner", then name, sector, province, city, workers, contact and phone: 11
updates each. Every simulated user waits until the bot has finished with their update
(handlers and the commit after it) before sending the next one, as a person waits for the next
question. The bare bot gets the same stream of texts and button presses from as many users and
answers each with one sendMessage (and answerCallbackQuery for a press). The figure is
updates/s of the bot divided by updates/s of the bare bot; the target is at least 0.6.

Buttons are found by their visible text, or by their position when that text is gone, so the
script keeps working when the handlers behind the questions are rewritten. At the end every
user must be at the modules question (a message with five numbered buttons), no Bot API call
may have failed, and no user may have got an error apology: otherwise the run FAILs.

Both bots run in this process on the in-process sandbox (bot/sandbox.py), started the way the
tests start them (bot/sandbox_bot.py), with logging at INFO into a file as in production.
SQLite is a file in a temporary directory; PostgreSQL is `BENCH_DATABASE_URL` (default: the
database `bench` on 127.0.0.1), whose schema is dropped and recreated.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import gc
import inspect
import logging
import os
import pstats
import re
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from sqlalchemy import event
from telegram import Update
from telegram.ext import (
    CallbackQueryHandler,
    ContextTypes,
    ExtBot,
    MessageHandler,
    SimpleUpdateProcessor,
    TypeHandler,
    filters,
)

from benchmarks.common import machine_header, peak_rss_mb, prepare_database
from bot.app import ALLOWED_UPDATES, build_application
from bot.flood_limits import SharedBudget
from bot.logs import setup_logging
from chat.clock import RealClock
from chat.context import services_of
from chat.i18n import load_catalogs
from config.settings import Settings
from db import contact as contact_module
from sandbox import BotApiSandbox, SandboxBot

FIRST_USER_ID = 200_000_000
STAFF_ID = 9001
TARGET = 0.6


# --- the conversation --------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One thing a user does. A press names the button's visible text; `position` (in the
    message's buttons, row by row) is used when no button shows that text any more."""

    kind: str  # "text" or "press"
    value: str
    position: int = 0


# First contact and enrolment up to the modules question, as an owner answers it in Indonesian.
STEPS = (
    Step("text", "/start"),
    Step("press", "Bahasa Indonesia", 0),
    Step("press", "Setuju", 0),
    Step("press", "Pemilik", 0),
    Step("text", "PT Maju Jaya {n}"),
    Step("press", "Suku cadang", 0),
    Step("text", "jabar"),
    Step("text", "Bekasi"),
    Step("text", "120"),
    Step("text", "Sari Wulandari"),
    Step("text", "0812 3456 {n:04d}"),
)


class Tracker:
    """Resolves a future when the application has completely finished with an update (for our
    bot: handlers and the commit after them), keyed by update_id."""

    def __init__(self) -> None:
        self.waiting: dict[int, asyncio.Future[None]] = {}
        self.latencies: list[float] = []

    def expect(self, update_id: int) -> asyncio.Future[None]:
        future = asyncio.get_running_loop().create_future()
        self.waiting[update_id] = future
        return future

    def done(self, update: object) -> None:
        if isinstance(update, Update):
            future = self.waiting.pop(update.update_id, None)
            if future is not None and not future.done():
                future.set_result(None)

    def wrap(self, process: Callable[[object, Awaitable[Any]], Awaitable[None]]):
        async def tracked(update: object, coroutine: Awaitable[Any]) -> None:
            try:
                await process(update, coroutine)
            finally:
                self.done(update)

        return tracked


class Fallbacks:
    def __init__(self) -> None:
        self.used: Counter[str] = Counter()


def _press(sandbox: BotApiSandbox, user_id: int, step: Step, fallbacks: Fallbacks) -> int:
    try:
        return sandbox.press_button(user_id, step.value)
    except LookupError:
        pass
    # The label changed: the button at the same place on the latest message with buttons.
    for message in reversed(sandbox.messages(user_id)):
        buttons = [b for row in message.buttons for b in row if "callback_data" in b]
        if len(buttons) > step.position:
            fallbacks.used[step.value] += 1
            return sandbox.press(user_id, buttons[step.position]["callback_data"],
                                 message_id=message.message_id)
    last = sandbox.messages(user_id)[-1:] or [None]
    raise LookupError(f"user {user_id}: no button {step.value!r} and no buttons at all; the "
                      f"bot's last message: {last[0].text if last[0] else None!r}")


async def walk(sandbox: BotApiSandbox, tracker: Tracker, user_id: int, n: int, *,
               echo: bool, fallbacks: Fallbacks, timeout: float = 60.0,
               steps: Sequence[Step] = STEPS) -> None:
    """One user through all the steps, each sent once the previous one was fully handled."""
    for step in steps:
        started = time.perf_counter()
        if step.kind == "text":
            update_id = sandbox.send_text(user_id, step.value.format(n=n))
        elif echo:
            update_id = sandbox.press(user_id, "echo")
        else:
            update_id = _press(sandbox, user_id, step, fallbacks)
        await asyncio.wait_for(tracker.expect(update_id), timeout)
        tracker.latencies.append(time.perf_counter() - started)


async def conversation(sandbox: BotApiSandbox, tracker: Tracker, user_ids: list[int], *,
                       echo: bool, fallbacks: Fallbacks, steps: Sequence[Step] = STEPS,
                       new_users: bool = True) -> None:
    """All users at once; `new_users`: as people the sandbox has not seen yet."""
    if new_users:
        for user_id in user_ids:
            sandbox.add_user(user_id, f"Sari {user_id}", language_code="id")
    await asyncio.gather(*(walk(sandbox, tracker, user_id, i, echo=echo, fallbacks=fallbacks,
                                steps=steps)
                           for i, user_id in enumerate(user_ids)))


def check_bot(sandbox: BotApiSandbox, user_ids: list[int]) -> list[str]:
    """What went wrong in the bot's conversations, if anything."""
    problems = []
    failed = [c for c in sandbox.calls if c.error is not None]
    if failed:
        problems.append(f"{len(failed)} Bot API calls failed, e.g. {failed[0].method} "
                        f"{failed[0].error}")
    for user_id in user_ids:
        messages = sandbox.messages(user_id)
        if any("maaf" in (m.text or "").lower() or "sorry" in (m.text or "").lower()
               for m in messages):
            problems.append(f"user {user_id} got an apology")
            continue
        last = messages[-1] if messages else None
        numbered = [b for row in (last.buttons if last else []) for b in row
                    if any(f"{k}." in b.get("text", "") for k in range(1, 6))]
        if len(numbered) < 5:
            problems.append(f"user {user_id} is not at the modules question: "
                            f"{(last.text if last else None)!r}")
    return problems


# --- the two bots ------------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    updates: int
    wall: float
    cpu: float  # the whole process
    loop_cpu: float  # the event loop's thread alone (the rest: aiosqlite's threads)
    latencies: list[float]
    problems: list[str] = field(default_factory=list)
    fallbacks: Counter[str] = field(default_factory=Counter)

    @property
    def rate(self) -> float:
        return self.updates / self.wall

    def line(self) -> str:
        lat = sorted(self.latencies)
        p50 = 1000 * statistics.median(lat)
        p95 = 1000 * lat[int(0.95 * (len(lat) - 1))]
        return (f"{self.name:5} {self.updates:5d} updates in {self.wall:6.2f} s: "
                f"{self.rate:7.1f} updates/s; CPU {1e6 * self.cpu / self.updates:5.0f} µs/update "
                f"(loop {1e6 * self.loop_cpu / self.updates:5.0f}; "
                f"{100 * self.cpu / self.wall:3.0f}% of wall); round trip p50 {p50:5.1f} ms, "
                f"p95 {p95:5.1f} ms")


def bot_settings(url: str) -> Settings:
    return Settings(_env_file=None, database_url=url,  # type: ignore[call-arg]
                    staff_ids=frozenset({STAFF_ID}), bot_token=None, default_locale="id")


async def timed(drive: Callable[[], Awaitable[None]], tracker: Tracker,
                profiler: cProfile.Profile | None) -> tuple[float, float, float]:
    """Wall time, process CPU time and event-loop thread CPU time of one drive."""
    # The heap left by earlier runs (the sandboxes keep every call) is set aside, so that a
    # full garbage collection scans only what this run allocates.
    gc.collect()
    gc.freeze()
    tracker.latencies.clear()
    cpu, loop_cpu, started = time.process_time(), time.thread_time(), time.perf_counter()
    if profiler is not None:
        profiler.enable()
    try:
        await drive()
    finally:
        if profiler is not None:
            profiler.disable()
        gc.unfreeze()
    return (time.perf_counter() - started, time.process_time() - cpu,
            time.thread_time() - loop_cpu)


async def run_bot(url: str, user_ids: list[int], warmup_ids: list[int], *,
                  profiler: cProfile.Profile | None = None,
                  breakdown: Breakdown | None = None,
                  experiments: list[str] | None = None) -> Result:
    sandbox = BotApiSandbox()
    # The outbox sender polls the database once a second; it stays on, as in production.
    # Telegram's flood limits are not the bot's cost: a budget as wide as the bare bot's (none).
    harness = SandboxBot(sandbox, partial(build_application, bot_settings(url),
                                          clock=RealClock(),
                                          flood_budget=SharedBudget(overall=10**6,
                                                                    per_chat=10**6)),
                         allowed_updates=ALLOWED_UPDATES)
    await harness.start()
    tracker = Tracker()
    processor = harness.app.update_processor
    processor.do_process_update = tracker.wrap(processor.do_process_update)  # type: ignore[method-assign]
    fallbacks = Fallbacks()
    undo_experiments = try_experiments(harness, experiments or [])
    try:
        await conversation(sandbox, tracker, warmup_ids, echo=False, fallbacks=fallbacks)
        if breakdown is not None:
            breakdown.install(harness)

        async def drive() -> None:
            await conversation(sandbox, tracker, user_ids, echo=False, fallbacks=fallbacks)

        wall, cpu, loop_cpu = await timed(drive, tracker, profiler)
        latencies = list(tracker.latencies)
    finally:
        if breakdown is not None:
            breakdown.uninstall()
        undo_experiments()
        await harness.stop()
    return Result("bot+try" if experiments else "bot", len(user_ids) * len(STEPS), wall, cpu,
                  loop_cpu, latencies, check_bot(sandbox, warmup_ids + user_ids), fallbacks.used)


class _EchoProcessor(SimpleUpdateProcessor):
    """PTB's own concurrent processor; tells the tracker when an update is done."""

    def __init__(self, concurrency: int, tracker: Tracker):
        super().__init__(concurrency)
        self.tracker = tracker

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        try:
            await coroutine
        finally:
            self.tracker.done(update)


async def _echo_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_chat is not None and update.message is not None
    await context.bot.send_message(update.effective_chat.id, update.message.text or "")


async def _echo_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_chat is not None and update.callback_query is not None
    await update.callback_query.answer()
    await context.bot.send_message(update.effective_chat.id, update.callback_query.data or "")


async def run_echo(user_ids: list[int], warmup_ids: list[int], *, concurrency: int,
                   profiler: cProfile.Profile | None = None, steps: Sequence[Step] = STEPS,
                   prepare: Callable[[BotApiSandbox, Any, list[int]], Awaitable[None]]
                   | None = None) -> Result:
    """The bare bot: PTB's Application on the same sandbox, polling the same way, one
    sendMessage per update. `prepare(sandbox, app, users)` runs before the users start."""
    sandbox = BotApiSandbox()
    tracker = Tracker()
    builder = sandbox.application_builder()
    if concurrency > 1:
        builder = builder.concurrent_updates(_EchoProcessor(concurrency, tracker))
    app = builder.build()
    if concurrency <= 1:
        app.add_handler(TypeHandler(Update, _done_later(tracker)), group=1)
    app.add_handler(MessageHandler(filters.TEXT, _echo_text))
    app.add_handler(CallbackQueryHandler(_echo_button))
    await app.initialize()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=1, allowed_updates=ALLOWED_UPDATES)
    await app.start()
    fallbacks = Fallbacks()
    try:
        if prepare is not None:
            await prepare(sandbox, app, warmup_ids + user_ids)
        await conversation(sandbox, tracker, warmup_ids, echo=True, fallbacks=fallbacks,
                           steps=steps, new_users=prepare is None)

        async def drive() -> None:
            await conversation(sandbox, tracker, user_ids, echo=True, fallbacks=fallbacks,
                               steps=steps, new_users=prepare is None)

        wall, cpu, loop_cpu = await timed(drive, tracker, profiler)
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
    failed = [c for c in sandbox.calls if c.error is not None]
    return Result("bare", len(user_ids) * len(steps), wall, cpu, loop_cpu,
                  list(tracker.latencies),
                  [f"{len(failed)} Bot API calls failed"] if failed else [])


def _done_later(tracker: Tracker):
    """Sequential PTB (no concurrent processor): a last group marks the update done."""

    async def mark(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        tracker.done(update)

    return mark


# --- experiments: what changes outside the wiring would bring -------------------------------

EXPERIMENTS = {
    "no-timeout": "ConversationHandlers without conversation_timeout (PTB then schedules no "
                  "job per update)",
    "cached-gate": "the gate takes the user row from a cache emptied by any write to users "
                   "(an upper bound: no database read in the gate)",
}


def try_experiments(harness: SandboxBot, names: list[str]) -> Callable[[], None]:
    """Change the running bot for the named experiments; returns what undoes them. These
    are measurements of ideas, not changes the bot has."""
    app = harness.app
    assert app is not None
    undo: list[Callable[[], None]] = []
    if "cached-gate" in names:
        cache: dict[int, Any] = {}
        touch = contact_module.touch_user

        async def cached(session: Any, user_id: int, **kwargs: Any) -> Any:
            if user_id not in cache:
                cache[user_id] = await touch(session, user_id, **kwargs)
            return cache[user_id]

        def forget(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            if re.match(r"\s*(UPDATE|INSERT INTO|DELETE FROM) users\b", statement, re.I):
                cache.clear()

        engine = services_of(app).engine.sync_engine
        event.listen(engine, "before_cursor_execute", forget)
        contact_module.touch_user = cached  # type: ignore[assignment]
        undo.append(lambda: setattr(contact_module, "touch_user", touch))
    return lambda: [u() for u in reversed(undo)] and None


# --- where one update's time goes --------------------------------------------------------------


class Breakdown:
    """Where the event loop's CPU time goes, per update, with all users at once.

    Every callback the loop runs is timed (thread CPU time) and charged to the part of the
    update its task is in: the gate (group -1), the handlers (group 0), the commit after the
    update (persistence), and inside those the Bot API calls (PTB and httpx on our side),
    the sandbox (the Bot API server's side) and the database (SQLAlchemy's async calls: the
    ORM, the pool and the driver). Results that aiosqlite's threads hand back are callbacks
    of their own; so are the polling task, PTB's dispatch before our processor takes over,
    and the outbox sender. What is left is the loop itself (epoll, scheduling).
    """

    def __init__(self) -> None:
        self.cpu: defaultdict[str, float] = defaultdict(float)
        self.counts: Counter[str] = Counter()
        self._phase: dict[asyncio.Task[Any], str] = {}
        self._undo: list[Callable[[], None]] = []
        self._loop_cpu = 0.0
        self._current: str | None = None
        self._mark = 0.0

    # where a task is: a callback is charged to the part it runs in, switching parts as the
    # task enters and leaves them (one step of a task often goes from the gate through a
    # handler's Bot API calls, which the in-process sandbox answers without waiting)
    def _switch(self, part: str | None) -> None:
        now = time.thread_time()
        if self._current is not None:
            self.cpu[self._current] += now - self._mark
        self._current, self._mark = part, now

    def _enter(self, name: str, func: Callable[..., Awaitable[Any]]):
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            task = asyncio.current_task()
            assert task is not None
            previous = self._phase.get(task)
            here = name if previous is None or name in ("gate", "handlers", "persistence") \
                else f"{previous.split(': ')[0]}: {name}"
            self._phase[task] = here
            self._switch(here)
            try:
                return await func(*args, **kwargs)
            finally:
                if previous is None:
                    self._phase.pop(task, None)
                else:
                    self._phase[task] = previous
                self._switch(self._part_of_task(task))

        return wrapper

    def _part_of_task(self, task: asyncio.Task[Any]) -> str:
        phase = self._phase.get(task)
        if phase is not None:
            return phase
        name = task.get_name()
        qualname = getattr(task.get_coro(), "__qualname__", "") or ""
        if "polling" in name or "polling" in qualname or qualname == "Event.wait":
            return "polling (getUpdates, Update.de_json)"
        if "process_concurrent_update" in name or "update_fetcher" in name:
            return "dispatch (PTB, processor, logging)"
        if qualname == "AsyncSession.close":
            return "closing sessions (SQLAlchemy runs it as a task, any part)"
        if qualname == "walk":
            return "the simulated users (benchmark)"
        if "OutboxSender" in qualname:
            return "outbox sender"
        return "other tasks"

    def _part(self, callback: Any) -> str:
        owner = getattr(callback, "__self__", None)
        if isinstance(owner, asyncio.Task):
            return self._part_of_task(owner)
        if isinstance(owner, asyncio.Future):
            return "database driver results (aiosqlite threads)"
        name = getattr(callback, "__qualname__", type(callback).__name__)
        if "set_result" in name or "set_exception" in name:
            return "database driver results (aiosqlite threads)"
        return "other callbacks (timers, jobs)"

    def install(self, harness: SandboxBot) -> None:
        app = harness.app
        assert app is not None
        processor = app.update_processor
        breakdown = self

        run = asyncio.events.Handle._run

        def timed_run(handle: asyncio.Handle) -> None:
            breakdown._switch(breakdown._part(handle._callback))  # type: ignore[attr-defined]
            try:
                run(handle)
            finally:
                breakdown._switch(None)

        asyncio.events.Handle._run = timed_run  # type: ignore[method-assign]
        self._undo.append(lambda: setattr(asyncio.events.Handle, "_run", run))

        handle = processor._handle

        async def timed_handle(update: object, coroutine: Awaitable[Any]) -> None:
            async def handlers() -> Any:
                return await coroutine

            await handle(update, self._enter("handlers", handlers)())

        processor._handle = timed_handle  # type: ignore[method-assign]
        self._undo.append(lambda: delattr(processor, "_handle"))
        after = processor.after_update
        assert after is not None
        processor.after_update = self._enter("persistence", after)
        self._undo.append(lambda: setattr(processor, "after_update", after))
        gate_handler = next(h for h in app.handlers[-1] if isinstance(h, TypeHandler))
        gate = gate_handler.callback
        gate_handler.callback = self._enter("gate", gate)  # type: ignore[assignment]
        self._undo.append(lambda: setattr(gate_handler, "callback", gate))

        # Bot API calls (class level: Bot has __slots__), the sandbox inside them.
        do_post = ExtBot._do_post

        async def counted_post(bot: Any, endpoint: str, *args: Any, **kwargs: Any) -> Any:
            if endpoint != "getUpdates":
                breakdown.counts["Bot API calls"] += 1
            return await do_post(bot, endpoint, *args, **kwargs)

        timed_post = self._enter("Bot API calls", counted_post)

        async def post(bot: Any, endpoint: str, *args: Any, **kwargs: Any) -> Any:
            if endpoint == "getUpdates" or asyncio.current_task() not in self._phase:
                return await counted_post(bot, endpoint, *args, **kwargs)
            return await timed_post(bot, endpoint, *args, **kwargs)

        ExtBot._do_post = post  # type: ignore[method-assign]
        self._undo.append(lambda: setattr(ExtBot, "_do_post", do_post))
        sandbox = harness.sandbox
        serve = sandbox.transport.handler  # type: ignore[attr-defined]

        async def answer(request: Any) -> Any:
            response = serve(request)
            return await response if inspect.isawaitable(response) else response

        timed_answer = self._enter("the sandbox", answer)

        async def timed_serve(request: Any) -> Any:
            if request.url.path.endswith("/getUpdates") or \
                    asyncio.current_task() not in self._phase:
                return await answer(request)
            return await timed_answer(request)

        sandbox.transport.handler = timed_serve  # type: ignore[attr-defined]
        self._undo.append(lambda: setattr(sandbox.transport, "handler", serve))

        # The database: everything SQLAlchemy's asyncio layer runs (ORM, pool, driver).
        from sqlalchemy.ext.asyncio import engine as sa_engine
        from sqlalchemy.ext.asyncio import result as sa_result
        from sqlalchemy.ext.asyncio import session as sa_session
        for module in (sa_engine, sa_result, sa_session):
            spawn = module.greenlet_spawn  # type: ignore[attr-defined]
            wrapped = self._enter("database", spawn)

            async def in_phase(*args: Any, _spawn: Any = spawn, _wrapped: Any = wrapped,
                               **kwargs: Any) -> Any:
                if asyncio.current_task() in self._phase:
                    return await _wrapped(*args, **kwargs)
                return await _spawn(*args, **kwargs)

            module.greenlet_spawn = in_phase  # type: ignore[attr-defined]
            self._undo.append(lambda m=module, f=spawn: setattr(m, "greenlet_spawn", f))

        engine = services_of(app).engine.sync_engine

        def statement(_conn: Any, _cursor: Any, text: str, *_args: Any) -> None:
            self.counts["SQL statements"] += 1

        event.listen(engine, "before_cursor_execute", statement)
        self._undo.append(lambda: event.remove(engine, "before_cursor_execute", statement))
        self._loop_cpu = time.thread_time()

    def uninstall(self) -> None:
        self._loop_cpu = time.thread_time() - self._loop_cpu
        for undo in reversed(self._undo):
            undo()
        self._undo.clear()

    def report(self, result: Result) -> list[str]:
        n = result.updates

        def us(seconds: float) -> str:
            return f"{1e6 * seconds / n:7.0f}"

        parts: defaultdict[str, dict[str, float]] = defaultdict(dict)
        for key, seconds in self.cpu.items():
            part, _, inside = key.partition(": ")
            parts[part][inside or "(its own code)"] = seconds
        lines = ["  event loop CPU per update, µs:"]
        for part, inside in sorted(parts.items(), key=lambda kv: -sum(kv[1].values())):
            lines.append(f"  {part:58} {us(sum(inside.values()))}")
            if len(inside) > 1:
                for name, seconds in sorted(inside.items(), key=lambda kv: -kv[1]):
                    lines.append(f"    {name:56} {us(seconds)}")
        accounted = sum(self.cpu.values())
        lines.append(f"  {'the loop itself (epoll, scheduling)':58} "
                     f"{us(max(0.0, self._loop_cpu - accounted))}")
        lines.append(f"  {'total':58} {us(self._loop_cpu)}")
        lines.append(f"  per update: {self.counts['SQL statements'] / n:.1f} SQL statements, "
                     f"{self.counts['Bot API calls'] / n:.2f} Bot API calls (getUpdates not "
                     f"counted)")
        return lines


# --- the profile -------------------------------------------------------------------------------

_CATEGORIES = (
    ("/bot/sandbox.py", "sandbox (the Bot API emulator)"),
    ("/telegram/ext/_handlers/conversationhandler", "PTB ConversationHandler"),
    ("/telegram/ext/_jobqueue", "PTB JobQueue"),
    ("/apscheduler/", "APScheduler (conversation timeouts)"),
    ("/telegram/ext/", "PTB ext (Application, handlers, persistence glue)"),
    ("/telegram/request/", "PTB request (HTTPXRequest)"),
    ("/telegram/", "PTB objects and Bot (de_json, to_dict)"),
    ("/httpx/", "httpx"), ("/httpcore/", "httpx"), ("/anyio/", "httpx"),
    ("/sqlalchemy/", "SQLAlchemy"),
    ("/aiosqlite/", "database driver"), ("/asyncpg/", "database driver"),
    ("/sqlite3/", "database driver"),
    ("/asyncio/", "asyncio"),
    ("/logging/", "logging"),
    ("/json/", "json"),
    ("/copy.py", "copy.deepcopy"),
    ("/gettext.py", "i18n (gettext, Babel)"), ("/babel/", "i18n (gettext, Babel)"),
    ("/benchmarks/", "benchmark harness"),
    ("/handlers/", "our code: handlers/"),
    ("/chat/", "our code: chat/"),
    ("/db/", "our code: db/"),
    ("/domain/", "our code: domain/"),
    ("/bot/", "our code: bot/ (processor, persistence)"),
    ("/jobs/", "our code: jobs/"),
)


def _category(filename: str, function: str) -> str:
    if filename == "~":
        if "epoll" in function or "select" in function:
            return "idle (waiting in epoll)"
        if "greenlet" in function or "switch" in function:
            return "greenlet switches"
        return "C builtins (dict, str, time, ...)"
    for marker, name in _CATEGORIES:
        if marker in filename:
            return name
    return "other Python"


def _by_category(profiler: cProfile.Profile) -> tuple[Counter[str], Counter[str],
                                                      list[tuple[float, int, str]]]:
    """Function calls and self time per package, and every function's (self time, calls)."""
    calls: Counter[str] = Counter()
    seconds: Counter[str] = Counter()
    functions = []
    for (filename, line, function), (_cc, count, self_time, _cum, _callers) in \
            pstats.Stats(profiler).stats.items():  # type: ignore[attr-defined]
        category = _category(filename, function)
        calls[category] += count
        seconds[category] += self_time
        functions.append((self_time, count, f"{os.path.basename(filename)}:{line} {function}"))
    return calls, seconds, functions


def profile_report(bare: tuple[cProfile.Profile, Result], bot: tuple[cProfile.Profile, Result],
                   top: int = 20) -> list[str]:
    """Python function calls per update (nearly the same in every run, whatever else the
    machine is doing), and the share of self time, per package, for both bots."""
    bare_calls, bare_seconds, _ = _by_category(bare[0])
    bot_calls, bot_seconds, functions = _by_category(bot[0])
    n_bare, n_bot = bare[1].updates, bot[1].updates
    total_bare, total_bot = sum(bare_seconds.values()), sum(bot_seconds.values())
    lines = [f"  {'package':48} {'calls/update':>25} {'share of self time':>22}",
             f"  {'':48} {'bare':>12} {'bot':>12} {'bare':>11} {'bot':>10}"]
    for name in sorted(set(bot_calls) | set(bare_calls), key=lambda k: -bot_seconds[k]):
        lines.append(f"  {name:48} {bare_calls[name] / n_bare:12.0f} "
                     f"{bot_calls[name] / n_bot:12.0f} "
                     f"{100 * bare_seconds[name] / total_bare:10.1f}% "
                     f"{100 * bot_seconds[name] / total_bot:9.1f}%")
    lines.append(f"  {'total':48} {sum(bare_calls.values()) / n_bare:12.0f} "
                 f"{sum(bot_calls.values()) / n_bot:12.0f}")
    lines.append(f"  the bot's top {top} functions by self time (share, calls per update):")
    for self_time, count, where in sorted(functions, reverse=True)[:top]:
        lines.append(f"    {100 * self_time / total_bot:5.1f}%  {count / n_bot:8.1f}  "
                     f"{where[:90]}")
    return lines


# --- the run -----------------------------------------------------------------------------------


def add_run_args(parser: argparse.ArgumentParser, who: str) -> None:
    """What every benchmark of a bot against the bare bot takes: the database, how many
    `who` at once, rounds, warm-up, the bare bot's concurrency."""
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--users", type=int, default=50, help=f"{who} at once (default 50)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="bare and bot runs, alternating; the median counts (default 3)")
    parser.add_argument("--warmup", type=int, default=5,
                        help=f"{who} walked through before timing, per bot (default 5)")
    parser.add_argument("--echo-concurrency", type=int, default=64,
                        help="the bare bot's concurrent updates (our bot: 64; 1 = PTB's "
                             "default, sequential)")


class UserIds:
    """Fresh user ids for each run: a warm-up's and a timed run's, never used twice."""

    def __init__(self, first: int):
        self.next = first

    def take(self, count: int) -> list[int]:
        taken = list(range(self.next, self.next + count))
        self.next += count
        return taken

    def run(self, warmup: int, count: int) -> tuple[list[int], list[int]]:
        """Ids for a warm-up of `warmup` users, then `count` timed ones."""
        return self.take(warmup), self.take(count)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.conversation",
                                     description=__doc__.split("\n\n")[0])
    add_run_args(parser, "users")
    parser.add_argument("--breakdown", action="store_true",
                        help="also one more round of the bot with the event loop's CPU time "
                             "split into the parts of an update")
    parser.add_argument("--try", dest="experiments", default="",
                        help="also run the bot with these experiments, comma-separated: "
                             + "; ".join(f"{k}: {v}" for k, v in EXPERIMENTS.items()))
    parser.add_argument("--profile", action="store_true",
                        help="also profile one more round of each bot with cProfile")
    return parser.parse_args(argv)


async def run_all(url: str, args: argparse.Namespace, log_path: str) -> int:
    load_catalogs()
    print(f"# {machine_header()}")
    print(f"# database: {args.db}; {args.users} users x {len(STEPS)} updates at once, "
          f"{args.rounds} rounds; bare bot concurrency {args.echo_concurrency}; "
          f"log at INFO into {log_path}")
    users = UserIds(FIRST_USER_ID)
    experiments = [e for e in args.experiments.split(",") if e]
    unknown = set(experiments) - set(EXPERIMENTS)
    if unknown:
        raise SystemExit(f"unknown experiments: {', '.join(sorted(unknown))}")
    tried_bots: list[Result] = []
    bots: list[Result] = []
    bares: list[Result] = []
    problems: list[str] = []
    for round_no in range(1, args.rounds + 1):
        warm, timed_ids = users.run(args.warmup, args.users)
        bare = await run_echo(timed_ids, warm, concurrency=args.echo_concurrency)
        bot = await run_bot(url, timed_ids, warm)
        bares.append(bare)
        bots.append(bot)
        print(f"round {round_no}:")
        print(f"  {bare.line()}")
        print(f"  {bot.line()}")
        print(f"  ratio {bot.rate / bare.rate:.3f}")
        problems += bare.problems + bot.problems
        if experiments:
            tried = await run_bot(url, users.take(args.users), [], experiments=experiments)
            tried_bots.append(tried)
            print(f"  {tried.line()}")
            print(f"  ratio with {','.join(experiments)}: {tried.rate / bare.rate:.3f}")
            problems += tried.problems
        if bot.fallbacks:
            print(f"  note: buttons found by position, not text: {dict(bot.fallbacks)}")

    bot_rate = statistics.median(r.rate for r in bots)
    bare_rate = statistics.median(r.rate for r in bares)
    ratio = bot_rate / bare_rate
    ratios = sorted(b.rate / e.rate for b, e in zip(bots, bares))
    print(f"median: bot {bot_rate:.1f} updates/s, bare PTB {bare_rate:.1f} updates/s, "
          f"ratio {ratio:.3f} (rounds {ratios[0]:.3f}-{ratios[-1]:.3f}); "
          f"peak RSS {peak_rss_mb():.0f} MiB")
    if tried_bots:
        tried_rate = statistics.median(r.rate for r in tried_bots)
        print(f"median with {','.join(experiments)} (an experiment, not the bot): "
              f"{tried_rate:.1f} updates/s, ratio {tried_rate / bare_rate:.3f}")

    if args.breakdown:
        breakdown = Breakdown()
        warm, ids = users.run(args.warmup, args.users)
        result = await run_bot(url, ids, warm, breakdown=breakdown)
        print(f"breakdown (every loop callback timed): {result.line()}")
        print("\n".join(breakdown.report(result)))
        problems += result.problems

    if args.profile:
        profiled = {}
        for name in ("bare", "bot"):
            profiler = cProfile.Profile()
            warm, ids = users.run(args.warmup, args.users)
            if name == "bot":
                result = await run_bot(url, ids, warm, profiler=profiler)
            else:
                result = await run_echo(ids, warm, concurrency=args.echo_concurrency,
                                        profiler=profiler)
            print(f"profiled {result.line()}")
            profiled[name] = (profiler, result)
            problems += result.problems
        print("profile (cProfile slows Python down: read calls and shares, not seconds):")
        print("\n".join(profile_report(profiled["bare"], profiled["bot"])))

    verdict = "PASS" if ratio >= TARGET else "FAIL"
    print(f"{verdict}: ratio {ratio:.3f} (target >= {TARGET})")
    if problems:
        print(f"FAIL: the conversations did not go as expected ({len(problems)} problems):")
        for problem in problems[:10]:
            print(f"  {problem}")
    return 0 if verdict == "PASS" and not problems else 1


@contextlib.contextmanager
def logging_into(log_path: str) -> Iterator[None]:
    """As `score-bot run` logs (bot/logs.py), at INFO, into a file instead of the terminal."""
    setup_logging("INFO")
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    file_handler = logging.FileHandler(log_path)
    file_handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: "
                                                "%(message)s"))
    root.addHandler(file_handler)
    try:
        yield
    finally:
        root.removeHandler(file_handler)
        file_handler.close()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-conversation-") as tmpdir:
        url = prepare_database(args.db, tmpdir)
        log_path = os.path.join(tmpdir, "bot.log")
        with logging_into(log_path):
            return asyncio.run(run_all(url, args, log_path))


if __name__ == "__main__":
    sys.exit(main())
