"""`score-bot run --send-only`: a process that only sends the outbox, no polling.

Started beside the bot on PostgreSQL, it waits for the sender lock and takes over within
seconds when the bot's process dies (jobs/sender_lock.py).
"""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import Any

from telegram.ext import ExtBot

from bot.flood_limits import SharedBudget
from bot.telegram_channel import TelegramChannel
from chat.buttons import ButtonSigner
from chat.clock import Clock
from config.settings import Settings
from db.secrets import get_or_create_secret
from db.session import create_engine, create_sessionmaker
from jobs.outbox import OutboxSender, SenderConfig
from jobs.sender_lock import lock_for

log = logging.getLogger(__name__)


async def send_only(settings: Settings, clock: Clock) -> None:
    engine = create_engine(settings.database_url)
    assert settings.bot_token
    # Its own flood budget: the outbox's pacing keeps it under the limit, and a 429 waits.
    bot: ExtBot[Any] = ExtBot(settings.bot_token, base_url=settings.api_base_url,
                              base_file_url=settings.api_file_url,
                              rate_limiter=SharedBudget(clock=clock))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    sessionmaker = create_sessionmaker(engine)
    # The bot's own key: buttons this process signs verify in the bot's gate.
    signer = ButtonSigner(bytes.fromhex(await get_or_create_secret(sessionmaker, "buttons")))
    async with bot:
        sender = OutboxSender(
            sessionmaker, TelegramChannel(bot, signer), clock=clock,
            config=SenderConfig(rate=settings.broadcast_rate,
                                in_flight=settings.outbox_in_flight),
            lock=lock_for(engine), skip_locked=engine.dialect.name == "postgresql")
        sender.start()
        log.info("send-only process started; it sends whenever it holds the sender lock")
        await stop.wait()
        await sender.stop()
    await engine.dispose()
