"""Every string the code shows exists, translated, in `id` and `en`, and is compiled."""

from __future__ import annotations

from bot.catalogs import problems


def test_catalogs_are_complete_and_current() -> None:
    found = problems()
    assert found == [], "run `make translations` and translate:\n" + "\n".join(found)
