"""The surveys through `score-bot run` as a process against a Bot API server over HTTP, rounds
opened and closed from the command line: the running bot's sender finds the invitations the
other process queued; the owner answers the KPI report (some items not recorded), six workers
the pulse, one of them across a killed and restarted bot; then the owner's /kpi (a PNG chart
and the pulse totals) and staff's /surveys. Issue 8's verification, as a test."""

from __future__ import annotations

import asyncio
import io
import json
import os
import signal
import sys
from datetime import date, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from PIL import Image
from sqlalchemy import select

from chat.clock import FakeClock
from db.models import (
    OutboxMessage,
    OutboxState,
    PulseRelease,
    ResponseStatus,
    SurveyAnswer,
    SurveyResponse,
    SurveyRound,
    UserDraft,
)
from db.queries import enterprises as enterprises_db
from db.queries import users as users_db
from db.session import create_engine, create_sessionmaker
from domain.join_codes import new_join_code
from domain.roles import Role
from sandbox import BotApiSandbox, SandboxServer
from tests import factories
from tests.bot_process import ROOT, BotProcess, now_option, process_clock, wait_for
from tests.conftest import STAFF_ID
from tests.survey_helpers import ANSWERS
from tests.waiting import poll_until

pytestmark = pytest.mark.slow

OWNER = 1001
# October's round, kept open for a week from START (as staff would have moved it); the bot runs
# from START on (`score-bot run --now`), whatever day the suite runs: a Wednesday in WIB after
# October's planned close, when the bot's own round job has nothing to open.
PERIOD = date(2026, 10, 1)
START = datetime(2026, 11, 25, 10, 0, tzinfo=ZoneInfo("Asia/Jakarta"))


async def _seed(database_url: str) -> None:
    """An approved enterprise and its owner, and October's KPI round planned to close in a
    week (as staff would have moved it), not sent yet."""
    now = START
    engine = create_engine(database_url)
    async with create_sessionmaker(engine)() as session, session.begin():
        await users_db.touch_user(session, OWNER, language="id", name="Sari", username=None,
                                  now=now)
        await users_db.give_consent(session, OWNER, name="Sari", username=None, now=now)
        await users_db.set_role(session, OWNER, Role.OWNER)
        fields = enterprises_db.EnterpriseFields(
            name="PT Proses Survei", sector="auto_parts", sector_other=None, province="JB",
            city="Bekasi", worker_count=120, contact_name="Sari", phone="+6281234567890",
            modules=[1])
        created = await enterprises_db.create_enterprise(session, OWNER, fields, now=now)
        await enterprises_db.decide(session, created.id, 9001, approve=True, reason=None,
                                    new_code=new_join_code, now=now)
        today = now.date()
        session.add(SurveyRound(survey="kpi", period=PERIOD, opens_on=today,
                                reminder_on=today + timedelta(days=3),
                                closes_on=today + timedelta(days=7),
                                closes_at=now + timedelta(days=7), version=0,
                                created_at=now))
    await engine.dispose()


