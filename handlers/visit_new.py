"""/visit new: staff, or a trainer, schedule a consulting visit (kunjungan pendampingan).

The enterprise (part of its name, as /trainers finds it; a trainer finds only those assigned
to them), the trainer (one staff assigned to it; a trainer schedules their own visits), the
module (those it chose first) and the date and time, typed as people write them and read in
the enterprise's zone ("14 December 09:00", "tomorrow 9am"). A summary in words ("Senin, 14
Desember 2026, 09.00 WITA") where each answer can be changed, then Confirm: the visit is
stored with its reminders and its owner and admins hear who comes and when
(services/visits.schedule).
"""

from __future__ import annotations

import html
from datetime import datetime
from typing import TypedDict

from chat.access import is_staff, role_of
from chat.context import BotContext
from chat.flow import BUTTON, END, Flow, Outcome, Run
from chat.i18n import N_, _
from chat.labels import module_name
from chat.reply import rows
from db import assignments
from db import visits as visits_db
from db.models import User
from db.visits import NewVisit, Refusal
from domain import typed_dates
from domain.modules import MODULES, module_of
from domain.quiet_hours import ZONE_NAMES
from domain.roles import Role
from domain.visits import zone_of
from services import visits

PICK, TRAINER, MODULE, CONFIRM = "vnent", "vntr", "vnmod", "vnok"
FOUND_MAX = 8
NAME_CHARS = 40


def may_schedule(context: BotContext) -> bool:
    return is_staff(context) or role_of(context) is Role.TRAINER


class NewVisitData(TypedDict, total=False):
    enterprise: int
    choices: list[int]   # enterprises found by name, offered as buttons
    more: bool
    trainer: int
    module: int
    starts: str          # ISO, UTC


VISIT_NEW: Flow[NewVisitData] = Flow("visit_new", command="visit", allowed=may_schedule,
                                     reentry=True,
                                     cancelled=N_("Cancelled. No visit was scheduled."))

DATE_NOTES = {
    typed_dates.EMPTY: N_("Please type the date and time, for example 14 December 09:00."),
    typed_dates.NOT_A_DATE: N_("I could not read that date. Please type it like 14 December "
                               "09:00, 14/12 09:00 or tomorrow 9am."),
    typed_dates.NO_TIME: N_("Please add the time, for example 14 December 09:00."),
    typed_dates.NO_SUCH_TIME: N_("That time does not exist. Please type it like 09.00 or "
                                 "14.30."),
    typed_dates.PAST: N_("That moment has passed. Please choose a later date and time."),
    typed_dates.TOO_FAR: N_("That is more than a year ahead. Please check the date."),
}


def _short(name: str) -> str:
    return name if len(name) <= NAME_CHARS else name[:NAME_CHARS - 1] + "…"


def _who(user: User) -> str:
    return user.name or (f"@{user.username}" if user.username else str(user.id))


def _own_trainer(run: Run[NewVisitData]) -> int | None:
    """A trainer schedules their own visits; staff choose the trainer."""
    return None if is_staff(run.context) else run.user_id


@VISIT_NEW.entry
async def begin(run: Run[NewVisitData]) -> Outcome:
    args = run.args
    if args and args[0].casefold() in ("new", "baru"):
        args = args[1:]
    if args:
        return await _search(run, " ".join(args))
    own = _own_trainer(run)
    if own is not None:
        mine = await visits_db.find_enterprises(run.svc.sessionmaker, "", trainer_id=own,
                                                limit=FOUND_MAX + 1)
        if not mine:
            await run.say(_("No enterprise is assigned to you yet. The SCORE team assigns "
                            "trainers to enterprises."))
            return END
        if len(mine) == 1:
            run.data["enterprise"] = mine[0].id
            return await _enterprise_chosen(run)
    return ask_name


@VISIT_NEW.step("vn_name", note=N_("Please type part of the enterprise's name."))
async def ask_name(run: Run[NewVisitData]) -> None:
    await run.say(_("Which enterprise will the trainer visit? Type part of its name, for "
                    "example “maju”."))


@ask_name.on_text()
async def name_typed(run: Run[NewVisitData], text: str) -> Outcome:
    return await _search(run, text)


