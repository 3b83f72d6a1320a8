"""The terminal simulator: numbered buttons, pressing by number, switching user, piped input."""

from __future__ import annotations

import io
import subprocess
import sys
from functools import partial
from pathlib import Path

from bot.app import ALLOWED_UPDATES, build_application
from config.settings import Settings
from sandbox import Simulator
from tests.conftest import STAFF_ID

ROOT = Path(__file__).resolve().parent.parent


async def test_buttons_are_numbered_and_pressed_by_number(settings: Settings,
                                                          tmp_path: Path) -> None:
    out = io.StringIO()
    sim = Simulator(partial(build_application, settings), allowed_updates=ALLOWED_UPDATES,
                    out=out, media_dir=tmp_path)
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


def test_simulate_command_reads_piped_input(tmp_path: Path, database_url: str) -> None:
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "DATABASE_URL": database_url}
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "simulate", "--user", "1001", "--name", "Sari",
         "--lang", "en"], input="/start\n2\n1\n/quit\n", cwd=tmp_path, env=env,
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "[2] English" in result.stdout and "Do you agree?" in result.stdout
    assert "Traceback" not in result.stderr
