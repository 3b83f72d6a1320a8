"""What the export reads (docs/decisions/0012-export.md): one SQL query per sheet, on the
documented views where they exist (docs/data.md), streamed in batches so that a million
survey answers never sit in memory at once.

Rows come out as the database gives them (SQLite: times as text, booleans as 1/0;
PostgreSQL: datetimes and booleans); `services/export.py` words and formats them. Columns that
hold a user id are named in `Source.people`: the service shows a worker there only by a
pseudonym (`pseudonym`), never by the Telegram id.

Workers' pulse answers leave the database here only so that no sheet ties one to a worker,
even for an owner with accounts of his own among his workers who gets hold of the file:
- only closed rounds (their responses are unlinked: `respondent_ref`, a random id per
  response, is the only respondent column), and only months whose final pulse responses come
  from at least `MIN_ANSWERS` enterprises, so a month is never one enterprise's answers;
- no enterprise, province, response id (ids run in the order people answered) or time, and
  rows ordered by the random id;
- per enterprise only the totals owners themselves read: the noisy release made once per
  round (`pulse_releases`, docs/decisions/0009), never exact counts.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Date, TextClause, bindparam, text

from db.secrets import get_or_create_secret
from db.session import Sessions
from db.types import UTCDateTime
from domain.anonymity import MIN_ANSWERS

BATCH = 5000
SECRET_NAME = "export_pseudonyms"


@dataclass(frozen=True)
class Period:
    """The --since/--until range, as the bounds the queries take: UTC moments for times, the
    first day of a month for survey months (a month counts when any of its days is in the
    range). The defaults: unbounded."""

    since: datetime = datetime(1900, 1, 1, tzinfo=UTC)
    until: datetime = datetime(9999, 1, 1, tzinfo=UTC)  # exclusive
    since_month: date = date(1900, 1, 1)
    until_month: date = date(9999, 1, 1)  # inclusive


@dataclass(frozen=True)
class Source:
    """One sheet's query: its column keys in the order the SELECT gives them."""

    key: str
    columns: tuple[str, ...]
    sql: str
    people: tuple[str, ...] = ()
    # Emptied in a row whose person (the first of `people`) is a worker: their name.
    hidden: tuple[str, ...] = ()
    dated: bool = True  # whether the range narrows it


def _between(column: str) -> str:
    return f"{column} >= :since AND {column} < :until"


def _months(column: str) -> str:
    return f"{column} >= :since_month AND {column} <= :until_month"


KPI_QUESTIONS = ("headcount", "women", "workdays", "days_absent", "hours_worked",
                 "left_resigned", "left_contract_ended", "left_dismissed", "units_produced",
                 "units_rejected", "customer_claims", "lost_time_accidents",
                 "accident_days_lost", "fatal_accidents", "suggestions_implemented",
                 "electricity_kwh")
PULSE_QUESTIONS = ("supervisor_listens", "feel_safe", "ppe_available", "made_suggestion",
                   "suggestion_followed", "saw_incident")
RATES = ("defect_rate", "absenteeism", "turnover", "ltifr", "severity",
         "suggestions_per_100", "kwh_per_unit", "women_share", "customer_claims",
         "fatal_accidents")

# The pulse months that may leave the database: rounds closed (the view's own test of it),
# answered by workers of at least MIN_ANSWERS enterprises.
_PULSE_MONTHS = f"""
    SELECT r.period FROM survey_responses r
    JOIN survey_rounds sr ON sr.survey = 'pulse' AND sr.period = r.period
    WHERE r.survey = 'pulse' AND r.kind = 'monthly' AND r.status = 'final'
        AND sr.closes_at <= :now
    GROUP BY r.period HAVING COUNT(DISTINCT r.enterprise_id) >= {MIN_ANSWERS}"""

