"""Monthly survey rounds on their schedule, through the real Application and database: who is
invited when (by the enterprise's time zone), holidays and weekends, a moved round, the
reminder only to those who have not finished, the close, and opening from the command line.

The bot's own schedule is off in tests: each test moves a virtual clock and runs the job's
function, `jobs.survey_rounds.run_rounds`, as the job queue would every few minutes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot import cli
from bot.survey_admin import close_now, open_now
from chat.clock import FakeClock
from chat.context import Services, services_of
from config.settings import Settings
from db import joining as joining_db
from db import surveys as surveys_db
from db.models import (
    Enterprise,
    Membership,
    OutboxContent,
    OutboxGroup,
    OutboxMessage,
    OutboxState,
    ResponseKind,
    SurveyResponse,
    SurveyRound,
)
from db.queries import surveys as survey_queries
from db.queries import users as users_db
from db.queries.round_messages import RoundMessages
from db.results import Stale
from domain import survey_calendar as calendar
from domain.provinces import WIB, WIT, WITA
from domain.questionnaire import Answer
from domain.roles import Role
from jobs.survey_rounds import run_rounds
from sandbox import BotApiSandbox
from services.surveys import rounds
from tests import factories
from tests.conftest import STAFF_ID
from tests.harness import BotHarness
from tests.journeys import enrol, onboard
from tests.survey_helpers import ANSWERS, answer_all

NOVEMBER = date(2026, 11, 1)
DECEMBER = date(2026, 12, 1)
OCTOBER = date(2026, 10, 1)

# Owners (KPI) and workers (pulse) in Jawa Barat (WIB), Bali (WITA) and Papua (WIT).
OWNER_JB, OWNER_BA, OWNER_PA = 1001, 1002, 1003
WORKER_JB, WORKER_BA, WORKER_PA = 2001, 2002, 2003

# What the bot says, in Indonesian (everyone here reads Indonesian).
KPI_INVITATION = "Laporan KPI bulan"
KPI_REMINDER = "Pengingat: laporan KPI"
PULSE_INVITATION = "Survei singkat tentang pekerjaan Anda"
PULSE_REMINDER = "Pengingat: survei pekerja"
FILL_IN = "Isi laporan"


def just_after(moment: datetime, then: datetime | None) -> bool:
    """`then` is `moment`, or a little later: sending paces itself on the virtual clock."""
    return then is not None and moment <= then < moment + timedelta(seconds=10)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# 00:30 WIB on Tuesday 1 December 2026: the November round opens today.
BEFORE_NOVEMBER_OPENS = utc(2026, 11, 30, 17, 30)
# The November round closes at the end of 20 December: 00:00 WIB on the 21st.
NOVEMBER_CLOSE = utc(2026, 12, 20, 17, 0)


# --- the world ---------------------------------------------------------------------------------
StartBot = Callable[..., Awaitable[BotHarness]]


@pytest.fixture
async def start_bot(settings: Settings, sandbox: BotApiSandbox) -> AsyncIterator[StartBot]:
    """Start the Application on a virtual clock, with its outbox sender or (`sender=False`)
    without, so queued rows stay put; several may run one after the other on one clock, as
    a bot that was down and started again."""
    started: list[BotHarness] = []

    async def start(clock: FakeClock, *, sender: bool = True) -> BotHarness:
        harness = BotHarness(settings, sandbox, clock=clock, start_sender=sender)
        await harness.start()
        started.append(harness)
        return harness

    yield start
    for harness in reversed(started):
        await harness.stop()


def svc_of(bot: BotHarness) -> Services:
    assert bot.app is not None
    return services_of(bot.app)


def clock_of(bot: BotHarness) -> FakeClock:
    clock = svc_of(bot).clock
    assert isinstance(clock, FakeClock)
    return clock


async def move_clock(bot: BotHarness, moment: datetime) -> None:
    """Time passes until `moment`; whatever the outbox has due by then is delivered."""
    clock = clock_of(bot)
    assert moment >= clock.now(), "the clock only goes forward"
    clock.advance((moment - clock.now()).total_seconds())
    svc_of(bot).wake_sender()
    await bot.delivered()


async def run_job(bot: BotHarness) -> None:
    """The rounds job runs once, now; then what it queued for now is delivered."""
    await run_rounds(svc_of(bot))
    await bot.delivered()


async def round_of(bot: BotHarness, survey: str, period: date) -> SurveyRound:
    async with bot.sessionmaker() as session:
        round_ = await survey_queries.get_round(session, survey, period)
    assert round_ is not None, f"no {survey} round for {period:%Y-%m}"
    return round_


async def rows(bot: BotHarness, group: str) -> dict[int, OutboxMessage]:
    """The outbox rows of a group, by recipient."""
    async with bot.sessionmaker() as session:
        found = (await session.scalars(
            select(OutboxMessage)
            .join(OutboxContent, OutboxContent.id == OutboxMessage.content_id)
            .join(OutboxGroup, OutboxGroup.id == OutboxContent.group_id)
            .where(OutboxGroup.key == group))).all()
    by_recipient = {row.recipient_id: row for row in found}
    assert len(by_recipient) == len(found), "one row per recipient"
    return by_recipient


async def invitations(bot: BotHarness, survey: str, period: date = NOVEMBER,
                      ) -> dict[int, OutboxMessage]:
    return await rows(bot, rounds.invite_group(await round_of(bot, survey, period)))


async def reminders(bot: BotHarness, survey: str, period: date = NOVEMBER,
                    ) -> dict[int, OutboxMessage]:
    return await rows(bot, rounds.remind_group(await round_of(bot, survey, period)))


async def outbox_size(bot: BotHarness) -> int:
    async with bot.sessionmaker() as session:
        return len((await session.scalars(select(OutboxMessage.id))).all())


def when(found: dict[int, OutboxMessage]) -> dict[int, datetime]:
    return {recipient: row.next_attempt_at for recipient, row in found.items()}


def states(found: dict[int, OutboxMessage]) -> dict[int, OutboxState]:
    return {recipient: row.state for recipient, row in found.items()}


def received(bot: BotHarness, user_id: int, words: str) -> list[str]:
    return [text for text in bot.sandbox.texts(user_id) if words in text]


async def three_zones(bot: BotHarness) -> None:
    """An enterprise in each zone, with its owner and one worker."""
    for owner, worker, province, name in ((OWNER_JB, WORKER_JB, "JB", "PT Maju Jaya"),
                                          (OWNER_BA, WORKER_BA, "BA", "PT Bali Indah"),
                                          (OWNER_PA, WORKER_PA, "PA", "PT Papua Mandiri")):
        place = await factories.enterprise(bot, owner=owner, name=name, province=province)
        await factories.worker(bot, worker, place)


# --- the schedule ------------------------------------------------------------------------------
async def test_invitations_go_out_at_nine_and_half_past_seven_local_in_each_zone(
        start_bot: StartBot) -> None:
    bot = await start_bot(FakeClock(BEFORE_NOVEMBER_OPENS))
    await three_zones(bot)

    await run_job(bot)

    kpi = await round_of(bot, "kpi", NOVEMBER)
    assert (kpi.opens_on, kpi.reminder_on, kpi.closes_on) == (
        date(2026, 12, 1), date(2026, 12, 10), date(2026, 12, 20))
    assert kpi.closes_at == NOVEMBER_CLOSE and kpi.queued_at == BEFORE_NOVEMBER_OPENS
    # KPI at 09:00 local on Tuesday 1 December: WIT first, WIB two hours later.
    assert when(await invitations(bot, "kpi")) == {
        OWNER_PA: utc(2026, 12, 1, 0), OWNER_BA: utc(2026, 12, 1, 1),
        OWNER_JB: utc(2026, 12, 1, 2)}
    # The pulse at 19:30 local, to the workers.
    assert when(await invitations(bot, "pulse")) == {
        WORKER_PA: utc(2026, 12, 1, 10, 30), WORKER_BA: utc(2026, 12, 1, 11, 30),
        WORKER_JB: utc(2026, 12, 1, 12, 30)}
    for zone, owner, worker in ((WIB, OWNER_JB, WORKER_JB), (WITA, OWNER_BA, WORKER_BA),
                                (WIT, OWNER_PA, WORKER_PA)):
        local = ZoneInfo(zone)
        assert (await invitations(bot, "kpi"))[owner].next_attempt_at.astimezone(local) \
            .time() == time(9, 0)
        assert (await invitations(bot, "pulse"))[worker].next_attempt_at.astimezone(local) \
            .time() == time(19, 30)
    # One reminder each: the KPI's on the 10th at 09:00, the pulse's three days after the
    # invitation at 19:30; everything expires at the close.
    assert when(await reminders(bot, "kpi")) == {
        OWNER_PA: utc(2026, 12, 10, 0), OWNER_BA: utc(2026, 12, 10, 1),
        OWNER_JB: utc(2026, 12, 10, 2)}
    assert when(await reminders(bot, "pulse")) == {
        WORKER_PA: utc(2026, 12, 4, 10, 30), WORKER_BA: utc(2026, 12, 4, 11, 30),
        WORKER_JB: utc(2026, 12, 4, 12, 30)}
    for found in (await invitations(bot, "kpi"), await invitations(bot, "pulse"),
                  await reminders(bot, "kpi"), await reminders(bot, "pulse")):
        assert {row.expires_at for row in found.values()} == {NOVEMBER_CLOSE}

    # The job runs every few minutes: running it again queues nothing more.
    size = await outbox_size(bot)
    await run_job(bot)
    assert await outbox_size(bot) == size
    everyone = (OWNER_JB, OWNER_BA, OWNER_PA, WORKER_JB, WORKER_BA, WORKER_PA)
    assert all(bot.sandbox.texts(user) == [] for user in everyone)

    # Each zone's owner gets the report at nine on their own clock, and nobody earlier.
    await move_clock(bot, utc(2026, 12, 1, 0))
    assert received(bot, OWNER_PA, KPI_INVITATION) and not bot.sandbox.texts(OWNER_BA)
    await move_clock(bot, utc(2026, 12, 1, 1))
    assert received(bot, OWNER_BA, KPI_INVITATION) and not bot.sandbox.texts(OWNER_JB)
    await move_clock(bot, utc(2026, 12, 1, 2))
    invitation = bot.sandbox.last_message(OWNER_JB)
    assert "Laporan KPI bulan November sudah dibuka" in (invitation.text or "")
    assert "Minggu, 20 Desember 2026" in (invitation.text or "")
    assert [b["text"] for row in invitation.buttons for b in row] == [FILL_IN]
    assert not any(bot.sandbox.texts(w) for w in (WORKER_JB, WORKER_BA, WORKER_PA))

    await move_clock(bot, utc(2026, 12, 1, 10, 30))
    assert received(bot, WORKER_PA, PULSE_INVITATION) and not bot.sandbox.texts(WORKER_BA)
    await move_clock(bot, utc(2026, 12, 1, 11, 30))
    assert received(bot, WORKER_BA, PULSE_INVITATION) and not bot.sandbox.texts(WORKER_JB)
    await move_clock(bot, utc(2026, 12, 1, 12, 30))
    pulse = bot.sandbox.last_message(WORKER_JB)
    assert "bulan November" in (pulse.text or "")
    assert [b["text"] for row in pulse.buttons for b in row] == ["Mulai survei"]
    # Owners get no pulse, workers no KPI report.
    assert len(bot.sandbox.texts(OWNER_JB)) == 1
    assert len(bot.sandbox.texts(WORKER_JB)) == 1
    assert set(states(await invitations(bot, "kpi")).values()) == {OutboxState.SENT}
    assert set(states(await invitations(bot, "pulse")).values()) == {OutboxState.SENT}


async def test_a_round_whose_first_day_is_a_holiday_opens_on_the_next_working_day(
        start_bot: StartBot) -> None:
    # New Year's Day 2027, a Friday, 10:00 WIB: the December round is planned, not opened.
    bot = await start_bot(FakeClock(utc(2027, 1, 1, 3)))
    await three_zones(bot)
    await run_job(bot)
    kpi = await round_of(bot, "kpi", DECEMBER)
    assert (kpi.opens_on, kpi.reminder_on, kpi.closes_on) == (
        date(2027, 1, 4), date(2027, 1, 11), date(2027, 1, 20))
    assert kpi.closes_at == utc(2027, 1, 20, 17) and kpi.queued_at is None
    assert (await round_of(bot, "pulse", DECEMBER)).reminder_on == date(2027, 1, 7)
    assert await outbox_size(bot) == 0

    # Nothing over the weekend either, until Monday the 4th has begun in Papua.
    for moment in (utc(2027, 1, 2, 3), utc(2027, 1, 3, 3), utc(2027, 1, 3, 14, 55)):
        await move_clock(bot, moment)
        await run_job(bot)
        assert await outbox_size(bot) == 0
    await move_clock(bot, utc(2027, 1, 3, 15, 0))
    await run_job(bot)
    assert when(await invitations(bot, "kpi", DECEMBER)) == {
        OWNER_PA: utc(2027, 1, 4, 0), OWNER_BA: utc(2027, 1, 4, 1), OWNER_JB: utc(2027, 1, 4, 2)}
    assert when(await invitations(bot, "pulse", DECEMBER)) == {
        WORKER_PA: utc(2027, 1, 4, 10, 30), WORKER_BA: utc(2027, 1, 4, 11, 30),
        WORKER_JB: utc(2027, 1, 4, 12, 30)}
    # The 10th is a Sunday: the KPI reminder goes on Monday the 11th.
    assert when(await reminders(bot, "kpi", DECEMBER))[OWNER_JB] == utc(2027, 1, 11, 2)

    await move_clock(bot, utc(2027, 1, 4, 2))
    text = bot.last_text(OWNER_JB)
    assert "Laporan KPI bulan Desember sudah dibuka" in text
    assert "Rabu, 20 Januari 2027" in text


async def test_a_round_whose_first_is_a_sunday_opens_on_monday(start_bot: StartBot) -> None:
    # 01:00 WIB on Sunday 1 November 2026.
    bot = await start_bot(FakeClock(utc(2026, 10, 31, 18)))
    owner = await factories.enterprise(bot, owner=OWNER_JB)
    await factories.worker(bot, WORKER_JB, owner)
    await run_job(bot)
    kpi = await round_of(bot, "kpi", OCTOBER)
    assert (kpi.opens_on, kpi.reminder_on, kpi.closes_on) == (
        date(2026, 11, 2), date(2026, 11, 10), date(2026, 11, 20))
    await move_clock(bot, utc(2026, 11, 1, 14, 55))  # still Sunday in Papua
    await run_job(bot)
    assert await outbox_size(bot) == 0

    await move_clock(bot, utc(2026, 11, 1, 15, 0))
    await run_job(bot)
    assert when(await invitations(bot, "kpi", OCTOBER)) == {OWNER_JB: utc(2026, 11, 2, 2)}
    assert when(await invitations(bot, "pulse", OCTOBER)) == {
        WORKER_JB: utc(2026, 11, 2, 12, 30)}
    await move_clock(bot, utc(2026, 11, 2, 2))
    assert "Laporan KPI bulan Oktober sudah dibuka" in bot.last_text(OWNER_JB)


async def test_a_late_opening_waits_for_the_end_of_friday_prayers(start_bot: StartBot) -> None:
    # The bot was down from the 1st; on Friday 4 December at 12:00 WIB, 13:00 WITA, 14:00 WIT
    # staff open the KPI round at once, and the job opens the pulse. Nothing is sent from
    # 11:30 to 13:30 local time on a Friday.
    friday_noon = utc(2026, 12, 4, 5)
    bot = await start_bot(FakeClock(friday_noon))
    await three_zones(bot)
    said = await open_now(bot.settings, "kpi", "2026-11", clock=clock_of(bot))
    assert said.endswith("3 invitations queued")
    await bot.delivered()
    assert when(await invitations(bot, "kpi")) == {
        OWNER_PA: friday_noon, OWNER_BA: utc(2026, 12, 4, 5, 30),
        OWNER_JB: utc(2026, 12, 4, 6, 30)}
    assert received(bot, OWNER_PA, KPI_INVITATION)
    assert not bot.sandbox.texts(OWNER_BA) and not bot.sandbox.texts(OWNER_JB)
    await move_clock(bot, utc(2026, 12, 4, 5, 30))
    assert received(bot, OWNER_BA, KPI_INVITATION) and not bot.sandbox.texts(OWNER_JB)

    await run_job(bot)  # late: the pulse's 19:30 on the 1st has passed
    for worker, zone in ((WORKER_JB, WIB), (WORKER_BA, WITA), (WORKER_PA, WIT)):
        local = (await invitations(bot, "pulse"))[worker].next_attempt_at.astimezone(
            ZoneInfo(zone)).time()
        assert not time(11, 30) <= local < time(13, 30), (worker, local)


# --- a moved round -----------------------------------------------------------------------------
async def test_a_moved_round_drops_what_was_queued_and_opens_on_the_new_date(
        start_bot: StartBot) -> None:
    bot = await start_bot(FakeClock(BEFORE_NOVEMBER_OPENS))
    await factories.enterprise(bot, owner=OWNER_JB)
    await run_job(bot)
    kpi = await round_of(bot, "kpi", NOVEMBER)
    old_invitation, old_reminder = rounds.invite_group(kpi), rounds.remind_group(kpi)
    assert states(await rows(bot, old_invitation)) == {OWNER_JB: OutboxState.PENDING}

    # Staff move it to Monday the 7th before anything was sent.
    moved = await rounds.move_round(svc_of(bot), kpi.id, date(2026, 12, 7), staff_id=STAFF_ID)
    assert moved is not None
    kpi = await round_of(bot, "kpi", NOVEMBER)
    assert (kpi.opens_on, kpi.reminder_on, kpi.closes_on) == (
        date(2026, 12, 7), date(2026, 12, 16), date(2026, 12, 20))
    assert (kpi.version, kpi.moved_by, kpi.queued_at) == (1, STAFF_ID, None)
    for group in (old_invitation, old_reminder):
        dropped = (await rows(bot, group))[OWNER_JB]
        assert (dropped.state, dropped.last_error) == (OutboxState.SKIPPED, "moved")
    # Meanwhile the round takes no answers: it has not opened.
    async with bot.sessionmaker() as session:
        assert not survey_queries.is_open(kpi, clock_of(bot).now())
        open_now_ = await survey_queries.open_rounds(session, "kpi", clock_of(bot).now())
        assert kpi.id not in {r.id for r in open_now_}

    # The old date comes and goes: nothing is sent, nothing queued again.
    await move_clock(bot, utc(2026, 12, 1, 2))
    await run_job(bot)
    await move_clock(bot, utc(2026, 12, 6, 14, 55))
    await run_job(bot)
    assert bot.sandbox.texts(OWNER_JB) == []
    assert await invitations(bot, "kpi") == {}

    # The new opening day: queued again under the new version, at 09:00 WIB.
    await move_clock(bot, utc(2026, 12, 6, 15, 0))
    await run_job(bot)
    assert when(await invitations(bot, "kpi")) == {OWNER_JB: utc(2026, 12, 7, 2)}
    assert when(await reminders(bot, "kpi")) == {OWNER_JB: utc(2026, 12, 16, 2)}
    assert rounds.invite_group(await round_of(bot, "kpi", NOVEMBER)) != old_invitation
    await move_clock(bot, utc(2026, 12, 7, 2))
    assert len(bot.sandbox.texts(OWNER_JB)) == 1
    assert "Laporan KPI bulan November sudah dibuka" in bot.last_text(OWNER_JB)
    await bot.press(OWNER_JB, FILL_IN)
    assert "1/16" in bot.last_text(OWNER_JB)


async def test_an_invitation_of_a_round_moved_later_does_not_say_it_closed(
        start_bot: StartBot) -> None:
    bot = await start_bot(FakeClock(BEFORE_NOVEMBER_OPENS))
    await factories.enterprise(bot, owner=OWNER_JB)
    await run_job(bot)
    await move_clock(bot, utc(2026, 12, 1, 2))
    assert received(bot, OWNER_JB, KPI_INVITATION)
    kpi = await round_of(bot, "kpi", NOVEMBER)
    # Staff move the round after the invitation was sent: it opens again on the 7th.
    assert await rounds.move_round(svc_of(bot), kpi.id, date(2026, 12, 7), staff_id=STAFF_ID)
    reminder = (await rows(bot, rounds.remind_group(kpi)))[OWNER_JB]
    assert (reminder.state, reminder.last_error) == (OutboxState.SKIPPED, "moved")
    await bot.press(OWNER_JB, FILL_IN)
    assert "ditutup" not in bot.last_text(OWNER_JB)
    assert "dibuka pada Senin, 7 Desember 2026" in bot.last_text(OWNER_JB)


# --- the reminder --------------------------------------------------------------------------------
async def test_the_reminder_goes_only_to_those_who_have_not_finished(
        start_bot: StartBot) -> None:
    bot = await start_bot(FakeClock(BEFORE_NOVEMBER_OPENS))
    maju = await factories.enterprise(bot, owner=OWNER_JB)
    admin = 1011
    await factories.worker(bot, admin, maju, role="admin", name="Budi")
    await factories.worker(bot, WORKER_JB, maju)
    await factories.worker(bot, 2004, maju, name="Dewi")
    sinar = await factories.enterprise(bot, owner=OWNER_BA, name="PT Sinar", province="BA")
    await run_job(bot)
    await move_clock(bot, utc(2026, 12, 1, 2))
    assert all(received(bot, user, KPI_INVITATION) for user in (OWNER_JB, admin, OWNER_BA))

    # Maju's owner sends the report through the bot.
    await bot.press(OWNER_JB, FILL_IN)
    await answer_all(bot, OWNER_JB, ANSWERS)
    await bot.press(OWNER_JB, "Ya, kirim laporan")
    assert "laporan sudah tersimpan" in bot.last_text(OWNER_JB)
    kpi_reminders = await reminders(bot, "kpi")
    for person in (OWNER_JB, admin):  # the admin reports for the same enterprise
        assert (kpi_reminders[person].state, kpi_reminders[person].last_error) == (
            OutboxState.SKIPPED, "answered")
    assert kpi_reminders[OWNER_BA].state is OutboxState.PENDING
    assert kpi_reminders[OWNER_BA].next_attempt_at == utc(2026, 12, 10, 1)
    assert sinar.id != maju.id

    # One worker answers the pulse (straight through db/surveys, as the flow does).
    await move_clock(bot, utc(2026, 12, 1, 12, 30))
    assert received(bot, WORKER_JB, PULSE_INVITATION) and received(bot, 2004, PULSE_INVITATION)
    svc = svc_of(bot)
    now = clock_of(bot).now()
    opened = await surveys_db.open_response(
        svc.sessionmaker, survey="pulse", period=NOVEMBER, enterprise_id=maju.id,
        respondent_id=WORKER_JB, entered_as="worker", kind=ResponseKind.MONTHLY, now=now)
    assert opened.response_id is not None and not opened.closed
    given = {"supervisor_listens": "often", "feel_safe": "safe", "ppe_available": "always",
             "made_suggestion": "no", "saw_incident": "no"}
    for question, choice in given.items():
        assert await surveys_db.record_answer(svc.sessionmaker, opened.response_id, question,
                                              Answer(choice=choice), raw=None, now=now) is None
    assert (await surveys_db.finish_response(svc.sessionmaker, opened.response_id,
                                             keep=given, now=now)).done
    pulse_reminders = await reminders(bot, "pulse")
    assert (pulse_reminders[WORKER_JB].state, pulse_reminders[WORKER_JB].last_error) == (
        OutboxState.SKIPPED, "answered")
    assert pulse_reminders[2004].state is OutboxState.PENDING

    # Friday 4 December, 19:30 WIB: only the worker who did not answer is reminded.
    await move_clock(bot, utc(2026, 12, 4, 12, 30))
    assert received(bot, 2004, PULSE_REMINDER)
    assert not received(bot, WORKER_JB, PULSE_REMINDER)
    # The 10th, 09:00 in Bali: Sinar's owner is reminded, Maju's people are not.
    await move_clock(bot, utc(2026, 12, 10, 2))
    assert received(bot, OWNER_BA, KPI_REMINDER)
    assert "Minggu, 20 Desember 2026" in bot.last_text(OWNER_BA)
    assert not received(bot, OWNER_JB, KPI_REMINDER) and not received(bot, admin, KPI_REMINDER)
    assert (await reminders(bot, "kpi"))[OWNER_BA].state is OutboxState.SENT


# --- the close -----------------------------------------------------------------------------------
async def test_the_round_closes_after_the_twentieth(start_bot: StartBot) -> None:
    bot = await start_bot(FakeClock(BEFORE_NOVEMBER_OPENS))
    await factories.enterprise(bot, owner=OWNER_JB)
    await factories.enterprise(bot, owner=OWNER_BA, name="PT Sinar", province="BA")
    await run_job(bot)
    await move_clock(bot, utc(2026, 12, 1, 2))
    # Maju's owner starts the report and stops after two answers.
    await bot.press(OWNER_JB, FILL_IN)
    typed = list(ANSWERS.values())
    for answer in typed[:2]:
        await bot.text(OWNER_JB, answer)
    assert "3/16" in bot.last_text(OWNER_JB)

    # The last minute of the 20th (WIB): still open.
    await move_clock(bot, utc(2026, 12, 20, 16, 59))
    await run_job(bot)
    assert (await round_of(bot, "kpi", NOVEMBER)).closed_at is None
    await move_clock(bot, NOVEMBER_CLOSE)
    await run_job(bot)
    kpi = await round_of(bot, "kpi", NOVEMBER)
    assert just_after(NOVEMBER_CLOSE, kpi.closed_at)
    assert just_after(NOVEMBER_CLOSE, (await round_of(bot, "pulse", NOVEMBER)).closed_at)

    # The next answer of the open report: the survey has closed.
    await bot.text(OWNER_JB, typed[2])
    assert "Survei ini sudah ditutup" in bot.last_text(OWNER_JB)
    assert bot.open_flow(OWNER_JB) is None
    async with bot.sessionmaker() as session:
        response = await session.scalar(select(SurveyResponse))
        assert response is not None and response.status.value == "open"
    # Running the job again changes nothing.
    size = await outbox_size(bot)
    await run_job(bot)
    assert await outbox_size(bot) == size


async def test_an_invitation_pressed_after_the_close_says_when_it_closed(
        start_bot: StartBot) -> None:
    bot = await start_bot(FakeClock(BEFORE_NOVEMBER_OPENS))
    await factories.enterprise(bot, owner=OWNER_JB)
    await run_job(bot)
    await move_clock(bot, utc(2026, 12, 10, 2))  # the invitation, then the reminder
    invitation = next(m for m in bot.sandbox.messages(OWNER_JB)
                      if KPI_INVITATION in (m.text or ""))
    await move_clock(bot, NOVEMBER_CLOSE)
    await run_job(bot)
    data = invitation.buttons[0][0]["callback_data"]
    bot.sandbox.press(OWNER_JB, data, message_id=invitation.message_id)
    await bot.settle()
    assert bot.last_text(OWNER_JB) == (
        "Laporan ini sudah ditutup pada Minggu, 20 Desember 2026.")
    assert bot.open_flow(OWNER_JB) is None
    async with bot.sessionmaker() as session:
        assert await session.scalar(select(SurveyResponse)) is None


async def test_what_was_not_sent_by_the_close_is_never_sent(start_bot: StartBot) -> None:
    # The bot's sender is down from before the opening until after the close.
    clock = FakeClock(BEFORE_NOVEMBER_OPENS)
    down = await start_bot(clock, sender=False)
    await three_zones(down)
    await run_job(down)
    assert len(await invitations(down, "kpi")) == 3
    clock.advance((NOVEMBER_CLOSE - clock.now()).total_seconds() + 60)
    await run_job(down)  # the job closes the round: what is unsent is dropped
    for survey in ("kpi", "pulse"):
        for found in (await invitations(down, survey), await reminders(down, survey)):
            assert {(r.state, r.last_error) for r in found.values()} == {
                (OutboxState.SKIPPED, "closed")}
    await down.stop()

    bot = await start_bot(clock)
    await bot.delivered()
    await run_job(bot)
    for user in (OWNER_JB, OWNER_BA, OWNER_PA, WORKER_JB, WORKER_BA, WORKER_PA):
        assert bot.sandbox.texts(user) == []


async def test_the_sender_expires_what_is_past_the_close_before_the_job_closes_it(
        start_bot: StartBot) -> None:
    clock = FakeClock(BEFORE_NOVEMBER_OPENS)
    down = await start_bot(clock, sender=False)
    await three_zones(down)
    await run_job(down)
    await down.stop()
    clock.advance((NOVEMBER_CLOSE - clock.now()).total_seconds() + 60)

    # The sender starts before the job has run: the rows are past their expiry.
    bot = await start_bot(clock)
    await bot.delivered()
    for survey in ("kpi", "pulse"):
        for found in (await invitations(bot, survey), await reminders(bot, survey)):
            assert set(states(found).values()) == {OutboxState.EXPIRED}
    await run_job(bot)
    assert (await round_of(bot, "kpi", NOVEMBER)).closed_at is not None
    for user in (OWNER_JB, OWNER_BA, OWNER_PA, WORKER_JB, WORKER_BA, WORKER_PA):
        assert bot.sandbox.texts(user) == []


# --- the command line ----------------------------------------------------------------------------
# 2 December 2026, 03:00 UTC = 10:00 WIB: the November round opened yesterday.
DEC_2 = utc(2026, 12, 2, 3)


async def test_opening_twice_sends_nothing_new_and_closing_drops_the_rest(
        start_bot: StartBot) -> None:
    bot = await start_bot(FakeClock(DEC_2))
    await factories.enterprise(bot, owner=OWNER_JB)
    clock = clock_of(bot)

    said = await open_now(bot.settings, "kpi", "2026-11", clock=clock)
    assert said == "the kpi round of 2026-11 is open until 2026-12-20: 1 invitations queued"
    await bot.delivered()
    assert len(received(bot, OWNER_JB, KPI_INVITATION)) == 1
    assert when(await invitations(bot, "kpi")) == {OWNER_JB: DEC_2}
    size = await outbox_size(bot)

    said = await open_now(bot.settings, "kpi", "2026-11", clock=clock)
    assert said == "the kpi round of 2026-11 was open already; nothing new was sent"
    await run_job(bot)  # the job finds the KPI round queued: only the pulse round is new
    await bot.delivered()
    assert len(received(bot, OWNER_JB, KPI_INVITATION)) == 1
    assert len(await invitations(bot, "kpi")) == 1
    assert await outbox_size(bot) == size  # the pulse round has no workers to invite

    said = await close_now(bot.settings, "kpi", "2026-11", clock=clock)
    assert said == "the kpi round of 2026-11 is closed; unsent messages were dropped"
    reminder = (await reminders(bot, "kpi"))[OWNER_JB]
    assert (reminder.state, reminder.last_error) == (OutboxState.SKIPPED, "closed")
    assert (await invitations(bot, "kpi"))[OWNER_JB].state is OutboxState.SENT
    kpi = await round_of(bot, "kpi", NOVEMBER)
    assert just_after(DEC_2, kpi.closed_at) and kpi.closes_at == kpi.closed_at

    assert await close_now(bot.settings, "kpi", "2026-11", clock=clock) == (
        "the kpi round of 2026-11 was closed already")
    assert await open_now(bot.settings, "kpi", "2026-11", clock=clock) == (
        "the kpi round of 2026-11 is closed; nothing was sent")
    assert await close_now(bot.settings, "pulse", "2026-09", clock=clock) == (
        "there is no pulse round of 2026-09")
    await run_job(bot)
    assert await outbox_size(bot) == size
    # Closed early: the invitation says it closed today, not on the planned 20th.
    assert kpi.closes_on == date(2026, 12, 2)
    await bot.press(OWNER_JB, FILL_IN)
    assert bot.last_text(OWNER_JB) == (
        "Laporan ini sudah ditutup pada Rabu, 2 Desember 2026.")


async def test_a_month_not_yet_over_cannot_be_opened(start_bot: StartBot) -> None:
    bot = await start_bot(FakeClock(DEC_2))
    await factories.enterprise(bot, owner=OWNER_JB)
    with pytest.raises(ValueError):
        await open_now(bot.settings, "kpi", "2026-12", clock=clock_of(bot))
    with pytest.raises(ValueError):
        await open_now(bot.settings, "kpi", "2026-13", clock=clock_of(bot))
    assert await outbox_size(bot) == 0
    assert bot.sandbox.texts(OWNER_JB) == []


async def test_a_round_past_its_close_is_not_opened(start_bot: StartBot) -> None:
    # The job never ran (the bot was down all month): the round is past its close but was
    # never marked closed. Opening it now would queue invitations that expire at once.
    bot = await start_bot(FakeClock(NOVEMBER_CLOSE))
    await factories.enterprise(bot, owner=OWNER_JB)
    said = await open_now(bot.settings, "kpi", "2026-11", clock=clock_of(bot))
    assert said == ("the kpi round of 2026-11 never ran and its dates have passed; nothing "
                    "was recorded. --late opens it now, with its own dates from today")
    assert await outbox_size(bot) == 0
    # Not recorded as a closed round with everyone as not having answered.
    async with bot.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(SurveyRound)) == 0


async def test_a_month_that_never_ran_opens_late_on_purpose(start_bot: StartBot) -> None:
    """Staff run November in late December: its own dates from today, a week at least, the
    reminder before the close, invitations in the morning (not at 00.00 WIB)."""
    bot = await start_bot(FakeClock(NOVEMBER_CLOSE))  # 21 December, 00.00 WIB
    await factories.enterprise(bot, owner=OWNER_JB, days_ago=60)
    # Approved in December: it was not there in November, so it is not asked about it.
    await factories.enterprise(bot, owner=OWNER_BA, name="PT Bali Indah", province="BA")
    said = await open_now(bot.settings, "kpi", "2026-11", clock=clock_of(bot), late=True)
    assert said == ("the kpi round of 2026-11 is open late until 2026-12-31, asking those who "
                    "were members by the end of 2026-11: 1 invitations queued")
    kpi = await round_of(bot, "kpi", NOVEMBER)
    assert (kpi.opens_on, kpi.closes_on) == (date(2026, 12, 21), date(2026, 12, 31))
    assert kpi.opens_on < kpi.reminder_on < kpi.closes_on
    assert when(await invitations(bot, "kpi")) == {OWNER_JB: utc(2026, 12, 20, 23)}
    await move_clock(bot, utc(2026, 12, 20, 23, 1))
    assert received(bot, OWNER_JB, KPI_INVITATION)


async def test_the_command_line_opens_a_round_once(
        quiet_bot: BotHarness, database_url: str, tmp_cwd: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    bot = quiet_bot
    await factories.enterprise(bot, owner=OWNER_JB)
    monkeypatch.setenv("DATABASE_URL", database_url)
    # The command's clock says 2 December 2026, whatever the day the tests run.
    at = ["--now", DEC_2.isoformat()]
    command = ["survey", "open", "--survey", "kpi", "--period", "2026-11", *at]
    # In a thread: the command runs its own event loop, as from a shell.
    assert await asyncio.to_thread(cli.main, command) == 0
    assert "the kpi round of 2026-11 is open until 2026-12-20: 1 invitations queued" in \
        capsys.readouterr().out
    assert await asyncio.to_thread(cli.main, command) == 0
    assert "was open already; nothing new was sent" in capsys.readouterr().out
    assert list(await invitations(bot, "kpi")) == [OWNER_JB]

    assert await asyncio.to_thread(cli.main, ["survey", "close", "--survey", "kpi",
                                              "--period", "2026-11", *at]) == 0
    assert "is closed; unsent messages were dropped" in capsys.readouterr().out
    assert await asyncio.to_thread(cli.main, ["survey", "open", "--survey", "kpi",
                                              "--period", "2026-1x", *at]) == 2
    assert "survey: not a period" in capsys.readouterr().err
    assert await asyncio.to_thread(cli.main, ["survey", "open", "--survey", "pulse",
                                              "--period", "2026-12", *at]) == 2
    assert "survey: 2026-12 has not ended yet" in capsys.readouterr().err


# --- who is invited ------------------------------------------------------------------------------
async def test_opening_invites_only_consenting_active_members_of_approved_enterprises(
        start_bot: StartBot) -> None:
    bot = await start_bot(FakeClock(DEC_2))
    maju = await factories.enterprise(bot, owner=OWNER_JB)
    admin = 1011
    await factories.worker(bot, admin, maju, role="admin", name="Budi")
    await factories.worker(bot, 2001, maju)
    await factories.worker(bot, 2002, maju, name="Eko", left=True)
    await factories.worker(bot, 2003, maju, name="Fajar", blocked=True)
    await factories.worker(bot, 2004, maju, name="Gita", consent=False)
    pending = await factories.enterprise(bot, owner=1002, name="PT Baru", status="pending")
    await factories.worker(bot, 2005, pending, name="Hadi")
    rejected = await factories.enterprise(bot, owner=1003, name="PT Tolak", status="rejected")
    await factories.worker(bot, 2006, rejected, name="Indah")
    await factories.user(bot, 1004, role="owner", blocked=True)
    await factories.enterprise(bot, owner=1004, name="PT Blokir")
    await factories.user(bot, 1005, role="owner", consent=False)
    await factories.enterprise(bot, owner=1005, name="PT Tanpa Izin")

    clock = clock_of(bot)
    assert await open_now(bot.settings, "kpi", "2026-11", clock=clock) == (
        "the kpi round of 2026-11 is open until 2026-12-20: 2 invitations queued")
    assert await open_now(bot.settings, "pulse", "2026-11", clock=clock) == (
        "the pulse round of 2026-11 is open until 2026-12-20: 1 invitations queued")
    await bot.delivered()
    assert set(await invitations(bot, "kpi")) == {OWNER_JB, admin}
    assert set(await reminders(bot, "kpi")) == {OWNER_JB, admin}
    assert set(await invitations(bot, "pulse")) == {2001}
    assert set(await reminders(bot, "pulse")) == {2001}
    assert received(bot, OWNER_JB, KPI_INVITATION) and received(bot, admin, KPI_INVITATION)
    assert received(bot, 2001, PULSE_INVITATION)
    for user in (1002, 1003, 1004, 1005, 2002, 2003, 2004, 2005, 2006):
        assert bot.sandbox.texts(user) == [], user


async def test_a_bot_first_started_after_the_close_plans_no_round_that_asked_nobody(
        start_bot: StartBot) -> None:
    # 25 December 2026: November's rounds closed on the 20th, before this bot ever ran.
    bot = await start_bot(FakeClock(utc(2026, 12, 25, 3)))
    await factories.enterprise(bot, owner=OWNER_JB)
    await run_job(bot)
    async with bot.sessionmaker() as session:
        assert await survey_queries.get_round(session, "kpi", NOVEMBER) is None
        assert await survey_queries.get_round(session, "pulse", NOVEMBER) is None
    assert not received(bot, OWNER_JB, KPI_INVITATION)


async def test_a_worker_who_left_is_not_reminded(start_bot: StartBot) -> None:
    bot = await start_bot(FakeClock(BEFORE_NOVEMBER_OPENS))
    maju = await factories.enterprise(bot, owner=OWNER_JB)
    await factories.worker(bot, WORKER_JB, maju)
    await factories.worker(bot, 2004, maju, name="Dewi")
    await run_job(bot)
    await move_clock(bot, utc(2026, 12, 1, 12, 30))
    assert received(bot, WORKER_JB, PULSE_INVITATION)
    # The worker leaves through the bot: the reminder for a workplace left is not sent.
    await bot.text(WORKER_JB, "/leave")
    await bot.press(WORKER_JB, "Saya sudah tidak bekerja di sini")
    pulse_reminders = await reminders(bot, "pulse")
    assert (pulse_reminders[WORKER_JB].state, pulse_reminders[WORKER_JB].last_error) == (
        OutboxState.SKIPPED, "left")
    assert pulse_reminders[2004].state is OutboxState.PENDING
    await move_clock(bot, utc(2026, 12, 4, 12, 30))
    assert received(bot, 2004, PULSE_REMINDER) and not received(bot, WORKER_JB, PULSE_REMINDER)


# --- who joins while a round is open ------------------------------------------------------------
# Through the bot: the worker's code, the owner's admin invite, staff's approval.
PULSE_ANSWERS = ["Sering", "Aman", "Selalu", "Tidak", "Tidak"]


async def join_with_code(bot: BotHarness, worker: int, code: str, *, name: str = "Ani") -> None:
    """A new user, in Indonesian, who says they are a worker and types the code."""
    await onboard(bot, worker, "id", role="worker", name=name)
    await bot.text(worker, code)
    assert "Selamat datang" in bot.last_text(worker)


async def _west_java_and_papua(start_bot: StartBot) -> tuple[BotHarness, Enterprise,
                                                                 Enterprise]:
    """Before November's rounds open: PT Maju Jaya (WIB) with one worker, PT Papua Mandiri
    (WIT) with none; the job has planned the rounds."""
    bot = await start_bot(FakeClock(BEFORE_NOVEMBER_OPENS))
    maju = await factories.enterprise(bot, owner=OWNER_JB)
    papua = await factories.enterprise(bot, owner=OWNER_PA, name="PT Papua Mandiri",
                                       province="PA")
    await factories.worker(bot, WORKER_JB, maju)
    await run_job(bot)
    return bot, maju, papua


async def test_a_worker_who_joins_mid_round_is_invited_that_evening_and_can_answer(
        start_bot: StartBot) -> None:
    bot, maju, papua = await _west_java_and_papua(start_bot)
    assert maju.join_code and papua.join_code

    # Saturday 5 December, 10:00 WIB: the pulse's invitations and its reminder (the 4th)
    # have gone out. A new worker joins Maju with its code.
    await move_clock(bot, utc(2026, 12, 5, 3))
    assert received(bot, WORKER_JB, PULSE_REMINDER)
    await join_with_code(bot, 2010, maju.join_code)
    invitation = (await invitations(bot, "pulse"))[2010]
    # Tonight at 19:30 WIB, in the round's group, expiring at its close; the reminder has
    # passed, so none; and a worker gets no KPI report.
    assert (invitation.next_attempt_at, invitation.expires_at) == (
        utc(2026, 12, 5, 12, 30), NOVEMBER_CLOSE)
    assert 2010 not in await reminders(bot, "pulse")
    assert 2010 not in await invitations(bot, "kpi")
    # In Papua it is 12:00 already past 19:30 on the 5th (21:00 WIT): tomorrow evening.
    await move_clock(bot, utc(2026, 12, 5, 12))
    await join_with_code(bot, 2011, papua.join_code, name="Yohanes")
    assert (await invitations(bot, "pulse"))[2011].next_attempt_at == utc(2026, 12, 6, 10, 30)

    await move_clock(bot, utc(2026, 12, 5, 12, 30))
    assert received(bot, 2010, PULSE_INVITATION) and not received(bot, 2011, PULSE_INVITATION)
    assert len(received(bot, WORKER_JB, PULSE_INVITATION)) == 1  # the others: nothing new
    await bot.press(2010, "Mulai survei")
    for label in PULSE_ANSWERS:
        await bot.press(2010, label)
    assert "Terima kasih" in bot.last_text(2010)
    async with bot.sessionmaker() as session:
        response = await session.scalar(select(SurveyResponse).where(
            SurveyResponse.respondent_id == 2010))
    assert response is not None and response.status.value == "final"
    assert response.enterprise_id == maju.id and response.period == NOVEMBER
    await move_clock(bot, utc(2026, 12, 6, 10, 30))
    assert received(bot, 2011, PULSE_INVITATION)


async def test_a_round_opening_while_someone_joins_invites_them_all_the_same(
        start_bot: StartBot, monkeypatch: pytest.MonkeyPatch) -> None:
    """Joining renders the rounds' messages before its transaction. A round that opened in
    between is found inside it: nothing is committed, the messages are rendered again, and
    the worker joins once and is invited."""
    bot, maju, _papua = await _west_java_and_papua(start_bot)
    assert maju.join_code
    await move_clock(bot, utc(2026, 12, 5, 3))
    real, calls = rounds.latecomer_messages, []

    async def before_the_opening(svc: Services) -> dict[int, RoundMessages]:
        calls.append(svc)
        return {} if len(calls) == 1 else await real(svc)

    monkeypatch.setattr(rounds, "latecomer_messages", before_the_opening)
    await join_with_code(bot, 2010, maju.join_code)
    assert len(calls) == 2
    assert (await invitations(bot, "pulse"))[2010].next_attempt_at == utc(2026, 12, 5, 12, 30)
    async with bot.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Membership).where(
            Membership.user_id == 2010)) == 1


async def test_a_join_given_no_messages_for_an_open_round_commits_nothing(
        start_bot: StartBot) -> None:
    bot, maju, _papua = await _west_java_and_papua(start_bot)
    assert maju.join_code
    await move_clock(bot, utc(2026, 12, 5, 3))
    await factories.user(bot, 2010, role=Role.WORKER)
    with pytest.raises(Stale):
        await joining_db.join_with_code(bot.sessionmaker, 2010, maju.join_code,
                                        now=clock_of(bot).now(), rounds={})
    async with bot.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Membership).where(
            Membership.user_id == 2010)) == 0


async def test_a_worker_who_joins_before_the_reminder_finishes_and_is_not_reminded(
        start_bot: StartBot) -> None:
    bot = await start_bot(FakeClock(BEFORE_NOVEMBER_OPENS))
    maju = await factories.enterprise(bot, owner=OWNER_JB)
    assert maju.join_code
    await run_job(bot)
    # Wednesday 2 December, 10:00 WIB; the reminder goes on Friday the 4th at 19:30.
    await move_clock(bot, DEC_2)
    await join_with_code(bot, 2010, maju.join_code)
    await join_with_code(bot, 2011, maju.join_code, name="Dewi")
    assert when(await invitations(bot, "pulse")) == {
        2010: utc(2026, 12, 2, 12, 30), 2011: utc(2026, 12, 2, 12, 30)}
    assert when(await reminders(bot, "pulse")) == {
        2010: utc(2026, 12, 4, 12, 30), 2011: utc(2026, 12, 4, 12, 30)}

    await move_clock(bot, utc(2026, 12, 2, 12, 30))
    await bot.press(2010, "Mulai survei")
    for label in PULSE_ANSWERS:
        await bot.press(2010, label)
    assert "Terima kasih" in bot.last_text(2010)
    reminder = (await reminders(bot, "pulse"))[2010]
    assert (reminder.state, reminder.last_error) == (OutboxState.SKIPPED, "answered")
    await move_clock(bot, utc(2026, 12, 4, 12, 30))
    assert received(bot, 2011, PULSE_REMINDER) and not received(bot, 2010, PULSE_REMINDER)


async def test_joining_again_or_coming_back_invites_nobody_twice(start_bot: StartBot) -> None:
    bot = await start_bot(FakeClock(BEFORE_NOVEMBER_OPENS))
    maju = await factories.enterprise(bot, owner=OWNER_JB)
    sinar = await factories.enterprise(bot, owner=OWNER_BA, name="PT Sinar", province="BA")
    assert maju.join_code and sinar.join_code
    await run_job(bot)
    await move_clock(bot, DEC_2)
    await join_with_code(bot, 2010, maju.join_code)
    await move_clock(bot, utc(2026, 12, 2, 12, 30))
    assert len(received(bot, 2010, PULSE_INVITATION)) == 1
    size = await outbox_size(bot)

    # The code once more: a member already, nothing queued.
    await bot.text(2010, f"/join {maju.join_code}")
    assert "sudah terdaftar" in bot.last_text(2010)
    # Leaving drops the reminder; coming back (here, the next day) queues no new row: the
    # invitation was sent, and the reminder they never got is queued again (a member who
    # has not answered).
    await move_clock(bot, utc(2026, 12, 3, 3))
    await bot.text(2010, "/leave")
    await bot.press(2010, "Saya sudah tidak bekerja di sini")
    assert states(await reminders(bot, "pulse")) == {2010: OutboxState.SKIPPED}
    await bot.text(2010, f"/join {maju.join_code}")
    assert "Selamat datang" in bot.last_text(2010)
    assert states(await reminders(bot, "pulse")) == {2010: OutboxState.PENDING}
    # Nor does moving to another enterprise, in another zone: the reminder is dropped with
    # the old workplace and queued again at 19:30 in Bali's time.
    await bot.text(2010, f"/join {sinar.join_code}")
    await bot.press(2010, "Ya, sekarang saya bekerja di PT Sinar")
    assert "PT Sinar" in bot.last_text(2010)
    assert await outbox_size(bot) == size
    reminder = (await reminders(bot, "pulse"))[2010]
    assert (reminder.state, reminder.next_attempt_at) == (OutboxState.PENDING,
                                                          utc(2026, 12, 4, 11, 30))

    # A worker who answers with /survey before their invitation went out, then leaves and
    # comes back, is not invited either.
    await join_with_code(bot, 2011, maju.join_code, name="Dewi")
    await bot.text(2011, "/survey")
    for label in PULSE_ANSWERS:
        await bot.press(2011, label)
    assert "Terima kasih" in bot.last_text(2011)
    await bot.text(2011, "/leave")
    await bot.press(2011, "Saya sudah tidak bekerja di sini")
    await bot.text(2011, f"/join {maju.join_code}")
    assert "Selamat datang" in bot.last_text(2011)
    assert {(r.state, r.last_error) for r in (await invitations(bot, "pulse")).values()} == {
        (OutboxState.SENT, None), (OutboxState.SKIPPED, "answered")}

    await move_clock(bot, utc(2026, 12, 5, 12, 30))
    assert len(received(bot, 2010, PULSE_INVITATION)) == 1
    assert len(received(bot, 2010, PULSE_REMINDER)) == 1
    assert not received(bot, 2011, PULSE_INVITATION) and not received(bot, 2011, PULSE_REMINDER)


async def test_leaving_by_mistake_and_coming_back_before_the_evening_keeps_the_invitation(
        start_bot: StartBot) -> None:
    bot = await start_bot(FakeClock(BEFORE_NOVEMBER_OPENS))
    maju = await factories.enterprise(bot, owner=OWNER_JB)
    assert maju.join_code
    await run_job(bot)
    await move_clock(bot, DEC_2)  # 10:00 WIB: the invitation waits for 19:30
    await join_with_code(bot, 2010, maju.join_code)
    await bot.text(2010, "/leave")
    await bot.press(2010, "Saya sudah tidak bekerja di sini")
    assert states(await invitations(bot, "pulse")) == {2010: OutboxState.SKIPPED}
    await join_with_code(bot, 2010, maju.join_code)
    assert states(await invitations(bot, "pulse")) == {2010: OutboxState.PENDING}
    await move_clock(bot, utc(2026, 12, 5, 12, 30))
    assert len(received(bot, 2010, PULSE_INVITATION)) == 1
    assert len(received(bot, 2010, PULSE_REMINDER)) == 1


# --- who moves to another enterprise while a round is open -------------------------------------
async def move(bot: BotHarness, worker: int, code: str, to: str) -> None:
    """The worker types another enterprise's code and says yes, they work there now."""
    await bot.text(worker, f"/join {code}")
    await bot.press(worker, f"Ya, sekarang saya bekerja di {to}")
    assert f"terdaftar di {to}" in bot.last_text(worker)


