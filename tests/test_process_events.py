"""Workshops and visits through `score-bot run` as a process against a Bot API server over
HTTP, the bot started at chosen instants to move time forward: staff create a workshop, the
owner is invited (calendar file, venue) and answers, and is reminded a week and a day before
at 08.00 local time, once each; staff schedule a visit, the trainer and the owner are told and
reminded the day before, the trainer is asked after it and reports, the owner reads the next
steps. Issue 15's verification ("a trainer, an owner and a staff member through a Bot API
server"), as tests."""

from __future__ import annotations

import signal
from datetime import datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from chat.clock import FakeClock
from db.assignments import assign_trainer
from db.session import create_engine, create_sessionmaker
from domain.roles import Role
from sandbox import BotApiSandbox, SandboxMessage, SandboxServer
from tests import factories
from tests.bot_process import BotProcess, process_clock, wait_for
from tests.conftest import STAFF_ID

pytestmark = pytest.mark.slow

JAKARTA = ZoneInfo("Asia/Jakarta")
OWNER, TRAINER = 1001, 3001
# Tuesday 1 December 2026, 10.00 WIB: staff at work.
START = datetime(2026, 12, 1, 10, 0, tzinfo=JAKARTA)


class _World:
    """What tests/factories.py needs of a bot: the database and the sandbox."""

    def __init__(self, database_url: str, sandbox: BotApiSandbox):
        self.engine = create_engine(database_url)
        self.sessionmaker = create_sessionmaker(self.engine)
        self.sandbox = sandbox
        self.settings = SimpleNamespace(staff_ids=frozenset({STAFF_ID}))
        self.clock = FakeClock(START)


async def _restart_at(bot_process: BotProcess, moment: datetime) -> None:
    """Stop the bot and start it again as if it were `moment` (time moved forward)."""
    assert await bot_process.stop(signal.SIGTERM) == 0
    bot_process.clock = process_clock(moment)
    await bot_process.start()


async def _says(sandbox: BotApiSandbox, user_id: int, needle: str) -> str:
    return await wait_for(sandbox, user_id, needle, timeout=30)


def _count(sandbox: BotApiSandbox, user_id: int, needle: str) -> int:
    return sum(needle in text for text in sandbox.texts(user_id))


async def test_a_workshop_created_answered_and_reminded_through_a_server(
        server: SandboxServer, bot_process: BotProcess, database_url: str) -> None:
    sandbox = server.sandbox
    world = _World(database_url, sandbox)
    await factories.staff(world)  # type: ignore[arg-type]
    await factories.enterprise(world, owner=OWNER, modules=(1,),  # type: ignore[arg-type]
                               owner_language="en")
    await world.engine.dispose()
    bot_process.clock = process_clock(START)
    await bot_process.start()

    # Staff create it, typed answers and buttons, the map pin shared from Telegram.
    sandbox.send_text(STAFF_ID, "/workshop new")
    await _says(sandbox, STAFF_ID, "Which module is the workshop for?")
    sandbox.press_button(STAFF_ID, "1. Workplace Cooperation")
    await _says(sandbox, STAFF_ID, "In which province?")
    sandbox.send_text(STAFF_ID, "Jawa Barat")
    await _says(sandbox, STAFF_ID, "In which city")
    sandbox.send_text(STAFF_ID, "Bekasi")
    await _says(sandbox, STAFF_ID, "What is the venue's address?")
    sandbox.send_text(STAFF_ID, "Hotel Santika, Jl. Ahmad Yani 88")
    await _says(sandbox, STAFF_ID, "map pin")
    sandbox.send_location(STAFF_ID, -6.24, 107.0)
    await _says(sandbox, STAFF_ID, "When does it start?")
    sandbox.send_text(STAFF_ID, "17/12 09.00")
    read = await _says(sandbox, STAFF_ID, "How many days")
    assert "Thursday, 17 December 2026, 09:00 WIB" in read, read
    sandbox.send_text(STAFF_ID, "2")
    await _says(sandbox, STAFF_ID, "Notes for the invitation in Indonesian")
    sandbox.send_text(STAFF_ID, "Bawa APD")
    await _says(sandbox, STAFF_ID, "The same notes in English?")
    sandbox.send_text(STAFF_ID, "Bring your PPE")
    summary = await _says(sandbox, STAFF_ID, "Invitations go to the owners and admins of 1")
    assert "Hotel Santika" in summary, summary
    sandbox.press_button(STAFF_ID, "Confirm")
    await _says(sandbox, STAFF_ID, "Saved. The invitation goes")

    # The owner: the invitation with its calendar file, then the venue.
    def invited() -> list[SandboxMessage] | None:
        messages = sandbox.messages(OWNER)
        return messages if len(messages) >= 2 and messages[-1].venue else None

    invitation, pin = (await sandbox.wait_until(invited, 30))[-2:]
    assert "You are invited to a SCORE workshop" in (invitation.text or ""), invitation.text
    assert invitation.document is not None and b"BEGIN:VCALENDAR" in invitation.document
    assert pin.venue == {"location": {"latitude": -6.24, "longitude": 107.0},
                         "title": "Hotel Santika, Jl. Ahmad Yani 88",
                         "address": "Bekasi, West Java"}, pin.venue

    # "I will attend", naming one person.
    sandbox.press_button(OWNER, "I will attend")
    await _says(sandbox, OWNER, "Please type the full name of person 1.")
    sandbox.send_text(OWNER, "Budi Santoso")
    await _says(sandbox, OWNER, "Budi Santoso is:")
    sandbox.press_button(OWNER, "A man")
    await _says(sandbox, OWNER, "a manager or a worker?")
    sandbox.press_button(OWNER, "Manager")
    await _says(sandbox, OWNER, "Coming so far")
    sandbox.press_button(OWNER, "Done")
    await _says(sandbox, OWNER, "registered for the workshop")

    # Thursday 10 December, 08.01 WIB: a week before.
    week = "Reminder: the SCORE workshop is in one week."
    await _restart_at(bot_process, datetime(2026, 12, 10, 8, 1, tzinfo=JAKARTA))
    reminder = await wait_for(sandbox, OWNER, week, timeout=60)
    assert "(Sent late" not in reminder, reminder
    # Wednesday 16 December, 08.01 WIB: the day before.
    day = "Reminder: the SCORE workshop is tomorrow."
    await _restart_at(bot_process, datetime(2026, 12, 16, 8, 1, tzinfo=JAKARTA))
    await wait_for(sandbox, OWNER, day, timeout=60)
    assert (_count(sandbox, OWNER, week), _count(sandbox, OWNER, day)) == (1, 1)


