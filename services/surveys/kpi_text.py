"""How KPI rates and pulse totals are worded for owners: rate names, a rate with its change
from the baseline, a baseline without monthly reports, the words on a chart, pulse totals
under the five-worker rule."""

from __future__ import annotations

import html
from collections.abc import Mapping
from datetime import date
from decimal import Decimal

from chat.i18n import N_, _, current_locale, ngettext
from domain import kpi, owner_totals
from domain.anonymity import MIN_ANSWERS
from domain.kpi_trend import ChartWords
from domain.questionnaire import YES, YES_NO, Questionnaire
from domain.survey_calendar import month_name
from services.surveys.survey_text import show_number

RATE_NAMES = {
    kpi.DEFECT_RATE: N_("Defect rate (%)"),
    kpi.ABSENTEEISM: N_("Absenteeism (%)"),
    kpi.TURNOVER: N_("Turnover (%)"),
    kpi.LTIFR: N_("Lost-time accidents per 1 million hours worked"),
    kpi.SEVERITY: N_("Days lost per 1 million hours worked"),
    kpi.SUGGESTIONS_PER_100: N_("Suggestions implemented per 100 workers"),
    kpi.KWH_PER_UNIT: N_("kWh per unit"),
    kpi.WOMEN_SHARE: N_("Women (%)"),
    kpi.CUSTOMER_CLAIMS: N_("Customer claims"),
    kpi.FATAL_ACCIDENTS: N_("Fatal accidents"),
}


def rate_name(key: str) -> str:
    return _(RATE_NAMES[key])


def _signed(delta: Decimal) -> str:
    shown = show_number(abs(delta))
    return f"+{shown}" if delta > 0 else f"−{shown}" if delta < 0 else shown


def rate_lines(rates: Mapping[str, Decimal | None],
               baseline: Mapping[str, Decimal | None] | None,
               keys: tuple[str, ...] = kpi.HEADLINE_KEYS) -> list[str]:
    """One line per rate: its value, and its change from the baseline when both are known,
    after a line that says once what the baseline is (LANGUAGE.md)."""
    lines = []
    if baseline is not None:
        lines.append(_("Compared with the baseline (the figures before training):"))
    for change in kpi.changes({k: rates.get(k) for k in keys}, baseline):
        # As the item's own button says it ("Tidak dicatat"), in the summary just above.
        value = show_number(change.now) if change.now is not None else _("Not recorded")
        line = f"{html.escape(rate_name(change.key))}: {value}"
        if change.baseline is not None and change.delta is not None:
            verdict = {True: _("better"), False: _("worse"), None: ""}[change.better]
            line += " " + _("(baseline {value}, {change} {verdict})").format(
                value=show_number(change.baseline), change=_signed(change.delta),
                verdict=verdict).replace(" )", ")")
        lines.append(line)
    return lines


def baseline_only(enterprise: str, period: date,
                  rates: Mapping[str, Decimal | None]) -> str:
    """An enterprise with a baseline and no monthly report yet: what the baseline holds,
    and that the trend comes with the monthly reports."""
    return "\n".join([
        f"<b>{html.escape(enterprise)}</b>",
        _("Baseline: {month}").format(month=month_name(period, current_locale())),
        *rate_lines(rates, None),
        _("The trend chart comes once the monthly reports arrive. The report is asked for at "
          "the start of each month.")])


def chart_words(enterprise: str) -> ChartWords:
    return ChartWords(title=_("{name}: KPI trend").format(name=enterprise),
                      baseline=_("Baseline"), not_recorded=_("Not recorded"),
                      series={k: rate_name(k) for k in kpi.RATE_KEYS},
                      locale=current_locale())


def medians_words() -> ChartWords:
    return ChartWords(title=_("SCORE programme: median KPIs per month"), baseline=_("Baseline"),
                      not_recorded=_("Not recorded"),
                      series={k: rate_name(k) for k in kpi.RATE_KEYS},
                      locale=current_locale())


def pulse_lines(questionnaire: Questionnaire, period: date,
                release: owner_totals.Release) -> list[str]:
    """What owners and admins read of their workers' survey: shares rounded to 10% of noisy
    totals of the workers who had joined two weeks before the round (domain/owner_totals.py),
    per question with at least five; never counts of one answer, never names."""
    language = current_locale()
    lines = [_("<b>Workers' survey, {month}</b>").format(month=month_name(period, language)),
             ngettext("{count} worker was linked to the enterprise in the bot when the "
                      "survey opened.",
                      "{count} workers were linked to the enterprise in the bot when the "
                      "survey opened.", release.members).format(count=release.members)]
    if not owner_totals.may_show(release):
        # Hidden by the exact rule or by the noise: the words must hold for both (saying
        # "fewer than five answered" would be false when the noise hid five).
        lines.append(_("The results are not shown, to keep each worker's answers "
                       "confidential. They are shown only when enough workers who had joined "
                       "two weeks before the survey answer it."))
        return lines
    lines.append(_("About {count} workers answered. The shares are rounded and blurred on "
                   "purpose, more so when few answered, so that no one's answer can be worked "
                   "out.").format(
        count=owner_totals.about(release.responses)))
    hidden = []
    for question in questionnaire.questions:
        counts = release.counts.get(question.key, {})
        label = html.escape(question.label[language])
        if sum(counts.values()) < MIN_ANSWERS:
            hidden.append(label)
            continue
        parts = []
        for value, share in owner_totals.shares(counts).items():
            if question.type == YES_NO:
                text = _("Yes") if value == YES else _("No")
            else:
                choice = question.choice(value)
                text = choice.text[language] if choice else value
            parts.append(f"{html.escape(text)} {share}%")
        lines.append(f"{label}: " + ", ".join(parts))
    if hidden:
        lines.append(_("Too few answers to show, to keep them confidential: {questions}.")
                     .format(questions=", ".join(hidden)))
    return lines
