"""How a survey round is named to staff: its survey and month, whether it is open, and its
dates, always in words in the reader's language ("Selasa, 1 Desember 2026")."""

from __future__ import annotations

from datetime import date, datetime

from chat.i18n import _, current_locale
from domain import survey_calendar as calendar


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
