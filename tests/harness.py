"""A running bot around the in-process Bot API sandbox, for tests: updates in, calls out."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram.ext import Application

from bot.app import ALLOWED_UPDATES, build_application
from bot.config import Settings
from bot.context import services_of
from bot.processor import PerUserUpdateProcessor
from bot.sandbox import BotApiSandbox


class BotHarness:
    def __init__(self, settings: Settings, sandbox: BotApiSandbox):
        self.settings = settings
        self.sandbox = sandbox
        self.app: Application | None = None

    @property
    def processor(self) -> PerUserUpdateProcessor:
        assert self.app is not None
        return services_of(self.app).extra["processor"]

    @property
    def sessionmaker(self) -> async_sessionmaker[AsyncSession]:
        assert self.app is not None
        return services_of(self.app).sessionmaker

    async def start(self) -> None:
        sandbox = self.sandbox
        self.app = build_application(
            self.settings, token=sandbox.token, request=sandbox.request(),
            get_updates_request=sandbox.request(read_timeout=5))
        # run_polling calls post_init and post_shutdown; with a manual start we call them.
        await self.app.initialize()
        if self.app.post_init:
            await self.app.post_init(self.app)
        assert self.app.updater is not None
        await self.app.updater.start_polling(poll_interval=0, timeout=1,
                                             allowed_updates=ALLOWED_UPDATES)
        await self.app.start()

    async def stop(self) -> None:
        """A clean stop, as on SIGTERM: PTB flushes persistence on the way out."""
        app, self.app = self.app, None
        if app is None:
            return
        assert app.updater is not None
        if app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        await app.shutdown()
        if app.post_shutdown:
            await app.post_shutdown(app)

    async def kill(self) -> None:
        """As on SIGKILL: nothing more is written; only what was committed survives."""
        app = self.app
        assert app is not None

        async def nothing(*_args: Any, **_kw: Any) -> None:
            return None

        # Nothing may be saved on the way out, as with a process that is killed.
        app.persistence.update_conversation = nothing  # type: ignore[union-attr,method-assign]
        app.persistence.update_user_data = nothing  # type: ignore[union-attr,method-assign]
        app.persistence.flush = nothing  # type: ignore[union-attr,method-assign]
        app.persistence.commit = nothing  # type: ignore[union-attr,attr-defined]
        await self.stop()

    async def restart(self, *, hard: bool = False) -> None:
        await (self.kill() if hard else self.stop())
        await self.start()

    async def settle(self, timeout: float = 10.0) -> None:
        """Until every update sent so far has been fetched and fully handled (and committed)."""
        assert self.app is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            await self.sandbox.wait_fetched(timeout=max(0.1, deadline - loop.time()))
            await asyncio.sleep(0)
            if (self.app.update_queue.empty() and self.processor.in_flight == 0
                    and self.sandbox.pending_updates == 0):
                # One more turn, in case handling queued something new.
                await asyncio.sleep(0.01)
                if (self.app.update_queue.empty() and self.processor.in_flight == 0
                        and self.sandbox.pending_updates == 0):
                    return
            if loop.time() > deadline:
                raise TimeoutError("the bot did not settle")
            await asyncio.sleep(0.005)

    # --- conveniences: act, then wait until handled ----------------------------------------
    async def text(self, user_id: int, text: str) -> None:
        self.sandbox.send_text(user_id, text)
        await self.settle()

    async def press(self, user_id: int, label: str) -> None:
        self.sandbox.press_button(user_id, label)
        await self.settle()

    def last_text(self, chat_id: int) -> str:
        return self.sandbox.last_message(chat_id).text or ""

    def texts(self, chat_id: int) -> list[str]:
        return self.sandbox.texts(chat_id)
