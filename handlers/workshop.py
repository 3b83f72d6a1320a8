"""Staff's workshops: `/workshop new` asks module, province, city, venue (and a map pin shared
from Telegram), the start typed as people write it (read in the province's zone and shown in
words), the days and optional notes in both languages, then a summary where each answer can
be changed before Confirm. `/workshop` lists the upcoming ones: pick one to see who comes (by
sex, managers and workers), change its date, venue or notes (everyone invited is told what
changed), record attendance, or cancel it (everyone invited is told).

What saving does (invitations, reminders) is services/workshops.py's.
"""

from __future__ import annotations

import html
from datetime import datetime
from typing import TypedDict

from telegram import Location

from chat.access import is_staff
from chat.flow import BUTTON, END, Flow, Outcome, Run, clear
from chat.i18n import N_, _, current_locale, format_number, ngettext
from chat.labels import module_name
from chat.province_step import province_step
from chat.reply import rows, with_rows
from db import workshops as workshops_db
from db.models import Workshop
from domain import text_input, typed_dates
from domain.modules import MODULES, module_of
from domain.provinces import WIB, by_code
from domain.quiet_hours import ZONE_NAMES
from domain.text_input import tidy_place
from domain.workshops import FEMALE, MANAGER, MAX_NOTES, MAX_VENUE, read_days
from handlers.workshop_attendance import ATTENDANCE
from services import workshops

FIELDS = ("module", "province", "city", "venue", "starts", "days", "notes")


class WorkshopData(TypedDict, total=False):
    module: int
    province: str
    city: str
    venue: str
    lat: float | None
    lon: float | None
    starts: str         # ISO, UTC
    days: int
    notes_id: str | None
    notes_en: str | None
    prov_page: int
    workshop: int       # the workshop being changed (not set while creating one)


WORKSHOP: Flow[WorkshopData] = Flow("workshop", command="workshop", allowed=is_staff,
                                    cancelled=N_("Cancelled. Nothing was changed."))

NAME_ERRORS = {
    text_input.EMPTY: N_("The answer is empty."),
    text_input.TOO_LONG: N_("That is too long: at most 200 characters, please."),
    text_input.NO_LETTERS: N_("Please write it in letters."),
    "*": N_("Please check the answer."),
}

_MOMENT_NOTES = {
    typed_dates.EMPTY: N_("Please type the day and the time, for example 17 December 09:00."),
    typed_dates.NO_TIME: N_("Please add the time, for example 17 December 09:00."),
    typed_dates.NO_SUCH_TIME: N_("That time does not exist. Please type it like 09:00."),
    typed_dates.PAST: N_("That moment has passed. Please choose a later one."),
    typed_dates.TOO_FAR: N_("That is too far ahead. Please check the date."),
}
_NOT_A_MOMENT = N_("I could not read that. Please type it like 17 December 09:00, "
                   "17/12 9am or 2026-12-17 09:00.")


def _zone(run: Run[WorkshopData]) -> str:
    province = by_code(run.data.get("province"))
    return province.timezone if province else WIB


async def _workshop(run: Run[WorkshopData]) -> Workshop | None:
    found = await workshops_db.get(run.svc.sessionmaker, int(run.data.get("workshop", 0)))
    return found if found is not None and found.status.value == "scheduled" else None


def _editing_existing(run: Run[WorkshopData]) -> bool:
    return "workshop" in run.data


# --- start ---------------------------------------------------------------------------------
@WORKSHOP.entry
async def begin(run: Run[WorkshopData]) -> Outcome:
    if run.args[:1] == ["new"]:
        await run.say(_("A new workshop: a few questions, then a summary to check. Type "
                        "/cancel to stop."))
        return ask_module
    return ask_pick


@WORKSHOP.step("w_pick", expects=BUTTON)
async def ask_pick(run: Run[WorkshopData]) -> None:
    listed = await workshops_db.upcoming(run.svc.sessionmaker, now=run.svc.clock.now())
    if not listed:
        await run.say(_("There are no upcoming workshops. Type /workshop new to create one."))
        clear(run.context)
        return
    lines = [_("<b>Upcoming workshops</b>")]
    buttons = []
    for n, item in enumerate(listed, 1):
        w = item.workshop
        lines.append(f"{n}. " + _("Module {number}, {city}, {moment}").format(
            number=w.module, city=html.escape(w.city),
            moment=workshops.moment_words(w.starts_at, workshops_db.zone_of(w))))
        lines.append("   " + counts_words(item.counts))
        buttons.append(run.button(f"{n}. {w.city[:30]}", "wpick", str(w.id)))
    await run.say("\n".join(lines), rows(buttons, width=2))


