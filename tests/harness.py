"""Our Application on the sandbox, with what tests add: its database, hard kills, restarts,
act-and-wait shortcuts."""

from __future__ import annotations

from functools import partial
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import ALLOWED_UPDATES, build_application
from bot.flood_limits import SharedBudget
from chat.context import services_of
from config.settings import Settings
from sandbox import BotApiSandbox, SandboxBot


class BotHarness(SandboxBot):
    def __init__(self, settings: Settings, sandbox: BotApiSandbox, **build: Any):
        # `build`: extra arguments of build_application (clock, sender_config, start_sender).
        if not sandbox.strict_limits:
            # Journeys are not about Telegram's flood limits: a test sends a user's messages
            # faster than a person could, so the budget is wide unless the sandbox enforces
            # the limits (strict mode), where the real one is tested.
            build.setdefault("flood_budget", SharedBudget(overall=10_000, per_chat=10_000))
        super().__init__(sandbox, partial(build_application, settings, **build),
                         allowed_updates=ALLOWED_UPDATES)
        self.settings = settings

    @property
    def sessionmaker(self) -> async_sessionmaker[AsyncSession]:
        assert self.app is not None
        return services_of(self.app).sessionmaker

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

    # The open conversation, as the router keeps it in the draft (chat/flow.py).
    def open_flow(self, user_id: int) -> str | None:
        return self._flow_state(user_id).get("name")

    def step(self, user_id: int) -> str | None:
        return self._flow_state(user_id).get("step")

    def draft(self, user_id: int) -> dict[str, Any]:
        return self._flow_state(user_id).get("data") or {}

    def _flow_state(self, user_id: int) -> dict[str, Any]:
        assert self.app is not None
        return (self.app.user_data.get(user_id) or {}).get("flow") or {}
