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


@pytest.mark.parametrize("secret", [None, "", "   ", "has space", "x" * 257, "ümlaut"])
def test_a_webhook_needs_a_valid_secret(monkeypatch: pytest.MonkeyPatch, tmp_cwd: Path,
                                        secret: str | None) -> None:
    monkeypatch.setenv("WEBHOOK_URL", "https://bot.example.org/hook")
    if secret is None:
        monkeypatch.delenv("WEBHOOK_SECRET", raising=False)
    else:
        monkeypatch.setenv("WEBHOOK_SECRET", secret)
    with pytest.raises(ConfigError, match="^WEBHOOK_SECRET: "):
        load_settings()


def test_webhook_secret_accepted_and_unused_without_webhook(monkeypatch: pytest.MonkeyPatch,
                                                            tmp_cwd: Path) -> None:
    monkeypatch.setenv("WEBHOOK_URL", "https://bot.example.org/hook")
    monkeypatch.setenv("WEBHOOK_SECRET", "A-z_09" * 40)
    assert load_settings().webhook_secret == "A-z_09" * 40
    # As .env.example ships them: both empty means polling, not a deaf webhook.
    monkeypatch.setenv("WEBHOOK_URL", "")
    monkeypatch.setenv("WEBHOOK_SECRET", "")
    settings = load_settings()
    assert settings.webhook_url is None and settings.webhook_secret is None


def test_cli_refuses_a_webhook_without_secret(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "run"], cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "BOT_TOKEN": "1:abc",
             "WEBHOOK_URL": "https://bot.example.org/hook"},
        capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "WEBHOOK_SECRET" in result.stderr