async def _search(run: Run[NewVisitData], text: str) -> Outcome:
    own = _own_trainer(run)
    found = await visits_db.find_enterprises(run.svc.sessionmaker, text, trainer_id=own,
                                             limit=FOUND_MAX + 1)
    if not found:
        run.go_to(ask_name)
        shown = html.escape(" ".join(text.split())[:60])
        if own is not None:
            return run.retry(_("None of the enterprises assigned to you has “{text}” in its "
                               "name.").format(text=shown))
        return run.retry(_("No approved enterprise has “{text}” in its name.").format(
            text=shown))
    if len(found) == 1:
        run.data["enterprise"] = found[0].id
        return await _enterprise_chosen(run)
    run.data["more"] = len(found) > FOUND_MAX
    run.data["choices"] = [e.id for e in found[:FOUND_MAX]]
    return ask_pick


@VISIT_NEW.step("vn_pick", expects=BUTTON)
async def ask_pick(run: Run[NewVisitData]) -> None:
    listed = await assignments.enterprises_by_id(run.svc.sessionmaker,
                                                 list(run.data.get("choices", [])))
    text = _("Which one?")
    if run.data.get("more"):
        text += "\n" + _("There are more. Type more of the name to see fewer.")
    await run.say(text, rows([run.button(_short(f"{e.name} ({e.city})"), PICK, str(e.id))
                              for e in listed], width=1))


@ask_pick.on_button(PICK, offered=lambda run, value: value.isascii() and value.isdigit()
                    and int(value) in run.data.get("choices", []))
async def picked(run: Run[NewVisitData], value: str) -> Outcome:
    await run.ack()
    run.data["enterprise"] = int(value)
    return await _enterprise_chosen(run)


@ask_pick.on_text()
async def name_retyped(run: Run[NewVisitData], text: str) -> Outcome:
    return await _search(run, text)


async def _enterprise_chosen(run: Run[NewVisitData]) -> Outcome:
    options = await visits_db.choices(run.svc.sessionmaker, int(run.data["enterprise"]))
    if options is None:
        run.go_to(ask_name)
        return run.retry(_("That enterprise is no longer approved."))
    own = _own_trainer(run)
    if own is not None:
        run.data["trainer"] = own
        return ask_module
    if not options.trainers:
        await run.say(_("No trainer is assigned to {name} yet. Assign one with /trainers "
                        "first.").format(name=html.escape(options.enterprise.name)))
        return END
    if len(options.trainers) == 1:
        run.data["trainer"] = options.trainers[0].id
        return ask_module
    return ask_trainer


@VISIT_NEW.step("vn_trainer", expects=BUTTON)
async def ask_trainer(run: Run[NewVisitData]) -> None:
    options = await visits_db.choices(run.svc.sessionmaker, int(run.data["enterprise"]))
    trainers = options.trainers if options else []
    await run.say(_("Which trainer will visit?"),
                  rows([run.button(_short(_who(t)), TRAINER, str(t.id)) for t in trainers],
                       width=1))


@ask_trainer.on_button(TRAINER, lambda value: value.isascii() and value.isdigit())
async def trainer_picked(run: Run[NewVisitData], value: str) -> Outcome:
    options = await visits_db.choices(run.svc.sessionmaker, int(run.data["enterprise"]))
    if options is None or int(value) not in {t.id for t in options.trainers}:
        await run.ack(_("This trainer is no longer assigned to that enterprise."))
        return ask_trainer
    await run.ack()
    run.data["trainer"] = int(value)
    return run.then(ask_module)


@VISIT_NEW.step("vn_module", expects=BUTTON)
async def ask_module(run: Run[NewVisitData]) -> None:
    options = await visits_db.choices(run.svc.sessionmaker, int(run.data["enterprise"]))
    chosen = options.modules if options else []
    ordered = [*chosen, *(m for m in MODULES if m not in chosen)]
    text = _("Which module is the visit for?")
    if chosen and options is not None:
        text += "\n" + _("★ marks the modules {name} chose.").format(
            name=html.escape(options.enterprise.name))
    await run.say(text, rows([run.button(("★ " if m in chosen else "") + f"{m}. "
                                         + module_name(m), MODULE, str(m))
                              for m in ordered], width=1))


@ask_module.on_button(MODULE, lambda value: module_of(value) is not None)
async def module_picked(run: Run[NewVisitData], value: str) -> Outcome:
    await run.ack()
    run.data["module"] = int(value)
    return run.then(ask_when)


async def _zone(run: Run[NewVisitData]) -> str:
    options = await visits_db.choices(run.svc.sessionmaker, int(run.data["enterprise"]))
    return zone_of(options.enterprise.province if options else None)


