"""Staff notices of a new enrolment go through the outbox: every staff member, retried when a
chat fails, buttons signed when sent, edited or dropped once someone decides."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from bot.telegram_channel import TelegramChannel
from chat.clock import FakeClock
from chat.context import services_of
from db.models import EnterpriseStatus, OutboxMessage, OutboxState, Role, User, UserStatus
from jobs.outbox import OutboxSender, SenderConfig
from sandbox import SandboxMessage
from tests.conftest import OTHER_STAFF_ID, STAFF_ID
from tests.harness import BotHarness
from tests.journeys import enrol, enterprise_of

OWNER = 1001
PROMOTED = 3005


@pytest.fixture
async def bot(clocked_bot: BotHarness, clock: FakeClock) -> AsyncIterator[BotHarness]:
    """The Application and its sender on the virtual clock, so a retry can be waited for."""
    harness = clocked_bot
    assert harness.app is not None
    svc = services_of(harness.app)
    sender = OutboxSender(harness.sessionmaker, TelegramChannel(harness.app.bot, svc.signer),
                          clock=clock, config=SenderConfig(rate=25, in_flight=4))
    svc.sender = sender  # woken by queueing, stopped with the app
    sender.start()
    yield harness


async def _staff(bot: BotHarness) -> None:
    """Both STAFF_IDS members have written to the bot; a third was promoted with /staff."""
    for staff in (STAFF_ID, OTHER_STAFF_ID):
        bot.sandbox.add_user(staff, f"Staff {staff}", language_code="en")
        await bot.text(staff, "/help")
    bot.sandbox.open_chat(PROMOTED, "Rina", language_code="id")
    async with bot.sessionmaker() as session, session.begin():
        now = bot.clock.now()
        session.add(User(id=PROMOTED, name="Rina", language="id", role=Role.STAFF,
                         consent_at=now, status=UserStatus.ACTIVE, created_at=now,
                         last_seen_at=now))


def _notice(bot: BotHarness, chat: int) -> SandboxMessage | None:
    found = [m for m in bot.sandbox.messages(chat) if "PT Maju Jaya" in (m.text or "")]
    return found[-1] if found else None


async def _rows(bot: BotHarness) -> dict[int, OutboxMessage]:
    async with bot.sessionmaker() as session:
        return {r.recipient_id: r for r in await session.scalars(select(OutboxMessage))}


async def test_every_staff_member_gets_the_notice_a_failed_chat_is_retried(
        bot: BotHarness, clock: FakeClock, caplog: pytest.LogCaptureFixture) -> None:
    await _staff(bot)
    bot.sandbox.fail("sendMessage", chat_id=OTHER_STAFF_ID, error_code=502,
                     description="Bad Gateway", times=1)
    enterprise = await enrol(bot, OWNER, "id")
    # Each in their own language, with the buttons signed for them when sent.
    signer = services_of(bot.app).signer  # type: ignore[arg-type]
    english, indonesian = _notice(bot, STAFF_ID), _notice(bot, PROMOTED)
    assert english is not None and "New enrolment" in (english.text or "")
    assert indonesian is not None and "Pendaftaran baru" in (indonesian.text or "")
    assert english.buttons[0][0]["callback_data"] == signer.data(STAFF_ID, "apr",
                                                                  str(enterprise.id))
    assert _notice(bot, OTHER_STAFF_ID) is None  # that chat failed: retried later
    clock.advance(3)
    await bot.delivered()
    assert _notice(bot, OTHER_STAFF_ID) is not None
    assert (await _rows(bot))[OTHER_STAFF_ID].attempts == 1
    # A button whose signature was tampered with does nothing: the gate refuses it.
    data = indonesian.buttons[0][0]["callback_data"]
    tampered = data[:-1] + ("A" if data[-1] != "A" else "B")
    with caplog.at_level(logging.WARNING):
        bot.sandbox.press(PROMOTED, tampered, message_id=indonesian.message_id)
        await bot.settle()
    assert "forged button" in caplog.text
    assert (await enterprise_of(bot, OWNER)).status == EnterpriseStatus.PENDING
    # The promoted staff member approves with the genuine button: everyone's copy follows.
    bot.sandbox.press(PROMOTED, data, message_id=indonesian.message_id)
    await bot.settle()
    decided = await enterprise_of(bot, OWNER)
    assert decided.status == EnterpriseStatus.APPROVED and decided.decided_by == PROMOTED
    for chat in (STAFF_ID, OTHER_STAFF_ID, PROMOTED):
        notice = _notice(bot, chat)
        assert notice is not None and not notice.buttons
    assert "Approved by Rina" in (_notice(bot, STAFF_ID).text or "")  # type: ignore[union-attr]
    assert "Disetujui oleh Rina" in (_notice(bot, PROMOTED).text or "")  # type: ignore[union-attr]


async def test_a_notice_not_sent_yet_is_dropped_when_someone_decides(
        bot: BotHarness, clock: FakeClock) -> None:
    await _staff(bot)
    bot.sandbox.fail("sendMessage", chat_id=OTHER_STAFF_ID, error_code=502,
                     description="Bad Gateway", times=1)
    await enrol(bot, OWNER, "en")
    # /pending still lists it, with its buttons.
    await bot.text(STAFF_ID, "/pending")
    assert "PT Maju Jaya" in bot.last_text(STAFF_ID)
    await bot.press(STAFF_ID, "Approve")
    assert (await enterprise_of(bot, OWNER)).status == EnterpriseStatus.APPROVED
    row = (await _rows(bot))[OTHER_STAFF_ID]
    assert row.state == OutboxState.SKIPPED and row.last_error == "decided"
    clock.advance(60)
    services_of(bot.app).wake_sender()  # type: ignore[arg-type]
    await bot.delivered()
    assert _notice(bot, OTHER_STAFF_ID) is None  # never sent after the decision
    assert "Disetujui oleh Staff 9001" in (_notice(bot, PROMOTED).text or "")  # type: ignore[union-attr]


async def test_a_changed_enrolment_replaces_its_unsent_notices(bot: BotHarness,
                                                               clock: FakeClock) -> None:
    await _staff(bot)
    bot.sandbox.fail("sendMessage", chat_id=OTHER_STAFF_ID, error_code=502,
                     description="Bad Gateway", times=1)
    await enrol(bot, OWNER, "en", workers="120")
    # The owner corrects the enrolment while it waits.
    await bot.text(OWNER, "/enrol")
    await bot.press(OWNER, "Workers")
    await bot.text(OWNER, "150")
    await bot.press(OWNER, "Confirm")
    clock.advance(60)
    services_of(bot.app).wake_sender()  # type: ignore[arg-type]
    await bot.delivered()
    # The first version's notice to the failed chat was replaced, never sent.
    notices = [m.text or "" for m in bot.sandbox.messages(OTHER_STAFF_ID)
               if "PT Maju Jaya" in (m.text or "")]
    assert len(notices) == 1 and "Workers: 150" in notices[0]

