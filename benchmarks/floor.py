"""The least any survey bot on this stack must do per answer, as a bare PTB bot: the ceiling
of the survey benchmark's ratio, whatever the bot's design.

Issue 8 fixes what an answer involves: the choices are buttons (so every question goes out
with its keyboard, and every press comes back with the message it was pressed on), and every
answer is stored as it is given. Issue 6 adds that who may answer is checked at every answer.
Three bare python-telegram-bot bots (PTB's own `Application`, concurrent processor, no
persistence, no gate, no flow, no signing, no i18n) each answer every press with
`answerCallbackQuery` and one `sendMessage` carrying a question and six buttons, as the survey
does:

  floor-telegram     nothing else: the Telegram traffic alone;
  floor-write        and one INSERT of the answer, committed, through SQLAlchemy's asyncio
                     Core (a connection from the pool, no ORM session), before replying;
  floor-read-write   and one SELECT of the user's row first, in the same transaction (the
                     role check of every answer);
  floor-group-write  the answer handed to one writer task, which inserts everything handed
                     to it meanwhile in one transaction (a group commit); the handler replies
                     once its answer is committed.

Each is measured in the same round as the bare echo bot, on its own sandbox, as a ratio; the
survey benchmark prints them beside the bot's (`--floor`).
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
from collections.abc import Sequence

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    func,
    insert,
    select,
)
from sqlalchemy.ext.asyncio import AsyncEngine
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, ContextTypes, MessageHandler, filters

from benchmarks.common import machine_header, prepare_database
from benchmarks.conversation import STEPS as ENROLMENT
from benchmarks.conversation import (
    Fallbacks,
    Result,
    Step,
    Tracker,
    UserIds,
    _EchoProcessor,
    add_run_args,
    run_echo,
    timed,
)
from bot.app import ALLOWED_UPDATES
from db.models import User
from db.session import create_engine
from sandbox import BotApiSandbox

VARIANTS = ("floor-telegram", "floor-write", "floor-read-write", "floor-group-write")

QUESTION = ("Selama bulan November 2026, seberapa sering atasan langsung Anda mendengarkan ide "
            "atau usulan Anda?")
LABELS = ("Tidak pernah", "Jarang", "Kadang-kadang", "Sering", "Selalu", "Tidak ingin menjawab")
# As long as the bot's signed data (kind|nonce|value|signature).
DATA = tuple(f"sv|k3J9xQ2a|{i}|Zq81_xYw3A" for i in range(len(LABELS)))
KEYBOARD = InlineKeyboardMarkup(
    [[InlineKeyboardButton(LABELS[i], callback_data=DATA[i]),
      InlineKeyboardButton(LABELS[i + 1], callback_data=DATA[i + 1])]
     for i in range(0, 4, 2)]
    + [[InlineKeyboardButton(LABELS[4], callback_data=DATA[4])],
       [InlineKeyboardButton(LABELS[5], callback_data=DATA[5])]])

_metadata = MetaData()
answers = Table("bench_floor_answers", _metadata,
                Column("id", Integer, primary_key=True, autoincrement=True),
                Column("user_id", BigInteger, nullable=False),
                Column("raw", String(64), nullable=False),
                Column("answered_at", DateTime(timezone=True), server_default=func.now()))


class FloorBot:
    """One variant's handler and, where it writes, its engine."""

    def __init__(self, variant: str, url: str, steps: Sequence[Step]):
        self.variant, self.steps = variant, steps
        self.position: dict[int, int] = {}  # per chat: the step just answered
        self.engine: AsyncEngine | None = (create_engine(url) if variant != "floor-telegram"
                                           else None)
        self.pending: list[tuple[dict[str, object], asyncio.Future[None]]] = []
        self.writer: asyncio.Task[None] | None = None

    async def setup(self) -> None:
        if self.engine is not None:
            async with self.engine.begin() as conn:
                await conn.run_sync(_metadata.create_all)

    async def close(self) -> None:
        if self.engine is not None:
            async with self.engine.begin() as conn:
                await conn.run_sync(_metadata.drop_all)
            await self.engine.dispose()

    async def _group_insert(self, row: dict[str, object]) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.pending.append((row, future))
        if self.writer is None or self.writer.done():
            self.writer = asyncio.create_task(self._write_all())
        await future

    async def _write_all(self) -> None:
        assert self.engine is not None
        while self.pending:
            batch, self.pending = self.pending, []
            try:
                async with self.engine.begin() as conn:
                    await conn.execute(insert(answers), [row for row, _ in batch])
            except Exception as exc:  # noqa: BLE001 - handed to every handler waiting on it
                for _, future in batch:
                    future.set_exception(exc)
            else:
                for _, future in batch:
                    future.set_result(None)

    async def _store(self, user_id: int, raw: str) -> None:
        if self.variant == "floor-group-write":
            await self._group_insert({"user_id": user_id, "raw": raw})
        elif self.engine is not None:
            async with self.engine.begin() as conn:
                if self.variant == "floor-read-write":
                    (await conn.execute(select(User.role, User.status)
                                        .where(User.id == user_id))).first()
                await conn.execute(insert(answers).values(user_id=user_id, raw=raw))

    async def _ask_next(self, context: ContextTypes.DEFAULT_TYPE, chat_id: int) -> None:
        """The next question, with the keyboard when the user's next step is a press."""
        step = self.position.get(chat_id, 0) + 1
        self.position[chat_id] = step
        press_next = step < len(self.steps) and self.steps[step].kind == "press"
        await context.bot.send_message(chat_id, QUESTION,
                                       reply_markup=KEYBOARD if press_next else None)

    async def on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.effective_chat is not None
        await self._store(update.effective_chat.id, update.message.text or "")
        await self._ask_next(context, update.effective_chat.id)

    async def on_press(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None and update.effective_chat is not None
        await self._store(query.from_user.id, query.data or "")
        await query.answer()
        await self._ask_next(context, update.effective_chat.id)


async def _walk(sandbox: BotApiSandbox, tracker: Tracker, user_id: int, n: int,
                steps: Sequence[Step]) -> None:
    for step in steps:
        started = time.perf_counter()
        if step.kind == "text":
            update_id = sandbox.send_text(user_id, step.value.format(n=n))
        else:
            update_id = sandbox.press(user_id, DATA[step.position % len(DATA)])
        await asyncio.wait_for(tracker.expect(update_id), 60.0)
        tracker.latencies.append(time.perf_counter() - started)


async def run_floor(variant: str, url: str, user_ids: list[int], warmup_ids: list[int], *,
                    steps: Sequence[Step], concurrency: int,
                    profiler: cProfile.Profile | None = None) -> Result:
    """Each user through `steps` at once, as the benchmark's users go through the bot's. A
    conversation that starts with a press starts on a question with buttons (the survey's
    invitation); one that starts with a text, in a chat the bot has not written to."""
    floor = FloorBot(variant, url, steps)
    await floor.setup()
    sandbox = BotApiSandbox()
    tracker = Tracker()
    app = sandbox.application_builder().concurrent_updates(
        _EchoProcessor(concurrency, tracker)).build()
    app.add_handler(MessageHandler(filters.TEXT, floor.on_text))
    app.add_handler(CallbackQueryHandler(floor.on_press))
    await app.initialize()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=1, allowed_updates=ALLOWED_UPDATES)
    await app.start()
    try:
        for user_id in warmup_ids + user_ids:
            sandbox.open_chat(user_id, f"Sari {user_id}", language_code="id")
            if steps[0].kind == "press":
                await app.bot.send_message(user_id, QUESTION, reply_markup=KEYBOARD)
        await asyncio.gather(*(_walk(sandbox, tracker, u, i, steps)
                               for i, u in enumerate(warmup_ids)))
        floor.position.clear()

        async def drive() -> None:
            await asyncio.gather(*(_walk(sandbox, tracker, u, i, steps)
                                   for i, u in enumerate(user_ids)))

        wall, cpu, loop_cpu = await timed(drive, tracker, profiler)
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
        await floor.close()
    failed = [c for c in sandbox.calls if c.error is not None]
    return Result(variant, len(user_ids) * len(steps), wall, cpu, loop_cpu,
                  list(tracker.latencies),
                  [f"{variant}: {len(failed)} Bot API calls failed"] if failed else [],
                  Fallbacks().used)


