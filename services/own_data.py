"""A user's own data in words: /mydata as a message (and a .txt file when it is long), and
/forget's notice to staff and its orchestration (docs/decisions/0013-users-own-data.md)."""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from zoneinfo import ZoneInfo

from babel.dates import format_date as format_babel_date

from chat import notify
from chat.context import Services
from chat.i18n import N_, _, current_locale, format_date, format_number, format_time
from chat.labels import module_name, role_name, sector_name
from db import own_data
from db.own_data import Forgotten, OwnData, Owned, Record, Refusal, Value, refusal
from db.queries.outbox import Rendered
from domain.provinces import by_code
from domain.questionnaire import load
from services.prepared import rendered_first

# A message longer than this comes as a file, with a short summary as the message.
MESSAGE_LIMIT = 3500
ZONE = "Asia/Jakarta"  # times are shown in WIB: the user's own zone is not always known

SECTION_TITLES = {
    "account": N_("Your account"),
    "memberships": N_("Your enterprises (membership)"),
    "enterprises": N_("Enterprises you own or administer, with their contact"),
    "responses": N_("Your survey answers that are still linked to you"),
    "workshops": N_("Workshop answers you gave and the people you named"),
    "visits": N_("Consulting visits you led, scheduled or reported"),
    "trainer": N_("Enterprises assigned to you as a trainer"),
    "tips": N_("Tips you received, your feedback, the weekly tip"),
    "invites": N_("Admin invitation links you made or used"),
    "join_attempts": N_("Wrong join codes you typed (kept for an hour)"),
    "drafts": N_("Your unfinished answers (kept for 14 days)"),
    "outbox": N_("Messages the bot sent or will send you"),
    "staff_actions": N_("What you did as SCORE staff (recorded with your id)"),
}

FIELD_LABELS = {
    "id": N_("Telegram id"), "name": N_("Name"), "username": N_("Username"),
    "language": N_("Language"), "role": N_("Role"), "status": N_("Status"),
    "consent_at": N_("Agreed to the privacy notice"),
    "consent_declined_at": N_("Declined the privacy notice"),
    "created_at": N_("Created"), "last_seen_at": N_("Last active"),
    "enterprise_id": N_("Enterprise"), "sector": N_("Sector"), "province": N_("Province"),
    "city": N_("City"), "worker_count": N_("Workers"), "contact_name": N_("Contact person"),
    "phone": N_("Mobile number"), "join_code": N_("Join code"),
    "proposed_name": N_("Proposed new name"), "proposed_city": N_("Proposed new city"),
    "decided_at": N_("Decided"), "since": N_("Since"), "left_at": N_("Until"),
    "used_at": N_("Used"), "at": N_("Time"), "updated_at": N_("Last changed"),
    "data": N_("Stored answers"), "text_id": N_("Text"), "state": N_("Delivery"),
    "sent_at": N_("Sent"), "assigned_at": N_("Assigned"), "survey": N_("Survey"),
    "period": N_("Month"), "moved_at": N_("Moved"), "kind": N_("Kind"),
    "entered_as": N_("Answered as"), "started_at": N_("Started"), "finished_at": N_("Finished"),
    "module": N_("Module"), "starts_at": N_("Date"), "answer": N_("Answer"),
    "answered_at": N_("Answered"), "attended": N_("Attended"), "recorded_at": N_("Recorded"),
    "report_done": N_("What was done"), "report_next_steps": N_("Next steps"),
    "reported_at": N_("Reported"), "edited_at": N_("Edited"), "via": N_("How"),
    "useful": N_("Useful"), "text": N_("Text"), "participant": N_("Participant"),
}


# Stored values in words (statuses, kinds, answers); others are shown as stored.
VALUE_LABELS = {
    "active": N_("active"), "blocked": N_("blocked the bot"),
    "pending": N_("waiting"), "approved": N_("approved"), "rejected": N_("not approved"),
    "sending": N_("being sent"), "sent": N_("sent"), "failed": N_("not delivered"),
    "skipped": N_("not sent"), "expired": N_("not sent in time"),
    "open": N_("not finished"), "final": N_("finished"), "replaced": N_("replaced by a later one"),
    "monthly": N_("monthly"), "baseline": N_("baseline (before training)"),
    "attend": N_("will attend"), "decline": N_("cannot attend"),
    "scheduled": N_("scheduled"), "done": N_("done"), "cancelled": N_("cancelled"),
    "queued": N_("sent out"), "asked": N_("asked with /tip"), "weekly": N_("tip of the week"),
}


