"""The survey views (migration 0007, docs/data.md) on SQLite and PostgreSQL: one row per final
response with a column per question, the KPI rates as domain/kpi.py computes them beside the
baseline, and the pulse totals under the five-worker rule. Responses are written through
db/surveys.py, as the survey flow writes them."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, select, text

from db import surveys as surveys_db
from db.migrate import alembic_config
from db.models import MemberRole, Membership, ResponseKind, SurveyRound
from db.queries import enterprises as enterprises_db
from db.queries import surveys as survey_queries
from db.queries import users as users_db
from db.session import Sessions, create_engine, create_sessionmaker
from domain.kpi import RATE_KEYS, inputs_from, rates
from domain.questionnaire import Answer, load
from services.surveys.rounds import plan
from tests.clocks import CLOCK_START as NOW
from tests.conftest import POSTGRES_URL

D = Decimal
OCT, NOV, SEP = date(2026, 10, 1), date(2026, 11, 1), date(2026, 9, 1)
# Inside each round: the October round runs 2 to 20 November, the November one from 1 December.
IN_ROUND = {SEP: datetime(2026, 10, 5, 3, tzinfo=UTC), OCT: datetime(2026, 11, 5, 3, tzinfo=UTC),
            NOV: datetime(2026, 12, 2, 3, tzinfo=UTC)}
VIEWS = ("kpi_responses", "pulse_responses", "kpi_rates", "pulse_aggregates")


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[Sessions]:
    engine = create_engine(database_url)
    yield create_sessionmaker(engine)
    await engine.dispose()


# --- writing responses as the survey flow does ----------------------------------------------
async def _enterprise(sessions: Sessions, owner: int, name: str) -> int:
    async with sessions() as session, session.begin():
        await users_db.touch_user(session, owner, language="id", name="Sari", username=None,
                                  now=NOW)
        fields = enterprises_db.EnterpriseFields(
            name=name, sector="auto_parts", sector_other=None, province="JB", city="Bekasi",
            worker_count=120, contact_name="Sari", phone="+6281234567890", modules=[1])
        return (await enterprises_db.create_enterprise(session, owner, fields, now=NOW)).id


async def _users(sessions: Sessions, *ids: int) -> None:
    async with sessions() as session, session.begin():
        for user_id in ids:
            await users_db.touch_user(session, user_id, language="id", name=None, username=None,
                                      now=NOW)


async def _open_rounds(sessions: Sessions, survey: str) -> dict[date, int]:
    ids = {}
    async with sessions() as session, session.begin():
        for period, now in IN_ROUND.items():
            round_ = await survey_queries.ensure_round(session, plan(survey, period), now=NOW)
            round_.queued_at = now - timedelta(days=1)
            ids[period] = round_.id
    return ids


async def _respond(sessions: Sessions, survey: str, period: date, enterprise: int,
                   respondent: int, answers: Mapping[str, Answer], *,
                   kind: ResponseKind = ResponseKind.MONTHLY, finish: bool = True) -> int:
    now = IN_ROUND.get(period, IN_ROUND[NOV])
    if survey == "pulse":  # a worker answers while a member of the enterprise
        async with sessions() as session, session.begin():
            if await session.scalar(select(Membership.user_id).where(
                    Membership.user_id == respondent, Membership.left_at.is_(None))) is None:
                await enterprises_db.join(session, respondent, enterprise, MemberRole.WORKER,
                                          now=now)
    opened = await surveys_db.open_response(
        sessions, survey=survey, period=period, enterprise_id=enterprise,
        respondent_id=respondent, entered_as="worker" if survey == "pulse" else "owner",
        kind=kind, now=now, replace=True)
    assert opened.response_id is not None
    for key, answer in answers.items():
        assert await surveys_db.record_answer(sessions, opened.response_id, key, answer,
                                              raw=None, now=now) is None
    if finish:
        assert (await surveys_db.finish_response(sessions, opened.response_id, keep=answers,
                                                 now=now)).done
    return opened.response_id


def n(value: str | int, *, percent: bool = False) -> Answer:
    return Answer(number=D(value), percent=percent)


SKIP = Answer(skipped=True)

MONTH = {
    "headcount": n(120), "women": n(54), "workdays": n(25), "days_absent": n(90),
    "hours_worked": n(26_400), "left_resigned": n(3), "left_contract_ended": n(2),
    "left_dismissed": n(1), "units_produced": n(20_000), "units_rejected": n(201),
    "customer_claims": n(2), "lost_time_accidents": n(1), "accident_days_lost": n(12),
    "fatal_accidents": n(0), "suggestions_implemented": n(9), "electricity_kwh": n("15.5"),
}


# --- reading the views -----------------------------------------------------------------------
async def _rows(sessions: Sessions, sql: str) -> list[dict[str, Any]]:
    async with sessions() as session:
        return [dict(row) for row in (await session.execute(text(sql))).mappings()]


def _number(value: Any) -> Decimal | None:
    """A view's number as a Decimal: PostgreSQL gives NUMERIC, SQLite a REAL or INTEGER."""
    return None if value is None else D(str(value))