async def _cli(database_url: str, bot_process: BotProcess, *args: str) -> tuple[int, str]:
    """`score-bot ARGS` at the instant the running bot's clock reads."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", *args, *now_option(bot_process.clock),
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": database_url, "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode or 0, out.decode()


async def test_a_round_opened_from_the_command_line_is_answered_through_the_running_bot(
        server: SandboxServer, bot_process: BotProcess, database_url: str) -> None:
    sandbox = server.sandbox
    await _seed(database_url)
    sandbox.open_chat(OWNER, "Sari", language_code="id")
    bot_process.clock = process_clock(START)
    await bot_process.start()
    code, said = await _cli(database_url, bot_process, "survey", "open", "--survey", "kpi",
                            "--period", "2026-10")
    assert code == 0 and "1 invitations queued" in said, said
    await wait_for(sandbox, OWNER, "Laporan KPI bulan Oktober sudah dibuka")
    sandbox.press_button(OWNER, "Isi laporan")
    await wait_for(sandbox, OWNER, "1/16")
    for n, answer in enumerate(ANSWERS.values(), 2):
        sandbox.send_text(OWNER, answer)
        await wait_for(sandbox, OWNER, f"{n}/16" if n <= 16 else "Apakah sudah benar?")
    sandbox.press_button(OWNER, "Ya, kirim laporan")
    await wait_for(sandbox, OWNER, "Ketik /kpi")
    code, said = await _cli(database_url, bot_process, "survey", "open", "--survey", "kpi",
                            "--period", "2026-10")
    assert code == 0 and "nothing new" in said, said
    engine = create_engine(database_url)
    async with create_sessionmaker(engine)() as session:
        response = await session.scalar(select(SurveyResponse))
        answers = (await session.scalars(select(SurveyAnswer))).all()
    await engine.dispose()
    assert response is not None and response.status is ResponseStatus.FINAL
    assert len(answers) == 16


# --- the verification through the emulator: both surveys, a kill, /kpi, /surveys --------

WORKERS = [2001, 2002, 2003, 2004, 2005, 2006]
ALL_YES = ["Sering", "Aman", "Selalu", "Ya", "Sudah dijalankan", "Tidak"]
# Two items the owner's records do not have: "Tidak dicatat".
NOT_RECORDED = ("customer_claims", "electricity_kwh")


class _World:
    """What tests/factories.py needs of a bot: the database and the sandbox."""

    def __init__(self, database_url: str, sandbox: BotApiSandbox):
        self.engine = create_engine(database_url)
        self.sessionmaker = create_sessionmaker(self.engine)
        self.sandbox = sandbox
        self.settings = SimpleNamespace(staff_ids=frozenset({STAFF_ID}))
        self.clock = FakeClock(START)


async def _seed_both_rounds(database_url: str, sandbox: BotApiSandbox) -> None:
    world = _World(database_url, sandbox)
    maju = await factories.enterprise(world, owner=OWNER)  # type: ignore[arg-type]
    for worker in WORKERS:
        await factories.worker(world, worker, maju)  # type: ignore[arg-type]
    await factories.staff(world)  # type: ignore[arg-type]
    now = START
    today = now.date()
    async with world.sessionmaker() as session, session.begin():
        for survey in ("kpi", "pulse"):
            session.add(SurveyRound(survey=survey, period=PERIOD, opens_on=today,
                                    reminder_on=today + timedelta(days=3),
                                    closes_on=today + timedelta(days=7),
                                    closes_at=now + timedelta(days=7), version=0,
                                    created_at=now))
    await world.engine.dispose()


async def _draft_holds(database_url: str, user_id: int, needle: str) -> None:
    """Until the user's draft, as committed, mentions `needle`."""
    engine = create_engine(database_url)

    async def holds() -> bool:
        async with engine.connect() as conn:
            data = await conn.scalar(select(UserDraft.data).where(UserDraft.user_id == user_id))
        return needle in json.dumps(data)

    try:
        # The bot process commits the draft: nothing here is told, so the database is asked.
        await poll_until(holds, timeout=30, every=0.05,
                         what=f"the draft of {user_id} never held {needle!r}")
    finally:
        await engine.dispose()


async def _answer(sandbox: BotApiSandbox, worker: int, labels: list[str]) -> None:
    """From the invitation on, each press once the previous question has been answered."""
    await wait_for(sandbox, worker, "Survei singkat tentang pekerjaan Anda")
    sandbox.press_button(worker, "Mulai survei")
    await wait_for(sandbox, worker, "1/6")
    for n, label in enumerate(labels, 2):
        sandbox.press_button(worker, label)
        await wait_for(sandbox, worker, f"{n}/6" if n <= 6 else "Terima kasih")


