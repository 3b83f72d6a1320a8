"""What a workshop says and does, shared by the staff flow, the RSVP buttons and the reminder
job: the invitation (venue, a map link and a calendar file), the reminders 7 days and 1 day
before (to those attending and those who have not answered), the news of a change or a
cancellation, and the orchestration of saving each (render first, then the db/ use case).

The invitation is one message with the calendar file, the answer buttons and a map link;
when staff dropped a map pin, a Telegram venue follows it (a message of its own: the outbox
sends one message per row, and a venue has no caption), in the same group under its own key,
sent after the invitation (db.queries.outbox.waiting_behind). A changed venue with a pin
follows the notice of the change the same way.
"""

from __future__ import annotations

import hashlib
import html
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar
from urllib.parse import quote_plus
from zoneinfo import ZoneInfo

from chat import notify
from chat.context import Services
from chat.i18n import _, current_locale, format_date, format_time, ngettext
from chat.labels import module_name
from db import event_reminders as reminders_db
from db import workshops as workshops_db
from db.models import Rsvp, Workshop
from db.queries import event_reminders as planned_db
from db.queries import outbox as outbox_db
from db.queries import workshops as q
from domain import event_schedule
from domain.provinces import by_code
from domain.quiet_hours import ZONE_NAMES
from domain.workshops import (
    FEMALE,
    MANAGER,
    Participant,
    answers_close,
    ends_at,
    needs_first_module,
)
from rendering.calendar_file import CalendarEvent, ics
from services.prepared import rendered_first

ATTEND = "wsyes"   # "I will attend": opens the RSVP flow
DECLINE = "wsno"   # "I cannot attend"


# --- words ---------------------------------------------------------------------------------
def title(module: int) -> str:
    return _("Workshop, module {number}: {name}").format(number=module,
                                                           name=module_name(module))


def moment_words(moment: datetime, zone: str) -> str:
    """"Kamis, 17 Desember 2026, 09.00 WIB": local to the workshop's province."""
    local = moment.astimezone(ZoneInfo(zone))
    return _("{date}, {time} {zone}").format(date=format_date(local), time=format_time(local),
                                             zone=ZONE_NAMES.get(zone, zone))


def days_words(days: int) -> str:
    return ngettext("{n} day", "{n} days", days).format(n=days)


def notes_of(workshop: Workshop) -> str | None:
    """The notes in the reader's language, else in the other one."""
    if current_locale() == "en":
        return workshop.notes_en or workshop.notes_id
    return workshop.notes_id or workshop.notes_en


def place_words(workshop: Workshop) -> str:
    province = by_code(workshop.province)
    where = workshop.city + (f", {province.name(current_locale())}" if province else "")
    return html.escape(where)


def detail_lines(workshop: Workshop) -> list[str]:
    zone = workshops_db.zone_of(workshop)
    lines = [f"<b>{html.escape(title(workshop.module))}</b>",
             _("When: {moment} ({days})").format(moment=moment_words(workshop.starts_at, zone),
                                                 days=days_words(workshop.days)),
             _("Where: {venue}, {place}").format(venue=html.escape(workshop.venue),
                                                 place=place_words(workshop))]
    notes = notes_of(workshop)
    if notes:
        lines.append(html.escape(notes))
    return lines


def maps_url(workshop: Workshop) -> str:
    if workshop.venue_lat is not None and workshop.venue_lon is not None:
        return f"https://maps.google.com/?q={workshop.venue_lat:.6f},{workshop.venue_lon:.6f}"
    return ("https://www.google.com/maps/search/?api=1&query="
            + quote_plus(f"{workshop.venue}, {workshop.city}"))


def venue_message(workshop: Workshop) -> notify.Message | None:
    """The map pin as a Telegram venue: the place as staff typed it, then the city and
    province; None without a pin. Plain text: a venue is not HTML."""
    if workshop.venue_lat is None or workshop.venue_lon is None:
        return None
    province = by_code(workshop.province)
    address = workshop.city + (f", {province.name(current_locale())}" if province else "")
    return notify.Message(workshop.venue, html=False, media=notify.venue(
        workshop.venue_lat, workshop.venue_lon, workshop.venue, address))


def people_words(people: Sequence[Participant]) -> str:
    return "\n".join(f"• {html.escape(p.name)} ({sex_word(p.sex)}, {kind_word(p.kind)})"
                     for p in people)