def _same(view: Any, expected: Decimal | None) -> bool:
    """PostgreSQL computes in NUMERIC, as domain/kpi.py does in Decimal: equal. SQLite
    computes in doubles: equal within a float's precision."""
    got = _number(view)
    if got is None or expected is None:
        return got is expected
    if POSTGRES_URL:
        return got == expected
    return abs(got - expected) <= D("1e-12") * max(D(1), abs(expected))


def _day(value: Any) -> str:
    return str(value)[:10]


async def test_kpi_responses_have_a_column_per_question_and_only_final_responses(
        sessions: Sessions) -> None:
    await _open_rounds(sessions, "kpi")
    maju = await _enterprise(sessions, 1001, "PT Maju Jaya")
    percent = {**MONTH, "units_rejected": n("2.5", percent=True), "left_dismissed": SKIP,
               "electricity_kwh": SKIP}
    october = await _respond(sessions, "kpi", OCT, maju, 1001, percent)
    replaced = await _respond(sessions, "kpi", NOV, maju, 1001, MONTH)
    november = await _respond(sessions, "kpi", NOV, maju, 1001,
                              {**MONTH, "headcount": n(121)})
    await _respond(sessions, "kpi", SEP, maju, 1001, MONTH, finish=False)  # still open
    baseline = await _respond(sessions, "kpi", date(2026, 6, 1), maju, 1001, MONTH,
                              kind=ResponseKind.BASELINE)

    rows = {r["response_id"]: r for r in await _rows(sessions, "SELECT * FROM kpi_responses")}
    assert set(rows) == {october, november, baseline}  # not the replaced one, not the open one
    assert replaced not in rows
    oct_row = rows[october]
    assert (oct_row["enterprise_id"], oct_row["enterprise_name"], oct_row["province"]) == (
        maju, "PT Maju Jaya", "JB")
    assert _day(oct_row["period"]) == "2026-10-01"
    assert (oct_row["kind"], oct_row["entered_as"]) == ("monthly", "owner")
    assert oct_row["finished_at"] is not None
    for key, answer in percent.items():
        assert _number(oct_row[key]) == (None if answer.skipped else answer.number), key
    assert oct_row["units_rejected_is_percent"] in (True, 1)
    assert rows[november]["units_rejected_is_percent"] in (False, 0)
    assert _number(rows[november]["headcount"]) == 121
    assert rows[baseline]["kind"] == "baseline"


