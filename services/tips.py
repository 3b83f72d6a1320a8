"""Good-practice tips: how a tip reads in the chat (asked for with /tip, or the weekly one),
loading the shipped library at start, and the weekly tip through the outbox.

The weekly tip is due on Monday at 19.30 in each reader's zone (domain/tip_rules.py). The
job (jobs/weekly_tips.py) calls `run_weekly` every few minutes; it queues, in batches, the
tip of everyone whose moment has passed and who has none this week: the week's row in
`tip_sends` and the outbox key `tip:<week>:<user>` are written in one transaction, so a
restart or a second run repeats nothing, and a bot that was down at 19.30 still sends that
week's tip within two days (at 06.00 when it is night: the group's kind "tip" is bulk).
"""

from __future__ import annotations

import html
import logging

from chat import notify
from chat.context import Services
from chat.i18n import _, current_locale
from chat.labels import module_name
from db import tips as tips_db
from db.tips import TipText
from domain import tip_rules
from domain.quiet_hours import ZONES

log = logging.getLogger(__name__)

ANOTHER = "tipn"    # "Another tip"
FEEDBACK = "tipf"   # "Useful" / "Not useful": value "<tip id>.1" or "<tip id>.0"
USEFUL, NOT_USEFUL = "1", "0"
# A weekly tip not sent by then (the bot down for days) is not sent at all.
WEEKLY_EXPIRY = tip_rules.CATCH_UP + tip_rules.CATCH_UP


def tip_text(tip: TipText, *, weekly: bool = False) -> str:
    """The tip in the current language, under its title."""
    title = (_("Tip of the week · {module}") if weekly else _("Tip · {module}")).format(
        module=module_name(tip.module))
    lines = [f"💡 <b>{html.escape(title)}</b>", html.escape(tip.text(current_locale()))]
    if weekly:
        lines.append(_("Type /tips off to stop the weekly tip."))
    return "\n\n".join(lines)


def tip_buttons(tip: TipText) -> list[list[notify.Button]]:
    """Useful / Not useful, and Another tip, as what they mean (an action's buttons)."""
    return [[notify.Button("👍 " + _("Useful"), FEEDBACK, f"{tip.id}.{USEFUL}"),
             notify.Button("👎 " + _("Not useful"), FEEDBACK, f"{tip.id}.{NOT_USEFUL}")],
            [notify.Button(_("Another tip"), ANOTHER)]]


def tip_message(tip: TipText, *, weekly: bool = False) -> notify.Message:
    return notify.Message(tip_text(tip, weekly=weekly), tip_buttons(tip))


def feedback_of(value: str) -> tuple[int, bool] | None:
    """The tip and the answer a feedback button carries; None when it carries neither."""
    tip, _dot, answer = value.partition(".")
    if not tip.isdigit() or answer not in (USEFUL, NOT_USEFUL):
        return None
    return int(tip), answer == USEFUL


async def load_library(svc: Services) -> None:
    """The shipped tips into the database (at every start: an upgrade's new tips and texts
    arrive; staff's edits and own tips stay)."""
    loaded = await tips_db.load_shipped(svc.sessionmaker, tip_rules.library(),
                                        now=svc.clock.now())
    if loaded.added or loaded.updated:
        log.info("tips: %s added, %s updated from the shipped library", loaded.added,
                 loaded.updated)


def _weekly(tip: TipText) -> notify.Render:
    return lambda: tip_message(tip, weekly=True)


async def run_weekly(svc: Services, *, batch: int = 500) -> int:
    """Queue this week's tip for whoever is due and has none yet; the number queued."""
    now = svc.clock.now()
    total = 0
    for zone in ZONES:
        moment = tip_rules.weekly_due(now, zone)
        if moment is None:
            continue
        week = tip_rules.week_label(moment)
        after: int | None = 0
        while after is not None:
            found = await tips_db.weekly_batch(
                svc.sessionmaker, week=week, zone=zone, day=moment.date(),
                staff_ids=svc.settings.staff_ids, after=after, limit=batch)
            after = found.last_id
            if not found.picks:
                continue
            tips = {tip.id: tip for tip in found.picks.values()}
            messages = {tip_id: await notify.rendered(svc, _weekly(tip))
                        for tip_id, tip in tips.items()}
            total += await tips_db.queue_weekly(
                svc.sessionmaker, {user_id: tip.id for user_id, tip in found.picks.items()},
                # From now, not from the moment: a tip queued late at night waits for 06.00.
                messages, week=week, at=max(moment, now), expires_at=moment + WEEKLY_EXPIRY,
                now=now)
    if total:
        log.info("weekly tip queued for %s people", total)
        svc.outbox_changed()
    return total
