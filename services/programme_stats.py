"""Staff's /stats in words and in a picture: the numbers db/programme_stats.py reads, said
in the reader's language (numbers and percentages through Babel), and the chart drawn off
the event loop (rendering/programme_chart.py, in a worker thread, matplotlib loaded with the
first chart, as services/surveys/charts.py does for /kpi)."""

from __future__ import annotations

import asyncio
import html
from datetime import date

from babel.dates import format_date
from babel.numbers import format_percent

from chat.i18n import _, current_locale, format_number, ngettext
from chat.labels import module_name, role_name
from db.models import BroadcastStatus
from db.programme_stats import Delivery, People, ProgrammeStats, Visits, Workshops
from domain import response_rates as rr
from domain.programme_stats import (
    STATES,
    StateCounts,
    StatsChart,
    StatsWords,
    by_province_order,
)
from domain.provinces import by_code
from domain.schedule import in_wib
from domain.survey_calendar import date_words, month_name
from services.surveys.round_text import round_title

# The order people are listed in: as the programme reaches them, then who runs it.
ROLE_ORDER = ("owner", "admin", "worker", "trainer", "staff", None)


def stats_text(stats: ProgrammeStats) -> str:
    """The whole programme in a few short sections, headings in bold."""
    locale = current_locale()
    lines = [_("<b>SCORE in numbers</b>, {date}").format(
        date=date_words(in_wib(stats.now).date(), locale))]
    lines += ["", "<b>" + _("Enterprises") + "</b>", *_enterprises(stats)]
    lines += ["", "<b>" + _("People") + "</b>", *_people(stats)]
    lines += ["", "<b>" + _("Survey response, latest rounds") + "</b>", *_rounds(stats)]
    lines += ["", "<b>" + _("Workshops") + "</b>", *(_workshops(w) for w in stats.workshops)]
    lines += ["", "<b>" + _("Consulting visits") + "</b>", *(_visits(v) for v in stats.visits)]
    lines += ["", "<b>" + _("Latest broadcasts") + "</b>", *_broadcasts(stats.broadcasts)]
    return "\n".join(lines)


def _n(value: int) -> str:
    return format_number(value)


def _states(counts: StateCounts) -> str:
    """"2 approved · 1 waiting", the states that have any."""
    words = {"approved": _("{count} approved"), "pending": _("{count} waiting"),
             "rejected": _("{count} rejected")}
    return " · ".join(words[state].format(count=_n(counts.of(state)))
                      for state in STATES if counts.of(state))


def _province(code: str) -> str:
    province = by_code(code)
    return province.name(current_locale()) if province else code


def _enterprises(stats: ProgrammeStats) -> list[str]:
    total = stats.enterprises
    if not total.total:
        return [_("No enterprise has enrolled yet.")]
    lines = [ngettext("{count} enterprise enrolled: {states}",
                      "{count} enterprises enrolled: {states}", total.total).format(
        count=_n(total.total), states=_states(total))]
    lines += [f"{html.escape(_province(code))}: {_states(stats.provinces[code])}"
              for code in by_province_order(stats.provinces)]
    lines += ["", "<b>" + _("By module of interest") + "</b>"]
    lines += [f"{module}. {html.escape(module_name(module))}: {_states(stats.modules[module])}"
              for module in sorted(stats.modules)]
    if not stats.modules:
        lines.append(_("None chosen yet."))
    return lines


def _people(stats: ProgrammeStats) -> list[str]:
    lines = [ngettext("{count} worker linked to an enterprise",
                      "{count} workers linked to an enterprise",
                      stats.linked_workers).format(count=_n(stats.linked_workers))]
    if stats.linked_workers:
        lines[0] += " " + ngettext("(in {count} enterprise)", "(in {count} enterprises)",
                                   stats.linking_enterprises).format(
            count=_n(stats.linking_enterprises))
    for role in ROLE_ORDER:
        people = stats.people.get(role)
        if people is not None:
            lines.append(f"{_role(role)}: {_activity(people)}")
    return lines


def _role(role: str | None) -> str:
    return role_name(role) if role else _("No role yet")


def _activity(people: People) -> str:
    active = _("{count} active").format(count=_n(people.active))
    if not people.blocked:
        return active
    return active + " · " + _("{count} blocked the bot").format(count=_n(people.blocked))


def _share(tally: rr.Tally) -> str:
    return "–" if tally.share is None else format_percent(tally.share, locale=current_locale())


