"""The sandboxed bot with what tests add: hard kills, restarts, act-and-wait shortcuts."""

from __future__ import annotations

import asyncio
from typing import Any

from bot.sandbox_bot import SandboxBot


class BotHarness(SandboxBot):
    async def kill(self) -> None:
        """As on SIGKILL: nothing more is written; only what was committed survives."""
        app = self.app
        assert app is not None and app.persistence is not None

        async def nothing(*_args: Any, **_kw: Any) -> None:
            return None

        for method in ("update_conversation", "update_user_data", "flush", "commit"):
            setattr(app.persistence, method, nothing)
        await self.stop()

    async def restart(self, *, hard: bool = False) -> None:
        await (self.kill() if hard else self.stop())
        await self.start()

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
            # Only a test queues updates; one doing so meanwhile gets them handled as well.
            if self.sandbox.pending_updates == 0:
                return

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
