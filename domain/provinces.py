"""The 38 provinces of Indonesia (as of 2023) and lenient matching of typed names.

Codes follow ISO 3166-2:ID without the "ID-" prefix; they are stored in the
database, so never renumber or reuse them.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

WIB = "Asia/Jakarta"  # UTC+7: Sumatra, Java, West and Central Kalimantan
WITA = "Asia/Makassar"  # UTC+8: Bali, Nusa Tenggara, South/East/North Kalimantan, Sulawesi
WIT = "Asia/Jayapura"  # UTC+9: Maluku and Papua


@dataclass(frozen=True, slots=True)
class Province:
    code: str
    name_id: str
    name_en: str
    timezone: str

    def name(self, locale: str) -> str:
        # Indonesian is the default: it is what most users speak.
        return self.name_en if locale.lower().startswith("en") else self.name_id


# Java first (most SCORE enterprises are there), then roughly west to east.
PROVINCES: tuple[Province, ...] = (
    Province("JK", "DKI Jakarta", "Jakarta", WIB),
    Province("JB", "Jawa Barat", "West Java", WIB),
    Province("JT", "Jawa Tengah", "Central Java", WIB),
    Province("YO", "DI Yogyakarta", "Special Region of Yogyakarta", WIB),
    Province("JI", "Jawa Timur", "East Java", WIB),
    Province("BT", "Banten", "Banten", WIB),
    Province("AC", "Aceh", "Aceh", WIB),
    Province("SU", "Sumatera Utara", "North Sumatra", WIB),
    Province("SB", "Sumatera Barat", "West Sumatra", WIB),
    Province("RI", "Riau", "Riau", WIB),
    Province("KR", "Kepulauan Riau", "Riau Islands", WIB),
    Province("JA", "Jambi", "Jambi", WIB),
    Province("BE", "Bengkulu", "Bengkulu", WIB),
    Province("SS", "Sumatera Selatan", "South Sumatra", WIB),
    Province("BB", "Kepulauan Bangka Belitung", "Bangka Belitung Islands", WIB),
    Province("LA", "Lampung", "Lampung", WIB),
    Province("KB", "Kalimantan Barat", "West Kalimantan", WIB),
    Province("KT", "Kalimantan Tengah", "Central Kalimantan", WIB),
    Province("KS", "Kalimantan Selatan", "South Kalimantan", WITA),
    Province("KI", "Kalimantan Timur", "East Kalimantan", WITA),
    Province("KU", "Kalimantan Utara", "North Kalimantan", WITA),
    Province("BA", "Bali", "Bali", WITA),
    Province("NB", "Nusa Tenggara Barat", "West Nusa Tenggara", WITA),
    Province("NT", "Nusa Tenggara Timur", "East Nusa Tenggara", WITA),
    Province("SA", "Sulawesi Utara", "North Sulawesi", WITA),
    Province("GO", "Gorontalo", "Gorontalo", WITA),
    Province("ST", "Sulawesi Tengah", "Central Sulawesi", WITA),
    Province("SR", "Sulawesi Barat", "West Sulawesi", WITA),
    Province("SN", "Sulawesi Selatan", "South Sulawesi", WITA),
    Province("SG", "Sulawesi Tenggara", "Southeast Sulawesi", WITA),
    Province("MA", "Maluku", "Maluku", WIT),
    Province("MU", "Maluku Utara", "North Maluku", WIT),
    Province("PB", "Papua Barat", "West Papua", WIT),
    Province("PD", "Papua Barat Daya", "Southwest Papua", WIT),
    Province("PA", "Papua", "Papua", WIT),
    Province("PT", "Papua Tengah", "Central Papua", WIT),
    Province("PE", "Papua Pegunungan", "Highland Papua", WIT),
    Province("PS", "Papua Selatan", "South Papua", WIT),
)

_BY_CODE: dict[str, Province] = {p.code: p for p in PROVINCES}


def by_code(code: str | None) -> Province | None:
    if not code:
        return None
    return _BY_CODE.get(code.strip().upper())


# Informal names and abbreviations people actually type (besides the official
# Indonesian and English names, which are added automatically).
_ALIASES: dict[str, tuple[str, ...]] = {
    "JK": ("jakarta", "dki", "jkt", "daerah khusus ibukota jakarta", "daerah khusus jakarta",
           "dkj", "special capital region of jakarta"),
    "JB": ("jabar", "jawa barat"),
    "JT": ("jateng",),
    "YO": ("diy", "jogja", "yogya", "jogjakarta", "yogyakarta", "jogya", "djogja",
           "daerah istimewa yogyakarta", "yogyakarta special region"),
    "JI": ("jatim",),
    "AC": ("nad", "nanggroe aceh darussalam"),
    "SU": ("sumut",),
    "SB": ("sumbar",),
    "KR": ("kepri",),
    "SS": ("sumsel",),
    "BB": ("babel", "bangka belitung", "bangka", "belitung"),
    "KB": ("kalbar",),
    "KT": ("kalteng",),
    "KS": ("kalsel",),
    "KI": ("kaltim",),
    "KU": ("kaltara", "kalut"),
    "NB": ("ntb",),
    "NT": ("ntt",),
    "SA": ("sulut",),
    "ST": ("sulteng",),
    "SR": ("sulbar",),
    "SN": ("sulsel",),
    "SG": ("sultra", "south east sulawesi"),
    "MU": ("malut",),
    "PB": ("pabar",),
    "PD": ("pbd",),
    "PE": ("highlands papua", "papua highlands"),
}

# Island or region names shared by several provinces: typing one of these is
# genuinely ambiguous, so the caller should offer the candidates as buttons.
# Papua comes first for "papua" because it is also an exact province name.
_GROUPS: dict[str, tuple[str, ...]] = {
    "papua": ("PA", "PB", "PD", "PT", "PE", "PS"),
    "jawa": ("JB", "JT", "JI"),
    "java": ("JB", "JT", "JI"),
    "sumatera": ("SU", "SB", "SS"),
    "kalimantan": ("KB", "KT", "KS", "KI", "KU"),
    "borneo": ("KB", "KT", "KS", "KI", "KU"),
    "sulawesi": ("SA", "ST", "SR", "SN", "SG"),
    "celebes": ("SA", "ST", "SR", "SN", "SG"),
    "nusa tenggara": ("NB", "NT"),
}

_PREFIXES = ("provinsi ", "propinsi ", "province of ", "province ", "prov ")
_SUFFIXES = (" province", " provinsi")
# Longer input is not a province name; also bounds the fuzzy-matching cost.
_MAX_LEN = 60
_FUZZY_CUTOFF = 0.8


def _normalize(text: str) -> str:
    """Lowercase, strip accents, punctuation to spaces, collapse spaces."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    text = re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()
    for prefix in _PREFIXES:
        if text.startswith(prefix):
            text = text[len(prefix):]
    for suffix in _SUFFIXES:
        if text.endswith(suffix):
            text = text[: -len(suffix)]
    # "Sumatra" (English) and "Sumatera" (Indonesian) are both common.
    return text.replace("sumatra", "sumatera").strip()


