"""The enterprise KPI report through the bot: opened from the invitation or /survey, every
item typed or "not recorded", the numbers checked, the rates shown back and confirmed, stored
answer by answer, resumed after a restart, replaced before the close, refused after it."""

from __future__ import annotations

import asyncio
import io
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from PIL import Image
from sqlalchemy import select

from bot.survey_admin import close_now
from chat.clock import FakeClock
from chat.context import Services, services_of
from config.settings import Settings
from db import assignments, survey_results
from db import roles as roles_db
from db import surveys as surveys_db
from db.models import Enterprise, ResponseKind, ResponseStatus, SurveyAnswer, SurveyResponse
from db.queries import enterprises as enterprises_db
from domain import kpi
from domain.kpi_trend import ChartWords, TrendChart
from handlers import kpi as kpi_handlers
from sandbox import BotApiSandbox
from services.surveys import charts
from tests import factories
from tests.harness import BotHarness
from tests.survey_helpers import ANSWERS, NOW, answer_all, clock_of, open_round

OWNER = 1001
OTHER_OWNER = 1002
TRAINER = 4001

async def report_opened(bot: BotHarness) -> None:
    """An approved enterprise's owner opens November's report from its invitation."""
    await factories.enterprise(bot, owner=OWNER)
    await open_round(bot)
    await bot.press(OWNER, "Isi laporan")


async def stored(bot: BotHarness) -> tuple[list[SurveyResponse], dict[str, SurveyAnswer]]:
    async with bot.sessionmaker() as session:
        responses = list(await session.scalars(select(SurveyResponse)
                                               .order_by(SurveyResponse.id)))
        last = responses[-1].id if responses else 0
        answers = {a.question: a for a in await session.scalars(
            select(SurveyAnswer).where(SurveyAnswer.response_id == last))}
    return responses, answers


async def test_owner_reports_the_kpis_from_the_invitation(survey_bot: BotHarness) -> None:
    bot = survey_bot
    maju = await factories.enterprise(bot, owner=OWNER)
    assert "1 invitations" in await open_round(bot)
    invitation = bot.sandbox.last_message(OWNER)
    assert "November" in (invitation.text or "")
    await bot.press(OWNER, "Isi laporan")
    first = bot.last_text(OWNER)
    assert first.startswith("1/16") and "akhir bulan November" in first
    # Headcount is the one item that cannot be skipped: no "not recorded" under it.
    assert not any("Tidak dicatat" in b["text"] for row in bot.sandbox.last_message(OWNER).buttons
                   for b in row)
    await answer_all(bot, OWNER, ANSWERS)
    summary = bot.last_text(OWNER)
    assert "Jumlah pekerja: 120" in summary
    assert "Listrik (kWh): 12.500,5" in summary
    # The rates, computed and shown back before anything is final: 300 of 15.000 rejected.
    assert "Tingkat reject (%): 2" in summary
    responses, _ = await stored(bot)
    assert responses[0].status is ResponseStatus.OPEN
    await bot.press(OWNER, "Ya, kirim laporan")
    assert "laporan sudah tersimpan" in bot.last_text(OWNER)
    responses, rows = await stored(bot)
    assert responses[0].enterprise_id == maju.id
    assert responses[0].status is ResponseStatus.FINAL
    assert responses[0].entered_as == "owner"
    assert rows["hours_worked"].number == Decimal(21000)
    assert rows["hours_worked"].raw == "21.000"
    assert rows["electricity_kwh"].number == Decimal("12500.5")
    assert len(rows) == 16


async def test_english_owner_with_items_not_recorded(survey_bot: BotHarness) -> None:
    bot = survey_bot
    await factories.enterprise(bot, owner=OWNER, owner_language="en")
    await open_round(bot)
    await bot.press(OWNER, "Fill in the report")
    assert "end of November" in bot.last_text(OWNER)
    # Numbers as the bot writes them in English: read back where they cannot be Indonesian.
    answers = dict(ANSWERS, women="-", units_rejected="2.5%", electricity_kwh="12,500.5",
                   suggestions_implemented="-", lost_time_accidents="0",
                   hours_worked="21000")
    del answers["accident_days_lost"]  # not asked after no lost-time accident
    await answer_all(bot, OWNER, answers, skip="Not recorded")
    summary = bot.last_text(OWNER)
    assert "Women: Not recorded" in summary
    assert "Defect rate (%): 2.5" in summary and "Electricity (kWh): 12,500.5" in summary
    # The rate says it as the item above it does, capital and all.
    assert "Suggestions implemented per 100 workers: Not recorded" in summary
    assert "Days lost to accidents" not in summary
    await bot.press(OWNER, "Yes, send the report")
    assert "the report is saved" in bot.last_text(OWNER)
    _, rows = await stored(bot)
    assert rows["women"].skipped and rows["women"].number is None
    assert rows["units_rejected"].number == Decimal("2.5") and rows["units_rejected"].percent
    assert rows["electricity_kwh"].number == Decimal("12500.5")
    assert "accident_days_lost" not in rows
    assert rows["hours_worked"].number == Decimal(21000)


