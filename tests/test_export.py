"""The export (issue 16, item 3): /export through the Application sends a workbook built in
a process of its own; `score-bot export` writes a workbook or CSV files. The files are opened
and checked against the database: every sheet, both languages, the date filters, and that no
worker can be found in them (no Telegram id, no name, no pulse answer tied to one)."""

from __future__ import annotations

import asyncio
import csv
import io
import secrets
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from bot.cli import main as cli_main
from db.models import (
    Broadcast,
    BroadcastStatus,
    EventStatus,
    PulseRelease,
    ResponseKind,
    ResponseStatus,
    Rsvp,
    SurveyAnswer,
    SurveyResponse,
    SurveyRound,
    Tip,
    TipFeedback,
    TipSend,
    User,
    Visit,
    Workshop,
    WorkshopInvite,
    WorkshopParticipant,
)
from db.queries import outbox as outbox_db
from db.queries.outbox import Content
from domain.roles import Role
from services import export_bot
from tests import factories
from tests.conftest import STAFF_ID
from tests.harness import BotHarness

NOW = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)  # the survey_bot fixture's clock
OWNERS = [2001, 2002, 2003, 2004, 2005]
WORKERS = [3001, 3002, 3003, 3004, 3005, 3006]  # 3006: a second worker of the first
TRAINER = 4001
PULSE = {"supervisor_listens": "often", "feel_safe": "safe", "ppe_available": "always",
         "made_suggestion": "no", "saw_incident": "no"}


async def _round(bot: BotHarness, survey: str, period: date, closes_at: datetime) -> int:
    async with bot.sessionmaker() as session, session.begin():
        row = SurveyRound(survey=survey, period=period, opens_on=period, reminder_on=period,
                          closes_on=closes_at.date(), closes_at=closes_at, version=0,
                          queued_at=NOW, created_at=NOW)
        session.add(row)
        await session.flush()
        return row.id


async def _pulse(bot: BotHarness, enterprise_id: int, period: date, *,
                 respondent: int | None = None) -> None:
    """A worker's final pulse response: unlinked (a random ref) as a closed round leaves it,
    or still linked to `respondent` while its round is open."""
    async with bot.sessionmaker() as session, session.begin():
        response = SurveyResponse(
            survey="pulse", period=period, kind=ResponseKind.MONTHLY,
            status=ResponseStatus.FINAL, enterprise_id=enterprise_id,
            respondent_id=respondent,
            respondent_ref=None if respondent else secrets.token_hex(8),
            entered_as="worker", started_at=NOW, updated_at=NOW, finished_at=NOW)
        session.add(response)
        await session.flush()
        for question, choice in PULSE.items():
            session.add(SurveyAnswer(response_id=response.id, question=question, raw=choice,
                                     choice=choice, answered_at=NOW))


async def _kpi(bot: BotHarness, enterprise_id: int, owner: int, period: date) -> int:
    async with bot.sessionmaker() as session, session.begin():
        response = SurveyResponse(
            survey="kpi", period=period, kind=ResponseKind.MONTHLY,
            status=ResponseStatus.FINAL, enterprise_id=enterprise_id, respondent_id=owner,
            entered_as="owner", started_at=NOW, updated_at=NOW, finished_at=NOW)
        session.add(response)
        await session.flush()
        for question, number in (("headcount", 120), ("women", 45), ("workdays", 22),
                                 ("days_absent", 30), ("units_produced", 15000),
                                 ("units_rejected", 300)):
            session.add(SurveyAnswer(response_id=response.id, question=question,
                                     raw=str(number), number=Decimal(number),
                                     answered_at=NOW))
        return response.id


