"""survey views

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 19:00:00

The surveys as SQL for staff and BI tools (docs/data.md): one row per final response with a
column per question, the KPI rates per enterprise and month beside the baseline, and the
pulse totals under the five-worker rule. Plain SQL that SQLite and PostgreSQL both run.

The question keys and rate names are frozen here, not read from domain/: a migration must
build the same views whatever the definitions say later. A new question in a definition is a
new migration that drops these views and creates them again (tests/test_survey_views.py fails
until it exists). So is any migration that rebuilds a table the views read (SQLite's batch
mode copies a table and renames the copy, which SQLite refuses while a view names the old
one; PostgreSQL refuses to change a column a view uses): drop the views first, create them
again after.
"""
from typing import Sequence, Union

from alembic import op


# revision identifiers, used by Alembic.
revision: str = '0007'
down_revision: Union[str, Sequence[str], None] = '0006'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# domain/questionnaires/kpi.toml at this revision: every question is a number.
KPI_QUESTIONS = (
    "headcount", "women", "workdays", "days_absent", "hours_worked", "left_resigned",
    "left_contract_ended", "left_dismissed", "units_produced", "units_rejected",
    "customer_claims", "lost_time_accidents", "accident_days_lost", "fatal_accidents",
    "suggestions_implemented", "electricity_kwh",
)
# domain/questionnaires/pulse.toml at this revision: every question is a choice (or yes/no).
PULSE_QUESTIONS = (
    "supervisor_listens", "feel_safe", "ppe_available", "made_suggestion",
    "suggestion_followed", "saw_incident",
)
# domain/kpi.py's RATE_KEYS at this revision.
RATES = (
    "defect_rate", "absenteeism", "turnover", "ltifr", "severity", "suggestions_per_100",
    "kwh_per_unit", "women_share", "customer_claims", "fatal_accidents",
)
MIN_ANSWERS = 5  # domain/anonymity.py: the five-worker rule

# Dropped in this order (a view before the views it reads).
VIEWS = ("pulse_aggregates", "kpi_rates", "pulse_responses", "kpi_responses")


def _pivot(questions: Sequence[str], value: str, extra: str = "") -> str:
    """One row per response, a column per question: the answer's `value`, NULL when the
    question was skipped or not asked (skipped answers never reach the GROUP BY)."""
    columns = ",\n        ".join(
        f"MAX(CASE WHEN question = '{key}' THEN {value} END) AS {key}" for key in questions)
    return (f"SELECT response_id,\n        {columns}{extra}\n"
            "    FROM survey_answers WHERE NOT skipped GROUP BY response_id")


# Whether the reject was given as a percentage: 1 or 0, made a boolean in the view (MAX
# takes no booleans on PostgreSQL).
_REJECTED_PERCENT = """,
        MAX(CASE WHEN question = 'units_rejected'
            THEN CASE WHEN percent THEN 1 ELSE 0 END END) AS rejected_percent"""
_SEP = ",\n        "

KPI_RESPONSES = f"""
CREATE VIEW kpi_responses AS
SELECT r.id AS response_id, r.enterprise_id, e.name AS enterprise_name, e.province, r.period,
    r.kind, r.entered_as, r.finished_at,
    {", ".join(f"a.{key}" for key in KPI_QUESTIONS)},
    a.rejected_percent = 1 AS units_rejected_is_percent
FROM survey_responses r
JOIN enterprises e ON e.id = r.enterprise_id
LEFT JOIN ({_pivot(KPI_QUESTIONS, "number", _REJECTED_PERCENT)}
) a ON a.response_id = r.id
WHERE r.survey = 'kpi' AND r.status = 'final'
"""

PULSE_RESPONSES = f"""
CREATE VIEW pulse_responses AS
SELECT r.id AS response_id, r.enterprise_id, e.name AS enterprise_name, e.province, r.period,
    r.finished_at,
    {", ".join(f"a.{key}" for key in PULSE_QUESTIONS)}
FROM survey_responses r
JOIN enterprises e ON e.id = r.enterprise_id
LEFT JOIN ({_pivot(PULSE_QUESTIONS, "choice")}
) a ON a.response_id = r.id
WHERE r.survey = 'pulse' AND r.kind = 'monthly' AND r.status = 'final'
"""


def _ratio(numerator: str, denominator: str, scale: str = "1.0") -> str:
    """domain/kpi._ratio before rounding: NULL when either is NULL or the divisor is 0. The
    scale is a decimal literal, so SQLite divides as REAL, not as integers."""
    return f"CASE WHEN {denominator} <> 0 THEN {numerator} * {scale} / ({denominator}) END"


def _round_rate(column: str) -> str:
    """domain/kpi.round_rate: two decimals, below 1 two significant digits (0.0040), half
    up. A ladder of ROUNDs, because SQLite has no log10 everywhere; below 10**-15 (which no
    answer within the definitions' ranges gives) the value is left as it is."""
    steps = [f"WHEN {column} = 0 OR {column} >= 0.1 THEN ROUND({column}, 2)"]
    for places in range(3, 17):
        bound = "0." + "0" * (places - 2) + "1"
        steps.append(f"WHEN {column} >= {bound} THEN ROUND({column}, {places})")
    return "CASE " + "\n        ".join(steps) + f" ELSE {column} END"


