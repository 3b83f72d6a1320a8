"""Staff's /export: the workbook made in a process of its own (services/export.py) while
the bot goes on answering, then sent through the outbox as a document."""

from __future__ import annotations

import asyncio
import logging
import tempfile
from collections.abc import Callable, Coroutine
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from chat import notify
from chat.context import Services
from chat.i18n import _
from domain.provinces import WIB
from services.export import Request, Summary, build_off_loop

log = logging.getLogger(__name__)

# Telegram's limit for a document a bot sends (the Bot API says 50 MB); a larger file is
# not queued: staff are told to export a shorter range or use `score-bot export`.
DOCUMENT_LIMIT = 50 * 1000 * 1000

_RUNNING: set[int] = set()  # the staff members whose export is being made


def start(svc: Services, user_id: int, *, lang: str, since: date | None, until: date | None,
          run: Callable[[Coroutine[Any, Any, None]], object]) -> bool:
    """Begin `user_id`'s export in the background (`run`: the Application's create_task, so
    the bot's stop waits for it); False when one of theirs is still being made."""
    if user_id in _RUNNING:
        return False
    _RUNNING.add(user_id)
    run(_export_and_send(svc, user_id, lang=lang, since=since, until=until))
    return True


async def _export_and_send(svc: Services, user_id: int, *, lang: str, since: date | None,
                           until: date | None) -> None:
    now = svc.clock.now()
    name = f"score-export-{now.astimezone(ZoneInfo(WIB)):%Y-%m-%d-%H%M}.xlsx"
    try:
        with tempfile.TemporaryDirectory(prefix="score-export-") as folder:
            path = Path(folder) / name
            try:
                summary = await build_off_loop(svc.settings.database_url, Request(
                    fmt="xlsx", out=path, lang=lang, now=now, since=since, until=until))
            except Exception:
                log.exception("export for %s failed", user_id)
                await _tell(svc, user_id, now, lambda: notify.Message(_(
                    "Sorry, the export failed. It is in the log; please try again later.")))
                return
            log.info("export for %s: %d bytes, %d rows", user_id, summary.size,
                     sum(summary.rows.values()))
            if summary.size > DOCUMENT_LIMIT:
                size = round(summary.size / 1_000_000)
                await _tell(svc, user_id, now, lambda: notify.Message(_(
                    "The export is {size} MB, more than the 50 MB Telegram lets a bot send. "
                    "Export a shorter range, e.g. <code>/export 2026-01-01 2026-06-30</code>, "
                    "or ask whoever runs the server for <code>score-bot export</code>, "
                    "which has no limit.").format(size=size)))
                return
            data = await asyncio.to_thread(path.read_bytes)
        await _tell(svc, user_id, now, lambda: notify.Message(
            _caption(summary), media=notify.document(data, name)))
    finally:
        _RUNNING.discard(user_id)


def _caption(summary: Summary) -> str:
    return _("Everything stored, as a spreadsheet: {sheets} sheets, {rows} rows. Workers "
             "appear only by a pseudonym. Keep the file among staff.").format(
        sheets=len(summary.rows) + 1, rows=sum(summary.rows.values()))


async def _tell(svc: Services, user_id: int, now: datetime,
                render: Callable[[], notify.Message]) -> None:
    # Not bulk: the staff member asked for it and is waiting.
    key = f"export:{user_id}:{now:%Y%m%dT%H%M%S}"
    async with svc.sessionmaker() as session, session.begin():
        await notify.queue(svc, session, group=key, key=key, to=user_id, render=render,
                           priority=notify.URGENT)