async def _world(bot: BotHarness, *, staff_language: str = "en") -> dict[str, Any]:
    """Five enterprises with a worker each (and a second at the first), whose workers
    answered November's closed pulse round; October's round had only one enterprise; KPI
    reports of October and November; a workshop in November and one in January; a visit with
    its report; a broadcast to the workers; a tip a worker found useful."""
    await factories.staff(bot, STAFF_ID, language=staff_language)
    await factories.user(bot, TRAINER, name="Budi Pelatih", role=Role.TRAINER)
    enterprises = []
    for number, owner in enumerate(OWNERS):
        enterprises.append(await factories.enterprise(
            bot, owner=owner, name=f"PT Logam {number}", province="BA" if number else "JB"))
    for worker, enterprise in zip(WORKERS, enterprises, strict=False):
        await factories.worker(bot, worker, enterprise, name=f"Wulan {worker}",
                               username=f"wulan{worker}")
    await factories.worker(bot, WORKERS[5], enterprises[0], name="Wulan Kedua")
    november, october = date(2026, 11, 1), date(2026, 10, 1)
    await _round(bot, "pulse", november, NOW - timedelta(hours=1))
    await _round(bot, "pulse", october, NOW - timedelta(days=30))
    for enterprise in enterprises:
        await _pulse(bot, enterprise.id, november)
    await _pulse(bot, enterprises[0].id, october)
    await _kpi(bot, enterprises[0].id, OWNERS[0], october)
    await _kpi(bot, enterprises[0].id, OWNERS[0], november)
    async with bot.sessionmaker() as session, session.begin():
        round_id = await session.scalar(select(SurveyRound.id).where(
            SurveyRound.survey == "pulse", SurveyRound.period == november))
        session.add(PulseRelease(round_id=round_id, enterprise_id=enterprises[0].id,
                                 responses=6, exact_responses=2, members=2,
                                 counts={"feel_safe": {"safe": 5, "unsafe": 1}},
                                 epsilon=3.5, released_at=NOW))
        for starts in (datetime(2026, 11, 20, 2, tzinfo=UTC),
                       datetime(2027, 1, 20, 2, tzinfo=UTC)):
            workshop = Workshop(module=1, province="JB", city="Bekasi", venue="Gedung A",
                                starts_at=starts, days=1, status=EventStatus.SCHEDULED,
                                version=0, created_by=STAFF_ID, created_at=NOW,
                                updated_at=NOW)
            session.add(workshop)
            await session.flush()
            invite = WorkshopInvite(workshop_id=workshop.id, enterprise_id=enterprises[0].id,
                                    invited_at=NOW, answer=Rsvp.ATTEND,
                                    answered_by=OWNERS[0], answered_at=NOW)
            session.add(invite)
            await session.flush()
            session.add(WorkshopParticipant(invite_id=invite.id, name="Siti Rahayu", sex="f",
                                            kind="worker", attended=True))
        session.add(Visit(enterprise_id=enterprises[1].id, trainer_id=TRAINER, module=1,
                          starts_at=datetime(2026, 11, 25, 1, tzinfo=UTC),
                          status=EventStatus.DONE, version=0, created_by=STAFF_ID,
                          created_at=NOW, updated_at=NOW, report_done="5S di gudang",
                          report_next_steps="Tim EIT rapat", eit_met=True,
                          reported_by=TRAINER, reported_at=NOW))
        broadcast = Broadcast(created_by=STAFF_ID, text_id="Halo", text_en="Hello",
                              audience={}, status=BroadcastStatus.QUEUED,
                              send_at=datetime(2026, 11, 30, 1, tzinfo=UTC), recipient_count=2,
                              created_at=NOW, queued_at=NOW)
        session.add(broadcast)
        await session.flush()
        await outbox_db.enqueue(
            session, group=outbox_db.broadcast_group(broadcast.id), key="b",
            recipients=[(WORKERS[0], "id"), (OWNERS[0], "id")],
            contents={"id": Content("Halo", None, (), None)}, fallback="id", now=NOW,
            at=NOW + timedelta(days=30))
    async with bot.sessionmaker() as session, session.begin():
        tip_id = await session.scalar(select(func.min(Tip.id)))
        session.add(TipSend(user_id=WORKERS[0], tip_id=tip_id, via="asked",
                            sent_at=datetime(2026, 11, 28, 12, tzinfo=UTC)))
        session.add(TipFeedback(user_id=WORKERS[0], tip_id=tip_id, useful=True,
                                answered_at=datetime(2026, 11, 28, 13, tzinfo=UTC)))
    return {"enterprises": enterprises}


def _sheets(data: bytes) -> dict[str, list[tuple[Any, ...]]]:
    book = load_workbook(io.BytesIO(data), read_only=True)
    sheets = {sheet.title: list(sheet.iter_rows(values_only=True)) for sheet in book}
    book.close()
    return sheets


def _cells(sheets: dict[str, list[tuple[Any, ...]]]) -> Iterator[str]:
    for rows in sheets.values():
        for row in rows:
            for value in row:
                if value is not None:
                    yield str(value)


def _no_worker_in(sheets: dict[str, list[tuple[Any, ...]]]) -> None:
    """No worker's Telegram id, name or username anywhere, not even inside another value."""
    for cell in _cells(sheets):
        for worker in WORKERS:
            assert str(worker) not in cell, (worker, cell)
        assert "Wulan" not in cell and "wulan" not in cell, cell
        assert "Siti Rahayu" not in cell, cell  # a workshop participant's name


async def _export(bot: BotHarness, text: str = "/export") -> bytes:
    await bot.text(STAFF_ID, text)
    message = await bot.sandbox.wait_until(
        lambda: next((m for m in bot.sandbox.messages(STAFF_ID) if m.document), None),
        timeout=120)
    assert message.document is not None
    return message.document