@dataclass(frozen=True)
class Shown:
    """/mydata's reply: the message, and the whole document when it does not fit in one."""

    message: str
    document: bytes | None
    filename: str


def _value(name: str, value: Value, data: OwnData) -> str:
    if value is None or value == "":
        return "–"
    if name == "enterprise_id" and isinstance(value, int):
        return data.enterprise_names.get(value, f"#{value}")
    if name == "module" and isinstance(value, int) and 1 <= value <= 5:
        return module_name(value)
    if name in ("role", "entered_as") and isinstance(value, str | Enum):
        return role_name(value.value if isinstance(value, Enum) else value)
    if name == "sector" and isinstance(value, str):
        return sector_name(value)
    if name == "province" and isinstance(value, str):
        province = by_code(value)
        return province.name(current_locale()) if province else value
    raw = value.value if isinstance(value, Enum) else value
    if isinstance(raw, str) and raw in VALUE_LABELS and name in (
            "status", "state", "kind", "answer", "via"):
        return _(VALUE_LABELS[raw])
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, datetime):
        local = value.astimezone(ZoneInfo(ZONE))
        return f"{format_date(local)} {format_time(local, zone='WIB')}"
    if isinstance(value, date) and name == "period":
        return format_babel_date(value, "MMMM y", locale=current_locale())
    if isinstance(value, date):
        return format_date(value)
    if isinstance(value, int | float | Decimal) and name != "id":
        return format_number(float(value) if isinstance(value, Decimal) else value)
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def _answers(record: Record) -> list[str]:
    """A survey response's answers, each under its question's short label, a button's
    answer in words."""
    survey = dict(record.fields).get("survey")
    try:
        questionnaire = load(str(survey))
    except (KeyError, ValueError, OSError):
        return [f"  {key}: {value}" for key, value in record.more]
    locale = current_locale()
    questions = {q.key: q for q in questionnaire.questions}
    lines = []
    for key, value in record.more:
        question = questions.get(key)
        if question is None:
            lines.append(f"  {key}: {value}")
            continue
        choice = question.choice(str(value)) if isinstance(value, str) and value else None
        shown = (choice.text[locale] if choice is not None
                 else str(value) if value not in ("", None) else questionnaire.skip[locale])
        lines.append(f"  {question.label[locale]}: {shown}")
    return lines


def _record(record: Record, data: OwnData) -> list[str]:
    lines = []
    for name, value in record.fields:
        if name == "survey" and isinstance(value, str):
            title = _survey_title(value, dict(record.fields).get("period"))
            lines.append(f"  {_(FIELD_LABELS[name])}: {title}")
            continue
        label = _(FIELD_LABELS[name]) if name in FIELD_LABELS else name
        if record.source == "tip_optouts.user_id":
            label = _("Weekly tip turned off since")
        lines.append(f"  {label}: {_value(name, value, data)}")
    if record.source == "survey_responses.respondent_id":
        lines.extend(_answers(record))
    else:
        for name, value in record.more:
            label = _(FIELD_LABELS[name]) if name in FIELD_LABELS else name
            lines.append(f"  {label}: {_value(name, value, data)}")
    if record.source in ("enterprises.owner_id", "admin"):
        enterprise = record.fields[0][1]
        modules = data.modules.get(enterprise, []) if isinstance(enterprise, int) else []
        if modules:
            lines.append("  {label}: {modules}".format(
                label=_("Modules of interest"),
                modules=", ".join(module_name(m) for m in modules)))
    return lines


