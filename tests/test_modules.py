"""/modules, where an enterprise stands in SCORE, through the real Application: its owner and
admins, its trainers (one picked among several) and staff (by name) see, per module it takes,
the workshop, the visits done and the next one; workers and strangers do not. Workshops and
visits are rows made directly in the database, as their own flows would leave them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete

from chat.clock import FakeClock
from chat.i18n import use_locale
from config.settings import Settings
from db.models import (
    EnterpriseStatus,
    EventStatus,
    Rsvp,
    TrainerAssignment,
    Visit,
    Workshop,
    WorkshopInvite,
    WorkshopParticipant,
)
from db.module_progress import ModuleStand, Stand, WorkshopSeen
from domain.provinces import WIB, WITA
from sandbox import BotApiSandbox
from services.module_progress import stand_words
from tests import factories
from tests.conftest import STAFF_ID
from tests.harness import BotHarness

START = datetime(2026, 12, 8, 3, 0, tzinfo=UTC)  # Tuesday 8 December 2026, 10:00 WIB
OWNER, ADMIN, WORKER, SINAR_OWNER = 1001, 1002, 1003, 1101
BUDI, SITI, ANTON = 3001, 3002, 3003  # trainers: of both, of Maju, of none


@pytest.fixture
async def mod_bot(settings: Settings, sandbox: BotApiSandbox) -> AsyncIterator[BotHarness]:
    harness = BotHarness(settings, sandbox, clock=FakeClock(START))
    await harness.start()
    try:
        yield harness
    finally:
        await harness.stop()


def _at(day: str, hour: int, zone: str = WIB) -> datetime:
    return datetime.fromisoformat(f"{day}T{hour:02d}:00").replace(
        tzinfo=ZoneInfo(zone)).astimezone(UTC)


async def _world(bot: BotHarness) -> tuple[int, int]:
    """PT Maju Jaya (West Java, modules 1 and 5) and PT Sinar Jaya (South Sulawesi, WITA,
    module 2), their people, trainers, workshops and visits."""
    maju = await factories.enterprise(bot, owner=OWNER, owner_language="en", modules=(1, 5))
    sinar = await factories.enterprise(bot, owner=SINAR_OWNER, name="PT Sinar Jaya",
                                       province="SN", city="Makassar", modules=(2,))
    await factories.worker(bot, ADMIN, maju, role="admin", name="Dewi")
    await factories.worker(bot, WORKER, maju, language="en")
    for trainer, name in ((BUDI, "Budi"), (SITI, "Siti"), (ANTON, "Anton")):
        await factories.user(bot, trainer, name=name, role="trainer", language="en")
    await factories.staff(bot)
    now = bot.clock.now()
    async with bot.sessionmaker() as session, session.begin():
        session.add_all([
            TrainerAssignment(trainer_id=BUDI, enterprise_id=maju.id, assigned_by=STAFF_ID,
                              assigned_at=now),
            TrainerAssignment(trainer_id=BUDI, enterprise_id=sinar.id, assigned_by=STAFF_ID,
                              assigned_at=now),
            TrainerAssignment(trainer_id=SITI, enterprise_id=maju.id, assigned_by=STAFF_ID,
                              assigned_at=now)])

        def workshop(module: int, starts_at: datetime, city: str, province: str = "JB",
                     status: EventStatus = EventStatus.SCHEDULED) -> Workshop:
            row = Workshop(module=module, province=province, city=city, venue="Hotel",
                           starts_at=starts_at, days=2, status=status, created_by=STAFF_ID,
                           created_at=now, updated_at=now)
            session.add(row)
            return row

        held = workshop(1, _at("2026-11-17", 8), "Bandung")
        dropped = workshop(1, _at("2026-12-20", 8), "Bogor", status=EventStatus.CANCELLED)
        coming = workshop(5, _at("2027-01-12", 8), "Bekasi")
        makassar = workshop(2, _at("2026-12-20", 9, WITA), "Makassar", "SN")
        await session.flush()
        went = WorkshopInvite(workshop_id=held.id, enterprise_id=maju.id, invited_at=now,
                              answer=Rsvp.ATTEND)
        session.add_all([
            went,
            WorkshopInvite(workshop_id=dropped.id, enterprise_id=maju.id, invited_at=now,
                           answer=Rsvp.DECLINE),
            WorkshopInvite(workshop_id=coming.id, enterprise_id=maju.id, invited_at=now),
            sinar_invite := WorkshopInvite(workshop_id=makassar.id, enterprise_id=sinar.id,
                                           invited_at=now, answer=Rsvp.ATTEND)])
        await session.flush()
        session.add_all([
            WorkshopParticipant(invite_id=went.id, name="Ani", sex="f", kind="worker",
                                attended=True),
            WorkshopParticipant(invite_id=went.id, name="Joko", sex="m", kind="manager",
                                attended=True),
            WorkshopParticipant(invite_id=went.id, name="Rudi", sex="m", kind="worker",
                                attended=False),
            WorkshopParticipant(invite_id=sinar_invite.id, name="Ina", sex="f", kind="worker"),
            WorkshopParticipant(invite_id=sinar_invite.id, name="Ali", sex="m",
                                kind="manager")])

        def visit(enterprise_id: int, module: int, starts_at: datetime,
                  status: EventStatus) -> None:
            session.add(Visit(enterprise_id=enterprise_id, trainer_id=BUDI, module=module,
                              starts_at=starts_at, status=status, created_by=STAFF_ID,
                              created_at=now, updated_at=now))

        visit(maju.id, 1, _at("2026-11-24", 9), EventStatus.DONE)
        visit(maju.id, 1, _at("2026-12-01", 9), EventStatus.DONE)
        visit(maju.id, 1, _at("2026-12-04", 9), EventStatus.CANCELLED)
        visit(maju.id, 1, _at("2026-12-07", 9), EventStatus.SCHEDULED)  # past, unreported
        visit(maju.id, 1, _at("2026-12-22", 9), EventStatus.SCHEDULED)
        visit(maju.id, 1, _at("2026-12-15", 9), EventStatus.SCHEDULED)
        visit(sinar.id, 2, _at("2026-12-21", 10, WITA), EventStatus.SCHEDULED)
    return maju.id, sinar.id


MAJU_EN = "\n".join([
    "PT Maju Jaya in SCORE, module by module",
    "",
    "Module 1: Workplace Cooperation",
    "Workshop: Tuesday, 17 November 2026, Bandung. 2 people attended.",
    "Visits done: 2, the last on Tuesday, 1 December 2026.",
    "Next visit: Tuesday, 15 December 2026, 09:00 WIB, with Budi.",
    "",
    "Module 5: Occupational Safety and Health",
    "Workshop: Tuesday, 12 January 2027, 08:00 WIB, Bekasi. Not answered yet.",
    "Visits done: none yet.",
    "Next visit: not scheduled yet."])


async def test_the_owner_and_an_admin_see_where_their_enterprise_stands(
        mod_bot: BotHarness) -> None:
    bot = mod_bot
    await _world(bot)
    await bot.text(OWNER, "/modules")
    assert bot.replies(OWNER) == [MAJU_EN]
    # The admin reads it in Indonesian, times written 09.00.
    await bot.text(ADMIN, "/modules")
    [text] = bot.replies(ADMIN)
    for line in ("PT Maju Jaya di SCORE, per modul",
                 "Modul 1: Kerja Sama di Tempat Kerja",
                 "Pelatihan: Selasa, 17 November 2026, Bandung. 2 orang hadir.",
                 "Kunjungan pendampingan selesai: 2, terakhir Selasa, 1 Desember 2026.",
                 "Kunjungan berikutnya: Selasa, 15 Desember 2026, pukul 09.00 WIB, bersama Budi.",
                 "Pelatihan: Selasa, 12 Januari 2027, pukul 08.00 WIB, Bekasi. Belum dijawab."):
        assert line in text, (line, text)

    # A week on, the visit of the 15th was reported and the next is the one of the 22nd.
    clock = bot.clock
    assert isinstance(clock, FakeClock)
    clock.advance(timedelta(days=8).total_seconds())
    async with bot.sessionmaker() as session, session.begin():
        visit = await session.get(Visit, 6)
        assert visit is not None and visit.starts_at == _at("2026-12-15", 9)
        visit.status = EventStatus.DONE
    await bot.text(OWNER, "/modules")
    [text] = bot.replies(OWNER)
    assert "Visits done: 3, the last on Tuesday, 15 December 2026." in text
    assert "Next visit: Tuesday, 22 December 2026, 09:00 WIB, with Budi." in text


async def test_workers_and_people_of_no_enterprise_do_not_see_it(mod_bot: BotHarness) -> None:
    bot = mod_bot
    await _world(bot)
    for person in (WORKER, ANTON):
        await bot.text(person, "/modules")
        assert bot.replies(person) == [
            "/modules shows where an enterprise stands in SCORE, for its owner, admins and "
            "trainers. Type /help to see the menu."]
    # An owner whose enterprise staff have not approved hears that it comes with approval.
    await factories.enterprise(bot, owner=4001, name="PT Baru", owner_language="en",
                               status=EnterpriseStatus.PENDING)
    await bot.text(4001, "/modules")
    assert "once the SCORE team approves PT Baru" in bot.last_text(4001)


async def test_a_trainer_picks_one_of_their_enterprises(mod_bot: BotHarness) -> None:
    bot = mod_bot
    maju, sinar = await _world(bot)
    await bot.text(SITI, "/modules")  # one enterprise: at once
    assert bot.replies(SITI) == [MAJU_EN]

    await bot.text(BUDI, "/modules")
    assert bot.last_text(BUDI) == "Which enterprise?"
    await bot.press(BUDI, "PT Sinar Jaya")
    [text] = bot.replies(BUDI)
    assert text == "\n".join([
        "PT Sinar Jaya in SCORE, module by module",
        "",
        "Module 2: Quality Management",
        "Workshop: Sunday, 20 December 2026, 09:00 WITA, Makassar. 2 people will attend.",
        "Visits done: none yet.",
        "Next visit: Monday, 21 December 2026, 10:00 WITA, with Budi."])

    # Staff unassign him from Sinar: its button no longer shows it.
    await bot.text(BUDI, "/modules")
    async with bot.sessionmaker() as session, session.begin():
        await session.execute(delete(TrainerAssignment).where(
            TrainerAssignment.trainer_id == BUDI, TrainerAssignment.enterprise_id == sinar))
    await bot.press(BUDI, "PT Sinar Jaya")
    assert bot.replies(BUDI) == ["This button is no longer active."]
    await bot.text(BUDI, "/modules")  # only Maju is his now
    assert bot.replies(BUDI) == [MAJU_EN]
    assert maju


async def test_staff_name_the_enterprise(mod_bot: BotHarness) -> None:
    bot = mod_bot
    await _world(bot)
    await bot.text(STAFF_ID, "/modules")
    assert bot.replies(STAFF_ID) == [
        "Type /modules with part of the enterprise's name, for example “/modules maju”."]
    await bot.text(STAFF_ID, "/modules nothing like it")
    assert bot.replies(STAFF_ID) == ["No approved enterprise has “nothing like it” in its name."]
    await bot.text(STAFF_ID, "/modules maju")
    assert bot.replies(STAFF_ID) == [MAJU_EN]
    await bot.text(STAFF_ID, "/modules jaya")
    assert bot.last_text(STAFF_ID) == "Which one?"
    await bot.press(STAFF_ID, "PT Sinar Jaya (Makassar)")
    assert bot.replies(STAFF_ID)[0].startswith("PT Sinar Jaya in SCORE")
    # Inside a conversation it waits, as other commands do.
    await bot.text(STAFF_ID, "/broadcast")
    await bot.text(STAFF_ID, "/modules maju")
    assert "Please answer the question first" in bot.last_text(STAFF_ID)


def _stand(*workshops: WorkshopSeen) -> Stand:
    return Stand(1, "PT A", "JB", [ModuleStand(1, list(workshops))])


def _seen(day: str, answer: Rsvp | None, named: int = 0, attended: int = 0,
          recorded: bool = False) -> WorkshopSeen:
    return WorkshopSeen(_at(day, 8), 2, "JB", "Bandung", answer, named, attended, recorded)


@pytest.mark.parametrize(("workshops", "line"), [
    ((), "Workshop: not planned yet."),
    ((_seen("2026-11-17", Rsvp.ATTEND, 2),),
     "Workshop: Tuesday, 17 November 2026, Bandung. Attendance not recorded yet."),
    ((_seen("2026-11-17", Rsvp.ATTEND, 2, 0, True),),
     "Workshop: Tuesday, 17 November 2026, Bandung. Nobody attended."),
    ((_seen("2026-11-17", Rsvp.DECLINE),),
     "Workshop: Tuesday, 17 November 2026, Bandung. Did not attend."),
    ((_seen("2026-11-17", None),),
     "Workshop: Tuesday, 17 November 2026, Bandung. The invitation was not answered."),
    ((_seen("2026-12-20", Rsvp.ATTEND),),
     "Workshop: Sunday, 20 December 2026, 08:00 WIB, Bandung. Attending."),
    ((_seen("2026-12-20", Rsvp.ATTEND, 1),),
     "Workshop: Sunday, 20 December 2026, 08:00 WIB, Bandung. 1 person will attend."),
    ((_seen("2026-12-20", Rsvp.DECLINE),),
     "Workshop: Sunday, 20 December 2026, 08:00 WIB, Bandung. Not attending."),
    # Declined one, the next one is ahead: the next one tells where it stands.
    ((_seen("2026-11-17", Rsvp.DECLINE), _seen("2026-12-20", None)),
     "Workshop: Sunday, 20 December 2026, 08:00 WIB, Bandung. Not answered yet."),
    # Its people attended one: that one, whatever comes after.
    ((_seen("2026-11-17", Rsvp.ATTEND, 1, 1, True), _seen("2026-12-20", None)),
     "Workshop: Tuesday, 17 November 2026, Bandung. 1 person attended."),
])
def test_each_workshop_state_in_words(workshops: tuple[WorkshopSeen, ...], line: str) -> None:
    with use_locale("en"):
        assert line in stand_words(_stand(*workshops), START).split("\n")
