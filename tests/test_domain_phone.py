from __future__ import annotations

import pytest

from domain.phone import is_mobile, mask_phone, normalize_phone


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("+62 812-3456-7890", "+6281234567890"),
        ("0812 3456 7890", "+6281234567890"),
        ("6281234567890", "+6281234567890"),
        ("0812.3456.7890", "+6281234567890"),
        ("0062 812 3456 7890", "+6281234567890"),
        ("+62 (0)812 3456 7890", "+6281234567890"),
        ("812 3456 7890", "+6281234567890"),
        (" 0811-123456 ", "+62811123456"),
        ("(021) 555-1234", "+62215551234"),
        ("(0274) 512 345", "+62274512345"),
        ("+62 21 5551 2345", "+622155512345"),
    ],
)
def test_valid_numbers_become_e164(text: str, expected: str) -> None:
    assert normalize_phone(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        None, "", "+62", "0812", "0812 345", "0812 3456 7890 123",  # too short / too long
        "+1 555 123 4567", "001 555 1234567", "+44 20 7946 0958",  # other countries
        "0812-3456-789O", "0812 3456 7890 ext 1", "abc", "nomor saya 0812",  # letters
        "0012345678", "0123 456 789", "5551234567",  # no valid prefix
        "+62+62 812 3456 7890",
    ],
)
def test_invalid_numbers_are_rejected(text: str | None) -> None:
    assert normalize_phone(text) is None


def test_is_mobile() -> None:
    assert is_mobile("+6281234567890")
    assert not is_mobile("+62215551234")


def test_mask_phone() -> None:
    assert mask_phone("+6281234567890") == "+62812****890"
    assert mask_phone("0812 3456 7890") == "+62812****890"
    assert mask_phone("+62215551234") == "+62215****234"
    assert mask_phone("12345") == "****"
    assert mask_phone("") == ""
    # Never reveals the middle digits.
    assert "34567" not in mask_phone("+6281234567890")
