"""/kpi: the enterprise's KPI trend against its baseline as a chart, the latest rates with
their change (the baseline's rates alone before the first monthly report), and the workers'
pulse totals (five-worker rule). For owners, admins and the enterprise's trainers; a trainer
with several enterprises picks one; the owner of an enterprise not approved yet hears that
it comes with the approval."""

from __future__ import annotations

import html

from telegram import Update

from chat.context import BotContext
from chat.i18n import _, current_locale
from chat.reply import ack, chat_id_of, rows, send
from db import survey_results
from db import surveys as surveys_db
from domain import kpi
from domain.kpi_trend import trend_data
from domain.questionnaire import load
from domain.survey_calendar import date_words, month_name
from services.surveys.charts import trend_png
from services.surveys.kpi_text import baseline_only, chart_words, pulse_lines, rate_lines
from services.surveys.survey_text import not_approved

PICK = "kpi"  # a trainer's choice of enterprise


def _reports(place: surveys_db.Place) -> bool:
    """Whoever reports an enterprise's KPIs (its definition says) sees what they give."""
    return place.entered_as in load("kpi").respondents


async def kpi_command(update: Update, context: BotContext) -> None:
    found = await surveys_db.places_of(context.svc.sessionmaker,
                                       update.effective_user.id)  # type: ignore[union-attr]
    places = [p for p in found.found if _reports(p)]
    if not places and found.unapproved is not None:
        await send(update, context, not_approved(found.unapproved))
        return
    if not places:
        await send(update, context, _("The KPI report is for the owner and admins of an "
                                      "enterprise. Type /help to see the menu."))
        return
    if len(places) == 1:
        await show(update, context, places[0])
        return
    keyboard = context.keyboard()
    await send(update, context, _("Which enterprise?"),
               rows([keyboard.button(p.name[:60], PICK, str(p.enterprise_id)) for p in places],
                    width=1))


async def enterprise_picked(update: Update, context: BotContext) -> None:
    """A trainer's pick: shown only if the enterprise is still theirs."""
    button = context.button
    assert button is not None
    places = await surveys_db.places_of(context.svc.sessionmaker,
                                        update.effective_user.id)  # type: ignore[union-attr]
    place = next((p for p in places.found if str(p.enterprise_id) == button.value and _reports(p)),
                 None)
    await ack(update)
    if place is None:
        await send(update, context, _("This button is no longer active."))
        return
    await show(update, context, place)


async def show(update: Update, context: BotContext, place: surveys_db.Place) -> None:
    await _kpis(update, context, place)
    await _pulse(update, context, place)


async def _kpis(update: Update, context: BotContext, place: surveys_db.Place) -> None:
    """The trend as a chart, its caption the latest rates; in words alone when there is
    nothing to draw (held: the workers' survey's lines follow in the same message)."""
    history = await survey_results.kpi_history(context.svc.sessionmaker, place.enterprise_id)
    if not history.months and history.baseline is not None:
        assert history.baseline_period is not None
        await send(update, context, baseline_only(
            place.name, history.baseline_period, kpi.rates(kpi.inputs_from(history.baseline))),
            hold=True)
        return
    if not history.months:
        await send(update, context, _("{name} has no monthly KPI report yet. The report is "
                                      "asked for at the start of each month; while a month "
                                      "is open, /survey fills it in or continues it.").format(
            name=html.escape(place.name)), hold=True)
        return
    baseline = (kpi.rates(kpi.inputs_from(history.baseline))
                if history.baseline is not None else None)
    monthly = {month: kpi.rates(kpi.inputs_from(answers))
               for month, answers in history.months.items()}
    latest = max(monthly)
    # The months before training, where the enterprise had them, lead into the trend.
    before = {month: kpi.rates(kpi.inputs_from(answers))
              for month, answers in history.before.items() if month not in monthly}
    chart = trend_data({**before, **monthly}, baseline, kpi.HEADLINE_KEYS)
    lines = [f"<b>{html.escape(place.name)}</b>",
             _("Latest report: {month}").format(month=month_name(latest, current_locale()))]
    if not chart.has_values:
        # Every rate "not recorded" so far: a chart of empty panels would say nothing.
        lines.append(_("No KPI has been recorded in the reports yet, so there is nothing to "
                       "draw. Please send the numbers in the monthly report with /survey."))
        await send(update, context, "\n".join(lines), hold=True)
        return
    png = await trend_png(chart, chart_words(place.name))
    lines += rate_lines(monthly[latest], baseline)
    if baseline is None:
        lines.append(_("No baseline yet: the SCORE trainer enters it at the intake visit, or "
                       "you can enter it with /baseline."))
    await context.bot.send_photo(chat_id_of(update), png, caption="\n".join(lines)[:1024],
                                 parse_mode="HTML")


async def _pulse(update: Update, context: BotContext, place: surveys_db.Place) -> None:
    """The workers' survey totals under the KPIs, or when they will come."""
    svc = context.svc
    now = svc.clock.now()
    totals = await survey_results.latest_pulse_totals(svc.sessionmaker, place.enterprise_id,
                                                      now=now)
    lines = []
    if totals is not None:
        lines = pulse_lines(load("pulse"), totals.period, totals.release)
    # Totals that grow while a round is open would show each new answer: after the close.
    # Each month running is named (a month opened late runs beside the current one).
    for month, closes_on in await survey_results.pulse_running(svc.sessionmaker, now=now):
        lines.append(_("The workers' survey for {month} is running. Its results are shown "
                       "after it closes on {date}.").format(
            month=month_name(month, current_locale()),
            date=date_words(closes_on, current_locale())))
    if lines:
        await send(update, context, "\n".join(lines))
