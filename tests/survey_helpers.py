"""What survey tests share: the virtual time they run at, and opening a round."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.survey_admin import open_now
from chat.clock import FakeClock
from chat.context import services_of
from tests.harness import BotHarness

# 2 December 2026, 03:00 UTC = 10:00 WIB: November's rounds opened yesterday.
NOW = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)


def clock_of(bot: BotHarness) -> FakeClock:
    assert bot.app is not None
    clock = services_of(bot.app).clock
    assert isinstance(clock, FakeClock)
    return clock


async def open_round(bot: BotHarness, survey: str = "kpi", period: str = "2026-11") -> str:
    """Open a round from the command line's function, and let its invitations go out."""
    said = await open_now(bot.settings, survey, period, clock=clock_of(bot))
    await bot.delivered()
    return said
