"""The enterprise KPI report through the bot: opened from the invitation, every item typed
or "not recorded", the rates shown back, confirmed, stored answer by answer."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select

from bot.survey_admin import open_now
from chat.clock import FakeClock
from db.models import ResponseStatus, SurveyAnswer, SurveyResponse
from tests import factories
from tests.harness import BotHarness

OWNER = 1001

# 2 December 2026, 03:00 UTC = 10:00 WIB: the November round opened yesterday.
NOW = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)


async def _open(bot: BotHarness, survey: str = "kpi", period: str = "2026-11") -> str:
    return await open_now(bot.settings, survey, period, clock=bot_clock(bot))


def bot_clock(bot: BotHarness) -> FakeClock:
    from chat.context import services_of
    assert bot.app is not None
    clock = services_of(bot.app).clock
    assert isinstance(clock, FakeClock)
    return clock


ANSWERS = ["120", "45", "22", "30", "21.000", "2", "1", "0", "15.000", "300", "1",
           "1", "3", "0", "4", "12.500,5"]


async def test_owner_reports_the_kpis_from_the_invitation(survey_bot: BotHarness) -> None:
    bot = survey_bot
    maju = await factories.enterprise(bot, owner=OWNER)
    said = await _open(bot)
    assert "1 invitations" in said
    await bot.delivered()
    invitation = bot.sandbox.last_message(OWNER)
    assert "November" in (invitation.text or "")
    await bot.press(OWNER, "Isi laporan")
    assert "1/16" in bot.last_text(OWNER)
    for answer in ANSWERS:
        await bot.text(OWNER, answer)
    summary = bot.last_text(OWNER)
    assert "Jumlah pekerja: 120" in summary
    assert "12.500,5" in summary
    await bot.press(OWNER, "Ya, kirim laporan")
    async with bot.sessionmaker() as session:
        response = await session.scalar(select(SurveyResponse))
        assert response is not None and response.enterprise_id == maju.id
        assert response.status is ResponseStatus.FINAL
        rows = {a.question: a for a in await session.scalars(select(SurveyAnswer))}
    assert rows["hours_worked"].number == Decimal(21000)
    assert rows["hours_worked"].raw == "21.000"
    assert rows["electricity_kwh"].number == Decimal("12500.5")
    assert len(rows) == 16