@pytest.mark.parametrize(("key", "typed", "note"), [
    ("headcount", "NaN", "Mohon ketik bilangan bulat, misalnya 120"),
    ("headcount", "1e3", "Mohon ketik bilangan bulat"),
    ("headcount", "1_000", "Mohon ketik bilangan bulat"),
    ("headcount", "-5", "tidak boleh di bawah nol"),
    ("headcount", "0", "paling kecil 1"),
    ("headcount", "2,5", "bilangan bulat"),
    ("headcount", "12%", "bukan persen"),
    ("women", "121", "lebih dari jumlah pekerja (120)"),
    ("workdays", "32", "lebih dari 31"),
    ("days_absent", "2641", "lebih dari jumlah pekerja × hari kerja terjadwal (2.640)"),
    ("units_rejected", "15.001", "lebih dari unit diproduksi (15.000)"),
    ("units_rejected", "120%", "Persen paling tinggi 100%"),
    ("electricity_kwh", "abc",
     "Mohon ketik angka (misalnya 120 atau 2,5), atau tekan “Tidak dicatat”."),
    # Stored as shown or not at all: NUMERIC(20, 6) would keep 0 on PostgreSQL.
    ("electricity_kwh", "0,0000004", "paling banyak tiga angka di belakang koma, misalnya 2,125"),
    ("units_rejected", "0,1255%", "paling banyak tiga angka di belakang koma"),
    ("women", "belum tahu",
     "Mohon ketik bilangan bulat (misalnya 120), atau tekan “Tidak dicatat”."),
])
async def test_numbers_that_do_not_fit_are_asked_again(survey_bot: BotHarness, key: str,
                                                       typed: str, note: str) -> None:
    bot = survey_bot
    await report_opened(bot)
    for question, value in ANSWERS.items():
        if question == key:
            break
        await bot.text(OWNER, value)
    asked = bot.last_text(OWNER)
    await bot.text(OWNER, typed)
    [reply] = bot.replies(OWNER)  # one message: the note, then the same question again
    assert note in reply and reply.endswith("\n\n" + asked), reply
    _, rows = await stored(bot)
    assert key not in rows


async def test_number_forms_are_read_the_indonesian_way(survey_bot: BotHarness) -> None:
    bot = survey_bot
    await report_opened(bot)
    await bot.text(OWNER, "sekitar 120 orang")  # numbers with words, as in the enrolment
    await bot.text(OWNER, "45")
    await bot.text(OWNER, "22 hari")
    await bot.text(OWNER, "30")
    # "1,250" could be English thousands; hours are whole, so only 1250 fits: no question.
    await bot.text(OWNER, "1,250")
    assert bot.last_text(OWNER).startswith("6/16")
    for value in ("2", "1", "0", "15.000"):
        await bot.text(OWNER, value)
    await bot.text(OWNER, "2,5%")  # the reject % QC keeps
    for value in ("1", "0", "0", "4"):
        await bot.text(OWNER, value)
    # kWh may have decimals: both readings fit, so the owner is asked which was meant.
    await bot.text(OWNER, "1,250")
    assert "1.250 atau 1,25" in bot.last_text(OWNER)
    await bot.text(OWNER, "1,500")  # typed again instead: that is the answer, asked again
    assert "1.500 atau 1,5" in bot.last_text(OWNER)
    await bot.press(OWNER, "1,5")
    assert "Apakah sudah benar?" in bot.last_text(OWNER)
    _, rows = await stored(bot)
    assert rows["electricity_kwh"].number == Decimal("1.5")
    assert rows["headcount"].number == 120 and rows["headcount"].raw == "sekitar 120 orang"
    assert rows["hours_worked"].number == 1250
    assert rows["units_rejected"].number == Decimal("2.5") and rows["units_rejected"].percent


async def test_a_picture_or_a_button_of_an_earlier_question_is_not_an_answer(
        survey_bot: BotHarness) -> None:
    bot = survey_bot
    await report_opened(bot)
    await bot.text(OWNER, "120")
    asked = bot.last_text(OWNER)
    bot.sandbox.send_photo(OWNER)
    await bot.settle()
    texts = bot.sandbox.texts(OWNER)
    assert texts[-1] == "Mohon ketik angka, atau tekan “Tidak dicatat”.\n\n" + asked
    # The invitation again, in the middle: it belongs to the open survey, nothing new starts.
    await bot.press(OWNER, "Isi laporan")
    assert bot.last_text(OWNER).endswith("\n\n" + asked)
    async with bot.sessionmaker() as session:
        assert len(list(await session.scalars(select(SurveyResponse)))) == 1


async def test_stopping_halfway_continues_at_the_same_question_after_a_restart(
        survey_bot: BotHarness) -> None:
    bot = survey_bot
    await report_opened(bot)
    for value in list(ANSWERS.values())[:5]:
        await bot.text(OWNER, value)
    await bot.restart(hard=True)
    await bot.text(OWNER, "2")  # the answer to question 6, after the kill
    assert bot.last_text(OWNER).startswith("7/16")
    await bot.text(OWNER, "/cancel")
    assert "tetap tersimpan" in bot.last_text(OWNER)
    await bot.restart(hard=True)
    await bot.text(OWNER, "/survey")
    texts = bot.sandbox.texts(OWNER)
    said, question = texts[-1].split("\n\n", 1)
    assert "Kita lanjutkan" in said and question.startswith("7/16")
    for value in list(ANSWERS.values())[6:]:
        await bot.text(OWNER, value)
    await bot.press(OWNER, "Ya, kirim laporan")
    responses, rows = await stored(bot)
    assert [r.status for r in responses] == [ResponseStatus.FINAL]
    assert len(rows) == 16 and rows["left_resigned"].number == 2


async def test_an_answer_is_changed_from_the_summary(survey_bot: BotHarness) -> None:
    bot = survey_bot
    await report_opened(bot)
    await answer_all(bot, OWNER, ANSWERS)
    await bot.press(OWNER, "Ubah jawaban")
    await bot.press(OWNER, "Pekerja perempuan")
    await bot.text(OWNER, "50")
    summary = bot.last_text(OWNER)
    assert "Pekerja perempuan: 50" in summary
    await bot.press(OWNER, "Ya, kirim laporan")
    _, rows = await stored(bot)
    assert rows["women"].number == 50


async def test_answering_again_before_the_close_replaces_after_a_confirmation(
        survey_bot: BotHarness) -> None:
    bot = survey_bot
    await factories.enterprise(bot, owner=OWNER)
    admin = 3001
    await factories.user(bot, admin, role="admin")
    await open_round(bot)
    await bot.press(OWNER, "Isi laporan")
    await answer_all(bot, OWNER, ANSWERS)
    await bot.press(OWNER, "Ya, kirim laporan")
    await bot.text(OWNER, "/survey")
    assert "sudah dikirim" in bot.last_text(OWNER)
    await bot.press(OWNER, "Tampilkan jawaban")
    texts = bot.sandbox.texts(OWNER)
    assert "Jumlah pekerja: 120" in texts[-1] and "sudah dikirim" in texts[-1]
    await bot.press(OWNER, "Tidak, pakai jawaban sebelumnya")
    responses, _ = await stored(bot)
    assert [r.status for r in responses] == [ResponseStatus.FINAL]
    await bot.text(OWNER, "/survey")
    await bot.press(OWNER, "Ya, isi lagi")
    # The earlier report's figures are there: only the one to correct is typed.
    assert "Jumlah pekerja: 120" in bot.last_text(OWNER)
    await bot.press(OWNER, "Ubah jawaban")
    await bot.press(OWNER, "Jumlah pekerja")
    await bot.text(OWNER, "130")
    await bot.press(OWNER, "Ya, kirim laporan")
    responses, rows = await stored(bot)
    assert [r.status for r in responses] == [ResponseStatus.REPLACED, ResponseStatus.FINAL]
    assert rows["headcount"].number == 130


