"""/trainers: staff assign SCORE trainers to enterprises, or remove them.

An assigned trainer may enter or check the enterprise's monthly KPI report during a visit,
and enter its baseline (/survey lists the enterprise for them: db/surveys.places_of). Staff
type part of the enterprise's name, pick it, and see its trainers with Remove buttons and
"Assign a trainer", which lists the users with the trainer role (given with /staff). The
trainer hears of a new assignment through the outbox, in their own language.
"""

from __future__ import annotations

import html
from typing import TypedDict

from chat import notify
from chat.access import is_staff
from chat.flow import BUTTON, END, Flow, Outcome, Run
from chat.i18n import N_, _, current_locale
from chat.reply import rows
from db import assignments, survey_stats
from db.models import Enterprise, User
from domain.provinces import by_code
from services.surveys.round_text import join_flag_lines


class TrainersData(TypedDict, total=False):
    enterprise: int       # the enterprise whose trainers are shown
    choices: list[int]    # the enterprises found by name, offered as buttons
    more: bool            # more were found than offered


TRAINERS: Flow[TrainersData] = Flow("trainers", command="trainers", allowed=is_staff,
                                    reentry=True,
                                    cancelled=N_("Cancelled. Type /help to see the menu."))
PICK, REMOVE, MENU, TRAINER = "trent", "trrm", "trmenu", "trpick"
FOUND_MAX = 8
NAME_CHARS = 40


def _is_id(value: str) -> bool:
    return value.isascii() and value.isdigit()


def _who(user: User) -> str:
    return user.name or (f"@{user.username}" if user.username else str(user.id))


def _short(name: str) -> str:
    return name if len(name) <= NAME_CHARS else name[:NAME_CHARS - 1] + "…"


@TRAINERS.entry
async def begin(run: Run[TrainersData]) -> Outcome:
    if run.args:  # "/trainers maju": the search at once
        return await _search(run, " ".join(run.args))
    return ask_name


@TRAINERS.step("tr_name", note=N_("Please type part of the enterprise's name."))
async def ask_name(run: Run[TrainersData]) -> None:
    await run.say(_("Which enterprise? Type part of its name, for example “maju”."))


@ask_name.on_text()
async def name_typed(run: Run[TrainersData], text: str) -> Outcome:
    return await _search(run, text)


async def _search(run: Run[TrainersData], text: str) -> Outcome:
    found = await assignments.find_approved(run.svc.sessionmaker, text, limit=FOUND_MAX + 1)
    if not found:
        run.go_to(ask_name)
        return run.retry(_("No approved enterprise has “{text}” in its name.").format(
            text=html.escape(" ".join(text.split())[:60])))
    if len(found) == 1:
        run.data["enterprise"] = found[0].id
        return ask_card
    run.data["more"] = len(found) > FOUND_MAX
    run.data["choices"] = [e.id for e in found[:FOUND_MAX]]
    return ask_pick


def _place(enterprise: Enterprise) -> str:
    province = by_code(enterprise.province)
    where = province.name(current_locale()) if province else enterprise.province
    return f"{enterprise.city}, {where}"


@TRAINERS.step("tr_pick", expects=BUTTON)
async def ask_pick(run: Run[TrainersData]) -> None:
    found = await assignments.enterprises_by_id(run.svc.sessionmaker,
                                                list(run.data.get("choices", [])))
    text = _("Which one?")
    if run.data.get("more"):
        text += "\n" + _("There are more. Type more of the name to see fewer.")
    await run.say(text, rows([run.button(_short(f"{e.name} ({e.city})"), PICK, str(e.id))
                              for e in found], width=1))


@ask_pick.on_button(PICK, offered=lambda run, value: _is_id(value)
                    and int(value) in run.data.get("choices", []))
async def picked(run: Run[TrainersData], value: str) -> Outcome:
    await run.ack()
    run.data["enterprise"] = int(value)
    return ask_card


@ask_pick.on_text()
async def name_retyped(run: Run[TrainersData], text: str) -> Outcome:
    return await _search(run, text)


