"""Fixtures: a migrated database (SQLite by default, PostgreSQL with TEST_DATABASE_URL), the
sandbox, and the real Application running against both."""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import text

from chat.clock import FakeClock
from chat.i18n import load_catalogs
from config.settings import Settings
from db.migrate import upgrade
from db.models import Base
from db.session import create_engine, create_sessionmaker
from domain import owner_totals
from sandbox import BotApiSandbox, SandboxServer
from tests.clocks import virtual_clock
from tests.harness import BotHarness

if TYPE_CHECKING:
    from tests.bot_process import BotProcess

STAFF_ID = 9001
OTHER_STAFF_ID = 9002
POSTGRES_URL = os.environ.get("TEST_DATABASE_URL")
_database_numbers = itertools.count(1)


def pytest_report_header() -> str:
    return f"database: {'PostgreSQL ' + POSTGRES_URL if POSTGRES_URL else 'SQLite'}"


def pytest_configure(config: pytest.Config) -> None:
    # Every test truncates the one PostgreSQL database: two workers would empty each other's.
    if POSTGRES_URL and (config.getoption("numprocesses", None)
                         or os.environ.get("PYTEST_XDIST_WORKER")):
        raise pytest.UsageError("TEST_DATABASE_URL: the tests share one database and run "
                                "serially; leave out -n")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # The tests that run `score-bot` for seconds go first (otherwise in their order): on two
    # workers (-n 2) each starts on one and the quick tests fill in around them, rather than
    # one worker finishing alone with the last of them.
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.fixture(scope="session", autouse=True)
def _catalogs() -> None:
    load_catalogs()


@pytest.fixture(scope="session")
def migrated_template(sqlite_dir: Path) -> str:
    """Migrate once per session: a SQLite file to copy, or the PostgreSQL database itself."""
    if POSTGRES_URL:
        import asyncio

        async def reset() -> None:
            engine = create_engine(POSTGRES_URL)
            async with engine.begin() as conn:
                await conn.execute(text("DROP SCHEMA public CASCADE"))
                await conn.execute(text("CREATE SCHEMA public"))
            await engine.dispose()

        asyncio.run(reset())
        upgrade(POSTGRES_URL)
        return POSTGRES_URL
    path = sqlite_dir / "template.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return str(path)


@pytest.fixture(scope="session")
def sqlite_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Where the SQLite files go: in memory (/dev/shm) where there is one. Every commit is
    fsynced (synchronous=FULL), about half a millisecond each on this disk, thousands of times
    a run; what the tests check does not depend on the file reaching the disk (a killed
    process leaves its writes to the kernel either way)."""
    shm = Path("/dev/shm")
    if not (shm.is_dir() and os.access(shm, os.W_OK)):
        yield tmp_path_factory.mktemp("databases")
        return
    # A run that was killed left its folder behind (memory, until a reboot). The folder names
    # the process that made it: one whose process is gone has ended. (Not its age: under
    # `faketime` a clock months ahead took a running worker's folder for an old one.)
    for old in shm.glob("score-tests-*"):
        if not _alive(old.name.split("-")[2]):
            shutil.rmtree(old, ignore_errors=True)
    path = Path(tempfile.mkdtemp(prefix=f"score-tests-{os.getpid()}-", dir=shm))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _alive(pid: str) -> bool:
    """Whether the process of this id still runs (a folder of an older naming: no)."""
    if not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@pytest.fixture
async def database_url(migrated_template: str, sqlite_dir: Path) -> AsyncIterator[str]:
    if POSTGRES_URL:
        engine = create_engine(POSTGRES_URL)
        tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
        async with engine.begin() as conn:
            await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        await engine.dispose()
        yield POSTGRES_URL
        return
    path = sqlite_dir / f"{next(_database_numbers)}.db"
    shutil.copy(migrated_template, path)
    yield f"sqlite+aiosqlite:///{path}"
    for leftover in (path, *(path.with_name(path.name + end) for end in ("-wal", "-shm"))):
        leftover.unlink(missing_ok=True)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(_env_file=None, database_url=database_url,
                    staff_ids=frozenset({STAFF_ID, OTHER_STAFF_ID}), bot_token=None,
                    default_locale="id")


@pytest.fixture
def sandbox() -> BotApiSandbox:
    return BotApiSandbox()


@pytest.fixture
async def bot(settings: Settings, sandbox: BotApiSandbox,
              clock: FakeClock) -> AsyncIterator[BotHarness]:
    harness = BotHarness(settings, sandbox, clock=clock)
    await harness.start()
    try:
        yield harness
    finally:
        await harness.stop()


@pytest.fixture
async def quiet_bot(settings: Settings, sandbox: BotApiSandbox,
                    clock: FakeClock) -> AsyncIterator[BotHarness]:
    """The Application without its outbox sender: queued rows stay put while a test looks at
    them, or a test runs the sender it needs itself."""
    harness = BotHarness(settings, sandbox, clock=clock, start_sender=False)
    await harness.start()
    try:
        yield harness
    finally:
        await harness.stop()


@pytest.fixture
async def session(database_url: str):
    engine = create_engine(database_url)
    maker = create_sessionmaker(engine)
    async with maker() as s:
        yield s
    await engine.dispose()


@pytest.fixture
def tmp_cwd(tmp_path: Path) -> Iterator[Path]:
    old = Path.cwd()
    os.chdir(tmp_path)
    try:
        yield tmp_path
    finally:
        os.chdir(old)


@pytest.fixture
def clock() -> FakeClock:
    """The test's clock: virtual time from CLOCK_START (tests/clocks.py), shared by the bot
    fixtures, so a test moves the bot's time with `clock.advance`."""
    return virtual_clock()


@pytest.fixture
async def clocked_bot(settings: Settings, sandbox: BotApiSandbox,
                      clock: FakeClock) -> AsyncIterator[BotHarness]:
    """The Application on the virtual clock, without its sender: a test runs the sender it
    needs, and the flood budget the sender's messages pass through keeps the same time."""
    harness = BotHarness(settings, sandbox, clock=clock, start_sender=False)
    await harness.start()
    try:
        yield harness
    finally:
        await harness.stop()


@pytest.fixture
async def survey_bot(settings: Settings, sandbox: BotApiSandbox) -> AsyncIterator[BotHarness]:
    """The Application with its sender, on a virtual clock set in a survey round."""
    from tests.survey_helpers import NOW
    harness = BotHarness(settings, sandbox, clock=FakeClock(NOW))
    await harness.start()
    try:
        yield harness
    finally:
        await harness.stop()


@pytest.fixture
async def bot_process(server: SandboxServer, database_url: str,
                      tmp_path: Path) -> AsyncIterator[BotProcess]:
    """`score-bot run` as a process against `server` (tests/bot_process.py); started by
    the test, killed at its end."""
    from tests.bot_process import BotProcess  # it reads STAFF_ID from here

    proc = BotProcess(server, database_url, tmp_path)
    try:
        yield proc
    finally:
        await proc.close()


@pytest.fixture
async def server(sandbox: BotApiSandbox) -> AsyncIterator[SandboxServer]:
    """The sandbox over HTTP on the loopback, for a bot in a process of its own."""
    srv = SandboxServer(sandbox)
    await srv.start()
    yield srv
    await srv.stop()


@pytest.fixture
def exact_release(monkeypatch: pytest.MonkeyPatch) -> None:
    """What owners read of the workers' survey without its noise, so a test can state the
    shares (the noise itself: tests/test_owner_totals.py)."""
    monkeypatch.setattr(owner_totals, "laplace_noise", list)