async def test_kpi_rates_are_the_domain_rates_beside_the_latest_baseline(
        sessions: Sessions) -> None:
    await _open_rounds(sessions, "kpi")
    maju = await _enterprise(sessions, 1001, "PT Maju Jaya")
    karya = await _enterprise(sessions, 1002, "CV Karya")
    months = {
        # 201 rejects of 20,000 is 1.005 %: half up gives 1.01; 15.5 kWh for 20,000 units
        # is 0.000775 kWh per unit: two significant digits give 0.00078.
        OCT: {**MONTH, "units_rejected": n("2.5", percent=True)},
        # Nothing lost to accidents (the days are not asked), one leaver reason not recorded,
        # no production recorded.
        NOV: {**MONTH, "lost_time_accidents": n(0), "left_dismissed": SKIP,
              "units_produced": SKIP, "units_rejected": SKIP},
    }
    del months[NOV]["accident_days_lost"]
    for period, answers in months.items():
        await _respond(sessions, "kpi", period, maju, 1001, answers)
    await _respond(sessions, "kpi", NOV, maju, 1001, {**MONTH, "headcount": n(1)},
                   finish=False)
    old_base = {**MONTH, "days_absent": n(300)}
    base = {**MONTH, "days_absent": n(150), "units_rejected": n(600), "hours_worked": n(0)}
    await _respond(sessions, "kpi", date(2026, 5, 1), maju, 1001, old_base,
                   kind=ResponseKind.BASELINE)
    await _respond(sessions, "kpi", date(2026, 6, 1), maju, 1001, base,
                   kind=ResponseKind.BASELINE)
    await _respond(sessions, "kpi", NOV, karya, 1002, MONTH)

    rows = await _rows(sessions, "SELECT * FROM kpi_rates ORDER BY enterprise_id, period")
    assert [(r["enterprise_id"], _day(r["period"])) for r in rows] == [
        (maju, "2026-10-01"), (maju, "2026-11-01"), (karya, "2026-11-01")]
    expected_base = rates(inputs_from(base))
    for row, answers in zip(rows, [months[OCT], months[NOV], MONTH], strict=True):
        expected = rates(inputs_from(answers))
        for key in RATE_KEYS:
            assert _same(row[key], expected[key]), (key, row[key], expected[key])
        if row["enterprise_id"] == maju:
            assert _day(row["baseline_period"]) == "2026-06-01"
            for key in RATE_KEYS:
                assert _same(row[f"baseline_{key}"], expected_base[key]), key
        else:
            assert row["baseline_period"] is None and row["baseline_response_id"] is None
            assert all(row[f"baseline_{key}"] is None for key in RATE_KEYS)
    october, november = rows[0], rows[1]
    assert _same(october["defect_rate"], D("2.50"))  # the percentage as given
    assert _same(november["severity"], D("0.00"))
    assert november["turnover"] is None and november["defect_rate"] is None
    assert rows[2]["defect_rate"] is not None and _same(rows[2]["defect_rate"], D("1.01"))
    assert _same(rows[2]["kwh_per_unit"], D("0.00078"))
    assert rows[0]["baseline_ltifr"] is None  # no hours worked at baseline: no rate


async def test_pulse_responses_hold_each_final_answer(sessions: Sessions) -> None:
    await _open_rounds(sessions, "pulse")
    maju = await _enterprise(sessions, 1001, "PT Maju Jaya")
    await _users(sessions, 2001, 2002)
    answers = {"supervisor_listens": Answer(choice="often"), "feel_safe": SKIP,
               "made_suggestion": Answer(choice="yes"),
               "suggestion_followed": Answer(choice="not_yet")}
    replaced = await _respond(sessions, "pulse", NOV, maju, 2001, answers)
    final = await _respond(sessions, "pulse", NOV, maju, 2001,
                           {**answers, "made_suggestion": Answer(choice="no")})
    await _respond(sessions, "pulse", NOV, maju, 2002, answers, finish=False)

    rows = await _rows(sessions, "SELECT * FROM pulse_responses")
    assert [r["response_id"] for r in rows] == [final] and replaced != final
    row = rows[0]
    assert (row["enterprise_id"], row["province"], _day(row["period"])) == (maju, "JB",
                                                                            "2026-11-01")
    assert row["supervisor_listens"] == "often"
    assert row["feel_safe"] is None  # prefer not to answer
    assert row["made_suggestion"] == "no"
    assert row["suggestion_followed"] == "not_yet"  # kept as recorded
    assert row["ppe_available"] is None and row["saw_incident"] is None
    assert "respondent_id" not in row  # rows name no worker


