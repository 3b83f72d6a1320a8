"""Where an enterprise stands in SCORE, in words (/modules): per module it takes, the
workshop (its date, and whether its people came), the visits done and the next one, in one
short message. The facts are db/module_progress.py's."""

from __future__ import annotations

import html
from datetime import datetime
from zoneinfo import ZoneInfo

from chat.i18n import _, format_date, format_number, format_time, ngettext
from chat.labels import module_name
from db.models import Rsvp
from db.module_progress import ModuleStand, Stand, WorkshopSeen, stand_of
from db.session import Sessions
from domain.provinces import WIB, by_code
from domain.quiet_hours import ZONE_NAMES


def _zone(province: str) -> str:
    found = by_code(province)
    return found.timezone if found is not None else WIB


def _moment(moment: datetime, province: str) -> str:
    """"Senin, 14 Desember 2026, pukul 09.00 WIB": in the zone of the province."""
    zone = _zone(province)
    local = moment.astimezone(ZoneInfo(zone))
    return _("{date}, {time} {zone}").format(date=format_date(local), time=format_time(local),
                                             zone=ZONE_NAMES[zone])


def _day(moment: datetime, province: str) -> str:
    return format_date(moment.astimezone(ZoneInfo(_zone(province))))


def _ended(workshop: WorkshopSeen, now: datetime) -> bool:
    """Over, or under way: from its start on, the question is who came, not who will."""
    return workshop.starts_at <= now


def workshop_to_show(workshops: list[WorkshopSeen], now: datetime) -> WorkshopSeen | None:
    """The workshop that tells where the enterprise stands in a module: the last one its
    people attended; else the next one to come; else the last one it was invited to."""
    attended = [w for w in workshops if w.attended]
    if attended:
        return attended[-1]
    coming = [w for w in workshops if not _ended(w, now)]
    if coming:
        return coming[0]
    return workshops[-1] if workshops else None


def _workshop_line(workshops: list[WorkshopSeen], now: datetime) -> str:
    workshop = workshop_to_show(workshops, now)
    if workshop is None:
        return _("Workshop: not planned yet.")
    if not _ended(workshop, now):
        when = _moment(workshop.starts_at, workshop.province)
        if workshop.answer is Rsvp.ATTEND:
            state = (ngettext("{count} person will attend.", "{count} people will attend.",
                              workshop.named).format(count=format_number(workshop.named))
                     if workshop.named else _("Attending."))
        elif workshop.answer is Rsvp.DECLINE:
            state = _("Not attending.")
        else:
            state = _("Not answered yet.")
    else:
        when = _day(workshop.starts_at, workshop.province)
        if workshop.attended:
            state = ngettext("{count} person attended.", "{count} people attended.",
                             workshop.attended).format(count=format_number(workshop.attended))
        elif workshop.recorded:
            state = _("Nobody attended.")
        elif workshop.answer is Rsvp.ATTEND:
            state = _("Attendance not recorded yet.")
        elif workshop.answer is Rsvp.DECLINE:
            state = _("Did not attend.")
        else:
            state = _("The invitation was not answered.")
    return _("Workshop: {when}, {city}. {state}").format(
        when=when, city=html.escape(workshop.city), state=state)


def _visit_lines(stand: ModuleStand, province: str) -> list[str]:
    if stand.visits_done and stand.last_visit is not None:
        done = ngettext("Visits done: {count}, the last on {date}.",
                        "Visits done: {count}, the last on {date}.", stand.visits_done).format(
            count=format_number(stand.visits_done), date=_day(stand.last_visit, province))
    else:
        done = _("Visits done: none yet.")
    if stand.next_visit is not None:
        coming = _("Next visit: {when}, with {trainer}.").format(
            when=_moment(stand.next_visit.starts_at, province),
            trainer=html.escape(stand.next_visit.trainer))
    else:
        coming = _("Next visit: not scheduled yet.")
    return [done, coming]


def stand_words(stand: Stand, now: datetime) -> str:
    lines = [_("<b>{name}</b> in SCORE, module by module").format(name=html.escape(stand.name))]
    if not stand.modules:
        lines.append(_("No module chosen yet. The owner chooses them with /enrol."))
    for module in stand.modules:
        lines += ["", _("<b>Module {number}: {name}</b>").format(
            number=module.module, name=module_name(module.module))]
        lines.append(_workshop_line(module.workshops, now))
        lines += _visit_lines(module, stand.province)
    return "\n".join(lines)


async def stand_text(sessions: Sessions, enterprise_id: int, *, now: datetime) -> str | None:
    """Where the enterprise stands, worded; None unless it is approved."""
    stand = await stand_of(sessions, enterprise_id, now=now)
    return stand_words(stand, now) if stand is not None else None
