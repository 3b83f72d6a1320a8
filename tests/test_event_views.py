"""The workshop and visit views (migration 0016, docs/data.md) on SQLite and PostgreSQL: a
workshop with its RSVP and attendance counts, each invitation's answer, each person named
(without the name), each visit with its report. Rows are written directly, as the workshop
and visit flows leave them."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, text

from db.migrate import alembic_config
from db.models import (
    Enterprise,
    EnterpriseStatus,
    EventStatus,
    Rsvp,
    User,
    Visit,
    Workshop,
    WorkshopInvite,
    WorkshopParticipant,
)
from db.session import Sessions, create_engine, create_sessionmaker
from tests.conftest import POSTGRES_URL

NOW = datetime(2026, 12, 8, 3, 0, tzinfo=UTC)
VIEWS = ("workshop_overview", "workshop_rsvps", "workshop_attendance", "visit_overview")
TRAINER = 3001


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[Sessions]:
    engine = create_engine(database_url)
    yield create_sessionmaker(engine)
    await engine.dispose()


async def _rows(sessions: Sessions, sql: str) -> list[dict[str, Any]]:
    async with sessions() as session:
        return [dict(row) for row in (await session.execute(text(sql))).mappings()]


def _moment(value: Any) -> datetime:
    """A view's time: PostgreSQL gives an aware datetime, SQLite the stored UTC text."""
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)


async def _world(sessions: Sessions) -> dict[str, int]:
    """Two workshops (one cancelled), three enterprises invited (attending with four people,
    declining, not answering), and three visits (done with a report, scheduled, cancelled)."""
    async with sessions() as session, session.begin():
        session.add(User(id=TRAINER, name="Budi", language="id", created_at=NOW,
                         last_seen_at=NOW))

        def enterprise(name: str, province: str) -> Enterprise:
            row = Enterprise(name=name, name_key=name.lower(), sector="auto_parts",
                             province=province, city="Kota", city_key=name.lower(),
                             worker_count=100, contact_name="X", phone="+6281234567890",
                             status=EnterpriseStatus.APPROVED, created_at=NOW, updated_at=NOW)
            session.add(row)
            return row

        maju, sinar, karya = (enterprise("PT Maju", "JB"), enterprise("PT Sinar", "JB"),
                              enterprise("CV Karya", "JT"))
        held = Workshop(module=1, province="JB", city="Bandung", venue="Hotel Savoy",
                        starts_at=NOW - timedelta(days=7), days=2, status=EventStatus.SCHEDULED,
                        created_by=9001, created_at=NOW, updated_at=NOW)
        dropped = Workshop(module=2, province="JT", city="Semarang", venue="Aula",
                           starts_at=NOW + timedelta(days=20), days=1,
                           status=EventStatus.CANCELLED, created_by=9001, created_at=NOW,
                           updated_at=NOW, cancelled_at=NOW)
        session.add_all([held, dropped])
        await session.flush()
        went = WorkshopInvite(workshop_id=held.id, enterprise_id=maju.id, invited_at=NOW,
                              answer=Rsvp.ATTEND, answered_by=1001, answered_at=NOW)
        session.add_all([
            went,
            WorkshopInvite(workshop_id=held.id, enterprise_id=sinar.id, invited_at=NOW,
                           answer=Rsvp.DECLINE, answered_by=1002, answered_at=NOW),
            WorkshopInvite(workshop_id=held.id, enterprise_id=karya.id, invited_at=NOW),
            WorkshopInvite(workshop_id=dropped.id, enterprise_id=karya.id, invited_at=NOW)])
        await session.flush()
        for name, sex, kind, attended in (("Ani", "f", "worker", True),
                                          ("Joko", "m", "manager", True),
                                          ("Sri", "f", "manager", True),
                                          ("Rudi", "m", "worker", False)):
            session.add(WorkshopParticipant(invite_id=went.id, name=name, sex=sex, kind=kind,
                                            attended=attended, recorded_by=9001,
                                            recorded_at=NOW))

        def visit(status: EventStatus, days: int, **fields: Any) -> Visit:
            row = Visit(enterprise_id=maju.id, trainer_id=TRAINER, module=1,
                        starts_at=NOW + timedelta(days=days), status=status, created_by=9001,
                        created_at=NOW, updated_at=NOW, **fields)
            session.add(row)
            return row

        done = visit(EventStatus.DONE, -3, report_done="5S in the warehouse",
                     report_next_steps="EIT meets every Monday", eit_met=True,
                     reported_by=TRAINER, reported_at=NOW - timedelta(days=2))
        coming = visit(EventStatus.SCHEDULED, 5)
        called_off = visit(EventStatus.CANCELLED, 1, cancel_reason="Flood",
                           cancelled_at=NOW)
        await session.flush()
        return {"held": held.id, "dropped": dropped.id, "maju": maju.id, "sinar": sinar.id,
                "karya": karya.id, "done": done.id, "coming": coming.id,
                "called_off": called_off.id}


