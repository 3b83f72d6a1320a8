"""Trainer visits (kunjungan pendampingan): how they are worded, and what scheduling,
answering and the reminders do, shared by the handlers and the reminder job.

Every message is rendered in every language before the use case that queues it
(docs/decisions/0006): the owner's "who comes and when", the next steps of a report, a move
or a cancel. The reminders (domain/event_schedule.visit_reminders) are rendered when due by
`render_reminder`, which decides then who gets them and sends nothing for a visit that was
reported, moved or cancelled meanwhile.
"""

from __future__ import annotations

import html
from collections.abc import Awaitable, Mapping, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from chat import notify
from chat.context import Services
from chat.i18n import _, format_date, format_time
from chat.labels import module_name
from db import visits as visits_db
from db.models import EventStatus
from db.queries import event_reminders as planned_db
from db.queries.outbox import REMINDER, Outgoing
from db.queries.workshops import Invitation
from db.visits import NewVisit, Refusal, Report, VisitInfo
from domain import event_schedule as kinds
from domain.quiet_hours import ZONE_NAMES
from domain.workshops import needs_first_module
from services import workshops

# The buttons of "Did the visit happen?" (value "<visit id>.<version>"): each opens a flow.
YES, MOVED, CANCELLED = "vyes", "vmove", "vcxl"
ASKED = (kinds.ASK, kinds.ASK_AGAIN)
TO_TRAINER = (kinds.DAY_BEFORE, kinds.HOUR_BEFORE, *ASKED)


def when_words(moment: datetime, zone: str) -> str:
    """"Senin, 14 Desember 2026, 09.00 WITA" / "Monday, 14 December 2026, 09:00 WITA"."""
    local = moment.astimezone(ZoneInfo(zone))
    return f"{format_date(local.date())}, {format_time(local, zone=ZONE_NAMES.get(zone))}"


def reminder_promise(starts_at: datetime, zone: str, *, now: datetime, to_trainer: bool
                     ) -> str:
    """What the trainer will be reminded of, as planned (domain/event_schedule.py): a
    day-before reminder whose 08.00 has passed is not planned, so it is not promised.
    Empty when none is ahead."""
    ahead = {p.kind for p in kinds.visit_reminders(starts_at, zone, now=now)}
    at = format_time(kinds.REMINDER_TIME, zone=ZONE_NAMES.get(zone))
    if {kinds.DAY_BEFORE, kinds.HOUR_BEFORE} <= ahead:
        text = (_("You will be reminded the day before at {time} and one hour before.")
                if to_trainer else
                _("The trainer is reminded the day before at {time} and one hour before."))
        return text.format(time=at)
    if kinds.HOUR_BEFORE in ahead:
        return (_("You will be reminded one hour before.") if to_trainer
                else _("The trainer is reminded one hour before."))
    return ""


def short_day(moment: datetime, zone: str) -> str:
    """"14/12" as a button's day."""
    local = moment.astimezone(ZoneInfo(zone))
    return f"{local.day}/{local.month}"


def button_value(info: VisitInfo) -> str:
    return f"{info.id}.{info.version}"


def read_value(value: str) -> tuple[int, int] | None:
    """(visit id, version) from a button's value; None when it names none."""
    parts = value.split(".")
    if len(parts) != 2 or not all(p.isascii() and p.isdigit() for p in parts):
        return None
    return int(parts[0]), int(parts[1])


def _place(info: VisitInfo) -> str:
    return f"<b>{html.escape(info.enterprise)}</b> ({html.escape(info.city)})"


def summary_lines(info: VisitInfo) -> list[str]:
    """The visit in three lines, for whoever reads it."""
    return [_("Enterprise: {name}").format(name=_place(info)),
            _("Trainer: {name}").format(name=html.escape(info.trainer)),
            _("Module: {module}").format(module=module_name(info.module)),
            _("When: {when}").format(when=when_words(info.starts_at, info.zone))]


