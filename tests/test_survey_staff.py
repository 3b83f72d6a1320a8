"""Staff and the survey rounds, through the real Application: /surveys (who answered, per
province and enterprise), the programme-wide KPI chart, moving a round to a typed date, and
assigning trainers to enterprises."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from bot.survey_admin import open_now
from chat.clock import FakeClock
from chat.context import services_of
from config.settings import Settings
from db.models import (
    OutboxMessage,
    OutboxState,
    ResponseKind,
    ResponseStatus,
    SurveyAnswer,
    SurveyResponse,
    SurveyRound,
    TrainerAssignment,
)
from db.queries import enterprises as enterprises_db
from db.queries import surveys as survey_queries
from domain.kpi_trend import ChartWords, TrendChart
from handlers import programme_chart
from handlers.survey_stats import split_text
from jobs.survey_rounds import run_rounds
from sandbox import BotApiSandbox
from services.surveys import charts, rounds
from tests import factories
from tests.conftest import OTHER_STAFF_ID, STAFF_ID
from tests.harness import BotHarness
from tests.survey_helpers import NOW, clock_of, open_round

NOV = date(2026, 11, 1)
OCT = date(2026, 10, 1)
D = Decimal


async def _final(bot: BotHarness, survey: str, period: date, enterprise_id: int,
                 respondent_id: int, answers: dict[str, Any] | None = None, *,
                 status: ResponseStatus = ResponseStatus.FINAL) -> None:
    """A finished response as the engine stores it. `answers`: key -> number, "skip", or
    ("3", True) for a percentage."""
    async with bot.sessionmaker() as session, session.begin():
        response = SurveyResponse(survey=survey, period=period, kind=ResponseKind.MONTHLY,
                                  status=status, enterprise_id=enterprise_id,
                                  respondent_id=respondent_id,
                                  entered_as="worker" if survey == "pulse" else "owner",
                                  started_at=NOW, updated_at=NOW, finished_at=NOW)
        session.add(response)
        await session.flush()
        for key, value in (answers or {}).items():
            row = SurveyAnswer(response_id=response.id, question=key, raw=str(value),
                               answered_at=NOW)
            if value == "skip":
                row.skipped = True
            elif isinstance(value, tuple):
                row.number, row.percent = D(value[0]), True
            else:
                row.number = D(value)
            session.add(row)


async def _round(bot: BotHarness, survey: str = "kpi", period: date = NOV) -> SurveyRound:
    async with bot.sessionmaker() as session, session.begin():
        return await survey_queries.ensure_round(session, rounds.plan(survey, period), now=NOW)


async def _get_round(bot: BotHarness, round_id: int) -> SurveyRound:
    async with bot.sessionmaker() as session:
        round_ = await session.get(SurveyRound, round_id)
    assert round_ is not None
    return round_


# --- /surveys -------------------------------------------------------------------------------
async def _programme(bot: BotHarness) -> dict[str, int]:
    """Four approved enterprises (and a pending one), their workers, and who answered the
    November rounds."""
    alpha = await factories.enterprise(bot, owner=1001, name="PT Alpha", province="JK",
                                       city="Jakarta Utara")
    beta = await factories.enterprise(bot, owner=1002, name="PT Beta")
    gamma = await factories.enterprise(bot, owner=1003, name="PT Gamma")
    epsilon = await factories.enterprise(bot, owner=1004, name="PT Epsilon", province="JT",
                                         city="Semarang")
    await factories.enterprise(bot, owner=1005, name="PT Pending", status="pending")
    for worker in (2001, 2002):
        await factories.worker(bot, worker, alpha)
    for worker in (2003, 2004, 2005, 2006):
        await factories.worker(bot, worker, beta)
    await factories.worker(bot, 2007, epsilon)
    await factories.worker(bot, 2008, epsilon, left=True)  # left: no longer asked
    # KPI: Alpha and Gamma reported; Beta's report was replaced by... nothing final.
    await _final(bot, "kpi", NOV, alpha.id, 1001)
    await _final(bot, "kpi", NOV, gamma.id, 1003)
    await _final(bot, "kpi", NOV, beta.id, 1002, status=ResponseStatus.REPLACED)
    await _final(bot, "kpi", OCT, beta.id, 1002)  # another month
    # Pulse: one of Alpha's two workers, one of Beta's four, none of Epsilon's one.
    await _final(bot, "pulse", NOV, alpha.id, 2001)
    await _final(bot, "pulse", NOV, beta.id, 2003)
    await _final(bot, "pulse", NOV, beta.id, 2004, status=ResponseStatus.REPLACED)
    return {"alpha": alpha.id, "beta": beta.id, "gamma": gamma.id, "epsilon": epsilon.id}


async def test_surveys_shows_rates_per_round_province_and_enterprise(
        survey_bot: BotHarness) -> None:
    bot = survey_bot
    await factories.staff(bot)
    await _programme(bot)
    await _round(bot, "kpi")
    await _round(bot, "pulse")
    await bot.text(STAFF_ID, "/surveys")
    kpi, pulse, more = bot.texts(STAFF_ID)[-3:]
    assert kpi.splitlines()[:4] == [
        "KPI report, November 2026 (not open yet)",
        "Opens: Tuesday, 1 December 2026",
        "Reminder: Thursday, 10 December 2026",
        "Closes: Sunday, 20 December 2026",
    ]
    assert "Answered: 2 of 4 enterprises (50%)" in kpi
    assert "By province\nJakarta: 1 of 1 (100%)\nWest Java: 1 of 2 (50%)\n" \
           "Central Java: 0 of 1 (0%)" in kpi
    assert kpi.endswith("Not answered yet (2)\nPT Beta\nPT Epsilon")
    assert "PT Pending" not in kpi
    assert "Answered: 2 of 7 workers (29%)" in pulse
    assert "Jakarta: 1 of 2 (50%)\nWest Java: 1 of 4 (25%)\nCentral Java: 0 of 1 (0%)" in pulse
    assert "By enterprise, lowest first\nPT Epsilon: 0 of 1 (0%)\nPT Beta: 1 of 4 (25%)\n" \
           "PT Alpha: 1 of 2 (50%)" in pulse
    assert "Not answered yet (1)\nPT Epsilon" in pulse
    assert "1 enterprise has no workers in the bot yet." in pulse  # Gamma
    labels = [b["text"] for row in bot.sandbox.last_message(STAFF_ID).buttons for b in row]
    # October and September never ran here: staff may open them late.
    assert labels == ["📈 KPI chart", "Earlier rounds", "📂 Open a past month"] and "More" in more
    # Each round that is not closed can be moved.
    moves = [m for m in bot.sandbox.messages(STAFF_ID)[-3:-1]
             if any(b["text"] == "📅 Move" for row in m.buttons for b in row)]
    assert len(moves) == 2

    # In Indonesian, for Indonesian-speaking staff.
    await factories.staff(bot, OTHER_STAFF_ID, language="id")
    await bot.text(OTHER_STAFF_ID, "/surveys")
    kpi_id = bot.texts(OTHER_STAFF_ID)[-3]
    assert kpi_id.startswith("Laporan KPI, November 2026 (belum dibuka)\n"
                             "Dibuka: Selasa, 1 Desember 2026")
    assert "Sudah menjawab: 2 dari 4 perusahaan (50%)" in kpi_id
    assert "Jawa Barat: 1 dari 2 (50%)" in kpi_id and "Belum menjawab (2)" in kpi_id

    # Earlier rounds: October's KPI round, once it exists.
    await _round(bot, "kpi", OCT)
    await bot.press(STAFF_ID, "Earlier rounds")
    await bot.press(STAFF_ID, "KPI report, October 2026")
    october = bot.last_text(STAFF_ID)
    assert october.startswith("KPI report, October 2026 (closed)")
    assert "Answered: 1 of 4 enterprises (25%)" in october  # Beta's October report
    assert not bot.sandbox.last_message(STAFF_ID).buttons  # closed: no Move


async def test_long_lists_are_capped(survey_bot: BotHarness) -> None:
    bot = survey_bot
    await factories.staff(bot)
    for i in range(20):
        await factories.enterprise(bot, owner=1100 + i, name=f"PT Nomor {i:02d} " + "x" * 60)
    await _round(bot, "kpi")
    await bot.text(STAFF_ID, "/surveys")
    kpi = bot.texts(STAFF_ID)[-2]
    assert "Not answered yet (20)" in kpi and kpi.endswith("… and 5 more")
    assert "PT Nomor 14" in kpi and "PT Nomor 15" not in kpi
    assert "x" * 40 not in kpi  # long names are cut
    assert len(kpi) < 4096


async def test_surveys_is_for_staff_only(survey_bot: BotHarness) -> None:
    bot = survey_bot
    await factories.enterprise(bot, owner=1001, owner_language="en")
    await _round(bot, "kpi")
    for command in ("/surveys", "/surveys chart", "/trainers"):
        await bot.text(1001, command)
        assert bot.last_text(1001).startswith("I do not know that command.")
    # A staff button signed for the owner (as if shown to them) does nothing either.
    signer = services_of(bot.app).signer  # type: ignore[arg-type]
    before = len(bot.sandbox.calls_of("sendPhoto"))
    bot.sandbox.press(1001, signer.data(1001, "sstc"))
    await bot.settle()
    assert len(bot.sandbox.calls_of("sendPhoto")) == before
    assert bot.sandbox.callback_answers(1001)[-1].get("text") == \
        "This button is no longer active."


# --- the programme chart --------------------------------------------------------------------
def _kpi(headcount: int, produced: int, rejected: Any, absent: Any,
         workdays: int = 20) -> dict[str, Any]:
    return {"headcount": headcount, "units_produced": produced, "units_rejected": rejected,
            "workdays": workdays, "days_absent": absent, "lost_time_accidents": 0,
            "hours_worked": headcount * 160}


async def test_chart_shows_the_median_rates_per_month(survey_bot: BotHarness,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    bot = survey_bot
    await factories.staff(bot)
    await factories.staff(bot, OTHER_STAFF_ID, language="id")
    ids = [(await factories.enterprise(bot, owner=1001 + i, name=f"PT {name}")).id
           for i, name in enumerate(("Alpha", "Beta", "Gamma"))]
    drawn: list[tuple[TrendChart, ChartWords]] = []
    real = charts.medians_png

    async def spy(chart: TrendChart, words: ChartWords) -> bytes:
        drawn.append((chart, words))
        return await real(chart, words)

    monkeypatch.setattr(programme_chart, "medians_png", spy)

    await bot.text(STAFF_ID, "/surveys chart")
    assert "nothing to draw" in bot.last_text(STAFF_ID) and not drawn
    # A report that records no rate (headcount alone cannot be skipped) is nothing to draw
    # either: said, rather than six empty panels.
    await _final(bot, "kpi", OCT, ids[1], 1002, {"headcount": 80, "units_produced": "skip",
                                                "units_rejected": "skip", "workdays": "skip"})
    await bot.text(STAFF_ID, "/surveys chart")
    assert bot.last_text(STAFF_ID) == ("The monthly KPI report so far records none of the "
                                       "rates, so there is nothing to draw.")
    assert not drawn

    # October: Alpha alone. November: a 2% and a 4% defect rate and a QC reject of 3%; an
    # absenteeism of 2% and 5% and one not recorded; a report replaced later counts not.
    await _final(bot, "kpi", OCT, ids[0], 1001, _kpi(100, 1000, 10, 40))
    await _final(bot, "kpi", NOV, ids[0], 1001, _kpi(100, 1000, 20, 40))
    await _final(bot, "kpi", NOV, ids[1], 1002, _kpi(80, 500, ("3", True), "skip"))
    await _final(bot, "kpi", NOV, ids[2], 1003, _kpi(50, 2000, 80, 50))
    await _final(bot, "kpi", NOV, ids[2], 1003, _kpi(50, 2000, 1000, 500),
                 status=ResponseStatus.REPLACED)

    await _round(bot, "kpi")
    await bot.text(STAFF_ID, "/surveys")
    await bot.press(STAFF_ID, "📈 KPI chart")
    chart, words = drawn[-1]
    assert chart.months == [OCT, NOV]
    assert chart.series["defect_rate"] == [D("1.00"), D("3.00")]
    assert chart.series["absenteeism"] == [D("2.00"), D("3.50")]
    assert chart.series["ltifr"] == [D("0.00"), D("0.00")]
    assert chart.series["kwh_per_unit"] == [None, None]  # nobody recorded electricity
    assert all(value is None for value in chart.baseline.values())
    assert words.title == "SCORE programme: median KPIs per month"
    assert words.series["defect_rate"] == "Defect rate (%)" and words.locale == "en"
    photo = bot.sandbox.last_message(STAFF_ID)
    assert photo.photo is not None and photo.photo.startswith(b"\x89PNG\r\n\x1a\n")
    assert "5 monthly reports" in (photo.text or "")

    await bot.text(OTHER_STAFF_ID, "/surveys chart")
    chart_id, words_id = drawn[-1]
    assert chart_id.series == chart.series
    assert words_id.title == "Program SCORE: median KPI per bulan"
    assert words_id.series["absenteeism"] == "Tingkat ketidakhadiran (%)"
    assert words_id.locale == "id"
    assert "5 laporan bulanan" in (bot.sandbox.last_message(OTHER_STAFF_ID).text or "")


# --- moving a round -------------------------------------------------------------------------
# Wednesday 25 November 2026, 09:00 in Jakarta: November's rounds are planned, not open.
BEFORE_OPENING = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)


@pytest.fixture
async def early_bot(settings: Settings, sandbox: BotApiSandbox) -> AsyncIterator[BotHarness]:
    """The Application on a virtual clock before the round opens, without its sender: the
    test reads what is queued, and when."""
    harness = BotHarness(settings, sandbox, clock=FakeClock(BEFORE_OPENING),
                         start_sender=False)
    await harness.start()
    try:
        yield harness
    finally:
        await harness.stop()


def _advance_to(bot: BotHarness, moment: datetime) -> None:
    clock = clock_of(bot)
    clock.advance((moment - clock.now()).total_seconds())


async def _invitations(bot: BotHarness, round_id: int) -> list[OutboxMessage]:
    async with bot.sessionmaker() as session:
        rows = await session.scalars(select(OutboxMessage).where(
            OutboxMessage.dedup_key.like(f"survey:{round_id}:%")).order_by(OutboxMessage.id))
        return list(rows)


async def test_staff_move_a_round_that_has_not_opened(early_bot: BotHarness) -> None:
    bot = early_bot
    await factories.staff(bot)
    await factories.enterprise(bot, owner=1001)
    round_ = await _round(bot, "kpi")
    await bot.text(STAFF_ID, "/surveys")
    await bot.press(STAFF_ID, "📅 Move")
    assert bot.last_text(STAFF_ID).startswith(
        "KPI report, November 2026 opens on Tuesday, 1 December 2026.\nWhen should it open")
    await bot.text(STAFF_ID, "24 November")
    assert bot.last_text(STAFF_ID).startswith(
        "That date has passed. Please choose today or a later date.")
    await bot.text(STAFF_ID, "1 March 2027")
    assert "more than three months ahead" in bot.last_text(STAFF_ID)
    await bot.text(STAFF_ID, "next Christmas party")
    assert "could not read that date" in bot.last_text(STAFF_ID)
    await bot.text(STAFF_ID, "8 December")
    assert bot.last_text(STAFF_ID) == (
        "Move KPI report, November 2026 to these dates?\n"
        "Opens: Tuesday, 8 December 2026\n"
        "Reminder: Thursday, 17 December 2026\n"
        "Closes: Sunday, 20 December 2026\n\n"
        "Invitations go out on Tuesday, 8 December 2026 at 09:00 local time, the reminder on "
        "Thursday, 17 December 2026 to those who have not answered.")
    assert (await _get_round(bot, round_.id)).opens_on == date(2026, 12, 1)  # not yet
    await bot.press(STAFF_ID, "✅ Yes, move it")
    assert bot.last_text(STAFF_ID).startswith("KPI report, November 2026 is moved.\n"
                                              "Opens: Tuesday, 8 December 2026")
    moved = await _get_round(bot, round_.id)
    assert (moved.opens_on, moved.reminder_on, moved.closes_on) == (
        date(2026, 12, 8), date(2026, 12, 17), date(2026, 12, 20))
    assert moved.version == 1 and moved.moved_by == STAFF_ID and moved.queued_at is None
    assert bot.open_flow(STAFF_ID) is None

    # 1 December, the day it would have opened: nothing goes out.
    svc = services_of(bot.app)  # type: ignore[arg-type]
    _advance_to(bot, datetime(2026, 12, 1, 2, 0, tzinfo=UTC))
    await run_rounds(svc)
    assert await _invitations(bot, round_.id) == []
    # 8 December: the invitation is queued for 09:00 in Jakarta, the reminder for the 17th.
    _advance_to(bot, datetime(2026, 12, 8, 0, 0, tzinfo=UTC))
    await run_rounds(svc)
    rows = await _invitations(bot, round_.id)
    assert [(r.dedup_key, r.recipient_id, r.next_attempt_at) for r in rows] == [
        (f"survey:{round_.id}:v1:invite:1001", 1001, datetime(2026, 12, 8, 2, 0, tzinfo=UTC)),
        (f"survey:{round_.id}:v1:remind:1001", 1001, datetime(2026, 12, 17, 2, 0, tzinfo=UTC)),
    ]
    # The card says so.
    await bot.text(STAFF_ID, "/surveys")
    assert "The dates were moved by staff." in bot.texts(STAFF_ID)[-3]  # then the pulse


async def test_staff_move_an_open_round_in_indonesian(survey_bot: BotHarness) -> None:
    bot = survey_bot
    await factories.staff(bot, OTHER_STAFF_ID, language="id")
    await factories.enterprise(bot, owner=1001)
    await open_now(bot.settings, "kpi", "2026-11", clock=clock_of(bot))
    await bot.delivered()
    assert "November" in bot.last_text(1001)
    async with bot.sessionmaker() as session:
        round_ = await survey_queries.get_round(session, "kpi", NOV)
    assert round_ is not None
    await bot.text(OTHER_STAFF_ID, "/surveys")
    await bot.press(OTHER_STAFF_ID, "📅 Pindahkan jadwal")
    assert "dibuka pada Selasa, 1 Desember 2026" in bot.last_text(OTHER_STAFF_ID)
    await bot.text(OTHER_STAFF_ID, "kemarin")
    assert bot.last_text(OTHER_STAFF_ID).startswith("Tanggal itu sudah lewat.")
    await bot.text(OTHER_STAFF_ID, "3 Desember")
    confirm = bot.last_text(OTHER_STAFF_ID)
    assert confirm.startswith("Pindahkan Laporan KPI, November 2026 ke jadwal ini?\n"
                              "Dibuka: Kamis, 3 Desember 2026\n"
                              "Pengingat: Senin, 14 Desember 2026\n"
                              "Ditutup: Minggu, 20 Desember 2026")
    assert "Undangan sudah terkirim" in confirm
    await bot.press(OTHER_STAFF_ID, "Tanggal lain")
    await bot.text(OTHER_STAFF_ID, "besok")  # the same Thursday
    assert "Dibuka: Kamis, 3 Desember 2026" in bot.last_text(OTHER_STAFF_ID)
    await bot.press(OTHER_STAFF_ID, "✅ Ya, pindahkan")
    assert "sudah dipindahkan" in bot.last_text(OTHER_STAFF_ID)
    moved = await _get_round(bot, round_.id)
    assert moved.opens_on == date(2026, 12, 3) and moved.queued_at is None
    # The old reminder is dropped; on the new day the owner, who has not answered, is
    # invited again.
    rows = await _invitations(bot, round_.id)
    assert {(r.dedup_key.split(":")[2], r.dedup_key.split(":")[3], r.state) for r in rows} == {
        ("v0", "invite", OutboxState.SENT), ("v0", "remind", OutboxState.SKIPPED)}
    await run_rounds(services_of(bot.app))  # type: ignore[arg-type]
    assert len(await _invitations(bot, round_.id)) == 2
    _advance_to(bot, datetime(2026, 12, 3, 2, 0, tzinfo=UTC))
    await run_rounds(services_of(bot.app))  # type: ignore[arg-type]
    await bot.delivered()
    rows = await _invitations(bot, round_.id)
    sent = [r.dedup_key.split(":")[2] for r in rows
            if r.state is OutboxState.SENT and ":invite:" in r.dedup_key]
    assert sent == ["v0", "v1"]
    invitations = [t for t in bot.texts(1001) if "Laporan KPI" in t and "November" in t]
    assert len(invitations) == 2


async def test_a_closed_round_cannot_be_moved(survey_bot: BotHarness) -> None:
    bot = survey_bot
    await factories.staff(bot)
    round_ = await _round(bot, "kpi")
    await bot.text(STAFF_ID, "/surveys")
    await rounds.close_round(services_of(bot.app), round_.id)  # type: ignore[arg-type]
    await bot.press(STAFF_ID, "📅 Move")
    assert bot.last_text(STAFF_ID) == ("This round is closed. Its dates can no longer be "
                                       "changed.")
    assert bot.open_flow(STAFF_ID) is None


# --- trainers -------------------------------------------------------------------------------
BUDI, TONO = 4001, 4002


async def _assigned(bot: BotHarness) -> set[tuple[int, int]]:
    async with bot.sessionmaker() as session:
        rows = await session.scalars(select(TrainerAssignment))
        return {(r.trainer_id, r.enterprise_id) for r in rows}


async def test_staff_assign_and_remove_a_trainer(survey_bot: BotHarness) -> None:
    bot = survey_bot
    await factories.staff(bot)
    await factories.user(bot, BUDI, name="Budi", role="trainer", language="en")
    await factories.user(bot, TONO, name="Tono", role="trainer", language="en")
    maju = await factories.enterprise(bot, owner=1001, name="PT Maju Jaya")
    await factories.enterprise(bot, owner=1002, name="PT Maju Bersama", city="Bogor")
    await factories.enterprise(bot, owner=1003, name="PT Sinar")
    await open_now(bot.settings, "kpi", "2026-11", clock=clock_of(bot))
    await bot.delivered()

    await bot.text(STAFF_ID, "/trainers")
    assert "Type part of its name" in bot.last_text(STAFF_ID)
    await bot.text(STAFF_ID, "Makmur")
    assert "No approved enterprise has “Makmur” in its name." in bot.last_text(STAFF_ID)
    await bot.text(STAFF_ID, "maju")
    await bot.press(STAFF_ID, "PT Maju Jaya (Bekasi)")
    assert bot.last_text(STAFF_ID) == ("PT Maju Jaya, Bekasi, West Java\n"
                                       "No trainer is assigned yet.")
    await bot.press(STAFF_ID, "➕ Assign a trainer")
    labels = [b["text"] for row in bot.sandbox.last_message(STAFF_ID).buttons for b in row]
    assert labels == ["Budi", "Tono", "‹ Back"]
    await bot.press(STAFF_ID, "Budi")
    assert bot.last_text(STAFF_ID).startswith("Budi is now assigned to PT Maju Jaya.")
    assert "Trainers: Budi" in bot.last_text(STAFF_ID)
    assert await _assigned(bot) == {(BUDI, maju.id)}
    await bot.delivered()
    assert "assigned you to PT Maju Jaya" in bot.last_text(BUDI)
    assert "/survey" in bot.last_text(BUDI) and "with /baseline" in bot.last_text(BUDI)
    await bot.press(STAFF_ID, "Close")
    assert bot.open_flow(STAFF_ID) is None

    # Budi now answers for PT Maju Jaya; Tono, not assigned, has nothing to answer.
    await bot.text(BUDI, "/survey")
    title, question = bot.last_text(BUDI).split("\n\n", 1)  # one message
    assert title == "PT Maju Jaya: KPI report for November"
    assert "1/16" in question
    await bot.text(BUDI, "/cancel")
    await bot.text(TONO, "/survey")
    assert bot.last_text(TONO).startswith("No enterprise is assigned to you yet.")

    # Removing him: the enterprise found at once by its full name.
    await bot.text(STAFF_ID, "/trainers PT Maju Jaya")
    await bot.press(STAFF_ID, "✖ Remove Budi")
    assert bot.last_text(STAFF_ID).startswith("Budi is no longer assigned to PT Maju Jaya.")
    assert "No trainer is assigned yet." in bot.last_text(STAFF_ID)
    assert await _assigned(bot) == set()
    await bot.text(BUDI, "/survey")
    assert bot.last_text(BUDI).startswith("No enterprise is assigned to you yet.")


async def test_no_trainers_to_assign(bot: BotHarness) -> None:
    await factories.staff(bot)
    await factories.enterprise(bot, owner=1001)
    await bot.text(STAFF_ID, "/trainers maju")
    await bot.press(STAFF_ID, "➕ Assign a trainer")
    assert "Make someone a trainer with /staff first." in bot.last_text(STAFF_ID)
    await bot.press(STAFF_ID, "‹ Back")
    assert "No trainer is assigned yet." in bot.last_text(STAFF_ID)


def test_a_long_card_is_split_between_lines() -> None:
    text = "\n".join(f"PT Nomor {i:04d}: 1 of 2 (50%)" for i in range(400))
    pieces = split_text(text)
    assert len(pieces) > 1 and all(len(piece) <= 4096 for piece in pieces)
    assert "\n".join(pieces) == text


async def test_an_assignment_and_the_trainers_notice_commit_together(
        survey_bot: BotHarness, monkeypatch: pytest.MonkeyPatch) -> None:
    """The notice is queued in the assignment's own transaction: when queueing it fails, no
    assignment is kept either, and pressing again assigns and tells the trainer once."""
    bot = survey_bot
    await factories.staff(bot)
    await factories.user(bot, BUDI, name="Budi", role="trainer", language="en")
    maju = await factories.enterprise(bot, owner=1001, name="PT Maju Jaya")
    await bot.text(STAFF_ID, "/trainers")
    await bot.text(STAFF_ID, "maju")
    await bot.press(STAFF_ID, "➕ Assign a trainer")

    async def broken(*_args: object, **_kwargs: object) -> int:
        raise RuntimeError("the database went away")

    monkeypatch.setattr("db.assignments.enqueue_outgoing", broken)
    await bot.press(STAFF_ID, "Budi")
    assert "Sorry, something went wrong" in "\n".join(bot.texts(STAFF_ID)[-2:])
    assert await _assigned(bot) == set()
    monkeypatch.undo()
    await bot.press(STAFF_ID, "Budi")
    assert await _assigned(bot) == {(BUDI, maju.id)}
    await bot.delivered()
    assert [t for t in bot.texts(BUDI) if "assigned you to PT Maju Jaya" in t] == [
        bot.last_text(BUDI)]


async def test_a_round_past_its_closing_time_cannot_be_moved_at_the_confirmation(
        survey_bot: BotHarness) -> None:
    """Staff ask to move an open round, and confirm only after its closing time: owners may
    have read its totals by then, so it is refused, although the job has not marked it
    closed yet, and its dates stay."""
    bot = survey_bot
    await factories.enterprise(bot, owner=1001)
    await open_now(bot.settings, "kpi", "2026-11", clock=clock_of(bot))
    async with bot.sessionmaker() as session:
        round_ = await survey_queries.get_round(session, "kpi", NOV)
    assert round_ is not None
    bot.sandbox.add_user(STAFF_ID, "Rina", language_code="en")
    await bot.text(STAFF_ID, "/surveys")
    await bot.press(STAFF_ID, "📅 Move")
    await bot.text(STAFF_ID, "10 December")
    assert "Yes, move it" in str(bot.sandbox.last_message(STAFF_ID).buttons)
    _advance_to(bot, round_.closes_at + timedelta(minutes=1))
    await bot.press(STAFF_ID, "✅ Yes, move it")
    assert "This round is closed" in bot.last_text(STAFF_ID)
    after = await _get_round(bot, round_.id)
    assert (after.opens_on, after.closes_at, after.version) == (
        round_.opens_on, round_.closes_at, round_.version)


async def test_the_card_shows_the_dates_a_round_really_had(survey_bot: BotHarness) -> None:
    """November's KPI report opened on the 12th, from the command line (planned for the 1st,
    its reminder on the 10th): the card says when it opened, that there is no reminder, and
    when it closed."""
    bot = survey_bot
    await factories.staff(bot)
    await factories.enterprise(bot, owner=1001)
    _advance_to(bot, datetime(2026, 12, 12, 2, 0, tzinfo=UTC))
    await open_now(bot.settings, "kpi", "2026-11", clock=clock_of(bot))
    await bot.text(STAFF_ID, "/surveys")
    kpi = next(t for t in bot.texts(STAFF_ID) if t.startswith("KPI report, November 2026"))
    assert kpi.splitlines()[:4] == [
        "KPI report, November 2026 (open)",
        "Opened: Saturday, 12 December 2026 (planned for Tuesday, 1 December 2026)",
        "Reminder: none, it opened on or after the reminder day",
        "Closes: Sunday, 20 December 2026",
    ]
    _advance_to(bot, datetime(2026, 12, 21, 2, 0, tzinfo=UTC))
    await bot.text(STAFF_ID, "/surveys")
    kpi = [t for t in bot.texts(STAFF_ID) if t.startswith("KPI report, November 2026")][-1]
    assert "(closed)\n" in kpi and "Closed: Sunday, 20 December 2026" in kpi


async def test_a_round_is_moved_only_to_a_working_day_before_the_next_round(
        survey_bot: BotHarness) -> None:
    bot = survey_bot
    await factories.staff(bot)
    await _round(bot, "kpi")
    await bot.text(STAFF_ID, "/surveys")
    await bot.press(STAFF_ID, "📅 Move")
    await bot.text(STAFF_ID, "25 December")
    assert bot.last_text(STAFF_ID).startswith(
        "Friday, 25 December 2026 is a holiday (Hari Raya Natal). Please choose a working day.")
    await bot.text(STAFF_ID, "26 December")
    assert bot.last_text(STAFF_ID).startswith("Saturday, 26 December 2026 is a weekend.")
    await bot.text(STAFF_ID, "30 December")  # it would close after 4 January
    assert bot.last_text(STAFF_ID).startswith(
        "Then it would still be open when the next month's round opens on Monday, 4 January "
        "2027.")
    assert bot.step(STAFF_ID) == "rm_date"


async def test_a_rounds_workers_are_those_it_asked_not_todays(survey_bot: BotHarness) -> None:
    """Workers who left after the round are still counted as asked; those who joined after
    its close are not (today's members would say 1 of 4)."""
    bot = survey_bot
    await factories.staff(bot)
    maju = await factories.enterprise(bot, owner=1001, name="PT Maju")
    for worker in (2001, 2002, 2003):
        await factories.worker(bot, worker, maju)
    await open_round(bot, "pulse")
    await _final(bot, "pulse", NOV, maju.id, 2001)
    clock_of(bot).advance(timedelta(days=20).total_seconds())  # past the close
    async with bot.sessionmaker() as session, session.begin():
        await enterprises_db.leave(session, 2003, now=clock_of(bot).now())
    for worker in (2004, 2005):
        await factories.worker(bot, worker, maju, joined_days_ago=0)
    await bot.text(STAFF_ID, "/surveys")
    pulse = next(t for t in bot.texts(STAFF_ID) if "November 2026" in t and "worker" in t)
    assert "Answered: 1 of 3 workers (33%)" in pulse, pulse


async def test_a_pulse_card_never_says_every_enterprise_answered_for_its_workers(
        survey_bot: BotHarness) -> None:
    """One worker of each enterprise answered, not all: the card does not read "every
    enterprise has answered", which is what the KPI card says."""
    bot = survey_bot
    await factories.staff(bot)
    maju = await factories.enterprise(bot, owner=1001)
    for worker in (2001, 2002):
        await factories.worker(bot, worker, maju)
    await _final(bot, "pulse", NOV, maju.id, 2001)
    await _final(bot, "kpi", NOV, maju.id, 1001)
    await _round(bot, "kpi")
    await _round(bot, "pulse")
    await bot.text(STAFF_ID, "/surveys")
    kpi, pulse, _more = bot.texts(STAFF_ID)[-3:]
    assert kpi.endswith("Every enterprise has answered.")
    assert "Answered: 1 of 2 workers (50%)" in pulse
    assert pulse.endswith("Every enterprise has answers from its workers.")
