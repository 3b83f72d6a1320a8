"""What an attacker can send: odd callback data, forged log lines, numbers typed as
commands. Nothing reaches a handler, nothing personal reaches the log, nothing crashes."""

from __future__ import annotations

import logging

import pytest

from tests.harness import BotHarness
from tests.journeys import onboard

OWNER = 1001


@pytest.mark.parametrize("data", [
    "sector|abc|metal|ÄÄÄÄÄÄÄÄÄÄ",      # a signature that is not ASCII
    "sector|abc|metal|AAAA",            # too short
    "sector|abc|metal",                 # a part missing
    "sector|abc|metal|AAAAAAAAAA|x",    # a part too many
    "",                                 # nothing
    "sector|ab\nc|metal|AAAAAAAAAA",    # a newline
    "séctor|abc|metal|AAAAAAAAAA",      # not ASCII elsewhere
])
async def test_malformed_callback_data_is_forged_quietly(bot: BotHarness, data: str,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    await onboard(bot, OWNER, "en")
    await bot.text(OWNER, "PT Maju")
    before = len(bot.sandbox.calls)
    with caplog.at_level(logging.INFO):
        bot.sandbox.press(OWNER, data)
        await bot.settle()
    assert "forged button" in caplog.text
    assert "Traceback" not in caplog.text and not any(r.exc_info for r in caplog.records)
    sends = [c.method for c in bot.sandbox.calls[before:]
             if c.method in ("sendMessage", "editMessageText", "answerCallbackQuery")]
    assert sends == []
    assert bot.step(OWNER) == "e_sector"


async def test_user_input_cannot_split_or_fill_log_lines(bot: BotHarness,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    await onboard(bot, OWNER, "en")
    with caplog.at_level(logging.INFO):
        bot.sandbox.press(OWNER, "x\nINFO forged line|a|b|AAAAAAAAAA")
        await bot.settle()
        await bot.text(OWNER, "/08123456789")
        await bot.text(OWNER, "/help")
    for record in caplog.records:
        assert "\n" not in record.getMessage()
    assert "08123456789" not in caplog.text
    assert "command:other" in caplog.text and "command:/help" in caplog.text


async def test_an_update_naming_another_users_chat_is_refused(
        bot: BotHarness, caplog: pytest.LogCaptureFixture) -> None:
    victim, attacker = 1001, 6666
    await onboard(bot, victim, "en")
    bot.sandbox.add_user(attacker, "Mallory", language_code="en")
    before = len(bot.sandbox.calls)
    with caplog.at_level(logging.WARNING):
        bot.sandbox.send_into_chat_of(attacker, victim, "/help")
        await bot.settle()
    assert "naming another private chat refused" in caplog.text
    assert [c for c in bot.sandbox.calls[before:] if c.method == "sendMessage"] == []
