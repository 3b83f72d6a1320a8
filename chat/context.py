"""What every handler gets: the services of the application and who the user is."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias, cast

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from telegram.ext import Application, CallbackContext, ContextTypes, ExtBot, JobQueue

from chat.buttons import Button, ButtonSigner, Keyboard
from chat.clock import Clock
from config.settings import Settings
from db.session import Sessions
from domain.reply_waits import ReplyWaits

if TYPE_CHECKING:
    from db.models import User


class Sender(Protocol):
    """What queueing needs of the outbox sender (jobs/outbox.OutboxSender) while it runs."""

    def wake(self) -> None: ...

    def recheck(self) -> None: ...

    async def settled(self, within: float) -> None: ...

    async def stop(self) -> None: ...


class ReplyBudget(Protocol):
    """What the outbox watch reads of the flood budget (bot/flood_limits.SharedBudget)."""

    def take_reply_waits(self) -> list[float]: ...


@dataclass
class Services:
    """What the application's handlers and jobs share: made once by the wiring (bot/app.py,
    bot/survey_admin.py), found in `bot_data["services"]`."""

    settings: Settings
    engine: AsyncEngine
    sessionmaker: Sessions
    signer: ButtonSigner
    clock: Clock
    bot_username: str = ""
    # The outbox sender, while this process runs one (none in `score-bot survey`, nor when a
    # test runs the sender it needs itself).
    sender: Sender | None = None
    # The flood budget every message passes (none where nothing reads it), and the last
    # minute in which replies noticeably waited for it (jobs/outbox_watch.py).
    budget: ReplyBudget | None = None
    reply_waits: ReplyWaits | None = None
    reply_waits_at: datetime | None = None

    def is_staff_id(self, user_id: int) -> bool:
        return user_id in self.settings.staff_ids

    def wake_sender(self) -> None:
        """New rows in the outbox: the sender looks now instead of at its next poll."""
        if self.sender is not None:
            self.sender.wake()

    async def outbox_settled(self, within: float = 5.0) -> None:
        """Until what the sender has in flight is recorded (bounded)."""
        if self.sender is not None:
            await self.sender.settled(within)

    def recheck_sender(self) -> None:
        """Rows were cancelled or dropped: the sender re-checks its claimed rows before
        sending."""
        if self.sender is not None:
            self.sender.recheck()

    def outbox_changed(self) -> None:
        """A use case queued, dropped or cancelled outbox rows in its transaction, which has
        committed: the sender looks now, and re-checks the rows it holds before sending."""
        self.recheck_sender()
        self.wake_sender()

    def wake_sender_on_commit(self, session: AsyncSession) -> None:
        """Wake the sender when this session's transaction commits: only then can it see
        the rows queued in it."""
        event.listen(session.sync_session, "after_commit", lambda _s: self.wake_sender(),
                     once=True)

    def recheck_sender_on_commit(self, session: AsyncSession) -> None:
        event.listen(session.sync_session, "after_commit", lambda _s: self.recheck_sender(),
                     once=True)


# What PTB keeps per user (the draft: JSON, persisted by bot.persistence), per chat (unused)
# and for the bot (the services and the router; never persisted).
UserData: TypeAlias = dict[str, Any]
ChatData: TypeAlias = dict[Any, Any]
BotData: TypeAlias = dict[str, Any]
# The bot: its type argument is what a call may tell the rate limiter (bot.flood_limits).
AppBot: TypeAlias = ExtBot[dict[str, Any]]


class BotContext(CallbackContext[AppBot, UserData, ChatData, BotData]):
    """CallbackContext plus what the gate (group -1) learnt about this update.

    PTB builds one context per update and hands the same one to every handler group, so the
    gate's findings reach the journeys in group 0.
    """

    user_row: User | None = None
    role: str | None = None
    button: Button | None = None

    @property
    def svc(self) -> Services:
        services: Services = self.application.bot_data["services"]
        return services

    @property
    def draft(self) -> dict[str, Any]:
        assert self.user_data is not None
        return self.user_data

    def keyboard(self) -> Keyboard:
        """Buttons that belong to no flow (actions): they carry no nonce. A flow's buttons
        come from `Run.button`."""
        assert self._user_id is not None
        return Keyboard(self.svc.signer, self._user_id)


# The Application that bot.app builds (its last argument: as ApplicationBuilder types it).
BotApplication: TypeAlias = Application[AppBot, BotContext, UserData, ChatData, BotData,
                                        JobQueue[ContextTypes.DEFAULT_TYPE]]


def application_of(context: BotContext) -> BotApplication:
    """The context's Application, typed: PTB's `CallbackContext.application` drops the type of
    the context (an unbound type variable)."""
    return cast("BotApplication", context.application)


def services_of(application: BotApplication) -> Services:
    services: Services = application.bot_data["services"]
    return services
