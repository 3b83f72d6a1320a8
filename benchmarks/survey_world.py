"""The survey benchmarks' world, written in bulk SQL (not through the bot): approved
enterprises with an owner and linked, consenting workers; a pulse round open now; an owner's
twelve months of KPI reports and a baseline.

Ids are given, not generated, so the benchmarks can address people and enterprises without
reading them back; on PostgreSQL the enterprise sequence is moved past them afterwards.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import insert, text

from benchmarks.common import STAFF_ID, utcnow
from db.models import (
    Enterprise,
    EnterpriseStatus,
    MemberRole,
    Membership,
    ResponseKind,
    ResponseStatus,
    SurveyAnswer,
    SurveyResponse,
    User,
    UserStatus,
)
from db.queries import surveys as survey_queries
from db.session import Sessions
from domain.provinces import PROVINCES
from domain.roles import Role

CHUNK = 5000


@dataclass(frozen=True)
class World:
    """Who was written: enterprise ids, and per enterprise its owner and its workers."""

    enterprise_ids: list[int]
    owners: dict[int, int]
    workers: dict[int, list[int]]

    @property
    def all_workers(self) -> list[int]:
        return [w for ids in self.workers.values() for w in ids]


async def _insert(sessions: Sessions, model: type, rows: list[dict]) -> None:
    for start in range(0, len(rows), CHUNK):
        async with sessions() as session, session.begin():
            await session.execute(insert(model), rows[start:start + CHUNK])


async def seed_enterprises(sessions: Sessions, *, enterprises: int, workers_each: int,
                           first_enterprise: int, first_user: int,
                           english_every: int = 3) -> World:
    """`enterprises` approved enterprises, spread over all provinces (so all three time
    zones), each with an owner and `workers_each` workers who joined it, agreed and did not
    block the bot; every `english_every`-th person reads English (0: nobody)."""
    now = utcnow()
    users: list[dict] = []
    firms: list[dict] = []
    members: list[dict] = []
    owners: dict[int, int] = {}
    workers: dict[int, list[int]] = {}
    next_user = first_user
    for n in range(enterprises):
        enterprise_id = first_enterprise + n
        province = PROVINCES[enterprise_id % len(PROVINCES)].code
        owner = next_user
        next_user += 1
        staff = list(range(next_user, next_user + workers_each))
        next_user += workers_each
        owners[enterprise_id], workers[enterprise_id] = owner, staff
        for user_id, role in [(owner, Role.OWNER), *((w, Role.WORKER) for w in staff)]:
            english = english_every and user_id % english_every == 0
            users.append(dict(id=user_id, name=f"Sari {user_id}",
                              language="en" if english else "id", role=role,
                              consent_at=now, status=UserStatus.ACTIVE, created_at=now,
                              last_seen_at=now))
        firms.append(dict(
            id=enterprise_id, name=f"PT Bench {enterprise_id}",
            name_key=f"pt bench {enterprise_id}", sector="auto_parts", province=province,
            city=f"Kota {enterprise_id}", city_key=f"kota {enterprise_id}",
            worker_count=workers_each, contact_name=f"Sari {owner}", phone="+6281234567890",
            join_code=f"BN{enterprise_id:06d}", status=EnterpriseStatus.APPROVED,
            owner_id=owner, decided_by=STAFF_ID, decided_at=now, created_at=now, updated_at=now))
        members.append(dict(user_id=owner, enterprise_id=enterprise_id, role=MemberRole.OWNER,
                            since=now))
        members.extend(dict(user_id=w, enterprise_id=enterprise_id, role=MemberRole.WORKER,
                            since=now) for w in staff)
    await _insert(sessions, User, users)
    await _insert(sessions, Enterprise, firms)
    await _insert(sessions, Membership, members)
    async with sessions() as session, session.begin():
        if session.get_bind().dialect.name == "postgresql":
            await session.execute(text(
                "SELECT setval(pg_get_serial_sequence('enterprises', 'id'), "
                "(SELECT max(id) FROM enterprises))"))
    return World(list(owners), owners, workers)


async def open_pulse_round_now(sessions: Sessions, now: datetime) -> int:
    """A pulse round about last month, open from yesterday for ten days: the running bot
    (on the real clock) takes answers to it. Its invitations are queued by the caller."""
    today = now.date()
    period = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    plan = survey_queries.RoundPlan(survey="pulse", period=period, opens_on=today - timedelta(1),
                                reminder_on=today + timedelta(days=3),
                                closes_on=today + timedelta(days=10),
                                closes_at=now + timedelta(days=10))
    async with sessions() as session, session.begin():
        round_ = await survey_queries.ensure_round(session, plan, now=now)
        return round_.id


async def seed_final_pulses(sessions: Sessions, world: World, period: date, count: int) -> int:
    """`count` workers (the first of each enterprise in turn) who already finished the pulse
    of `period`: as after a round was moved, or at the reminder. Answers are not needed."""
    now = utcnow()
    by_enterprise = list(world.workers.items())
    rows: list[dict] = []
    depth = 0
    while len(rows) < count and depth < max((len(w) for _e, w in by_enterprise), default=0):
        for enterprise_id, workers in by_enterprise:
            if depth < len(workers) and len(rows) < count:
                rows.append(dict(survey="pulse", period=period, kind=ResponseKind.MONTHLY,
                                 status=ResponseStatus.FINAL, enterprise_id=enterprise_id,
                                 respondent_id=workers[depth], entered_as="worker",
                                 started_at=now, updated_at=now, finished_at=now))
        depth += 1
    await _insert(sessions, SurveyResponse, rows)
    return len(rows)


# A month's KPI report as an owner types it (domain/questionnaires/kpi.toml's keys); the
# numbers drift a little from month to month so the chart has lines to draw.
KPI_BASE = {
    "headcount": 120, "women": 45, "workdays": 22, "days_absent": 30, "hours_worked": 21000,
    "left_resigned": 2, "left_contract_ended": 1, "left_dismissed": 0,
    "units_produced": 15000, "units_rejected": 300, "customer_claims": 1,
    "lost_time_accidents": 1, "accident_days_lost": 3, "fatal_accidents": 0,
    "suggestions_implemented": 4, "electricity_kwh": 12500,
}


def _months_before(last: date, count: int) -> list[date]:
    months = [last]
    while len(months) < count:
        previous = months[-1] - timedelta(days=1)
        months.append(previous.replace(day=1))
    return sorted(months)


async def seed_kpi_history(sessions: Sessions, *, enterprise_id: int, owner: int,
                           last_period: date, months: int = 12, seed: int = 7) -> list[date]:
    """A baseline and `months` final monthly KPI reports up to `last_period`, answer rows
    as the survey flow stores them."""
    rng = random.Random(seed)
    now = utcnow()
    periods = _months_before(last_period, months)
    baseline_period = (periods[0] - timedelta(days=1)).replace(day=1)
    responses = [(baseline_period, ResponseKind.BASELINE)] + [
        (p, ResponseKind.MONTHLY) for p in periods]
    async with sessions() as session, session.begin():
        for period, kind in responses:
            response = SurveyResponse(
                survey="kpi", period=period, kind=kind, status=ResponseStatus.FINAL,
                enterprise_id=enterprise_id, respondent_id=owner, entered_as="owner",
                started_at=now, updated_at=now, finished_at=now)
            session.add(response)
            await session.flush()
            answers = []
            for key, base in KPI_BASE.items():
                value = Decimal(max(0, round(base * rng.uniform(0.7, 1.3)))) \
                    if base else Decimal(0)
                if key in ("workdays",):
                    value = Decimal(base)
                answers.append(dict(response_id=response.id, question=key, raw=str(value),
                                    number=value, percent=False, choice=None, skipped=False,
                                    answered_at=now))
            await session.execute(insert(SurveyAnswer), answers)
    return periods