async def test_workshop_overview_counts_answers_and_attendance(sessions: Sessions) -> None:
    ids = await _world(sessions)
    rows = {r["workshop_id"]: r for r in await _rows(sessions, "SELECT * FROM workshop_overview")}
    assert set(rows) == {ids["held"], ids["dropped"]}
    held = rows[ids["held"]]
    assert (held["module"], held["province"], held["city"], held["venue"], held["days"],
            held["status"]) == (1, "JB", "Bandung", "Hotel Savoy", 2, "scheduled")
    assert _moment(held["starts_at"]) == NOW - timedelta(days=7)
    counts = {key: held[key] for key in (
        "invited", "attending", "declined", "not_answered", "people_named", "people_recorded",
        "people_attended", "women_attended", "men_attended", "managers_attended",
        "workers_attended", "enterprises_attended")}
    assert counts == {"invited": 3, "attending": 1, "declined": 1, "not_answered": 1,
                      "people_named": 4, "people_recorded": 4, "people_attended": 3,
                      "women_attended": 2, "men_attended": 1, "managers_attended": 2,
                      "workers_attended": 1, "enterprises_attended": 1}
    dropped = rows[ids["dropped"]]
    assert dropped["status"] == "cancelled" and dropped["cancelled_at"] is not None
    assert (dropped["invited"], dropped["not_answered"], dropped["people_attended"]) == (1, 1, 0)


async def test_workshop_rsvps_have_one_row_per_invitation(sessions: Sessions) -> None:
    ids = await _world(sessions)
    rows = await _rows(sessions, "SELECT * FROM workshop_rsvps ORDER BY invite_id")
    found = {(r["workshop_id"], r["enterprise_id"]): r for r in rows}
    assert len(rows) == 4
    went = found[ids["held"], ids["maju"]]
    assert (went["answer"], went["people_named"], went["people_recorded"],
            went["people_attended"], went["enterprise_name"], went["province"],
            went["workshop_status"], went["module"]) == (
        "attend", 4, 4, 3, "PT Maju", "JB", "scheduled", 1)
    assert went["answered_at"] is not None
    declined = found[ids["held"], ids["sinar"]]
    assert (declined["answer"], declined["people_named"]) == ("decline", 0)
    silent = found[ids["held"], ids["karya"]]
    assert silent["answer"] is None and silent["answered_at"] is None
    assert found[ids["dropped"], ids["karya"]]["workshop_status"] == "cancelled"


async def test_workshop_attendance_names_nobody(sessions: Sessions) -> None:
    ids = await _world(sessions)
    rows = await _rows(sessions, "SELECT * FROM workshop_attendance ORDER BY participant_id")
    assert [(r["sex"], r["kind"], r["attended"] in (True, 1)) for r in rows] == [
        ("f", "worker", True), ("m", "manager", True), ("f", "manager", True),
        ("m", "worker", False)]
    assert {(r["workshop_id"], r["enterprise_id"], r["answer"]) for r in rows} == {
        (ids["held"], ids["maju"], "attend")}
    assert "name" not in rows[0] and "recorded_by" not in rows[0]


async def test_visit_overview_has_each_visit_and_its_report(sessions: Sessions) -> None:
    ids = await _world(sessions)
    rows = {r["visit_id"]: r for r in await _rows(sessions, "SELECT * FROM visit_overview")}
    assert set(rows) == {ids["done"], ids["coming"], ids["called_off"]}
    done = rows[ids["done"]]
    assert (done["enterprise_id"], done["enterprise_name"], done["province"], done["module"],
            done["trainer_id"], done["trainer_name"], done["status"]) == (
        ids["maju"], "PT Maju", "JB", 1, TRAINER, "Budi", "done")
    assert (done["report_done"], done["report_next_steps"]) == ("5S in the warehouse",
                                                                "EIT meets every Monday")
    assert done["eit_met"] in (True, 1)
    assert _moment(done["reported_at"]) == NOW - timedelta(days=2)
    coming = rows[ids["coming"]]
    assert coming["status"] == "scheduled" and coming["reported_at"] is None
    assert coming["eit_met"] is None
    assert (rows[ids["called_off"]]["status"], rows[ids["called_off"]]["cancel_reason"]) == (
        "cancelled", "Flood")


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
    command.downgrade(config, "0015")
    assert asyncio.run(views()) == set()
    command.upgrade(config, "head")
    assert asyncio.run(views()) == set(VIEWS)
