from __future__ import annotations

import re

import pytest

from domain.join_codes import (
    ADMIN_PREFIX,
    ALPHABET,
    CODE_LENGTH,
    JOIN_PREFIX,
    admin_deep_link,
    deep_link,
    new_invite_token,
    new_join_code,
    normalize_code,
    parse_start_payload,
)


def test_alphabet_has_no_look_alikes() -> None:
    assert not set("0O1IL") & set(ALPHABET)
    assert ALPHABET == ALPHABET.upper()
    assert len(set(ALPHABET)) == len(ALPHABET) == 31


def test_new_join_code_shape_and_randomness() -> None:
    codes = {new_join_code() for _ in range(200)}
    assert len(codes) == 200  # collisions at 31**6 would be a red flag
    for code in codes:
        assert len(code) == CODE_LENGTH
        assert set(code) <= set(ALPHABET)
    assert len(new_join_code(8)) == 8
    with pytest.raises(ValueError):
        new_join_code(2)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("ABC234", "ABC234"), ("abc234", "ABC234"), ("  abc 234 ", "ABC234"), ("ABC-234", "ABC234")],
)
def test_normalize_code_accepts_user_variants(text: str, expected: str) -> None:
    assert normalize_code(text) == expected


@pytest.mark.parametrize(
    "text",
    [None, "", "ABC23", "ABC2345", "ABC10O", "ABCIL2", "ABC_23", "ÄBC234", "ABC23!", "ABC2ß"],
)
def test_normalize_code_rejects(text: str | None) -> None:
    assert normalize_code(text) is None


def test_normalize_code_other_lengths() -> None:
    assert normalize_code("ABCD2345", length=8) == "ABCD2345"
    assert normalize_code("ABCD2345", length=None) == "ABCD2345"
    assert normalize_code("ABC", length=None) is None


def test_deep_link() -> None:
    assert deep_link("ScoreBot", "abc234") == "https://t.me/ScoreBot?start=join-ABC234"
    assert deep_link("@ScoreBot", "ABC234") == "https://t.me/ScoreBot?start=join-ABC234"
    with pytest.raises(ValueError):
        deep_link("ScoreBot", "ABC10O")
    with pytest.raises(ValueError):
        deep_link("bad name!", "ABC234")


def test_invite_token_fits_start_payload() -> None:
    tokens = {new_invite_token() for _ in range(50)}
    assert len(tokens) == 50
    for token in tokens:
        assert len(token) >= 16
        payload = ADMIN_PREFIX + token
        assert re.fullmatch(r"[A-Za-z0-9_-]{1,64}", payload)
        assert parse_start_payload(payload) == ("admin", token)
    token = tokens.pop()
    assert admin_deep_link("ScoreBot", token) == f"https://t.me/ScoreBot?start=admin-{token}"


def test_parse_start_payload_round_trips_deep_link() -> None:
    code = new_join_code()
    payload = deep_link("ScoreBot", code).split("?start=", 1)[1]
    assert payload == JOIN_PREFIX + code
    assert parse_start_payload(payload) == ("join", code)


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ("join-abc234", ("join", "ABC234")),
        ("JOIN-ABC234", ("join", "ABC234")),
        ("join-ABCD2345", ("join", "ABCD2345")),  # other lengths stay valid
        ("admin-AbC_dEf-0123456789xyz", ("admin", "AbC_dEf-0123456789xyz")),  # case kept
    ],
)
def test_parse_start_payload(payload: str, expected: tuple[str, str]) -> None:
    assert parse_start_payload(payload) == expected


@pytest.mark.parametrize(
    "payload",
    [None, "", "join", "join-", "join-ABC10O", "join-ABC234!", "admin-short", "admin-",
     "other-ABC234", "ABC234", "join-" + "A" * 60, "x" * 65, "join ABC234"],
)
def test_parse_start_payload_rejects(payload: str | None) -> None:
    assert parse_start_payload(payload) is None
