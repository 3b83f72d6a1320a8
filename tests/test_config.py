"""Configuration: names from PRODUCT.md; a bad value is one clear line and exit status 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from config.settings import ConfigError, load_settings

ROOT = Path(__file__).resolve().parent.parent


def test_defaults(monkeypatch: pytest.MonkeyPatch, tmp_cwd: Path) -> None:
    for name in ("BOT_TOKEN", "DATABASE_URL", "STAFF_IDS", "DEFAULT_LOCALE", "BROADCAST_RATE"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings()
    assert settings.database_url == "sqlite+aiosqlite:///data/score.db"
    assert settings.staff_ids == frozenset() and settings.default_locale == "id"
    assert settings.broadcast_rate == 25 and settings.bot_token is None
    assert settings.api_base_url == "https://api.telegram.org/bot"


def test_env_file_and_lists(monkeypatch: pytest.MonkeyPatch, tmp_cwd: Path) -> None:
    monkeypatch.delenv("STAFF_IDS", raising=False)
    (tmp_cwd / ".env").write_text("STAFF_IDS=1, 22,333\nTELEGRAM_API_BASE_URL=http://127.0.0.1:8081/\n")
    settings = load_settings()
    assert settings.staff_ids == {1, 22, 333}
    assert settings.api_base_url == "http://127.0.0.1:8081/bot"
    assert settings.api_file_url == "http://127.0.0.1:8081/file/bot"


@pytest.mark.parametrize("name, value", [
    ("STAFF_IDS", "12,abc"), ("BROADCAST_RATE", "fast"), ("DEFAULT_LOCALE", "fr"),
    ("DATABASE_URL", "mysql://x"), ("WEBHOOK_PORT", "99999"), ("LOG_LEVEL", "LOUD"),
])
def test_malformed_value_names_the_variable(monkeypatch: pytest.MonkeyPatch, tmp_cwd: Path,
                                            name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=f"^{name}: "):
        load_settings()


def test_cli_prints_one_line_and_exits_2(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "db", "upgrade"], cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "STAFF_IDS": "x"},
        capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "STAFF_IDS" in result.stderr
    assert "Traceback" not in result.stderr
