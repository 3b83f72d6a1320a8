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


# Every item, in the order of domain/questionnaires/kpi.toml, as an owner would type them.
ANSWERS = {
    "headcount": "120", "women": "45", "workdays": "22", "days_absent": "30",
    "hours_worked": "21.000", "left_resigned": "2", "left_contract_ended": "1",
    "left_dismissed": "0", "units_produced": "15.000", "units_rejected": "300",
    "customer_claims": "1", "lost_time_accidents": "1", "accident_days_lost": "3",
    "fatal_accidents": "0", "suggestions_implemented": "4", "electricity_kwh": "12.500,5",
}


async def answer_all(bot: BotHarness, user: int, answers: dict[str, str],
                     skip: str = "Tidak dicatat") -> None:
    for value in answers.values():
        if value == "-":
            await bot.press(user, skip)
        else:
            await bot.text(user, value)
