"""Staff open a month whose round never ran, late on purpose (the bot was down, or October is
run in December): "Open a past month" under /surveys, the month chosen from those that never
ran, its own dates from today and whom it asks shown, then confirmed.

The same as `score-bot survey open --late` (services/surveys/rounds.open_month): the round asks
only those who were members by the month's end, and its invitations say it comes late.
"""

from __future__ import annotations

import html
from datetime import date
from typing import TypedDict
from zoneinfo import ZoneInfo

from chat.access import is_staff
from chat.flow import BUTTON, END, Flow, Outcome, Run
from chat.i18n import N_, _, current_locale, ngettext
from chat.reply import rows
from db import survey_stats
from db.queries.surveys import RoundPlan
from domain import survey_calendar as calendar
from domain.provinces import WIB
from services.surveys import rounds
from services.surveys.round_text import date_lines, late_line, round_title


class LateData(TypedDict, total=False):
    months: list[str]  # "kpi:2026-10": the months offered
    survey: str
    period: str        # the chosen month, ISO


LATE: Flow[LateData] = Flow("round_late", allowed=is_staff,
                            cancelled=N_("Cancelled. No round was opened."))
PICK, CONFIRM = "rlpk", "rlok"


def _key(survey: str, period: date) -> str:
    return f"{survey}:{period.isoformat()}"


def _title(survey: str, period: date) -> str:
    return html.escape(round_title(survey, period))


@LATE.entry
async def begin(run: Run[LateData], shown: str = "") -> Outcome:
    """From the /surveys button (`shown`: its value, nothing): the months are read again."""
    months = await rounds.late_months(run.svc)
    if not months:
        await run.say(_("Every month of the last three had its rounds. There is nothing to "
                        "open late."))
        return END
    run.data["months"] = [_key(survey, period) for survey, period in months]
    return ask_month


def _offered(run: Run[LateData], value: str) -> bool:
    return value in run.data.get("months", [])


@LATE.step("rl_month", expects=BUTTON)
async def ask_month(run: Run[LateData]) -> None:
    buttons = []
    for key in run.data["months"]:
        survey, period = key.split(":")
        buttons.append(run.button(round_title(survey, date.fromisoformat(period)), PICK, key))
    await run.say(_("These months never had their round, and their dates have passed. Which "
                    "one should open now, late?"), rows(buttons, width=1))


@ask_month.on_button(PICK, offered=_offered)
async def month_chosen(run: Run[LateData], value: str) -> Outcome:
    await run.ack()
    survey, period = value.split(":")
    run.data["survey"], run.data["period"] = survey, period
    return ask_confirm


def _plan(run: Run[LateData]) -> RoundPlan:
    today = run.svc.clock.now().astimezone(ZoneInfo(WIB)).date()
    return rounds.late_plan(run.data["survey"], date.fromisoformat(run.data["period"]), today)


@LATE.step("rl_confirm", expects=BUTTON)
async def ask_confirm(run: Run[LateData]) -> None:
    survey, period = run.data["survey"], date.fromisoformat(run.data["period"])
    plan = _plan(run)
    count = await survey_stats.invitee_count(run.svc.sessionmaker, plan)
    asked = (ngettext("It invites {count} owner or admin now.",
                      "It invites {count} owners and admins now.", count)
             if survey == "kpi" else
             ngettext("It invites {count} worker now.", "It invites {count} workers now.",
                      count)).format(count=count)
    await run.say("\n".join([
        _("Open <b>{title}</b> late, with these dates?").format(title=_title(survey, period)),
        *date_lines(plan.opens_on, plan.reminder_on, plan.closes_on), "",
        late_line(survey, period), asked,
        _("The invitations go out at once. Where it is night (21:00 to 06:00), they go out "
          "at 06:00 local time.")]), rows([
        run.button("✅ " + _("Yes, open it"), CONFIRM, "yes"),
        run.button("✖ " + _("No"), CONFIRM, "no")], width=1))


@ask_confirm.on_button(CONFIRM, ("yes", "no"))
async def confirmed(run: Run[LateData], answer: str) -> Outcome:
    await run.ack()
    survey, period = run.data["survey"], date.fromisoformat(run.data["period"])
    if answer == "no":
        await run.say(_("Nothing was opened."))
        return END
    result = await rounds.open_month(run.svc, survey, period, late=True)
    title = _title(survey, period)
    if result.outcome in (rounds.Opening.OPENED, rounds.Opening.OPENED_LATE):
        assert result.round is not None
        lines = [_("<b>{title}</b> is open until {date}.").format(
            title=title, date=calendar.date_words(result.round.closes_on, current_locale()))]
        if result.queued:
            lines.append(ngettext("{count} invitation is queued.",
                                  "{count} invitations are queued.",
                                  result.queued).format(count=result.queued))
        else:
            lines.append(_("Nobody was invited: no one it asks is in the bot."))
        await run.say("\n".join(lines))
    elif result.outcome is rounds.Opening.ALREADY_OPEN:
        await run.say(_("<b>{title}</b> was opened meanwhile. Nothing new was sent.").format(
            title=title))
    else:
        await run.say(_("<b>{title}</b> can no longer be opened. Nothing was sent.").format(
            title=title))
    return END
