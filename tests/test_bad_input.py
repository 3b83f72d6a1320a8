"""Every step re-asks on input that does not fit; stale and forged buttons; /cancel; /language."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import func, select

from db.models import Enterprise
from tests.harness import BotHarness
from tests.journeys import answer_enrolment, onboard

OWNER = 1001


async def _at_step(bot: BotHarness, user_id: int) -> str | None:
    assert bot.app is not None
    return bot.step(user_id)


async def _enterprises(bot: BotHarness) -> int:
    async with bot.sessionmaker() as session:
        return await session.scalar(select(func.count()).select_from(Enterprise)) or 0


@pytest.mark.parametrize("bad, expected_note", [
    ("   ", "The answer is empty."),
    ("\u200b\u200b \u2060", "The answer is empty."),  # invisible characters only
    ("x" * 201, "too long"),
    ("🙂🙂🙂", "letters"),
    ("'; DROP TABLE enterprises;--", "does not look like a name"),
    ("<script>alert(1)</script>", "does not look like a name"),
])
async def test_company_name_rejects_bad_text(bot: BotHarness, bad: str,
                                             expected_note: str) -> None:
    await onboard(bot, OWNER, "en")
    await bot.text(OWNER, bad)
    [reply] = bot.replies(OWNER)  # the note is the first line of the question
    assert expected_note in reply and "name of your company" in reply
    assert await _at_step(bot, OWNER) == "e_name"


@pytest.mark.parametrize("send", ["photo", "sticker", "voice", "document", "location"])
async def test_media_instead_of_text_is_re_asked(bot: BotHarness, send: str) -> None:
    await onboard(bot, OWNER, "id")
    before = len(bot.texts(OWNER))
    getattr(bot.sandbox, f"send_{send}")(OWNER)
    await bot.settle()
    assert await _at_step(bot, OWNER) == "e_name"
    texts = bot.texts(OWNER)
    assert len(texts) == before + 1
    assert texts[-1] == "Mohon jawab dengan mengetik teks.\n\nApa nama perusahaan Bapak/Ibu?"


async def test_text_where_a_button_is_expected(bot: BotHarness) -> None:
    await onboard(bot, OWNER, "en")
    await bot.text(OWNER, "PT Maju")
    await bot.text(OWNER, "auto parts please")
    assert "choose one of the buttons" in bot.last_text(OWNER)
    assert await _at_step(bot, OWNER) == "e_sector"


@pytest.mark.parametrize("answer, note", [
    ("sepuluh", "digits"), ("0", "from 1 to 100,000"), ("100001", "from 1 to 100,000"),
    ("10.5", "digits"), ("-3", "from 1 to 100,000"),
])
async def test_worker_count_out_of_range_or_words(bot: BotHarness, answer: str, note: str) -> None:
    await onboard(bot, OWNER, "en")
    await bot.text(OWNER, "PT Maju")
    await bot.press(OWNER, "Auto parts")
    await bot.text(OWNER, "Banten")
    await bot.text(OWNER, "Tangerang")
    await bot.text(OWNER, answer)
    assert note in bot.last_text(OWNER)
    assert await _at_step(bot, OWNER) == "e_workers"


async def test_unknown_province_and_bad_phone_and_foreign_contact(bot: BotHarness) -> None:
    await onboard(bot, OWNER, "en")
    await bot.text(OWNER, "PT Maju")
    await bot.press(OWNER, "Auto parts")
    await bot.text(OWNER, "Atlantis")
    assert "do not know that province" in bot.last_text(OWNER)
    await bot.text(OWNER, "Banten")
    await bot.text(OWNER, "Tangerang")
    await bot.text(OWNER, "150")
    await bot.text(OWNER, "Sari")
    await bot.text(OWNER, "+1 202 555 0100")
    assert "not an Indonesian phone number" in bot.last_text(OWNER)
    bot.sandbox.share_contact(OWNER, "+6281299998888", contact_user_id=4242)
    await bot.settle()
    assert "your own number" in bot.last_text(OWNER)
    assert await _at_step(bot, OWNER) == "e_phone"
    bot.sandbox.share_contact(OWNER, "6281299998888")
    await bot.settle()
    assert await _at_step(bot, OWNER) == "e_modules"
    assert bot.app is not None
    assert bot.draft(OWNER)["enrol"]["phone"] == "+6281299998888"


async def test_modules_need_at_least_one(bot: BotHarness) -> None:
    await onboard(bot, OWNER, "en")
    await answer_enrolment(bot, OWNER, "en")
    await bot.press(OWNER, "✏️ Modules")
    await bot.press(OWNER, "1.")
    await bot.press(OWNER, "5.")
    await bot.press(OWNER, "Done")
    assert "at least one" in (bot.sandbox.callback_answers(OWNER)[-1].get("text") or "")
    assert await _at_step(bot, OWNER) == "e_modules"


async def test_stale_button_from_earlier_step_is_answered(bot: BotHarness) -> None:
    await onboard(bot, OWNER, "en")
    await bot.text(OWNER, "PT Maju")
    await bot.press(OWNER, "Auto parts")
    # The sector keyboard is still on screen; pressing it again is stale now.
    sector_message = [m for m in bot.sandbox.messages(OWNER)
                      if any("Metal" in b["text"] for row in m.buttons for b in row)][-1]
    bot.sandbox.press(OWNER, sector_message.buttons[1][0]["callback_data"],
                      message_id=sector_message.message_id)
    await bot.settle()
    assert "no longer active" in (bot.sandbox.callback_answers(OWNER)[-1].get("text") or "")
    assert await _at_step(bot, OWNER) == "e_province"
    # The open question is shown again, so nobody is left guessing what to answer.
    assert "province" in bot.last_text(OWNER)


async def test_button_after_the_conversation_ended_is_answered(bot: BotHarness) -> None:
    await onboard(bot, OWNER, "en")
    await bot.text(OWNER, "PT Maju")
    sector_message = bot.sandbox.last_message(OWNER)
    await bot.text(OWNER, "/cancel")
    assert "Nothing was saved" in bot.last_text(OWNER)
    bot.sandbox.press(OWNER, sector_message.buttons[0][0]["callback_data"],
                      message_id=sector_message.message_id)
    await bot.settle()
    assert "no longer active" in (bot.sandbox.callback_answers(OWNER)[-1].get("text") or "")
    assert await _enterprises(bot) == 0
    assert bot.app is not None and "enrol" not in bot.draft(OWNER)


async def test_forged_button_does_nothing_and_is_logged(bot: BotHarness,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    await onboard(bot, OWNER, "en")
    await bot.text(OWNER, "PT Maju")
    before = len(bot.sandbox.calls)
    with caplog.at_level(logging.WARNING):
        bot.sandbox.press(OWNER, "sector|abc|metal|AAAAAAAAAA")
        await bot.settle()
        # Another user's genuine button is forged for this one.
        other = bot.sandbox.last_message(OWNER).buttons[0][0]["callback_data"]
        bot.sandbox.press(1999, other)
        await bot.settle()
    assert "forged button" in caplog.text
    sends = [c for c in bot.sandbox.calls[before:] if c.method in ("sendMessage",
                                                                   "editMessageText")]
    assert sends == []
    assert await _at_step(bot, OWNER) == "e_sector"


async def test_language_switch_mid_enrolment_re_asks_in_new_language(bot: BotHarness) -> None:
    await onboard(bot, OWNER, "id")
    await bot.text(OWNER, "PT Maju")
    await bot.text(OWNER, "/language")
    await bot.press(OWNER, "English")
    assert "What does your company make?" in bot.last_text(OWNER)
    await bot.press(OWNER, "Auto parts")
    assert "province" in bot.last_text(OWNER)
    assert bot.app is not None and bot.draft(OWNER)["enrol"]["name"] == "PT Maju"


async def test_other_command_mid_enrolment_keeps_the_step(bot: BotHarness) -> None:
    await onboard(bot, OWNER, "en")
    await bot.text(OWNER, "PT Maju")
    await bot.text(OWNER, "/code")
    assert "answer the question first" in bot.last_text(OWNER)
    await bot.text(OWNER, "/help")
    assert "What does your company make?" in bot.last_text(OWNER)
    assert await _at_step(bot, OWNER) == "e_sector"


async def test_cancel_keeps_nothing(bot: BotHarness) -> None:
    await onboard(bot, OWNER, "en")
    await answer_enrolment(bot, OWNER, "en")
    await bot.text(OWNER, "/cancel")
    assert await _enterprises(bot) == 0
    assert bot.app is not None
    assert bot.open_flow(OWNER) is None
