"""Messages at the right moment (issue 14, section 3; docs/decisions/0010), through the real
Application with its outbox sender, on a virtual clock:

- quiet hours: a broadcast due in the night reaches each recipient at 06.00 in their own
  zone (their enterprise's province; WIB without one), unless staff marked it urgent;
- one thing at a time: a bulk message to someone in the middle of a conversation waits
  until it ends, or has been idle ten minutes, and at most two hours; nobody else waits.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from chat.clock import FakeClock
from config.settings import Settings
from db.models import Broadcast, OutboxGroup, OutboxMessage, OutboxState
from db.queries.outbox import URGENT, Content, enqueue
from jobs.broadcasts import queue_due_broadcasts
from jobs.outbox_watch import check_stall
from sandbox import BotApiSandbox
from tests import factories
from tests.conftest import STAFF_ID
from tests.harness import BotHarness
from tests.outbox_helpers import deliveries
from tests.survey_helpers import ANSWERS, open_round

STAFF = STAFF_ID
WIB_WORKER, WIT_WORKER, NEWCOMER = 3001, 3002, 3003
# Monday 7 December 2026 (no holiday): 23.00 WIB is 01.00 WIT on Tuesday; 10.00 WIB is
# 12.00 WIT.
NIGHT = datetime(2026, 12, 7, 16, 0, tzinfo=UTC)
DAY = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)
# 06.00 on Tuesday 8 December in each zone.
MORNING_WIT = datetime(2026, 12, 7, 21, 0, tzinfo=UTC)
MORNING_WIB = datetime(2026, 12, 7, 23, 0, tzinfo=UTC)


async def _bot_at(settings: Settings, sandbox: BotApiSandbox,
                  start: datetime) -> AsyncIterator[tuple[BotHarness, FakeClock]]:
    clock = FakeClock(start)
    harness = BotHarness(settings, sandbox, clock=clock)
    await harness.start()
    try:
        yield harness, clock
    finally:
        await harness.stop()


@pytest.fixture
async def night(settings: Settings, sandbox: BotApiSandbox
                ) -> AsyncIterator[tuple[BotHarness, FakeClock]]:
    async for pair in _bot_at(settings, sandbox, NIGHT):
        yield pair


@pytest.fixture
async def day(settings: Settings, sandbox: BotApiSandbox
              ) -> AsyncIterator[tuple[BotHarness, FakeClock]]:
    async for pair in _bot_at(settings, sandbox, DAY):
        yield pair


async def _world(bot: BotHarness) -> None:
    """A worker in West Java (WIB), one in Papua (WIT), staff (no enterprise: WIB)."""
    await factories.staff(bot)
    maju = await factories.enterprise(bot, owner=1001, province="JB")
    papua = await factories.enterprise(bot, owner=1002, name="PT Timur", province="PA",
                                       city="Jayapura")
    await factories.worker(bot, WIB_WORKER, maju)
    await factories.worker(bot, WIT_WORKER, papua)


async def _compose(bot: BotHarness, text: str, *, when: str | None = None,
                   urgent: bool = False) -> str:
    """Staff write a broadcast to everyone; the summary shown before confirming."""
    await bot.text(STAFF, "/broadcast")
    await bot.text(STAFF, text)
    await bot.press(STAFF, "Skip")
    await bot.press(STAFF, "Done")
    if when is None:
        await bot.press(STAFF, "Send now")
    else:
        await bot.text(STAFF, when)
    if urgent:
        await bot.press(STAFF, "Urgent: send at once")
    return bot.last_text(STAFF)


async def _advance_to(bot: BotHarness, clock: FakeClock, moment: datetime) -> None:
    clock.advance((moment - clock.now()).total_seconds())
    await bot.delivered()


def _got(bot: BotHarness, text: str) -> dict[int, int]:
    """Who received the broadcast starting with `text`, how many times: staff's preview of
    it, sent while composing, is not one."""
    got = deliveries(bot.sandbox, text)
    got[STAFF] -= 1
    return {chat: n for chat, n in got.items() if n}


def _confirmation(bot: BotHarness) -> str:
    """What staff were told on confirming (the broadcast itself may have followed: staff are
    in the audience)."""
    return next(t for t in reversed(bot.texts(STAFF)) if t.startswith("Broadcast #"))


async def _due_times(bot: BotHarness) -> dict[int, datetime]:
    async with bot.sessionmaker() as session:
        rows = await session.execute(select(OutboxMessage.recipient_id,
                                            OutboxMessage.next_attempt_at))
        return dict(rows.all())


# --- quiet hours ------------------------------------------------------------------------------
async def test_a_broadcast_sent_at_night_waits_for_six_in_each_zone(
        night: tuple[BotHarness, FakeClock]) -> None:
    bot, clock = night
    await _world(bot)
    summary = await _compose(bot, "Halo malam")
    assert "When: now" in summary
    assert ("That is night time (21:00–06:00) in every zone: it goes out at 06:00 in each "
            "recipient's zone.") in summary
    await bot.press(STAFF, "Confirm")
    assert _confirmation(bot).startswith(
        "Broadcast #1 goes out at 06:00 in each recipient's zone: it is night now.")
    due = await _due_times(bot)
    assert due[WIB_WORKER] == MORNING_WIB and due[STAFF] == MORNING_WIB
    assert due[WIT_WORKER] == MORNING_WIT and due[1002] == MORNING_WIT

    await _advance_to(bot, clock, MORNING_WIT - timedelta(minutes=1))
    assert _got(bot, "Halo malam") == {}
    await _advance_to(bot, clock, MORNING_WIT)
    assert set(_got(bot, "Halo malam")) == {WIT_WORKER, 1002}
    await _advance_to(bot, clock, MORNING_WIB - timedelta(minutes=1))
    assert set(_got(bot, "Halo malam")) == {WIT_WORKER, 1002}
    await _advance_to(bot, clock, MORNING_WIB)
    assert _got(bot, "Halo malam") == {
        WIT_WORKER: 1, 1002: 1, WIB_WORKER: 1, 1001: 1, STAFF: 1}


async def test_an_urgent_broadcast_goes_at_once_at_night(
        night: tuple[BotHarness, FakeClock]) -> None:
    bot, _clock = night
    await _world(bot)
    summary = await _compose(bot, "Pabrik tutup besok", urgent=True)
    assert "Urgent</b>: it goes out at once, even at night" in summary or \
        "Urgent: it goes out at once, even at night" in summary
    assert "night time" not in summary
    # Changed their mind, and back: the summary follows.
    await bot.press(STAFF, "Not urgent: wait for daytime")
    assert "night time (21:00–06:00) in every zone" in bot.last_text(STAFF)
    await bot.press(STAFF, "Urgent: send at once")
    await bot.press(STAFF, "Confirm")
    assert "Broadcast #1 is on its way. Recipients: 5." in _confirmation(bot)
    await bot.delivered()
    assert set(_got(bot, "Pabrik tutup")) == {
        WIB_WORKER, WIT_WORKER, 1001, 1002, STAFF}
    async with bot.sessionmaker() as session:
        [broadcast] = (await session.scalars(select(Broadcast))).all()
    assert broadcast.urgent
    await bot.text(STAFF, "/broadcasts")
    assert "#1 · Finished" in bot.last_text(STAFF) and "Urgent" in bot.last_text(STAFF)


async def test_a_broadcast_scheduled_for_the_night_waits_too(
        day: tuple[BotHarness, FakeClock]) -> None:
    bot, clock = day
    await _world(bot)
    summary = await _compose(bot, "Jadwal", when="2026-12-07 22:00")
    assert "22:00 WIB" in summary and "night time (21:00–06:00) in every zone" in summary
    await bot.press(STAFF, "Confirm")
    said = _confirmation(bot)
    assert "is scheduled for" in said
    assert "That is night time in every zone: it goes out at 06:00 in each recipient's zone." \
        in said
    clock.advance((datetime(2026, 12, 7, 15, 0, tzinfo=UTC) - clock.now()).total_seconds())
    assert bot.app is not None
    assert len(await queue_due_broadcasts(bot.app)) == 1
    due = await _due_times(bot)
    assert due[WIB_WORKER] == MORNING_WIB and due[WIT_WORKER] == MORNING_WIT
    await bot.delivered()
    assert _got(bot, "Jadwal") == {}


async def test_evening_in_the_west_is_night_in_the_east(
        day: tuple[BotHarness, FakeClock]) -> None:
    bot, _clock = day
    await _world(bot)
    # 19.30 WIB is 20.30 WITA and 21.30 WIT.
    summary = await _compose(bot, "Sore", when="2026-12-07 19:30")
    assert ("That is night time (21:00–06:00) in WIT: recipients there get it at 06:00 their "
            "time.") in summary
    await bot.press(STAFF, "Confirm")
    assert "It is night then in WIT: recipients there get it at 06:00 their time." in \
        _confirmation(bot)


async def test_a_daytime_broadcast_goes_at_once(day: tuple[BotHarness, FakeClock]) -> None:
    bot, _clock = day
    await _world(bot)
    summary = await _compose(bot, "Halo siang")
    assert "night" not in summary
    assert "at most 2 hours later" in summary
    await bot.press(STAFF, "Confirm")
    assert "Broadcast #1 is on its way. Recipients: 5." in _confirmation(bot)
    assert set((await _due_times(bot)).values()) == {DAY}
    await bot.delivered()
    assert set(_got(bot, "Halo siang")) == {
        WIB_WORKER, WIT_WORKER, 1001, 1002, STAFF}


# --- one thing at a time ----------------------------------------------------------------------
async def _mid_enrolment(bot: BotHarness) -> None:
    """The newcomer is at the first question of enrolling their company."""
    await factories.user(bot, NEWCOMER, language="en")
    await bot.text(NEWCOMER, "/enrol")
    assert "name of your company" in bot.last_text(NEWCOMER)
    assert bot.open_flow(NEWCOMER) == "enrol"


async def _broadcast_now(bot: BotHarness, text: str) -> None:
    await _compose(bot, text)
    await bot.press(STAFF, "Confirm")


async def test_a_broadcast_waits_until_the_conversation_ends(
        day: tuple[BotHarness, FakeClock]) -> None:
    bot, clock = day
    await _world(bot)
    await _mid_enrolment(bot)
    await _broadcast_now(bot, "Info pelatihan")
    # Everyone else has it at once; the newcomer, answering, does not.
    assert set(_got(bot, "Info pelatihan")) == {
        WIB_WORKER, WIT_WORKER, 1001, 1002, STAFF}
    clock.advance(60)
    await bot.text(NEWCOMER, "PT Baru")
    assert "What does your company make?" in bot.last_text(NEWCOMER)
    # Their own replies are not held: the next question came, the broadcast did not.
    assert NEWCOMER not in _got(bot, "Info pelatihan")
    # A notice about their own affairs goes at once, beside the held broadcast.
    async with bot.sessionmaker() as session, session.begin():
        await enqueue(session, group="owner:99", key="news", recipients=[(NEWCOMER, "en")],
                      contents={"en": Content("Your news")}, fallback="en",
                      now=clock.now(), priority=URGENT)
    await bot.delivered()
    assert deliveries(bot.sandbox, "Your news") == {NEWCOMER: 1}
    assert NEWCOMER not in _got(bot, "Info pelatihan")
    # A stall alert does not take a held message for a stuck outbox.
    clock.advance(6 * 60)

    async def alert(_due: int, _minutes: int) -> None:
        raise AssertionError("no stall")

    assert not await check_stall(bot.sessionmaker, clock, alert)

    await bot.text(NEWCOMER, "/cancel")
    assert bot.open_flow(NEWCOMER) is None
    await bot.delivered()
    assert _got(bot, "Info pelatihan")[NEWCOMER] == 1
    # The notice came first, the broadcast after the conversation: each once.
    texts = [m.text for m in bot.sandbox.messages(NEWCOMER)]
    assert texts.index("Your news") < texts.index("Info pelatihan")


async def test_after_ten_idle_minutes_it_goes(day: tuple[BotHarness, FakeClock]) -> None:
    bot, clock = day
    await _world(bot)
    await _mid_enrolment(bot)
    await _broadcast_now(bot, "Info pelatihan")
    await _advance_to(bot, clock, DAY + timedelta(minutes=9, seconds=50))
    assert NEWCOMER not in _got(bot, "Info pelatihan")
    await _advance_to(bot, clock, DAY + timedelta(minutes=10, seconds=1))
    assert _got(bot, "Info pelatihan")[NEWCOMER] == 1
    # The question is still open: the newcomer answers it as before.
    assert bot.open_flow(NEWCOMER) == "enrol"
    await bot.text(NEWCOMER, "PT Baru")
    assert "What does your company make?" in bot.last_text(NEWCOMER)


async def test_after_two_hours_it_goes_however_busy(day: tuple[BotHarness, FakeClock]) -> None:
    bot, clock = day
    await _world(bot)
    await _mid_enrolment(bot)
    await _broadcast_now(bot, "Info pelatihan")
    due = (await _due_times(bot))[NEWCOMER]
    # Every five minutes the newcomer does something inside the question (asks for help,
    # which changes nothing in the draft): still in the conversation.
    while clock.now() < due + timedelta(hours=2) - timedelta(minutes=5):
        clock.advance(5 * 60)
        await bot.text(NEWCOMER, "/help")
        assert "name of your company" in bot.last_text(NEWCOMER)
        assert NEWCOMER not in _got(bot, "Info pelatihan"), clock.now() - due
    await _advance_to(bot, clock, due + timedelta(hours=2, seconds=1))
    assert bot.open_flow(NEWCOMER) == "enrol"
    assert _got(bot, "Info pelatihan")[NEWCOMER] == 1


async def test_someone_not_in_a_conversation_gets_it_at_once(
        day: tuple[BotHarness, FakeClock]) -> None:
    bot, _clock = day
    await _world(bot)
    await factories.user(bot, NEWCOMER, language="en")
    await bot.text(NEWCOMER, "/help")  # wrote to the bot, but no question is open
    await _broadcast_now(bot, "Info pelatihan")
    assert _got(bot, "Info pelatihan")[NEWCOMER] == 1


async def test_an_urgent_broadcast_does_not_wait_for_the_conversation(
        day: tuple[BotHarness, FakeClock]) -> None:
    bot, _clock = day
    await _world(bot)
    await _mid_enrolment(bot)
    await _compose(bot, "Pabrik tutup", urgent=True)
    await bot.press(STAFF, "Confirm")
    assert _got(bot, "Pabrik tutup")[NEWCOMER] == 1
    async with bot.sessionmaker() as session:
        states = set(await session.scalars(select(OutboxMessage.state)))
    assert states == {OutboxState.SENT}


async def test_a_broadcast_waits_for_the_end_of_a_kpi_report(survey_bot: BotHarness) -> None:
    """November's report half-way: the broadcast comes after "Ya, kirim laporan", not
    between two questions. A round's invitations are bulk too; staff's own are not."""
    bot = survey_bot
    await factories.staff(bot)
    await factories.enterprise(bot, owner=1001)
    await open_round(bot)
    await bot.press(1001, "Isi laporan")
    answers = list(ANSWERS.values())
    for value in answers[:9]:
        await bot.text(1001, value)
    assert bot.last_text(1001).startswith("10/16")
    await _broadcast_now(bot, "Info pelatihan")
    assert 1001 not in _got(bot, "Info pelatihan")
    for value in answers[9:]:
        await bot.text(1001, value)
        assert not bot.last_text(1001).startswith("Info")
    await bot.press(1001, "Ya, kirim laporan")
    assert bot.open_flow(1001) is None
    await bot.delivered()
    assert _got(bot, "Info pelatihan") == {1001: 1, STAFF: 1}
    async with bot.sessionmaker() as session:
        bulk = dict((await session.execute(select(OutboxGroup.kind, OutboxGroup.bulk))).all())
    assert bulk == {"survey": True, "broadcast": True}


async def test_a_bulk_message_overdue_in_the_night_waits_for_the_morning(
        day: tuple[BotHarness, FakeClock]) -> None:
    """Queued for 19.30 (a round's reminder), but the bot was down until 22.00: at the moment
    of sending it is night in Jakarta, so it waits for 06.00 there; in Papua it waited for
    06.00 WIT already. A notice of someone's own affairs still goes at once."""
    bot, clock = day
    await _world(bot)
    evening = datetime(2026, 12, 7, 12, 30, tzinfo=UTC)  # 19.30 WIB
    async with bot.sessionmaker() as session, session.begin():
        await enqueue(session, group="survey:99:v0:remind", key="survey:99:v0:remind",
                      recipients=[(WIB_WORKER, "id"), (WIT_WORKER, "id")],
                      contents={"id": Content("Pengingat survei")}, fallback="id",
                      now=clock.now(), at=evening)
    clock.advance((datetime(2026, 12, 7, 15, 0, tzinfo=UTC) - clock.now()).total_seconds())
    async with bot.sessionmaker() as session, session.begin():
        await enqueue(session, group="owner:99", key="news", recipients=[(WIB_WORKER, "en")],
                      contents={"en": Content("Your news")}, fallback="en",
                      now=clock.now(), priority=URGENT)
    await bot.delivered()
    assert deliveries(bot.sandbox, "Your news") == {WIB_WORKER: 1}
    assert deliveries(bot.sandbox, "Pengingat survei") == {}
    # The stall watch does not take the night's wait for a stuck outbox.
    clock.advance(30 * 60)

    async def alert(count: int, minutes: int) -> None:
        raise AssertionError(f"a stall alert: {count} due for {minutes} minutes")

    assert not await check_stall(bot.sessionmaker, clock, alert)
    clock.advance((MORNING_WIT - clock.now()).total_seconds())
    await bot.delivered()
    assert deliveries(bot.sandbox, "Pengingat survei") == {WIT_WORKER: 1}
    clock.advance((MORNING_WIB - clock.now()).total_seconds())
    await bot.delivered()
    assert deliveries(bot.sandbox, "Pengingat survei") == {WIT_WORKER: 1, WIB_WORKER: 1}
