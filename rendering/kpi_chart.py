"""PNG charts of KPI rates per month: an enterprise's trend against its baseline (/kpi), and
the programme-wide medians for staff.

Small multiples, one panel per rate, two columns: on a phone six small panels read better
than six lines on one axis with six scales. Drawn with matplotlib's object API on the Agg
canvas, never pyplot: pyplot keeps every figure in global state (a leak in a long-running bot)
and shares it between threads, while a Figure of our own, touched by one thread only, can be
drawn in `asyncio.to_thread` off the event loop (matplotlib keeps its font objects per thread).
Styling is passed to every call rather than set in the global rcParams, for the same reason.
A "$" in a translated label is text, never the start of mathematics (parse_math=False).

The domain knows no gettext: titles and labels come translated in ChartWords; month names and
numbers are formatted by Babel in the words' locale.
"""

from __future__ import annotations

import io
import math
import textwrap
from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from babel.dates import format_date
from babel.numbers import format_decimal
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FixedLocator, FuncFormatter, MaxNLocator, NullLocator
from PIL import Image

from domain.kpi_trend import ChartWords, TrendChart

# Telegram shows a photo at the phone's width: 1080 px is sharp on any phone and, at a fixed
# DPI, makes the same picture (and nearly the same bytes) on every server.
WIDTH_PX = 1080
DPI = 150
_HEADER_PX = 170  # the title and the legend
_ROW_PX = 400  # one row of panels
_FOOTER_PX = 50  # the last row's month labels
_COLUMNS = 2
_MAX_MONTH_TICKS = 4  # "Okt 2025" four times fills a panel half a phone wide
_COLOURS = 64  # anti-aliased edges of five colours on white
_LABEL_CHARS = 30  # a longer label wraps rather than running into the latest value

_INK = "#1a1a1a"
_GREY = "#6e6e6e"
_GRID = "#e3e3e3"
_BRAND = "#1e2dbe"  # ILO blue, as on the join poster
_BASELINE = "#d2691e"


def draw_trend(chart: TrendChart, words: ChartWords) -> bytes:
    """The enterprise's rates per month, each against its baseline (a dashed line), as a PNG."""
    return figure_png(build_figure(chart, words, with_baseline=True))


def draw_medians(chart: TrendChart, words: ChartWords) -> bytes:
    """The programme-wide median rates per month as a PNG; a median has no baseline."""
    return figure_png(build_figure(chart, words, with_baseline=False))


def chart_height(panels: int) -> int:
    return _HEADER_PX + _ROW_PX * max(1, math.ceil(panels / _COLUMNS))


def build_figure(chart: TrendChart, words: ChartWords, *, with_baseline: bool) -> Figure:
    """The figure before it becomes pixels: tests read its texts and lines from here."""
    keys = list(chart.series)
    rows = max(1, math.ceil(len(keys) / _COLUMNS))
    height = chart_height(len(keys))
    figure = Figure(figsize=(WIDTH_PX / DPI, height / DPI), dpi=DPI, facecolor="white")
    top = 1 - _HEADER_PX / height
    figure.subplots_adjust(left=0.09, right=0.97, bottom=_FOOTER_PX / height, top=top,
                           wspace=0.28, hspace=0.55)
    figure.suptitle(words.title, x=0.03, y=1 - 28 / height, ha="left", va="top", fontsize=13,
                    fontweight="bold", color=_INK, parse_math=False)
    axes = figure.subplots(rows, _COLUMNS, squeeze=False).flatten()
    baseline_drawn = False
    for index, ax in enumerate(axes):
        if index >= len(keys):
            ax.set_visible(False)
            continue
        key = keys[index]
        base = chart.baseline.get(key) if with_baseline else None
        _panel(ax, chart.months, chart.series[key], base, words.series.get(key, key), words)
        baseline_drawn = baseline_drawn or base is not None
    if baseline_drawn:
        # Handles made here, not collected from the axes: the legend is the same whichever
        # panels have data, and an empty chart never asks for a legend of nothing.
        handles = [Line2D([], [], color=_BASELINE, linestyle="--", linewidth=1.4)]
        legend = figure.legend(handles, [words.baseline], loc="upper left",
                               bbox_to_anchor=(0.025, 1 - 70 / height), frameon=False,
                               fontsize=9, labelcolor=_GREY, handlelength=2.5)
        for text in legend.get_texts():
            text.set_parse_math(False)
    return figure


