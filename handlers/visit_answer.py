"""The trainer's answer to "Did the visit happen?" (services/visits.py asks it after the
visit, and once more the next morning): each button opens a short flow.

- Yes: what was done, the next steps, whether the improvement team (EIT) met since the last
  visit; a summary, then it is stored (status DONE) and the owner and admins get the next
  steps.
- Rescheduled: the new date and time, read in the enterprise's zone and confirmed in words;
  the reminders are planned again and the owner and admins told.
- Cancelled: the reason; the owner and admins told.

Only the visit's trainer may answer, and only for the date they were asked about: a button
of a visit that was cancelled, reported or moved since says so; someone else's visit is
refused and logged (the use cases check it again on the locked row).
"""

from __future__ import annotations

import html
import logging
from dataclasses import replace
from datetime import datetime
from typing import TypedDict

from telegram import InlineKeyboardMarkup

from chat.flow import BUTTON, END, Flow, Outcome, Run
from chat.i18n import N_, _
from chat.reply import rows
from db import visits as visits_db
from db.visits import Refusal, Report, VisitInfo
from domain import typed_dates
from domain import visits as rules
from domain.quiet_hours import ZONE_NAMES
from handlers.visit_new import DATE_NOTES
from services import visits

log = logging.getLogger(__name__)

EIT, REPORT_OK, MOVE_OK, CANCEL_OK = "vreit", "vrok", "vmok", "vcok"

TEXT_NOTES = {
    rules.EMPTY: N_("The answer is empty."),
    rules.TOO_LONG: N_("That is too long: at most 1,000 characters, please."),
    rules.TOO_SHORT: N_("Please write a few words."),
}
REASON_NOTES = {**TEXT_NOTES,
                rules.TOO_LONG: N_("That is too long: at most 300 characters, please.")}


class AnswerData(TypedDict, total=False):
    visit: int
    version: int
    done: str
    next: str
    eit: bool
    starts: str     # a rescheduled visit's new moment, ISO, UTC
    reason: str


def _cancelled_text(run: Run[AnswerData]) -> str:
    return _("All right. Nothing was changed. You can answer with the buttons of the "
             "question later.")


REPORT: Flow[AnswerData] = Flow("visit_report", cancelled=_cancelled_text)
MOVE: Flow[AnswerData] = Flow("visit_move", cancelled=_cancelled_text)
CANCEL: Flow[AnswerData] = Flow("visit_cancel", cancelled=_cancelled_text)


async def _opened(run: Run[AnswerData], value: str, *, report: bool = False
                  ) -> VisitInfo | None:
    """The visit a button names, if its presser may still answer for it; else said why."""
    read = visits.read_value(value)
    info = await visits_db.visit(run.svc.sessionmaker, read[0]) if read else None
    refusal = (Refusal.GONE if read is None or info is None else
               await visits_db.check(run.svc.sessionmaker, read[0], read[1], run.user_id))
    if refusal is None and info is not None and report and not rules.may_be_asked(
            info.starts_at, run.svc.clock.now()):
        refusal = Refusal.NOT_YET
    if refusal is not None:
        if refusal is Refusal.NOT_YOURS:
            log.warning("visit button of visit %s from user=%s, not its trainer", value,
                        run.user_id)
        await run.say(visits.refusal_text(refusal))
        return None
    assert info is not None and read is not None
    run.data["visit"], run.data["version"] = read
    return info


async def _info(run: Run[AnswerData]) -> VisitInfo | None:
    return await visits_db.visit(run.svc.sessionmaker, int(run.data["visit"]))


async def _ended(run: Run[AnswerData], refusal: Refusal) -> Outcome:
    await run.say(visits.refusal_text(refusal))
    return END


def _title(info: VisitInfo) -> str:
    return _("Consulting visit to {name} on {when}").format(
        name=f"<b>{html.escape(info.enterprise)}</b>",
        when=visits.when_words(info.starts_at, info.zone))


async def _begin(run: Run[AnswerData], visit: str, first: Outcome, *,
                 report: bool = False) -> Outcome:
    """Each answer opens the same way: the visit checked, named, then its first question."""
    info = await _opened(run, visit, report=report)
    if info is None:
        return END
    await run.say(_title(info))
    return first


# --- Yes: the report -------------------------------------------------------------------------
@REPORT.entry
async def report_begin(run: Run[AnswerData], visit: str = "") -> Outcome:
    return await _begin(run, visit, ask_done, report=True)


