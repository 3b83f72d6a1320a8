"""How a survey round is named to staff: its survey and month, whether it is open, and its
dates, always in words in the reader's language ("Selasa, 1 Desember 2026")."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from chat.i18n import _, current_locale, format_number
from domain import survey_calendar as calendar
from domain.join_patterns import JoinFlags
from domain.provinces import WIB


def round_title(survey: str, period: date) -> str:
    """"KPI report, November 2026" / "Laporan KPI, November 2026"."""
    month = calendar.month_name(period, current_locale())
    if survey == "kpi":
        return _("KPI report, {month}").format(month=month)
    return _("Workers' survey, {month}").format(month=month)


def round_state(*, queued: bool, closed_at: datetime | None, closes_at: datetime,
                now: datetime) -> str:
    if closed_at is not None or closes_at <= now:
        return _("closed")
    if queued:
        return _("open")
    return _("not open yet")


def day_words(day: date) -> str:
    return calendar.date_words(day, current_locale())


def date_lines(opens: date, reminder: date, closes: date) -> list[str]:
    return [_("Opens: {date}").format(date=day_words(opens)),
            _("Reminder: {date}").format(date=day_words(reminder)),
            _("Closes: {date}").format(date=day_words(closes))]


def join_flag_lines(flags: JoinFlags) -> list[str]:
    """Why staff should look at an enterprise's workers in the bot before trusting its
    workers' survey (domain/join_patterns.py)."""
    lines = []
    if flags.over_headcount:
        lines.append(_("⚠️ {linked} workers are linked, more than the {enrolled} it enrolled "
                       "with.").format(linked=format_number(flags.linked),
                                       enrolled=format_number(flags.enrolled)))
    if flags.burst_at is not None:
        local = flags.burst_at.astimezone(ZoneInfo(WIB))
        lines.append(_("⚠️ {count} workers joined within one hour, on {date} from {time} WIB.")
                     .format(count=format_number(flags.burst_size), date=day_words(local.date()),
                             time=local.strftime("%H.%M")))
    return lines