async def test_after_the_close_answering_says_so(survey_bot: BotHarness) -> None:
    bot = survey_bot
    await report_opened(bot)
    await bot.text(OWNER, "120")
    await close_now(bot.settings, "kpi", "2026-11", clock=clock_of(bot))
    await bot.text(OWNER, "45")
    assert "sudah ditutup" in bot.last_text(OWNER)
    _, rows = await stored(bot)
    assert set(rows) == {"headcount"}  # what was given before the close is kept
    await bot.press(OWNER, "Isi laporan")
    assert "ditutup pada Rabu, 2 Desember 2026" in bot.last_text(OWNER)
    await bot.text(OWNER, "/survey")
    assert "belum ada laporan" in bot.last_text(OWNER)


def _answers_since(bot: BotHarness, before: int) -> list[tuple[int, str] | None]:
    """The answerCallbackQuery calls since `before`, as their errors (None: accepted)."""
    return [call.error for call in bot.sandbox.calls_of("answerCallbackQuery")[before:]]


async def test_the_invitation_button_is_answered_once(survey_bot: BotHarness) -> None:
    """On a phone the button spins until the press is answered: once, every time, whatever
    the flow it opens says."""
    bot = survey_bot
    await factories.enterprise(bot, owner=OWNER)
    await open_round(bot)
    before = len(bot.sandbox.calls_of("answerCallbackQuery"))
    await bot.press(OWNER, "Isi laporan")
    assert bot.last_text(OWNER).startswith("1/16")
    assert _answers_since(bot, before) == [None]
    # Pressed again while the report is open: "finish this first", answered once.
    before = len(bot.sandbox.calls_of("answerCallbackQuery"))
    await bot.press(OWNER, "Isi laporan")
    assert _answers_since(bot, before) == [None]
    await bot.text(OWNER, "/cancel")
    # After the close the entry only says so: the press is answered all the same.
    await close_now(bot.settings, "kpi", "2026-11", clock=clock_of(bot))
    before = len(bot.sandbox.calls_of("answerCallbackQuery"))
    await bot.press(OWNER, "Isi laporan")
    assert "ditutup" in bot.last_text(OWNER)
    assert _answers_since(bot, before) == [None]


async def test_an_invitation_pressed_in_another_conversation_says_finish_first(
        survey_bot: BotHarness) -> None:
    bot = survey_bot
    await factories.enterprise(bot, owner=OWNER)
    await open_round(bot)
    # Replacing the join code asks for a confirmation: a question is open.
    await bot.text(OWNER, "/code")
    await bot.press(OWNER, "Ganti kode")
    asked = bot.last_text(OWNER)
    await bot.press(OWNER, "Isi laporan")
    texts = bot.sandbox.texts(OWNER)
    assert "selesaikan ini dulu" in texts[-1].lower()
    assert texts[-1].endswith("\n\n" + asked)
    async with bot.sessionmaker() as session:
        assert await session.scalar(select(SurveyResponse)) is None
    await bot.text(OWNER, "/cancel")
    await bot.press(OWNER, "Isi laporan")
    assert bot.last_text(OWNER).startswith("1/16")


async def test_a_trainer_enters_the_baseline_of_an_assigned_enterprise_only(
        survey_bot: BotHarness) -> None:
    bot = survey_bot
    maju = await factories.enterprise(bot, owner=OWNER, name="PT Maju Jaya")
    other = await factories.enterprise(bot, owner=OTHER_OWNER, name="PT Lain")
    await factories.user(bot, TRAINER, role="trainer", language="en")
    svc = services_of(bot.app)  # type: ignore[arg-type]
    await assignments.assign_trainer(svc.sessionmaker, TRAINER, maju.id, staff_id=1,
                                    now=NOW)
    await bot.text(TRAINER, "/baseline")
    # Assigned to one enterprise only: its baseline is asked at once, for a month before.
    assert "Which month does this baseline describe" in bot.last_text(TRAINER)
    await bot.press(TRAINER, "September 2026")
    await answer_all(bot, TRAINER, dict(ANSWERS, units_rejected="600"), skip="Not recorded")
    assert "Baseline of PT Maju Jaya, September 2026" in bot.last_text(TRAINER)
    await bot.press(TRAINER, "Yes, send the report")
    await bot.delivered()
    # The owner hears of it (they may have been about to enter their own).
    assert ("sudah mengisi baseline (angka sebelum pelatihan) untuk September 2026"
            in bot.last_text(OWNER))
    assert "baseline is saved" in bot.last_text(TRAINER)
    responses, _ = await stored(bot)
    assert responses[-1].kind is ResponseKind.BASELINE
    assert responses[-1].entered_as == "trainer" and responses[-1].enterprise_id == maju.id
    history = await survey_results.kpi_history(svc.sessionmaker, maju.id)
    assert history.baseline_period is not None and history.baseline_period.month == 9
    assert history.months == {}  # a baseline is not a monthly report
    # The month with a baseline is marked when another month is added.
    await bot.text(TRAINER, "/baseline")
    labels = [b["text"] for row in bot.sandbox.last_message(TRAINER).buttons for b in row]
    assert "✓ September 2026" in labels and "November 2026" in labels
    other_history = await survey_results.kpi_history(svc.sessionmaker, other.id)
    assert other_history.baseline is None
    # A trainer assigned to nothing has no enterprise to enter a baseline for.
    await factories.user(bot, TRAINER + 1, role="trainer", language="en")
    await bot.text(TRAINER + 1, "/baseline")
    assert "No enterprise is assigned to you yet" in bot.last_text(TRAINER + 1)
    await bot.text(TRAINER + 1, "/survey")
    assert "No enterprise is assigned to you yet" in bot.last_text(TRAINER + 1)
    # A worker has no baseline to enter.
    await factories.worker(bot, 2001, maju)
    await bot.text(2001, "/baseline")
    assert "Baseline (angka sebelum pelatihan) diisi oleh pemilik perusahaan" in bot.last_text(2001)
    assert bot.open_flow(TRAINER + 1) is None


