"""`--now`: the instant a `score-bot` process starts its one clock at (chat/clock.py). The
process tests run the bot with it (tests/bot_process.py); here, what a mistyped instant gets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot import cli
from chat.clock import RealClock


@pytest.mark.parametrize(("typed", "said"), [
    ("2026-11-02", "has no time zone"),
    ("2026-11-02T08:59", "has no time zone"),
    ("besok pagi", "is no date and time"),
    ("2026-13-02T08:59+07:00", "is no date and time"),
])
@pytest.mark.parametrize("command", [["run"], ["simulate"],
                                     ["survey", "open", "--survey", "kpi", "--period", "2026-11"]])
def test_a_mistyped_instant_is_one_line_and_exit_2(
        command: list[str], typed: str, said: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        cli.main([*command, "--now", typed])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert said in err and "e.g. 2026-11-02T08:59+07:00" in err and "Traceback" not in err


def test_a_started_clock_reads_its_instant_and_runs_on() -> None:
    start = datetime(2027, 2, 1, 8, 59, tzinfo=UTC)
    clock = RealClock(start)
    first = clock.now()
    assert start <= first < start + timedelta(seconds=5)
    assert clock.now() >= first


def test_a_clock_cannot_start_at_a_naive_instant() -> None:
    with pytest.raises(ValueError, match="time zone"):
        RealClock(datetime(2027, 2, 1, 8, 59))


def test_another_days_bot_never_runs_on_telegram(monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """A rehearsal with the live token would message real users: refused, one line."""
    monkeypatch.setenv("BOT_TOKEN", "123:live")
    monkeypatch.delenv("TELEGRAM_API_BASE_URL", raising=False)
    monkeypatch.setenv("DATABASE_URL", "sqlite+aiosqlite:///unused.db")
    assert cli.main(["run", "--now", "2027-02-01T08:55+07:00"]) == 2
    err = capsys.readouterr().err
    assert "--now: not with Telegram's Bot API" in err and "simulate --now" in err


def test_survey_commands_say_which_database_they_used(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        tmp_path: Path) -> None:
    """The bot's, the simulator's or a copy: staff must see which one a round was opened in."""
    url = f"sqlite+aiosqlite:///{tmp_path}/simulator.db"
    monkeypatch.setenv("DATABASE_URL", url)
    assert cli.main(["survey", "close", "--survey", "kpi", "--period", "2026-11",
                     "--now", "2026-12-07T09:00+07:00"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [f"database: {url}", "there is no kpi round of 2026-11"]