def counts_words(counts: workshops_db.Counts) -> str:
    return _("{invited} invited, {attending} attending ({people} people), {declined} "
             "declined").format(invited=format_number(counts.invited),
                                attending=format_number(counts.attending),
                                people=format_number(counts.people),
                                declined=format_number(counts.declined))


@ask_pick.on_button("wpick", lambda v: v.isdigit())
async def picked(run: Run[WorkshopData], value: str) -> Outcome:
    await run.ack()
    run.data["workshop"] = int(value)
    return ask_manage


# --- creating: module, place, venue, time, days, notes --------------------------------------
@WORKSHOP.step("w_module", expects=BUTTON)
async def ask_module(run: Run[WorkshopData]) -> None:
    await run.say(_("Which module is the workshop for?"),
                  rows([run.button(f"{n}. {module_name(n)}", "wmod", str(n)) for n in MODULES],
                       width=1))


@ask_module.on_button("wmod", lambda v: module_of(v) is not None)
async def module_chosen(run: Run[WorkshopData], value: str) -> Outcome:
    await run.ack()
    run.data["module"] = int(value)
    return run.then(ask_province)


def _province_set(run: Run[WorkshopData], code: str) -> Outcome:
    changed = run.data.get("province") not in (None, code)
    run.data["province"] = code
    if changed and run.editing:
        # The city and the local time belong to the province: both are asked again.
        run.data.pop("starts", None)
        return ask_city
    return run.then(ask_city)


ask_province = province_step(
    WORKSHOP, "w_province", kind="wprov", chosen=_province_set,
    question=N_("In which province? Choose below, or type its name."))


@WORKSHOP.step("w_city")
async def ask_city(run: Run[WorkshopData]) -> None:
    await run.say(_("In which city or regency (kabupaten) is the workshop held?"))


@ask_city.on_text(text_input.clean_name, NAME_ERRORS)
async def city_given(run: Run[WorkshopData], city: str) -> Outcome:
    run.data["city"] = tidy_place(city)
    if "starts" not in run.data:
        run.edit_kept()
        return ask_venue if "venue" not in run.data else ask_start
    return run.then(ask_venue)


@WORKSHOP.step("w_venue")
async def ask_venue(run: Run[WorkshopData]) -> None:
    await run.say(_("What is the venue's address? For example: Hotel Santika, Jl. Ahmad Yani "
                    "88."))


def _venue(text: str | None) -> tuple[str | None, str | None]:
    value = " ".join((text or "").split())
    if not value:
        return None, text_input.EMPTY
    if len(value) > MAX_VENUE:
        return None, text_input.TOO_LONG
    return value, None


@ask_venue.on_text(_venue, {text_input.EMPTY: N_("The answer is empty."),
                            text_input.TOO_LONG: N_("That is too long: at most 300 "
                                                    "characters, please.")})
async def venue_given(run: Run[WorkshopData], venue: str) -> Outcome:
    run.data["venue"] = venue
    run.data["lat"] = run.data["lon"] = None
    return ask_pin


@WORKSHOP.step("w_pin", expects=BUTTON,
               note=N_("Please share the map pin (📎, then Location), or press Skip."))
async def ask_pin(run: Run[WorkshopData]) -> None:
    await run.say(_("You may share the venue's map pin: press 📎, then Location, and choose "
                    "the place. Or press Skip."),
                  rows([run.button(_("Skip"), "wpin", "skip")]))


async def _after_venue(run: Run[WorkshopData]) -> Outcome:
    if _editing_existing(run):
        return ask_changes
    return run.then(ask_start)


@ask_pin.on_location
async def pin_shared(run: Run[WorkshopData], location: Location) -> Outcome:
    run.data["lat"], run.data["lon"] = location.latitude, location.longitude
    await run.say(_("Thank you, the map pin is saved."))
    return await _after_venue(run)


@ask_pin.on_button("wpin", ("skip",))
async def pin_skipped(run: Run[WorkshopData], _value: str) -> Outcome:
    await run.ack()
    return await _after_venue(run)


