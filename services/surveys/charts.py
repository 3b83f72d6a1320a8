"""Drawing charts off the event loop.

A chart takes about half a second to draw: in a worker thread, so replies and the outbox's
pacing never wait behind it. matplotlib itself takes about a second to import, so it is
loaded with the first chart a process draws, not at every start of the bot (or of each
process a test starts).
"""

from __future__ import annotations

import asyncio

from domain.kpi_trend import ChartWords, TrendChart


def _trend(chart: TrendChart, words: ChartWords) -> bytes:
    from rendering import kpi_chart  # loaded on first use: see the module's docstring

    return kpi_chart.draw_trend(chart, words)


def _medians(chart: TrendChart, words: ChartWords) -> bytes:
    from rendering import kpi_chart  # loaded on first use: see the module's docstring

    return kpi_chart.draw_medians(chart, words)


async def trend_png(chart: TrendChart, words: ChartWords) -> bytes:
    """An enterprise's rates per month against its baseline, as a PNG."""
    return await asyncio.to_thread(_trend, chart, words)


async def medians_png(chart: TrendChart, words: ChartWords) -> bytes:
    """The programme-wide medians per month, as a PNG."""
    return await asyncio.to_thread(_medians, chart, words)