async def pulse_responses(bot: BotHarness, worker: int) -> list[tuple[int, str]]:
    async with bot.sessionmaker() as session:
        found = (await session.scalars(select(SurveyResponse).where(
            SurveyResponse.respondent_id == worker).order_by(SurveyResponse.id))).all()
    return [(r.enterprise_id, r.status.value) for r in found]


async def test_a_worker_who_moves_before_the_invitation_went_out_gets_it_once_there(
        start_bot: StartBot) -> None:
    bot, maju, papua = await _west_java_and_papua(start_bot)
    assert papua.join_code
    assert when(await invitations(bot, "pulse")) == {WORKER_JB: utc(2026, 12, 1, 12, 30)}

    # 10:00 WIB on the opening day: the worker moves to Papua before tonight's invitation.
    # Maju's is dropped with the move and queued again, in the same row, for 19:30 in
    # Papua; so is the reminder.
    await move_clock(bot, utc(2026, 12, 1, 3))
    size = await outbox_size(bot)
    await move(bot, WORKER_JB, papua.join_code, "PT Papua Mandiri")
    invitation = (await invitations(bot, "pulse"))[WORKER_JB]
    reminder = (await reminders(bot, "pulse"))[WORKER_JB]
    assert (invitation.state, invitation.next_attempt_at, invitation.last_error) == (
        OutboxState.PENDING, utc(2026, 12, 1, 10, 30), None)
    assert (reminder.state, reminder.next_attempt_at) == (OutboxState.PENDING,
                                                          utc(2026, 12, 4, 10, 30))
    assert await outbox_size(bot) == size
    assert WORKER_JB not in await invitations(bot, "kpi")

    await move_clock(bot, utc(2026, 12, 1, 10, 30))  # 19.30 in Papua (at 21.30 it waits)
    assert len(received(bot, WORKER_JB, PULSE_INVITATION)) == 1
    await bot.press(WORKER_JB, "Mulai survei")
    for label in PULSE_ANSWERS:
        await bot.press(WORKER_JB, label)
    assert "Terima kasih" in bot.last_text(WORKER_JB)
    assert await pulse_responses(bot, WORKER_JB) == [(papua.id, "final")]
    await move_clock(bot, utc(2026, 12, 5, 3))
    assert not received(bot, WORKER_JB, PULSE_REMINDER)