def sex_word(sex: str) -> str:
    return _("woman") if sex == FEMALE else _("man")


def kind_word(kind: str) -> str:
    return _("manager") if kind == MANAGER else _("worker")


def answer_words(answer: Rsvp | None) -> str:
    if answer is Rsvp.ATTEND:
        return _("attending")
    if answer is Rsvp.DECLINE:
        return _("not attending")
    return _("not answered yet")


def close_words(workshop: Workshop) -> str:
    """Until when an answer can change: the day before, in words."""
    zone = workshops_db.zone_of(workshop)
    close = answers_close(workshop.starts_at, zone).astimezone(ZoneInfo(zone))
    return format_date((close - timedelta(days=1)).date())


# --- messages ------------------------------------------------------------------------------
def calendar_file(workshop: Workshop, stamp: datetime) -> notify.Media:
    geo = ((workshop.venue_lat, workshop.venue_lon)
           if workshop.venue_lat is not None and workshop.venue_lon is not None else None)
    data = ics(CalendarEvent(
        uid=f"workshop-{workshop.id}@score-assistant", sequence=workshop.version,
        title="SCORE: " + title(workshop.module), starts_at=workshop.starts_at,
        ends_at=ends_at(workshop.starts_at, workshop.days),
        location=f"{workshop.venue}, {workshop.city}", description=notes_of(workshop) or "",
        stamp=stamp, geo=geo))
    return notify.document(data, f"workshop-{workshop.id}.ics")


def _buttons(workshop: Workshop) -> list[list[notify.Button]]:
    return [[notify.Button("✅ " + _("I will attend"), ATTEND, str(workshop.id)),
             notify.Button(_("I cannot attend"), DECLINE, str(workshop.id))],
            [notify.Button("📍 " + _("Open the map"), url=maps_url(workshop))]]


def invitation(workshop: Workshop, *, late: bool, stamp: datetime) -> notify.Message:
    lines = [_("You are invited to a SCORE workshop:"), *detail_lines(workshop), "",
             _("Will your enterprise attend? Please answer by {date}. This file adds the "
               "workshop to your phone's calendar.").format(date=close_words(workshop))]
    if late:
        lines.insert(0, _("(Sent late: the bot was not running.)"))
    return notify.Message("\n".join(lines), _buttons(workshop),
                          calendar_file(workshop, stamp))


def reminder_text(workshop: Workshop, kind: str, *, late: bool,
                  attending: bool = False) -> notify.Message:
    """The reminder, worded by the enterprise's answer: attending, it says they are expected
    (and how to change who comes); not answered, it asks, with the answer buttons."""
    if kind == event_schedule.WEEK_BEFORE:
        head = _("Reminder: the SCORE workshop is in one week.")
    else:
        head = _("Reminder: the SCORE workshop is tomorrow.")
    ask = (_("Your enterprise is registered. To change who comes, type /workshops.")
           if attending else
           _("Your enterprise has not answered yet. Please tell us whether it attends."))
    lines = [head, *detail_lines(workshop), "", ask]
    if late:
        lines.insert(0, _("(Sent late: the bot was not running.)"))
    return notify.Message("\n".join(lines), () if attending else _buttons(workshop))