def _rounds(stats: ProgrammeStats) -> list[str]:
    if not stats.rounds:
        return [_("No survey round yet.")]
    lines = []
    for tallies in stats.rounds:
        round_, total = tallies.round, rr.overall(tallies.enterprises)
        if round_.survey == "kpi":
            said = ngettext("{answered} of {asked} enterprise ({share})",
                            "{answered} of {asked} enterprises ({share})", total.asked)
        else:
            said = ngettext("{answered} of {asked} worker ({share})",
                            "{answered} of {asked} workers ({share})", total.asked)
        lines.append(html.escape(round_title(round_.survey, round_.period)) + ": " + said.format(
            answered=_n(total.answered), asked=_n(total.asked), share=_share(total)))
    return lines


def _month(first: date) -> str:
    return month_name(first, current_locale())


def _workshops(found: Workshops) -> str:
    month = _month(found.month.first)
    if not (found.held or found.coming or found.cancelled):
        return _("{month}: none").format(month=month)
    parts = [_("{count} held").format(count=_n(found.held)) if found.held else "",
             _("{count} coming").format(count=_n(found.coming)) if found.coming else "",
             _("{count} cancelled").format(count=_n(found.cancelled)) if found.cancelled
             else ""]
    lines = [f"{month}: " + " · ".join(part for part in parts if part)]
    if found.invited:
        lines.append(ngettext(
            "{count} enterprise invited: {attending} attending · {declined} declined · "
            "{open} not answered",
            "{count} enterprises invited: {attending} attending · {declined} declined · "
            "{open} not answered", found.invited).format(
            count=_n(found.invited), attending=_n(found.attending),
            declined=_n(found.declined),
            open=_n(found.invited - found.attending - found.declined)))
    if found.named:
        lines.append(ngettext(
            "{count} person named ({women} women), {attended} attended",
            "{count} people named ({women} women), {attended} attended",
            found.named).format(count=_n(found.named), women=_n(found.women),
                                attended=_n(found.attended)))
    return "\n".join(lines)


def _visits(found: Visits) -> str:
    month = _month(found.month.first)
    parts = [(found.done, _("{count} done")), (found.unreported, _("{count} not reported")),
             (found.coming, _("{count} coming")), (found.cancelled, _("{count} cancelled"))]
    shown = [word.format(count=_n(count)) for count, word in parts if count]
    if not shown:
        return _("{month}: none").format(month=month)
    return f"{month}: " + " · ".join(shown)


def _broadcasts(deliveries: list[Delivery]) -> list[str]:
    if not deliveries:
        return [_("No broadcasts yet.")]
    lines = []
    for delivery in deliveries:
        broadcast, counts = delivery.broadcast, delivery.counts
        day = format_date(in_wib(broadcast.send_at).date(), "d MMMM y",
                          locale=current_locale())
        head = f"#{broadcast.id} · {day}: "
        if broadcast.status is BroadcastStatus.SCHEDULED:
            lines.append(head + _("not sent yet"))
            continue
        recipients = (broadcast.recipient_count if broadcast.recipient_count is not None
                      else counts.total)
        said = _("{count} recipients · {sent} sent · {pending} waiting · {failed} not "
                 "delivered").format(count=_n(recipients), sent=_n(counts.sent),
                                     pending=_n(counts.pending),
                                     failed=_n(counts.failed + counts.skipped
                                               + counts.expired))
        if broadcast.status is BroadcastStatus.CANCELLED:
            said += " · " + _("cancelled")
        lines.append(head + said)
    return lines


# --- the chart ----------------------------------------------------------------------------
def chart_of(stats: ProgrammeStats) -> StatsChart:
    """Enterprises per province by state, and each round's response rate, labelled in the
    reader's language."""
    provinces = [(_province(code), stats.provinces[code])
                 for code in by_province_order(stats.provinces)]
    rates = [(round_title(t.round.survey, t.round.period), rr.overall(t.enterprises).share)
             for t in stats.rounds]
    return StatsChart(provinces, rates)


def chart_words() -> StatsWords:
    return StatsWords(
        title=_("SCORE in numbers"), enterprises=_("Enterprises per province"),
        states={"approved": _("Approved"), "pending": _("Waiting"),
                "rejected": _("Rejected")},
        rates=_("Survey response, latest rounds"), locale=current_locale())


def _draw(chart: StatsChart, words: StatsWords) -> bytes:
    from rendering import programme_chart  # loaded on first use, as services/surveys/charts

    return programme_chart.draw(chart, words)


async def chart_png(chart: StatsChart, words: StatsWords) -> bytes:
    """The picture as a PNG, drawn in a worker thread: replies and the outbox's pacing never
    wait behind it."""
    return await asyncio.to_thread(_draw, chart, words)
