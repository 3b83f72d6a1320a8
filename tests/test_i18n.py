"""Locale resolution and Babel formatting."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from chat.i18n import (
    _,
    format_date,
    format_number,
    format_time,
    normalize_language_code,
    resolve_locale,
    use_locale,
)


@pytest.mark.parametrize("saved, telegram, expected", [
    ("en", "id", "en"), ("id", "en-US", "id"), (None, "en-GB", "en"), (None, "id", "id"),
    (None, "de", "id"), (None, None, "id"), (None, "ms", "id"),
])
def test_saved_choice_then_telegram_english_then_default(saved: str | None,
                                                         telegram: str | None,
                                                         expected: str) -> None:
    assert resolve_locale(saved, telegram, "id") == expected


def test_unknown_codes_are_ignored() -> None:
    assert normalize_language_code("xx-@@") is None
    assert resolve_locale(None, "fr", "en") == "en"


def test_dates_and_numbers_in_both_languages() -> None:
    assert format_date(date(2026, 12, 7), "id") == "Senin, 7 Desember 2026"
    assert format_date(date(2026, 12, 7), "en") == "Monday, 7 December 2026"
    moment = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)
    assert format_date(moment, "id") == "Senin, 7 Desember 2026"
    assert format_number(1200, "id") == "1.200" and format_number(1200, "en") == "1,200"


def test_translation_follows_the_current_locale() -> None:
    with use_locale("id"):
        assert _("Done") == "Selesai"
    with use_locale("en"):
        assert _("Done") == "Done"


def test_times_as_each_language_writes_them() -> None:
    assert format_time(time(8, 0), "id", zone="WIB") == "08.00 WIB"
    assert format_time(time(19, 30), "id") == "19.30"
    assert format_time(time(8, 0), "en", zone="WIB") == "08:00 WIB"
    assert format_time(datetime(2026, 12, 7, 9, 5, tzinfo=UTC), "en") == "09:05"


def test_a_broadcast_time_in_the_readers_language() -> None:
    from handlers.broadcast import when_text
    moment = datetime(2026, 12, 8, 1, 30, tzinfo=UTC)  # 09.30 WITA, 08.30 WIB
    with use_locale("id"):
        assert when_text(moment, "WITA") == "Selasa, 8 Desember 2026, pukul 09.30 WITA (08.30 WIB)"
    with use_locale("en"):
        assert when_text(moment, "WITA") == "Tuesday, 8 December 2026, 09:30 WITA (08:30 WIB)"
