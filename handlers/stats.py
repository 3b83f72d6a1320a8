"""/stats for staff: the programme in numbers (enterprises, people, survey response,
workshops, visits, broadcasts) as a short text, and a chart where a picture says it better."""

from __future__ import annotations

from telegram import Update

from chat.context import BotContext
from chat.i18n import _
from chat.reply import chat_id_of, send
from db import programme_stats
from handlers.survey_stats import split_text
from services import programme_stats as words


async def stats_command(update: Update, context: BotContext) -> None:
    svc = context.svc
    stats = await programme_stats.read(svc.sessionmaker, now=svc.clock.now(),
                                       staff_ids=svc.settings.staff_ids)
    for piece in split_text(words.stats_text(stats)):
        await send(update, context, piece)
    chart = words.chart_of(stats)
    if chart.empty:
        return  # nothing to draw: the text says there is nothing yet
    png = await words.chart_png(chart, words.chart_words())
    await context.bot.send_photo(chat_id_of(update), png,
                                 caption=_("Enterprises per province, and the latest survey "
                                           "rounds' response."))
