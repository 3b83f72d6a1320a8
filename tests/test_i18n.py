"""Locale resolution and Babel formatting."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from chat.i18n import (
    _,
    format_date,
    format_number,
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