async def test_both_surveys_a_kill_halfway_then_kpi_and_surveys_through_the_running_bot(
        server: SandboxServer, bot_process: BotProcess, database_url: str) -> None:
    sandbox = server.sandbox
    await _seed_both_rounds(database_url, sandbox)
    bot_process.clock = process_clock(START)
    await bot_process.start()
    for survey in ("kpi", "pulse"):
        code, said = await _cli(database_url, bot_process, "survey", "open", "--survey", survey,
                                "--period", "2026-10")
        assert code == 0 and "invitations queued" in said, said

    # The owner reports, two items not recorded.
    await wait_for(sandbox, OWNER, "Laporan KPI bulan Oktober sudah dibuka")
    sandbox.press_button(OWNER, "Isi laporan")
    await wait_for(sandbox, OWNER, "1/16")
    for n, (key, answer) in enumerate(ANSWERS.items(), 2):
        if key in NOT_RECORDED:
            sandbox.press_button(OWNER, "Tidak dicatat")
        else:
            sandbox.send_text(OWNER, answer)
        await wait_for(sandbox, OWNER, f"{n}/16" if n <= 16 else "Apakah sudah benar?")
    summary = sandbox.texts(OWNER)[-1]
    assert "Klaim pelanggan: Tidak dicatat" in summary, summary
    sandbox.press_button(OWNER, "Ya, kirim laporan")
    await wait_for(sandbox, OWNER, "Ketik /kpi")

    # Five workers answer; the sixth stops after three questions and the bot is killed.
    halfway = WORKERS[5]
    await asyncio.gather(*(_answer(sandbox, worker, ALL_YES) for worker in WORKERS[:5]),
                         _answer(sandbox, halfway, ALL_YES[:3]))
    await _draft_holds(database_url, halfway, "ppe_available")
    assert await bot_process.stop(signal.SIGKILL) == -signal.SIGKILL
    await bot_process.start()
    # The same question's buttons still work after the restart. No suggestion made: the
    # follow-up is not asked, and the count says so.
    sandbox.press_button(halfway, "Tidak")
    await wait_for(sandbox, halfway, "5/5")
    sandbox.press_button(halfway, "Tidak")
    await wait_for(sandbox, halfway, "Terima kasih")

    # The pulse closes; the owner's /kpi: the chart, then the pulse totals (six answered).
    code, said = await _cli(database_url, bot_process, "survey", "close", "--survey", "pulse",
                            "--period", "2026-10")
    assert code == 0 and "is closed" in said, said
    sandbox.send_text(OWNER, "/kpi")
    totals = await wait_for(sandbox, OWNER, "pekerja terhubung dengan", timeout=60)
    assert "6 pekerja terhubung dengan perusahaan di bot saat survei dibuka" in totals
    # Shares of noisy totals (the noise may hide them: fewer than five noisy answers), and
    # never a count of answers.
    # (which questions show depends on the noise: a question under five noisy answers is
    # named as hidden).
    shown = "Sekitar" in totals and "%" in totals
    assert shown or "tidak ditampilkan" in totals, totals
    assert "(6)" not in totals and "(5)" not in totals
    photos = [m for m in sandbox.messages(OWNER) if m.photo is not None]
    assert len(photos) == 1
    image = Image.open(io.BytesIO(photos[0].photo or b""))
    assert image.format == "PNG" and image.width >= 800

    # Staff: who answered.
    sandbox.send_text(STAFF_ID, "/surveys")
    await wait_for(sandbox, STAFF_ID, "More", timeout=30)
    kpi_text, pulse_text = sandbox.texts(STAFF_ID)[-3:-1]
    assert kpi_text.startswith("KPI report, October 2026")
    assert "Answered: 1 of 1 enterprise (100%)" in kpi_text
    assert "Answered: 6 of 6 workers (100%)" in pulse_text

    engine = create_engine(database_url)
    async with create_sessionmaker(engine)() as session:
        finals = (await session.scalars(select(SurveyResponse).where(
            SurveyResponse.status == ResponseStatus.FINAL))).all()
        skipped = (await session.scalars(select(SurveyAnswer.question).where(
            SurveyAnswer.skipped.is_(True)))).all()
    await engine.dispose()
    assert len(finals) == 7  # the owner's report and six pulses
    assert sorted(skipped) == sorted(NOT_RECORDED)


# --- issue 14's attack through the Bot API server ------------------------------------------------
OWNERS_ACCOUNTS = [2101, 2102, 2103, 2104]
REAL_WORKER = 2001
CODE = "K7P2QX"


async def _press_when(sandbox: BotApiSandbox, user_id: int, label: str) -> None:
    """Press the button labelled (in part) `label` once a bot message carries it."""
    def has_it() -> bool | None:
        return any(label in button.get("text", "")
                   for message in sandbox.messages(user_id) for row in message.buttons
                   for button in row) or None

    await sandbox.wait_until(has_it, 30)
    sandbox.press_button(user_id, label)


async def _answer_by_position(sandbox: BotApiSandbox, user_id: int, index: int) -> None:
    """The whole pulse, each question's `index`-th button: the same answers every time,
    whatever their words."""
    sandbox.press_button(user_id, "Mulai survei")
    await wait_for(sandbox, user_id, "1/6")
    for _question in range(7):
        last = sandbox.messages(user_id)[-1]
        buttons = [button for row in last.buttons for button in row]
        sandbox.press(user_id, buttons[index]["callback_data"], message_id=last.message_id)
        # The next question, or the thanks, in a message of its own.
        asked = last.message_id

        def answered(asked: int = asked) -> str | None:
            return next((m.text or "" for m in sandbox.messages(user_id)[-1:]
                         if m.message_id != asked), None)

        said = await sandbox.wait_until(answered, 30)
        if "Terima kasih" in said:
            return
    raise AssertionError(f"{user_id} never finished: {sandbox.texts(user_id)[-2:]}")


