"""The export of everything stored, for staff (docs/decisions/0012-export.md): a workbook,
or a folder of CSV files, with a sheet per table of `db/export.SOURCES`, headers in the
reader's language, times in ISO form in the local time of the row's province (WIB without
one) with the zone named ("2026-12-08T09:00:00+07:00 WIB"), months as "2026-10".

Workers appear only by a pseudonym (`db/export.pseudonym`), their pulse answers only as
`db/export` lets them out (its docstring: no sheet ties one to a worker). `score-bot export`
writes in its own process; `/export` (services/export_bot.py) builds the workbook in a
process of its own (`build_off_loop`), so the bot's event loop, and the interpreter lock, are
free for replies while a large export runs. This module is all that process imports: not
the bot's (python-telegram-bot alone is 25 MB of memory).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from chat.i18n import N_, _, load_catalogs, use_locale
from db import export as source_db
from db.export import Period, Source
from db.session import Sessions, create_engine, create_sessionmaker
from domain.provinces import WIB, WIT, WITA, by_code
from domain.questionnaire import load
from rendering.table_file import Cell, Format, TableWriter
from services.surveys.kpi_text import RATE_NAMES

SHEETS = {
    "users": N_("Users"),
    "enterprises": N_("Enterprises"),
    "interests": N_("Module interests"),
    "links": N_("Worker links"),
    "kpi_answers": N_("KPI answers"),
    "pulse_answers": N_("Pulse answers"),
    "kpi_reports": N_("KPI reports"),
    "pulse_responses": N_("Pulse responses"),
    "kpi_rates": N_("KPI rates"),
    "pulse_released": N_("Pulse totals released"),
    "workshops": N_("Workshops"),
    "rsvps": N_("Workshop RSVPs"),
    "attendance": N_("Workshop attendance"),
    "visits": N_("Visits"),
    "broadcasts": N_("Broadcasts"),
    "deliveries": N_("Broadcast deliveries"),
    "tips": N_("Tips sent"),
}

HEADERS = {
    "user": N_("Person (Telegram id, or worker pseudonym)"),
    "name": N_("Name"),
    "username": N_("Username"),
    "language": N_("Language"),
    "role": N_("Role"),
    "status": N_("Status"),
    "consent_at": N_("Consent given"),
    "created_at": N_("Created"),
    "last_seen_at": N_("Last seen"),
    "enterprise_id": N_("Enterprise id"),
    "enterprise_name": N_("Enterprise"),
    "sector": N_("Sector"),
    "sector_other": N_("Sector (other)"),
    "province": N_("Province"),
    "city": N_("City"),
    "worker_count": N_("Workers at enrolment"),
    "contact_name": N_("Contact person"),
    "phone": N_("Phone"),
    "owner": N_("Owner (Telegram id)"),
    "decided_at": N_("Decided"),
    "reject_reason": N_("Reason for rejection"),
    "module": N_("Module"),
    "member_role": N_("As"),
    "since": N_("Since"),
    "left_at": N_("Left"),
    "response_id": N_("Response id"),
    "period": N_("Month"),
    "kind": N_("Kind"),
    "entered_as": N_("Entered by"),
    "question": N_("Question"),
    "number": N_("Number"),
    "percent": N_("Given as %"),
    "not_recorded": N_("Not recorded"),
    "raw": N_("As typed"),
    "answered_at": N_("Answered"),
    "respondent_ref": N_("Respondent (anonymous)"),
    "choice": N_("Choice"),
    "prefer_not": N_("Prefer not to answer"),
    "finished_at": N_("Finished"),
    "units_rejected_is_percent": N_("Rejects given as %"),
    "baseline_response_id": N_("Baseline response id"),
    "baseline_period": N_("Baseline month"),
    "released_at": N_("Released"),
    "released_responses": N_("Answers (noisy)"),
    "released_count": N_("Count (noisy)"),
    "workshop_id": N_("Workshop id"),
    "venue": N_("Venue"),
    "starts_at": N_("Starts"),
    "days": N_("Days"),
    "cancelled_at": N_("Cancelled"),
    "invited": N_("Invited"),
    "attending": N_("Attending"),
    "declined": N_("Declined"),
    "not_answered": N_("Not answered"),
    "people_named": N_("People named"),
    "people_recorded": N_("Attendance recorded"),
    "people_attended": N_("Attended"),
    "women_attended": N_("Women attended"),
    "men_attended": N_("Men attended"),
    "managers_attended": N_("Managers attended"),
    "workers_attended": N_("Workers attended"),
    "enterprises_attended": N_("Enterprises attended"),
    "invite_id": N_("Invitation id"),
    "workshop_status": N_("Workshop status"),
    "invited_at": N_("Invited on"),
    "answer": N_("Answer"),
    "participant_id": N_("Participant id"),
    "sex": N_("Sex"),
    "attended": N_("Came"),
    "recorded_at": N_("Recorded"),
    "visit_id": N_("Visit id"),
    "trainer": N_("Trainer (Telegram id)"),
    "trainer_name": N_("Trainer"),
    "reported_at": N_("Reported"),
    "report_done": N_("What was done"),
    "report_next_steps": N_("Next steps"),
    "eit_met": N_("Improvement team met"),
    "cancel_reason": N_("Reason for cancelling"),
    "broadcast_id": N_("Broadcast id"),
    "created_by": N_("Created by (Telegram id)"),
    "send_at": N_("Send at"),
    "urgent": N_("Urgent"),
    "recipient_count": N_("Recipients"),
    "text_id": N_("Text (Indonesian)"),
    "text_en": N_("Text (English)"),
    "sent": N_("Sent"),
    "failed": N_("Failed"),
    "skipped": N_("Skipped"),
    "expired": N_("Expired"),
    "waiting": N_("Waiting"),
    "state": N_("State"),
    "attempts": N_("Attempts"),
    "queued_at": N_("Queued"),
    "sent_at": N_("Sent at"),
    "last_error": N_("Error"),
    "tip_id": N_("Tip id"),
    "tip_key": N_("Tip key"),
    "audience": N_("For"),
    "via": N_("How"),
    "week": N_("Week"),
    "useful": N_("Useful"),
    "feedback_at": N_("Feedback given"),
}

_MONTHS = {"period", "baseline_period"}
_BOOLEANS = {"percent", "not_recorded", "prefer_not", "units_rejected_is_percent", "urgent",
             "attended", "eit_met", "useful"}
_NUMBERS = {"number", *source_db.KPI_QUESTIONS, *source_db.RATES,
            *(f"baseline_{rate}" for rate in source_db.RATES)}
# Indonesia keeps no summer time: a fixed offset per zone converts a million times faster
# than a ZoneInfo lookup each time, and names the zone as people do.
_ZONES: dict[str, tuple[tzinfo, str]] = {
    WIB: (timezone(timedelta(hours=7)), "WIB"),
    WITA: (timezone(timedelta(hours=8)), "WITA"),
    WIT: (timezone(timedelta(hours=9)), "WIT"),
}


@dataclass(frozen=True)
class Request:
    """What to export: the format, where to, the days (local, WIB; inclusive), the headers'
    language and when it was asked for (the clock's now: which rounds are closed)."""

    fmt: Format
    out: Path
    lang: str
    now: datetime
    since: date | None = None
    until: date | None = None


@dataclass
class Summary:
    """What was written: rows per sheet, the files, their size in bytes."""

    rows: dict[str, int] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)
    size: int = 0


