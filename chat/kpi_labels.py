"""The names of the KPI rates (domain/kpi.py) as charts and summaries show them."""

from __future__ import annotations

from collections.abc import Iterable

from chat.i18n import N_, _
from domain import kpi

RATE_LABELS = {
    kpi.DEFECT_RATE: N_("Defect rate (%)"),
    kpi.ABSENTEEISM: N_("Absenteeism (%)"),
    kpi.TURNOVER: N_("Workers who left (%)"),
    kpi.LTIFR: N_("Lost-time accidents per 1,000,000 hours"),
    kpi.SUGGESTIONS_PER_100: N_("Suggestions implemented per 100 workers"),
    kpi.KWH_PER_UNIT: N_("kWh per unit produced"),
}


def rate_labels(keys: Iterable[str]) -> dict[str, str]:
    """Each rate's label in the current language (the key itself if it has none)."""
    return {key: _(RATE_LABELS[key]) if key in RATE_LABELS else key for key in keys}
