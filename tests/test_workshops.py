"""Workshops through the real Application, on a controllable clock: staff create one, owners
and admins are invited (with a calendar file and a map link), answer and change their
answer, are reminded 7 days and 1 day before at 08.00 local time (late after a restart,
none to who declined), are told of an edit and of a cancellation; attendance is recorded.
The unhappy paths: a forged, a foreign and a cancelled workshop's button, a worker trying
staff commands, module 1 first."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from chat.clock import FakeClock
from chat.context import Services, services_of
from config.settings import Settings
from db import workshops as workshops_db
from db.models import (
    EventReminder,
    EventStatus,
    Rsvp,
    TrainerAssignment,
    Workshop,
    WorkshopInvite,
    WorkshopParticipant,
)
from db.queries.outbox import Outgoing
from jobs.event_reminders import DueMessage, run_reminders
from sandbox import BotApiSandbox
from services import workshops
from tests import factories
from tests.conftest import STAFF_ID
from tests.harness import BotHarness

START = datetime(2026, 12, 8, 3, 0, tzinfo=UTC)  # Tuesday 8 December 2026, 10.00 WIB
OWNER, ADMIN, OTHER, WORKER = 1001, 1002, 1003, 2001


async def _render(svc: Services, due: DueMessage) -> Sequence[Outgoing]:
    return await workshops.render_reminder(svc, due.reminder, late=due.late)


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


async def _at(bot: BotHarness, moment: datetime) -> int:
    clock = _svc(bot).clock
    assert isinstance(clock, FakeClock)
    clock.advance((moment - clock.now()).total_seconds())
    queued = await run_reminders(_svc(bot), {"workshop": _render})
    await bot.delivered()
    return queued


async def _world(bot: BotHarness) -> None:
    await factories.staff(bot)
    maju = await factories.enterprise(bot, owner=OWNER, modules=(1, 5))
    await factories.worker(bot, ADMIN, maju, role="admin", name="Dewi")
    await factories.worker(bot, WORKER, maju)
    # Interested in module 2 only, in the same province: not invited to module 1.
    await factories.enterprise(bot, owner=OTHER, name="PT Sinar", modules=(2,))


async def _workshop(bot: BotHarness) -> Workshop:
    async with bot.sessionmaker() as session:
        found = (await session.scalars(select(Workshop).order_by(Workshop.id.desc()))).first()
    assert found is not None
    return found


async def _invite(bot: BotHarness, workshop_id: int) -> WorkshopInvite | None:
    async with bot.sessionmaker() as session:
        return await session.scalar(select(WorkshopInvite).where(
            WorkshopInvite.workshop_id == workshop_id))


async def _people(bot: BotHarness) -> list[WorkshopParticipant]:
    async with bot.sessionmaker() as session:
        return list(await session.scalars(select(WorkshopParticipant)
                                          .order_by(WorkshopParticipant.id)))


async def _create_through_the_flow(bot: BotHarness) -> None:
    await bot.text(STAFF_ID, "/workshop new")
    await bot.press(STAFF_ID, "1. Workplace Cooperation")
    await bot.text(STAFF_ID, "Jawa Barat")
    await bot.text(STAFF_ID, "Bekasi")
    await bot.text(STAFF_ID, "Hotel Santika, Jl. Ahmad Yani 88")
    await bot._handled(STAFF_ID, lambda: bot.sandbox.send_location(STAFF_ID, -6.24, 107.0))
    await bot.text(STAFF_ID, "17/12 09.00")
    assert "Thursday, 17 December 2026, 09:00 WIB" in bot.replies(STAFF_ID)[0]
    await bot.text(STAFF_ID, "2")
    await bot.text(STAFF_ID, "Bawa APD")
    await bot.text(STAFF_ID, "Bring your PPE")


async def test_a_workshops_whole_life(wbot: BotHarness) -> None:
    bot = wbot
    await _world(bot)
    await _create_through_the_flow(bot)
    summary = bot.replies(STAFF_ID)[-1]
    assert "Thursday, 17 December 2026, 09:00 WIB" in summary
    assert "owners and admins of 1 enterprise." in summary
    # Each answer can be changed from the summary: the date, read again in words.
    await bot.press(STAFF_ID, "Date and time")
    await bot.text(STAFF_ID, "18 Desember jam 9")
    assert "Friday, 18 December 2026, 09:00 WIB" in bot.replies(STAFF_ID)[-1]
    await bot.press(STAFF_ID, "Confirm")
    assert "1 enterprise." in bot.replies(STAFF_ID)[-1]
    workshop = await _workshop(bot)
    assert workshop.starts_at == datetime(2026, 12, 18, 2, 0, tzinfo=UTC)
    assert (workshop.venue_lat, workshop.days, workshop.notes_en) == (-6.24, 2, "Bring your PPE")

    # The invitation: the owner and the admin, not the worker, nor the enterprise that
    # wants module 2 only. A calendar file, the answer buttons, the map link.
    for person in (OWNER, ADMIN):
        invitation, pin = bot.sandbox.messages(person)
        # The map pin follows the invitation as a Telegram venue.
        assert pin.venue == {"location": {"latitude": -6.24, "longitude": 107.0},
                             "title": "Hotel Santika, Jl. Ahmad Yani 88",
                             "address": "Bekasi, Jawa Barat"}
        assert pin.text is None and pin.buttons == []
        assert "Bapak/Ibu" in (invitation.text or "")
        assert invitation.document is not None and b"BEGIN:VCALENDAR" in invitation.document
        assert b"DTSTART:20261218T020000Z" in invitation.document
        labels = [b.get("text") for row in invitation.buttons for b in row]
        assert any("Hadir" in str(t) or "hadir" in str(t) for t in labels)
        urls = [b.get("url") for row in invitation.buttons for b in row if b.get("url")]
        assert urls == ["https://maps.google.com/?q=-6.240000,107.000000"]
    assert bot.sandbox.texts(WORKER) == [] and bot.sandbox.texts(OTHER) == []

    # The owner names two people.
    await bot.press(OWNER, "Saya akan hadir")
    await bot.text(OWNER, "Budi Santoso")
    await bot.press(OWNER, "Laki-laki")
    await bot.press(OWNER, "Manajer")
    await bot.press(OWNER, "Tambah")
    await bot.text(OWNER, "Siti Aminah")
    await bot.press(OWNER, "Perempuan")
    await bot.press(OWNER, "Pekerja")
    await bot.press(OWNER, "Selesai")
    assert "2" in bot.replies(OWNER)[-1]
    invite = await _invite(bot, workshop.id)
    assert invite is not None and invite.answer is Rsvp.ATTEND
    assert [(p.name, p.sex, p.kind) for p in await _people(bot)] == [
        ("Budi Santoso", "m", "manager"), ("Siti Aminah", "f", "worker")]

    # The admin declines for the enterprise; then the owner changes it again, from /workshops.
    await bot.press(ADMIN, "Tidak bisa hadir")
    invite = await _invite(bot, workshop.id)
    assert invite is not None and invite.answer is Rsvp.DECLINE and await _people(bot) == []
    await bot.text(OWNER, "/workshops")
    assert "tidak hadir" in bot.replies(OWNER)[0]
    await bot.press(OWNER, "Saya akan hadir")
    await bot.text(OWNER, "Budi Santoso")
    await bot.press(OWNER, "Laki-laki")
    await bot.press(OWNER, "Manajer")
    await bot.press(OWNER, "Selesai")
    invite = await _invite(bot, workshop.id)
    assert invite is not None and invite.answer is Rsvp.ATTEND and len(await _people(bot)) == 1

    # A week before, 08.00 WIB: the reminder.
    week = datetime(2026, 12, 11, 1, 0, tzinfo=UTC)
    assert await _at(bot, week - timedelta(minutes=1)) == 0
    assert await _at(bot, week) == 2
    assert "satu minggu lagi" in bot.last_text(OWNER)
    # The bot stops and starts again past the day-before reminder's moment: it goes late,
    # saying so, once.
    await bot.restart(hard=True)
    day = datetime(2026, 12, 17, 1, 0, tzinfo=UTC)
    assert await _at(bot, day + timedelta(hours=3)) == 2
    assert "terlambat" in bot.last_text(OWNER)
    assert await _at(bot, day + timedelta(hours=4)) == 0

    # Staff change the venue, then the date: everyone invited hears what changed, in words.
    before = len(bot.sandbox.texts(OWNER))
    await bot.text(STAFF_ID, "/workshop")
    await bot.press(STAFF_ID, "1.")
    assert "1 people named: 0 women, 1 men" in bot.replies(STAFF_ID)[-1]
    await bot.press(STAFF_ID, "Change venue")
    await bot.text(STAFF_ID, "Gedung Serbaguna, Jl. Merdeka 5")
    await bot.press(STAFF_ID, "Skip")
    assert "Gedung Serbaguna" in bot.replies(STAFF_ID)[-1]
    await bot.press(STAFF_ID, "Yes, change it")
    assert "Gedung Serbaguna" in bot.last_text(OWNER)
    assert len(bot.sandbox.texts(OWNER)) == before + 1
    # The new venue has no pin: no venue message comes with the notice.
    assert bot.sandbox.last_message(OWNER).venue is None
    await bot.text(STAFF_ID, "/workshop")
    await bot.press(STAFF_ID, "1.")
    await bot.press(STAFF_ID, "Change date and time")
    await bot.text(STAFF_ID, "21 Desember 09.00")
    await bot.press(STAFF_ID, "Yes, change it")
    assert "Senin, 21 Desember 2026" in bot.last_text(OWNER)
    moved = await _workshop(bot)
    assert moved.version == 1
    async with bot.sessionmaker() as session:
        planned = (await session.scalars(select(EventReminder).where(
            EventReminder.queued_at.is_(None)))).all()
    assert [(r.kind, r.version, r.due_at) for r in planned] == [
        ("day", 1, datetime(2026, 12, 20, 1, 0, tzinfo=UTC))]

    # Cancelled: everyone invited is told, nothing more is sent, old buttons say so.
    await bot.text(STAFF_ID, "/workshop")
    await bot.press(STAFF_ID, "1.")
    await bot.press(STAFF_ID, "Cancel the workshop")
    await bot.press(STAFF_ID, "Yes, cancel it")
    assert "dibatalkan" in bot.last_text(OWNER) and "dibatalkan" in bot.last_text(ADMIN)
    assert (await _workshop(bot)).status is EventStatus.CANCELLED
    async with bot.sessionmaker() as session:
        assert (await session.scalars(select(EventReminder).where(
            EventReminder.queued_at.is_(None)))).all() == []
    await bot.press(OWNER, "Saya akan hadir")
    assert "dibatalkan" in bot.replies(OWNER)[-1]
    assert bot.open_flow(OWNER) is None
    assert await _at(bot, datetime(2026, 12, 20, 1, 0, tzinfo=UTC)) == 0


async def _saved(bot: BotHarness, *, module: int = 1, province: str = "JB",
                 starts_at: datetime = datetime(2026, 12, 18, 2, 0, tzinfo=UTC)) -> int:
    created = await workshops.create(_svc(bot), workshops_db.WorkshopFields(
        module=module, province=province, city="Bekasi", venue="Hotel Santika",
        venue_lat=None, venue_lon=None, starts_at=starts_at, days=2, notes_id=None,
        notes_en=None), staff_id=STAFF_ID)
    await bot.delivered()
    return created.workshop_id


async def test_a_new_pin_goes_with_the_change_and_none_without_one(wbot: BotHarness) -> None:
    """A workshop saved without a pin is invited without a venue; staff share one in an
    edit: the notice of the change, then the new venue, to everyone invited."""
    bot = wbot
    await _world(bot)
    workshop_id = await _saved(bot)
    for person in (OWNER, ADMIN):
        assert [m.venue for m in bot.sandbox.messages(person)] == [None]
    await bot.text(STAFF_ID, "/workshop")
    await bot.press(STAFF_ID, "1.")
    await bot.press(STAFF_ID, "Change venue")
    await bot.text(STAFF_ID, "Gedung Serbaguna, Jl. Merdeka 5")
    await bot._handled(STAFF_ID, lambda: bot.sandbox.send_location(STAFF_ID, -6.25, 107.01))
    await bot.press(STAFF_ID, "Yes, change it")
    for person in (OWNER, ADMIN):
        *_, notice, pin = bot.sandbox.messages(person)
        assert "Gedung Serbaguna" in (notice.text or "")
        assert pin.venue is not None and pin.venue["title"] == "Gedung Serbaguna, Jl. Merdeka 5"
        assert pin.venue["location"] == {"latitude": -6.25, "longitude": 107.01}
    # A change of the date alone: its notice, and no venue again.
    count = len(bot.sandbox.messages(OWNER))
    await bot.text(STAFF_ID, "/workshop")
    await bot.press(STAFF_ID, "1.")
    await bot.press(STAFF_ID, "Change date and time")
    await bot.text(STAFF_ID, "21 Desember 09.00")
    await bot.press(STAFF_ID, "Yes, change it")
    assert len(bot.sandbox.messages(OWNER)) == count + 1
    assert bot.sandbox.last_message(OWNER).venue is None
    assert workshop_id


async def test_every_invitee_gets_the_venue_after_the_invitation(wbot: BotHarness) -> None:
    """Ten invitees: the calendar file is uploaded once while the others' invitations wait
    for it, and no venue overtakes its invitation."""
    bot = wbot
    await factories.staff(bot)
    owners = [3001 + i for i in range(10)]
    for owner in owners:
        await factories.enterprise(bot, owner=owner, name=f"PT Nomor {owner}", modules=(1,))
    await workshops.create(_svc(bot), workshops_db.WorkshopFields(
        module=1, province="JB", city="Bekasi", venue="Hotel Santika", venue_lat=-6.24,
        venue_lon=107.0, starts_at=datetime(2026, 12, 18, 2, 0, tzinfo=UTC), days=1,
        notes_id=None, notes_en=None), staff_id=STAFF_ID)
    await bot.delivered()
    for owner in owners:
        invitation, pin = bot.sandbox.messages(owner)
        assert invitation.document is not None and pin.venue is not None


async def test_reminders_skip_who_declined_and_follow_the_provinces_zone(
        wbot: BotHarness) -> None:
    bot = wbot
    await factories.staff(bot)
    await factories.enterprise(bot, owner=OWNER, province="BA", city="Denpasar", modules=(1,))
    await factories.enterprise(bot, owner=OTHER, name="PT Sinar", province="BA",
                               city="Denpasar", modules=(1,))
    # 09.00 WITA on Friday 18 December.
    workshop_id = await _saved(bot, province="BA",
                               starts_at=datetime(2026, 12, 18, 1, 0, tzinfo=UTC))
    assert "09.00 WITA" in bot.last_text(OWNER)
    await bot.press(OTHER, "Tidak bisa hadir")
    # 08.00 WITA a week before is 00.00 UTC.
    assert await _at(bot, datetime(2026, 12, 11, 0, 0, tzinfo=UTC)) == 1
    assert "satu minggu lagi" in bot.last_text(OWNER)
    assert "satu minggu lagi" not in bot.last_text(OTHER)
    assert workshop_id


async def test_attendance_by_staff_and_the_trainer(wbot: BotHarness) -> None:
    bot = wbot
    await _world(bot)
    workshop_id = await _saved(bot)
    await bot.press(OWNER, "Saya akan hadir")
    await bot.text(OWNER, "Budi Santoso")
    await bot.press(OWNER, "Laki-laki")
    await bot.press(OWNER, "Manajer")
    await bot.press(OWNER, "Selesai")
    # The day of the workshop: staff tick who came.
    clock = _svc(bot).clock
    assert isinstance(clock, FakeClock)
    clock.advance((datetime(2026, 12, 18, 9, 0, tzinfo=UTC) - clock.now()).total_seconds())
    await bot.text(STAFF_ID, "/workshop")
    await bot.press(STAFF_ID, "1.")
    await bot.press(STAFF_ID, "Attendance")
    await bot.press(STAFF_ID, "Budi Santoso")
    assert [p.attended for p in await _people(bot)] == [True]
    await bot.press(STAFF_ID, "Done")
    assert bot.open_flow(STAFF_ID) is None
    # A trainer of another enterprise may not; one assigned to it may.
    await factories.user(bot, 3001, role="trainer", name="Tono")
    await bot.text(3001, "/workshops")
    assert "Tidak ada perusahaan dampingan" in bot.replies(3001)[0]
    async with bot.sessionmaker() as session, session.begin():
        invite = await session.scalar(select(WorkshopInvite))
        assert invite is not None
        session.add(TrainerAssignment(trainer_id=3001, enterprise_id=invite.enterprise_id,
                                      assigned_by=STAFF_ID, assigned_at=clock.now()))
    await bot.text(3001, "/workshops")
    await bot.press(3001, "Kehadiran")
    await bot.press(3001, "Budi Santoso")
    assert [p.attended for p in await _people(bot)] == [False]
    assert workshop_id


async def test_forged_foreign_and_worker_buttons_are_refused(wbot: BotHarness) -> None:
    bot = wbot
    await _world(bot)
    workshop_id = await _saved(bot)
    signer = _svc(bot).signer
    # Foreign: a button signed for the owner of an enterprise that was not invited.
    await bot._handled(OTHER, lambda: bot.sandbox.press(
        OTHER, signer.data(OTHER, workshops.ATTEND, str(workshop_id))))
    assert "Hanya pemilik atau admin" in bot.replies(OTHER)[-1]
    await bot._handled(WORKER, lambda: bot.sandbox.press(
        WORKER, signer.data(WORKER, workshops.DECLINE, str(workshop_id))))
    assert "Hanya pemilik atau admin" in bot.replies(WORKER)[-1]
    # Forged: the owner's button pressed by someone else does not verify.
    await bot._handled(OTHER, lambda: bot.sandbox.press(
        OTHER, signer.data(OWNER, workshops.DECLINE, str(workshop_id))))
    invite = await _invite(bot, workshop_id)
    assert invite is not None and invite.answer is None
    # A worker trying the staff command sees nothing of it.
    await bot.text(WORKER, "/workshop new")
    assert bot.open_flow(WORKER) is None
    assert "perintah itu tidak dikenal" in bot.replies(WORKER)[0]
    async with bot.sessionmaker() as session:
        assert len((await session.scalars(select(Workshop))).all()) == 1
    # Module 1 first: a module-2 workshop invites nobody who has not taken module 1.
    second = await _saved(bot, module=2)
    async with bot.sessionmaker() as session:
        assert (await session.scalars(select(WorkshopInvite).where(
            WorkshopInvite.workshop_id == second))).all() == []


async def test_module_one_taken_opens_the_next_modules(wbot: BotHarness) -> None:
    bot = wbot
    await factories.staff(bot)
    await factories.enterprise(bot, owner=OWNER, modules=(1, 2))
    first = await _saved(bot)
    await bot.press(OWNER, "Saya akan hadir")
    await bot.text(OWNER, "Budi Santoso")
    await bot.press(OWNER, "Laki-laki")
    await bot.press(OWNER, "Manajer")
    await bot.press(OWNER, "Selesai")
    people = await _people(bot)
    await workshops_db.record_attendance(bot.sessionmaker, first, people[0].id, True,
                                         by=STAFF_ID, now=bot.clock.now())
    second = await _saved(bot, module=2, starts_at=datetime(2027, 1, 20, 2, 0, tzinfo=UTC))
    assert await _invite(bot, second) is not None


async def test_an_invitation_not_sent_before_a_crash_goes_with_the_job(
        wbot: BotHarness) -> None:
    bot = wbot
    await _world(bot)
    # Saved, then the process died before the invitation was queued: the planned row stays.
    starts = datetime(2026, 12, 18, 2, 0, tzinfo=UTC)
    created = await workshops_db.create_workshop(bot.sessionmaker, workshops_db.WorkshopFields(
        module=1, province="JB", city="Bekasi", venue="Hotel Santika", venue_lat=None,
        venue_lon=None, starts_at=starts, days=2, notes_id=None, notes_en=None),
        staff_id=STAFF_ID, planned=[], now=bot.clock.now())
    await bot.restart(hard=True)
    assert bot.sandbox.texts(OWNER) == []
    assert await _at(bot, bot.clock.now() + timedelta(minutes=1)) == 2
    invitation = bot.sandbox.last_message(OWNER)
    assert invitation.document is not None and "diundang" in (invitation.text or "")
    assert await _at(bot, bot.clock.now() + timedelta(minutes=1)) == 0
    assert created.invited == 1


async def test_answers_close_at_the_start_of_the_workshops_day(wbot: BotHarness) -> None:
    bot = wbot
    await _world(bot)
    workshop_id = await _saved(bot)  # Friday 18 December, 09.00 WIB
    clock = _svc(bot).clock
    assert isinstance(clock, FakeClock)
    # Thursday 23.59 WIB: still open; Friday 00.00 WIB: closed.
    clock.advance((datetime(2026, 12, 17, 16, 59, tzinfo=UTC) - clock.now()).total_seconds())
    await bot.press(OWNER, "Tidak bisa hadir")
    invite = await _invite(bot, workshop_id)
    assert invite is not None and invite.answer is Rsvp.DECLINE
    clock.advance(60)
    await bot.press(OWNER, "Saya akan hadir")
    assert "sudah ditutup" in bot.replies(OWNER)[-1]
    invite = await _invite(bot, workshop_id)
    assert invite is not None and invite.answer is Rsvp.DECLINE


async def test_a_new_province_asks_the_city_and_the_time_again(wbot: BotHarness) -> None:
    bot = wbot
    await _world(bot)
    await _create_through_the_flow(bot)
    await bot.press(STAFF_ID, "Province")
    await bot.text(STAFF_ID, "Bali")
    await bot.text(STAFF_ID, "Denpasar")
    await bot.text(STAFF_ID, "17/12 09.00")
    summary = bot.replies(STAFF_ID)[-1]
    assert "09:00 WITA" in summary and "Denpasar" in summary and "0 enterprises" in summary
    await bot.press(STAFF_ID, "Confirm")
    workshop = await _workshop(bot)
    assert (workshop.province, workshop.starts_at) == (
        "BA", datetime(2026, 12, 17, 1, 0, tzinfo=UTC))


async def test_a_week_reminder_sent_is_not_sent_again_after_a_small_move(
        wbot: BotHarness) -> None:
    """Moved by a day after the week-before reminder went: it does not go again the next
    morning (the notice gave the new date); the day-before one follows the new date. Moved
    by a fortnight: the week-before reminder goes again."""
    bot = wbot
    await _world(bot)
    # Wednesday 16 December, 09.00 WIB; its week-before reminder: 9 December, 08.00 WIB.
    await _saved(bot, starts_at=datetime(2026, 12, 16, 2, 0, tzinfo=UTC))
    assert await _at(bot, datetime(2026, 12, 9, 1, 0, tzinfo=UTC)) == 2
    assert "satu minggu lagi" in bot.last_text(OWNER)

    async def move(to: str) -> list[tuple[str, datetime]]:
        await bot.text(STAFF_ID, "/workshop")
        await bot.press(STAFF_ID, "1.")
        await bot.press(STAFF_ID, "Change date and time")
        await bot.text(STAFF_ID, to)
        await bot.press(STAFF_ID, "Yes, change it")
        async with bot.sessionmaker() as session:
            rows = (await session.scalars(select(EventReminder).where(
                EventReminder.queued_at.is_(None)).order_by(EventReminder.due_at))).all()
        return [(r.kind, r.due_at) for r in rows]

    assert await move("17 Desember 09.00") == [
        ("day", datetime(2026, 12, 16, 1, 0, tzinfo=UTC))]
    assert await _at(bot, datetime(2026, 12, 10, 1, 0, tzinfo=UTC)) == 0
    assert await move("31 Desember 09.00") == [
        ("week", datetime(2026, 12, 24, 1, 0, tzinfo=UTC)),
        ("day", datetime(2026, 12, 30, 1, 0, tzinfo=UTC))]


async def test_declining_waits_for_the_open_conversation(wbot: BotHarness) -> None:
    """"I cannot attend" pressed while another question is open is refused, as "I will
    attend" is: it would delete the people named without a word."""
    bot = wbot
    await _world(bot)
    workshop_id = await _saved(bot)
    await bot.press(OWNER, "Saya akan hadir")
    await bot.text(OWNER, "Budi Santoso")
    await bot.press(OWNER, "Laki-laki")
    await bot.press(OWNER, "Manajer")
    await bot.press(OWNER, "Selesai")
    await bot.text(OWNER, "/enrol")
    assert bot.open_flow(OWNER) is not None
    await bot._handled(OWNER, lambda: bot.sandbox.press(
        OWNER, _svc(bot).signer.data(OWNER, workshops.DECLINE, str(workshop_id))))
    assert "/cancel" in bot.replies(OWNER)[-1]
    invite = await _invite(bot, workshop_id)
    assert invite is not None and invite.answer is Rsvp.ATTEND
    assert [p.name for p in await _people(bot)] == ["Budi Santoso"]