@WORKSHOP.step("w_start")
async def ask_start(run: Run[WorkshopData]) -> None:
    zone = ZONE_NAMES.get(_zone(run), "WIB")
    await run.say(_("When does it start? Type the day and the time ({zone}), for example "
                    "“17 December 09:00”, “17/12 9am” or “next Monday 08:30”.").format(
        zone=zone))


@ask_start.on_text()
async def start_typed(run: Run[WorkshopData], text: str) -> Outcome:
    moment, error = typed_dates.read_coming_moment(text, run.svc.clock.now(), zone=_zone(run))
    if error is not None or moment is None:
        return run.retry(_(_MOMENT_NOTES.get(error or "", _NOT_A_MOMENT)))
    run.data["starts"] = moment.isoformat()
    # The reading in words, before anything is saved: a wrong month shows here.
    await run.say(_("Read as: {moment}.").format(
        moment=workshops.moment_words(moment, _zone(run))))
    if _editing_existing(run):
        return ask_changes
    if "days" in run.data and not run.editing:
        # Asked again after the province changed: the rest stands, back to the summary.
        return ask_summary
    return run.then(ask_days)


@WORKSHOP.step("w_days")
async def ask_days(run: Run[WorkshopData]) -> None:
    await run.say(_("How many days does it last? Type a number, for example 2."))


@ask_days.on_text(read_days, {"*": N_("Please type a number of days from 1 to 5.")})
async def days_given(run: Run[WorkshopData], days: int) -> Outcome:
    run.data["days"] = days
    return run.then(ask_notes_id)


def _notes(text: str | None) -> tuple[str | None, str | None]:
    value = (text or "").strip()
    if not value:
        return None, text_input.EMPTY
    if len(value) > MAX_NOTES:
        return None, text_input.TOO_LONG
    return value, None


_NOTES_ERRORS = {text_input.EMPTY: N_("The answer is empty."),
                 text_input.TOO_LONG: N_("That is too long: at most 300 characters, please.")}


@WORKSHOP.step("w_notes_id", expects=BUTTON)
async def ask_notes_id(run: Run[WorkshopData]) -> None:
    await run.say(_("Notes for the invitation in Indonesian (what to bring, parking, ...)? "
                    "Type them, or press None."),
                  rows([run.button(_("None"), "wnote", "none")]))


@ask_notes_id.on_text(_notes, _NOTES_ERRORS)
async def notes_id_given(run: Run[WorkshopData], text: str) -> Outcome:
    run.data["notes_id"] = text
    return ask_notes_en


@ask_notes_id.on_button("wnote", ("none",))
async def notes_id_none(run: Run[WorkshopData], _value: str) -> Outcome:
    await run.ack()
    run.data["notes_id"] = None
    return ask_notes_en


@WORKSHOP.step("w_notes_en", expects=BUTTON)
async def ask_notes_en(run: Run[WorkshopData]) -> None:
    await run.say(_("The same notes in English? Type them, or press None."),
                  rows([run.button(_("None"), "wnoteen", "none")]))


async def _after_notes(run: Run[WorkshopData]) -> Outcome:
    if _editing_existing(run):
        return ask_changes
    run.edit_kept()
    return ask_summary


@ask_notes_en.on_text(_notes, _NOTES_ERRORS)
async def notes_en_given(run: Run[WorkshopData], text: str) -> Outcome:
    run.data["notes_en"] = text
    return await _after_notes(run)


@ask_notes_en.on_button("wnoteen", ("none",))
async def notes_en_none(run: Run[WorkshopData], _value: str) -> Outcome:
    await run.ack()
    run.data["notes_en"] = None
    return await _after_notes(run)


# --- summary and confirm --------------------------------------------------------------------
def _fields(run: Run[WorkshopData]) -> workshops_db.WorkshopFields | None:
    data = run.data
    if not all(k in data for k in ("module", "province", "city", "venue", "starts", "days")):
        return None
    return workshops_db.WorkshopFields(
        module=data["module"], province=data["province"], city=data["city"],
        venue=data["venue"], venue_lat=data.get("lat"), venue_lon=data.get("lon"),
        starts_at=datetime.fromisoformat(data["starts"]), days=data["days"],
        notes_id=data.get("notes_id"), notes_en=data.get("notes_en"))