async def test_an_owner_with_four_accounts_reads_nothing_of_his_worker_through_a_server(
        server: SandboxServer, bot_process: BotProcess, database_url: str) -> None:
    """Issue 14's attack as the owner would play it, over HTTP against `score-bot run`: four
    accounts of his own join with the join code through the bot, the round opens, they and
    his one real worker answer, the round closes, and the owner's /kpi shows nothing of the
    worker's answer; staff see the four accounts that joined within the hour."""
    sandbox = server.sandbox
    world = _World(database_url, sandbox)
    maju = await factories.enterprise(world, owner=OWNER, code=CODE)  # type: ignore[arg-type]
    await factories.worker(world, REAL_WORKER, maju, name="Dewi")  # type: ignore[arg-type]
    await factories.staff(world)  # type: ignore[arg-type]
    async with world.sessionmaker() as session, session.begin():
        session.add(SurveyRound(survey="pulse", period=PERIOD, opens_on=START.date(),
                                reminder_on=START.date() + timedelta(days=3),
                                closes_on=START.date() + timedelta(days=7),
                                closes_at=START + timedelta(days=7), version=0,
                                created_at=START))
    await world.engine.dispose()
    bot_process.clock = process_clock(START)
    await bot_process.start()

    for account in OWNERS_ACCOUNTS:
        sandbox.open_chat(account, "Budi", language_code="id")
        sandbox.send_text(account, f"/start join-{CODE}")
        await _press_when(sandbox, account, "Indonesia")
        await _press_when(sandbox, account, "Setuju")
        await wait_for(sandbox, account, "PT Maju Jaya")
    code, said = await _cli(database_url, bot_process, "survey", "open", "--survey", "pulse",
                            "--period", "2026-10")
    assert code == 0 and "5 invitations queued" in said, said
    for user_id in [REAL_WORKER, *OWNERS_ACCOUNTS]:
        await wait_for(sandbox, user_id, "Survei singkat tentang pekerjaan Anda")
    # The worker answers one way; the owner's four accounts all another, known to him.
    await _answer_by_position(sandbox, REAL_WORKER, 1)
    await asyncio.gather(*(_answer_by_position(sandbox, account, 0)
                           for account in OWNERS_ACCOUNTS))
    code, said = await _cli(database_url, bot_process, "survey", "close", "--survey", "pulse",
                            "--period", "2026-10")
    assert code == 0 and "is closed" in said, said

    sandbox.send_text(OWNER, "/kpi")
    totals = await wait_for(sandbox, OWNER, "saat survei dibuka", timeout=60)
    # Only the worker's answer counts (the accounts joined within two weeks of the round):
    # one answer is never shown, as a share or a count, whatever the noise.
    assert "%" not in totals and "(1)" not in totals, totals
    for worker_choice in ("Jarang", "Tidak aman"):
        assert worker_choice not in totals, totals
    engine = create_engine(database_url)
    async with create_sessionmaker(engine)() as session:
        release = await session.scalar(select(PulseRelease))
        finals = (await session.scalars(select(SurveyResponse).where(
            SurveyResponse.status == ResponseStatus.FINAL))).all()
    await engine.dispose()
    assert len(finals) == 5
    assert release is not None and release.exact_responses == 1
    # Staff see who to look at before trusting the enterprise's survey.
    sandbox.send_text(STAFF_ID, "/surveys")
    check = await wait_for(sandbox, STAFF_ID, "More", timeout=30)
    assert "PT Maju Jaya\n⚠️ 4 workers joined within one hour" in check, check


# --- issue 14: a late round, a moved round and the night, the bot started at chosen instants ---
LATE_OWNER, LATE_WORKER = 1001, 2001
NIGHT = datetime(2026, 12, 8, 23, 30, tzinfo=ZoneInfo("Asia/Jakarta"))  # Tuesday, 23.30 WIB


async def _restart_at(bot_process: BotProcess, moment: datetime) -> None:
    """Stop the bot and start it again as if it were `moment` (time moved forward)."""
    assert await bot_process.stop(signal.SIGTERM) == 0
    bot_process.clock = process_clock(moment)
    await bot_process.start()


