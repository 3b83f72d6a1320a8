"""The numbers behind a KPI chart, and the words it carries: what a chart shows, apart from
drawing it (rendering/kpi_chart.py, with matplotlib, loaded only when a chart is drawn)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from domain.kpi import month_of


@dataclass(frozen=True)
class ChartWords:
    """The chart's words, translated by the caller."""

    title: str
    baseline: str  # the legend's name for the dashed line
    not_recorded: str  # shown in a panel with nothing to draw
    series: Mapping[str, str]  # rate key -> its label ("Tingkat cacat (%)")
    locale: str  # for month names and numbers


@dataclass(frozen=True)
class TrendChart:
    """The numbers behind a picture, for tests and for the caption.

    `months` runs without holes from the first month to the last (first days); a month with no
    report, and a value not recorded, is None in every series, drawn as a gap."""

    months: list[date]
    series: dict[str, list[Decimal | None]]
    baseline: dict[str, Decimal | None]

    @property
    def has_values(self) -> bool:
        """Whether some month has a recorded value. Reports that say "not recorded" to
        every rate would make a chart of empty panels (or of the baseline's lines alone):
        nothing about the months to look at, so the caller says so instead of drawing it."""
        return any(value is not None for values in self.series.values() for value in values)


def _next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def trend_data(months: Mapping[date, Mapping[str, Decimal | None]],
               baseline: Mapping[str, Decimal | None] | None,
               keys: Sequence[str]) -> TrendChart:
    """The rates `keys` per month, from the first reported month to the last.

    Months are named by any day in them; two entries for the same month are a caller's bug."""
    by_month: dict[date, Mapping[str, Decimal | None]] = {}
    for day, row in months.items():
        month = month_of(day)
        if month in by_month:
            raise ValueError(f"two reports for {month:%Y-%m}")
        by_month[month] = row
    timeline: list[date] = []
    if by_month:
        month, last = min(by_month), max(by_month)
        while month <= last:
            timeline.append(month)
            month = _next_month(month)
    empty: Mapping[str, Decimal | None] = {}
    series = {key: [by_month.get(month, empty).get(key) for month in timeline] for key in keys}
    base = {key: (baseline or empty).get(key) for key in keys}
    return TrendChart(timeline, series, base)