async def test_pulse_aggregates_apply_the_five_worker_rule(
        sessions: Sessions) -> None:
    round_ids = await _open_rounds(sessions, "pulse")
    async with sessions() as session, session.begin():
        # Open whatever the real date: the view treats a round past its close as closed.
        round_ = await session.get(SurveyRound, round_ids[NOV])
        assert round_ is not None
        round_.closes_at = datetime(2100, 1, 1, tzinfo=UTC)
    maju = await _enterprise(sessions, 1001, "PT Maju Jaya")
    karya = await _enterprise(sessions, 1002, "CV Karya")
    workers = list(range(2001, 2007))
    await _users(sessions, *workers, 3001, 3002, 3003, 3004)
    listens = ["often", "often", "always", "never", "often"]
    for i, worker in enumerate(workers[:5]):
        await _respond(sessions, "pulse", NOV, maju, worker, {
            "supervisor_listens": Answer(choice=listens[i]),  # five answers
            # Five, one of whom prefers not to answer: four answers.
            "feel_safe": SKIP if i == 0 else Answer(choice="safe"),
            "made_suggestion": Answer(choice="yes" if i < 3 else "no"),
            # Asked only after a yes: three answers.
            **({"suggestion_followed": Answer(choice="implemented")} if i < 3 else {}),
        })
    # Worker 2001 answers again, replacing the first response: now "never", and nothing
    # about suggestions (four answers to made_suggestion). An unfinished response counts
    # for nothing.
    await _respond(sessions, "pulse", NOV, maju, 2001,
                   {"supervisor_listens": Answer(choice="never"), "feel_safe": SKIP,
                    "saw_incident": SKIP})
    await _respond(sessions, "pulse", NOV, maju, 2006,
                   {"feel_safe": Answer(choice="unsafe"), "made_suggestion": Answer(choice="no")},
                   finish=False)
    # Four workers elsewhere, all answering: nothing from that enterprise.
    for worker in (3001, 3002, 3003, 3004):
        await _respond(sessions, "pulse", NOV, karya, worker,
                       {"supervisor_listens": Answer(choice="often")})

    query = "SELECT * FROM pulse_aggregates ORDER BY question, choice"
    assert await _rows(sessions, query) == []  # the round is still open
    await surveys_db.close_round(sessions, round_ids[NOV], now=IN_ROUND[NOV])

    rows = await _rows(sessions, query)
    assert {(r["enterprise_id"], _day(r["period"]), r["province"]) for r in rows} == {
        (maju, "2026-11-01", "JB")}
    found = {(r["question"], r["choice"]): (r["answers"], r["answered"]) for r in rows}
    assert found == {
        ("supervisor_listens", "always"): (1, 5),
        ("supervisor_listens", "never"): (2, 5),
        ("supervisor_listens", "often"): (2, 5),
    }


async def test_a_fifth_answer_shows_the_totals(sessions: Sessions) -> None:
    round_ids = await _open_rounds(sessions, "pulse")
    maju = await _enterprise(sessions, 1001, "PT Maju Jaya")
    await _users(sessions, *range(2001, 2006))
    for worker in range(2001, 2006):
        await _respond(sessions, "pulse", OCT, maju, worker,
                       {"feel_safe": Answer(choice="unsafe" if worker == 2001 else "safe")})
    await surveys_db.close_round(sessions, round_ids[OCT], now=IN_ROUND[OCT])
    rows = await _rows(sessions, "SELECT question, choice, answers, answered "
                                 "FROM pulse_aggregates ORDER BY choice")
    assert [tuple(r.values()) for r in rows] == [("feel_safe", "safe", 4, 5),
                                                ("feel_safe", "unsafe", 1, 5)]


@pytest.mark.parametrize("view, survey", [("kpi_responses", "kpi"),
                                          ("pulse_responses", "pulse")])
async def test_every_question_has_a_column(sessions: Sessions, view: str,
                                           survey: str) -> None:
    """A question added to a definition needs a migration that creates the views again with
    its column (see migration 0007's docstring)."""
    async with sessions() as session:
        columns = set((await session.execute(text(f"SELECT * FROM {view} WHERE 1 = 0"))).keys())
    missing = [q.key for q in load(survey).questions if q.key not in columns]
    assert not missing, f"{view} has no column for {missing}: add a migration"


async def test_every_rate_has_a_column_and_a_baseline_column(
        sessions: Sessions) -> None:
    async with sessions() as session:
        columns = set((await session.execute(text("SELECT * FROM kpi_rates WHERE 1 = 0"))).keys())
    for key in RATE_KEYS:
        assert {key, f"baseline_{key}"} <= columns, key


def test_the_views_go_and_come_back_with_the_migration(migrated_template: str,
                                                       tmp_path: Path) -> None:
    from alembic import command

    if POSTGRES_URL:
        url = migrated_template
    else:
        path = tmp_path / "views.db"
        shutil.copy(migrated_template, path)
        url = f"sqlite+aiosqlite:///{path}"

    async def views() -> set[str]:
        engine = create_engine(url)
        async with engine.connect() as connection:
            names = await connection.run_sync(lambda c: inspect(c).get_view_names())
        await engine.dispose()
        return set(names) & set(VIEWS)

    config = alembic_config(url)
    command.downgrade(config, "0006")
    assert asyncio.run(views()) == set()
    command.upgrade(config, "head")
    assert asyncio.run(views()) == set(VIEWS)