# --- the enrolment conversation's ceiling (the survey's: survey_conversation --floor) ----------


async def _enrolment_floors(url: str, rounds: int, users: int, warmup: int,
                            concurrency: int) -> None:
    users_of = UserIds(700_000_000)
    ratios: dict[str, list[float]] = {}
    for round_no in range(1, rounds + 1):
        print(f"round {round_no}:")
        warm, timed_ids = users_of.run(warmup, users)
        bare = await run_echo(timed_ids, warm, concurrency=concurrency)
        print(f"  {bare.line()}")
        for variant in VARIANTS:
            warm, timed_ids = users_of.run(warmup, users)
            result = await run_floor(variant, url, timed_ids, warm, steps=ENROLMENT,
                                     concurrency=concurrency)
            ratios.setdefault(variant, []).append(result.rate / bare.rate)
            print(f"  {result.line()}; ratio {result.rate / bare.rate:.3f}")
    for variant, values in ratios.items():
        print(f"median ratio of {variant}: {statistics.median(values):.3f} "
              f"(rounds {min(values):.3f}-{max(values):.3f})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.floor",
        description="The floor bots on the enrolment conversation of benchmarks/conversation.py, "
                    "against its bare echo bot, round by round.")
    add_run_args(parser, "users")
    args = parser.parse_args(argv)
    print(f"# {machine_header()}")
    print(f"# database: {args.db}; {args.users} users x {len(ENROLMENT)} updates at once "
          f"(the enrolment conversation), {args.rounds} rounds; load average "
          f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory(prefix="bench-floor-") as tmpdir:
        url = prepare_database(args.db, tmpdir)
        asyncio.run(_enrolment_floors(url, args.rounds, args.users, args.warmup,
                                      args.echo_concurrency))
    return 0


if __name__ == "__main__":
    sys.exit(main())
