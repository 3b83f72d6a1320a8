"""/surveys for staff: per round its dates in words, how many answered (in all, per province,
per enterprise) and who has not; buttons to move a round, see earlier rounds and the
programme-wide KPI chart (`/surveys chart`, handlers/programme_chart.py)."""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import datetime

from babel.numbers import format_percent
from telegram import InlineKeyboardMarkup, Update

from chat.context import BotContext
from chat.i18n import _, current_locale, ngettext
from chat.reply import ack, rows, send, stale_button
from db import survey_stats
from domain import response_rates as rr
from domain.provinces import by_code
from handlers import programme_chart
from services.surveys import rounds
from services.surveys.round_text import (
    held_date_lines,
    join_flag_lines,
    round_state,
    round_title,
)

# Button kinds (actions: they belong to no flow).
SHOW_ROUND, EARLIER, CHART = "sstr", "ssto", "sstc"
MOVE_BUTTON = "rmv"  # opens handlers/round_move.py's flow
LATE_BUTTON = "rlt"  # opens handlers/round_late.py's flow

# Telegram takes at most 4096 characters in a message; lists are capped well below, and a
# card that still runs over is split at a line.
MESSAGE_LIMIT = 4096
LIST_CAP = 15
NAME_CHARS = 40
EARLIER_COUNT = 12


async def surveys_command(update: Update, context: BotContext) -> None:
    """/surveys: the latest KPI and pulse rounds; `/surveys chart`: the programme chart."""
    if context.args and context.args[0].lower() in ("chart", "grafik"):
        await programme_chart.send_chart(update, context)
        return
    found = await survey_stats.latest_rounds(context.svc.sessionmaker)
    kb = context.keyboard()
    late = ([kb.button("📂 " + _("Open a past month"), LATE_BUTTON)]
            if await rounds.late_months(context.svc) else [])
    if not found:
        await send(update, context, _("There are no survey rounds yet. The first one is "
                                      "planned when a month ends."),
                   rows(late) if late else None)
        return
    for round_ in found:
        await _send_round(update, context, round_.id)
    flagged = await survey_stats.join_flags(context.svc.sessionmaker)
    check = [_("<b>Check the workers in the bot of these enterprises before trusting their "
               "workers' survey:</b>")] if flagged else []
    for item in flagged[:LIST_CAP]:
        check += [html.escape(item.name), *join_flag_lines(item.flags)]
    await send(update, context, "\n".join([*check, *([""] if check else []),
                                           _("More about the surveys:")]),
               rows([kb.button("📈 " + _("KPI chart"), CHART),
                     kb.button(_("Earlier rounds"), EARLIER), *late]))


async def round_pressed(update: Update, context: BotContext) -> None:
    """A round chosen from the earlier rounds."""
    button = context.button
    assert button is not None
    if not (button.value.isdigit() and await _send_round(update, context, int(button.value))):
        await stale_button(update)


async def earlier_pressed(update: Update, context: BotContext) -> None:
    await ack(update)
    rounds = await survey_stats.recent_rounds(context.svc.sessionmaker, EARLIER_COUNT)
    kb = context.keyboard()
    await send(update, context, _("Which round?"),
               rows([kb.button(round_title(r.survey, r.period), SHOW_ROUND, str(r.id))
                     for r in rounds], width=1))


async def chart_pressed(update: Update, context: BotContext) -> None:
    await ack(update)
    await programme_chart.send_chart(update, context)


async def _send_round(update: Update, context: BotContext, round_id: int) -> bool:
    """The round's card; False when there is no such round."""
    tallies = await survey_stats.round_tallies(context.svc.sessionmaker, round_id)
    if tallies is None:
        return False
    await ack(update)
    round_, now = tallies.round, context.svc.clock.now()
    closed = round_.closed_at is not None or round_.closes_at <= now
    markup = None
    if not closed:
        kb = context.keyboard()
        markup = rows([kb.button("📅 " + _("Move"), MOVE_BUTTON, str(round_.id))])
    await _send_long(update, context, round_card(tallies, now=now), markup)
    return True