async def render_reminder(svc: Services, reminder: reminders_db.Due, *, late: bool
                          ) -> Sequence[outbox_db.Outgoing]:
    """A due planned message of a workshop (jobs/event_reminders.py): the invitation to the
    owners and admins of every invited enterprise, or a reminder to those attending and
    those who have not answered (none to who declined), decided when it is queued."""
    workshop = await workshops_db.get(svc.sessionmaker, reminder.event_id)
    if workshop is None or workshop.status.value != "scheduled":
        return []
    now = svc.clock.now()
    group = planned_db.group_of(reminder.event, reminder.event_id, reminder.version)
    key = planned_db.key_of(reminder.event, reminder.event_id, reminder.version, reminder.kind)
    if reminder.kind != workshops_db.INVITE:
        # Those attending are told they are expected; those who have not answered are asked.
        # Someone deciding for two enterprises may get both: their keys differ.
        def worded(attending: bool) -> Callable[[], notify.Message]:
            return lambda: reminder_text(workshop, reminder.kind, late=late,
                                         attending=attending)

        return [await notify.prepare(
            svc, group=group, key=key if attending else f"{key}:open",
            to=q.deciders(q.invited(workshop.id, answers=[Rsvp.ATTEND if attending else None])),
            render=worded(attending), expires=reminder.expires_at, priority=notify.REMINDER)
            for attending in (True, False)]
    to = q.deciders(q.invited(workshop.id))

    def render() -> notify.Message:
        return invitation(workshop, late=late, stamp=now)

    outgoing = [await notify.prepare(svc, group=group, key=key, to=to, render=render,
                                     expires=reminder.expires_at, priority=notify.REMINDER)]
    if reminder.kind == workshops_db.INVITE and venue_message(workshop) is not None:
        # Queued after the invitation, so its rows come later and wait for it.
        outgoing.append(await notify.prepare(
            svc, group=group, key=f"{key}:venue", to=to,
            render=lambda: venue_message(workshop) or notify.Message(),
            expires=reminder.expires_at, priority=notify.REMINDER))
    return outgoing


# --- enterprises that qualify later --------------------------------------------------------
async def latecomer_invitations(svc: Services, enterprise_id: int
                                ) -> dict[int, q.Invitation]:
    """The invitations of the workshops that may invite this enterprise late, rendered for a
    use case that may make it invitable (`db.queries.workshops.invite_latecomer`)."""
    now = svc.clock.now()
    found: dict[int, q.Invitation] = {}
    for workshop in await workshops_db.open_to(svc.sessionmaker, enterprise_id, now=now):
        def render(w: Workshop = workshop) -> notify.Message:
            return invitation(w, late=False, stamp=now)

        def pin(w: Workshop = workshop) -> notify.Message:
            return venue_message(w) or notify.Message()

        venue = (await notify.rendered(svc, pin) if venue_message(workshop) is not None
                 else None)
        found[workshop.id] = q.Invitation(workshop.id, workshop.version,
                                          await notify.rendered(svc, render), venue)
    return found


T = TypeVar("T")


async def inviting(svc: Services, enterprise_id: int,
                   use_case: Callable[[Mapping[int, q.Invitation]], Awaitable[T]]) -> T:
    """Run a use case that may make an enterprise invitable to workshops already planned,
    with their invitations rendered before its transaction (rendered again when one changed
    in between)."""
    result = await rendered_first(lambda: latecomer_invitations(svc, enterprise_id), use_case)
    svc.outbox_changed()
    return result


async def record_attendance(svc: Services, workshop_id: int, participant_id: int,
                            attended: bool, *, by: int) -> bool:
    """Mark who came; someone who came to a module-1 workshop opens the later modules'
    workshops to their enterprise (domain/workshops.py): those planned already invite
    it."""
    def record(invitations: Mapping[int, q.Invitation] | None) -> Awaitable[bool]:
        return workshops_db.record_attendance(
            svc.sessionmaker, workshop_id, participant_id, attended, by=by,
            now=svc.clock.now(), invitations=invitations)

    workshop = await workshops_db.get(svc.sessionmaker, workshop_id)
    enterprise_id = await workshops_db.participant_enterprise(svc.sessionmaker, workshop_id,
                                                              participant_id)
    if (not attended or enterprise_id is None or workshop is None
            or needs_first_module(workshop.module)):
        return await record(None)
    return await inviting(svc, enterprise_id, record)


# --- staff: create, edit, cancel -----------------------------------------------------------
async def create(svc: Services, fields: workshops_db.WorkshopFields, *, staff_id: int
                 ) -> workshops_db.Created:
    """Save the workshop with its invitations and reminders planned, then queue the
    invitation at once (the reminder job would queue it within a minute otherwise, and
    does when the bot stops in between)."""
    now = svc.clock.now()
    zone = by_code(fields.province)
    assert zone is not None
    planned = event_schedule.workshop_reminders(fields.starts_at, zone.timezone, now=now)
    created = await workshops_db.create_workshop(svc.sessionmaker, fields, staff_id=staff_id,
                                                 planned=planned, now=now)
    due = reminders_db.Due(created.invite_reminder, workshops_db.EVENT, created.workshop_id,
                           0, workshops_db.INVITE, now, fields.starts_at)
    outgoing = await render_reminder(svc, due, late=False)
    if await reminders_db.queue(svc.sessionmaker, due.id, outgoing, now=now):
        svc.outbox_changed()
    return created


