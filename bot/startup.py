"""Waiting for the Bot API server at start: a server that cannot be reached yet (a network
that is still coming up, a self-hosted server restarting) is retried, one log line per
attempt, rather than ending the bot with a traceback."""

from __future__ import annotations

import asyncio
import logging

from telegram import Bot
from telegram.error import InvalidToken, NetworkError

from config.settings import Settings

log = logging.getLogger("bot")

FIRST_WAIT, LONGEST_WAIT = 1.0, 60.0


async def wait_for_bot_api(settings: Settings, *, attempts: int | None = None) -> None:
    """Return once the server answers getMe; InvalidToken (a token it rejects) is raised at
    once: retrying would not help."""
    assert settings.bot_token is not None
    bot = Bot(settings.bot_token, base_url=settings.api_base_url,
              base_file_url=settings.api_file_url)
    wait, attempt = FIRST_WAIT, 1
    while True:
        try:
            await bot.get_me()
            return
        except InvalidToken:
            raise
        except NetworkError as exc:  # TimedOut is a NetworkError too
            if attempts is not None and attempt >= attempts:
                raise
            # The class name only: the message of a connection error can carry the URL,
            # and with it the token.
            log.warning("Bot API server not reachable (attempt %d, %s); trying again in %.0f s",
                        attempt, type(exc).__name__, wait)
        await asyncio.sleep(wait)
        wait, attempt = min(wait * 2, LONGEST_WAIT), attempt + 1