SOURCES: tuple[Source, ...] = (
    Source("users", (
        "user", "name", "username", "language", "role", "status", "consent_at",
        "created_at", "last_seen_at"), """
        SELECT id, name, username, language, role, status, consent_at, created_at,
            last_seen_at
        FROM users ORDER BY created_at, id""", people=("user",), hidden=("name", "username"),
        dated=False),
    Source("enterprises", (
        "enterprise_id", "enterprise_name", "sector", "sector_other", "province", "city",
        "worker_count", "contact_name", "phone", "status", "owner", "created_at",
        "decided_at", "reject_reason"), """
        SELECT id, name, sector, sector_other, province, city, worker_count, contact_name,
            phone, status, owner_id, created_at, decided_at, reject_reason
        FROM enterprises ORDER BY id""", people=("owner",), dated=False),
    Source("interests", ("enterprise_id", "enterprise_name", "province", "module"), """
        SELECT e.id, e.name, e.province, m.module
        FROM module_interests m JOIN enterprises e ON e.id = m.enterprise_id
        ORDER BY e.id, m.module""", dated=False),
    Source("links", (
        "enterprise_id", "enterprise_name", "province", "user", "member_role", "since",
        "left_at"), """
        SELECT e.id, e.name, e.province, m.user_id, m.role, m.since, m.left_at
        FROM memberships m JOIN enterprises e ON e.id = m.enterprise_id
        ORDER BY e.id, m.since, m.id""", people=("user",), dated=False),
    Source("kpi_answers", (
        "response_id", "enterprise_id", "enterprise_name", "province", "period", "kind",
        "entered_as", "user", "question", "number", "percent", "not_recorded", "raw",
        "answered_at"), f"""
        SELECT r.id, e.id, e.name, e.province, r.period, r.kind, r.entered_as,
            r.respondent_id, a.question, a.number, a.percent, a.skipped, a.raw, a.answered_at
        FROM survey_answers a
        JOIN survey_responses r ON r.id = a.response_id
        JOIN enterprises e ON e.id = r.enterprise_id
        WHERE r.survey = 'kpi' AND r.status = 'final' AND {_months("r.period")}
        ORDER BY r.period, e.id, r.id, a.question""", people=("user",)),
    Source("pulse_answers", (
        "respondent_ref", "period", "question", "choice", "prefer_not"), f"""
        SELECT r.respondent_ref, r.period, a.question, a.choice, a.skipped
        FROM survey_answers a
        JOIN survey_responses r ON r.id = a.response_id
        WHERE r.survey = 'pulse' AND r.kind = 'monthly' AND r.status = 'final'
            AND r.respondent_ref IS NOT NULL AND r.period IN ({_PULSE_MONTHS})
            AND {_months("r.period")}
        ORDER BY r.period, r.respondent_ref, a.question"""),
    Source("kpi_reports", (
        "response_id", "enterprise_id", "enterprise_name", "province", "period", "kind",
        "entered_as", "finished_at", *KPI_QUESTIONS, "units_rejected_is_percent"), f"""
        SELECT response_id, enterprise_id, enterprise_name, province, period, kind,
            entered_as, finished_at, {", ".join(KPI_QUESTIONS)}, units_rejected_is_percent
        FROM kpi_responses WHERE {_months("period")}
        ORDER BY period, enterprise_id, response_id"""),
    Source("pulse_responses", ("respondent_ref", "period", *PULSE_QUESTIONS), f"""
        SELECT r.respondent_ref, p.period, {", ".join(f"p.{q}" for q in PULSE_QUESTIONS)}
        FROM pulse_responses p JOIN survey_responses r ON r.id = p.response_id
        WHERE r.respondent_ref IS NOT NULL AND p.period IN ({_PULSE_MONTHS})
            AND {_months("p.period")}
        ORDER BY p.period, r.respondent_ref"""),
    Source("kpi_rates", (
        "response_id", "enterprise_id", "enterprise_name", "province", "period",
        "entered_as", "finished_at", *RATES, "baseline_response_id", "baseline_period",
        *(f"baseline_{rate}" for rate in RATES)), f"""
        SELECT response_id, enterprise_id, enterprise_name, province, period, entered_as,
            finished_at, {", ".join(RATES)}, baseline_response_id, baseline_period,
            {", ".join(f"baseline_{rate}" for rate in RATES)}
        FROM kpi_rates WHERE {_months("period")}
        ORDER BY period, enterprise_id"""),
    # Expanded by the service into a row per question and choice.
    Source("pulse_released", (
        "enterprise_id", "enterprise_name", "province", "period", "released_at",
        "released_responses", "released_counts"), f"""
        SELECT e.id, e.name, e.province, sr.period, p.released_at, p.responses, p.counts
        FROM pulse_releases p
        JOIN survey_rounds sr ON sr.id = p.round_id
        JOIN enterprises e ON e.id = p.enterprise_id
        WHERE {_months("sr.period")}
        ORDER BY sr.period, e.id"""),
    Source("workshops", (
        "workshop_id", "module", "province", "city", "venue", "starts_at", "days", "status",
        "created_at", "cancelled_at", "invited", "attending", "declined", "not_answered",
        "people_named", "people_recorded", "people_attended", "women_attended",
        "men_attended", "managers_attended", "workers_attended", "enterprises_attended"), f"""
        SELECT workshop_id, module, province, city, venue, starts_at, days, status,
            created_at, cancelled_at, invited, attending, declined, not_answered,
            people_named, people_recorded, people_attended, women_attended, men_attended,
            managers_attended, workers_attended, enterprises_attended
        FROM workshop_overview WHERE {_between("starts_at")}
        ORDER BY starts_at, workshop_id"""),
    Source("rsvps", (
        "invite_id", "workshop_id", "module", "city", "starts_at", "workshop_status",
        "enterprise_id", "enterprise_name", "province", "invited_at", "answer",
        "answered_at", "people_named", "people_recorded", "people_attended"), f"""
        SELECT invite_id, workshop_id, module, city, starts_at, workshop_status,
            enterprise_id, enterprise_name, province, invited_at, answer, answered_at,
            people_named, people_recorded, people_attended
        FROM workshop_rsvps WHERE {_between("starts_at")}
        ORDER BY starts_at, workshop_id, enterprise_id"""),
    Source("attendance", (
        "participant_id", "workshop_id", "module", "city", "starts_at", "workshop_status",
        "enterprise_id", "enterprise_name", "province", "answer", "sex", "kind",
        "attended", "recorded_at"), f"""
        SELECT participant_id, workshop_id, module, city, starts_at, workshop_status,
            enterprise_id, enterprise_name, province, answer, sex, kind, attended,
            recorded_at
        FROM workshop_attendance WHERE {_between("starts_at")}
        ORDER BY starts_at, workshop_id, enterprise_id, participant_id"""),
    Source("visits", (
        "visit_id", "enterprise_id", "enterprise_name", "province", "module", "trainer",
        "trainer_name", "starts_at", "status", "created_at", "reported_at", "report_done",
        "report_next_steps", "eit_met", "cancelled_at", "cancel_reason"), f"""
        SELECT visit_id, enterprise_id, enterprise_name, province, module, trainer_id,
            trainer_name, starts_at, status, created_at, reported_at, report_done,
            report_next_steps, eit_met, cancelled_at, cancel_reason
        FROM visit_overview WHERE {_between("starts_at")}
        ORDER BY starts_at, visit_id""", people=("trainer",)),
    Source("broadcasts", (
        "broadcast_id", "created_by", "created_at", "send_at", "status", "urgent",
        "recipient_count", "text_id", "text_en", "sent", "failed", "skipped", "expired",
        "waiting"), f"""
        SELECT b.id, b.created_by, b.created_at, b.send_at, b.status, b.urgent,
            b.recipient_count, b.text_id, b.text_en,
            SUM(CASE WHEN o.state = 'sent' THEN 1 ELSE 0 END),
            SUM(CASE WHEN o.state = 'failed' THEN 1 ELSE 0 END),
            SUM(CASE WHEN o.state = 'skipped' THEN 1 ELSE 0 END),
            SUM(CASE WHEN o.state = 'expired' THEN 1 ELSE 0 END),
            SUM(CASE WHEN o.state IN ('pending', 'sending') THEN 1 ELSE 0 END)
        FROM broadcasts b
        LEFT JOIN outbox_groups g ON g.key = 'broadcast:' || CAST(b.id AS VARCHAR(20))
        LEFT JOIN outbox_contents c ON c.group_id = g.id
        LEFT JOIN outbox o ON o.content_id = c.id
        WHERE {_between("b.send_at")}
        GROUP BY b.id, b.created_by, b.created_at, b.send_at, b.status, b.urgent,
            b.recipient_count, b.text_id, b.text_en
        ORDER BY b.send_at, b.id""", people=("created_by",)),
    Source("deliveries", (
        "broadcast_id", "user", "state", "attempts", "queued_at", "sent_at", "last_error"),
        f"""
        SELECT b.id, o.recipient_id, o.state, o.attempts, o.created_at, o.sent_at,
            o.last_error
        FROM broadcasts b
        JOIN outbox_groups g ON g.key = 'broadcast:' || CAST(b.id AS VARCHAR(20))
        JOIN outbox_contents c ON c.group_id = g.id
        JOIN outbox o ON o.content_id = c.id
        WHERE {_between("b.send_at")}
        ORDER BY b.send_at, b.id, o.id""", people=("user",)),
    Source("tips", (
        "tip_id", "tip_key", "module", "audience", "user", "via", "week", "sent_at",
        "useful", "feedback_at"), f"""
        SELECT t.id, t.key, t.module, t.audience, s.user_id, s.via, s.week, s.sent_at,
            f.useful, f.answered_at
        FROM tip_sends s
        JOIN tips t ON t.id = s.tip_id
        LEFT JOIN tip_feedback f ON f.user_id = s.user_id AND f.tip_id = s.tip_id
        WHERE {_between("s.sent_at")}
        ORDER BY s.sent_at, s.id""", people=("user",)),
)

