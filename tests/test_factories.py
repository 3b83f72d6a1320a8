"""The factories' world is the one the bot sees: a factory that drifted from what the
journeys store (a role, a membership, a code) shows here rather than in a puzzling test."""

from __future__ import annotations

from tests import factories
from tests.conftest import STAFF_ID
from tests.harness import BotHarness

OWNER, WORKER, ADMIN, NEWCOMER = 1001, 2001, 2002, 1002


async def test_owner_worker_admin_and_staff_as_the_bot_sees_them(bot: BotHarness) -> None:
    maju = await factories.enterprise(bot, owner=OWNER, owner_language="en", code="MAJU23")
    assert maju.join_code == "MAJU23"
    await factories.worker(bot, WORKER, maju, language="en")
    await factories.worker(bot, ADMIN, maju, role="admin", language="en")
    await factories.enterprise(bot, owner=NEWCOMER, name="PT Baru Jaya", status="pending")
    await factories.staff(bot)
    await factories.staff(bot, 4001, name="Dewi")  # promoted, not in STAFF_IDS

    await bot.text(OWNER, "/code")
    assert "MAJU23" in "\n".join(bot.texts(OWNER))
    await bot.text(WORKER, "/leave")
    assert "PT Maju Jaya" in bot.last_text(WORKER)
    await bot.text(ADMIN, "/code")
    assert "for the owner of the enterprise" in bot.last_text(ADMIN)
    for staff_id in (STAFF_ID, 4001):
        await bot.text(staff_id, "/pending")
        assert "PT Baru Jaya" in bot.last_text(staff_id)
        assert "PT Maju Jaya" not in bot.last_text(staff_id)
