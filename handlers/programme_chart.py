"""The programme-wide KPI chart for staff: per month, the median of each headline rate over
the enterprises that recorded it, as a photo (from /surveys)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from datetime import date

from telegram import Update

from chat.context import BotContext
from chat.i18n import _, current_locale, ngettext
from chat.kpi_labels import rate_labels
from chat.reply import chat_id_of, send
from db import survey_stats
from domain.kpi import HEADLINE_KEYS, median_by_month, rates
from domain.kpi_answers import kpi_inputs
from domain.kpi_chart import ChartWords, TrendChart, draw_medians, trend_data
from domain.questionnaire import Answer


def median_chart(reports: Iterable[tuple[date, Mapping[str, Answer]]]) -> TrendChart:
    """The headline rates' medians per month, from every final monthly KPI report."""
    medians = median_by_month((period, rates(kpi_inputs(answers)))
                              for period, answers in reports)
    return trend_data(medians, None, HEADLINE_KEYS)


async def send_chart(update: Update, context: BotContext) -> None:
    reports = await survey_stats.kpi_reports(context.svc.sessionmaker)
    chart = median_chart(reports)
    if not chart.months:
        await send(update, context, _("No monthly KPI report has been sent yet, so there is "
                                      "nothing to draw."))
        return
    words = ChartWords(title=_("SCORE programme: median KPIs per month"),
                       baseline=_("Baseline"), not_recorded=_("Not recorded"),
                       series=rate_labels(HEADLINE_KEYS), locale=current_locale())
    # Drawing takes a good part of a second: off the event loop, so nobody else waits.
    png = await asyncio.to_thread(draw_medians, chart, words)
    caption = ngettext(
        "Each point is the median over the enterprises that recorded that rate in the "
        "month ({count} monthly report in all).",
        "Each point is the median over the enterprises that recorded that rate in the "
        "month ({count} monthly reports in all).", len(reports)).format(count=len(reports))
    await context.bot.send_photo(chat_id_of(update), png, caption=caption)
