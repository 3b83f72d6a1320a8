"""The picture of staff's /stats: enterprises per province, stacked by the state of their
enrolment, and the response rate of the survey rounds shown, as one PNG.

Bars rather than a table: which province has many enterprises waiting, and which round is
behind, is seen at a glance on a phone. Drawn as rendering/kpi_chart.py draws (its docstring
says why): matplotlib's object API on the Agg canvas, never pyplot, in a worker thread,
styling per call, text never read as mathematics. Labels arrive translated (StatsWords);
numbers and percentages are formatted by Babel in the words' locale.
"""

from __future__ import annotations

import textwrap
from decimal import Decimal

from babel.numbers import format_decimal, format_percent
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from domain.programme_stats import STATES, StatsChart, StatsWords
from rendering.kpi_chart import DPI, WIDTH_PX, figure_png

_TITLE_PX = 80
_PANEL_PX = 130  # a panel's title, axis and margins
_BAR_PX = 52  # one bar
_LEGEND_PX = 50

_INK = "#1a1a1a"
_GREY = "#6e6e6e"
_GRID = "#e3e3e3"
_BRAND = "#1e2dbe"  # ILO blue, as on the join poster and the KPI charts
_LABEL_CHARS = 22  # a longer label wraps rather than running off the left edge
_COLOURS = {"approved": _BRAND, "pending": "#d2691e", "rejected": "#a0a0a0"}


def _panel_px(bars: int, *, legend: bool) -> int:
    return _PANEL_PX + _BAR_PX * max(1, bars) + (_LEGEND_PX if legend else 0)


def chart_height(chart: StatsChart) -> int:
    height = _TITLE_PX
    if chart.provinces:
        height += _panel_px(len(chart.provinces), legend=True)
    if chart.rates:
        height += _panel_px(len(chart.rates), legend=False)
    return height


def draw(chart: StatsChart, words: StatsWords) -> bytes:
    return figure_png(build_figure(chart, words))


def build_figure(chart: StatsChart, words: StatsWords) -> Figure:
    """The figure before it becomes pixels: tests read its texts and bars from here."""
    height = chart_height(chart)
    figure = Figure(figsize=(WIDTH_PX / DPI, height / DPI), dpi=DPI, facecolor="white")
    figure.suptitle(words.title, x=0.03, y=1 - 28 / height, ha="left", va="top", fontsize=13,
                    fontweight="bold", color=_INK, parse_math=False)
    top = height - _TITLE_PX
    if chart.provinces:
        size = _panel_px(len(chart.provinces), legend=True)
        _provinces(_axes(figure, top, size, height, legend=True), chart, words)
        top -= size
    if chart.rates:
        size = _panel_px(len(chart.rates), legend=False)
        _rates(_axes(figure, top, size, height, legend=False), chart, words)
    return figure


def _axes(figure: Figure, top: int, size: int, height: int, *, legend: bool) -> Axes:
    """Axes filling the band of `size` pixels whose top is `top` pixels from the bottom,
    leaving room for its title above and its tick labels (and the legend) below."""
    bottom = top - size + 40 + (_LEGEND_PX if legend else 0)
    ax = figure.add_axes((0.30, bottom / height, 0.64, (top - 60 - bottom) / height))
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.spines["left"].set_color(_GREY)
    ax.spines["bottom"].set_color(_GREY)
    ax.tick_params(labelsize=8, colors=_GREY, length=3)
    ax.tick_params(axis="y", labelsize=9, colors=_INK)
    ax.grid(axis="x", color=_GRID, linewidth=0.8)
    ax.set_axisbelow(True)
    return ax


def _provinces(ax: Axes, chart: StatsChart, words: StatsWords) -> None:
    ax.set_title(words.enterprises, loc="left", fontsize=10, fontweight="bold", color=_INK,
                 pad=8, parse_math=False)
    labels = [label for label, _ in chart.provinces]
    positions = list(range(len(labels)))[::-1]  # the first province on top
    left = [0] * len(labels)
    for state in STATES:
        values = [counts.of(state) for _, counts in chart.provinces]
        ax.barh(positions, values, left=left, height=0.6, color=_COLOURS[state],
                label=words.states[state])
        left = [a + b for a, b in zip(left, values, strict=True)]
    for position, total in zip(positions, left, strict=True):
        ax.text(total, position, " " + format_decimal(total, locale=words.locale),
                va="center", ha="left", fontsize=9, color=_INK, parse_math=False)
    ax.set_yticks(positions, [_wrapped(label) for label in labels])
    ax.set_xlim(0, max(max(left, default=0) * 1.15, 1))
    ax.xaxis.set_major_locator(MaxNLocator(nbins=5, integer=True))
    ax.xaxis.set_major_formatter(FuncFormatter(
        lambda x, _pos: format_decimal(int(x), locale=words.locale)))
    ax.legend(loc="upper center", bbox_to_anchor=(0.35, -0.12), ncols=len(STATES),
              frameon=False, fontsize=9)


def _rates(ax: Axes, chart: StatsChart, words: StatsWords) -> None:
    ax.set_title(words.rates, loc="left", fontsize=10, fontweight="bold", color=_INK, pad=8,
                 parse_math=False)
    labels = [label for label, _ in chart.rates]
    positions = list(range(len(labels)))[::-1]
    shares = [float(share) if share is not None else 0.0 for _, share in chart.rates]
    ax.barh(positions, shares, height=0.6, color=_BRAND)
    for position, (_, share) in zip(positions, chart.rates, strict=True):
        shown = "–" if share is None else format_percent(share, locale=words.locale)
        ax.text(float(share or Decimal(0)), position, " " + shown, va="center", ha="left",
                fontsize=9, color=_INK, parse_math=False)
    ax.set_yticks(positions, [_wrapped(label) for label in labels])
    ax.set_xlim(0, 1.15)
    ax.set_xticks([0, 0.25, 0.5, 0.75, 1])
    ax.xaxis.set_major_formatter(FuncFormatter(
        lambda x, _pos: format_percent(min(x, 1), locale=words.locale)))


def _wrapped(label: str) -> str:
    return "\n".join(textwrap.wrap(label, _LABEL_CHARS)) or label