def period_of(since: date | None, until: date | None) -> Period:
    """The range as the queries take it: from `since` 00.00 WIB to the end of `until` in
    WIB; survey months that have a day in it."""
    zone = ZoneInfo(WIB)
    period = Period()
    if since is not None:
        period = Period(since=datetime.combine(since, time(0), zone).astimezone(UTC),
                        until=period.until, since_month=since.replace(day=1),
                        until_month=period.until_month)
    if until is not None:
        period = Period(since=period.since, since_month=period.since_month,
                        until=datetime.combine(until + timedelta(days=1), time(0),
                                               zone).astimezone(UTC),
                        until_month=until)
    return period


def _moment(value: Any, zone: tuple[tzinfo, str]) -> str | None:
    if value is None:
        return None
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is None:  # SQLite keeps UTC without saying so
        moment = moment.replace(tzinfo=UTC)
    return f"{moment.astimezone(zone[0]).isoformat(timespec='seconds')} {zone[1]}"


def _month(value: Any) -> str | None:
    if value is None:
        return None
    return str(value)[:7]


def _boolean(value: Any) -> bool | None:
    return None if value is None else bool(value)


def _number(value: Any) -> Cell:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value  # type: ignore[no-any-return]


def _headers(source: Source, lang: str) -> list[str]:
    kpi, pulse = load("kpi"), load("pulse")
    columns = list(source.columns)
    if source.key == "pulse_released":
        columns = [*columns[:-1], "question", "choice", "released_count"]
    headers = []
    for column in columns:
        if source.key == "kpi_rates" and column in RATE_NAMES:
            headers.append(_(RATE_NAMES[column]))
        elif column.startswith("baseline_") and column[9:] in RATE_NAMES:
            headers.append(_("Baseline: {rate}").format(rate=_(RATE_NAMES[column[9:]])))
        elif column in kpi.by_key and source.key == "kpi_reports":
            headers.append(kpi.by_key[column].label[lang])
        elif column in pulse.by_key and source.key == "pulse_responses":
            headers.append(pulse.by_key[column].label[lang])
        else:
            headers.append(_(HEADERS[column]))
    return headers


