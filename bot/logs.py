"""Logging: one line per update at INFO, tracebacks for errors, never the token or a message."""

from __future__ import annotations

import logging
from pathlib import Path


def setup_logging(level: str = "INFO", *, file: Path | None = None) -> None:
    """To standard error, or to `file` (started afresh): the terminal simulator's transcript
    must not have log lines in the middle of it."""
    if file is not None:
        file.parent.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        filename=file, filemode="w", encoding="utf-8",
    )
    # httpx logs every request URL at INFO, and the URL holds the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("aiosqlite").setLevel(logging.WARNING)
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    # At DEBUG, PTB logs the parameters of every API call: message texts and phone numbers.
    logging.getLogger("telegram").setLevel(max(logging.INFO, logging.getLevelName(level)))
