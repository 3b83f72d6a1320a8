"""The survey calendar from wherever the clock starts: `make test-dates` runs this module (and
the other tests marked `dates`) with the clock at each instant that has broken a calendar
before (tests/clocks.py). Nothing here names a date: what must hold is said relative to the
clock, so the same test checks the first working day at 08:59 and 09:01, a round closing in
one zone and not yet in another, a year turning in WIT but not in WIB, 29 February, and cuti
bersama around Idul Fitri."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from chat.clock import FakeClock
from chat.context import services_of
from db.models import OutboxContent, OutboxGroup, OutboxMessage, SurveyRound
from domain import survey_calendar as calendar
from domain.provinces import WIB, WIT, WITA
from jobs.survey_rounds import run_rounds
from services.surveys import rounds
from tests import factories
from tests.harness import BotHarness

pytestmark = pytest.mark.dates

# One enterprise in each zone: its owner gets the KPI invitation, its workers the pulse.
ZONE_OF = {1001: WIB, 1002: WITA, 1003: WIT}
PROVINCE = {WIB: "JB", WITA: "SN", WIT: "PA"}
WORKERS = {1001: 2001, 1002: 2002, 1003: 2003}
STEP = timedelta(hours=3)
DAYS = 45


async def _world(bot: BotHarness) -> None:
    for owner, zone in ZONE_OF.items():
        maju = await factories.enterprise(bot, owner=owner, name=f"PT Zona {owner}",
                                          province=PROVINCE[zone], city="Kota")
        await factories.worker(bot, WORKERS[owner], maju)


async def _walk(bot: BotHarness, clock: FakeClock, days: int) -> datetime:
    """The round job every three hours, as the running bot would, for `days` from now."""
    svc = services_of(bot.app)  # type: ignore[arg-type]
    end = clock.now() + timedelta(days=days)
    while clock.now() < end:
        await run_rounds(svc)
        clock.advance(STEP.total_seconds())
    await run_rounds(svc)
    return clock.now()


async def _messages(bot: BotHarness) -> list[tuple[str, int, datetime, datetime | None, str]]:
    """(group key, recipient, send time, expiry, text) of every survey message queued."""
    async with bot.sessionmaker() as session:
        rows = (await session.execute(
            select(OutboxGroup.key, OutboxMessage.recipient_id, OutboxMessage.next_attempt_at,
                   OutboxMessage.expires_at, OutboxContent.text)
            .join(OutboxContent, OutboxContent.id == OutboxMessage.content_id)
            .join(OutboxGroup, OutboxGroup.id == OutboxContent.group_id)
            .where(OutboxGroup.key.like("survey:%")))).all()
    return [tuple(row) for row in rows]  # type: ignore[misc]


async def _rounds(bot: BotHarness) -> list[SurveyRound]:
    async with bot.sessionmaker() as session:
        return list((await session.scalars(select(SurveyRound))).all())


def _local(moment: datetime, zone: str) -> datetime:
    return moment.astimezone(ZoneInfo(zone))


async def test_six_weeks_of_rounds_from_any_instant(quiet_bot: BotHarness,
                                                    clock: FakeClock) -> None:
    await _world(quiet_bot)
    start = clock.now()
    end = await _walk(quiet_bot, clock, DAYS)
    found = await _rounds(quiet_bot)
    assert found, "six weeks always hold a round that opens or is open"
    by_id = {r.id: r for r in found}
    for round_ in found:
        # Planned rounds open on a working day (no weekend, holiday or cuti bersama), close
        # on the 20th, and were recorded only while they could still ask someone.
        assert calendar.is_working_day(round_.opens_on), round_.opens_on
        assert round_.closes_on.day == 20 and round_.closes_at > round_.created_at
        assert round_.period < round_.opens_on and round_.opens_on.day <= 20
        # Every round whose opening day has begun in the easternmost zone was opened, and
        # every round past its close was closed, by the job alone.
        opened_by_end = round_.opens_on <= _local(end, WIT).date()
        assert (round_.queued_at is not None) == opened_by_end, (round_.period, start)
        assert (round_.closed_at is not None) == (round_.closes_at <= end - STEP)
    messages = await _messages(quiet_bot)
    for key, who, at, expires, text in messages:
        round_ = by_id[int(key.split(":")[1])]
        owner = who if who in ZONE_OF else next(o for o, w in WORKERS.items() if w == who)
        zone = ZONE_OF[owner]
        local = _local(at, zone)
        planned = rounds.send_moment(round_.survey, round_.opens_on, zone)
        # Never before the local send time of the opening day; never in Friday prayers;
        # never after the close (everything expires with the round).
        assert at >= planned, (key, local, start)
        assert expires == round_.closes_at and at < round_.closes_at
        prayers = calendar.FRIDAY_PRAYERS
        assert not (local.weekday() == 4 and prayers[0] <= local.time() < prayers[1]), local
        if key.endswith(":invite") and at > planned:
            # Sent later than planned only when the bot first saw the round after that.
            assert at - start < STEP + timedelta(minutes=1), (key, local, start)
        # The message names the month that ended before the round opened.
        month = calendar.month_only(round_.period, "id")
        assert month in text, (text, round_.period)
        assert (who in ZONE_OF) == (round_.survey == "kpi")


async def test_a_round_is_never_planned_for_a_month_still_running(quiet_bot: BotHarness,
                                                                   clock: FakeClock) -> None:
    await _world(quiet_bot)
    await _walk(quiet_bot, clock, 1)
    now = clock.now()
    for round_ in await _rounds(quiet_bot):
        # The month asked about has ended everywhere by the time anything is sent.
        month_end = (round_.period.replace(day=28) + timedelta(days=4)).replace(day=1)
        assert _local(now, WIB).date() >= month_end or round_.queued_at is None
        assert round_.period == calendar.previous_period(round_.opens_on)


def test_the_previous_month_is_the_one_asked_about_in_every_zone(clock: FakeClock) -> None:
    """Around a month's turn the zones disagree on the date: the month a round asks about is
    the one before the day in WIB, where rounds are planned."""
    now = clock.now()
    today = _local(now, WIB).date()
    period = calendar.previous_period(today)
    assert period.day == 1 and period < today.replace(day=1) <= today
    assert (today.replace(day=1) - timedelta(days=1)).replace(day=1) == period
    # A day later in WIT, never a month asked about twice or skipped.
    wit = calendar.previous_period(_local(now, WIT).date())
    assert wit in (period, (period + timedelta(days=32)).replace(day=1))
    assert isinstance(wit, date)