_UNROUNDED = {
    "defect_rate": ("CASE WHEN units_rejected_is_percent THEN units_rejected ELSE "
                    + _ratio("units_rejected", "units_produced", "100.0") + " END"),
    "absenteeism": _ratio("days_absent", "headcount * workdays", "100.0"),
    "turnover": _ratio("leavers", "headcount", "100.0"),
    "ltifr": _ratio("lost_time_accidents", "hours_worked", "1000000.0"),
    "severity": _ratio("accident_days_lost", "hours_worked", "1000000.0"),
    "suggestions_per_100": _ratio("suggestions_implemented", "headcount", "100.0"),
    "kwh_per_unit": _ratio("electricity_kwh", "units_produced"),
    "women_share": _ratio("women", "headcount", "100.0"),
}
_DESCRIBED = ("response_id", "enterprise_id", "enterprise_name", "province", "period", "kind",
              "entered_as", "finished_at")

KPI_RATES = f"""
CREATE VIEW kpi_rates AS
WITH inputs AS (
    SELECT {", ".join(_DESCRIBED)},
        headcount, women, workdays, days_absent, hours_worked,
        CASE WHEN left_resigned IS NOT NULL AND left_contract_ended IS NOT NULL
            AND left_dismissed IS NOT NULL
            THEN left_resigned + left_contract_ended + left_dismissed END AS leavers,
        units_produced, units_rejected, units_rejected_is_percent, customer_claims,
        lost_time_accidents,
        CASE WHEN lost_time_accidents = 0 THEN 0 ELSE accident_days_lost END
            AS accident_days_lost,
        fatal_accidents, suggestions_implemented, electricity_kwh
    FROM kpi_responses
), unrounded AS (
    SELECT {", ".join(_DESCRIBED)},
        {_SEP.join(f"{sql} AS {key}" for key, sql in _UNROUNDED.items())},
        customer_claims, fatal_accidents
    FROM inputs
), rated AS (
    SELECT {", ".join(_DESCRIBED)},
        {_SEP.join(f"{_round_rate(key)} AS {key}" for key in _UNROUNDED)},
        customer_claims, fatal_accidents
    FROM unrounded
)
SELECT m.response_id, m.enterprise_id, m.enterprise_name, m.province, m.period,
    m.entered_as, m.finished_at,
    {", ".join(f"m.{key}" for key in RATES)},
    b.response_id AS baseline_response_id, b.period AS baseline_period,
    {", ".join(f"b.{key} AS baseline_{key}" for key in RATES)}
FROM rated m
LEFT JOIN rated b ON b.response_id = (
    SELECT o.id FROM survey_responses o
    WHERE o.survey = 'kpi' AND o.kind = 'baseline' AND o.status = 'final'
        AND o.enterprise_id = m.enterprise_id
    ORDER BY o.period DESC, o.id DESC LIMIT 1)
WHERE m.kind = 'monthly' AND NOT EXISTS (
    SELECT 1 FROM survey_responses o
    WHERE o.survey = 'kpi' AND o.kind = 'monthly' AND o.status = 'final'
        AND o.enterprise_id = m.enterprise_id AND o.period = m.period AND o.id > m.response_id)
"""

# Only closed rounds: totals that grow while a round is open would show, between two looks,
# what the one new worker answered (domain/anonymity.py).
PULSE_AGGREGATES = f"""
CREATE VIEW pulse_aggregates AS
WITH answers AS (
    SELECT r.enterprise_id, r.period, a.question, a.choice
    FROM survey_answers a
    JOIN survey_responses r ON r.id = a.response_id
    JOIN survey_rounds s ON s.survey = r.survey AND s.period = r.period
    WHERE r.survey = 'pulse' AND r.kind = 'monthly' AND r.status = 'final'
        AND NOT a.skipped AND a.choice IS NOT NULL
        AND (s.closed_at IS NOT NULL OR s.closes_at <= CURRENT_TIMESTAMP)
), answered AS (
    SELECT enterprise_id, period, question, COUNT(*) AS answered
    FROM answers GROUP BY enterprise_id, period, question
), chosen AS (
    SELECT enterprise_id, period, question, choice, COUNT(*) AS answers
    FROM answers GROUP BY enterprise_id, period, question, choice
)
SELECT c.enterprise_id, e.name AS enterprise_name, e.province, c.period, c.question, c.choice,
    c.answers, n.answered
FROM chosen c
JOIN answered n ON n.enterprise_id = c.enterprise_id AND n.period = c.period
    AND n.question = c.question
JOIN enterprises e ON e.id = c.enterprise_id
WHERE n.answered >= {MIN_ANSWERS}
"""


def upgrade() -> None:
    """Upgrade schema."""
    for statement in (KPI_RESPONSES, PULSE_RESPONSES, KPI_RATES, PULSE_AGGREGATES):
        op.execute(statement)


def downgrade() -> None:
    """Downgrade schema."""
    for view in VIEWS:
        op.execute(f"DROP VIEW IF EXISTS {view}")