async def test_a_visit_scheduled_reminded_and_reported_through_a_server(
        server: SandboxServer, bot_process: BotProcess, database_url: str) -> None:
    sandbox = server.sandbox
    world = _World(database_url, sandbox)
    await factories.staff(world)  # type: ignore[arg-type]
    maju = await factories.enterprise(world, owner=OWNER,  # type: ignore[arg-type]
                                      owner_language="en")
    await factories.user(world, TRAINER, name="Budi", role=Role.TRAINER,  # type: ignore[arg-type]
                         language="en")
    await assign_trainer(world.sessionmaker, TRAINER, maju.id, staff_id=STAFF_ID, now=START)
    await world.engine.dispose()
    bot_process.clock = process_clock(START)
    await bot_process.start()

    # Staff schedule it for Monday 14 December, 09.00 WIB: the one assigned trainer.
    sandbox.send_text(STAFF_ID, "/visit new")
    await _says(sandbox, STAFF_ID, "Which enterprise")
    sandbox.send_text(STAFF_ID, "maju")
    await _says(sandbox, STAFF_ID, "Which module")
    sandbox.press_button(STAFF_ID, "1. Workplace Cooperation")
    await _says(sandbox, STAFF_ID, "When?")
    sandbox.send_text(STAFF_ID, "14/12 09.00")
    await _says(sandbox, STAFF_ID, "Schedule this consulting visit?")
    sandbox.press_button(STAFF_ID, "Schedule it")
    await _says(sandbox, STAFF_ID, "is scheduled")
    when = "Monday, 14 December 2026, 09:00 WIB"
    told = await _says(sandbox, OWNER, when)
    assert "Budi" in told, told
    await _says(sandbox, TRAINER, when)

    # Sunday 13 December, 08.01 WIB: both reminded.
    await _restart_at(bot_process, datetime(2026, 12, 13, 8, 1, tzinfo=JAKARTA))
    await wait_for(sandbox, TRAINER, "Reminder: tomorrow you have a consulting visit", 60)
    await wait_for(sandbox, OWNER, "Reminder: tomorrow SCORE trainer Budi comes", 60)

    # Monday 14 December, 12.01 WIB, three hours after the visit: did it happen? (The hour
    # before went by while the bot was down: it expired at the start, never sent late.)
    await _restart_at(bot_process, datetime(2026, 12, 14, 12, 1, tzinfo=JAKARTA))
    await wait_for(sandbox, TRAINER, "Did your consulting visit to", 60)
    assert _count(sandbox, TRAINER, "In one hour") == 0
    sandbox.press_button(TRAINER, "Yes, it happened")
    await _says(sandbox, TRAINER, "What was done")
    sandbox.send_text(TRAINER, "Kaizen board set up with the EIT; 5S walk in the press shop.")
    await _says(sandbox, TRAINER, "What are the next steps")
    sandbox.send_text(TRAINER, "EIT meets weekly; measure rejects on line 2.")
    await _says(sandbox, TRAINER, "improvement team (EIT)")
    sandbox.press_button(TRAINER, "Yes, it met")
    await _says(sandbox, TRAINER, "Send this report?")
    sandbox.press_button(TRAINER, "Send the report")
    await _says(sandbox, TRAINER, "report is stored")

    # The owner reads the next steps.
    news = await wait_for(sandbox, OWNER, "measure rejects on line 2", 30)
    assert "Budi" in news, news