async def test_staff_export_is_a_workbook_of_everything(survey_bot: BotHarness) -> None:
    bot = survey_bot
    await _world(bot)
    data = await _export(bot)
    assert "Making the export" in bot.replies(STAFF_ID)[0]
    sheets = _sheets(data)
    assert list(sheets) == [
        "About this export", "Users", "Enterprises", "Module interests", "Worker links",
        "KPI answers", "Pulse answers", "KPI reports", "Pulse responses", "KPI rates",
        "Pulse totals released", "Workshops", "Workshop RSVPs", "Workshop attendance",
        "Visits", "Broadcasts", "Broadcast deliveries", "Tips sent"]
    message = next(m for m in bot.sandbox.messages(STAFF_ID) if m.document)
    assert (message.document_name or "").startswith("score-export-2026-12-02")
    assert "sheets" in (message.text or "")

    # Users: everyone, workers by a pseudonym only, the same one in every sheet.
    users = sheets["Users"]
    assert users[0][:3] == ("Person (Telegram id, or worker pseudonym)", "Name", "Username")
    async with bot.sessionmaker() as session:
        count = await session.scalar(select(func.count()).select_from(User))
    assert len(users) - 1 == count
    pseudonyms = {row[0] for row in users[1:] if str(row[0]).startswith("W-")}
    assert len(pseudonyms) == len(WORKERS)
    assert all(row[1] is None for row in users[1:] if row[0] in pseudonyms)
    assert {row[0] for row in users[1:]} >= {STAFF_ID, TRAINER, *OWNERS}
    links = sheets["Worker links"]
    assert {row[3] for row in links[1:] if row[4] == "worker"} == pseudonyms
    _no_worker_in(sheets)

    # Times: ISO, local, the zone named (the Bali enterprise's in WITA).
    enterprises = {row[1]: row for row in sheets["Enterprises"][1:]}
    assert enterprises["PT Logam 0"][11] == "2026-12-02T10:00:00+07:00 WIB"
    assert enterprises["PT Logam 1"][11] == "2026-12-02T11:00:00+08:00 WITA"

    # Survey answers: the KPI reports whole; the pulse only of November (five enterprises,
    # closed), by an anonymous id, without enterprise or time.
    kpi_answers = sheets["KPI answers"]
    assert len(kpi_answers) - 1 == 12
    assert {row[4] for row in kpi_answers[1:]} == {"2026-10", "2026-11"}
    pulse = sheets["Pulse answers"]
    assert pulse[0] == ("Respondent (anonymous)", "Month", "Question", "Choice",
                        "Prefer not to answer")
    assert len(pulse) - 1 == 5 * len(PULSE)
    assert {row[1] for row in pulse[1:]} == {"2026-11"}
    async with bot.sessionmaker() as session:
        refs = set((await session.scalars(select(SurveyResponse.respondent_ref).where(
            SurveyResponse.period == date(2026, 11, 1),
            SurveyResponse.survey == "pulse"))).all())
    assert {row[0] for row in pulse[1:]} == refs
    wide = sheets["Pulse responses"]
    assert len(wide) - 1 == 5 and len(wide[0]) == 2 + 6
    assert wide[1][2:7] == ("often", "safe", "always", "no", None)
    reports = sheets["KPI reports"]
    assert len(reports) - 1 == 2 and reports[1][8] == 120
    rates = sheets["KPI rates"]
    assert len(rates) - 1 == 2
    defect = rates[0].index("Defect rate (%)")
    assert rates[1][defect] == 2  # 300 of 15,000
    released = sheets["Pulse totals released"]
    assert [row[6:] for row in released[1:]] == [("feel_safe", "safe", 5),
                                                 ("feel_safe", "unsafe", 1)]

    # Workshops, visits, broadcasts, tips.
    assert len(sheets["Workshops"]) - 1 == 2
    assert len(sheets["Workshop attendance"]) - 1 == 2
    visit = sheets["Visits"][1]
    assert visit[5] == TRAINER and "5S di gudang" in visit
    deliveries = sheets["Broadcast deliveries"]
    assert {row[1] for row in deliveries[1:]} == {OWNERS[0], *(
        p for p in pseudonyms if p in {row[1] for row in deliveries[1:]})}
    assert len(deliveries) - 1 == 2
    tips = sheets["Tips sent"]
    assert len(tips) - 1 == 1 and tips[1][4] in pseudonyms and tips[1][8] is True


async def test_headers_in_indonesian_for_an_indonesian_staff_member(
        survey_bot: BotHarness) -> None:
    bot = survey_bot
    await _world(bot, staff_language="id")
    sheets = _sheets(await _export(bot))
    assert "Pengguna" in sheets and "Jawaban survei pekerja" in sheets
    assert sheets["Pengguna"][0][1] == "Nama"
    _no_worker_in(sheets)