_FIELD_LABELS = {"module": N_("Module"), "province": N_("Province"), "city": N_("City"),
                 "venue": N_("Venue"), "starts": N_("Date and time"), "days": N_("Days"),
                 "notes": N_("Notes")}


@WORKSHOP.step("w_summary", expects=BUTTON)
async def ask_summary(run: Run[WorkshopData]) -> None:
    fields = _fields(run)
    if fields is None:  # the province changed and its city or time is still to come
        await ask_city.ask(run)
        return
    province = by_code(fields.province)
    invitable = await workshops_db.count_invitable(run.svc.sessionmaker, fields.module,
                                                   fields.province)
    lines = [_("<b>Please check:</b>"),
             _("Module: {value}").format(value=f"{fields.module}. "
                                         + module_name(fields.module)),
             _("Province: {value}").format(
                 value=province.name(current_locale()) if province else ""),
             _("City/regency: {value}").format(value=html.escape(fields.city)),
             _("Venue: {value}").format(value=html.escape(fields.venue)
                                        + (" 📍" if fields.venue_lat is not None else "")),
             _("Starts: {value}").format(value=workshops.moment_words(
                 fields.starts_at, _zone(run))),
             _("Days: {value}").format(value=format_number(fields.days)),
             _("Notes (Indonesian): {value}").format(value=html.escape(fields.notes_id or "-")),
             _("Notes (English): {value}").format(value=html.escape(fields.notes_en or "-")),
             "",
             ngettext("Invitations go to the owners and admins of {n} enterprise.",
                      "Invitations go to the owners and admins of {n} enterprises.",
                      invitable).format(n=format_number(invitable))]
    if fields.module != 1:
        lines.append(_("Only enterprises that took module 1 are invited."))
    markup = rows([run.button("✏️ " + _(_FIELD_LABELS[f]), "wedit", f) for f in FIELDS])
    await run.say("\n".join(lines),
                  with_rows(markup, [run.button("✅ " + _("Confirm"), "wsave", "yes")]))


_EDIT_STEP = {"module": ask_module, "province": ask_province, "city": ask_city,
              "venue": ask_venue, "starts": ask_start, "days": ask_days, "notes": ask_notes_id}


@ask_summary.on_button("wedit", FIELDS)
async def edit_chosen(run: Run[WorkshopData], field: str) -> Outcome:
    await run.ack()
    return run.edit(_EDIT_STEP[field], back=ask_summary)


@ask_summary.on_button("wsave", ("yes",))
async def confirmed(run: Run[WorkshopData], _value: str) -> Outcome:
    fields = _fields(run)
    if fields is None:
        await run.ack(_("This button is no longer active."))
        return ask_summary
    if fields.starts_at <= run.svc.clock.now():
        await run.ack()
        return run.retry(_("That moment has passed. Please choose a later one."))
    await run.ack()
    created = await workshops.create(run.svc, fields, staff_id=run.user_id)
    await run.say(ngettext(
        "Saved. The invitation goes to the owners and admins of {n} enterprise. Type "
        "/workshop to see the workshops.",
        "Saved. The invitation goes to the owners and admins of {n} enterprises. Type "
        "/workshop to see the workshops.", created.invited).format(
        n=format_number(created.invited)))
    return END


# --- an existing workshop -------------------------------------------------------------------
def participant_totals(named: list[workshops_db.Named]) -> str:
    women = sum(1 for p in named if p.sex == FEMALE)
    managers = sum(1 for p in named if p.kind == MANAGER)
    came = sum(1 for p in named if p.attended)
    return _("{n} people named: {women} women, {men} men; {managers} managers, {workers} "
             "workers. Attended: {came}.").format(
        n=format_number(len(named)), women=format_number(women),
        men=format_number(len(named) - women), managers=format_number(managers),
        workers=format_number(len(named) - managers), came=format_number(came))