@REPORT.step("vr_done", note=N_("Please write what was done, in a few sentences."))
async def ask_done(run: Run[AnswerData]) -> None:
    await run.say(_("What was done during the visit? A few sentences, please."))


@ask_done.on_text(rules.clean_text, TEXT_NOTES)
async def done_typed(run: Run[AnswerData], text: str) -> Outcome:
    run.data["done"] = text
    return run.then(ask_next)


@REPORT.step("vr_next", note=N_("Please write the next steps, in a few sentences."))
async def ask_next(run: Run[AnswerData]) -> None:
    await run.say(_("What are the next steps for the enterprise? The owner and admins will "
                    "receive them."))


@ask_next.on_text(rules.clean_text, TEXT_NOTES)
async def next_typed(run: Run[AnswerData], text: str) -> Outcome:
    run.data["next"] = text
    return run.then(ask_eit)


@REPORT.step("vr_eit", expects=BUTTON)
async def ask_eit(run: Run[AnswerData]) -> None:
    await run.say(_("Has the improvement team (EIT) met since the last visit?"),
                  rows([run.button(_("Yes, it met"), EIT, "yes"),
                        run.button(_("No, it has not met"), EIT, "no")]))


@ask_eit.on_button(EIT, ("yes", "no"))
async def eit_given(run: Run[AnswerData], value: str) -> Outcome:
    await run.ack()
    run.data["eit"] = value == "yes"
    return run.then(ask_report_ok)


@REPORT.step("vr_confirm", expects=BUTTON)
async def ask_report_ok(run: Run[AnswerData]) -> None:
    info = await _info(run)
    if info is None:
        await run.say(visits.refusal_text(Refusal.GONE))
        return
    lines = [_title(info), "",
             _("<b>What was done</b>"), html.escape(run.data["done"]), "",
             _("<b>Next steps</b>"), html.escape(run.data["next"]), "",
             _("Improvement team (EIT) met since the last visit: {answer}").format(
                 answer=_("yes") if run.data.get("eit") else _("no")),
             "", _("Send this report? The owner and admins will receive the next steps.")]
    await run.say("\n".join(lines), _keyboard(run, REPORT_OK, [
        ("✅ " + _("Send the report"), "yes"), (_("Change what was done"), "done"),
        (_("Change the next steps"), "next"), (_("Change the EIT answer"), "eit")]))


def _keyboard(run: Run[AnswerData], kind: str,
              buttons: list[tuple[str, str]]) -> InlineKeyboardMarkup:
    return rows([run.button(label, kind, value) for label, value in buttons], width=1)


@ask_report_ok.on_button(REPORT_OK, ("yes", "done", "next", "eit"))
async def report_confirmed(run: Run[AnswerData], answer: str) -> Outcome:
    await run.ack()
    if answer == "done":
        return run.edit(ask_done, back=ask_report_ok)
    if answer == "next":
        return run.edit(ask_next, back=ask_report_ok)
    if answer == "eit":
        return run.edit(ask_eit, back=ask_report_ok)
    info = await _info(run)
    if info is None:
        return await _ended(run, Refusal.GONE)
    refused = await visits.report(run.svc, _as_asked(info, run), run.user_id, Report(
        run.data["done"], run.data["next"], bool(run.data.get("eit"))))
    if refused is not None:
        return await _ended(run, refused)
    await run.say(_("Thank you. The report is stored and the owner and admins of {name} have "
                    "the next steps.").format(name=html.escape(info.enterprise)))
    return END


def _as_asked(info: VisitInfo, run: Run[AnswerData]) -> VisitInfo:
    """The visit as the trainer was asked about it: its version then, so a move meanwhile
    is refused by the use case."""
    return replace(info, version=int(run.data["version"]))


# --- Rescheduled: the new date -----------------------------------------------------------
@MOVE.entry
async def move_begin(run: Run[AnswerData], visit: str = "") -> Outcome:
    return await _begin(run, visit, ask_new_when)


@MOVE.step("vm_when")
async def ask_new_when(run: Run[AnswerData]) -> None:
    info = await _info(run)
    zone = ZONE_NAMES[info.zone] if info else "WIB"
    await run.say(_("When is the visit now? Type the new date and time ({zone}), for example "
                    "“14 December 09:00” or “tomorrow 9am”.").format(zone=zone))


