from __future__ import annotations

from decimal import Decimal

import pytest

from domain import numbers
from domain.numbers import (
    EMPTY,
    NEGATIVE,
    NOT_A_NUMBER,
    NOT_WHOLE,
    PERCENT_NOT_ALLOWED,
    PERCENT_OVER_100,
    TOO_LONG,
    Ambiguous,
    Number,
    check_whole,
    format_number,
    read_number,
)


@pytest.mark.parametrize(("text", "value"), [
    ("1.250", "1250"), ("2,5", "2.5"), ("1.250,5", "1250.5"), ("1250", "1250"),
    ("1 250", "1250"), ("1\u00a0250", "1250"), ("1 250,5", "1250.5"), ("  42 ", "42"),
    ("0", "0"), ("0,5", "0.5"), ("0,250", "0.25"), ("1.250.000", "1250000"),
    ("12,50", "12.5"), ("007", "7"), ("-0", "0"),
])
def test_indonesian_notation(text: str, value: str) -> None:
    assert read_number(text, whole=False) == (Number(Decimal(value)), None)


@pytest.mark.parametrize(("text", "value"), [
    ("120 orang", "120"), ("sekitar 120 orang", "120"), ("± 5 kg", "5"),
    ("1.250 kWh", "1250"), ("1.250,5 KWH", "1250.5"), ("300 pcs", "300"), ("12 hari", "12"),
    ("kurang lebih 40 jam", "40"), ("about 90 workers", "90"), ("~75", "75"),
    ("2 klaim", "2"), ("1 set", "1"), ("12hari", "12"),
])
def test_numbers_with_words(text: str, value: str) -> None:
    assert read_number(text, whole=False) == (Number(Decimal(value)), None)


# The bot writes numbers to English readers in English notation: read back where there is no
# Indonesian reading. "1.250" has one (1250), and keeps it.
@pytest.mark.parametrize(("text", "value"), [
    ("1.25", "1.25"), ("12.50", "12.5"), ("2.5", "2.5"), ("1,250.5", "1250.5"),
    ("1,250,000", "1250000"), ("25,400.5 kWh", "25400.5"), ("1.250", "1250"),
])
def test_english_notation_where_it_cannot_be_indonesian(text: str, value: str) -> None:
    assert read_number(text, whole=False) == (Number(Decimal(value)), None)


@pytest.mark.parametrize("text", [
    "NaN", "nan", "Infinity", "inf", "1e3", "1E3", "1_000", "+5", "5-", "--5",
    "1.2.3", ",5", "5,", "1.250,", "١٢", "abc", "sepuluh", "1,25.0", "1.25,000",
    "Rp 1.000", "120 kucing", "orang", "sekitar", "1 2", "1 25", "1 250.000", "12a",
])
def test_not_a_number(text: str) -> None:
    assert read_number(text, whole=False, percent_allowed=True) == (None, NOT_A_NUMBER)


@pytest.mark.parametrize("text", [None, "", "   ", "\n\t"])
def test_empty(text: str | None) -> None:
    assert read_number(text, whole=True) == (None, EMPTY)


def test_too_long_is_counted_after_trimming() -> None:
    assert read_number("1" * 41, whole=True) == (None, TOO_LONG)
    assert read_number("  " + "1" * 40 + "  ", whole=True) == (Number(Decimal("1" * 40)), None)


@pytest.mark.parametrize("text", ["-5", "- 5", "\u22125", "-2,5", "-1,250", "-12%"])
def test_negative(text: str) -> None:
    assert read_number(text, whole=False, percent_allowed=True) == (None, NEGATIVE)


def test_whole() -> None:
    assert read_number("2,5", whole=True) == (None, NOT_WHOLE)
    assert read_number("1.250,5", whole=True) == (None, NOT_WHOLE)
    assert read_number("2,0", whole=True) == (Number(Decimal(2)), None)
    assert read_number("1.250", whole=True) == (Number(Decimal(1250)), None)


@pytest.mark.parametrize("whole", [True, False])
def test_comma_and_three_digits_is_ambiguous(whole: bool) -> None:
    assert read_number("1,250", whole=whole) == (
        Ambiguous(decimal_comma=Decimal("1.25"), thousands=Decimal(1250)), None)
    assert read_number("sekitar 12,500 pcs", whole=whole) == (
        Ambiguous(decimal_comma=Decimal("12.5"), thousands=Decimal(12500)), None)
    assert read_number("1,000", whole=whole) == (
        Ambiguous(decimal_comma=Decimal(1), thousands=Decimal(1000)), None)


def test_check_whole_after_choosing_a_reading() -> None:
    answer, _ = read_number("1,250", whole=True)
    assert isinstance(answer, Ambiguous)
    assert check_whole(answer.thousands) == (Number(Decimal(1250)), None)
    assert check_whole(answer.decimal_comma) == (None, NOT_WHOLE)


@pytest.mark.parametrize("text", ["1234,567", "0,250", "1,25", "1,2500"])
def test_not_ambiguous_when_english_grouping_cannot_be_meant(text: str) -> None:
    answer, error = read_number(text, whole=False)
    assert error is None and isinstance(answer, Number)


@pytest.mark.parametrize(("text", "value"), [
    ("12,5%", "12.5"), ("12,5 %", "12.5"), ("12,5 persen", "12.5"), ("100%", "100"),
    ("0%", "0"), ("sekitar 3%", "3"), ("1,250%", "1.25"),
])
def test_percent(text: str, value: str) -> None:
    expected = (Number(Decimal(value), percent=True), None)
    assert read_number(text, whole=False, percent_allowed=True) == expected
    # A share need not be whole even where the count must be.
    assert read_number(text, whole=True, percent_allowed=True) == expected


def test_percent_refused() -> None:
    assert read_number("12,5%", whole=False) == (None, PERCENT_NOT_ALLOWED)
    assert read_number("150%", whole=False, percent_allowed=True) == (None, PERCENT_OVER_100)
    assert read_number("1.250%", whole=False, percent_allowed=True) == (None, PERCENT_OVER_100)
    assert read_number("abc%", whole=False, percent_allowed=True) == (None, NOT_A_NUMBER)


@pytest.mark.parametrize(("value", "locale", "shown"), [
    ("1250.5", "id", "1.250,5"), ("1250.5", "en", "1,250.5"),
    ("1250", "id", "1.250"), ("1250", "en", "1,250"),
    ("0.125", "id", "0,125"), ("2.12345", "en", "2.12345"),
])
def test_format_number(value: str, locale: str, shown: str) -> None:
    assert format_number(Decimal(value), locale) == shown


def test_format_percent() -> None:
    assert format_number(Decimal("12.5"), "id", percent=True) == "12,5%"
    assert format_number(Decimal("12.5"), "en", percent=True) == "12.5%"


def test_formatted_numbers_read_back() -> None:
    for value in ("1250.5", "1250000", "0.25", "7"):
        shown = format_number(Decimal(value), "id")
        assert read_number(shown, whole=False) == (Number(Decimal(value)), None)


@pytest.mark.parametrize(("text", "error"), [
    ("0,0000004", numbers.TOO_MANY_DECIMALS), ("1,2345", numbers.TOO_MANY_DECIMALS),
    ("0,1255%", numbers.TOO_MANY_DECIMALS), ("0,125%", None), ("1.250,75", None),
    ("2,500", None),  # 2,5 or 2500: asked which (Ambiguous), never refused
])
def test_more_decimals_than_are_kept_are_refused(text: str, error: str | None) -> None:
    assert numbers.read_number(text, whole=False, percent_allowed=True)[1] == error