async def test_export_is_for_staff_only(survey_bot: BotHarness) -> None:
    bot = survey_bot
    await _world(bot)
    await bot.text(OWNERS[0], "/export")
    assert "Making the export" not in " ".join(bot.replies(OWNERS[0]))
    await bot.text(WORKERS[0], "/export")
    assert all(m.document is None for m in bot.sandbox.messages(OWNERS[0]))
    assert all(m.document is None for m in bot.sandbox.messages(WORKERS[0]))
    assert not export_bot._RUNNING


async def test_dates_narrow_the_export_and_are_checked(survey_bot: BotHarness) -> None:
    bot = survey_bot
    await _world(bot)
    await bot.text(STAFF_ID, "/export 2026-12-31 2026-11-01")
    assert "comes after the last one" in bot.replies(STAFF_ID)[-1]
    await bot.text(STAFF_ID, "/export kemarin")
    assert "2026-10-01" in bot.replies(STAFF_ID)[-1]
    sheets = _sheets(await _export(bot, "/export 2026-11-01 2026-11-30"))
    assert {row[4] for row in sheets["KPI answers"][1:]} == {"2026-11"}
    assert len(sheets["Workshops"]) - 1 == 1  # January's is outside
    assert len(sheets["Broadcasts"]) - 1 == 1 and len(sheets["Tips sent"]) - 1 == 1
    about = dict(row[:2] for row in sheets["About this export"][1:])
    assert (about["From"], about["Until"]) == ("2026-11-01", "2026-11-30")


async def test_a_file_above_telegrams_limit_is_not_sent(
        survey_bot: BotHarness, monkeypatch: pytest.MonkeyPatch) -> None:
    bot = survey_bot
    await factories.staff(bot, STAFF_ID, language="en")
    monkeypatch.setattr(export_bot, "DOCUMENT_LIMIT", 100)
    await bot.text(STAFF_ID, "/export")
    told = await bot.sandbox.wait_until(
        lambda: next((t for t in bot.sandbox.texts(STAFF_ID) if "50 MB" in t), None),
        timeout=120)
    assert "score-bot export" in told
    assert all(m.document is None for m in bot.sandbox.messages(STAFF_ID))


async def _cli(*argv: str) -> int:
    """`score-bot ...` as the shell runs it: in a thread, since it runs its own event loop."""
    return await asyncio.to_thread(cli_main, list(argv))


async def test_command_line_writes_csv_files_and_a_workbook(
        survey_bot: BotHarness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    bot = survey_bot
    await _world(bot)
    monkeypatch.setenv("DATABASE_URL", bot.settings.database_url)
    folder = tmp_path / "csv"
    assert await _cli("export", "--format", "csv", "--out", str(folder), "--lang", "en",
                      "--since", "2026-11-01", "--now", "2026-12-02T10:00+07:00") == 0
    said = capsys.readouterr().out
    assert f"database: {bot.settings.database_url}" in said and "kpi_answers: 6 rows" in said
    with (folder / "Pulse answers.csv").open(encoding="utf-8-sig") as file:
        rows = list(csv.reader(file))
    assert rows[0][0] == "Respondent (anonymous)" and len(rows) - 1 == 5 * len(PULSE)
    with (folder / "Users.csv").open(encoding="utf-8-sig") as file:
        text = file.read()
    for worker in WORKERS:
        assert str(worker) not in text
    assert str(OWNERS[0]) in text
    book = tmp_path / "all.xlsx"
    assert await _cli("export", "--out", str(book), "--now", "2026-12-02T10:00+07:00") == 0
    sheets = _sheets(book.read_bytes())
    assert "Pengguna" in sheets  # --lang defaults to Indonesian
    _no_worker_in(sheets)
    assert await _cli("export", "--out", str(book), "--since", "2026-12-01",
                      "--until", "2026-11-01") == 2


async def test_an_open_round_and_a_month_of_few_enterprises_stay_out(
        survey_bot: BotHarness) -> None:
    """The five-answer rule as the export keeps it: a month whose pulse answers come from
    fewer than five enterprises (October: one) and a round still open (December, whose
    responses still name their worker) give no single answers at all."""
    bot = survey_bot
    found = await _world(bot)
    await _round(bot, "pulse", date(2026, 12, 1), NOW + timedelta(days=5))
    for worker, enterprise in zip(WORKERS, found["enterprises"], strict=False):
        await _pulse(bot, enterprise.id, date(2026, 12, 1), respondent=worker)
    sheets = _sheets(await _export(bot))
    assert {row[1] for row in sheets["Pulse answers"][1:]} == {"2026-11"}
    assert {row[1] for row in sheets["Pulse responses"][1:]} == {"2026-11"}
    _no_worker_in(sheets)
    # Nothing in the pulse sheets names an enterprise.
    names = {f"PT Logam {n}" for n in range(5)}
    for sheet in ("Pulse answers", "Pulse responses"):
        assert not names & set(_cells({sheet: sheets[sheet]}))
