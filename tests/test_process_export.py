"""Issue 16's verification as a test: a staff member exports through `score-bot run` against a
Bot API server over HTTP, and the workbook that arrives as a document is opened and checked
against the database: every sheet there, the enterprises and the workers' links as stored,
and no worker's Telegram id or name anywhere in it."""

from __future__ import annotations

import io
from datetime import datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from chat.clock import FakeClock
from db.models import Enterprise, Membership
from db.session import create_engine, create_sessionmaker
from sandbox import SandboxServer
from tests import factories
from tests.bot_process import BotProcess, process_clock
from tests.conftest import STAFF_ID

pytestmark = pytest.mark.slow

START = datetime(2026, 12, 9, 10, 0, tzinfo=ZoneInfo("Asia/Jakarta"))
WORKERS = {2001: "Wulan Sari", 2002: "Agus Prasetyo"}


class _World:
    """What tests/factories.py needs of a bot: the database and the sandbox."""

    def __init__(self, database_url: str, sandbox: object):
        self.engine = create_engine(database_url)
        self.sessionmaker = create_sessionmaker(self.engine)
        self.sandbox = sandbox
        self.settings = SimpleNamespace(staff_ids=frozenset({STAFF_ID}))
        self.clock = FakeClock(START)


async def test_staff_export_through_a_bot_api_server(
        server: SandboxServer, bot_process: BotProcess, database_url: str) -> None:
    sandbox = server.sandbox
    world = _World(database_url, sandbox)
    maju = await factories.enterprise(world, owner=1001, days_ago=30)  # type: ignore[arg-type]
    await factories.enterprise(world, owner=1002, name="PT Timur",  # type: ignore[arg-type]
                               province="PA", city="Jayapura")
    for worker, name in WORKERS.items():
        await factories.worker(world, worker, maju, name=name)  # type: ignore[arg-type]
    await factories.staff(world)  # type: ignore[arg-type]
    async with world.sessionmaker() as session:
        enterprises = set((await session.scalars(select(Enterprise.name))).all())
        links = await session.scalar(select(func.count()).select_from(Membership))
    await world.engine.dispose()
    bot_process.clock = process_clock(START)
    await bot_process.start()

    sandbox.send_text(STAFF_ID, "/export")
    message = await sandbox.wait_until(
        lambda: next((m for m in sandbox.messages(STAFF_ID) if m.document), None), 90)
    assert (message.document_name or "").endswith(".xlsx")
    book = load_workbook(io.BytesIO(message.document or b""), read_only=True)
    sheets = {sheet.title: list(sheet.iter_rows(values_only=True)) for sheet in book}
    book.close()
    assert len(sheets) >= 10, list(sheets)
    cells = [str(value) for rows in sheets.values() for row in rows for value in row
             if value is not None]
    # The enterprises as stored, each in the enterprises' sheet.
    names = {str(value) for value in cells}
    assert enterprises <= names, enterprises - names
    # Every link is a row of some sheet (owners' and workers'), under a pseudonym for workers.
    assert links == 4
    for worker, name in WORKERS.items():
        assert not any(str(worker) in cell or name in cell for cell in cells), worker
    assert any(cell.startswith("W-") for cell in cells)