BY_KEY = {source.key: source for source in SOURCES}


_TYPES = {"since": UTCDateTime, "until": UTCDateTime, "now": UTCDateTime,
          "since_month": Date, "until_month": Date}


def _query(source: Source, values: dict[str, Any]) -> TextClause:
    """The source's SQL with the parameters it names, typed (times stored as UTC text on
    SQLite, months as dates)."""
    used = [name for name in _TYPES if re.search(rf":{name}\b", source.sql)]
    return text(source.sql).bindparams(
        *(bindparam(name, values[name], type_=_TYPES[name]()) for name in used))


async def rows(sessions: Sessions, source: Source, period: Period, *,
               now: datetime) -> AsyncIterator[Sequence[Sequence[Any]]]:
    """The sheet's rows in batches of `BATCH`, read with a server-side cursor (PostgreSQL)
    or fetched a batch at a time (SQLite): memory holds one batch, not the sheet."""
    values = {"since": period.since, "until": period.until, "now": now,
              "since_month": period.since_month, "until_month": period.until_month}
    async with sessions() as session:
        connection = await session.connection()
        result = await connection.stream(_query(source, values),
                                         execution_options={"yield_per": BATCH})
        async for batch in result.partitions(BATCH):
            yield batch


async def worker_ids(sessions: Sessions) -> frozenset[int]:
    """Everyone who is or was a worker: shown in the export only by a pseudonym."""
    async with sessions() as session:
        found = await session.execute(text(
            "SELECT id FROM users WHERE role = 'worker' "
            "UNION SELECT user_id FROM memberships WHERE role = 'worker'"))
        return frozenset(found.scalars())


async def pseudonym_key(sessions: Sessions) -> bytes:
    """The key of the workers' pseudonyms: the same in every export, so staff can follow
    one worker's links and tips across files; kept in the database, never in a file."""
    return bytes.fromhex(await get_or_create_secret(sessions, SECRET_NAME))


def pseudonym(key: bytes, user_id: int) -> str:
    """A worker's id in the export: an HMAC of the Telegram id, not reversible without the
    key (a Telegram id is guessable, a plain hash of it is not a pseudonym)."""
    return "W-" + hmac.new(key, str(user_id).encode(), hashlib.sha256).hexdigest()[:12]