def round_card(tallies: survey_stats.RoundTallies, *, now: datetime) -> str:
    round_ = tallies.round
    state = round_state(queued=round_.queued_at is not None, closed_at=round_.closed_at,
                        closes_at=round_.closes_at, now=now)
    lines = [f"<b>{html.escape(round_title(round_.survey, round_.period))}</b> ({state})",
             *held_date_lines(round_, now=now, reminders_sent=tallies.reminders_sent)]
    if round_.moved_at is not None:
        lines.append(_("The dates were moved by staff."))
    rows_ = tallies.enterprises
    total = rr.overall(rows_)
    kpi = round_.survey == "kpi"
    lines.append("")
    if kpi:
        lines.append(ngettext("Answered: {answered} of {asked} enterprise ({share})",
                              "Answered: {answered} of {asked} enterprises ({share})",
                              total.asked).format(answered=total.answered, asked=total.asked,
                                                  share=_share(total)))
    else:
        lines.append(ngettext("Answered: {answered} of {asked} worker ({share})",
                              "Answered: {answered} of {asked} workers ({share})",
                              total.asked).format(answered=total.answered, asked=total.asked,
                                                  share=_share(total)))
    provinces = rr.by_province(rows_)
    if provinces:
        lines += ["", "<b>" + _("By province") + "</b>"]
        lines += [f"{html.escape(_province(code))}: {_fraction(t)}" for code, t in provinces]
    if not kpi:
        enterprises = rr.asked(rows_)
        if enterprises:
            lines += ["", "<b>" + _("By enterprise, lowest first") + "</b>"]
            lines += _capped([f"{_name(row.name)}: {_fraction(row.tally)}"
                              for row in enterprises])
    missing = rr.not_answered(rows_)
    if missing:
        lines += ["", "<b>" + _("Not answered yet ({count})").format(count=len(missing))
                  + "</b>"]
        lines += _capped([_name(row.name) for row in missing])
    elif total.asked:
        # The pulse: every enterprise has answers, not every worker (the count above).
        lines += ["", _("Every enterprise has answered.") if kpi else
                  _("Every enterprise has answers from its workers.")]
    if not kpi and (empty := rr.nobody_to_ask(rows_)):
        lines.append(ngettext("{count} enterprise has no workers in the bot yet.",
                              "{count} enterprises have no workers in the bot yet.",
                              empty).format(count=empty))
    return "\n".join(lines)


def _share(tally: rr.Tally) -> str:
    share = tally.share
    return "–" if share is None else format_percent(share, locale=current_locale())


def _fraction(tally: rr.Tally) -> str:
    return _("{answered} of {asked} ({share})").format(answered=tally.answered,
                                                       asked=tally.asked, share=_share(tally))


def _province(code: str) -> str:
    province = by_code(code)
    return province.name(current_locale()) if province else code


def _name(name: str) -> str:
    short = name if len(name) <= NAME_CHARS else name[:NAME_CHARS - 1] + "…"
    return html.escape(short)


def _capped(items: Sequence[str], cap: int = LIST_CAP) -> list[str]:
    if len(items) <= cap:
        return list(items)
    return [*items[:cap], _("… and {count} more").format(count=len(items) - cap)]


def split_text(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """`text` in pieces of at most `limit` characters, cut between lines."""
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    for line in text.split("\n"):
        line = line[:limit]
        if current and size + 1 + len(line) > limit:
            pieces.append("\n".join(current))
            current, size = [], 0
        size += len(line) + (1 if current else 0)
        current.append(line)
    if current:
        pieces.append("\n".join(current))
    return pieces


async def _send_long(update: Update, context: BotContext, text: str,
                     markup: InlineKeyboardMarkup | None) -> None:
    pieces = split_text(text)
    for piece in pieces[:-1]:
        await send(update, context, piece)
    await send(update, context, pieces[-1], markup)

