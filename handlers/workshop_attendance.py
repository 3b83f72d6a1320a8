"""Who actually came to a workshop: staff (from /workshop) or a trainer of an invited
enterprise (from /workshops) tick each person named; a trainer sees only the people of the
enterprises assigned to them. Ticks are stored at once, one press each."""

from __future__ import annotations

import html
from typing import TypedDict

from telegram import InlineKeyboardMarkup
from telegram.error import TelegramError

from chat.access import is_staff
from chat.context import BotContext
from chat.flow import BUTTON, END, STAY, Flow, Outcome, Run, clear
from chat.i18n import N_, _
from chat.reply import rows
from db import workshops as workshops_db
from domain.roles import Role
from services import workshops


def staff_or_trainer(context: BotContext) -> bool:
    return is_staff(context) or context.role == Role.TRAINER.value


class AttendanceData(TypedDict, total=False):
    workshop: int


ATTENDANCE: Flow[AttendanceData] = Flow("workshop_attendance", allowed=staff_or_trainer,
                                        cancelled=N_("Closed. What you ticked is saved."))
OPEN = "watto"   # a trainer's "Attendance" under /workshops
TICK = "watt"


@ATTENDANCE.entry
async def begin(run: Run[AttendanceData], workshop_id: str = "") -> Outcome:
    run.data["workshop"] = int(workshop_id) if workshop_id.isdigit() else 0
    if not await workshops_db.may_record(run.svc.sessionmaker, run.data["workshop"],
                                         run.user_id, staff=is_staff(run.context)):
        await run.say(_("This workshop is not one of your enterprises'."))
        return END
    if not await _named(run):
        await run.say(_("Nobody was named for this workshop."))
        return END
    return ask_ticks


async def _named(run: Run[AttendanceData]) -> list[workshops_db.Named]:
    return await workshops_db.named(
        run.svc.sessionmaker, run.data["workshop"],
        trainer_id=None if is_staff(run.context) else run.user_id)


def _markup(run: Run[AttendanceData], named: list[workshops_db.Named]) -> InlineKeyboardMarkup:
    mark = {True: "✅", False: "❌", None: "▫️"}
    buttons = [run.button(f"{mark[p.attended]} {p.name[:40]}", TICK, str(p.id)) for p in named]
    buttons.append(run.button(_("Done"), TICK, "done"))
    return rows(buttons, width=1)


@ATTENDANCE.step("wa_ticks", expects=BUTTON)
async def ask_ticks(run: Run[AttendanceData]) -> None:
    named = await _named(run)
    workshop = await workshops_db.get(run.svc.sessionmaker, run.data["workshop"])
    if workshop is None or not named:
        await run.say(_("Nobody was named for this workshop."))
        clear(run.context)
        return
    lines = [f"<b>{html.escape(workshops.title(workshop.module))}</b>",
             _("Press each person who came (✅ came, ❌ did not come)."), ""]
    lines += [f"{html.escape(p.enterprise)}: {html.escape(p.name)}" for p in named]
    await run.say("\n".join(lines), _markup(run, named))


@ask_ticks.on_button(TICK, lambda v: v == "done" or v.isdigit())
async def ticked(run: Run[AttendanceData], value: str) -> Outcome:
    if value == "done":
        await run.ack()
        await run.say(_("Attendance saved."))
        return END
    named = {str(p.id): p for p in await _named(run)}
    person = named.get(value)
    if person is None:
        await run.ack(_("This button is no longer active."))
        return STAY
    await workshops.record_attendance(run.svc, run.data["workshop"], person.id,
                                      not person.attended, by=run.user_id)
    await run.ack()
    query = run.update.callback_query
    assert query is not None
    try:
        await query.edit_message_reply_markup(_markup(run, await _named(run)))
    except TelegramError:
        return ask_ticks
    return STAY
