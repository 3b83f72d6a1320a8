"""Our Application on the sandbox, with what tests add: its database, hard kills, restarts,
act-and-wait shortcuts."""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import ALLOWED_UPDATES, build_application
from bot.flood_limits import SharedBudget
from chat.clock import Clock
from chat.context import services_of
from config.settings import Settings
from db.models import OutboxMessage, OutboxState
from db.queries.outbox import held
from jobs.outbox import SenderConfig
from sandbox import BotApiSandbox, SandboxBot
from tests.clocks import virtual_clock
from tests.waiting import poll_until

# Rows due this soon count as on their way: the one-second gap between two messages to one
# chat, or a file being uploaded; retries after an error (two seconds and more) do not.
DELIVERY_HORIZON = timedelta(seconds=1.5)


class BotHarness(SandboxBot):
    def __init__(self, settings: Settings, sandbox: BotApiSandbox, **build: Any):
        # `build`: extra arguments of build_application (clock, sender_config, start_sender).
        # Virtual time unless the test brings a clock (tests/clocks.py).
        build.setdefault("clock", virtual_clock())
        if not sandbox.strict_limits:
            # Journeys are not about Telegram's flood limits: a test sends a user's messages
            # faster than a person could, so the budget is wide unless the sandbox enforces
            # the limits (strict mode), where the real one is tested.
            # On the test's clock when it has one, as the default budget would be: a 429's
            # pause then passes in virtual time, not in real seconds.
            build.setdefault("flood_budget", SharedBudget(overall=10_000, per_chat=10_000,
                                                          clock=build["clock"]))
            # Likewise the outbox's second between two messages to one chat (its own tests,
            # in test_outbox.py, keep it): an approval's three messages to the owner would
            # otherwise make every journey that approves wait two seconds.
            build.setdefault("sender_config", SenderConfig(per_chat_gap=0.02))
        # Survey rounds follow the test's clock: tests run them with jobs.survey_rounds.
        build.setdefault("survey_schedule", False)
        super().__init__(sandbox, partial(build_application, settings, **build),
                         allowed_updates=ALLOWED_UPDATES)
        self.settings = settings
        self._replies: dict[int, list[Any]] = {}

    @property
    def sessionmaker(self) -> async_sessionmaker[AsyncSession]:
        assert self.app is not None
        return services_of(self.app).sessionmaker

    @property
    def clock(self) -> Clock:
        """The application's one clock: what factories and tests take "now" from."""
        assert self.app is not None
        return services_of(self.app).clock

    async def kill(self) -> None:
        """As on SIGKILL: nothing more is written; only what was committed survives."""
        app = self.app
        assert app is not None and app.persistence is not None

        async def nothing(*_args: Any, **_kw: Any) -> None:
            return None

        for method in ("update_user_data", "flush", "commit"):
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
        if svc.sender is None:
            return
        woken = False
        waiting: int | None = None

        async def nothing_waiting() -> bool:
            nonlocal woken, waiting
            soon = svc.clock.now() + DELIVERY_HORIZON
            async with self.sessionmaker() as session:
                # A bulk message waiting for its recipient's conversation to end is not due.
                waiting = await session.scalar(select(func.count()).select_from(OutboxMessage)
                                               .where(or_(
                    OutboxMessage.state == OutboxState.SENDING,
                    (OutboxMessage.state == OutboxState.PENDING)
                    & (OutboxMessage.next_attempt_at <= soon)
                    & ~held(svc.clock.now()))))
            if waiting and not woken:
                # Rows queued outside the app's handlers (a round opened from the command
                # line's function, a test's own rows) wake no one: the sender would find them
                # at its next poll, up to a second later. Waking it only makes it look now.
                svc.wake_sender()
                woken = True
            return not waiting

        # The sender records outcomes in its own task and announces no commit: asked again.
        try:
            await poll_until(nothing_waiting, timeout=timeout, every=0.005,
                             what="the outbox did not deliver")
        except AssertionError:
            raise TimeoutError(f"the outbox did not deliver: {waiting} messages waiting") from None

    async def text(self, user_id: int, text: str) -> None:
        await self._handled(user_id, lambda: self.sandbox.send_text(user_id, text))

    async def press(self, user_id: int, label: str) -> None:
        await self._handled(user_id, lambda: self.sandbox.press_button(user_id, label))

    async def _handled(self, user_id: int, act: Any) -> None:
        """The user acts; until the bot has handled it (the messages it sent them meanwhile
        are kept for `replies`), then until the outbox delivered what it queued."""
        seen = {m.message_id for m in self.sandbox.messages(user_id)}
        act()
        await SandboxBot.settle(self)
        self._replies[user_id] = [m for m in self.sandbox.messages(user_id)
                                  if m.from_bot and m.message_id not in seen]
        await self.delivered()

    def replies(self, user_id: int) -> list[str]:
        """The messages the bot sent this user while handling their last text or press
        (`text`, `press`), as they read them (a file's caption). Edits are not messages."""
        return [m.text or "" for m in self._replies.get(user_id, [])]

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

