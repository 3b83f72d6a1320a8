"""The terminal simulator: numbered buttons, what a typed number does, pressing a button of an
earlier message, switching user, piped input echoed, its own database, logs kept out of the
transcript."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from functools import partial
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app import ALLOWED_UPDATES, build_application
from bot.flood_limits import SharedBudget
from config.settings import Settings
from db.models import Enterprise, EnterpriseStatus
from db.session import create_engine, create_sessionmaker
from jobs.outbox import SenderConfig
from sandbox import Simulator
from tests.clocks import CLOCK_START as NOW
from tests.clocks import virtual_clock
from tests.conftest import STAFF_ID

ROOT = Path(__file__).resolve().parent.parent
README_SCRIPT = "/start\n1\n1\n1\nPT Maju Jaya\n"


def enrolment(company: str, workers: str = "120") -> list[str]:
    """Typed lines from /start to a confirmed enrolment (Indonesian, as a new owner)."""
    return ["/start", "1", "1", "1", company, "1", "1", "Bekasi", workers, "Sari", "1", "1",
            "6", "9"]


def simulator(settings: Settings, tmp_path: Path, *, echo: bool = False
              ) -> tuple[Simulator, io.StringIO]:
    out = io.StringIO()
    # A script types faster than a person: Telegram's per-chat pace is not what these test.
    build = partial(build_application, settings, clock=virtual_clock(),
                    flood_budget=SharedBudget(overall=10_000, per_chat=10_000),
                    sender_config=SenderConfig(per_chat_gap=0.02))
    return Simulator(build, allowed_updates=ALLOWED_UPDATES, out=out, media_dir=tmp_path,
                     echo=echo), out


def run_cli(cwd: Path, script: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`score-bot simulate` with piped input; stderr joins stdout, as in a terminal."""
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "simulate", "--now", NOW.isoformat(), *args],
        input=script, cwd=cwd,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "STAFF_IDS": str(STAFF_ID), **env},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120)


async def test_buttons_are_numbered_and_pressed_by_number(settings: Settings,
                                                          tmp_path: Path) -> None:
    sim, out = simulator(settings, tmp_path)
    sim.become(1001, "Sari", "id")
    await sim.bot.start()
    try:
        for line in ["/start", "2", "1", "1", "PT Simulasi"]:
            assert await sim.handle(line)
        text = out.getvalue()
        assert "[1] Bahasa Indonesia" in text and "[2] English" in text
        assert "What is the name of your company?" in text
        assert "[1] Auto parts and components" in text
        await sim.handle(f"/as {STAFF_ID} Rina en")
        assert f"you are now user {STAFF_ID} (Rina, en)" in out.getvalue()
        await sim.handle("/help")
        assert "/pending" in out.getvalue().split("Rina, en")[-1]
        await sim.handle("/as 1001")
        assert "(Sari, id)" in out.getvalue().split("/help")[-1]
        # The numbers press the latest buttons of the user we switched back to.
        await sim.handle("1")
        assert "province" in out.getvalue().split("(Sari, id)")[-1]
        assert not await sim.handle("/quit")
    finally:
        await sim.bot.stop()


async def test_a_number_at_a_question_without_buttons_is_the_answer(settings: Settings,
                                                                    tmp_path: Path) -> None:
    """"5" workers: the question has no buttons, so it is text, not a press of button 5 of
    the province list a few messages up."""
    sim, out = simulator(settings, tmp_path)
    sim.become(1001, "Sari", "en")
    await sim.bot.start()
    try:
        for line in ["/start", "2", "1", "1", "PT Lima", "1", "1", "Bekasi"]:
            await sim.handle(line)
        assert out.getvalue().rstrip().endswith("Please answer with a number, e.g. 120.")
        await sim.handle("5")
        after = out.getvalue().split("e.g. 120.")[-1]
        assert "SCORE is designed for enterprises with 50 to 200 workers" in after
        assert "Who is the contact person" in after
        for line in ["Sari", "1", "1", "6", "9"]:
            await sim.handle(line)
    finally:
        await sim.bot.stop()
    engine = create_engine(settings.database_url)
    async with create_sessionmaker(engine)() as session:
        enterprise = await session.scalar(select(Enterprise).where(Enterprise.owner_id == 1001))
    await engine.dispose()
    assert enterprise is not None and enterprise.worker_count == 5
    assert enterprise.name == "PT Lima" and enterprise.city == "Bekasi"