@dataclass(frozen=True)
class Changes:
    starts_at: datetime
    venue: str
    venue_lat: float | None
    venue_lon: float | None
    notes_id: str | None
    notes_en: str | None


def change_lines(old: Workshop, new: Changes) -> list[str]:
    zone = workshops_db.zone_of(old)
    lines = []
    if new.starts_at != old.starts_at:
        lines.append(_("Date and time: now {new} (was {old})").format(
            new=moment_words(new.starts_at, zone), old=moment_words(old.starts_at, zone)))
    if (new.venue, new.venue_lat, new.venue_lon) != (old.venue, old.venue_lat, old.venue_lon):
        lines.append(_("Venue: now {new} (was {old})").format(
            new=html.escape(new.venue), old=html.escape(old.venue)))
    if (new.notes_id, new.notes_en) != (old.notes_id, old.notes_en):
        notes = (new.notes_en or new.notes_id) if current_locale() == "en" else (
            new.notes_id or new.notes_en)
        lines.append(_("Notes: now {new}").format(new=html.escape(notes or "-")))
    return lines


def _edit_key(workshop_id: int, changes: Changes, now: datetime) -> str:
    """One notice per edit: two edits within a second differ by what they set."""
    digest = hashlib.sha256(repr(changes).encode()).hexdigest()[:12]
    return f"{workshops_db.news_group(workshop_id)}:edit:{int(now.timestamp())}:{digest}"


async def edit(svc: Services, workshop: Workshop, changes: Changes
               ) -> Workshop | None:
    """Change a workshop and tell everyone invited what changed, in words (with a new
    calendar file when the date moved)."""
    now = svc.clock.now()
    zone = workshops_db.zone_of(workshop)
    moved = changes.starts_at != workshop.starts_at
    planned = (event_schedule.workshop_reminders(changes.starts_at, zone, now=now)
               if moved else [])

    after = Workshop(id=workshop.id, module=workshop.module, province=workshop.province,
                     city=workshop.city, venue=changes.venue, venue_lat=changes.venue_lat,
                     venue_lon=changes.venue_lon, starts_at=changes.starts_at,
                     days=workshop.days, notes_id=changes.notes_id,
                     notes_en=changes.notes_en, version=workshop.version + int(moved))

    def render() -> notify.Message:
        lines = [_("The SCORE workshop has changed:"),
                 f"<b>{html.escape(title(workshop.module))}</b>",
                 *change_lines(workshop, changes)]
        return notify.Message("\n".join(lines), _buttons(after),
                              calendar_file(after, now) if moved else None)

    notice = await notify.rendered(svc, render)
    venue_moved = ((changes.venue, changes.venue_lat, changes.venue_lon)
                   != (workshop.venue, workshop.venue_lat, workshop.venue_lon))
    # The new place on the map follows the notice, when there is a pin to show.
    pin = (await notify.rendered(svc, lambda: venue_message(after) or notify.Message())
           if venue_moved and venue_message(after) is not None else None)
    done = await workshops_db.edit_workshop(
        svc.sessionmaker, workshop.id, starts_at=changes.starts_at, venue=changes.venue,
        venue_lat=changes.venue_lat, venue_lon=changes.venue_lon, notes_id=changes.notes_id,
        notes_en=changes.notes_en, planned=planned if moved else [],
        notice=notice if change_lines(workshop, changes) else None,
        notice_key=_edit_key(workshop.id, changes, now), venue_notice=pin,
        now=now)
    svc.outbox_changed()
    return done


async def cancel(svc: Services, workshop: Workshop) -> Workshop | None:
    def render() -> notify.Message:
        zone = workshops_db.zone_of(workshop)
        return notify.Message("\n".join([
            _("The SCORE workshop below is cancelled:"),
            f"<b>{html.escape(title(workshop.module))}</b>",
            moment_words(workshop.starts_at, zone) + ", " + place_words(workshop),
            _("The SCORE team will tell you when a new date is set.")]))

    notice = await notify.rendered(svc, render)
    done = await workshops_db.cancel_workshop(svc.sessionmaker, workshop.id, notice=notice,
                                              now=svc.clock.now())
    svc.outbox_changed()
    return done
