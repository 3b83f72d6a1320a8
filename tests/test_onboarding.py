"""First contact: language, consent, role, help, privacy, groups, unknown input."""

from __future__ import annotations

from sqlalchemy import select

from db.models import GroupChat, User
from tests import factories
from tests.conftest import STAFF_ID
from tests.harness import BotHarness

OWNER = 1001


async def _user(bot: BotHarness, user_id: int) -> User | None:
    async with bot.sessionmaker() as session:
        return await session.get(User, user_id)


async def test_start_asks_language_then_consent_then_role(bot: BotHarness) -> None:
    bot.sandbox.add_user(OWNER, "Sari", language_code="id")
    await bot.text(OWNER, "/start")
    assert "Pilih bahasa" in bot.last_text(OWNER) or "bahasa" in bot.last_text(OWNER).lower()
    user = await _user(bot, OWNER)
    assert user is not None and user.language == "id"
    # Before consent only the id and the language are kept.
    assert user.name is None and user.username is None and user.consent_at is None

    await bot.press(OWNER, "Bahasa Indonesia")
    assert "/privacy" in bot.last_text(OWNER)
    await bot.press(OWNER, "Setuju")
    user = await _user(bot, OWNER)
    assert user is not None and user.consent_at is not None and user.name == "Sari"
    assert "Pemilik / pimpinan perusahaan" in str(bot.sandbox.last_message(OWNER).buttons)


async def test_english_telegram_user_gets_english(bot: BotHarness) -> None:
    bot.sandbox.add_user(OWNER, "Jane", language_code="en-GB")
    await bot.text(OWNER, "/start")
    assert "Please choose your language" in bot.last_text(OWNER)
    user = await _user(bot, OWNER)
    assert user is not None and user.language == "en"


async def test_declining_consent_keeps_nothing_and_can_agree_later(bot: BotHarness) -> None:
    bot.sandbox.add_user(OWNER, "Budi", username="budi", language_code="en")
    await bot.text(OWNER, "/start")
    await bot.press(OWNER, "English")
    await bot.press(OWNER, "No")
    assert "Without your consent" in bot.last_text(OWNER)
    user = await _user(bot, OWNER)
    assert user is not None and user.consent_at is None and user.name is None
    assert user.username is None and user.consent_declined_at is not None
    # The bot still cannot enrol them.
    await bot.text(OWNER, "/enrol")
    assert "/start" in bot.last_text(OWNER)
    # Agreeing later: /start, as the decline said, asks for consent again (the language
    # was chosen before).
    await bot.text(OWNER, "/start")
    assert "Do you agree?" in bot.last_text(OWNER)
    assert bot.step(OWNER) == "consent"
    await bot.press(OWNER, "Yes, I agree")
    user = await _user(bot, OWNER)
    assert user is not None and user.consent_at is not None and user.username == "budi"
    assert "enrol your enterprise" in bot.last_text(OWNER)


async def test_declined_and_typing_something_else_is_not_pushed_again(bot: BotHarness) -> None:
    bot.sandbox.add_user(OWNER, "Budi", language_code="en")
    await bot.text(OWNER, "/start")
    await bot.press(OWNER, "English")
    await bot.press(OWNER, "No")
    await bot.text(OWNER, "ok")
    assert bot.last_text(OWNER) == "I did not understand that. Type /help to see the menu."
    assert bot.open_flow(OWNER) is None


async def test_a_newcomers_first_message_begins_first_contact(bot: BotHarness) -> None:
    """"halo" instead of /start: the same greeting and language question."""
    bot.sandbox.add_user(OWNER, "Sari", language_code="id")
    await bot.text(OWNER, "halo")
    assert bot.last_text(OWNER).endswith("Silakan pilih bahasa.")
    assert bot.step(OWNER) == "lang"
    await bot.press(OWNER, "Bahasa Indonesia")
    await bot.press(OWNER, "Setuju")
    assert bot.step(OWNER) == "role"
    # Someone known, outside any question, still gets the hint.
    await bot.text(OWNER, "/cancel")
    await bot.text(OWNER, "halo")
    assert bot.last_text(OWNER) == "Maaf, saya tidak mengerti. Ketik /help untuk melihat menu."


