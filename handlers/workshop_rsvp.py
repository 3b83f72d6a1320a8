"""An enterprise's answer to a workshop invitation, and `/workshops`.

"I will attend" (on the invitation, a reminder or /workshops) asks who will come: a name,
woman or man, manager or worker, for each person, then Done. "I cannot attend" records the
decline at once. Only an owner or admin of an invited enterprise may answer, and until the
end of the day before; pressing again changes the answer and the people. A button of a
cancelled workshop says so.

`/workshops`: owners and admins see their upcoming workshops and their answer; trainers the
workshops of their enterprises (with the attendance list); staff every upcoming one with
its counts.
"""

from __future__ import annotations

import html
from typing import TypedDict

from telegram import Update

from chat.access import is_staff
from chat.context import BotContext
from chat.flow import BUTTON, END, Flow, Outcome, Run
from chat.i18n import N_, _, ngettext
from chat.reply import rows, send
from db import workshops as workshops_db
from db.models import Rsvp
from domain import text_input
from domain.roles import Role
from domain.workshops import FEMALE, KINDS, MALE, MANAGER, MAX_PARTICIPANTS, WORKER, Participant
from handlers.workshop import counts_words
from handlers.workshop_attendance import OPEN
from services import workshops

_REFUSALS = {
    workshops_db.Refusal.GONE: N_("This workshop no longer exists."),
    workshops_db.Refusal.CANCELLED: N_("This workshop was cancelled. The SCORE team will "
                                       "tell you when a new date is set."),
    workshops_db.Refusal.NOT_INVITED: N_("Only the owner or an admin of an invited "
                                         "enterprise can answer this invitation."),
    workshops_db.Refusal.CLOSED: N_("Answers for this workshop are closed: it starts "
                                    "soon. Please contact the SCORE team."),
}


class RsvpData(TypedDict, total=False):
    workshop: int
    answered: bool                 # the enterprise had answered before (an answer stands)
    people: list[dict[str, str]]   # name, sex, kind (domain/workshops.Participant)
    name: str                      # the person being described
    sex: str


def _cancelled(run: Run[RsvpData]) -> str:
    if run.data.get("answered"):
        return _("Cancelled. Your earlier answer stays as it was.")
    return _("Cancelled. The invitation is not answered yet: its buttons still work.")


RSVP: Flow[RsvpData] = Flow("workshop_rsvp", cancelled=_cancelled)

NAME_ERRORS = {
    text_input.EMPTY: N_("The answer is empty."),
    text_input.TOO_LONG: N_("That is too long: at most 200 characters, please."),
    text_input.NO_LETTERS: N_("Please write it in letters."),
    text_input.LOOKS_LIKE_CODE: N_("That does not look like a name."),
    text_input.CHAT_REPLY: N_("That looks like a reply, not a name. Please write the name."),
    "*": N_("Please check the answer."),
}


def _workshop_id(value: str) -> int:
    return int(value) if value.isdigit() else 0


@RSVP.entry
async def begin(run: Run[RsvpData], workshop_id: str = "") -> Outcome:
    place = await workshops_db.answer_place(run.svc.sessionmaker, _workshop_id(workshop_id),
                                            run.user_id, now=run.svc.clock.now())
    if isinstance(place, workshops_db.Refusal):
        await run.ack(_(_REFUSALS[place]))
        await run.say(_(_REFUSALS[place]))
        return END
    run.data["workshop"] = place.workshop.id
    run.data["answered"] = place.answer is not None
    run.data["people"] = []
    lines = [_("Thank you. Who from {name} will come? I ask for each person: the "
               "name, then woman or man, then manager or worker. Type /cancel to stop.").format(
        name=html.escape(place.enterprise_name))]
    if place.people:
        lines.append(_("This replaces the people named before:") + "\n"
                     + workshops.people_words(place.people))
    await run.say("\n".join(lines))
    return ask_name


@RSVP.step("wr_name")
async def ask_name(run: Run[RsvpData]) -> None:
    count = len(run.data.get("people", []))
    await run.say(_("Please type the full name of person {n}.").format(n=count + 1))


@ask_name.on_text(text_input.clean_name, NAME_ERRORS)
async def name_given(run: Run[RsvpData], name: str) -> Outcome:
    run.data["name"] = name
    return ask_sex


@RSVP.step("wr_sex", expects=BUTTON)
async def ask_sex(run: Run[RsvpData]) -> None:
    await run.say(_("{name} is:").format(name=html.escape(run.data.get("name", ""))), rows([
        run.button(_("A woman"), "wrsex", FEMALE), run.button(_("A man"), "wrsex", MALE)]))


@ask_sex.on_button("wrsex", (FEMALE, MALE))
async def sex_chosen(run: Run[RsvpData], sex: str) -> Outcome:
    await run.ack()
    run.data["sex"] = sex
    return ask_kind


@RSVP.step("wr_kind", expects=BUTTON)
async def ask_kind(run: Run[RsvpData]) -> None:
    await run.say(_("Is {name} a manager or a worker?").format(
        name=html.escape(run.data.get("name", ""))), rows([
            run.button(_("Manager"), "wrkind", MANAGER),
            run.button(_("Worker"), "wrkind", WORKER)]))


