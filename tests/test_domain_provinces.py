from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from domain.provinces import PROVINCES, Province, by_code, match_province


def codes(text: str) -> list[str]:
    return [p.code for p in match_province(text)]


def test_all_38_provinces_with_unique_codes_and_names() -> None:
    assert len(PROVINCES) == 38
    assert len({p.code for p in PROVINCES}) == 38
    assert len({p.name_id for p in PROVINCES}) == 38
    assert len({p.name_en for p in PROVINCES}) == 38
    for new in ("PS", "PT", "PE", "PD"):
        assert by_code(new) is not None


def test_timezones_are_valid_and_split_by_region() -> None:
    for p in PROVINCES:
        ZoneInfo(p.timezone)  # raises if unknown
    tz = {p.code: p.timezone for p in PROVINCES}
    assert tz["JT"] == tz["KB"] == tz["KT"] == tz["AC"] == "Asia/Jakarta"
    assert tz["BA"] == tz["KS"] == tz["KI"] == tz["SN"] == tz["NT"] == "Asia/Makassar"
    assert tz["MA"] == tz["MU"] == tz["PS"] == tz["PA"] == "Asia/Jayapura"


def test_by_code_and_localized_name() -> None:
    jt = by_code("jt")
    assert jt == Province("JT", "Jawa Tengah", "Central Java", "Asia/Jakarta")
    assert jt.name("id") == "Jawa Tengah"
    assert jt.name("en") == "Central Java"
    assert jt.name("en_US") == "Central Java"
    assert by_code("XX") is None
    assert by_code("") is None


def test_java_comes_first() -> None:
    assert [p.code for p in PROVINCES[:6]] == ["JK", "JB", "JT", "YO", "JI", "BT"]


@pytest.mark.parametrize(
    "text",
    ["jateng", "Jawa Tengah", "central java", "JAWA-TENGAH", "Provinsi Jawa Tengah",
     "Prov. Jateng", "Central Java Province", "jawatengah"],
)
def test_central_java_spellings(text: str) -> None:
    assert codes(text) == ["JT"]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("jabar", "JB"), ("jatim", "JI"), ("DKI", "JK"), ("jakarta", "JK"), ("DKI Jakarta", "JK"),
        ("diy", "YO"), ("jogja", "YO"), ("yogyakarta", "YO"), ("D.I. Yogyakarta", "YO"),
        ("kaltim", "KI"), ("east kalimantan", "KI"), ("sulsel", "SN"), ("south sulawesi", "SN"),
        ("ntb", "NB"), ("NTT", "NT"), ("babel", "BB"), ("kepri", "KR"), ("sumut", "SU"),
        ("north sumatra", "SU"), ("Sumatera Utara", "SU"), ("sumsel", "SS"), ("sumbar", "SB"),
        ("kalbar", "KB"), ("kalteng", "KT"), ("kalsel", "KS"), ("kalut", "KU"), ("kaltara", "KU"),
        ("sulut", "SA"), ("sulteng", "ST"), ("sultra", "SG"), ("sulbar", "SR"), ("malut", "MU"),
        ("papua barat", "PB"), ("west papua", "PB"), ("Papua Barat Daya", "PD"),
        ("papua selatan", "PS"), ("Highland Papua", "PE"), ("bali", "BA"), ("riau", "RI"),
        ("maluku", "MA"), ("banten", "BT"), ("aceh", "AC"),
    ],
)
def test_informal_names_and_abbreviations(text: str, code: str) -> None:
    assert codes(text) == [code]


def test_every_official_name_matches_itself() -> None:
    ambiguous_on_purpose = {"PA"}  # "Papua" is also the name of the region
    for p in PROVINCES:
        if p.code in ambiguous_on_purpose:
            continue
        assert codes(p.name_id) == [p.code]
        assert codes(p.name_en) == [p.code]


def test_papua_is_ambiguous_with_papua_first() -> None:
    result = codes("papua")
    assert result[0] == "PA"
    assert set(result) == {"PA", "PB", "PD", "PT", "PE", "PS"}
    assert codes("Provinsi Papua") == result


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("jawa", {"JB", "JT", "JI"}),
        ("Java", {"JB", "JT", "JI"}),
        ("kalimantan", {"KB", "KT", "KS", "KI", "KU"}),
        ("sulawesi", {"SA", "ST", "SR", "SN", "SG"}),
        ("sumatra", {"SU", "SB", "SS"}),
        ("kalimantan t", {"KT", "KI"}),
    ],
)
def test_region_names_give_several_candidates(text: str, expected: set[str]) -> None:
    assert set(codes(text)) == expected


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("jawa tenga", "JT"), ("jawa tengha", "JT"), ("jatneg", "JT"), ("centrl java", "JT"),
        ("jwa timur", "JI"), ("kalimantan timr", "KI"), ("yogyakrta", "YO"),
        ("sulawesi selatn", "SN"), ("papua bart daya", "PD"),
    ],
)
def test_small_typos_are_tolerated(text: str, code: str) -> None:
    assert codes(text) == [code]


@pytest.mark.parametrize(
    "text",
    ["", "   ", "?!", "asdfgh", "semarang", "x", "ja", "bal", "1 OR 1=1",
     "'; DROP TABLE provinces;--", "<script>alert(1)</script>", "jateng " * 20],
)
def test_nonsense_matches_nothing(text: str) -> None:
    assert match_province(text) == []
