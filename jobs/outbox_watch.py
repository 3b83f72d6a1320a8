"""Watching the outbox and Telegram's flood budget, once a minute.

Staff are told, once per stall, when due messages wait over five minutes and nothing is sent.
Runs in the bot process on the job queue, apart from the sender, so that it still speaks when
the sender is stuck (a 429 storm, a lost lock, Telegram unreachable). The alert goes straight
to staff, not through the outbox that is stuck.

How long replies waited for a place in the flood budget is reported (a log line, and
/broadcasts for staff) for each minute in which people noticed it: how close the bot runs
to Telegram's limit of about 30 messages a second (domain/reply_waits.py).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from sqlalchemy import select
from telegram.error import TelegramError

from chat.clock import Clock
from chat.context import BotApplication, BotContext, Services, application_of, services_of
from chat.i18n import _, format_number, ngettext, use_locale
from db.models import StallAlert
from db.queries import outbox as outbox_db
from db.queries.staff import all_staff
from db.session import Sessions
from domain.reply_waits import summary

log = logging.getLogger(__name__)

STALL_AFTER = timedelta(minutes=5)
CHECK_EVERY = timedelta(minutes=1)


async def check_stall(sessionmaker: Sessions, clock: Clock,
                      alert: Callable[[int, int], Awaitable[None]]) -> bool:
    """Alert (due count, minutes waited) when stalled and not yet alerted for this stall."""
    now = clock.now()
    async with sessionmaker() as session, session.begin():
        oldest = await outbox_db.oldest_due(session, now)
        if oldest is None or now - oldest < STALL_AFTER:
            return False
        last = await outbox_db.last_sent(session)
        if last is not None and now - last < STALL_AFTER:
            return False
        previous = await session.scalar(select(StallAlert).order_by(StallAlert.id.desc())
                                        .limit(1))
        # One stall is one alert: it ends when something is sent again.
        if previous is not None and (last is None or last <= previous.alerted_at):
            return False
        session.add(StallAlert(alerted_at=now, oldest_due_at=oldest))
        due = await outbox_db.count_due(session, now)
    await alert(due, int((now - oldest).total_seconds() // 60))
    return True


async def _job(context: BotContext) -> None:
    app = application_of(context)
    svc = services_of(app)

    async def alert(due: int, minutes: int) -> None:
        log.warning("outbox stalled: %d messages due, oldest waiting %d minutes", due, minutes)
        async with svc.sessionmaker() as session:
            staff = await all_staff(session, svc.settings.staff_ids)
        for member in staff:
            chat_id = member if isinstance(member, int) else member.id
            language = svc.settings.default_locale if isinstance(member, int) else member.language
            with use_locale(language):
                waiting = ngettext("⚠️ {count} message is waiting to be sent",
                                   "⚠️ {count} messages are waiting to be sent", due)
                oldest = ngettext("the oldest for {minutes} minute",
                                  "the oldest for {minutes} minutes", minutes)
                text = _("{waiting}, {oldest}, and nothing was sent meanwhile. Please check "
                         "the bot.").format(waiting=waiting.format(count=format_number(due)),
                                            oldest=oldest.format(minutes=minutes))
            try:
                await app.bot.send_message(chat_id, text)
            except TelegramError as exc:
                log.warning("could not alert staff=%s: %s", chat_id, exc)

    await check_stall(svc.sessionmaker, svc.clock, alert)
    report_reply_waits(svc)


def report_reply_waits(svc: Services) -> None:
    """The last minute's replies: logged, and kept for /broadcasts, when they waited long
    enough for people to notice."""
    if svc.budget is None:
        return
    waits = summary(svc.budget.take_reply_waits())
    if waits is None or not waits.matters:
        return
    svc.reply_waits, svc.reply_waits_at = waits, svc.clock.now()
    log.warning("replies waited for Telegram's flood limit in the last minute: %d of %d "
                "waited; median %.0f ms, p95 %.0f ms, longest %.0f ms", waits.waited,
                waits.replies, waits.median * 1000, waits.p95 * 1000, waits.longest * 1000)


def schedule(application: BotApplication) -> None:
    assert application.job_queue is not None
    application.job_queue.run_repeating(_job, interval=CHECK_EVERY, first=CHECK_EVERY,
                                        name="outbox-stall-watch")