@ask_kind.on_button("wrkind", KINDS)
async def kind_chosen(run: Run[RsvpData], kind: str) -> Outcome:
    await run.ack()
    people = run.data.setdefault("people", [])
    people.append({"name": run.data.pop("name", ""), "sex": run.data.pop("sex", FEMALE),
                   "kind": kind})
    return ask_more


def _people(run: Run[RsvpData]) -> list[Participant]:
    return [Participant(p["name"], p["sex"], p["kind"]) for p in run.data.get("people", [])]


@RSVP.step("wr_more", expects=BUTTON)
async def ask_more(run: Run[RsvpData]) -> None:
    people = _people(run)
    buttons = [run.button("✅ " + _("Done"), "wrmore", "done")]
    if len(people) < MAX_PARTICIPANTS:
        buttons.insert(0, run.button("➕ " + _("Add another person"), "wrmore", "add"))
    await run.say(_("Coming so far:") + "\n" + workshops.people_words(people),
                  rows(buttons, width=1))


@ask_more.on_button("wrmore", ("add", "done"))
async def more_chosen(run: Run[RsvpData], value: str) -> Outcome:
    await run.ack()
    if value == "add" and len(_people(run)) < MAX_PARTICIPANTS:
        return ask_name
    place = await workshops_db.answer(run.svc.sessionmaker, run.data["workshop"], run.user_id,
                                      Rsvp.ATTEND, _people(run), now=run.svc.clock.now())
    if isinstance(place, workshops_db.Refusal):
        await run.say(_(_REFUSALS[place]))
        return END
    await run.say("\n".join([
        ngettext("Thank you. {n} person from {name} is registered for the "
                 "workshop on {moment}.",
                 "Thank you. {n} people from {name} are registered for the "
                 "workshop on {moment}.", len(place.people)).format(
            n=len(place.people), name=html.escape(place.enterprise_name),
            moment=workshops.moment_words(place.workshop.starts_at,
                                          workshops_db.zone_of(place.workshop))),
        _("You can change this until {date} with /workshops.").format(
            date=workshops.close_words(place.workshop))]))
    return END


# --- "I cannot attend" ---------------------------------------------------------------------
async def decline_pressed(update: Update, context: BotContext) -> None:
    button = context.button
    assert button is not None
    user = update.effective_user
    assert user is not None
    place = await workshops_db.answer(context.svc.sessionmaker, _workshop_id(button.value),
                                      user.id, Rsvp.DECLINE, [], now=context.svc.clock.now())
    if isinstance(place, workshops_db.Refusal):
        await send(update, context, _(_REFUSALS[place]))
        return
    await send(update, context, _("Noted: {name} will not attend this workshop. You can "
                                  "change this until {date} with /workshops.").format(
        name=html.escape(place.enterprise_name), date=workshops.close_words(place.workshop)))


# --- /workshops ----------------------------------------------------------------------------
async def workshops_command(update: Update, context: BotContext) -> None:
    now = context.svc.clock.now()
    user = update.effective_user
    assert user is not None
    if is_staff(context):
        listed = await workshops_db.upcoming(context.svc.sessionmaker, now=now)
        if not listed:
            await send(update, context, _("There are no upcoming workshops. Type /workshop new "
                                          "to create one."))
            return
        lines = [_("<b>Upcoming workshops</b>")]
        for item in listed:
            lines += ["", *workshops.detail_lines(item.workshop)[:3],
                      counts_words(item.counts)]
        await send(update, context, "\n".join(lines))
        return
    if context.role == Role.TRAINER.value:
        await _trainer(update, context)
        return
    mine = await workshops_db.mine(context.svc.sessionmaker, user.id, now=now)
    if mine is None:
        await send(update, context, _("Workshops are for the owners and admins of enrolled "
                                      "enterprises. Type /help to see the menu."))
        return
    if not mine:
        await send(update, context, _("Your enterprise has no upcoming workshops. "
                                      "I will send the invitation here when there is one."))
        return
    keyboard = context.keyboard()
    for item in mine:
        text = [*workshops.detail_lines(item.workshop),
                            _("Your answer: {answer}").format(
                                answer=workshops.answer_words(item.answer))]
        if item.people:
            text.append(workshops.people_words(item.people))
        # Attending: change who comes, or decline; declined: attend after all.
        buttons = [keyboard.button(_("Change people") if item.answer is Rsvp.ATTEND
                                   else _("I will attend"), workshops.ATTEND,
                                   str(item.workshop.id))]
        if item.answer is not Rsvp.DECLINE:
            buttons.append(keyboard.button(_("I cannot attend"), workshops.DECLINE,
                                           str(item.workshop.id)))
        await send(update, context, "\n".join(text), rows(buttons))


async def _trainer(update: Update, context: BotContext) -> None:
    user = update.effective_user
    assert user is not None
    listed = await workshops_db.upcoming(context.svc.sessionmaker, now=context.svc.clock.now())
    keyboard = context.keyboard()
    shown = 0
    for item in listed:
        if not await workshops_db.may_record(context.svc.sessionmaker, item.workshop.id,
                                             user.id, staff=False):
            continue
        shown += 1
        await send(update, context, "\n".join(workshops.detail_lines(item.workshop)), rows([
            keyboard.button(_("Attendance"), OPEN, str(item.workshop.id))]))
    if not shown:
        await send(update, context, _("None of your enterprises is invited to an upcoming "
                                      "workshop."))