@VISIT_NEW.step("vn_when")
async def ask_when(run: Run[NewVisitData]) -> None:
    zone = await _zone(run)
    await run.say(_("When? Type the date and time ({zone}), for example “14 December 09:00”, "
                    "“tomorrow 9am” or “next Monday 10:00”.").format(zone=ZONE_NAMES[zone]))


@ask_when.on_text()
async def when_typed(run: Run[NewVisitData], text: str) -> Outcome:
    moment, error = typed_dates.read_coming_moment(text, run.svc.clock.now(),
                                                   zone=await _zone(run))
    if error is not None or moment is None:
        return run.retry(_(DATE_NOTES.get(error or "", DATE_NOTES[typed_dates.NOT_A_DATE])))
    run.data["starts"] = moment.isoformat()
    return run.then(ask_confirm)


@VISIT_NEW.step("vn_confirm", expects=BUTTON)
async def ask_confirm(run: Run[NewVisitData]) -> None:
    options = await visits_db.choices(run.svc.sessionmaker, int(run.data["enterprise"]))
    if options is None:
        await run.say(_("That enterprise is no longer approved."))
        await ask_name.ask(run)
        return
    trainer = next((t for t in options.trainers if t.id == run.data.get("trainer")), None)
    enterprise = options.enterprise
    zone = zone_of(enterprise.province)
    starts = datetime.fromisoformat(run.data["starts"])
    lines = [_("Schedule this consulting visit?"),
             _("Enterprise: {name}").format(
                 name=f"<b>{html.escape(enterprise.name)}</b> ({html.escape(enterprise.city)})"),
             _("Trainer: {name}").format(name=html.escape(_who(trainer)) if trainer else "–"),
             _("Module: {module}").format(module=module_name(int(run.data["module"]))),
             _("When: {when}").format(when=visits.when_words(starts, zone)),
             "", " ".join(filter(None, [
                 _("The owner and admins are told at once."),
                 visits.reminder_promise(starts, zone, now=run.svc.clock.now(),
                                         to_trainer=False)]))]
    buttons = [run.button("✅ " + _("Schedule it"), CONFIRM, "yes"),
               run.button(_("Change the date and time"), CONFIRM, "when"),
               run.button(_("Change the module"), CONFIRM, "module")]
    if _own_trainer(run) is None and len(options.trainers) > 1:
        buttons.append(run.button(_("Change the trainer"), CONFIRM, "trainer"))
    buttons.append(run.button("✖ " + _("Cancel"), CONFIRM, "no"))
    await run.say("\n".join(lines), rows(buttons, width=1))


@ask_confirm.on_button(CONFIRM, ("yes", "when", "module", "trainer", "no"))
async def confirmed(run: Run[NewVisitData], answer: str) -> Outcome:
    await run.ack()
    if answer == "when":
        return run.edit(ask_when, back=ask_confirm)
    if answer == "module":
        return run.edit(ask_module, back=ask_confirm)
    if answer == "trainer":
        return run.edit(ask_trainer, back=ask_confirm)
    if answer == "no":
        await run.say(_("Cancelled. No visit was scheduled."))
        return END
    options = await visits_db.choices(run.svc.sessionmaker, int(run.data["enterprise"]))
    trainer = next((t for t in options.trainers if t.id == run.data.get("trainer")),
                   None) if options else None
    if options is None or trainer is None:
        await run.say(visits.refusal_text(Refusal.NOT_ASSIGNED if options else Refusal.GONE))
        return END
    enterprise = options.enterprise
    starts = datetime.fromisoformat(run.data["starts"])
    if starts <= run.svc.clock.now():
        run.go_to(ask_when)
        return run.retry(_(DATE_NOTES[typed_dates.PAST]))
    new = NewVisit(enterprise.id, trainer.id, int(run.data["module"]), starts)
    zone = zone_of(enterprise.province)
    result = await visits.schedule(run.svc, new, by=run.user_id, enterprise=enterprise.name,
                                   city=enterprise.city, trainer=_who(trainer), zone=zone)
    if isinstance(result, Refusal):
        await run.say(visits.refusal_text(result))
        return END
    await run.say(_("The visit to {name} on {when} is scheduled. Its owner and admins have "
                    "been told. Type /visits to see the visits.").format(
        name=html.escape(enterprise.name), when=visits.when_words(starts, zone)))
    return END
