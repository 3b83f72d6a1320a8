"""The sandboxed bot with what tests add: hard kills, restarts, act-and-wait shortcuts."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from sqlalchemy import func, or_, select

from bot.sandbox_bot import SandboxBot
from chat.context import services_of
from db.models import OutboxMessage, OutboxState

# Rows due this soon count as on their way: the one-second gap between two messages to one
# chat, or a file being uploaded; retries after an error (two seconds and more) do not.
DELIVERY_HORIZON = timedelta(seconds=1.5)


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
        """Until every update so far is handled, and what the handlers queued in the outbox
        is sent (when the app's sender runs): staff notices, for instance."""
        await super().settle(timeout)
        await self.delivered(timeout)

    async def delivered(self, timeout: float = 10.0) -> None:
        assert self.app is not None
        svc = services_of(self.app)
        if svc.extra.get("sender") is None:
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            soon = svc.clock.now() + DELIVERY_HORIZON
            async with self.sessionmaker() as session:
                waiting = await session.scalar(select(func.count()).select_from(OutboxMessage)
                                               .where(or_(
                    OutboxMessage.state == OutboxState.SENDING,
                    (OutboxMessage.state == OutboxState.PENDING)
                    & (OutboxMessage.next_attempt_at <= soon))))
            if not waiting:
                return
            if loop.time() > deadline:
                raise TimeoutError(f"the outbox did not deliver: {waiting} messages waiting")
            await asyncio.sleep(0.005)

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
