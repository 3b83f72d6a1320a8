"""A KPI report's answers (domain/questionnaires/kpi.toml) as the inputs of domain/kpi.py."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from domain.kpi import KpiInputs
from domain.questionnaire import Answer


def _number(answers: Mapping[str, Answer], key: str) -> Decimal | None:
    answer = answers.get(key)
    if answer is None or answer.skipped:
        return None
    return answer.number


def kpi_inputs(answers: Mapping[str, Answer]) -> KpiInputs:
    """Skipped ("not recorded") and missing answers are None. Days lost to accidents are
    asked only after an accident: with none, none were lost."""
    accidents = _number(answers, "lost_time_accidents")
    days_lost = _number(answers, "accident_days_lost")
    if accidents == 0 and days_lost is None:
        days_lost = Decimal(0)
    rejected = answers.get("units_rejected")
    return KpiInputs(
        headcount=_number(answers, "headcount"),
        women=_number(answers, "women"),
        workdays=_number(answers, "workdays"),
        days_absent=_number(answers, "days_absent"),
        hours_worked=_number(answers, "hours_worked"),
        left_resigned=_number(answers, "left_resigned"),
        left_contract_ended=_number(answers, "left_contract_ended"),
        left_dismissed=_number(answers, "left_dismissed"),
        units_produced=_number(answers, "units_produced"),
        units_rejected=_number(answers, "units_rejected"),
        reject_is_percent=bool(rejected is not None and rejected.percent),
        customer_claims=_number(answers, "customer_claims"),
        lost_time_accidents=accidents,
        accident_days_lost=days_lost,
        fatal_accidents=_number(answers, "fatal_accidents"),
        suggestions_implemented=_number(answers, "suggestions_implemented"),
        electricity_kwh=_number(answers, "electricity_kwh"),
    )
