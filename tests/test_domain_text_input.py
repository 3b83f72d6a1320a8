from __future__ import annotations

import pytest

from domain.text_input import NOT_A_NUMBER, clean_name, parse_whole_number, tidy_place


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("PT Maju Jaya", "PT Maju Jaya"),
        ("  PT   Maju\n\tJaya  ", "PT Maju Jaya"),
        ("CV. Sinar-Abadi (Persero)", "CV. Sinar-Abadi (Persero)"),
        ("PT Maju & Sejahtera", "PT Maju & Sejahtera"),
        ("Jum'at Mebel", "Jum'at Mebel"),
        ("Toko 'Maju' and Sons", "Toko 'Maju' and Sons"),
        ("Toko Update Jaya", "Toko Update Jaya"),
        ("Ibu Siti 🙂", "Ibu Siti 🙂"),
        ("Bu\u200bdi", "Budi"),  # zero-width space removed
        ("株式会社", "株式会社"),
    ],
)
def test_clean_name_accepts(text: str, expected: str) -> None:
    assert clean_name(text) == (expected, None)


@pytest.mark.parametrize(
    ("text", "error"),
    [
        (None, "empty"),
        ("", "empty"),
        ("  \n ", "empty"),
        ("\u200b", "empty"),
        ("🙂🙂", "no_letters"),
        ("!!!", "no_letters"),
        ("12345", "no_letters"),
        ("'; DROP TABLE users;--", "looks_like_code"),
        ("1 OR 1=1", "looks_like_code"),
        ("' or 'a'='a", "looks_like_code"),
        ("<script>alert(1)</script>", "looks_like_code"),
        ("<img src=x onerror=alert(1)>", "looks_like_code"),
        ("x UNION SELECT password", "looks_like_code"),
    ],
)
def test_clean_name_rejects(text: str | None, error: str) -> None:
    assert clean_name(text) == (None, error)


def test_clean_name_length_is_checked_after_collapsing() -> None:
    assert clean_name("a" * 200) == ("a" * 200, None)
    assert clean_name("a" * 201) == (None, "too_long")
    assert clean_name("ab" + " " * 300 + "cd", max_len=10) == ("ab cd", None)
    assert clean_name("abcdef", max_len=5) == (None, "too_long")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12", 12), (" 42 ", 42), ("0", 0), ("1200", 1200),
        ("1.200", 1200), ("1,200", 1200), ("1 200", 1200), ("1\u00a0200", 1200),
        ("1.200.000", 1_200_000), ("+5", 5),
    ],
)
def test_parse_whole_number_accepts(text: str, expected: int) -> None:
    assert parse_whole_number(text, lo=0, hi=10_000_000) == (expected, None)


@pytest.mark.parametrize(
    "text",
    [None, "", "sepuluh", "10.5", "abc", "1,5", "1.2.3", "1.200,50", "12a", "1.20", "1200.000",
     "1,200.000", "١٢"],
)
def test_parse_whole_number_not_a_number(text: str | None) -> None:
    assert parse_whole_number(text, lo=0, hi=10_000_000) == (None, "not_a_number")


def test_parse_whole_number_range() -> None:
    assert parse_whole_number("-3", lo=0, hi=100) == (None, "out_of_range")
    assert parse_whole_number("101", lo=0, hi=100) == (None, "out_of_range")
    assert parse_whole_number("100", lo=0, hi=100) == (100, None)
    assert parse_whole_number("1", lo=1, hi=1) == (1, None)


@pytest.mark.parametrize("text, expected", [
    ("120 orang", 120), ("sekitar 150", 150), ("± 80", 80), ("kurang lebih 1.200 karyawan", 1200),
    ("about 90 workers", 90), ("~75", 75), ("SEKITAR 60 ORANG", 60),
])
def test_parse_whole_number_reads_numbers_with_words(text: str, expected: int) -> None:
    assert parse_whole_number(text, lo=0, hi=10_000_000) == (expected, None)


@pytest.mark.parametrize("text", ["orang", "sekitar", "seratus orang", "120 kucing"])
def test_parse_whole_number_words_alone_are_not_numbers(text: str) -> None:
    assert parse_whole_number(text, lo=0, hi=10_000_000) == (None, NOT_A_NUMBER)


@pytest.mark.parametrize("typed, tidy", [
    ("semarang", "Semarang"), ("KOTA SEMARANG", "Kota Semarang"), ("DKI Jakarta", "DKI Jakarta"),
    ("kab. bekasi", "Kab. Bekasi"), ("Tanjung Priok", "Tanjung Priok"),
    ("pangkalpinang", "Pangkalpinang"),
])
def test_tidy_place(typed: str, tidy: str) -> None:
    assert tidy_place(typed) == tidy
