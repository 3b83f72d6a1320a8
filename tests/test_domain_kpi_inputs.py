"""A KPI report's answers as the inputs of the rates (domain/kpi.inputs_from)."""

from __future__ import annotations

from decimal import Decimal

from domain.kpi import inputs_from, rates
from domain.questionnaire import Answer

D = Decimal


def test_answers_become_rates() -> None:
    answers = {"headcount": Answer(number=D(100)), "units_produced": Answer(number=D(1000)),
               "units_rejected": Answer(number=D("2.5"), percent=True),
               "workdays": Answer(number=D(20)), "days_absent": Answer(skipped=True),
               "hours_worked": Answer(number=D(16000)), "lost_time_accidents": Answer(number=D(0))}
    inputs = inputs_from(answers)
    assert inputs.reject_is_percent and inputs.days_absent is None
    assert inputs.accident_days_lost == 0  # not asked after no accident: none lost
    found = rates(inputs)
    assert found["defect_rate"] == D("2.50") and found["absenteeism"] is None
    assert found["severity"] == D("0.00") and found["kwh_per_unit"] is None


def test_days_lost_stay_unknown_when_accidents_are() -> None:
    inputs = inputs_from({"lost_time_accidents": Answer(skipped=True)})
    assert inputs.lost_time_accidents is None and inputs.accident_days_lost is None