async def test_a_button_of_an_earlier_message_is_pressed_by_its_number(settings: Settings,
                                                                       tmp_path: Path) -> None:
    """Two cards from /pending: a bare number presses the last one's buttons, #<message>.<n>
    and /press <message> <n> any card's."""
    sim, out = simulator(settings, tmp_path)
    await sim.bot.start()
    try:
        sim.become(STAFF_ID, "Rina", "en")
        for owner, company in ((1001, "PT Satu"), (1002, "PT Dua"), (1003, "PT Tiga")):
            sim.become(owner, f"Owner{owner}", "id")
            for line in enrolment(company):
                await sim.handle(line)
        sim.become(STAFF_ID)
        await sim.handle("/pending")
        cards = {next(name for name in ("PT Satu", "PT Dua", "PT Tiga") if name in m.text):
                 m.message_id for m in sim.sandbox.messages(STAFF_ID)[-3:] if m.text}
        assert len(cards) == 3
        shown = out.getvalue().split("/pending")[-1]
        for message_id in cards.values():
            assert f"bot #{message_id}: New enrolment" in shown
        await sim.handle(f"#{cards['PT Satu']}.1")
        assert "(notice: Approved.)" in out.getvalue().split(f"#{cards['PT Satu']}.1")[-1]
        await sim.handle(f"/press {cards['PT Dua']} 2")
        assert "Why is PT Dua rejected?" in out.getvalue().split("/press")[-1]
        await sim.handle("Not a manufacturer")
        # A button number the message does not have presses nothing, and says so.
        await sim.handle(f"#{cards['PT Tiga']}.7")
        assert f"message #{cards['PT Tiga']} has buttons [1] to [2]" in out.getvalue()
        await sim.handle("/sim")
        assert "#7.2" in out.getvalue() and "/press 7 2" in out.getvalue()
    finally:
        await sim.bot.stop()
    engine = create_engine(settings.database_url)
    async with create_sessionmaker(engine)() as session:
        status = dict((await session.execute(select(Enterprise.name, Enterprise.status))).all())
    await engine.dispose()
    assert status == {"PT Satu": EnterpriseStatus.APPROVED, "PT Dua": EnterpriseStatus.REJECTED,
                      "PT Tiga": EnterpriseStatus.PENDING}


@pytest.mark.slow
def test_piped_input_is_echoed_as_the_users_lines(tmp_path: Path, database_url: str) -> None:
    result = run_cli(tmp_path, "/start\n2\n1\n/quit\n", "--user", "1001", "--name", "Sari",
                     "--lang", "en", DATABASE_URL=database_url)
    assert result.returncode == 0, result.stdout
    transcript = result.stdout.split("-- you are now user 1001 (Sari, en)\n", 1)[1]
    assert transcript.startswith("> /start\nbot #2: Welcome to SCORE Assistant")
    assert "    [2] English\n> 2\nbot #3: To help you" in transcript
    assert "Do you agree?" in transcript and transcript.endswith("> /quit\n")
    assert "Traceback" not in result.stdout


@pytest.mark.slow
def test_fresh_runs_give_the_same_transcript_and_a_plain_run_continues(tmp_path: Path) -> None:
    """The simulator's own database (data/simulator.db under the working directory)."""
    first = run_cli(tmp_path, README_SCRIPT, "--fresh")
    second = run_cli(tmp_path, README_SCRIPT, "--fresh")
    assert first.returncode == second.returncode == 0, first.stdout + second.stdout
    assert first.stdout == second.stdout
    assert "database: data/simulator.db, new" in first.stdout
    assert first.stdout.rstrip().endswith("[9] Lainnya")
    assert "> PT Maju Jaya\nbot #7: Apa yang diproduksi perusahaan" in first.stdout
    assert (tmp_path / "data" / "simulator.db").exists()
    # Without --fresh the bot remembers: the sector question is still open.
    then = run_cli(tmp_path, "/help\n1\n")
    assert then.returncode == 0, then.stdout
    assert "data/simulator.db, from an earlier session" in then.stdout
    after_help = then.stdout.split("> /help\n")[1]
    assert "Apa yang diproduksi perusahaan" in after_help
    assert "Di provinsi mana pabrik berada?" in after_help.split("> 1\n")[1]


@pytest.mark.slow
def test_the_readme_example_runs_as_shown(tmp_path: Path) -> None:
    """The README's scripted example: its command as written, its transcript's inputs and
    message numbers as shown (the bot's wording belongs to the catalogs, not to this test)."""
    readme = (ROOT / "README.md").read_text()
    command = next(line.strip() for line in readme.splitlines()
                   if line.strip().startswith("printf '") and "score-bot simulate" in line)
    assert command == (f"printf '{README_SCRIPT.encode('unicode_escape').decode()}' | "
                       f"STAFF_IDS={STAFF_ID} .venv/bin/score-bot simulate --fresh")
    # The indented block after the command, up to the next paragraph.
    after = readme.split(command, 1)[1].splitlines()
    start = next(i for i, line in enumerate(after) if line.startswith(" " * 6))
    end = next(i for i in range(start, len(after))
               if after[i].strip() and not after[i].startswith(" " * 6))
    shown = "\n".join(line[6:] for line in after[start:end])

    def skeleton(transcript: str) -> list[str]:
        return re.findall(r"^ *(> .*|bot #\d+:|-- .*|\[\d\] )", transcript, re.M)

    result = run_cli(tmp_path, README_SCRIPT, "--fresh")
    assert result.returncode == 0, result.stdout
    assert skeleton(shown) and skeleton(shown) == skeleton(result.stdout)