async def test_the_owner_sees_the_trend_against_the_baseline(
        survey_bot: BotHarness, monkeypatch: pytest.MonkeyPatch) -> None:
    bot = survey_bot
    await factories.enterprise(bot, owner=OWNER)
    drawn: list[tuple[TrendChart, ChartWords]] = []
    real = charts.trend_png

    async def spy(chart: TrendChart, words: ChartWords) -> bytes:
        drawn.append((chart, words))
        return await real(chart, words)

    monkeypatch.setattr(kpi_handlers, "trend_png", spy)
    # The baseline first (the owner may enter it too; August as an earlier month, then
    # September), then November's report.
    for month, rejected in (("Agustus 2026", "900"), ("September 2026", "600")):
        await bot.text(OWNER, "/baseline")
        await bot.press(OWNER, month)
        await answer_all(bot, OWNER, dict(ANSWERS, units_rejected=rejected))
        await bot.press(OWNER, "Ya, kirim laporan")
    await open_round(bot)
    await bot.press(OWNER, "Isi laporan")
    await answer_all(bot, OWNER, ANSWERS)
    await bot.press(OWNER, "Ya, kirim laporan")
    news = bot.last_text(OWNER)
    # 2 % rejects now against 4 % at the latest baseline: better.
    assert ("Dibandingkan dengan baseline (angka sebelum pelatihan):\n"
            "Tingkat reject (%): 2 (baseline 4, −2 lebih baik)") in news
    await bot.text(OWNER, "/kpi")
    message = bot.sandbox.last_message(OWNER)
    assert message.photo is not None
    image = Image.open(io.BytesIO(message.photo))
    assert image.format == "PNG" and image.width == 1080
    assert "Tingkat reject (%): 2" in (message.text or "")
    # The numbers behind the picture, as /kpi handed them to the drawing: the months before
    # training lead in, October has no report (a gap), the line is the latest baseline.
    chart, words = drawn[-1]
    assert chart.months == [date(2026, 8, 1), date(2026, 9, 1), date(2026, 10, 1),
                            date(2026, 11, 1)]
    assert chart.series[kpi.DEFECT_RATE] == [Decimal(6), Decimal(4), None, Decimal(2)]
    assert chart.baseline[kpi.DEFECT_RATE] == Decimal(4)
    absent = kpi.round_rate(Decimal(30 * 100) / (120 * 22))
    assert chart.series[kpi.ABSENTEEISM] == [absent, absent, None, absent]
    assert words.locale == "id" and words.series[kpi.DEFECT_RATE] == "Tingkat reject (%)"