async def test_a_worker_who_moves_halfway_through_the_pulse_answers_it_for_the_new_one(
        start_bot: StartBot) -> None:
    bot = await start_bot(FakeClock(BEFORE_NOVEMBER_OPENS))
    maju = await factories.enterprise(bot, owner=OWNER_JB)
    sinar = await factories.enterprise(bot, owner=OWNER_BA, name="PT Sinar", province="BA")
    await factories.worker(bot, WORKER_JB, maju)
    await run_job(bot)
    assert sinar.join_code
    await move_clock(bot, utc(2026, 12, 1, 12, 30))
    # Two answers for Maju, then stopped; the next day the worker moves to Sinar.
    await bot.press(WORKER_JB, "Mulai survei")
    for label in PULSE_ANSWERS[:2]:
        await bot.press(WORKER_JB, label)
    await bot.text(WORKER_JB, "/cancel")
    await move_clock(bot, utc(2026, 12, 2, 3))
    await move(bot, WORKER_JB, sinar.join_code, "PT Sinar")
    # The invitation was sent: it stays the one they have. The reminder is Sinar's, in Bali.
    assert states(await invitations(bot, "pulse")) == {WORKER_JB: OutboxState.SENT}
    assert when(await reminders(bot, "pulse")) == {WORKER_JB: utc(2026, 12, 4, 11, 30)}

    # The same invitation opens the survey for Sinar, from the first question: the answers
    # given for Maju stay with Maju's unfinished response, which answers no more.
    await bot.press(WORKER_JB, "Mulai survei")
    assert "\n\n1/6" in bot.last_text(WORKER_JB)  # after who reads the answers
    for label in PULSE_ANSWERS:
        await bot.press(WORKER_JB, label)
    assert "Terima kasih" in bot.last_text(WORKER_JB)
    assert await pulse_responses(bot, WORKER_JB) == [(maju.id, "open"), (sinar.id, "final")]
    await move_clock(bot, utc(2026, 12, 5, 3))
    assert len(received(bot, WORKER_JB, PULSE_INVITATION)) == 1
    assert not received(bot, WORKER_JB, PULSE_REMINDER)