async def _round_planned(database_url: str, survey: str, period: date) -> None:
    """Until the bot's round job has planned the round (it runs a few seconds after start)."""
    engine = create_engine(database_url)

    async def planned() -> bool:
        async with create_sessionmaker(engine)() as session:
            return await session.scalar(select(SurveyRound.id).where(
                SurveyRound.survey == survey, SurveyRound.period == period)) is not None

    try:
        await poll_until(planned, timeout=30, every=0.1, what=f"no {survey} round {period}")
    finally:
        await engine.dispose()


async def _pending(database_url: str, user_id: int) -> list[datetime]:
    engine = create_engine(database_url)
    async with create_sessionmaker(engine)() as session:
        due = (await session.scalars(select(OutboxMessage.next_attempt_at).where(
            OutboxMessage.recipient_id == user_id,
            OutboxMessage.state == OutboxState.PENDING))).all()
    await engine.dispose()
    return sorted(due)


async def test_a_late_round_a_moved_round_and_the_night_across_restarts(
        server: SandboxServer, bot_process: BotProcess, database_url: str) -> None:
    """Staff open October late at 23.30 WIB: nothing reaches the worker in the night; the bot
    started at 06.01 the next morning delivers it, saying it comes late. Staff then move
    November's workers' survey to Friday; the bot started that evening at 19.31 invites."""
    sandbox = server.sandbox
    world = _World(database_url, sandbox)
    world.clock = FakeClock(NIGHT)
    maju = await factories.enterprise(world, owner=LATE_OWNER,  # type: ignore[arg-type]
                                      days_ago=90)
    await factories.worker(world, LATE_WORKER, maju, joined_days_ago=60)  # type: ignore[arg-type]
    await factories.staff(world)  # type: ignore[arg-type]
    await world.engine.dispose()
    bot_process.clock = process_clock(NIGHT)
    await bot_process.start()

    sandbox.send_text(STAFF_ID, "/surveys")
    await _press_when(sandbox, STAFF_ID, "Open a past month")
    await _press_when(sandbox, STAFF_ID, "Workers' survey, October 2026")
    await wait_for(sandbox, STAFF_ID, "It invites 1 worker now.")
    sandbox.press_button(STAFF_ID, "Yes, open it")
    await wait_for(sandbox, STAFF_ID, "1 invitation is queued.")
    # The night in Jakarta: due at 06.00, not now.
    morning = datetime(2026, 12, 9, 6, 0, tzinfo=ZoneInfo("Asia/Jakarta"))
    assert morning in await _pending(database_url, LATE_WORKER)
    await asyncio.sleep(1.5)  # the sender had its chance: nothing goes out at night
    assert sandbox.texts(LATE_WORKER) == []

    await _restart_at(bot_process, morning + timedelta(minutes=1))
    invitation = await wait_for(sandbox, LATE_WORKER, "Oktober", timeout=60)
    assert "terlambat" in invitation, invitation

    # November's workers' survey (planned by the bot's own job) is moved to Friday.
    await _round_planned(database_url, "pulse", date(2026, 11, 1))
    sandbox.send_text(STAFF_ID, "/surveys")
    await wait_for(sandbox, STAFF_ID, "More about the surveys")
    pulse_card = next(m for m in sandbox.messages(STAFF_ID)
                      if (m.text or "").startswith("Workers' survey, November 2026"))
    move = next(b["callback_data"] for row in pulse_card.buttons for b in row
                if "Move" in b["text"])
    sandbox.press(STAFF_ID, move, message_id=pulse_card.message_id)
    await wait_for(sandbox, STAFF_ID, "When should it open instead?")
    sandbox.send_text(STAFF_ID, "11 December")
    confirm = await wait_for(sandbox, STAFF_ID, "to these dates?")
    assert "Invitations go out on Friday, 11 December 2026 at 19:30 local time" in confirm
    sandbox.press_button(STAFF_ID, "Yes, move it")
    await wait_for(sandbox, STAFF_ID, "is moved")

    def novembers() -> list[str]:
        return [t for t in sandbox.texts(LATE_WORKER)
                if "November" in t and "Survei singkat tentang pekerjaan Anda" in t]

    before = len(novembers())  # the job opened it this morning, on its planned dates
    await _restart_at(bot_process, datetime(2026, 12, 11, 19, 31,
                                            tzinfo=ZoneInfo("Asia/Jakarta")))
    # Invited again on the new day (it had not been answered).
    await sandbox.wait_until(lambda: len(novembers()) > before or None, 60)