async def test_reports_with_nothing_recorded_get_words_not_an_empty_chart(
        survey_bot: BotHarness, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every rate "not recorded" would be a chart of six empty panels: /kpi says so, and how
    to report, in words."""
    bot = survey_bot
    await factories.enterprise(bot, owner=OWNER)
    drawn: list[TrendChart] = []
    real = charts.trend_png

    async def spy(chart: TrendChart, words: ChartWords) -> bytes:
        drawn.append(chart)
        return await real(chart, words)

    monkeypatch.setattr(kpi_handlers, "trend_png", spy)
    await open_round(bot)
    await bot.press(OWNER, "Isi laporan")
    # Headcount cannot be skipped; everything else is "Tidak dicatat".
    await answer_all(bot, OWNER, {key: "120" if key == "headcount" else "-" for key in ANSWERS})
    # The rates say it as the items above them do (LANGUAGE.md: "Tidak dicatat").
    summary = bot.last_text(OWNER)
    assert "Pekerja perempuan: Tidak dicatat" in summary
    assert "Tingkat reject (%): Tidak dicatat" in summary and "tidak dicatat" not in summary
    await bot.press(OWNER, "Ya, kirim laporan")
    before = len(bot.sandbox.messages(OWNER))
    await bot.text(OWNER, "/kpi")
    sent = bot.sandbox.messages(OWNER)[before:]
    assert drawn == [] and all(m.photo is None for m in sent)
    assert sent[0].text == ("PT Maju Jaya\nLaporan terakhir: November 2026\nBelum ada angka KPI "
                            "yang tercatat di laporan, jadi belum ada grafik. Silakan kirim "
                            "angkanya di laporan bulanan dengan /survey.")
    # The same for an admin in English, and /survey is where the numbers go.
    async with bot.sessionmaker() as session:
        maju = await session.scalar(select(Enterprise))
    assert maju is not None
    await factories.worker(bot, 2002, maju, role="admin", language="en")
    await bot.text(2002, "/kpi")
    assert ("No KPI has been recorded in the reports yet, so there is nothing to draw. Please "
            "send the numbers in the monthly report with /survey.") in bot.last_text(2002)
    assert drawn == []
    # One number recorded is a trend again: the chart comes back, with its caption.
    await bot.text(OWNER, "/survey")
    await bot.press(OWNER, "Ya, isi lagi")
    await bot.press(OWNER, "Ubah jawaban")
    await bot.press(OWNER, "Usulan yang diterapkan")
    await bot.text(OWNER, "6")
    await bot.press(OWNER, "Ya, kirim laporan")
    await bot.text(OWNER, "/kpi")
    message = bot.sandbox.last_message(OWNER)
    assert message.photo is not None and len(drawn) == 1
    assert "Usulan yang diterapkan per 100 pekerja: 5" in (message.text or "")


async def test_workers_and_strangers_get_no_kpi_report(survey_bot: BotHarness) -> None:
    bot = survey_bot
    maju = await factories.enterprise(bot, owner=OWNER)
    await factories.worker(bot, 2001, maju)
    await open_round(bot)
    await bot.text(2001, "/kpi")
    assert "untuk pemilik dan admin" in bot.last_text(2001)
    await factories.user(bot, 5001)
    await bot.text(5001, "/survey")
    assert "belum ada survei" in bot.last_text(5001)


async def test_a_changed_answer_is_checked_against_the_others_again(
        survey_bot: BotHarness) -> None:
    bot = survey_bot
    await report_opened(bot)
    await answer_all(bot, OWNER, ANSWERS)
    await bot.press(OWNER, "Ubah jawaban")
    await bot.press(OWNER, "Jumlah pekerja")
    await bot.text(OWNER, "10")
    # 45 women of 10 workers: asked again, before anything can be sent.
    texts = bot.sandbox.texts(OWNER)
    assert texts[-1].startswith("Jawaban Bapak/Ibu untuk “Pekerja perempuan” tadinya 45. Angka "
                                "itu lebih dari jumlah pekerja (10). Mohon periksa lagi.\n\n2/16")
    await bot.text(OWNER, "5")
    # 21.000 hours for 10 workers is more than they could work in a month.
    assert "lebih dari jumlah pekerja × 744 (7.440)" in bot.last_text(OWNER)
    await bot.text(OWNER, "1.500")
    summary = bot.last_text(OWNER)
    assert "Jumlah pekerja: 10" in summary and "Pekerja perempuan: 5" in summary
    await bot.press(OWNER, "Ya, kirim laporan")
    _, rows = await stored(bot)
    assert (rows["headcount"].number, rows["women"].number) == (10, 5)
    assert rows["hours_worked"].number == 1500


async def test_cancel_while_changing_an_answer_goes_back_to_the_summary(
        survey_bot: BotHarness) -> None:
    bot = survey_bot
    await report_opened(bot)
    await answer_all(bot, OWNER, ANSWERS)
    summary = bot.last_text(OWNER)
    await bot.press(OWNER, "Ubah jawaban")
    await bot.press(OWNER, "Pekerja perempuan")
    await bot.text(OWNER, "/cancel")
    assert bot.last_text(OWNER) == summary
    # /cancel on the list of answers to change: the same.
    await bot.press(OWNER, "Ubah jawaban")
    assert bot.last_text(OWNER) == "Jawaban mana yang ingin diubah?"
    await bot.text(OWNER, "/cancel")
    assert bot.last_text(OWNER) == summary
    await bot.press(OWNER, "Ya, kirim laporan")
    _, rows = await stored(bot)
    assert rows["women"].number == 45 and len(rows) == 16


async def test_only_a_reading_that_fits_is_taken_without_asking(survey_bot: BotHarness) -> None:
    bot = survey_bot
    await factories.enterprise(bot, owner=OWNER, workers=1000)  # 1200 is no surprise there
    await open_round(bot)
    await bot.press(OWNER, "Isi laporan")
    await bot.text(OWNER, "1,200")  # 1,2 workers cannot be: 1200
    assert bot.last_text(OWNER).startswith("2/16")
    await bot.text(OWNER, "1,500")  # 1500 women of 1200 cannot be, nor 1,5: neither fits
    assert "lebih dari jumlah pekerja (1.200)" in bot.last_text(OWNER)
    _, rows = await stored(bot)
    assert rows["headcount"].number == 1200 and "women" not in rows


async def test_owner_and_admin_finishing_at_once_leave_one_final_report(
        survey_bot: BotHarness) -> None:
    bot = survey_bot
    maju = await factories.enterprise(bot, owner=OWNER)
    admin = 3001
    await factories.worker(bot, admin, maju, role="admin")
    await open_round(bot)
    now = clock_of(bot).now()
    sessions = bot.sessionmaker
    opened = [await surveys_db.open_response(
        sessions, survey="kpi", period=date(2026, 11, 1), enterprise_id=maju.id,
        respondent_id=who, entered_as=role, kind=ResponseKind.MONTHLY, now=now)
        for who, role in ((OWNER, "owner"), (admin, "admin"))]
    ids = [o.response_id for o in opened]
    assert None not in ids and ids[0] != ids[1]
    done = await asyncio.gather(*(surveys_db.finish_response(sessions, i, keep=[], now=now)
                                  for i in ids if i is not None))
    assert [d.done for d in done] == [True, True]
    responses, _ = await stored(bot)
    assert sorted(r.status.value for r in responses) == ["final", "replaced"]


async def _trainer_opens_the_report(bot: BotHarness) -> tuple[Enterprise, Services]:
    """A trainer assigned to PT Maju Jaya opens its November report with /survey."""
    maju = await factories.enterprise(bot, owner=OWNER, name="PT Maju Jaya")
    await factories.user(bot, TRAINER, role="trainer", language="en")
    svc = services_of(bot.app)  # type: ignore[arg-type]
    await assignments.assign_trainer(svc.sessionmaker, TRAINER, maju.id, staff_id=1, now=NOW)
    await open_round(bot)
    await bot.text(TRAINER, "/survey")
    return maju, svc


async def test_a_trainer_unassigned_while_entering_a_report_cannot_send_it(
        survey_bot: BotHarness) -> None:
    bot = survey_bot
    maju, svc = await _trainer_opens_the_report(bot)
    assert "\n\n1/16" in bot.last_text(TRAINER)  # after the report's title
    await bot.text(TRAINER, "120")
    assert await assignments.unassign_trainer(svc.sessionmaker, TRAINER, maju.id)
    await bot.text(TRAINER, "45")
    assert bot.last_text(TRAINER) == (
        "This survey for PT Maju Jaya has ended: you no longer answer for it, so these "
        "answers are not counted.")
    responses, answers = await stored(bot)
    assert [r.status for r in responses] == [ResponseStatus.OPEN]
    assert set(answers) == {"headcount"}
    # Unassigned at the summary: the report is not sent, and the owner hears nothing.
    await assignments.assign_trainer(svc.sessionmaker, TRAINER, maju.id, staff_id=1, now=NOW)
    await bot.text(TRAINER, "/survey")
    await answer_all(bot, TRAINER, dict(list(ANSWERS.items())[1:]), skip="Not recorded")
    assert "Is this correct?" in bot.last_text(TRAINER)
    assert await assignments.unassign_trainer(svc.sessionmaker, TRAINER, maju.id)
    await bot.press(TRAINER, "Yes, send the report")
    assert bot.last_text(TRAINER).startswith("This survey for PT Maju Jaya has ended")
    responses, _ = await stored(bot)
    assert [r.status for r in responses] == [ResponseStatus.OPEN]
    await bot.delivered()
    assert not any("Trainer SCORE" in t for t in bot.sandbox.texts(OWNER))


async def test_the_skip_button_may_be_typed(survey_bot: BotHarness) -> None:
    bot = survey_bot
    await report_opened(bot)
    # Not on a question that may not be skipped: the headcount.
    await bot.text(OWNER, "Tidak dicatat")
    assert bot.last_text(OWNER).startswith(
        "Yang ini tidak bisa dilewati: angka lain dihitung dari angka ini. Mohon ketik "
        "angkanya.\n\n1/16")
    await bot.text(OWNER, "120")
    await bot.text(OWNER, "  tidak DICATAT. ")
    assert bot.last_text(OWNER).startswith("3/16")
    await bot.text(OWNER, "/cancel")
    _, rows = await stored(bot)
    assert rows["women"].skipped and rows["women"].raw == "  tidak DICATAT. "


async def test_a_trainer_whose_role_staff_revoke_can_neither_send_nor_see_the_report(
        survey_bot: BotHarness) -> None:
    bot = survey_bot
    maju, svc = await _trainer_opens_the_report(bot)
    await bot.text(TRAINER, "120")
    # Staff revoke the role (the assignment stays: it comes back with the role).
    assert await roles_db.change_role(svc.sessionmaker, TRAINER, "revoke")
    await bot.text(TRAINER, "45")
    assert bot.last_text(TRAINER).startswith("This survey for PT Maju Jaya has ended")
    await bot.text(TRAINER, "/kpi")
    assert "PT Maju Jaya" not in bot.last_text(TRAINER)
    await bot.text(TRAINER, "/survey")
    assert "PT Maju Jaya" not in bot.last_text(TRAINER) and "1/16" not in bot.last_text(TRAINER)
    responses, answers = await stored(bot)
    assert [r.status for r in responses] == [ResponseStatus.OPEN] and set(answers) == {
        "headcount"}
    # A trainer again: the report goes on where it stopped.
    assert await roles_db.change_role(svc.sessionmaker, TRAINER, "trainer")
    await bot.text(TRAINER, "/survey")
    assert "\n\n2/16" in bot.last_text(TRAINER)


async def test_a_trainer_whose_report_another_trainer_replaces_is_told(
        survey_bot: BotHarness) -> None:
    bot = survey_bot
    maju = await factories.enterprise(bot, owner=OWNER, name="PT Maju Jaya")
    second = TRAINER + 1
    await factories.user(bot, TRAINER, role="trainer", language="en", name="Budi")
    await factories.user(bot, second, role="trainer", language="en", name="Tono")
    svc = services_of(bot.app)  # type: ignore[arg-type]
    for trainer in (TRAINER, second):
        await assignments.assign_trainer(svc.sessionmaker, trainer, maju.id, staff_id=1,
                                         now=NOW)
    await open_round(bot)
    await bot.text(TRAINER, "/survey")
    await answer_all(bot, TRAINER, ANSWERS, skip="Not recorded")
    await bot.press(TRAINER, "Yes, send the report")
    clock_of(bot).advance(60)
    await bot.text(second, "/survey")
    await bot.press(second, "Yes, answer again")
    await bot.press(second, "Yes, send the report")  # the figures Budi sent, as they were
    await bot.delivered()
    assert bot.last_text(TRAINER) == ("Tono sent a new KPI report for November 2026. It "
                                      "replaces the one you sent. Type /kpi to see it.\n\n"
                                      "The answers are the same as before.")
    assert "Trainer SCORE Tono" in bot.last_text(OWNER)  # owners hear of a trainer's entry


async def test_those_told_of_a_replaced_report_read_what_changed(
        survey_bot: BotHarness) -> None:
    bot = survey_bot
    maju = await factories.enterprise(bot, owner=OWNER, name="PT Maju Jaya")
    await factories.user(bot, TRAINER, role="trainer", language="en", name="Budi")
    svc = services_of(bot.app)  # type: ignore[arg-type]
    await assignments.assign_trainer(svc.sessionmaker, TRAINER, maju.id, staff_id=1, now=NOW)
    await open_round(bot)
    # The trainer enters it at a visit, resignations not recorded.
    await bot.text(TRAINER, "/survey")
    await answer_all(bot, TRAINER, dict(ANSWERS, left_resigned="-"), skip="Not recorded")
    await bot.press(TRAINER, "Yes, send the report")
    await bot.delivered()
    clock_of(bot).advance(60)
    # The owner answers again ("Isi lagi") and corrects two figures from the summary.
    await bot.text(OWNER, "/survey")
    await bot.press(OWNER, "Ya, isi lagi")
    for label, value in (("Mengundurkan diri", "1"), ("Jam kerja", "22.500")):
        await bot.press(OWNER, "Ubah jawaban")
        await bot.press(OWNER, label)
        await bot.text(OWNER, value)
    await bot.press(OWNER, "Ya, kirim laporan")
    await bot.delivered()
    # In the trainer's language, numbers as English writes them; unchanged answers unlisted.
    assert bot.last_text(TRAINER) == (
        "Sari sent a new KPI report for November 2026. It replaces the one you sent. Type "
        "/kpi to see it.\n\nWhat changed:\nHours worked: 21,000 → 22,500\n"
        "Resigned: Not recorded → 1")
    # The trainer answers again: the owner, told of a trainer's entry, reads it in Indonesian.
    clock_of(bot).advance(60)
    await bot.text(TRAINER, "/survey")
    await bot.press(TRAINER, "Yes, answer again")
    await bot.press(TRAINER, "Change an answer")
    await bot.press(TRAINER, "Hours worked")
    await bot.text(TRAINER, "21000")
    await bot.press(TRAINER, "Yes, send the report")
    await bot.delivered()
    assert bot.last_text(OWNER) == (
        "Trainer SCORE Budi sudah mengisi laporan KPI bulan November 2026. Ketik /kpi untuk "
        "melihatnya.\n\nYang berubah:\nJam kerja: 22.500 → 21.000")


async def _owner_sends_while_admin_answers(bot: BotHarness) -> int:
    """The owner and an admin both open November's report; the owner sends it in full while
    the admin has typed one figure and left the rest "not recorded"."""
    maju = await factories.enterprise(bot, owner=OWNER)
    admin = 3001
    await factories.worker(bot, admin, maju, role="admin", name="Dewi")
    await open_round(bot)
    await bot.press(OWNER, "Isi laporan")
    await bot.press(admin, "Isi laporan")
    clock_of(bot).advance(600)
    await answer_all(bot, OWNER, ANSWERS)
    await bot.press(OWNER, "Ya, kirim laporan")
    assert "laporan sudah tersimpan" in bot.last_text(OWNER)
    await answer_all(bot, admin, {"headcount": "200", **{k: "-" for k in list(ANSWERS)[1:]}})
    await bot.press(admin, "Ya, kirim laporan")
    return admin


async def test_a_report_sent_by_someone_else_meanwhile_is_not_replaced_without_asking(
        survey_bot: BotHarness) -> None:
    bot = survey_bot
    admin = await _owner_sends_while_admin_answers(bot)
    assert bot.last_text(admin) == (
        "Selama Bapak/Ibu mengisi, Sari sudah mengirim laporan ini: Laporan KPI bulan "
        "November. Kirim laporan Bapak/Ibu sebagai gantinya? Laporan Bapak/Ibu akan menggantikan "
        "laporan itu.")
    responses, _ = await stored(bot)
    assert [(r.respondent_id, r.status) for r in responses] == [
        (OWNER, ResponseStatus.FINAL), (admin, ResponseStatus.OPEN)]
    # That report first, then "no": the owner's report stands, the admin's is set aside.
    await bot.press(admin, "Lihat laporan itu")
    assert "Jumlah pekerja: 120" in bot.last_text(admin)
    await bot.press(admin, "Tidak, pakai laporan itu")
    assert bot.last_text(admin) == "Baik, laporan yang sudah dikirim tetap dipakai."
    responses, _ = await stored(bot)
    assert [r.status for r in responses] == [ResponseStatus.FINAL, ResponseStatus.REPLACED]
    assert bot.sandbox.texts(OWNER)[-1].startswith("Terima kasih, laporan sudah tersimpan")
    # Answering again later starts from the report that was sent, as for anyone.
    await bot.text(admin, "/survey")
    assert "sudah dikirim. Isi lagi?" in bot.last_text(admin)


async def test_replacing_someone_elses_report_after_a_yes_tells_them(
        survey_bot: BotHarness) -> None:
    bot = survey_bot
    admin = await _owner_sends_while_admin_answers(bot)
    await bot.press(admin, "Ya, kirim laporan saya")
    assert "laporan sudah tersimpan" in bot.last_text(admin)
    responses, answers = await stored(bot)
    assert [(r.respondent_id, r.status) for r in responses] == [
        (OWNER, ResponseStatus.REPLACED), (admin, ResponseStatus.FINAL)]
    assert answers["headcount"].number == 200
    await bot.delivered()
    told = bot.last_text(OWNER)
    assert told.startswith(
        "Dewi mengirim laporan KPI baru untuk bulan November 2026. Laporan ini menggantikan "
        "laporan yang Bapak/Ibu kirim. Ketik /kpi untuk melihatnya.\n\nYang berubah:\n"
        "Jumlah pekerja: 120 → 200\nPekerja perempuan: 45 → Tidak dicatat\n")
    # Every answer changed, one line each; a follow-up no longer asked has no answer.
    assert len(told.splitlines()) == 3 + 16
    assert "Hari hilang karena kecelakaan: 3 → -" in told
    # The owner answering again later is asked as anyone replacing a sent report.
    await bot.text(OWNER, "/survey")
    assert "sudah dikirim. Isi lagi?" in bot.last_text(OWNER)


async def test_a_question_lost_to_telegram_comes_again_before_the_next_answer(
        survey_bot: BotHarness) -> None:
    bot = survey_bot
    await report_opened(bot)
    # The next question is refused once by Telegram (a 429 is waited out and sent again).
    bot.sandbox.fail("sendMessage", chat_id=OWNER, error_code=429, retry_after=1)
    await bot.text(OWNER, "120")
    assert bot.last_text(OWNER).startswith("2/16")
    # An error that is not a flood limit: the apology, then the question the answer led to.
    bot.sandbox.fail("sendMessage", chat_id=OWNER, error_code=500, times=1)
    await bot.text(OWNER, "45")
    texts = bot.sandbox.texts(OWNER)
    assert "terjadi gangguan" in texts[-1] and "\n\n3/16" in texts[-1]
    _, rows = await stored(bot)
    assert (rows["headcount"].number, rows["women"].number) == (120, 45)


async def test_a_baseline_without_monthly_reports_is_shown_in_words(
        survey_bot: BotHarness) -> None:
    """Before the first monthly report /kpi shows what the baseline holds, with the rate
    lines of the report's summary, and says when the chart comes."""
    bot = survey_bot
    maju = await factories.enterprise(bot, owner=OWNER)
    # Nothing yet: no baseline, no report.
    await bot.text(OWNER, "/kpi")
    assert bot.last_text(OWNER) == (
        "PT Maju Jaya belum punya laporan KPI bulanan. Laporan diminta setiap awal bulan. "
        "Selama laporan masih dibuka, ketik /survey untuk mengisi atau melanjutkannya.")
    for month, rejected in (("Agustus 2026", "900"), ("September 2026", "600")):
        await bot.text(OWNER, "/baseline")
        await bot.press(OWNER, month)
        await answer_all(bot, OWNER, dict(ANSWERS, units_rejected=rejected,
                                          suggestions_implemented="-"))
        await bot.press(OWNER, "Ya, kirim laporan")
    before = len(bot.sandbox.messages(OWNER))
    await bot.text(OWNER, "/kpi")
    sent = bot.sandbox.messages(OWNER)[before:]
    assert all(m.photo is None for m in sent)
    absent = kpi.round_rate(Decimal(30 * 100) / (120 * 22))
    # The latest baseline, September: 600 of 15.000 rejected.
    assert sent[0].text == "\n".join([
        "PT Maju Jaya", "Baseline (angka sebelum pelatihan): September 2026",
        "Tingkat reject (%): 4",
        f"Tingkat ketidakhadiran (%): {str(absent).replace('.', ',')}",
        "Tingkat turnover (%): 2,5", "Kecelakaan hilang hari kerja per 1 juta jam kerja: 47,62",
        "Usulan yang diterapkan per 100 pekerja: Tidak dicatat", "kWh per unit: 0,83",
        "Grafik tren muncul setelah laporan bulanan masuk. Laporan diminta setiap awal bulan."])
    # An admin in English sees the same.
    await factories.worker(bot, 2002, maju, role="admin", language="en")
    await bot.text(2002, "/kpi")
    text = bot.last_text(2002)
    assert text.startswith("PT Maju Jaya\nBaseline: September 2026\nDefect rate (%): 4\n")
    assert "Suggestions implemented per 100 workers: Not recorded" in text
    assert text.endswith("The trend chart comes once the monthly reports arrive. The report "
                         "is asked for at the start of each month.")
    # The first monthly report: the chart, against the baseline.
    await open_round(bot)
    await bot.press(OWNER, "Isi laporan")
    await answer_all(bot, OWNER, ANSWERS)
    await bot.press(OWNER, "Ya, kirim laporan")
    await bot.text(OWNER, "/kpi")
    message = bot.sandbox.last_message(OWNER)
    assert message.photo is not None
    assert "Tingkat reject (%): 2 (baseline 4, −2 lebih baik)" in (message.text or "")


@pytest.mark.parametrize("language", ["id", "en"])
async def test_the_owner_of_an_enterprise_not_approved_hears_when_reports_start(
        survey_bot: BotHarness, language: str) -> None:
    bot = survey_bot
    await factories.enterprise(bot, owner=OWNER, status="pending", owner_language=language)
    await factories.enterprise(bot, owner=OTHER_OWNER, name="PT Lain", status="rejected",
                               owner_language=language)
    await open_round(bot)  # a round is open: for approved enterprises only
    waiting = {"id": ("Fitur ini bisa dipakai setelah tim SCORE menyetujui PT Maju Jaya. "
                      "Pendaftaran Bapak/Ibu sedang menunggu persetujuan."),
               "en": ("This is available once the SCORE team approves PT Maju Jaya. Your "
                      "enrolment is waiting for their approval.")}[language]
    rejected = {"id": ("Fitur ini bisa dipakai setelah tim SCORE menyetujui PT Lain. Tim SCORE "
                       "belum menyetujui pendaftarannya. Mohon perbaiki dengan /enrol lalu "
                       "konfirmasi. Pendaftaran akan dikirim lagi ke tim SCORE."),
                "en": ("This is available once the SCORE team approves PT Lain. The team did "
                       "not approve the enrolment. Please correct it with /enrol and confirm, "
                       "and it goes back to the team.")}[language]
    for command in ("/kpi", "/baseline", "/survey"):
        await bot.text(OWNER, command)
        assert bot.last_text(OWNER) == waiting, command
        await bot.text(OTHER_OWNER, command)
        assert bot.last_text(OTHER_OWNER) == rejected, command
    assert bot.open_flow(OWNER) is None and bot.open_flow(OTHER_OWNER) is None
    async with bot.sessionmaker() as session:
        assert await session.scalar(select(SurveyResponse)) is None


async def test_once_approved_the_owner_gets_the_report_and_others_keep_their_answers(
        survey_bot: BotHarness) -> None:
    """The note is only for the owner of an enterprise not approved: once it is, /baseline
    asks; a user with no enterprise hears what they heard before."""
    bot = survey_bot
    pending = await factories.enterprise(bot, owner=OWNER, status="pending")
    async with bot.sessionmaker() as session, session.begin():
        assert await enterprises_db.decide(session, pending.id, 1, approve=True, reason=None,
                                           new_code=lambda: "K7P2QX", now=bot.clock.now())
    await bot.text(OWNER, "/baseline")
    assert bot.last_text(OWNER).startswith(
        "Baseline (angka sebelum pelatihan) ini untuk bulan apa?")
    await bot.text(OWNER, "/cancel")
    await factories.user(bot, 5001)
    await bot.text(5001, "/kpi")
    assert bot.last_text(5001).startswith("Laporan KPI untuk pemilik dan admin perusahaan.")
    await bot.text(5001, "/baseline")
    assert bot.last_text(5001).startswith(
        "Baseline (angka sebelum pelatihan) diisi oleh pemilik perusahaan")
    await bot.text(5001, "/survey")
    assert "belum ada survei" in bot.last_text(5001)


async def test_before_dawn_on_the_first_the_month_just_ended_is_offered(
        settings: Settings, sandbox: BotApiSandbox) -> None:
    """At 05:00 WIB on 1 February it is still 31 January in UTC: the baseline's months are
    counted in WIB, so January, which has ended, is offered."""
    early = datetime(2027, 2, 1, 5, 0, tzinfo=ZoneInfo("Asia/Jakarta"))
    bot = BotHarness(settings, sandbox, clock=FakeClock(early))
    await bot.start()
    try:
        await factories.enterprise(bot, owner=OWNER)
        await bot.text(OWNER, "/baseline")
        labels = [b["text"] for row in bot.sandbox.last_message(OWNER).buttons for b in row]
        assert labels[0] == "Januari 2027"
    finally:
        await bot.stop()