async def test_an_admin_who_moves_away_as_a_worker_is_no_longer_asked_for_the_kpi_report(
        start_bot: StartBot) -> None:
    bot = await start_bot(FakeClock(BEFORE_NOVEMBER_OPENS))
    maju = await factories.enterprise(bot, owner=OWNER_JB)
    sinar = await factories.enterprise(bot, owner=OWNER_BA, name="PT Sinar", province="BA")
    assert sinar.join_code
    admin = 3001
    # Maju's admin by membership, whose role in the bot is worker (staff changed it): the
    # join code moves them.
    await factories.worker(bot, admin, maju, role="admin", name="Dewi")
    async with bot.sessionmaker() as session, session.begin():
        await users_db.set_role(session, admin, Role.WORKER)
    await run_job(bot)
    assert admin in await invitations(bot, "kpi") and admin in await reminders(bot, "kpi")

    # 08:00 WIB on the opening day, an hour before the KPI invitations.
    await move_clock(bot, utc(2026, 12, 1, 1))
    await move(bot, admin, sinar.join_code, "PT Sinar")
    kpi_rows = [(await invitations(bot, "kpi"))[admin], (await reminders(bot, "kpi"))[admin]]
    assert [(r.state, r.last_error) for r in kpi_rows] == [(OutboxState.SKIPPED, "left")] * 2
    # As Sinar's worker: the pulse, tonight at 19:30 in Bali.
    assert when(await invitations(bot, "pulse")) == {admin: utc(2026, 12, 1, 11, 30)}

    await move_clock(bot, utc(2026, 12, 10, 3))
    assert not received(bot, admin, KPI_INVITATION) and not received(bot, admin, KPI_REMINDER)
    assert len(received(bot, admin, PULSE_INVITATION)) == 1
    assert received(bot, OWNER_JB, KPI_INVITATION)