@pytest.mark.slow
def test_fresh_is_refused_with_a_database_url(tmp_path: Path, database_url: str) -> None:
    """--fresh deletes the simulator's own file only, never the database a user named."""
    result = run_cli(tmp_path, "", "--fresh", DATABASE_URL=database_url)
    assert result.returncode == 2
    assert "--fresh" in result.stdout and "DATABASE_URL" in result.stdout
    assert "Traceback" not in result.stdout


@pytest.mark.slow
def test_log_lines_go_to_the_log_file_not_the_transcript(tmp_path: Path) -> None:
    """Every update is logged (INFO), into the file, never between the chat lines."""
    result = run_cli(tmp_path, "\n".join(enrolment("PT Maju Jaya")) + "\n", "--fresh")
    assert result.returncode == 0, result.stdout
    assert "-- log: data/simulator.log" in result.stdout
    assert "Pendaftaran Bapak/Ibu sudah dikirim ke tim SCORE" in result.stdout
    assert not re.search(r"WARNING|INFO|ERROR|\d\d:\d\d:\d\d", result.stdout)
    log = (tmp_path / "data" / "simulator.log").read_text()
    assert "INFO bot.updates: update user=1001 command:/start" in log


async def test_an_equals_sign_sends_a_number_as_text_where_buttons_are_shown(
        settings: Settings, tmp_path: Path) -> None:
    """A KPI question is typed as a number, and its one button is "Not recorded": "=1" is
    the text 1, where a bare "1" presses the button."""
    sim, out = simulator(settings, tmp_path)
    sim.become(1001, "Sari", "id")
    await sim.bot.start()
    try:
        for line in ["/start", "1", "1", "1", "PT Satu"]:
            await sim.handle(line)
        sector_question = sim.sandbox.texts(1001)[-1]
        await sim.handle("=1")
        # Taken as text at a question of buttons: the same question again, a note first.
        assert "tombol" in sim.sandbox.texts(1001)[-1]
        assert sim.sandbox.texts(1001)[-1].endswith("\n\n" + sector_question)
        await sim.handle("/sim")
        assert "=3" in out.getvalue()
    finally:
        await sim.bot.stop()


async def test_users_of_an_earlier_session_have_their_chat_with_the_bot(
        settings: Settings, tmp_path: Path) -> None:
    """A survey opened from the command line reaches people who used the simulator before:
    as on Telegram, their chat with the bot exists although they have not written since."""
    from bot.cli import _known_users
    from db.queries import users as users_db

    engine = create_engine(settings.database_url)
    async with create_sessionmaker(engine)() as session, session.begin():
        await users_db.touch_user(session, 2001, language="en", name="Ani", username=None, now=NOW)
        await users_db.give_consent(session, 2001, name="Ani", username=None, now=NOW)
        blocked = await users_db.touch_user(session, 2002, language="id", name="Budi",
                                             username=None, now=NOW)
        await users_db.set_blocked(session, blocked.id, True)
    await engine.dispose()
    assert await _known_users(settings) == [(2001, "Ani", "en")]


async def test_a_venue_is_shown_as_its_name_address_and_point(settings: Settings,
                                                              tmp_path: Path) -> None:
    """A workshop's venue arrives as a Telegram venue, which has no text: the transcript
    shows what the map would, the place's name, address and point."""
    sim, out = simulator(settings, tmp_path)
    sim.become(1001, "Sari", "id")
    await sim.bot.start()
    try:
        await sim.handle("/start")
        app = sim.bot.app
        assert app is not None
        await app.bot.send_venue(1001, -6.2, 106.8166, "Hotel Melati", "Jl. Sudirman 1")
        await app.bot.send_location(1001, -5.1477, 119.4327)
        sim.print_new()
        assert "bot: [venue: Hotel Melati, Jl. Sudirman 1 (-6.20000, 106.81660)]" in (
            out.getvalue())
        assert "bot: [location: -5.14770, 119.43270]" in out.getvalue()
    finally:
        await sim.bot.stop()