def _late(text: str, late: bool) -> str:
    if not late:
        return text
    return _("(This message comes late: the bot was offline for a while.)") + "\n" + text


# --- scheduling ----------------------------------------------------------------------------
async def schedule(svc: Services, new: NewVisit, *, by: int, enterprise: str, city: str,
                   trainer: str, zone: str) -> int | Refusal:
    """Store the visit with its reminders; the owner and admins are told at once who comes
    and when, and the trainer too when staff scheduled it."""
    def owner_news() -> notify.Message:
        return notify.Message(_(
            "SCORE trainer {trainer} will come to {name} for a consulting visit (module "
            "{module}) on {when}.").format(
            trainer=html.escape(trainer), name=html.escape(enterprise),
            module=module_name(new.module), when=when_words(new.starts_at, zone)))

    now = svc.clock.now()

    def trainer_news() -> notify.Message:
        return notify.Message(" ".join(filter(None, [_(
            "The SCORE team scheduled your consulting visit to {name} ({city}), module "
            "{module}, on {when}.").format(name=html.escape(enterprise), city=html.escape(city),
                                           module=module_name(new.module),
                                           when=when_words(new.starts_at, zone)),
            reminder_promise(new.starts_at, zone, now=now, to_trainer=True)])))

    result = await visits_db.schedule(
        svc.sessionmaker, new, by=by, now=now,
        owner_news=await notify.rendered(svc, owner_news),
        trainer_news=await notify.rendered(svc, trainer_news) if by != new.trainer_id else None)
    if not isinstance(result, Refusal):
        svc.outbox_changed()
    return result


# --- the trainer's answer ------------------------------------------------------------------
def refusal_text(refusal: Refusal) -> str:
    return {
        Refusal.GONE: _("This visit no longer exists."),
        Refusal.NOT_ASSIGNED: _("This trainer is no longer assigned to that enterprise."),
        Refusal.NOT_YOURS: _("This visit is not yours: only its trainer can answer."),
        Refusal.CANCELLED: _("This visit was cancelled."),
        Refusal.REPORTED: _("This visit was reported already. Thank you."),
        Refusal.MOVED: _("This visit was moved to another date. You will be asked after it."),
        Refusal.NOT_YET: _("This visit has not begun yet."),
    }[refusal]


async def report(svc: Services, info: VisitInfo, trainer_id: int,
                 given: Report) -> Refusal | None:
    def news() -> notify.Message:
        lines = [_("SCORE trainer {trainer} reports on the consulting visit to {name} on "
                   "{when}.").format(trainer=html.escape(info.trainer),
                                     name=html.escape(info.enterprise),
                                     when=when_words(info.starts_at, info.zone)),
                 "", _("<b>Next steps</b>"), html.escape(given.next_steps)]
        return notify.Message("\n".join(lines))

    owner_news = await notify.rendered(svc, news)

    def commit(invitations: Mapping[int, Invitation] | None) -> Awaitable[Refusal | None]:
        return visits_db.report(svc.sessionmaker, info.id, info.version, trainer_id, given,
                                now=svc.clock.now(), owner_news=owner_news,
                                invitations=invitations)

    if needs_first_module(info.module):
        result = await commit(None)
    else:
        # A module-1 visit done opens the later modules' workshops planned already.
        result = await workshops.inviting(svc, info.enterprise_id, commit)
    if result is None:
        svc.outbox_changed()
    return result


async def reschedule(svc: Services, info: VisitInfo, trainer_id: int,
                     starts_at: datetime) -> Refusal | None:
    def news() -> notify.Message:
        return notify.Message(_(
            "The consulting visit of SCORE trainer {trainer} to {name} is moved to "
            "{when}.").format(trainer=html.escape(info.trainer),
                              name=html.escape(info.enterprise),
                              when=when_words(starts_at, info.zone)))

    result = await visits_db.reschedule(svc.sessionmaker, info.id, info.version, trainer_id,
                                        starts_at, now=svc.clock.now(),
                                        owner_news=await notify.rendered(svc, news))
    if result is None:
        svc.outbox_changed()
    return result