async def test_who_joins_after_the_close_or_too_late_for_an_evening_is_not_invited(
        start_bot: StartBot) -> None:
    bot = await start_bot(FakeClock(BEFORE_NOVEMBER_OPENS))
    maju = await factories.enterprise(bot, owner=OWNER_JB)
    assert maju.join_code
    await run_job(bot)
    # The 20th at 20:00 WIB: still open, but its last evening has passed.
    await move_clock(bot, utc(2026, 12, 20, 13))
    await join_with_code(bot, 2010, maju.join_code)
    # After the close, before the job marked it closed; and after that.
    await move_clock(bot, NOVEMBER_CLOSE)
    await join_with_code(bot, 2011, maju.join_code, name="Dewi")
    await run_job(bot)
    await join_with_code(bot, 2012, maju.join_code, name="Eko")
    assert await invitations(bot, "pulse") == {}
    assert await reminders(bot, "pulse") == {}
    await move_clock(bot, utc(2026, 12, 21, 13))
    for worker in (2010, 2011, 2012):
        assert not received(bot, worker, PULSE_INVITATION)


async def test_an_admin_who_accepts_the_invite_mid_round_gets_the_kpi_report(
        start_bot: StartBot) -> None:
    bot = await start_bot(FakeClock(BEFORE_NOVEMBER_OPENS))
    await factories.enterprise(bot, owner=OWNER_JB)
    await factories.enterprise(bot, owner=OWNER_BA, name="PT Sinar", province="BA")
    await run_job(bot)
    # Sinar's owner sends the report on the first day.
    await move_clock(bot, utc(2026, 12, 1, 1))
    await bot.press(OWNER_BA, FILL_IN)
    await answer_all(bot, OWNER_BA, ANSWERS)
    await bot.press(OWNER_BA, "Ya, kirim laporan")
    assert "laporan sudah tersimpan" in bot.last_text(OWNER_BA)

    # Friday 4 December, 15:00 WIB: Maju's owner invites an admin, who accepts at once.
    await move_clock(bot, utc(2026, 12, 4, 8))
    admin = 1011
    await bot.text(OWNER_JB, "/invite")
    payload = bot.last_text(OWNER_JB).split("start=")[1].split()[0]
    bot.sandbox.add_user(admin, "Budi", language_code="id")
    await bot.text(admin, f"/start {payload}")
    await bot.press(admin, "Bahasa Indonesia")
    await bot.press(admin, "Setuju")
    assert "admin" in bot.last_text(admin)
    # 09:00 WIB on the next working day, Monday the 7th; the reminder on the 10th.
    assert (await invitations(bot, "kpi"))[admin].next_attempt_at == utc(2026, 12, 7, 2)
    assert (await reminders(bot, "kpi"))[admin].next_attempt_at == utc(2026, 12, 10, 2)
    assert admin not in await invitations(bot, "pulse")

    # Sinar already sent its report: its new admin is not asked for it.
    await bot.text(OWNER_BA, "/invite")
    payload = bot.last_text(OWNER_BA).split("start=")[1].split()[0]
    bot.sandbox.add_user(1012, "Komang", language_code="id")
    await bot.text(1012, f"/start {payload}")
    await bot.press(1012, "Bahasa Indonesia")
    await bot.press(1012, "Setuju")
    assert 1012 not in await invitations(bot, "kpi")

    await move_clock(bot, utc(2026, 12, 7, 2))
    assert received(bot, admin, KPI_INVITATION)
    assert len(received(bot, OWNER_JB, KPI_INVITATION)) == 1
    await bot.press(admin, FILL_IN)
    assert "1/16" in bot.last_text(admin)


