"""gettext catalogs, the current locale per update, and Babel formatting.

All compiled catalogs load once at start-up; a language with a `.po` but no `.mo` is an error,
not a silent fallback to English. The locale lives in a ContextVar set per update; jobs and
broadcasts have no update and pass each recipient's locale to `use_locale` explicitly.
"""

from __future__ import annotations

import contextlib
import gettext as _gettext
from collections.abc import Iterator
from contextvars import ContextVar
from datetime import date, datetime, time
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.dates import format_date as _babel_format_date
from babel.dates import format_datetime as _babel_format_datetime
from babel.numbers import format_decimal

LOCALES = ("id", "en")
DOMAIN = "messages"
LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"

_current: ContextVar[str] = ContextVar("locale", default="id")
_catalogs: dict[str, _gettext.NullTranslations] = {}


class CatalogError(RuntimeError):
    pass


def load_catalogs(directory: Path = LOCALES_DIR) -> None:
    """Load every compiled catalog; fail loudly when one is missing."""
    loaded: dict[str, _gettext.NullTranslations] = {}
    for locale in LOCALES:
        po = directory / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
        mo = po.with_suffix(".mo")
        if not mo.exists():
            hint = "run `make translations`" if po.exists() else "the catalog is missing"
            raise CatalogError(f"no compiled catalog for {locale!r} at {mo}: {hint}")
        with mo.open("rb") as fh:
            loaded[locale] = _gettext.GNUTranslations(fh)
    _catalogs.clear()
    _catalogs.update(loaded)


def _catalog() -> _gettext.NullTranslations:
    if not _catalogs:
        load_catalogs()
    return _catalogs.get(_current.get()) or _catalogs["id"]


def gettext(message: str) -> str:
    return _catalog().gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _catalog().ngettext(singular, plural, n)


_ = gettext


def N_(message: str) -> str:
    """Mark a string for extraction; translate it later with `_()` where it is shown."""
    return message


def current_locale() -> str:
    return _current.get()


def set_locale(locale: str) -> None:
    _current.set(locale if locale in LOCALES else "id")


@contextlib.contextmanager
def use_locale(locale: str) -> Iterator[None]:
    token = _current.set(locale if locale in LOCALES else "id")
    try:
        yield
    finally:
        _current.reset(token)


def normalize_language_code(code: str | None) -> str | None:
    """Telegram's `language_code` (an IETF tag such as "en-US" or "id") to one of ours."""
    if not code:
        return None
    try:
        language = Locale.parse(code.replace("-", "_")).language
    except (ValueError, UnknownLocaleError):
        return None
    # Malay speakers read Indonesian far better than English.
    if language in ("id", "in", "ms"):
        return "id"
    if language == "en":
        return "en"
    return None


def resolve_locale(saved: str | None, telegram_code: str | None, default: str) -> str:
    """The user's saved choice, else Telegram's language if English, else the default."""
    if saved is not None and saved in LOCALES:
        return saved
    if normalize_language_code(telegram_code) == "en":
        return "en"
    return default if default in LOCALES else "id"


def format_date(value: date | datetime, locale: str | None = None) -> str:
    """'Senin, 7 Desember 2026' / 'Monday, 7 December 2026'."""
    loc = locale or current_locale()
    pattern = "EEEE, d MMMM y"
    if isinstance(value, datetime):
        return _babel_format_datetime(value, pattern, locale=loc)
    return _babel_format_date(value, pattern, locale=loc)


def format_time(value: time | datetime, locale: str | None = None, zone: str | None = None) -> str:
    """The hour as the reader writes it: "08.00 WIB" in Indonesian, "08:00 WIB" in English
    (`zone`, when given, follows). The wall time of `value` as it is: convert it to the zone
    first."""
    loc = locale or current_locale()
    shown = f"{value.hour:02d}{'.' if loc == 'id' else ':'}{value.minute:02d}"
    return f"{shown} {zone}" if zone else shown


def format_number(value: int | float, locale: str | None = None) -> str:
    return format_decimal(value, locale=locale or current_locale())