async def cancel(svc: Services, info: VisitInfo, trainer_id: int,
                 reason: str) -> Refusal | None:
    def news() -> notify.Message:
        return notify.Message(_(
            "The consulting visit of SCORE trainer {trainer} to {name} on {when} is "
            "cancelled.\nReason: {reason}").format(
            trainer=html.escape(info.trainer), name=html.escape(info.enterprise),
            when=when_words(info.starts_at, info.zone), reason=html.escape(reason)))

    result = await visits_db.cancel(svc.sessionmaker, info.id, info.version, trainer_id,
                                    reason, now=svc.clock.now(),
                                    owner_news=await notify.rendered(svc, news))
    if result is None:
        svc.outbox_changed()
    return result


# --- the reminders (jobs/event_reminders.py) -----------------------------------------------
def asked(info: VisitInfo, *, again: bool = False) -> notify.Message:
    """"Did the visit happen?" with its three buttons: after the visit, the next morning
    once more, and from /visits for a visit not reported yet."""
    return _asked(info, again=again)


def _asked(info: VisitInfo, *, again: bool) -> notify.Message:
    lead = (_("You have not told us yet. Did your consulting visit to {place} on {when} "
              "happen?") if again else
            _("Did your consulting visit to {place} on {when} happen?"))
    value = button_value(info)
    return notify.Message(
        lead.format(place=_place(info), when=when_words(info.starts_at, info.zone)),
        [[notify.Button("✅ " + _("Yes, it happened"), YES, value)],
         [notify.Button("📅 " + _("It was rescheduled"), MOVED, value)],
         [notify.Button("✖ " + _("It was cancelled"), CANCELLED, value)]])


def _reminder_text(info: VisitInfo, kind: str) -> notify.Message:
    when = when_words(info.starts_at, info.zone)
    module = module_name(info.module)
    if kind == kinds.DAY_BEFORE:
        return notify.Message(_(
            "Reminder: tomorrow you have a consulting visit to {place}, module {module}, on "
            "{when}.").format(place=_place(info), module=module, when=when))
    if kind == kinds.HOUR_BEFORE:
        return notify.Message(_(
            "In one hour: your consulting visit to {place}, module {module}, on {when}.")
            .format(place=_place(info), module=module, when=when))
    if kind == kinds.OWNER_DAY_BEFORE:
        return notify.Message(_(
            "Reminder: tomorrow SCORE trainer {trainer} comes to {place} for a consulting "
            "visit (module {module}) on {when}.").format(
            trainer=html.escape(info.trainer), place=_place(info), module=module, when=when))
    return _asked(info, again=kind == kinds.ASK_AGAIN)


async def render_due(svc: Services, *, event_id: int, version: int, kind: str, late: bool,
                     expires_at: datetime | None) -> Sequence[Outgoing]:
    """What a due visit reminder says, to whom (for jobs/event_reminders.py): decided now,
    so nothing goes for a visit reported, moved or cancelled since it was planned, and the
    owner's reminder reaches who owns and administers the enterprise today."""
    info = await visits_db.visit(svc.sessionmaker, event_id)
    if (info is None or info.version != version
            or info.status is not EventStatus.SCHEDULED):
        return []
    if kind in TO_TRAINER:
        to = [info.trainer_id]
    elif kind == kinds.OWNER_DAY_BEFORE:
        to = await visits_db.told_of(svc.sessionmaker, info.enterprise_id)
    else:
        return []
    if not to:
        return []
    def render() -> notify.Message:
        said = _reminder_text(info, kind)
        # A question asked late needs no excuse: it is still the question.
        return notify.Message(_late(said.text, late and kind not in ASKED), said.buttons)

    return [await notify.prepare(
        svc, group=planned_db.group_of(visits_db.EVENT, event_id, version),
        key=planned_db.key_of(visits_db.EVENT, event_id, version, kind), to=to, render=render,
        expires=expires_at, priority=REMINDER)]
