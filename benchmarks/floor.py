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

import asyncio
import cProfile
import time

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
from telegram.ext import CallbackQueryHandler, ContextTypes

from benchmarks.conversation import Fallbacks, Result, Tracker, _EchoProcessor, timed
from bot.app import ALLOWED_UPDATES
from db.models import User
from db.session import create_engine
from sandbox import BotApiSandbox

VARIANTS = ("floor-telegram", "floor-write", "floor-read-write", "floor-group-write")

QUESTION = ("Selama bulan November 2026, seberapa sering atasan langsung Anda mendengarkan ide "
            "atau usulan Anda?")
LABELS = ("Tidak pernah", "Jarang", "Kadang-kadang", "Sering", "Selalu", "Tidak mau menjawab")
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

    def __init__(self, variant: str, url: str):
        self.variant = variant
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

    async def on_press(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None and update.effective_chat is not None
        if self.variant == "floor-group-write":
            await self._group_insert({"user_id": query.from_user.id, "raw": query.data or ""})
        elif self.engine is not None:
            async with self.engine.begin() as conn:
                if self.variant == "floor-read-write":
                    (await conn.execute(select(User.role, User.status)
                                        .where(User.id == query.from_user.id))).first()
                await conn.execute(insert(answers).values(user_id=query.from_user.id,
                                                          raw=query.data or ""))
        await query.answer()
        await context.bot.send_message(update.effective_chat.id, QUESTION, reply_markup=KEYBOARD)


async def _walk(sandbox: BotApiSandbox, tracker: Tracker, user_id: int, presses: int) -> None:
    for n in range(presses):
        started = time.perf_counter()
        update_id = sandbox.press(user_id, DATA[n % len(DATA)])
        await asyncio.wait_for(tracker.expect(update_id), 60.0)
        tracker.latencies.append(time.perf_counter() - started)


async def run_floor(variant: str, url: str, user_ids: list[int], warmup_ids: list[int], *,
                    presses: int, concurrency: int,
                    profiler: cProfile.Profile | None = None) -> Result:
    """`presses` answers from each user at once, as the survey benchmark's workers."""
    floor = FloorBot(variant, url)
    await floor.setup()
    sandbox = BotApiSandbox()
    tracker = Tracker()
    app = sandbox.application_builder().concurrent_updates(
        _EchoProcessor(concurrency, tracker)).build()
    app.add_handler(CallbackQueryHandler(floor.on_press))
    await app.initialize()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=1, allowed_updates=ALLOWED_UPDATES)
    await app.start()
    try:
        for user_id in warmup_ids + user_ids:
            sandbox.open_chat(user_id, f"Sari {user_id}", language_code="id")
            await app.bot.send_message(user_id, QUESTION, reply_markup=KEYBOARD)
        await asyncio.gather(*(_walk(sandbox, tracker, u, presses) for u in warmup_ids))

        async def drive() -> None:
            await asyncio.gather(*(_walk(sandbox, tracker, u, presses) for u in user_ids))

        wall, cpu, loop_cpu = await timed(drive, tracker, profiler)
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
        await floor.close()
    failed = [c for c in sandbox.calls if c.error is not None]
    return Result(variant, len(user_ids) * presses, wall, cpu, loop_cpu,
                  list(tracker.latencies),
                  [f"{variant}: {len(failed)} Bot API calls failed"] if failed else [],
                  Fallbacks().used)
