"""Staff move a survey round (Lebaran, a holiday the calendar does not know): Move under a
round in /surveys, the new opening day typed as people write it ("3 Desember", "3/12",
"besok", "8 December"), the new dates shown in words, then confirmed.

The round's reminder and close follow the opening (domain/survey_calendar.moved); messages
of the old dates not sent yet are dropped, and the invitations go out again on the new day
to those who have not answered (services/surveys/rounds.move_round).
"""

from __future__ import annotations

import html
from datetime import date
from typing import TypedDict

from chat.access import is_staff
from chat.flow import BUTTON, END, Flow, Outcome, Run, clear
from chat.i18n import N_, _, current_locale, format_time
from chat.reply import rows
from db import surveys as surveys_db
from db.models import SurveyRound
from domain import survey_calendar as calendar
from domain import typed_dates
from domain.survey_calendar import month_name
from services.surveys import rounds
from services.surveys.round_text import date_lines, day_words, round_title


class MoveData(TypedDict, total=False):
    round: int   # the round's id (0: none given)
    opens: str   # the new opening day, ISO


MOVE: Flow[MoveData] = Flow("round_move", allowed=is_staff,
                            cancelled=N_("Cancelled. The round keeps its dates."))
CONFIRM = "rmok"

_DATE_NOTES = {
    typed_dates.EMPTY: N_("Please type the new opening date, for example 8 December."),
    typed_dates.NOT_A_DATE: N_("I could not read that date. Please type it like 8 December, "
                               "2026-12-08 or 8/12."),
    typed_dates.PAST: N_("That date has passed. Please choose today or a later date."),
    typed_dates.TOO_FAR: N_("That is more than three months ahead. Please check the date."),
}


async def _round(run: Run[MoveData]) -> SurveyRound | None:
    """The round being moved, while it can still be moved (not closed)."""
    round_ = await surveys_db.round_by_id(run.svc.sessionmaker, int(run.data.get("round", 0)))
    if round_ is None or round_.closed_at is not None or round_.closes_at <= run.svc.clock.now():
        return None
    return round_


async def _closed(run: Run[MoveData]) -> Outcome:
    await run.say(_("This round is closed. Its dates can no longer be changed."))
    return END


async def _gone(run: Run[MoveData]) -> None:
    """The round closed while its question was open (asked again after /help, say)."""
    await _closed(run)
    clear(run.context)


@MOVE.entry
async def begin(run: Run[MoveData], round_id: str = "") -> Outcome:
    run.data["round"] = int(round_id) if round_id.isdigit() else 0
    if await _round(run) is None:
        return await _closed(run)
    return ask_date


def _title(round_: SurveyRound) -> str:
    return html.escape(round_title(round_.survey, round_.period))


@MOVE.step("rm_date", note=N_("Please type the new opening date, for example 8 December."))
async def ask_date(run: Run[MoveData]) -> None:
    round_ = await _round(run)
    if round_ is None:
        await _gone(run)
        return
    await run.say(_("<b>{title}</b> opens on {date}.\nWhen should it open instead? Type the "
                    "date, for example “8 December”, “2026-12-08”, “8/12” or “tomorrow”.").format(
        title=_title(round_), date=day_words(round_.opens_on)))


@ask_date.on_text()
async def date_typed(run: Run[MoveData], text: str) -> Outcome:
    day, error = typed_dates.read_coming_day(text, run.svc.clock.now())
    if error is not None or day is None:
        return run.retry(_(_DATE_NOTES.get(error or "", _DATE_NOTES[typed_dates.NOT_A_DATE])))
    round_ = await _round(run)
    if round_ is None:
        return await _closed(run)
    if day == round_.opens_on:
        return run.retry(_("The round opens on that day already."))
    off = calendar.day_off_name(day)
    if off is not None:
        # Invitations on a holiday or a weekend reach people away from work.
        if off:
            return run.retry(_("{date} is a holiday ({name}). Please choose a working "
                               "day.").format(date=day_words(day), name=html.escape(off)))
        return run.retry(_("{date} is a weekend. Please choose a working day.").format(
            date=day_words(day)))
    try:
        plan = rounds.moved_plan(round_, day)
    except ValueError:
        # A round about November cannot open before November has ended.
        return run.retry(_("A round about {month} cannot open before that month has "
                           "ended.").format(month=month_name(round_.period, current_locale())))
    following = calendar.next_round_opens(round_.period, kpi=round_.survey == "kpi")
    if plan.closes_on >= following:
        return run.retry(_("Then it would still be open when the next month's round opens on "
                           "{date}. Please choose an earlier day.").format(
            date=day_words(following)))
    run.data["opens"] = day.isoformat()
    return ask_confirm


def _send_time(round_: SurveyRound) -> str:
    """When a round's invitations go out, local time: "09.00" (KPI), "19.30" (pulse)."""
    at = calendar.KPI_INVITE_TIME if round_.survey == "kpi" else calendar.PULSE_INVITE_TIME
    return format_time(at)


@MOVE.step("rm_confirm", expects=BUTTON)
async def ask_confirm(run: Run[MoveData]) -> None:
    round_ = await _round(run)
    if round_ is None:
        await _gone(run)
        return
    opens = date.fromisoformat(run.data["opens"])
    plan = rounds.moved_plan(round_, opens)
    lines = [_("Move <b>{title}</b> to these dates?").format(title=_title(round_)),
             *date_lines(plan.opens_on, plan.reminder_on, plan.closes_on), "",
             _("Invitations go out on {date} at {time} local time, the reminder on {reminder} "
               "to those who have not answered.").format(
                 date=day_words(plan.opens_on), time=_send_time(round_),
                 reminder=day_words(plan.reminder_on))]
    if round_.queued_at is not None:
        lines.append(_("The invitations went out already. Until the new day nobody can "
                       "answer, then those who have not answered are invited again."))
    await run.say("\n".join(lines), rows([
        run.button("✅ " + _("Yes, move it"), CONFIRM, "yes"),
        run.button(_("Another date"), CONFIRM, "date"),
        run.button("✖ " + _("No"), CONFIRM, "no")], width=1))


@ask_confirm.on_button(CONFIRM, ("yes", "date", "no"))
async def confirmed(run: Run[MoveData], answer: str) -> Outcome:
    await run.ack()
    if answer == "date":
        return ask_date
    if answer == "no":
        await run.say(_("Nothing was changed. The round keeps its dates."))
        return END
    moved = await rounds.move_round(run.svc, int(run.data["round"]),
                                    date.fromisoformat(run.data["opens"]), staff_id=run.user_id)
    if moved is None:
        return await _closed(run)
    await run.say("\n".join([
        _("<b>{title}</b> is moved.").format(title=_title(moved)),
        *date_lines(moved.opens_on, moved.reminder_on, moved.closes_on)]))
    return END
