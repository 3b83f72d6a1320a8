"""A survey round opened from the command line while `score-bot run` runs as a process
against a Bot API server over HTTP: the running bot's sender finds the invitation the other
process queued, and the owner answers the KPI report through it."""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from db import enterprises as enterprises_db
from db import users as users_db
from db.models import ResponseStatus, SurveyAnswer, SurveyResponse, SurveyRound
from db.session import create_engine, create_sessionmaker
from domain.join_codes import new_join_code
from domain.roles import Role
from sandbox import SandboxServer
from tests.bot_process import ROOT, BotProcess, wait_for
from tests.survey_helpers import ANSWERS

pytestmark = pytest.mark.slow

OWNER = 1001
# A month that has ended whatever day the suite runs: its round is made open now below.
PERIOD = date(2026, 10, 1)


async def _seed(database_url: str) -> None:
    """An approved enterprise and its owner, and October's KPI round planned to close in a
    week (as staff would have moved it), not sent yet."""
    now = datetime.now(UTC)
    engine = create_engine(database_url)
    async with create_sessionmaker(engine)() as session, session.begin():
        await users_db.touch_user(session, OWNER, language="id", name="Sari", username=None)
        await users_db.give_consent(session, OWNER, name="Sari", username=None)
        await users_db.set_role(session, OWNER, Role.OWNER)
        fields = enterprises_db.EnterpriseFields(
            name="PT Proses Survei", sector="auto_parts", sector_other=None, province="JB",
            city="Bekasi", worker_count=120, contact_name="Sari", phone="+6281234567890",
            modules=[1])
        created = await enterprises_db.create_enterprise(session, OWNER, fields)
        await enterprises_db.decide(session, created.id, 9001, approve=True, reason=None,
                                    new_code=new_join_code)
        today = now.date()
        session.add(SurveyRound(survey="kpi", period=PERIOD, opens_on=today,
                                reminder_on=today + timedelta(days=3),
                                closes_on=today + timedelta(days=7),
                                closes_at=now + timedelta(days=7), version=0))
    await engine.dispose()


async def _cli(database_url: str, *args: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", *args, cwd=ROOT,
        env={**os.environ, "DATABASE_URL": database_url, "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode or 0, out.decode()


async def test_a_round_opened_from_the_command_line_is_answered_through_the_running_bot(
        server: SandboxServer, bot_process: BotProcess, database_url: str) -> None:
    sandbox = server.sandbox
    await _seed(database_url)
    sandbox.open_chat(OWNER, "Sari", language_code="id")
    await bot_process.start()
    code, said = await _cli(database_url, "survey", "open", "--survey", "kpi",
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
    code, said = await _cli(database_url, "survey", "open", "--survey", "kpi",
                            "--period", "2026-10")
    assert code == 0 and "nothing new" in said, said
    engine = create_engine(database_url)
    async with create_sessionmaker(engine)() as session:
        response = await session.scalar(select(SurveyResponse))
        answers = (await session.scalars(select(SurveyAnswer))).all()
    await engine.dispose()
    assert response is not None and response.status is ResponseStatus.FINAL
    assert len(answers) == 16
