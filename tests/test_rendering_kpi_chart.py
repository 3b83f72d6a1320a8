"""KPI charts: the numbers behind them, their words in the user's language, and a PNG a phone
shows well. Numbers and texts are checked on the figure, not on pixels."""

from __future__ import annotations

import io
import logging
import warnings
from datetime import date
from decimal import Decimal

import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from numpy.typing import ArrayLike
from PIL import Image

from domain.kpi import HEADLINE_KEYS
from domain.kpi_trend import ChartWords, TrendChart, trend_data
from rendering.kpi_chart import (
    WIDTH_PX,
    build_figure,
    chart_height,
    draw_medians,
    draw_trend,
    month_ticks,
)

D = Decimal
LABELS_ID = {
    "defect_rate": "Tingkat cacat (%)", "absenteeism": "Absensi (%)",
    "turnover": "Pekerja keluar (%)", "ltifr": "Kecelakaan per 1.000.000 jam kerja",
    "suggestions_per_100": "Usulan per 100 pekerja", "kwh_per_unit": "kWh per unit",
}
WORDS_ID = ChartWords("PT Maju Jaya: KPI per bulan", "Data awal", "Tidak dicatat", LABELS_ID,
                      "id")
WORDS_EN = ChartWords("PT Maju Jaya: KPIs by month", "Baseline", "Not recorded",
                      {"defect_rate": "Defect rate (%)"}, "en")

# Eight months from August 2025, December missing altogether, some values not recorded.
MONTHS: dict[date, dict[str, Decimal | None]] = {
    date(2025, 8, 1): {"defect_rate": D("2.10"), "absenteeism": D("3.50"), "turnover": D("4.00")},
    date(2025, 9, 1): {"defect_rate": D("1.90"), "absenteeism": None, "turnover": D("3.00")},
    date(2025, 10, 15): {"defect_rate": D("1.50"), "absenteeism": D("3.10"), "turnover": None},
    date(2025, 11, 1): {"defect_rate": None, "absenteeism": D("2.90"), "turnover": D("2.00")},
    date(2026, 1, 1): {"defect_rate": D("1.20"), "absenteeism": D("2.50"), "turnover": D("2.50")},
    date(2026, 2, 1): {"defect_rate": D("0.0040"), "absenteeism": D("2.40"), "turnover": None},
    date(2026, 3, 1): {"defect_rate": D("1.10"), "absenteeism": None, "turnover": D("1.50")},
}
BASELINE: dict[str, Decimal | None] = {"defect_rate": D("2.40"), "absenteeism": D("4.00"),
                                       "turnover": None, "ltifr": D("30.00")}


def chart() -> TrendChart:
    return trend_data(MONTHS, BASELINE, HEADLINE_KEYS)


