"""An Application running on the in-process sandbox, started exactly as `run_polling` does:
initialize, post_init, polling. Used by the terminal simulator and by the tests; the caller
says how to build its Application, so this file knows nothing of the bot it runs."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

from telegram.ext import Application

from sandbox.transport import BotApiSandbox

# The caller's Application, whatever its types: this file knows nothing of them.
AnyApplication = Application[Any, Any, Any, Any, Any, Any]
# Builds the caller's Application; called with the keyword arguments token, request and
# get_updates_request, all pointing at the sandbox.
BuildApplication = Callable[..., AnyApplication]


class SandboxBot:
    """The caller's Application polling the sandbox, with a clean stop and a wait until idle."""

    def __init__(self, sandbox: BotApiSandbox, build: BuildApplication, *,
                 allowed_updates: Sequence[str] | None = None):
        self.sandbox = sandbox
        self.build = build
        self.allowed_updates = allowed_updates
        self.app: AnyApplication | None = None

    async def start(self) -> None:
        sandbox = self.sandbox
        self.app = self.build(token=sandbox.token, request=sandbox.request(),
                              get_updates_request=sandbox.request(read_timeout=5))
        # run_polling calls post_init and post_shutdown; starting by hand, so do we.
        await self.app.initialize()
        if self.app.post_init:
            await self.app.post_init(self.app)
        assert self.app.updater is not None
        await self.app.updater.start_polling(poll_interval=0, timeout=1,
                                             allowed_updates=self.allowed_updates)
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

    async def settle(self, timeout: float = 10.0) -> None:
        """Until every update sent so far has been fetched and fully handled (and committed).

        Waits on events, not on a guessed pause: the sandbox says when PTB has confirmed every
        update, and PTB confirms a batch only after putting it on `update_queue`, whose
        `join()` returns once each went through the update processor (handlers, then the
        persistence commit under the user's lock): PTB calls `task_done()` after processing.
        """
        app = self.app
        assert app is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            await self.sandbox.wait_fetched(timeout=max(0.1, deadline - loop.time()))
            try:
                await asyncio.wait_for(app.update_queue.join(),
                                       max(0.1, deadline - loop.time()))
            except TimeoutError:
                raise TimeoutError("the bot did not settle") from None
            # Only the caller queues updates; one doing so meanwhile gets them handled as well.
            if self.sandbox.pending_updates == 0:
                return