async def test_an_enterprise_approved_mid_round_gets_the_kpi_report(
        start_bot: StartBot) -> None:
    bot = await start_bot(FakeClock(BEFORE_NOVEMBER_OPENS))
    await factories.staff(bot)
    await run_job(bot)
    # Thursday 3 December: an owner enrols, staff approve at 14:00 WIB.
    await move_clock(bot, utc(2026, 12, 3, 7))
    await enrol(bot, OWNER_JB, "id")
    await bot.press(STAFF_ID, "Approve")
    assert (await invitations(bot, "kpi"))[OWNER_JB].next_attempt_at == utc(2026, 12, 4, 2)
    assert (await reminders(bot, "kpi"))[OWNER_JB].next_attempt_at == utc(2026, 12, 10, 2)
    await move_clock(bot, utc(2026, 12, 4, 2))
    assert received(bot, OWNER_JB, KPI_INVITATION)
    # A rejected one is not.
    await enrol(bot, OWNER_BA, "id", company="PT Tolak", province="bali")
    await bot.press(STAFF_ID, "Reject")
    await bot.text(STAFF_ID, "Not a manufacturer")
    assert OWNER_BA not in await invitations(bot, "kpi")


async def test_a_round_opened_at_once_at_night_invites_in_the_morning(
        start_bot: StartBot) -> None:
    """Staff open November's KPI report at once at 00.30 WIB on 2 December: nobody is woken
    by it. Invitations wait for 06.00 in each zone (and never go out before)."""
    bot = await start_bot(FakeClock(utc(2026, 12, 1, 17, 30)))  # 00.30 WIB, 02.30 WIT
    maju = await factories.enterprise(bot, owner=OWNER_JB)
    papua = await factories.enterprise(bot, owner=OWNER_PA, name="PT Papua Mandiri",
                                       province="PA")
    assert maju and papua
    await open_now(bot.settings, "kpi", "2026-11", clock=clock_of(bot))
    sent_at = when(await invitations(bot, "kpi"))
    assert sent_at == {OWNER_JB: utc(2026, 12, 1, 23), OWNER_PA: utc(2026, 12, 1, 21)}
    await move_clock(bot, utc(2026, 12, 1, 20, 59))
    assert not received(bot, OWNER_PA, KPI_INVITATION)


