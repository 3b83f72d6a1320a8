"""Numbers typed in chat, read the Indonesian way: "1.250" is 1250, "2,5" is 2.5.

`read_number` returns (result, None) or (None, error key), like domain/text_input.py; the
caller turns the key into a translated re-ask message, so the keys are part of the API. The
result is a `Number`, or an `Ambiguous` when "1,250" could be 1,25 (Indonesian decimal comma)
or 1250 (English thousands): the caller asks which was meant, then checks the chosen reading
with `check_whole` when a whole number is wanted. Ranges ("at most the headcount") are the
caller's.

Babel's strict parser checks the grouping ("1.25" and "12.50" are refused, not guessed at);
the shape check in front of it refuses what strict mode lets through and a person never means:
"NaN", "Infinity", "1e3", "1_000", other scripts' digits, a bare ",5".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from babel.numbers import NumberFormatError, format_decimal, format_percent, parse_decimal

EMPTY = "empty"
TOO_LONG = "too_long"
NOT_A_NUMBER = "not_a_number"
NEGATIVE = "negative"
NOT_WHOLE = "not_whole"
PERCENT_NOT_ALLOWED = "percent_not_allowed"
PERCENT_OVER_100 = "percent_over_100"
TOO_MANY_DECIMALS = "too_many_decimals"
# Decimals a number may have: fewer than the survey's columns keep exactly on both databases
# (NUMERIC(20, 6) would round "0,0000004" kWh to 0), and enough for a defect rate of
# "0,125%".
MAX_DECIMALS = 3

# Longer than any number a report needs, with a word or two around it.
MAX_LENGTH = 40


@dataclass(frozen=True)
class Number:
    value: Decimal
    # Typed with a % sign (or "persen"): value is then 12.5 for "12,5%", not 0.125.
    percent: bool = False


@dataclass(frozen=True)
class Ambiguous:
    decimal_comma: Decimal  # "1,250" read the Indonesian way: 1.25
    thousands: Decimal  # read the English way: 1250


# Words people put around a number in chat ("sekitar 150", "120 orang", "± 80"): the number
# is read, the words are not (an approximate answer is still the answer given).
_ABOUT = re.compile(r"^(?:sekitar|kurang lebih|kira-kira|kira kira|kurleb|approx\.?|"
                    r"approximately|about|around|roughly|±|\+/-|~|ca\.?)\s*", re.IGNORECASE)

_PEOPLE = ("orang", "org", "pekerja", "karyawan", "buruh", "people", "persons", "workers",
           "employees", "staff")
# What the monthly report counts: days, hours, units produced, claims, accidents, kWh.
_COUNTED = ("hari kerja", "hari", "days", "day", "jam kerja", "jam", "hours", "hour", "hrs",
            "kwh", "pcs", "pc", "pieces", "piece", "buah", "units", "unit", "sets", "set",
            "pasang", "pairs", "lembar", "lusin", "kodi", "kg", "kilogram", "ton", "liter",
            "kali", "times", "kasus", "cases", "klaim", "claims", "kecelakaan", "accidents",
            "usulan", "ide", "suggestions", "ideas")


def _unit_pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    # Longest first, so "pcs" is not read as "pc" followed by a stray "s".
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"\s*(?:{alternatives})\.?$", re.IGNORECASE)


# The enrolment asks for a headcount, so only words for people go with it there.
PEOPLE_UNITS = _unit_pattern(_PEOPLE)
SURVEY_UNITS = _unit_pattern(_PEOPLE + _COUNTED)

_PERCENT = re.compile(r"\s*(?:%|persen|percent)$", re.IGNORECASE)


def without_words(value: str, units: re.Pattern[str] = SURVEY_UNITS) -> str:
    """`value` without a leading "about" and a trailing unit (one of `units`)."""
    return units.sub("", _ABOUT.sub("", value)).strip()


_MINUS = re.compile(r"^[-\u2212]\s*")
# ASCII digits and separators only, a digit at both ends; Babel judges the grouping.
_SHAPE = re.compile(r"\d(?:[\d.,]*\d)?", re.ASCII)
# "1 250" and "1 250,5": thousands grouped by spaces, as some phones and forms write them.
_SPACE_GROUPED = re.compile(r"\d{1,3}(?: \d{3})+(?:,\d+)?", re.ASCII)
# "1,250": one comma and exactly three digits, no dot, not starting with 0 ("0,250" is only 0,25).
_COMMA_THREE = re.compile(r"[1-9]\d{0,2},\d{3}", re.ASCII)


def _parse(body: str) -> Decimal | None:
    if _SPACE_GROUPED.fullmatch(body):
        body = body.replace(" ", ".")
    if not _SHAPE.fullmatch(body):
        return None
    try:
        return parse_decimal(body, locale="id", strict=True)
    except NumberFormatError:
        pass
    # Not Indonesian notation, but English notation without doubt ("2.5", "25,400.5",
    # "1,250,000"): as the bot itself writes numbers to those who chose English. Where both
    # readings exist ("1.250"), the Indonesian one is taken, as above.
    try:
        return parse_decimal(body, locale="en", strict=True)
    except NumberFormatError:
        return None


def read_number(text: str | None, *, whole: bool, percent_allowed: bool = False
                ) -> tuple[Number | Ambiguous | None, str | None]:
    """The number typed in `text`, or the reason it is not one that fits.

    With `whole`, a fraction is refused (NOT_WHOLE), except after a % sign, which asks for
    a share. A percentage is accepted only with `percent_allowed`, from 0 to 100.
    """
    # Any whitespace run (incl. non-breaking spaces) counts as one space.
    value = " ".join((text or "").split())
    if not value:
        return None, EMPTY
    if len(value) > MAX_LENGTH:
        return None, TOO_LONG
    value = without_words(value)
    percent_match = _PERCENT.search(value)
    percent = percent_match is not None
    if percent_match:
        value = value[:percent_match.start()]
    minus_match = _MINUS.match(value)
    body = value[minus_match.end():] if minus_match else value
    number = _parse(body)
    if number is None:
        return None, NOT_A_NUMBER
    if minus_match and number != 0:
        return None, NEGATIVE
    exponent = number.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -MAX_DECIMALS:
        # Stored as shown, or not at all: never rounded away after the person confirmed it.
        return None, TOO_MANY_DECIMALS
    if percent:
        if not percent_allowed:
            return None, PERCENT_NOT_ALLOWED
        # A share has one comma at most, so "1,250%" is 1,25%: 1250% is no share.
        if number > 100:
            return None, PERCENT_OVER_100
        return Number(number, percent=True), None
    if _COMMA_THREE.fullmatch(body):
        return Ambiguous(decimal_comma=number, thousands=Decimal(body.replace(",", ""))), None
    if whole:
        return check_whole(number)
    return Number(number), None


def check_whole(value: Decimal) -> tuple[Number | None, str | None]:
    """`value` as a whole Number ("2,0" is 2), or NOT_WHOLE: for the reading chosen after an
    Ambiguous answer."""
    if value != value.to_integral_value():
        return None, NOT_WHOLE
    return Number(Decimal(int(value))), None


def format_number(value: Decimal, locale: str, *, percent: bool = False) -> str:
    """`value` as it is written in `locale` ("1.250,5" / "1,250.5"), every decimal kept;
    with `percent`, a share typed as 12.5 shows as "12,5%" / "12.5%"."""
    if percent:
        return format_percent(value / 100, locale=locale, decimal_quantization=False)
    return format_decimal(value, locale=locale, decimal_quantization=False)