@TRAINERS.step("tr_card", expects=BUTTON)
async def ask_card(run: Run[TrainersData]) -> None:
    assigned = await assignments.assigned_to(run.svc.sessionmaker, int(run.data["enterprise"]))
    if assigned is None:
        await run.say(_("That enterprise is no longer approved."))
        await ask_name.ask(run)
        return
    enterprise = assigned.enterprise
    lines = [f"<b>{html.escape(enterprise.name)}</b>, {html.escape(_place(enterprise))}"]
    if assigned.trainers:
        lines.append(_("Trainers: {names}").format(
            names=", ".join(html.escape(_who(t)) for t in assigned.trainers)))
    else:
        lines.append(_("No trainer is assigned yet."))
    for flagged in await survey_stats.join_flags(run.svc.sessionmaker, enterprise.id):
        lines += join_flag_lines(flagged.flags)
    buttons = [run.button("✖ " + _("Remove {name}").format(name=_short(_who(t))), REMOVE,
                          str(t.id)) for t in assigned.trainers]
    buttons += [run.button("➕ " + _("Assign a trainer"), MENU, "add"),
                run.button(_("Another enterprise"), MENU, "other"),
                run.button(_("Close"), MENU, "done")]
    await run.say("\n".join(lines), rows(buttons, width=1))


@ask_card.on_button(MENU, ("add", "other", "done"))
async def card_menu(run: Run[TrainersData], value: str) -> Outcome:
    await run.ack()
    if value == "other":
        return ask_name
    if value == "done":
        await run.say(_("All right. Type /help to see the menu."))
        return END
    return ask_trainer


@ask_card.on_button(REMOVE, _is_id)
async def remove_pressed(run: Run[TrainersData], value: str) -> Outcome:
    enterprise_id, trainer_id = int(run.data["enterprise"]), int(value)
    assigned = await assignments.assigned_to(run.svc.sessionmaker, enterprise_id)
    trainers = assigned.trainers if assigned is not None else []
    trainer = next((t for t in trainers if t.id == trainer_id), None)
    if assigned is None or trainer is None or not await assignments.unassign_trainer(
            run.svc.sessionmaker, trainer_id, enterprise_id):
        await run.ack(_("This button is no longer active."))
        return ask_card
    await run.ack()
    await run.say(_("{trainer} is no longer assigned to {name}.").format(
        trainer=html.escape(_who(trainer)), name=html.escape(assigned.enterprise.name)))
    return ask_card


@TRAINERS.step("tr_trainer", expects=BUTTON)
async def ask_trainer(run: Run[TrainersData]) -> None:
    enterprise_id = int(run.data["enterprise"])
    assigned = await assignments.assigned_to(run.svc.sessionmaker, enterprise_id)
    taken = {t.id for t in assigned.trainers} if assigned else set()
    free = [t for t in await assignments.trainers(run.svc.sessionmaker) if t.id not in taken]
    back = run.button("‹ " + _("Back"), MENU, "back")
    if not free:
        await run.say(_("There is no other trainer to assign. Make someone a trainer with "
                        "/staff first."), rows([back]))
        return
    await run.say(_("Which trainer?"),
                  rows([*(run.button(_short(_who(t)), TRAINER, str(t.id)) for t in free), back],
                       width=1))


@ask_trainer.on_button(MENU, ("back",))
async def trainer_back(run: Run[TrainersData], _value: str) -> Outcome:
    await run.ack()
    return ask_card


@ask_trainer.on_button(TRAINER, _is_id)
async def trainer_picked(run: Run[TrainersData], value: str) -> Outcome:
    trainer_id, enterprise_id = int(value), int(run.data["enterprise"])
    if not await assignments.is_trainer(run.svc.sessionmaker, trainer_id):
        await run.ack(_("This person is no longer a trainer."))
        return ask_trainer
    await run.ack()
    now = run.svc.clock.now()
    before = await assignments.assigned_to(run.svc.sessionmaker, enterprise_id)
    if before is None:
        return ask_card
    name = before.enterprise.name
    # Told in the assignment's own commit: a crash cannot keep one without the other.
    notice = await notify.prepare(
        run.svc, group=f"trainer:{trainer_id}",
        key=f"assigned:{enterprise_id}:{int(now.timestamp())}", to=trainer_id,
        render=lambda: notify.Message(_(
            "The SCORE team assigned you to {name}. During a visit you can enter or check "
            "its monthly KPI report with /survey, and its baseline (the figures before the "
            "training) with /baseline.").format(
            name=html.escape(name))))
    added = await assignments.assign_trainer(run.svc.sessionmaker, trainer_id, enterprise_id,
                                            staff_id=run.user_id, now=now, notice=notice)
    if added:
        run.svc.wake_sender()
    assigned = await assignments.assigned_to(run.svc.sessionmaker, enterprise_id)
    if assigned is None:
        return ask_card
    trainer = next((t for t in assigned.trainers if t.id == trainer_id), None)
    who = html.escape(_who(trainer)) if trainer else str(trainer_id)
    if not added:
        await run.say(_("{trainer} was assigned to {name} already.").format(
            trainer=who, name=html.escape(name)))
        return ask_card
    await run.say(_("{trainer} is now assigned to {name}.").format(trainer=who,
                                                                   name=html.escape(name)))
    return ask_card