def test_quiet_hours_move_what_goes_out_now_to_the_morning() -> None:
    assert calendar.outside_quiet_hours(utc(2026, 12, 7, 13), WIB) == utc(2026, 12, 7, 13)
    assert calendar.outside_quiet_hours(utc(2026, 12, 7, 14), WIB) == utc(2026, 12, 7, 23)
    assert calendar.outside_quiet_hours(utc(2026, 12, 7, 17), WIT) == utc(2026, 12, 7, 21)
    assert calendar.outside_quiet_hours(utc(2026, 12, 7, 22, 59), WIB) == utc(2026, 12, 7, 23)


async def test_a_round_that_never_ran_is_forgotten_not_closed(start_bot: StartBot) -> None:
    """Planned, then the bot was down on all its days: past its close, the job forgets it
    rather than record a closed round that asked nobody."""
    bot = await start_bot(FakeClock(utc(2026, 11, 30, 10)))
    await factories.enterprise(bot, owner=OWNER_JB)
    async with bot.sessionmaker() as session, session.begin():
        await survey_queries.ensure_round(session, rounds.plan("kpi", NOVEMBER),
                                          now=clock_of(bot).now())
    clock_of(bot).advance((NOVEMBER_CLOSE - clock_of(bot).now()).total_seconds() + 60)
    await run_job(bot)
    async with bot.sessionmaker() as session:
        left = (await session.scalars(select(SurveyRound))).all()
    assert [(r.survey, r.period) for r in left] == []


async def test_the_staff_card_says_how_many_reminders_went_out(start_bot: StartBot) -> None:
    """Not "sent" for a reminder nobody got: the card counts what went out."""
    bot = await start_bot(FakeClock(BEFORE_NOVEMBER_OPENS))
    await three_zones(bot)
    await factories.staff(bot)
    await run_job(bot)
    # Every owner sends the KPI report before its reminder; the workers do not answer.
    await move_clock(bot, utc(2026, 12, 1, 3))
    for owner in (OWNER_JB, OWNER_BA, OWNER_PA):
        await bot.press(owner, FILL_IN)
        await answer_all(bot, owner, ANSWERS)
        await bot.press(owner, "Ya, kirim laporan")
    await move_clock(bot, utc(2026, 12, 11, 3))
    await bot.text(STAFF_ID, "/surveys")
    kpi, pulse = bot.texts(STAFF_ID)[-3:-1]
    assert "Reminder: Thursday, 10 December 2026, none went out" in kpi
    assert "Reminder: Friday, 4 December 2026, sent to 3" in pulse
