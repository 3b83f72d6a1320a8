"""What every handler gets: the services of the application and who the user is."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeAlias, cast

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from telegram.ext import Application, CallbackContext, ContextTypes, ExtBot, JobQueue

from chat.buttons import Button, ButtonSigner, Keyboard
from chat.clock import Clock
from config.settings import Settings
from db.session import Sessions

if TYPE_CHECKING:
    from db.models import User


@dataclass
class Services:
    settings: Settings
    sessionmaker: Sessions
    signer: ButtonSigner
    clock: Clock
    bot_username: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def is_staff_id(self, user_id: int) -> bool:
        return user_id in self.settings.staff_ids

    def wake_sender(self) -> None:
        """New rows in the outbox: the sender looks now instead of at its next poll."""
        sender = self.extra.get("sender")
        if sender is not None:
            sender.wake()

    async def outbox_settled(self, within: float = 5.0) -> None:
        """Until what the sender has in flight is recorded (bounded)."""
        sender = self.extra.get("sender")
        if sender is not None:
            await sender.settled(within)

    def recheck_sender(self) -> None:
        """Rows were cancelled or dropped: the sender re-checks its claimed rows before
        sending."""
        sender = self.extra.get("sender")
        if sender is not None:
            sender.recheck()

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
