"""Keyboards more than one journey shows: the language choice and the province pager."""

from __future__ import annotations

from collections.abc import Collection

from telegram import InlineKeyboardButton

from chat.buttons import Keyboard
from chat.i18n import _, current_locale
from domain.provinces import PROVINCES

PROVINCE_PAGE = 8
Rows = list[list[InlineKeyboardButton]]


def language_buttons(kb: Keyboard, kind: str) -> list[InlineKeyboardButton]:
    # Each language in its own words: the user may not read the current one.
    return [kb.button("Bahasa Indonesia", kind, "id"), kb.button("English", kind, "en")]


def province_pages() -> int:
    return (len(PROVINCES) + PROVINCE_PAGE - 1) // PROVINCE_PAGE


def province_rows(kb: Keyboard, *, kind: str, page: int = 0, prefix: str = "",
                  only: Collection[str] | None = None,
                  ticked: Collection[str] | None = None) -> Rows:
    """Provinces two per row, eight to a page with Previous/More, or `only` those codes (a
    typed name that fits several). Buttons carry `prefix + code`, navigation `prefix` +
    "pg:<page>"; with `ticked`, each shows whether it is chosen (multi-select)."""
    locale = current_locale()
    nav: list[InlineKeyboardButton] = []
    if only:
        shown = [p for p in PROVINCES if p.code in only]
    else:
        page = max(0, min(page, province_pages() - 1))
        shown = list(PROVINCES[page * PROVINCE_PAGE:(page + 1) * PROVINCE_PAGE])
        if page > 0:
            nav.append(kb.button("‹ " + _("Previous"), kind, f"{prefix}pg:{page - 1}"))
        if page < province_pages() - 1:
            nav.append(kb.button(_("More") + " ›", kind, f"{prefix}pg:{page + 1}"))

    def label(code: str, name: str) -> str:
        if ticked is None:
            return name
        return ("✅ " if code in ticked else "▫️ ") + name

    buttons = [kb.button(label(p.code, p.name(locale)), kind, prefix + p.code) for p in shown]
    result: Rows = [buttons[i:i + 2] for i in range(0, len(buttons), 2)]
    if nav:
        result.append(nav)
    return result