async def test_workshops_offers_what_changes_the_answer(wbot: BotHarness) -> None:
    bot = wbot
    await _world(bot)
    await _saved(bot)
    await bot.press(OWNER, "Tidak bisa hadir")
    await bot.text(OWNER, "/workshops")
    labels = [b.get("text") for row in bot.sandbox.last_message(OWNER).buttons for b in row]
    assert labels == ["Saya akan hadir"]


async def test_the_words_of_a_workshop(wbot: BotHarness) -> None:
    """One person, one enterprise: singular in English; the city question asks where the
    workshop is (not the factory); the calendar file is the invitation's own."""
    bot = wbot
    await factories.staff(bot)
    await factories.enterprise(bot, owner=OWNER, modules=(1,), owner_language="en")
    await _saved(bot)
    assert "This file adds the workshop" in bot.last_text(OWNER)
    await bot.press(OWNER, "I will attend")
    await bot.text(OWNER, "Budi Santoso")
    await bot.press(OWNER, "A man")
    await bot.press(OWNER, "Manager")
    await bot.press(OWNER, "Done")
    assert "1 person from PT Maju Jaya is registered" in bot.replies(OWNER)[-1]
    await factories.staff(bot, 9002, name="Wati", language="id")
    await bot.text(9002, "/workshop new")
    await bot.press(9002, "1. Kerja Sama di Tempat Kerja")
    await bot.text(9002, "Jawa Barat")
    assert "pelatihan (lokakarya) diadakan" in bot.replies(9002)[-1]
    # An owner with no workshop is addressed as Bapak/Ibu throughout, never "Anda".
    await factories.enterprise(bot, owner=OTHER, name="PT Sinar", modules=(5,))
    await bot.text(OTHER, "/workshops")
    reply = bot.replies(OTHER)[-1]
    assert "belum ada pelatihan" in reply and "Anda" not in reply


