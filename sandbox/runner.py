"""The real Application running against the in-process sandbox: used by the terminal simulator
and by the tests. It starts exactly as `run_polling` does: initialize, post_init, polling."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram.ext import Application

from bot.app import ALLOWED_UPDATES, build_application
from config.settings import Settings
from chat.context import services_of
from bot.processor import PerUserUpdateProcessor
from sandbox.transport import BotApiSandbox


class SandboxBot:
    def __init__(self, settings: Settings, sandbox: BotApiSandbox, **build: Any):
        self.settings = settings
        self.sandbox = sandbox
        self.build = build  # extra arguments of build_application (clock, sender_config)
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
            get_updates_request=sandbox.request(read_timeout=5), **self.build)
        # run_polling calls post_init and post_shutdown; starting by hand, so do we.
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
            if app.post_stop:
                await app.post_stop(app)
        await app.shutdown()
        if app.post_shutdown:
            await app.post_shutdown(app)

    def _quiet(self) -> bool:
        assert self.app is not None
        return (self.app.update_queue.empty() and self.processor.in_flight == 0
                and self.sandbox.pending_updates == 0)

    async def settle(self, timeout: float = 10.0) -> None:
        """Until every update sent so far has been fetched and fully handled (and committed)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            await self.sandbox.wait_fetched(timeout=max(0.1, deadline - loop.time()))
            if self._quiet():
                # One more turn, in case handling queued something new.
                await asyncio.sleep(0.01)
                if self._quiet():
                    return
            if loop.time() > deadline:
                raise TimeoutError("the bot did not settle")
            await asyncio.sleep(0.005)