def open_png(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG"
    image.load()
    return image


def values(data: ArrayLike) -> list[float]:
    """A line's x or y data (matplotlib types it as any array-like) as numbers."""
    return [float(value) for value in np.asarray(data, dtype=float)]


def panels(figure: Figure) -> list[Axes]:
    return [ax for ax in figure.axes if ax.get_visible()]


def test_trend_data_runs_month_by_month_with_gaps_as_none() -> None:
    data = chart()
    assert data.months == [date(2025, 8, 1), date(2025, 9, 1), date(2025, 10, 1),
                           date(2025, 11, 1), date(2025, 12, 1), date(2026, 1, 1),
                           date(2026, 2, 1), date(2026, 3, 1)]
    assert list(data.series) == list(HEADLINE_KEYS)
    assert data.series["defect_rate"] == [D("2.10"), D("1.90"), D("1.50"), None, None,
                                          D("1.20"), D("0.0040"), D("1.10")]
    assert data.series["absenteeism"] == [D("3.50"), None, D("3.10"), D("2.90"), None,
                                          D("2.50"), D("2.40"), None]
    assert data.series["ltifr"] == [None] * 8
    assert data.baseline == {"defect_rate": D("2.40"), "absenteeism": D("4.00"), "turnover": None,
                             "ltifr": D("30.00"), "suggestions_per_100": None,
                             "kwh_per_unit": None}


def test_trend_data_across_a_year_end_and_without_a_baseline() -> None:
    data = trend_data({date(2025, 11, 1): {"turnover": D(1)}, date(2026, 2, 1): {}}, None,
                      ["turnover"])
    assert data.months == [date(2025, 11, 1), date(2025, 12, 1), date(2026, 1, 1),
                           date(2026, 2, 1)]
    assert data.series == {"turnover": [D(1), None, None, None]}
    assert data.baseline == {"turnover": None}
    assert trend_data({}, None, ["turnover"]) == TrendChart([], {"turnover": []},
                                                            {"turnover": None})


def test_a_chart_has_values_only_when_a_month_has_one() -> None:
    assert trend_data(MONTHS, BASELINE, HEADLINE_KEYS).has_values
    nothing: dict[date, dict[str, Decimal | None]] = {date(2026, 10, 1): {"turnover": None},
                                                      date(2026, 11, 1): {}}
    assert not trend_data(nothing, None, HEADLINE_KEYS).has_values
    # A baseline alone is no month's value: the chart would show only its dashed lines.
    assert not trend_data(nothing, BASELINE, HEADLINE_KEYS).has_values
    assert not trend_data({}, BASELINE, HEADLINE_KEYS).has_values
    assert trend_data({date(2026, 11, 1): {"turnover": D(0)}}, None, ["turnover"]).has_values


def test_two_reports_for_one_month_are_refused() -> None:
    with pytest.raises(ValueError, match="2025-10"):
        trend_data({date(2025, 10, 1): {}, date(2025, 10, 20): {}}, None, ["turnover"])


def test_month_labels_are_in_the_users_language() -> None:
    months = [date(2025, 8, 1), date(2025, 10, 1), date(2025, 12, 1)]
    assert month_ticks(months, "id") == [(0, "Agu 2025"), (1, "Okt 2025"), (2, "Des 2025")]
    assert month_ticks(months, "en") == [(0, "Aug 2025"), (1, "Oct 2025"), (2, "Dec 2025")]
    assert month_ticks([], "id") == []


def test_many_months_get_at_most_four_labels_ending_with_the_latest() -> None:
    months = trend_data({date(2024, 5, 1): {}, date(2026, 4, 1): {}}, None, []).months
    assert len(months) == 24
    ticks = month_ticks(months, "id")
    assert [position for position, _ in ticks] == [5, 11, 17, 23]
    assert ticks[-1] == (23, "Apr 2026")


def test_the_figure_says_it_in_indonesian() -> None:
    figure = build_figure(chart(), WORDS_ID, with_baseline=True)
    assert figure.get_suptitle() == "PT Maju Jaya: KPI per bulan"
    axes = panels(figure)
    assert [ax.get_title(loc="left") for ax in axes] == [
        "Tingkat cacat (%)", "Absensi (%)", "Pekerja keluar (%)",
        # A long label wraps rather than running into the latest value at the right.
        "Kecelakaan per 1.000.000 jam\nkerja", "Usulan per 100 pekerja", "kWh per unit"]
    defect = axes[0]
    assert [label.get_text() for label in defect.get_xticklabels()] == [
        "Sep 2025", "Nov 2025", "Jan 2026", "Mar 2026"]
    # The latest value, with a decimal comma, and its digits kept.
    assert defect.get_title(loc="right") == "1,1"
    # March was not recorded: the corner says so, not February's 2,4.
    assert axes[1].get_title(loc="right") == "Tidak dicatat"
    assert all("," in label.get_text() or label.get_text().isdigit()
               for label in defect.get_yticklabels())
    legend = figure.legends[0]
    assert [text.get_text() for text in legend.get_texts()] == ["Data awal"]
    # Nothing recorded, no baseline: said in words instead of an empty axis.
    assert [text.get_text() for text in axes[4].texts] == ["Tidak dicatat"]
    assert [text.get_text() for text in axes[5].texts] == ["Tidak dicatat"]


def test_the_figure_holds_the_numbers_with_gaps_and_the_baseline() -> None:
    axes = panels(build_figure(chart(), WORDS_ID, with_baseline=True))
    trend, baseline, latest = axes[0].get_lines()
    ys = values(trend.get_ydata())
    assert ys[:3] == [2.10, 1.90, 1.50]
    assert ys[3] != ys[3] and ys[4] != ys[4]  # NaN: November and December are gaps
    assert ys[5:] == [1.20, 0.0040, 1.10]
    assert values(latest.get_xdata()) == [7] and values(latest.get_ydata()) == [1.10]
    assert baseline.get_linestyle() == "--" and values(baseline.get_ydata()) == [2.40, 2.40]
    # Baseline but no month recorded: the line alone.
    ltifr = axes[3]
    assert [values(line.get_ydata()) for line in ltifr.get_lines()][-1] == [30.0, 30.0]
    assert ltifr.get_title(loc="right") == ""
    assert ltifr.get_ylim()[0] == 0


def test_medians_have_no_baseline_and_no_legend() -> None:
    figure = build_figure(chart(), WORDS_ID, with_baseline=False)
    axes = panels(figure)
    assert not figure.legends
    assert all(line.get_linestyle() != "--" for ax in axes for line in ax.get_lines())
    assert [text.get_text() for text in axes[3].texts] == ["Tidak dicatat"]


def test_a_label_with_dollar_signs_is_not_read_as_mathematics() -> None:
    # As mathematics, "$\\foo$" cannot be drawn at all (matplotlib raises ValueError).
    broken = "Biaya $\\foo$ per unit"
    words = ChartWords(broken, broken, broken, {"defect_rate": broken, "turnover": broken}, "en")
    data = trend_data(MONTHS, BASELINE, ["defect_rate", "turnover", "ltifr"])
    assert open_png(draw_trend(data, words)).size == (WIDTH_PX, chart_height(3))


@pytest.mark.parametrize("draw", [draw_trend, draw_medians])
def test_a_png_for_a_phone(draw, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png = draw(chart(), WORDS_ID)
    assert caught == []
    assert [record for record in caplog.records if record.levelno >= logging.WARNING] == []
    image = open_png(png)
    assert image.size == (WIDTH_PX, chart_height(6)) == (1080, 1370)
    assert len(png) < 200_000
    assert draw(chart(), WORDS_ID) == png  # the same picture every time


@pytest.mark.parametrize("months, baseline, keys", [
    ({}, None, HEADLINE_KEYS),  # nothing at all yet
    ({}, BASELINE, HEADLINE_KEYS),  # only the baseline
    ({date(2025, 8, 1): {"defect_rate": D(0)}}, {"defect_rate": D(0)}, ["defect_rate"]),
    (MONTHS, BASELINE, ["defect_rate", "absenteeism", "turnover"]),  # an odd number of panels
    (MONTHS, BASELINE, []),
])
def test_edge_cases_draw_without_warnings(months, baseline, keys) -> None:
    png = draw_trend(trend_data(months, baseline, keys), WORDS_EN)
    assert open_png(png).size == (WIDTH_PX, chart_height(len(keys)))


def test_english_numbers_and_months() -> None:
    data = trend_data({date(2025, 10, 1): {"defect_rate": D("1234.50")}}, None, ["defect_rate"])
    (ax,) = panels(build_figure(data, WORDS_EN, with_baseline=True))
    assert ax.get_title(loc="left") == "Defect rate (%)"
    assert ax.get_title(loc="right") == "1,234.5"
    assert [label.get_text() for label in ax.get_xticklabels()] == ["Oct 2025"]