def _survey_title(name: str, period: Value) -> str:
    """"Survei pekerja bulan November 2026": the survey's own title for its month."""
    try:
        title = load(name).title[current_locale()]
    except (KeyError, ValueError, OSError):
        return name
    month = (format_babel_date(period, "MMMM y", locale=current_locale())
             if isinstance(period, date) else "")
    return title.format(month=month).strip()


def document_text(data: OwnData) -> str:
    """Everything, as plain text: one part per section, one block per stored row."""
    parts = [_("Everything SCORE Assistant stores about you (UU PDP No. 27/2022). Dates are "
               "in WIB.")]
    for section in own_data.SECTIONS:
        records = data.sections[section]
        if not records:
            continue
        block = [f"== {_(SECTION_TITLES[section])} ({format_number(len(records))}) =="]
        for record in records:
            block.extend(_record(record, data))
            block.append("")
        parts.append("\n".join(block).rstrip())
    if data.unlinked_note:
        parts.append(_unlinked())
    parts.append(_forget_hint())
    return "\n\n".join(parts) + "\n"


def _unlinked() -> str:
    return _("Your answers to workers' surveys that have closed are not listed: at the close "
             "they were separated from your account on purpose, so nobody, not even the bot, "
             "can tell which answers were yours. They stay only in the totals.")


def _forget_hint() -> str:
    return _("To have this deleted, type /forget. /privacy explains what we keep and why.")


def shown(data: OwnData) -> Shown:
    """The whole list as the message when it fits; else a count per section, and the list
    as a file."""
    text = document_text(data)
    filename = "score-mydata.txt"
    if len(text) <= MESSAGE_LIMIT:
        return Shown(f"<pre>{html.escape(text)}</pre>", None, filename)
    lines = [_("<b>What SCORE Assistant stores about you</b>")]
    for section in own_data.SECTIONS:
        count = len(data.sections[section])
        if count:
            lines.append(f"• {html.escape(_(SECTION_TITLES[section]))}: {format_number(count)}")
    lines.append(_("Everything in detail is in the file below."))
    if data.unlinked_note:
        lines.append(_unlinked())
    lines.append(_forget_hint())
    return Shown("\n".join(lines), text.encode("utf-8"), filename)


async def my_data(svc: Services, user_id: int) -> Shown | None:
    data = await own_data.collect(svc.sessionmaker, user_id)
    return shown(data) if data is not None else None


# --- /forget -----------------------------------------------------------------------------------

__all__ = ["Forgotten", "Refusal", "Shown", "forget", "my_data", "owned", "refusal", "shown"]


async def owned(svc: Services, user_id: int) -> tuple[Owned, ...]:
    """The enterprises the user owns: /forget's question says what becomes of them."""
    return await own_data.owned(svc.sessionmaker, user_id)


def _notice(enterprises: tuple[Owned, ...]) -> notify.Message:
    names = ", ".join(html.escape(e.name) for e in enterprises)
    return notify.Message(_(
        "The owner of {names} asked the bot to delete their personal data (UU PDP), and it "
        "is deleted. The enterprise stays in the programme, but its contact person and "
        "mobile number are gone. Please ask the enterprise for a new contact person.").format(
        names=names))


async def forget(svc: Services, user_id: int) -> Forgotten | Refusal:
    """Forget the user: the staff notice (when they own enterprises) is rendered first, and
    again when the enterprises they own changed meanwhile."""
    async def render() -> tuple[tuple[Owned, ...], Rendered | None]:
        enterprises = await own_data.owned(svc.sessionmaker, user_id)
        if not enterprises:
            return enterprises, None
        return enterprises, await notify.rendered(svc, lambda: _notice(enterprises))

    async def commit(prepared: tuple[tuple[Owned, ...], Rendered | None]
                     ) -> Forgotten | Refusal:
        expected, notice = prepared
        return await own_data.forget(svc.sessionmaker, user_id,
                                     in_staff_ids=svc.is_staff_id(user_id), notice=notice,
                                     expected=expected, fixed_staff=svc.settings.staff_ids,
                                     now=svc.clock.now())

    result = await rendered_first(render, commit)
    if isinstance(result, Forgotten):
        svc.outbox_changed()  # rows dropped, and the staff notice
    return result
