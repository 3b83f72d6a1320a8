"""Unlikely KPI answers are asked about, impossible ones refused, through the real
Application: more than 300 hours per worker, ten times last month's or the baseline's figure,
more than twice the enrolled workers ("1.250 atau 1,25?"), more workdays than the month has."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select

from db.models import ResponseKind, ResponseStatus, SurveyAnswer, SurveyResponse
from tests import factories
from tests.harness import BotHarness
from tests.survey_helpers import ANSWERS, NOW, answer_all, open_round

OWNER = 1001
OCT = date(2026, 10, 1)
AUG = date(2026, 8, 1)


async def _sent_before(bot: BotHarness, enterprise_id: int, period: date, answers: dict[str, str],
                       kind: ResponseKind = ResponseKind.MONTHLY) -> None:
    """A final report of an earlier month, as the engine stores it."""
    async with bot.sessionmaker() as session, session.begin():
        response = SurveyResponse(survey="kpi", period=period, kind=kind,
                                  status=ResponseStatus.FINAL, enterprise_id=enterprise_id,
                                  respondent_id=OWNER, entered_as="owner", started_at=NOW,
                                  updated_at=NOW, finished_at=NOW)
        session.add(response)
        await session.flush()
        for key, value in answers.items():
            number = Decimal(value.replace(".", "").replace(",", "."))
            session.add(SurveyAnswer(response_id=response.id, question=key, raw=value,
                                     number=number, answered_at=NOW))


async def _opened(bot: BotHarness, *, workers: int = 120, language: str = "id") -> int:
    maju = await factories.enterprise(bot, owner=OWNER, workers=workers,
                                      owner_language=language)
    return maju.id


async def _open_report(bot: BotHarness) -> None:
    await open_round(bot)
    await bot.press(OWNER, "Isi laporan")


async def _up_to(bot: BotHarness, key: str, answers: dict[str, str] = ANSWERS) -> None:
    """Answer every question before `key`."""
    for question, value in answers.items():
        if question == key:
            return
        await bot.text(OWNER, value)


async def _stored(bot: BotHarness) -> dict[str, SurveyAnswer]:
    async with bot.sessionmaker() as session:
        return {a.question: a for a in await session.scalars(select(SurveyAnswer).join(
            SurveyResponse, SurveyResponse.id == SurveyAnswer.response_id).where(
            SurveyResponse.status == ResponseStatus.OPEN))}


async def test_hours_per_worker_above_300_are_kept_after_a_yes(survey_bot: BotHarness) -> None:
    bot = survey_bot
    await _opened(bot)
    await _open_report(bot)
    await _up_to(bot, "hours_worked")
    await bot.text(OWNER, "40.000")  # 120 workers: 333 hours each
    [asked] = bot.replies(OWNER)
    assert asked == ("Jam kerja: 40.000\nItu berarti 333 jam per pekerja dalam sebulan (untuk "
                     "120 pekerja), lebih dari 300 jam.\nApakah angka ini sudah benar?")
    assert bot.step(OWNER) == "survey_sure"
    assert "hours_worked" not in await _stored(bot)  # nothing kept before the answer
    await bot.press(OWNER, "Ya, 40.000 sudah benar")
    assert bot.last_text(OWNER).startswith("6/16")
    kept = (await _stored(bot))["hours_worked"]
    assert kept.number == 40000 and kept.raw == "40.000"


async def test_type_again_asks_the_question_again(survey_bot: BotHarness) -> None:
    bot = survey_bot
    await _opened(bot)
    await _open_report(bot)
    await _up_to(bot, "hours_worked")
    await bot.text(OWNER, "40.000")
    await bot.press(OWNER, "Ketik ulang")
    assert bot.last_text(OWNER).startswith("5/16") and "jam kerja" in bot.last_text(OWNER)
    assert "hours_worked" not in await _stored(bot)
    await bot.text(OWNER, "21.000")  # a usual figure: not asked about
    assert bot.last_text(OWNER).startswith("6/16")
    assert (await _stored(bot))["hours_worked"].number == 21000


async def test_a_number_typed_instead_of_a_button_is_the_answer(survey_bot: BotHarness) -> None:
    bot = survey_bot
    await _opened(bot)
    await _open_report(bot)
    await _up_to(bot, "hours_worked")
    await bot.text(OWNER, "40.000")
    await bot.text(OWNER, "20.000")
    assert bot.last_text(OWNER).startswith("6/16")
    assert (await _stored(bot))["hours_worked"].number == 20000


async def test_ten_times_last_months_figure_is_asked_about(survey_bot: BotHarness) -> None:
    bot = survey_bot
    maju = await _opened(bot)
    await _sent_before(bot, maju, OCT, {"units_produced": "15.000", "electricity_kwh": "12.000"})
    await _open_report(bot)
    await _up_to(bot, "units_produced")
    await bot.text(OWNER, "150.000")
    assert bot.last_text(OWNER) == (
        "Unit diproduksi: 150.000\nItu sepuluh kali lipat atau lebih dari angka bulan "
        "Oktober 2026 (15.000).\nApakah angka ini sudah benar?")
    await bot.press(OWNER, "Ya, 150.000 sudah benar")
    assert (await _stored(bot))["units_produced"].number == 150000
    # A tenth of October's kWh: a zero dropped, most likely.
    await _up_to(bot, "electricity_kwh", dict(list(ANSWERS.items())[9:]))
    await bot.text(OWNER, "1.200")
    assert "sepersepuluh atau kurang dari angka bulan Oktober 2026 (12.000)" in \
        bot.last_text(OWNER)


async def test_ten_times_the_baseline_is_asked_about_in_english(survey_bot: BotHarness) -> None:
    bot = survey_bot
    maju = await _opened(bot, language="en")
    await _sent_before(bot, maju, AUG, {"customer_claims": "1"}, kind=ResponseKind.BASELINE)
    await open_round(bot)
    await bot.press(OWNER, "Fill in the report")
    await _up_to(bot, "customer_claims", dict(ANSWERS, hours_worked="21000"))
    await bot.text(OWNER, "12")
    assert bot.last_text(OWNER) == (
        "Customer claims: 12\nThat is ten times or more the baseline (1, the figure from "
        "before the training).\nIs this number right?")
    await bot.press(OWNER, "Type it again")
    await bot.text(OWNER, "2")
    assert (await _stored(bot))["customer_claims"].number == 2


async def test_usual_answers_are_not_asked_about(survey_bot: BotHarness) -> None:
    bot = survey_bot
    maju = await _opened(bot)
    await _sent_before(bot, maju, OCT, {k: v for k, v in ANSWERS.items() if k != "headcount"}
                       | {"headcount": "130"})
    await _sent_before(bot, maju, AUG, {"units_produced": "9.000"}, kind=ResponseKind.BASELINE)
    await _open_report(bot)
    await answer_all(bot, OWNER, ANSWERS)
    assert "Apakah sudah benar?" in bot.last_text(OWNER)  # straight to the summary
    assert not any("Apakah angka ini sudah benar?" in t for t in bot.texts(OWNER))


async def test_more_than_twice_the_enrolled_workers_offers_both_readings(
        survey_bot: BotHarness) -> None:
    bot = survey_bot
    await _opened(bot, workers=150)
    await _open_report(bot)
    await bot.text(OWNER, "1,250")
    assert bot.last_text(OWNER) == (
        "Jumlah pekerja: 1.250\nItu lebih dari dua kali jumlah pekerja saat pendaftaran "
        "(150).\nMaksudnya 1.250 atau 1,25?")
    labels = [b["text"] for row in bot.sandbox.last_message(OWNER).buttons for b in row]
    assert labels == ["1.250", "1,25", "Ketik ulang"]
    # 1,25 workers cannot be: said so, and the question again.
    await bot.press(OWNER, "1,25")
    assert bot.last_text(OWNER).startswith("Mohon ketik bilangan bulat")
    assert "1/16" in bot.last_text(OWNER)
    await bot.text(OWNER, "1,250")
    await bot.press(OWNER, "1.250")
    assert bot.last_text(OWNER).startswith("2/16")
    kept = (await _stored(bot))["headcount"]
    assert kept.number == 1250 and kept.raw == "1,250"


async def test_more_workdays_than_the_month_has_are_refused(survey_bot: BotHarness) -> None:
    bot = survey_bot
    await _opened(bot)
    await _open_report(bot)
    await _up_to(bot, "workdays")
    await bot.text(OWNER, "31")  # November has 30 days
    [reply] = bot.replies(OWNER)
    assert reply.startswith("November 2026 hanya punya 30 hari. Mohon periksa lagi.")
    assert "3/16" in reply
    assert "workdays" not in await _stored(bot)
    await bot.text(OWNER, "30")
    assert bot.last_text(OWNER).startswith("4/16")


async def test_a_stale_or_forged_button_of_the_question_is_handled(
        survey_bot: BotHarness) -> None:
    bot = survey_bot
    await _opened(bot)
    await _open_report(bot)
    await _up_to(bot, "hours_worked")
    await bot.text(OWNER, "40.000")
    asked = bot.sandbox.last_message(OWNER)
    keep = next(b["callback_data"] for row in asked.buttons for b in row
                if b["text"].startswith("Ya"))
    # Forged: another value under the same signature is refused by the gate, unanswered.
    bot.sandbox.press(OWNER, keep.replace("|keep|", "|other|"), message_id=asked.message_id)
    await bot.settle()
    assert bot.step(OWNER) == "survey_sure"
    assert "hours_worked" not in await _stored(bot)
    # Answered by typing; the button pressed afterwards is stale: the open question again.
    await bot.text(OWNER, "21.000")
    bot.sandbox.press(OWNER, keep, message_id=asked.message_id)
    await bot.settle()
    assert bot.step(OWNER) == "survey_question"
    assert "6/16" in bot.last_text(OWNER)
    assert (await _stored(bot))["hours_worked"].number == 21000