def figure_png(figure: Figure) -> bytes:
    """The picture as a PNG of at most _COLOURS colours: a few flat colours on white lose
    nothing visible and the file is a third of matplotlib's own RGBA PNG (quicker to send)."""
    canvas = FigureCanvasAgg(figure)
    canvas.draw()  # type: ignore[no-untyped-call]  # matplotlib's Agg backend: no annotations
    width, height = canvas.get_width_height()
    rgba = canvas.buffer_rgba()  # type: ignore[no-untyped-call]  # as draw(): no annotations
    image = Image.frombuffer("RGBA", (width, height), rgba, "raw", "RGBA", 0, 1)
    buffer = io.BytesIO()
    # Fast octree: about 20 ms against 200 ms for the default median cut, and as good here.
    palette = image.convert("RGB").quantize(_COLOURS, method=Image.Quantize.FASTOCTREE)
    palette.save(buffer, format="PNG")
    return buffer.getvalue()


def _panel(ax: Axes, months: list[date], values: list[Decimal | None], base: Decimal | None,
           label: str, words: ChartWords) -> None:
    ax.set_title("\n".join(textwrap.wrap(label, _LABEL_CHARS)), loc="left", fontsize=10,
                 color=_INK, pad=8, parse_math=False)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color(_GREY)
    ax.tick_params(labelsize=8, colors=_GREY, length=3)
    ax.grid(axis="y", color=_GRID, linewidth=0.8)
    ax.set_axisbelow(True)
    recorded = [value for value in values if value is not None]
    if not recorded and base is None:
        ax.xaxis.set_major_locator(NullLocator())
        ax.yaxis.set_major_locator(NullLocator())
        for spine in ax.spines.values():
            spine.set_visible(False)
        ax.text(0.5, 0.5, words.not_recorded, transform=ax.transAxes, ha="center",
                va="center", fontsize=9, color=_GREY, parse_math=False)
        return
    positions = list(range(len(months)))
    # NaN breaks the line: a month not recorded is a gap, never a line drawn through it.
    ys = [math.nan if value is None else float(value) for value in values]
    if positions:
        ax.plot(positions, ys, color=_BRAND, linewidth=2, marker="o", markersize=4)
    if base is not None:
        ax.axhline(float(base), color=_BASELINE, linestyle="--", linewidth=1.4)
    last = max((i for i, value in enumerate(values) if value is not None), default=None)
    if last is not None:
        # The latest value drawn larger, and in words at the panel's corner: a number written
        # next to the line would sit on the line or on the baseline.
        latest = values[last]
        assert latest is not None
        ax.plot([last], [float(latest)], color=_BRAND, marker="o", markersize=7)
        if last == len(values) - 1:
            ax.set_title(_number(latest, words.locale), loc="right", fontsize=10,
                         fontweight="bold", color=_BRAND, pad=8, parse_math=False)
        else:
            # The latest month was not recorded: the corner says so, never an older month's
            # value, which would read as this month's.
            ax.set_title(words.not_recorded, loc="right", fontsize=10, color=_GREY, pad=8,
                         parse_math=False)
    # Rates are not negative: the axis starts at 0 so that a small change does not look
    # dramatic. Always a span, even when every value is 0 (matplotlib warns on an empty one).
    shown = [float(value) for value in recorded] + ([float(base)] if base is not None else [])
    low, peak = min(0.0, *shown), max(shown)
    ax.set_ylim(low, peak * 1.2 if peak > 0 else low + 1)
    ax.set_xlim(-0.5, max(len(months) - 0.5, 0.5))
    ax.yaxis.set_major_locator(MaxNLocator(nbins=4, min_n_ticks=2))
    ax.yaxis.set_major_formatter(FuncFormatter(
        lambda y, _pos: _number(Decimal(f"{y:.6g}"), words.locale)))
    ticks = month_ticks(months, words.locale)
    ax.xaxis.set_major_locator(FixedLocator([position for position, _ in ticks]))
    ax.set_xticklabels([label for _, label in ticks])


def month_ticks(months: Sequence[date], locale: str) -> list[tuple[int, str]]:
    """(position, "Okt 2025") for at most _MAX_MONTH_TICKS evenly spaced months, always
    including the latest."""
    step = math.ceil(len(months) / _MAX_MONTH_TICKS) or 1
    positions = sorted({len(months) - 1 - i for i in range(0, len(months), step)})
    return [(i, format_date(months[i], "MMM yyyy", locale=locale)) for i in positions]


def _number(value: Decimal, locale: str) -> str:
    # Keep the digits the rate was rounded to: "0,0041", never "0".
    return format_decimal(value.normalize(), locale=locale, decimal_quantization=False)
