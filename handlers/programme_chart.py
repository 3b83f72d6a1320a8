"""The programme-wide KPI chart for staff: per month, the median of each headline rate over
the enterprises that recorded it, as a photo (from /surveys)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date

from telegram import Update

from chat.context import BotContext
from chat.i18n import _, ngettext
from chat.reply import chat_id_of, send
from db import survey_stats
from domain.kpi import HEADLINE_KEYS, inputs_from, median_by_month, rates
from domain.kpi_trend import TrendChart, trend_data
from domain.questionnaire import Answer
from services.surveys.charts import medians_png
from services.surveys.kpi_text import medians_words


def median_chart(reports: Iterable[tuple[date, Mapping[str, Answer]]]) -> TrendChart:
    """The headline rates' medians per month, from every final monthly KPI report."""
    medians = median_by_month((period, rates(inputs_from(answers)))
                              for period, answers in reports)
    return trend_data(medians, None, HEADLINE_KEYS)


async def send_chart(update: Update, context: BotContext) -> None:
    reports = await survey_stats.kpi_reports(context.svc.sessionmaker)
    chart = median_chart(reports)
    if not chart.months:
        await send(update, context, _("No monthly KPI report has been sent yet, so there is "
                                      "nothing to draw."))
        return
    if not chart.has_values:
        # Reports that say "not recorded" to every rate: a chart of empty panels.
        await send(update, context, ngettext(
            "The monthly KPI report so far records none of the rates, so there is nothing to "
            "draw.",
            "The {count} monthly KPI reports so far record none of the rates, so there is "
            "nothing to draw.", len(reports)).format(count=len(reports)))
        return
    png = await medians_png(chart, medians_words())
    caption = ngettext(
        "Each point is the median over the enterprises that recorded that rate in the "
        "month ({count} monthly report in all).",
        "Each point is the median over the enterprises that recorded that rate in the "
        "month ({count} monthly reports in all).", len(reports)).format(count=len(reports))
    await context.bot.send_photo(chat_id_of(update), png, caption=caption)