@ask_new_when.on_text()
async def new_when_typed(run: Run[AnswerData], text: str) -> Outcome:
    info = await _info(run)
    if info is None:
        return await _ended(run, Refusal.GONE)
    moment, error = typed_dates.read_coming_moment(text, run.svc.clock.now(), zone=info.zone)
    if error is not None or moment is None:
        return run.retry(_(DATE_NOTES.get(error or "", DATE_NOTES[typed_dates.NOT_A_DATE])))
    if moment == info.starts_at:
        return run.retry(_("The visit is on that date already."))
    run.data["starts"] = moment.isoformat()
    return ask_move_ok


@MOVE.step("vm_confirm", expects=BUTTON)
async def ask_move_ok(run: Run[AnswerData]) -> None:
    info = await _info(run)
    if info is None:
        await run.say(visits.refusal_text(Refusal.GONE))
        return
    starts = datetime.fromisoformat(run.data["starts"])
    await run.say(" ".join(filter(None, [_(
        "Move the consulting visit to {name} to {when}? The owner and admins are "
        "told.").format(name=f"<b>{html.escape(info.enterprise)}</b>",
                        when=visits.when_words(starts, info.zone)),
        visits.reminder_promise(starts, info.zone, now=run.svc.clock.now(),
                                to_trainer=True)])), _keyboard(run, MOVE_OK, [
            ("✅ " + _("Yes, move it"), "yes"), (_("Another date"), "date"),
            ("✖ " + _("No"), "no")]))


@ask_move_ok.on_button(MOVE_OK, ("yes", "date", "no"))
async def move_confirmed(run: Run[AnswerData], answer: str) -> Outcome:
    await run.ack()
    if answer == "date":
        return ask_new_when
    if answer == "no":
        await run.say(_cancelled_text(run))
        return END
    info = await _info(run)
    if info is None:
        return await _ended(run, Refusal.GONE)
    starts = datetime.fromisoformat(run.data["starts"])
    if starts <= run.svc.clock.now():
        run.go_to(ask_new_when)
        return run.retry(_(DATE_NOTES[typed_dates.PAST]))
    refused = await visits.reschedule(run.svc, _as_asked(info, run), run.user_id, starts)
    if refused is not None:
        return await _ended(run, refused)
    await run.say(_("The visit to {name} is moved to {when}. The owner and admins have been "
                    "told.").format(name=html.escape(info.enterprise),
                                    when=visits.when_words(starts, info.zone)))
    return END


# --- Cancelled: the reason ---------------------------------------------------------------
@CANCEL.entry
async def cancel_begin(run: Run[AnswerData], visit: str = "") -> Outcome:
    return await _begin(run, visit, ask_reason)


@CANCEL.step("vc_reason", note=N_("Please write why the visit was cancelled."))
async def ask_reason(run: Run[AnswerData]) -> None:
    await run.say(_("Why was the visit cancelled? The owner and admins will read it."))


@ask_reason.on_text(rules.clean_reason, REASON_NOTES)
async def reason_typed(run: Run[AnswerData], text: str) -> Outcome:
    run.data["reason"] = text
    return ask_cancel_ok


@CANCEL.step("vc_confirm", expects=BUTTON)
async def ask_cancel_ok(run: Run[AnswerData]) -> None:
    await run.say(_("Cancel the visit with this reason?") + "\n"
                  + html.escape(run.data["reason"]), _keyboard(run, CANCEL_OK, [
                      ("✅ " + _("Yes, it is cancelled"), "yes"),
                      (_("Change the reason"), "reason"), ("✖ " + _("No"), "no")]))


@ask_cancel_ok.on_button(CANCEL_OK, ("yes", "reason", "no"))
async def cancel_confirmed(run: Run[AnswerData], answer: str) -> Outcome:
    await run.ack()
    if answer == "reason":
        return ask_reason
    if answer == "no":
        await run.say(_cancelled_text(run))
        return END
    info = await _info(run)
    if info is None:
        return await _ended(run, Refusal.GONE)
    refused = await visits.cancel(run.svc, _as_asked(info, run), run.user_id,
                                  run.data["reason"])
    if refused is not None:
        return await _ended(run, refused)
    await run.say(_("The visit to {name} is cancelled. The owner and admins have been "
                    "told.").format(name=html.escape(info.enterprise)))
    return END
