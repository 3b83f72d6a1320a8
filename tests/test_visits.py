"""Trainer visits through the real Application, on the virtual clock: staff or a trainer
schedule one (/visit), the owner and admins hear who comes and when, the reminders go on
both sides at 08.00 in the enterprise's zone and one hour before, the trainer is asked
"Did the visit happen?" and answers (report, reschedule, cancel), or is asked once more
the next morning; /visits lists them. Restarts, zones, foreign buttons and roles too."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from chat.clock import FakeClock
from chat.context import services_of
from db import workshops as workshops_db
from db.assignments import assign_trainer
from db.models import Enterprise, EventReminder, EventStatus, Role, Visit, WorkshopInvite
from jobs.event_reminders import run_reminders
from jobs.visit_reminders import render
from services import workshops
from tests import factories
from tests.conftest import STAFF_ID
from tests.harness import BotHarness

OWNER, ADMIN, TRAINER, OTHER_TRAINER, WORKER = 1001, 1002, 3001, 3002, 2001
# Monday 14 December 2026, 09.00 WIB: the visit of most tests.
VISIT_AT = datetime(2026, 12, 14, 2, 0, tzinfo=UTC)


def _clock(bot: BotHarness) -> FakeClock:
    clock = bot.clock
    assert isinstance(clock, FakeClock)
    return clock


async def _at(bot: BotHarness, moment: datetime) -> int:
    """Time moves to `moment` (never back); the reminder job runs, the outbox delivers."""
    clock = _clock(bot)
    if moment > clock.now():
        clock.advance((moment - clock.now()).total_seconds())
    assert bot.app is not None
    queued = await run_reminders(services_of(bot.app), {"visit": render})
    await bot.delivered()
    return queued


async def _world(bot: BotHarness, *, province: str = "JB", city: str = "Bekasi",
                 trainer_language: str = "en") -> Enterprise:
    await factories.staff(bot)
    maju = await factories.enterprise(bot, owner=OWNER, province=province, city=city,
                                      modules=(1, 5))
    await factories.worker(bot, ADMIN, maju, role="admin", name="Dewi")
    await factories.user(bot, TRAINER, name="Budi", role=Role.TRAINER,
                         language=trainer_language)
    await assign_trainer(bot.sessionmaker, TRAINER, maju.id, staff_id=STAFF_ID,
                         now=bot.clock.now())
    return maju


async def _staff_schedules(bot: BotHarness, when: str = "14/12 09.00") -> Visit:
    await bot.text(STAFF_ID, "/visit new")
    assert "Which enterprise" in bot.replies(STAFF_ID)[-1]
    await bot.text(STAFF_ID, "maju")
    # One trainer is assigned: taken; the modules it chose come first.
    assert "Which module" in bot.replies(STAFF_ID)[-1]
    await bot.press(STAFF_ID, "★ 1. Workplace Cooperation")
    await bot.text(STAFF_ID, when)
    return await _confirm(bot, STAFF_ID)


async def _confirm(bot: BotHarness, user: int) -> Visit:
    summary = bot.replies(user)[-1]
    assert "Schedule this consulting visit?" in summary
    await bot.press(user, "✅ Schedule it")
    assert "is scheduled" in bot.replies(user)[-1]
    async with bot.sessionmaker() as session:
        visits = (await session.scalars(select(Visit).order_by(Visit.id.desc()))).all()
    return visits[0]


async def _planned(bot: BotHarness, visit_id: int) -> dict[str, EventReminder]:
    async with bot.sessionmaker() as session:
        rows = (await session.scalars(select(EventReminder).where(
            EventReminder.event == "visit", EventReminder.event_id == visit_id))).all()
    return {f"{r.kind}:v{r.version}": r for r in rows}


async def _visit(bot: BotHarness, visit_id: int) -> Visit:
    async with bot.sessionmaker() as session:
        row = await session.get(Visit, visit_id)
    assert row is not None
    return row


def _news(bot: BotHarness, user: int, since: int) -> list[str]:
    return bot.texts(user)[since:]


async def test_a_visits_whole_life_scheduled_reminded_and_reported(bot: BotHarness) -> None:
    await _world(bot)
    visit = await _staff_schedules(bot)
    assert visit.starts_at == VISIT_AT and visit.module == 1
    assert visit.trainer_id == TRAINER and visit.status is EventStatus.SCHEDULED
    # The owner and the admin are told at once, in their language, who comes and when.
    for person in (OWNER, ADMIN):
        told = bot.texts(person)[-1]
        assert "Budi" in told and "Senin, 14 Desember 2026, 09.00 WIB" in told
    assert "Monday, 14 December 2026, 09:00 WIB" in bot.texts(TRAINER)[-1]
    assert set(await _planned(bot, visit.id)) == {
        "day:v0", "hour:v0", "owner_day:v0", "ask:v0", "ask_again:v0"}

    seen = {p: len(bot.texts(p)) for p in (OWNER, ADMIN, TRAINER)}
    # Sunday 13 December, 07.59 WIB: nothing yet; 08.00: both sides.
    assert await _at(bot, datetime(2026, 12, 13, 0, 59, tzinfo=UTC)) == 0
    assert await _at(bot, datetime(2026, 12, 13, 1, 0, tzinfo=UTC)) == 3
    assert "tomorrow you have a consulting visit" in _news(bot, TRAINER, seen[TRAINER])[0]
    for person in (OWNER, ADMIN):
        assert "Budi" in _news(bot, person, seen[person])[0]
    # One hour before, the trainer only.
    assert await _at(bot, VISIT_AT - timedelta(hours=1)) == 1
    assert "In one hour" in bot.texts(TRAINER)[-1]
    # After the visit: "Did the visit happen?"
    assert await _at(bot, VISIT_AT + timedelta(hours=3)) == 1
    assert "Did your consulting visit to" in bot.texts(TRAINER)[-1]

    owner_seen = len(bot.texts(OWNER))
    await bot.press(TRAINER, "✅ Yes, it happened")
    assert "What was done" in bot.replies(TRAINER)[-1]
    await bot.text(TRAINER, "Kaizen board set up with the EIT; 5S walk in the press shop.")
    await bot.text(TRAINER, "EIT meets weekly; measure rejects on line 2.")
    assert "improvement team (EIT)" in bot.replies(TRAINER)[-1]
    await bot.press(TRAINER, "Yes, it met")
    assert "Send this report?" in bot.replies(TRAINER)[-1]
    # Each answer can be changed from the summary.
    await bot.press(TRAINER, "Change the next steps")
    await bot.text(TRAINER, "EIT meets weekly; measure rejects on line 2 and 3.")
    assert "line 2 and 3" in bot.replies(TRAINER)[-1]
    await bot.press(TRAINER, "✅ Send the report")
    assert "report is stored" in bot.replies(TRAINER)[-1]

    done = await _visit(bot, visit.id)
    assert done.status is EventStatus.DONE and done.eit_met is True
    assert done.report_next_steps == "EIT meets weekly; measure rejects on line 2 and 3."
    assert done.reported_by == TRAINER
    assert "line 2 and 3" in _news(bot, OWNER, owner_seen)[-1]
    # Reported: the next morning's question is not asked.
    trainer_seen = len(bot.texts(TRAINER))
    assert await _at(bot, datetime(2026, 12, 15, 1, 0, tzinfo=UTC)) == 0
    assert len(bot.texts(TRAINER)) == trainer_seen
    # The old question's button now says the visit was reported.
    await bot.press(TRAINER, "📅 It was rescheduled")
    assert "reported already" in bot.replies(TRAINER)[-1]
    assert bot.open_flow(TRAINER) is None


async def test_no_answer_is_asked_again_once_then_rescheduled(bot: BotHarness) -> None:
    await _world(bot)
    # The trainer schedules their own visit: their one enterprise is taken.
    await bot.text(TRAINER, "/visit")
    assert "Which module" in bot.replies(TRAINER)[-1]
    await bot.press(TRAINER, "5. Occupational Safety and Health")
    await bot.text(TRAINER, "besok jam 9")  # Wednesday 2 December, 09.00 WIB
    assert "Wednesday, 2 December 2026, 09:00 WIB" in bot.replies(TRAINER)[-1]
    owner_seen = len(bot.texts(OWNER))
    visit = await _confirm(bot, TRAINER)
    assert visit.created_by == TRAINER
    assert "Rabu, 2 Desember 2026, 09.00 WIB" in _news(bot, OWNER, owner_seen)[-1]
    starts = visit.starts_at

    await _at(bot, starts + timedelta(hours=3))
    assert "Did your consulting visit" in bot.texts(TRAINER)[-1]
    # No answer: asked once more the next morning at 08.00, then never again.
    assert await _at(bot, datetime(2026, 12, 3, 1, 0, tzinfo=UTC)) == 1
    assert "You have not told us yet" in bot.texts(TRAINER)[-1]
    asked = len(bot.texts(TRAINER))
    assert await _at(bot, datetime(2026, 12, 6, 1, 0, tzinfo=UTC)) == 0
    assert len(bot.texts(TRAINER)) == asked

    # Staff see it as not reported.
    await bot.text(STAFF_ID, "/visits")
    listing = bot.replies(STAFF_ID)[-1]
    assert "Not reported yet" in listing
    assert listing.split("Not reported yet")[1].count("PT Maju Jaya") == 1

    # The trainer's /visits has it too, with the question again behind a button.
    await bot.text(TRAINER, "/visits")
    assert "Not reported yet" in bot.replies(TRAINER)[-1]
    await bot.press(TRAINER, "Answer: PT Maju Jaya, 2/12")
    assert "Did your consulting visit" in bot.replies(TRAINER)[-1]

    # Rescheduled: a new date, read in the enterprise's zone and confirmed in words.
    owner_seen = len(bot.texts(OWNER))
    await bot.press(TRAINER, "📅 It was rescheduled")
    await bot.text(TRAINER, "kemarin 10.00")
    assert "passed" in bot.replies(TRAINER)[-1]
    await bot.text(TRAINER, "10/12 10.00")
    assert "Thursday, 10 December 2026, 10:00 WIB" in bot.replies(TRAINER)[-1]
    await bot.press(TRAINER, "✅ Yes, move it")
    assert "is moved to" in bot.replies(TRAINER)[-1]
    moved = await _visit(bot, visit.id)
    assert moved.version == 1 and moved.starts_at == datetime(2026, 12, 10, 3, 0, tzinfo=UTC)
    assert "Kamis, 10 Desember 2026, 10.00 WIB" in _news(bot, OWNER, owner_seen)[-1]
    planned = await _planned(bot, visit.id)
    assert {k for k in planned if k.endswith(":v1")} == {
        "day:v1", "hour:v1", "owner_day:v1", "ask:v1", "ask_again:v1"}
    # The old question's buttons now refer to a date the visit no longer has.
    await bot.press(TRAINER, "✅ Yes, it happened")
    assert "moved to another date" in bot.replies(TRAINER)[-1]
    # Reminded for the new date, the day before at 08.00.
    trainer_seen = len(bot.texts(TRAINER))
    assert await _at(bot, datetime(2026, 12, 9, 1, 0, tzinfo=UTC)) == 3  # and owner, admin
    assert "Thursday, 10 December 2026, 10:00 WIB" in _news(bot, TRAINER, trainer_seen)[0]


async def test_a_cancelled_visit_tells_the_owner_and_its_buttons_say_so(
        bot: BotHarness) -> None:
    await _world(bot)
    visit = await _staff_schedules(bot, "2/12 09.00")
    await _at(bot, visit.starts_at + timedelta(hours=3))
    owner_seen = len(bot.texts(OWNER))
    await bot.press(TRAINER, "✖ It was cancelled")
    assert "Why was the visit cancelled" in bot.replies(TRAINER)[-1]
    await bot.text(TRAINER, "   ")
    await bot.text(TRAINER, "The owner was called to Jakarta.")
    await bot.press(TRAINER, "✅ Yes, it is cancelled")
    assert "is cancelled" in bot.replies(TRAINER)[-1]
    row = await _visit(bot, visit.id)
    assert row.status is EventStatus.CANCELLED
    assert row.cancel_reason == "The owner was called to Jakarta."
    assert "called to Jakarta" in _news(bot, OWNER, owner_seen)[-1]
    # Nothing more is asked; an old button says the visit was cancelled.
    assert await _at(bot, datetime(2026, 12, 3, 1, 0, tzinfo=UTC)) == 0
    await bot.press(TRAINER, "✅ Yes, it happened")
    assert "was cancelled" in bot.replies(TRAINER)[-1]
    assert bot.open_flow(TRAINER) is None
    # A row planned for it that was left (a race with the cancel) says nothing.
    now = bot.clock.now()
    async with bot.sessionmaker() as session, session.begin():
        session.add(EventReminder(event="visit", event_id=visit.id, version=0,
                                  kind="ask_again", due_at=now, created_at=now))
    assert await _at(bot, now + timedelta(minutes=1)) == 0


async def test_a_restart_between_scheduling_and_the_reminder_loses_nothing(
        bot: BotHarness) -> None:
    await _world(bot)
    visit = await _staff_schedules(bot)
    await bot.restart(hard=True)
    # Down over Sunday's 08.00: the reminders go when the bot is back, saying they are late.
    seen = len(bot.texts(TRAINER))
    assert await _at(bot, datetime(2026, 12, 13, 4, 0, tzinfo=UTC)) == 3
    assert "comes late" in _news(bot, TRAINER, seen)[0]
    # Restarted again: nothing twice.
    await bot.restart(hard=True)
    assert await _at(bot, datetime(2026, 12, 13, 5, 0, tzinfo=UTC)) == 0
    assert len(bot.texts(TRAINER)) == seen + 1
    planned = await _planned(bot, visit.id)
    assert planned["day:v0"].queued == 1 and planned["owner_day:v0"].queued == 2


async def test_a_visit_in_makassar_is_read_and_reminded_in_wita(bot: BotHarness) -> None:
    await _world(bot, province="SN", city="Makassar", trainer_language="id")
    visit = await _staff_schedules(bot)  # "14/12 09.00": Makassar's 09.00
    assert visit.starts_at == datetime(2026, 12, 14, 1, 0, tzinfo=UTC)
    assert "Senin, 14 Desember 2026, 09.00 WITA" in bot.texts(OWNER)[-1]
    seen = len(bot.texts(TRAINER))
    # 07.59 WITA on Sunday: nothing; 08.00 WITA (07.00 WIB): the reminders.
    assert await _at(bot, datetime(2026, 12, 12, 23, 59, tzinfo=UTC)) == 0
    assert await _at(bot, datetime(2026, 12, 13, 0, 0, tzinfo=UTC)) == 3
    reminder = _news(bot, TRAINER, seen)[0]
    assert "Pengingat: besok Bapak/Ibu" in reminder and "09.00 WITA" in reminder
    # The hour before is 08.00 WITA; the question three hours after the start, in WITA.
    assert await _at(bot, datetime(2026, 12, 14, 0, 0, tzinfo=UTC)) == 1
    assert await _at(bot, datetime(2026, 12, 14, 4, 0, tzinfo=UTC)) == 1
    assert "Senin, 14 Desember 2026, 09.00 WITA" in bot.texts(TRAINER)[-1]
    await bot.press(TRAINER, "✅ Ya, sudah terlaksana")
    assert "Apa yang dikerjakan" in bot.replies(TRAINER)[-1]


async def test_help_and_menus_name_the_visit_commands(bot: BotHarness) -> None:
    await _world(bot)
    await bot.text(TRAINER, "/help")
    assert "/visit – schedule" in bot.replies(TRAINER)[-1]
    assert "I remind you" in bot.replies(TRAINER)[-1]
    await bot.text(OWNER, "/help")
    assert "/visits – kunjungan pendampingan trainer SCORE" in bot.replies(OWNER)[-1]
    await bot.text(STAFF_ID, "/help")
    assert "/visits Budi" in bot.replies(STAFF_ID)[-1]


async def test_help_names_the_workshop_commands_by_role(bot: BotHarness) -> None:
    await _world(bot)
    await bot.text(OWNER, "/help")
    assert "/workshops – pelatihan (lokakarya) SCORE yang mengundang" in bot.replies(OWNER)[-1]
    await bot.text(TRAINER, "/help")
    assert "/workshops – the workshops of your enterprises" in bot.replies(TRAINER)[-1]
    await bot.text(STAFF_ID, "/help")
    assert "/workshop new – create a workshop" in bot.replies(STAFF_ID)[-1]


async def test_a_trainer_cannot_touch_a_visit_that_is_not_theirs(
        bot: BotHarness, caplog: pytest.LogCaptureFixture) -> None:
    await _world(bot)
    await factories.user(bot, OTHER_TRAINER, name="Joko", role=Role.TRAINER, language="en")
    visit = await _staff_schedules(bot, "2/12 09.00")
    await _at(bot, visit.starts_at + timedelta(hours=3))
    assert bot.app is not None
    signer = services_of(bot.app).signer
    with caplog.at_level(logging.WARNING):
        # Signed for Joko (he could only get it by forging the value): not his visit.
        bot.sandbox.press(OTHER_TRAINER, signer.data(OTHER_TRAINER, "vyes", f"{visit.id}.0"))
        await bot.settle()
    assert "not yours" in bot.texts(OTHER_TRAINER)[-1]
    assert "not its trainer" in caplog.text
    assert bot.open_flow(OTHER_TRAINER) is None
    # Budi's own button, pressed by Joko: forged, stopped at the gate.
    before = len(bot.texts(OTHER_TRAINER))
    bot.sandbox.press(OTHER_TRAINER, signer.data(TRAINER, "vcxl", f"{visit.id}.0"))
    await bot.settle()
    assert len(bot.texts(OTHER_TRAINER)) == before
    assert (await _visit(bot, visit.id)).status is EventStatus.SCHEDULED
    # Nor does /visits' Answer button, signed for him, open Budi's question.
    bot.sandbox.press(OTHER_TRAINER, signer.data(OTHER_TRAINER, "vask", f"{visit.id}.0"))
    await bot.settle()
    assert "not yours" in bot.texts(OTHER_TRAINER)[-1]
    # Nor can he schedule a visit to an enterprise not assigned to him.
    await bot.text(OTHER_TRAINER, "/visit maju")
    assert "No enterprise is assigned" in bot.replies(OTHER_TRAINER)[-1] or \
        "None of the enterprises assigned to you" in bot.replies(OTHER_TRAINER)[-1]
    # His /visits shows none of Budi's.
    await bot.text(OTHER_TRAINER, "/cancel")
    await bot.text(OTHER_TRAINER, "/visits")
    assert "PT Maju Jaya" not in bot.replies(OTHER_TRAINER)[-1]


async def test_a_worker_cannot_use_the_visit_commands(bot: BotHarness) -> None:
    maju = await _world(bot)
    await factories.worker(bot, WORKER, maju, language="en")
    for command in ("/visit new", "/visits"):
        await bot.text(WORKER, command)
        assert "I do not know that command" in bot.replies(WORKER)[-1]
        assert bot.open_flow(WORKER) is None
    # Nor an owner schedule one; but the owner sees the enterprise's visits.
    await _staff_schedules(bot)
    await bot.text(OWNER, "/visit new")
    assert bot.open_flow(OWNER) is None
    await bot.text(OWNER, "/visits")
    assert "Senin, 14 Desember 2026, 09.00 WIB" in bot.replies(OWNER)[-1]


async def test_staff_see_visits_by_trainer_or_province(bot: BotHarness) -> None:
    await _world(bot)
    await _staff_schedules(bot)
    await bot.text(STAFF_ID, "/visits budi")
    assert "Monday, 14 December 2026" in bot.replies(STAFF_ID)[-1]
    await bot.text(STAFF_ID, "/visits JB")
    assert "West Java" in bot.replies(STAFF_ID)[-1]
    assert "PT Maju Jaya" in bot.replies(STAFF_ID)[-1]
    await bot.text(STAFF_ID, "/visits Sulawesi Selatan")
    reply = bot.replies(STAFF_ID)[-1]
    assert "South Sulawesi" in reply and "PT Maju Jaya" not in reply
    await bot.text(STAFF_ID, "/visits zzz")
    assert "No trainer or province matches" in bot.replies(STAFF_ID)[-1]
    # The trainer's own list.
    await bot.text(TRAINER, "/visits")
    assert "PT Maju Jaya" in bot.replies(TRAINER)[-1]


async def test_a_typed_date_that_does_not_fit_is_asked_again(bot: BotHarness) -> None:
    await _world(bot)
    await bot.text(STAFF_ID, "/visit new maju")
    await bot.press(STAFF_ID, "★ 1. Workplace Cooperation")
    await bot.text(STAFF_ID, "14 Desember")
    assert "add the time" in bot.replies(STAFF_ID)[-1]
    await bot.text(STAFF_ID, "14/12 25.00")
    assert "does not exist" in bot.replies(STAFF_ID)[-1]
    await bot.text(STAFF_ID, "hello")
    assert "could not read" in bot.replies(STAFF_ID)[-1]
    assert bot.step(STAFF_ID) == "vn_when"
    await bot.text(STAFF_ID, "/cancel")
    async with bot.sessionmaker() as session:
        assert (await session.scalars(select(Visit))).all() == []


async def test_a_module_one_visit_done_invites_to_the_later_modules_workshops(
        bot: BotHarness) -> None:
    maju = await _world(bot)
    visit = await _staff_schedules(bot)
    assert bot.app is not None
    created = await workshops.create(services_of(bot.app), workshops_db.WorkshopFields(
        module=5, province="JB", city="Bekasi", venue="Hotel Santika", venue_lat=None,
        venue_lon=None, starts_at=datetime(2027, 1, 20, 2, 0, tzinfo=UTC), days=2,
        notes_id=None, notes_en=None), staff_id=STAFF_ID)
    assert created.invited == 0
    await _at(bot, VISIT_AT + timedelta(hours=3))
    await bot.press(TRAINER, "✅ Yes, it happened")
    await bot.text(TRAINER, "Kaizen board set up with the EIT.")
    await bot.text(TRAINER, "EIT meets weekly.")
    await bot.press(TRAINER, "Yes, it met")
    await bot.press(TRAINER, "✅ Send the report")
    await bot.delivered()
    assert (await _visit(bot, visit.id)).status is EventStatus.DONE
    async with bot.sessionmaker() as session:
        invited = (await session.scalars(select(WorkshopInvite.enterprise_id).where(
            WorkshopInvite.workshop_id == created.workshop_id))).all()
    assert invited == [maju.id]
    assert any("modul 5" in text for text in bot.texts(OWNER)[-2:])


async def test_only_the_reminders_planned_are_promised(bot: BotHarness) -> None:
    """Scheduled on 16 December 09.08 WITA for the 17th 10.00 WITA: the day-before reminder's
    08.00 has passed, so the summary and the trainer's notice promise the hour before only."""
    await _world(bot, province="SN", city="Makassar")
    _clock(bot).advance((datetime(2026, 12, 16, 1, 8, tzinfo=UTC)
                         - _clock(bot).now()).total_seconds())
    await bot.text(STAFF_ID, "/visit new")
    await bot.text(STAFF_ID, "maju")
    await bot.press(STAFF_ID, "★ 1. Workplace Cooperation")
    await bot.text(STAFF_ID, "17/12 10.00")
    summary = bot.replies(STAFF_ID)[-1]
    assert "The trainer is reminded one hour before." in summary
    assert "day before" not in summary
    visit = await _confirm(bot, STAFF_ID)
    assert set(await _planned(bot, visit.id)) == {"hour:v0", "ask:v0", "ask_again:v0"}
    notice = bot.texts(TRAINER)[-1]
    assert "You will be reminded one hour before." in notice and "day before" not in notice
    # A day ahead: both, at 08:00 in the enterprise's zone.
    await bot.text(STAFF_ID, "/visit new")
    await bot.text(STAFF_ID, "maju")
    await bot.press(STAFF_ID, "★ 1. Workplace Cooperation")
    await bot.text(STAFF_ID, "21/12 10.00")
    assert ("reminded the day before at 08:00 WITA and one hour before"
            in bot.replies(STAFF_ID)[-1])
