"""Catalog maintenance and checks: is every string the code shows translated in `id` and `en`?

`python -m bot.catalogs fill-en` fills empty English entries with their msgid (English is the
source language); `python -m bot.catalogs check` lists what is missing or stale.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po, write_po

from chat.i18n import DOMAIN, LOCALES, LOCALES_DIR

ROOT = LOCALES_DIR.parent
# Where the strings are: the same mapping `make translations` gives `pybabel extract`.
MAPPING = LOCALES_DIR / "babel.cfg"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}


def po_path(locale: str) -> Path:
    return LOCALES_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


def read_catalog(locale: str) -> Catalog:
    with po_path(locale).open("rb") as fh:
        return read_po(fh, locale=locale)


def code_msgids() -> set[str]:
    """Every msgid the code marks for translation, as `pybabel extract` would find it."""
    with MAPPING.open() as fh:
        # Babel's parse_mapping_cfg has no annotations.
        method_map, options_map = parse_mapping_cfg(fh)  # type: ignore[no-untyped-call]
    found: set[str] = set()
    for _file, _line, message, _comments, _ctx in extract_from_dir(
            ROOT, method_map=method_map, options_map=options_map, keywords=KEYWORDS):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def _forms(string: object) -> tuple[str, ...]:
    """A translation as a tuple of its forms; read_po and read_mo differ for plurals."""
    if isinstance(string, (tuple, list)):
        return tuple(string)
    return (str(string),)


def problems() -> list[str]:
    wanted = code_msgids()
    out: list[str] = []
    for locale in LOCALES:
        catalog = read_catalog(locale)
        present = {m.id if isinstance(m.id, str) else m.id[0]: m for m in catalog if m.id}
        for msgid in sorted(wanted - set(present)):
            out.append(f"{locale}: missing from the catalog: {msgid!r}")
        for msgid in sorted(set(present) - wanted):
            out.append(f"{locale}: no longer in the code (stale): {msgid!r}")
        for msgid, message in present.items():
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            if not all(strings):
                out.append(f"{locale}: not translated: {msgid!r}")
            if message.fuzzy:
                out.append(f"{locale}: fuzzy: {msgid!r}")
        mo = po_path(locale).with_suffix(".mo")
        if not mo.exists():
            out.append(f"{locale}: not compiled")
        else:
            with mo.open("rb") as fh:
                compiled = {m.id if isinstance(m.id, str) else m.id[0]: _forms(m.string)
                            for m in read_mo(fh) if m.id}
            if any(compiled.get(k) != _forms(m.string)
                   for k, m in present.items() if m.string):
                out.append(f"{locale}: compiled catalog is older than the .po")
    return out


def fill_english() -> int:
    catalog = read_catalog("en")
    filled = 0
    for message in catalog:
        if not message.id:
            continue
        if isinstance(message.id, tuple):
            if not all(_forms(message.string)):
                message.string = message.id
                filled += 1
        elif not message.string:
            message.string = message.id
            filled += 1
    with po_path("en").open("wb") as fh:
        write_po(fh, catalog, width=100, omit_header=False)
    return filled


def main(argv: list[str]) -> int:
    if argv[:1] == ["fill-en"]:
        print(f"filled {fill_english()} English entries")
        return 0
    if argv[:1] == ["check"]:
        found = problems()
        print("\n".join(found) or "catalogs are complete")
        return 1 if found else 0
    print("usage: python -m bot.catalogs fill-en|check", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