async def test_cancel_says_an_earlier_answer_stands_only_when_there_was_one(
        wbot: BotHarness) -> None:
    bot = wbot
    await _world(bot)
    workshop_id = await _saved(bot)
    await bot.press(OWNER, "Saya akan hadir")
    await bot.text(OWNER, "/cancel")
    assert bot.last_text(OWNER) == ("Dibatalkan. Undangan ini belum dijawab. Tombolnya masih "
                                    "bisa dipakai.")
    await bot.press(OWNER, "Saya akan hadir")
    await bot.text(OWNER, "Budi Santoso")
    await bot.press(OWNER, "Laki-laki")
    await bot.press(OWNER, "Manajer")
    await bot.press(OWNER, "Selesai")
    await bot.press(OWNER, "Saya akan hadir")
    await bot.text(OWNER, "/cancel")
    assert bot.last_text(OWNER) == "Dibatalkan. Jawaban Bapak/Ibu sebelumnya tetap berlaku."
    invite = await _invite(bot, workshop_id)
    assert invite is not None and invite.answer is Rsvp.ATTEND


async def test_a_reminder_is_worded_by_the_enterprises_answer(wbot: BotHarness) -> None:
    """Attending: told they are expected, no answer buttons. Not answered: asked, with them."""
    bot = wbot
    await factories.staff(bot)
    await factories.enterprise(bot, owner=OWNER, modules=(1,))
    await factories.enterprise(bot, owner=OTHER, name="PT Sinar", modules=(1,))
    await _saved(bot)
    await bot.press(OWNER, "Saya akan hadir")
    await bot.text(OWNER, "Budi Santoso")
    await bot.press(OWNER, "Laki-laki")
    await bot.press(OWNER, "Manajer")
    await bot.press(OWNER, "Selesai")
    # 08.00 WIB a week before Friday 18 December.
    assert await _at(bot, datetime(2026, 12, 11, 1, 0, tzinfo=UTC)) == 2
    attending, asked = bot.sandbox.last_message(OWNER), bot.sandbox.last_message(OTHER)
    assert "Perusahaan Bapak/Ibu sudah terdaftar" in (attending.text or "")
    assert attending.buttons == []
    assert "Perusahaan Bapak/Ibu belum menjawab" in (asked.text or "")
    labels = [b["text"] for row in asked.buttons for b in row]
    assert any("Saya akan hadir" in label for label in labels)
    assert any("Tidak bisa hadir" in label for label in labels)
