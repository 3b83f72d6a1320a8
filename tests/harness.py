"""The sandboxed bot with what tests add: hard kills, restarts, act-and-wait shortcuts."""

from __future__ import annotations

from typing import Any

from sandbox.runner import SandboxBot


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