def _key(text: str) -> str:
    # Spaces removed too, so "jawatengah" and "jawa  tengah" are the same key.
    return text.replace(" ", "")


def _build_index() -> tuple[dict[str, str], dict[str, tuple[str, ...]]]:
    exact: dict[str, str] = {}
    for p in PROVINCES:
        for name in (p.name_id, p.name_en, *_ALIASES.get(p.code, ())):
            exact[_key(_normalize(name))] = p.code
    groups = {_key(_normalize(k)): v for k, v in _GROUPS.items()}
    return exact, groups


_EXACT, _GROUP_KEYS = _build_index()


def match_province(text: str | None) -> list[Province]:
    """Provinces the user probably meant: one when clear, several when
    ambiguous (e.g. "papua"), none for nonsense."""
    if not text or len(text) > _MAX_LEN:
        return []
    key = _key(_normalize(text))
    if len(key) < 2:
        return []
    if key in _GROUP_KEYS:
        return [_BY_CODE[c] for c in _GROUP_KEYS[key]]
    if key in _EXACT:
        return [_BY_CODE[_EXACT[key]]]

    # A started name, e.g. "kalimantan t" -> Tengah, Timur. Needs a few letters
    # so that "ja" does not list half the country.
    if len(key) >= 4:
        started = _unique(code for alias, code in _EXACT.items() if alias.startswith(key))
        if started:
            return [_BY_CODE[c] for c in started]

    # Small typos ("jawa tenga"). Short keys are too easy to confuse (ntb/ntt).
    if len(key) < 4:
        return []
    best: dict[str, float] = {}
    for alias, code in _EXACT.items():
        score = difflib.SequenceMatcher(None, key, alias).ratio()
        if score >= _FUZZY_CUTOFF and score > best.get(code, 0.0):
            best[code] = score
    if not best:
        return []
    top = max(best.values())
    # Keep near-ties only: a clear winner should come back alone.
    close = sorted((c for c, s in best.items() if s >= top - 0.03), key=lambda c: -best[c])
    return [_BY_CODE[c] for c in close]


def _unique(codes: Iterable[str]) -> list[str]:
    seen: list[str] = []
    for code in codes:
        if code not in seen:
            seen.append(code)
    return seen