class _Rows:
    """Turns a source's database rows into cells: people pseudonymised, times local."""

    def __init__(self, source: Source, workers: frozenset[int], key: bytes) -> None:
        columns = source.columns
        self.source = source
        self.workers, self.key = workers, key
        self.people = [columns.index(p) for p in source.people]
        self.hidden = [columns.index(h) for h in source.hidden]
        self.zone = columns.index("province") if "province" in columns else None
        self.moments = [i for i, c in enumerate(columns) if c.endswith("_at") or c in (
            "since", "starts_at")]
        self.converters: list[tuple[int, Callable[[Any], Cell]]] = [
            (i, _month) for i, c in enumerate(columns) if c in _MONTHS]
        self.converters += [(i, _boolean) for i, c in enumerate(columns) if c in _BOOLEANS]
        self.converters += [(i, _number) for i, c in enumerate(columns) if c in _NUMBERS]

    def __call__(self, batch: Iterable[Sequence[Any]]) -> list[list[Cell]]:
        done = []
        for raw in batch:
            row = list(raw)
            zone = _ZONES[WIB]
            if self.zone is not None and (province := by_code(row[self.zone])) is not None:
                zone = _ZONES[province.timezone]
            for index in self.moments:
                row[index] = _moment(row[index], zone)
            for index, convert in self.converters:
                row[index] = convert(row[index])
            for number, index in enumerate(self.people):
                person = row[index]
                if person is not None and person in self.workers:
                    row[index] = source_db.pseudonym(self.key, person)
                    if number == 0:
                        for hidden in self.hidden:
                            row[hidden] = None
            if self.source.key == "pulse_released":
                done += _released(row)
            else:
                done.append(row)
        return done


def _released(row: list[Any]) -> list[list[Cell]]:
    """A release's JSON counts as a row per question and choice."""
    counts = row[-1]
    if isinstance(counts, str):
        counts = json.loads(counts)
    return [[*row[:-1], question, choice, count]
            for question, choices in sorted(counts.items())
            for choice, count in sorted(choices.items())]


async def write(sessions: Sessions, request: Request) -> Summary:
    """Every sheet, streamed from the database into the file(s) of `request.out`."""
    period = period_of(request.since, request.until)
    workers = await source_db.worker_ids(sessions)
    key = await source_db.pseudonym_key(sessions)
    summary = Summary()
    with use_locale(request.lang), TableWriter(request.out, request.fmt) as out:
        out.table(_("About this export"), [_("What"), _("Value")], (28, 80))
        out.rows(_about(request))
        for source in source_db.SOURCES:
            out.table(_(SHEETS[source.key]), _headers(source, request.lang))
            convert = _Rows(source, workers, key)
            count = 0
            async for batch in source_db.rows(sessions, source, period, now=request.now):
                cells = convert(batch)
                out.rows(cells)
                count += len(cells)
            summary.rows[source.key] = count
        summary.files = list(out.files)
    summary.size = sum(path.stat().st_size for path in summary.files)
    return summary


