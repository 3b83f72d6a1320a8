"""The survey definitions (domain/questionnaires/*.toml) and the rules that run them."""

from __future__ import annotations

import copy
import tomllib
from decimal import Decimal
from importlib import resources
from typing import Any

import pytest

from chat.i18n import LOCALES
from domain.questionnaire import (
    ABOVE_OTHER,
    LANGUAGES,
    NAMES,
    TOO_BIG,
    Answer,
    DefinitionError,
    bound,
    check_number,
    load,
    parse,
)


def raw(name: str) -> dict[str, Any]:
    source = resources.files("domain").joinpath("questionnaires", f"{name}.toml")
    return tomllib.loads(source.read_text(encoding="utf-8"))


def test_the_definitions_speak_every_language_of_the_bot() -> None:
    assert set(LANGUAGES) == set(LOCALES)
    for name in NAMES:
        questionnaire = load(name)
        for question in questionnaire.questions:
            for language in LOCALES:
                assert "{month}" in question.text[language], (name, question.key)
                assert question.label[language].strip()
                for choice in question.choices:
                    assert choice.text[language].strip()


def test_both_questionnaires_of_the_product() -> None:
    kpi, pulse = load("kpi"), load("pulse")
    assert kpi.skip["id"] == "Tidak dicatat" and pulse.skip["id"] == "Tidak ingin menjawab"
    assert len(kpi.questions) == 16 and len(pulse.questions) == 6
    # Every KPI item but the headcount may be "not recorded"; every pulse question skipped.
    assert [q.key for q in kpi.questions if not q.optional] == ["headcount"]
    assert all(q.optional for q in pulse.questions)
    assert kpi.subject == "enterprise" and pulse.subject == "worker"
    assert kpi.confirm and not pulse.confirm
    assert kpi.respondents == {"owner", "admin", "trainer"} and pulse.respondents == {"worker"}
    assert kpi.baseline == {"owner", "trainer"} and not pulse.baseline
    assert pulse.intro is not None and "lima" in pulse.intro["id"]


@pytest.mark.parametrize("language", ["id", "en"])
def test_a_question_without_a_language_does_not_load(language: str) -> None:
    definition = raw("pulse")
    del definition["questions"][2]["text"][language]
    with pytest.raises(DefinitionError, match=f"ppe_available text: no text in '{language}'"):
        parse(definition, "pulse")


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d["questions"][0]["text"].update(id="Berapa pekerja?"), "does not name the month"),
    (lambda d: d["questions"][1].update(at_most=["units_produced"]), "not an earlier number"),
    (lambda d: d["questions"][1].update(type="float"), "unknown type"),
    (lambda d: d["questions"][1].update(key="headcount"), "repeated key"),
    (lambda d: d["questions"][12].update(ask_if={"key": "nothing", "above": 0}),
     "names no earlier question"),
    (lambda d: d["questions"][0]["label"].pop("en"), "no text in 'en'"),
    (lambda d: d.pop("respondents"), "nobody answers it"),
    (lambda d: d.update(respondents=["boss"]), "roles are"),
])
def test_a_broken_definition_does_not_load(change: Any, message: str) -> None:
    definition = copy.deepcopy(raw("kpi"))
    change(definition)
    with pytest.raises(DefinitionError, match=message):
        parse(definition, "kpi")


def test_next_question_and_the_count_follow_the_answers() -> None:
    pulse = load("pulse")
    answers: dict[str, Answer] = {}
    assert pulse.next_question(answers).key == "supervisor_listens"  # type: ignore[union-attr]
    first = pulse.questions[0]
    assert pulse.position(first, answers) == (1, 6)
    for key in ("supervisor_listens", "feel_safe", "ppe_available"):
        answers[key] = Answer(choice="x")
    answers["made_suggestion"] = Answer(choice="no")
    assert pulse.next_question(answers).key == "saw_incident"  # type: ignore[union-attr]
    assert pulse.position(pulse.by_key["saw_incident"], answers) == (5, 5)
    answers["made_suggestion"] = Answer(skipped=True)  # "prefer not": no follow-up either
    assert pulse.next_question(answers).key == "saw_incident"  # type: ignore[union-attr]
    answers["made_suggestion"] = Answer(choice="yes")
    assert pulse.next_question(answers).key == "suggestion_followed"  # type: ignore[union-attr]
    # A follow-up answered under a yes that became a no is not kept.
    answers["suggestion_followed"] = Answer(choice="implemented")
    answers["made_suggestion"] = Answer(choice="no")
    assert "suggestion_followed" not in pulse.kept(answers)


def test_at_most_is_the_product_of_earlier_answers_and_constants() -> None:
    kpi = load("kpi")
    days = kpi.by_key["days_absent"]
    hours = kpi.by_key["hours_worked"]
    answers = {"headcount": Answer(number=Decimal(10)), "workdays": Answer(number=Decimal(20))}
    assert bound(days, answers) == 200
    assert bound(hours, answers) == 7440
    assert check_number(days, Decimal(201), percent=False, answers=answers) == ABOVE_OTHER
    assert check_number(days, Decimal(200), percent=False, answers=answers) is None
    # A factor not recorded: nothing is refused on a guess.
    answers["workdays"] = Answer(skipped=True)
    assert bound(days, answers) is None
    assert check_number(days, Decimal(10_000), percent=False, answers=answers) is None
    assert check_number(kpi.by_key["workdays"], Decimal(32), percent=False,
                        answers=answers) == TOO_BIG
