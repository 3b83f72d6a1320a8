"""Enterprises that qualify for a workshop after it was saved are invited to it, once,
through the real Application: one approved by staff later, one that takes module 1 later
(modules 2 to 5), one that adds the module to its interests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from chat.clock import FakeClock
from chat.context import Services, services_of
from config.settings import Settings
from db import workshops as workshops_db
from db.models import EnterpriseStatus, Workshop, WorkshopInvite
from sandbox import BotApiSandbox
from services import workshops
from tests import factories
from tests.conftest import STAFF_ID
from tests.harness import BotHarness

START = datetime(2026, 12, 8, 3, 0, tzinfo=UTC)  # Tuesday 8 December 2026, 10.00 WIB
OWNER, ADMIN, LATE = 1001, 1002, 1003


@pytest.fixture
async def wbot(settings: Settings, sandbox: BotApiSandbox) -> AsyncIterator[BotHarness]:
    harness = BotHarness(settings, sandbox, clock=FakeClock(START))
    await harness.start()
    try:
        yield harness
    finally:
        await harness.stop()


def _svc(bot: BotHarness) -> Services:
    assert bot.app is not None
    return services_of(bot.app)


async def _saved(bot: BotHarness, *, module: int = 1, lat: float | None = -6.24,
                 starts_at: datetime = datetime(2026, 12, 18, 2, 0, tzinfo=UTC)) -> int:
    created = await workshops.create(_svc(bot), workshops_db.WorkshopFields(
        module=module, province="JB", city="Bekasi", venue="Hotel Santika",
        venue_lat=lat, venue_lon=107.0 if lat is not None else None, starts_at=starts_at,
        days=2, notes_id=None, notes_en=None), staff_id=STAFF_ID)
    await bot.delivered()
    return created.workshop_id


async def _invited(bot: BotHarness, workshop_id: int) -> list[int]:
    async with bot.sessionmaker() as session:
        return list(await session.scalars(select(WorkshopInvite.enterprise_id).where(
            WorkshopInvite.workshop_id == workshop_id).order_by(WorkshopInvite.id)))


async def test_an_enterprise_approved_later_is_invited_once(wbot: BotHarness) -> None:
    bot = wbot
    await factories.staff(bot)
    await factories.enterprise(bot, owner=OWNER, modules=(1,))
    first = await _saved(bot)
    # A cancelled workshop does not invite it.
    cancelled = await _saved(bot, starts_at=datetime(2026, 12, 22, 2, 0, tzinfo=UTC))
    async with bot.sessionmaker() as session, session.begin():
        found = await session.get(Workshop, cancelled)
        assert found is not None
        await workshops.cancel(_svc(bot), found)
    await bot.delivered()
    late = await factories.enterprise(bot, owner=LATE, name="PT Baru", modules=(1,),
                                      status=EnterpriseStatus.PENDING, owner_language="en")
    await factories.worker(bot, ADMIN, late, role="admin", name="Dewi", language="en")
    before = len(bot.sandbox.messages(OWNER))
    await bot.text(STAFF_ID, "/pending")
    await bot.press(STAFF_ID, "Approve")
    assert await _invited(bot, first) == [1, late.id]
    assert await _invited(bot, cancelled) == [1]
    for person in (LATE, ADMIN):
        invitation, pin = [m for m in bot.sandbox.messages(person) if m.venue is not None
                           or b"BEGIN:VCALENDAR" in (m.document or b"")]
        assert invitation.document is not None
        assert "invited to a SCORE workshop" in (invitation.text or "")
        assert pin.venue is not None
    # The owner who was invited at first gets nothing again.
    assert len(bot.sandbox.messages(OWNER)) == before


async def test_taking_module_one_invites_to_the_next_modules(wbot: BotHarness) -> None:
    bot = wbot
    await factories.staff(bot)
    await factories.enterprise(bot, owner=OWNER, modules=(1, 2))
    first = await _saved(bot)
    second = await _saved(bot, module=2, lat=None,
                          starts_at=datetime(2027, 1, 20, 2, 0, tzinfo=UTC))
    assert await _invited(bot, second) == []
    await bot.press(OWNER, "Saya akan hadir")
    await bot.text(OWNER, "Budi Santoso")
    await bot.press(OWNER, "Laki-laki")
    await bot.press(OWNER, "Manajer")
    await bot.press(OWNER, "Selesai")
    clock = _svc(bot).clock
    assert isinstance(clock, FakeClock)
    clock.advance((datetime(2026, 12, 18, 9, 0, tzinfo=UTC) - clock.now()).total_seconds())
    before = len(bot.sandbox.messages(OWNER))
    await bot.text(STAFF_ID, "/workshop")
    await bot.press(STAFF_ID, "1.")
    await bot.press(STAFF_ID, "Attendance")
    await bot.press(STAFF_ID, "Budi Santoso")
    await bot.delivered()
    assert await _invited(bot, second) == [1]
    invitation = bot.sandbox.messages(OWNER)[before]
    assert invitation.document is not None and "modul 2" in (invitation.text or "")
    # Ticked off and on again: invited once.
    await bot.press(STAFF_ID, "Budi Santoso")
    await bot.press(STAFF_ID, "Budi Santoso")
    await bot.delivered()
    assert await _invited(bot, second) == [1]
    assert len(bot.sandbox.messages(OWNER)) == before + 1
    assert first


async def test_adding_the_module_invites(wbot: BotHarness) -> None:
    bot = wbot
    await factories.staff(bot)
    await factories.enterprise(bot, owner=OWNER, modules=(5,), owner_language="en")
    first = await _saved(bot, lat=None)
    assert await _invited(bot, first) == []
    await bot.text(OWNER, "/enrol")
    await bot.press(OWNER, "✏️ Modules")
    await bot.press(OWNER, "1.")
    await bot.press(OWNER, "Done")
    await bot.press(OWNER, "Confirm")
    await bot.delivered()
    assert await _invited(bot, first) == [1]
    assert "invited to a SCORE workshop" in bot.last_text(OWNER)