def _about(request: Request) -> list[list[Cell]]:
    made = _moment(request.now, _ZONES[WIB])
    return [
        [_("Made"), made],
        [_("From"), request.since.isoformat() if request.since else _("the beginning")],
        [_("Until"), request.until.isoformat() if request.until else _("today")],
        [_("Dates"), _("Survey months with a day in the range; workshops and visits by "
                       "their start; broadcasts by their send time; tips by when they were "
                       "sent; users, enterprises, interests and links: all of them.")],
        [_("Times"), _("ISO 8601 in the local time of the row's province, the zone named "
                       "(WIB where there is no province).")],
        [_("Workers"), _("Workers appear only by a pseudonym (W-...), never by their "
                         "Telegram id or name.")],
        [_("Pulse survey"), _("Single answers only of closed rounds answered in at least "
                              "five enterprises, without enterprise or time, by an "
                              "anonymous id per response; per enterprise only the noisy "
                              "totals owners see.")],
    ]


def write_in_process(database_url: str, request: Request) -> Summary:
    """The export in a process of its own: its own engine and event loop, the catalogs
    loaded for the headers."""
    load_catalogs()

    async def run() -> Summary:
        engine = create_engine(database_url)
        try:
            return await write(create_sessionmaker(engine), request)
        finally:
            await engine.dispose()

    return asyncio.run(run())


# Added to the bot's: the export takes the CPU the bot leaves (Linux gives a process at 19
# about 1/70 of one at 0 when both want it), and the disk as the lowest of the best-effort
# class (`ionice`, where installed).
NICENESS = 19


async def build_off_loop(database_url: str, request: Request) -> Summary:
    """`write_in_process` in a new Python process (`python -m services.export`), awaited
    without blocking the event loop. A process of its own rather than multiprocessing's:
    that would import the parent's main module again (the whole bot, `score-bot run`);
    this one imports this module only. The database URL goes in on stdin, never in the
    process's arguments, which any local user can read."""
    order = json.dumps({
        "database_url": database_url, "fmt": request.fmt, "out": str(request.out),
        "lang": request.lang, "now": request.now.isoformat(),
        "since": request.since.isoformat() if request.since else None,
        "until": request.until.isoformat() if request.until else None})
    # Where this process finds the code (a checkout run in place, the tests), the child does.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(path for path in sys.path if path)}
    ionice = shutil.which("ionice")
    command = [*((ionice, "-c", "2", "-n", "7") if ionice else ()), sys.executable, "-m",
               "services.export"]
    child = await asyncio.create_subprocess_exec(
        *command, stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env)
    said, errors = await child.communicate(order.encode())
    if child.returncode != 0:
        raise RuntimeError(f"the export process failed ({child.returncode}): "
                           f"{errors.decode(errors='replace')[-2000:]}")
    done = json.loads(said.decode().strip().splitlines()[-1])
    return Summary(rows=done["rows"], files=[Path(f) for f in done["files"]],
                   size=done["size"])


def _child() -> int:
    """`python -m services.export`: the export `build_off_loop` asked for on stdin; what was
    written, as JSON, on stdout. At a lower priority than the bot: on a busy machine the
    bot's replies come first, the export takes what is left."""
    os.nice(NICENESS)
    order = json.loads(sys.stdin.read())
    summary = write_in_process(order["database_url"], Request(
        fmt=order["fmt"], out=Path(order["out"]), lang=order["lang"],
        now=datetime.fromisoformat(order["now"]),
        since=date.fromisoformat(order["since"]) if order["since"] else None,
        until=date.fromisoformat(order["until"]) if order["until"] else None))
    print(json.dumps({"rows": summary.rows, "files": [str(f) for f in summary.files],
                      "size": summary.size}))
    return 0


if __name__ == "__main__":
    sys.exit(_child())