@WORKSHOP.step("w_manage", expects=BUTTON)
async def ask_manage(run: Run[WorkshopData]) -> None:
    workshop = await _workshop(run)
    if workshop is None:
        await run.say(_("This workshop was cancelled."))
        clear(run.context)
        return
    listed = await workshops_db.upcoming(run.svc.sessionmaker, now=run.svc.clock.now())
    counts = next((i.counts for i in listed if i.workshop.id == workshop.id),
                  workshops_db.Counts())
    named = await workshops_db.named(run.svc.sessionmaker, workshop.id)
    lines = [*workshops.detail_lines(workshop), "", counts_words(counts),
             participant_totals(named)]
    buttons = [run.button(_("Change date and time"), "wact", "starts"),
               run.button(_("Change venue"), "wact", "venue"),
               run.button(_("Change notes"), "wact", "notes"),
               run.button(_("Attendance"), "wact", "attendance"),
               run.button("✖ " + _("Cancel the workshop"), "wact", "cancel"),
               run.button(_("Close"), "wact", "close")]
    await run.say("\n".join(lines), rows(buttons, width=2))


@ask_manage.on_button("wact", ("starts", "venue", "notes", "attendance", "cancel", "close"))
async def manage_chosen(run: Run[WorkshopData], action: str) -> Outcome:
    await run.ack()
    workshop = await _workshop(run)
    if workshop is None or action == "close":
        return END
    # The form starts from the workshop as it is; the summary shows what would change.
    run.data.update(WorkshopData(
        module=workshop.module, province=workshop.province, city=workshop.city,
        venue=workshop.venue, lat=workshop.venue_lat, lon=workshop.venue_lon,
        starts=workshop.starts_at.isoformat(), days=workshop.days,
        notes_id=workshop.notes_id, notes_en=workshop.notes_en))
    if action == "starts":
        return ask_start
    if action == "venue":
        return ask_venue
    if action == "notes":
        return ask_notes_id
    if action == "attendance":
        return await ATTENDANCE.switch(run, workshop_id=str(workshop.id))
    return ask_cancel


def _changes(run: Run[WorkshopData]) -> workshops.Changes:
    data = run.data
    return workshops.Changes(starts_at=datetime.fromisoformat(data["starts"]),
                             venue=data["venue"], venue_lat=data.get("lat"),
                             venue_lon=data.get("lon"), notes_id=data.get("notes_id"),
                             notes_en=data.get("notes_en"))


@WORKSHOP.step("w_changes", expects=BUTTON)
async def ask_changes(run: Run[WorkshopData]) -> None:
    workshop = await _workshop(run)
    if workshop is None:
        await run.say(_("This workshop was cancelled."))
        clear(run.context)
        return
    lines = workshops.change_lines(workshop, _changes(run))
    if not lines:
        await run.say(_("Nothing would change."), rows([
            run.button(_("Back"), "wchg", "back")]))
        return
    await run.say("\n".join([_("Change <b>{title}</b>?").format(
        title=html.escape(workshops.title(workshop.module))), *lines, "",
        _("Everyone invited is told what changed.")]), rows([
            run.button("✅ " + _("Yes, change it"), "wchg", "yes"),
            run.button(_("Back"), "wchg", "back")], width=1))


@ask_changes.on_button("wchg", ("yes", "back"))
async def changes_confirmed(run: Run[WorkshopData], answer: str) -> Outcome:
    await run.ack()
    workshop = await _workshop(run)
    if workshop is None:
        await run.say(_("This workshop was cancelled."))
        return END
    if answer == "back":
        return ask_manage
    changes = _changes(run)
    if changes.starts_at <= run.svc.clock.now():
        return ask_start
    done = await workshops.edit(run.svc, workshop, changes)
    if done is None:
        await run.say(_("This workshop was cancelled."))
        return END
    await run.say(_("Changed. Everyone invited is told."))
    return END


@WORKSHOP.step("w_cancel", expects=BUTTON)
async def ask_cancel(run: Run[WorkshopData]) -> None:
    await run.say(_("Cancel this workshop? Everyone invited is told, and no reminders go "
                    "out."), rows([
                        run.button("✖ " + _("Yes, cancel it"), "wcx", "yes"),
                        run.button(_("No, keep it"), "wcx", "no")], width=1))


@ask_cancel.on_button("wcx", ("yes", "no"))
async def cancel_confirmed(run: Run[WorkshopData], answer: str) -> Outcome:
    await run.ack()
    workshop = await _workshop(run)
    if answer == "no" or workshop is None:
        if workshop is None:
            await run.say(_("This workshop was cancelled."))
            return END
        return ask_manage
    await workshops.cancel(run.svc, workshop)
    await run.say(_("The workshop is cancelled. Everyone invited is told."))
    return END