async def test_start_while_a_question_is_open_shows_it_again(bot: BotHarness) -> None:
    """Telegram's "Restart bot" sends /start: where the user was, without a scolding."""
    bot.sandbox.add_user(OWNER, "Sari", language_code="id")
    await bot.text(OWNER, "/start")
    await bot.press(OWNER, "Bahasa Indonesia")
    assert bot.step(OWNER) == "consent"
    await bot.text(OWNER, "/start")
    texts = bot.texts(OWNER)
    assert texts[-1].startswith("Kita lanjutkan yang tadi, ya.\n\n")
    assert "Apakah Anda setuju?" in texts[-1]
    assert not any("jawab pertanyaannya dulu" in t for t in texts)
    assert bot.step(OWNER) == "consent"
    await bot.press(OWNER, "Setuju")
    await bot.text(OWNER, "/start")
    assert bot.last_text(OWNER).startswith("Kita lanjutkan yang tadi, ya.")
    assert bot.step(OWNER) == "role"


async def test_language_switch_sets_chat_menu_in_that_language(bot: BotHarness) -> None:
    bot.sandbox.add_user(OWNER, "Sari", language_code="id")
    await bot.text(OWNER, "/start")
    await bot.press(OWNER, "English")
    calls = [c for c in bot.sandbox.calls_of("setMyCommands")
             if (c.params.get("scope") or {}).get("chat_id") == OWNER]
    assert calls, "the menu is set for the chat after a language change"
    descriptions = [cmd["description"] for cmd in calls[-1].params["commands"]]
    assert "Change language" in descriptions
    user = await _user(bot, OWNER)
    assert user is not None and user.language == "en"


async def test_help_depends_on_role_and_names_the_inspectorate(bot: BotHarness) -> None:
    await bot.text(STAFF_ID, "/help")
    text = bot.last_text(STAFF_ID)
    assert "/pending" in text and "pengawas ketenagakerjaan" in text
    await bot.text(OWNER, "/help")
    assert "/pending" not in bot.last_text(OWNER)
    assert "/start" in bot.last_text(OWNER)


async def test_privacy_says_what_is_kept(bot: BotHarness) -> None:
    bot.sandbox.add_user(OWNER, "Jane", language_code="en")
    await bot.text(OWNER, "/privacy")
    assert "UU PDP" in bot.last_text(OWNER)


async def test_unknown_command_and_stray_message_get_a_hint(bot: BotHarness) -> None:
    await factories.user(bot, OWNER, name="Jane", language="en")
    await bot.text(OWNER, "/frobnicate")
    assert "do not know that command" in bot.last_text(OWNER)
    await bot.text(OWNER, "hello there")
    assert "/help" in bot.last_text(OWNER)
    bot.sandbox.send_sticker(OWNER)
    await bot.settle()
    assert "/help" in bot.last_text(OWNER)


async def test_group_chat_is_told_once_and_nothing_else(bot: BotHarness) -> None:
    bot.sandbox.send_group_text(OWNER, -500, "/start")
    await bot.settle()
    bot.sandbox.send_group_text(OWNER, -500, "/help")
    await bot.settle()
    sent = [c for c in bot.sandbox.calls_of("sendMessage") if c.params["chat_id"] == -500]
    assert len(sent) == 1
    assert "chat pribadi" in sent[0].params["text"]
    async with bot.sessionmaker() as session:
        assert (await session.scalars(select(GroupChat))).all()
        assert await session.get(User, OWNER) is None


async def test_staff_role_comes_from_staff_ids_never_chosen(bot: BotHarness) -> None:
    await bot.text(STAFF_ID, "/pending")
    assert "Tidak ada" in bot.last_text(STAFF_ID) or "No enrolment" in bot.last_text(STAFF_ID)
    await bot.text(OWNER, "/pending")
    assert "/pending" not in bot.last_text(OWNER)
    assert "do not know that command" in bot.last_text(OWNER) or "tidak dikenal" in \
        bot.last_text(OWNER)
    user = await _user(bot, OWNER)
    assert user is not None and user.role is None


async def test_staff_get_their_menu_from_the_start(bot: BotHarness) -> None:
    menus = [c for c in bot.sandbox.calls_of("setMyCommands")
             if (c.params.get("scope") or {}).get("chat_id") == STAFF_ID]
    assert menus and "pending" in [cmd["command"] for cmd in menus[-1].params["commands"]]


async def test_a_word_typed_at_the_language_question_is_one_message_without_the_greeting(
        bot: BotHarness) -> None:
    bot.sandbox.add_user(7301, "Sari", language_code="id")
    await bot.text(7301, "/start")
    assert "Selamat datang" in bot.last_text(7301)
    await bot.text(7301, "halo")
    assert bot.replies(7301) == ["Silakan pilih salah satu tombol di bawah ini.\n\n"
                                 "Silakan pilih bahasa."]
