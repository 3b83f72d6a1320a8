"""No reply is lost to Telegram's flood control: the sandbox in strict mode answers 429 as
Telegram does beyond about 30 messages a second in all and short bursts to one chat."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.flood_limits import SharedBudget
from chat.clock import FAKE_START, FakeClock, RealClock
from chat.context import services_of
from config.settings import Settings
from db import contact
from domain.reply_waits import summary
from jobs.outbox_watch import report_reply_waits
from sandbox import BotApiSandbox, SandboxBot
from tests.conftest import STAFF_ID
from tests.harness import BotHarness
from tests.journeys import onboard
from tests.outbox_helpers import add_recipients, deliveries, queue

OWNER = 1001
NEWCOMERS = range(7000, 7040)
ASKING = range(7100, 7130)
RECIPIENTS = range(8000, 8075)


@pytest.fixture
async def strict_bot(settings: Settings, sandbox: BotApiSandbox) -> AsyncIterator[BotHarness]:
    sandbox.strict_limits = True
    # Telegram's limits are counted in real seconds by the sandbox: the budget that keeps
    # under them must count the same seconds.
    harness = BotHarness(settings, sandbox, clock=RealClock())
    await harness.start()
    try:
        yield harness
    finally:
        await harness.stop()


async def test_forty_newcomers_in_the_same_second_are_all_answered(
        strict_bot: BotHarness) -> None:
    bot = strict_bot
    for user_id in NEWCOMERS:
        bot.sandbox.add_user(user_id, f"User {user_id}", language_code="en")
    for user_id in NEWCOMERS:
        bot.sandbox.send_text(user_id, "/start")
    await bot.settle()
    for user_id in NEWCOMERS:
        assert "choose your language" in bot.last_text(user_id)
    # Not by luck after refusals: the budget kept every send under the limits.
    assert bot.sandbox.limit_hits == 0


async def test_questions_during_a_broadcast_are_all_answered_first(
        strict_bot: BotHarness) -> None:
    bot = strict_bot
    await add_recipients(bot, RECIPIENTS)
    for user_id in ASKING:
        bot.sandbox.add_user(user_id, f"User {user_id}", language_code="en")
    await queue(bot, RECIPIENTS)
    bot.app.bot_data["services"].wake_sender()  # type: ignore[union-attr]
    await bot.sandbox.wait_until(lambda: len(deliveries(bot.sandbox)) >= 10, timeout=20)
    for user_id in ASKING:
        bot.sandbox.send_text(user_id, "/help")
    await SandboxBot.settle(bot)  # the questions only, not the whole broadcast
    for user_id in ASKING:
        assert "/language" in bot.last_text(user_id)
    # The broadcast was still going: the replies did not wait for it (an order, not a time:
    # a timed assertion fails on a busy machine, not on a slow bot).
    assert len(deliveries(bot.sandbox)) < len(RECIPIENTS)
    await bot.sandbox.wait_until(lambda: len(deliveries(bot.sandbox)) >= len(RECIPIENTS),
                                 timeout=40)
    assert set(deliveries(bot.sandbox).values()) == {1}
    assert bot.sandbox.limit_hits == 0


async def test_a_reply_refused_with_429_is_sent_again(bot: BotHarness) -> None:
    await onboard(bot, OWNER, "en")
    await bot.text(OWNER, "PT Maju")
    bot.sandbox.fail("sendMessage", chat_id=OWNER, error_code=429, retry_after=1)
    await bot.press(OWNER, "Auto parts")
    # The province question came, after the wait: the conversation did not move on unseen.
    assert "province" in bot.last_text(OWNER)
    assert bot.step(OWNER) == "e_province"


async def test_a_handler_that_fails_after_answering_a_button_still_apologises(
        bot: BotHarness) -> None:
    await onboard(bot, OWNER, "en")
    await bot.text(OWNER, "PT Maju")
    bot.sandbox.fail("sendMessage", chat_id=OWNER, error_code=500, times=1)
    await bot.press(OWNER, "Auto parts")
    # The sector was kept and the province question was lost on the way: it comes again,
    # the apology its first line, so what is typed next answers the question the user saw.
    [reply] = bot.replies(OWNER)
    assert "something went wrong" in reply and "province" in reply


async def test_one_users_flood_does_not_delay_anyone_else(bot: BotHarness) -> None:
    flooder, other = 6001, 6002
    bot.sandbox.add_user(flooder, "Flood", language_code="en")
    bot.sandbox.add_user(other, "Sari", language_code="en")
    for _ in range(3000):
        bot.sandbox.send_sticker(flooder)
    bot.sandbox.send_text(other, "/start")
    await bot.sandbox.wait_until(
        lambda: any("choose your language" in t for t in bot.sandbox.texts(other)), timeout=20)
    # Served while the flood was still being worked through, not after it.
    assert len(bot.sandbox.texts(flooder)) < 200
    await bot.settle(timeout=60)
    # Most of the flood was dropped rather than answered.
    assert len(bot.sandbox.texts(flooder)) < 300


async def test_staff_see_how_long_replies_waited_for_telegrams_limit(
        settings: Settings, sandbox: BotApiSandbox, caplog: pytest.LogCaptureFixture) -> None:
    """Twenty-five newcomers at once under a budget of two messages a second (virtual time:
    the waits are the budget's, not the machine's): the watch reports them once (the log,
    and /broadcasts for staff), then nothing for a quiet minute."""
    clock = FakeClock(FAKE_START)
    bot = BotHarness(settings, sandbox, clock=clock,
                     flood_budget=SharedBudget(overall=2, per_chat=3, clock=clock))
    await bot.start()
    try:
        assert bot.app is not None
        svc = services_of(bot.app)
        assert svc.budget is not None
        newcomers = range(7000, 7025)
        for user_id in newcomers:
            bot.sandbox.add_user(user_id, f"User {user_id}", language_code="en")
        svc.budget.take_reply_waits()  # from a clean minute
        for user_id in newcomers:
            bot.sandbox.send_text(user_id, "/start")
        await bot.settle()
        with caplog.at_level(logging.WARNING, logger="jobs.outbox_watch"):
            report_reply_waits(svc)
        waits = svc.reply_waits
        assert waits is not None and waits.replies == len(newcomers) and waits.matters
        assert waits.waited >= 1 and waits.p95 >= 0.5
        assert "replies waited for Telegram's flood limit" in caplog.text
        bot.sandbox.add_user(STAFF_ID, "Rina", language_code="en")
        await bot.text(STAFF_ID, "/broadcasts")
        assert "Replies waited for Telegram's limit of about 30 messages a second, in the " \
               "minute until" in bot.last_text(STAFF_ID)
        assert f": {waits.waited} of {len(newcomers)}." in bot.last_text(STAFF_ID)
        # A quiet minute (one reply that did not wait) is not reported.
        caplog.clear()
        report_reply_waits(svc)
        assert "replies waited" not in caplog.text
    finally:
        await bot.stop()


def test_reply_waits_are_summed_up_and_reported_only_when_noticed() -> None:
    assert summary([]) is None
    quiet = summary([0.0] * 95 + [0.3] * 5)
    assert quiet is not None and quiet.waited == 5 and not quiet.matters
    slow = summary([0.0] * 94 + [0.6] * 6)
    assert slow is not None and slow.p95 == 0.6 and slow.matters
    one_long = summary([0.0] * 99 + [2.5])
    assert one_long is not None and one_long.p95 == 0.0 and one_long.matters
    # A few replies in a minute are not near the limit, however long one chat's burst waited.
    few = summary([0.0] * 9 + [3.0])
    assert few is not None and not few.matters


async def test_a_gate_that_fails_stops_the_update_with_one_apology(
        bot: BotHarness, monkeypatch: pytest.MonkeyPatch) -> None:
    """The database fails while the gate reads the user: one apology with the open question,
    and the update goes no further (the router never sees it without the user's role)."""
    await onboard(bot, OWNER, "en")
    await bot.text(OWNER, "PT Maju")
    real, failures = contact.user_who_wrote, [1]

    async def fails_once(*args: Any, **kwargs: Any) -> Any:
        if failures:
            failures.pop()
            raise RuntimeError("database away")
        return await real(*args, **kwargs)

    monkeypatch.setattr("handlers.gate.user_who_wrote", fails_once)
    await bot.text(OWNER, "auto parts please")
    [reply] = bot.replies(OWNER)
    assert "something went wrong" in reply and "What does your company make?" in reply
    assert bot.step(OWNER) == "e_sector" and bot.draft(OWNER)["enrol"]["name"] == "PT Maju"
    await bot.press(OWNER, "Auto parts")
    assert "province" in bot.last_text(OWNER)
