"""How a survey round is named to staff: its survey and month, whether it is open, and its
dates, always in words in the reader's language ("Selasa, 1 Desember 2026")."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from chat.i18n import _, current_locale, format_number, format_time, ngettext
from db.models import SurveyRound
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
                             time=format_time(local)))
    return lines


def held_date_lines(round_: SurveyRound, *, now: datetime, reminders_sent: int = 0
                    ) -> list[str]:
    """The dates a round really has, for staff: the day it opened (not the planned one, if
    it opened late or at once), its reminder only while it can still be sent, and the day
    it closed or closes. Rounds are dated in WIB."""
    opened = (round_.queued_at.astimezone(ZoneInfo(WIB)).date()
              if round_.queued_at is not None else None)
    closed = round_.closed_at is not None or round_.closes_at <= now
    lines = []
    if opened is None:
        lines.append(_("Opens: {date}").format(date=day_words(round_.opens_on)))
    elif opened != round_.opens_on:
        lines.append(_("Opened: {date} (planned for {planned})").format(
            date=day_words(opened), planned=day_words(round_.opens_on)))
    else:
        lines.append(_("Opened: {date}").format(date=day_words(opened)))
    if opened is not None and opened >= round_.reminder_on:
        lines.append(_("Reminder: none, it opened on or after the reminder day"))
    elif round_.reminder_on >= round_.closes_on:
        lines.append(_("Reminder: none, it would come on the closing day"))
    elif closed or round_.reminder_on < now.astimezone(ZoneInfo(WIB)).date():
        # What really went out: everyone may have answered before it (or it expired).
        if reminders_sent:
            lines.append(ngettext("Reminder: {date}, sent to {count}",
                                  "Reminder: {date}, sent to {count}", reminders_sent).format(
                date=day_words(round_.reminder_on), count=format_number(reminders_sent)))
        else:
            lines.append(_("Reminder: {date}, none went out").format(
                date=day_words(round_.reminder_on)))
    else:
        lines.append(_("Reminder: {date}").format(date=day_words(round_.reminder_on)))
    lines.append((_("Closed: {date}") if closed else _("Closes: {date}")).format(
        date=day_words(round_.closes_on)))
    if round_.members_until is not None:
        lines.append(late_line(round_.survey, round_.period))
    return lines


def late_line(survey: str, period: date) -> str:
    """What a month opened late asks, for staff."""
    month = calendar.month_name(period, current_locale())
    if survey == "kpi":
        return _("Opened late on purpose: it asks the enterprises that were approved by the "
                 "end of {month}.").format(month=month)
    return _("Opened late on purpose: it asks the workers who were in the bot by the end of "
             "{month}.").format(month=month)
