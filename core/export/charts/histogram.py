"""Histograms: values binned here, a long upper tail folded into the last bin and said so."""

from __future__ import annotations

import math
from html import escape

import numpy as np
import polars as pl

from core.export import columns as k
from core.export.charts.base import (PALETTE, WIDTH, ChartError, Scale, axis_labels, axis_width, inside, nice_ticks,
                                     svg_root, svg_text, y_axis, y_columns)
from core.export.display import format_value
from core.result import Chart


def histogram(chart: Chart, table: pl.DataFrame) -> str:
    if not table.schema[chart.x].is_numeric():
        raise ChartError(f"column {chart.x!r} is not numeric")
    kind = k.column_kind(chart.x, table.schema[chart.x], chart.kinds, chart.table)
    if y_columns(chart):  # already binned: x holds each bin's start, y its count
        edges, counts = prebinned(table, chart.x, y_columns(chart)[0])
        clipped, cut, n = 0, float(edges[-1]), int(counts.sum())
    else:
        values = histogram_values(table, chart.x)
        edges, counts, clipped, cut = histogram_bins(values)
        n = values.size
    ticks_y = nice_ticks(0, float(counts.max()))
    left, right, top = axis_width(ticks_y, k.COUNT) + 18, WIDTH - 24, 20
    bottom = top + 260
    y_scale = Scale(ticks_y[0], ticks_y[-1], bottom, top)
    x_scale = Scale(float(edges[0]), float(edges[-1]), left, right)
    body = y_axis(ticks_y, y_scale, left, right, k.COUNT)
    x_ticks = inside(nice_ticks(float(edges[0]), float(edges[-1]), 6), float(edges[0]), float(edges[-1]))
    for t, tick in zip(x_ticks, axis_labels(x_ticks, kind)):
        body.append(svg_text(x_scale(t), bottom + 16, tick, "middle"))
    for lo_edge, hi_edge, count in zip(edges[:-1], edges[1:], counts):
        x0, x1 = x_scale(float(lo_edge)), x_scale(float(hi_edge))
        y = y_scale(float(count))
        span = f"{format_value(float(lo_edge), kind)} to {format_value(float(hi_edge), kind)}"
        body.append(f'<rect class="bar" x="{x0:.1f}" y="{y:.1f}" width="{max(x1 - x0 - 1, 0.5):.1f}" '
                    f'height="{bottom - y:.1f}" fill="{PALETTE[0]}" data-low="{float(lo_edge)!r}" '
                    f'data-high="{float(hi_edge)!r}" data-value="{int(count)}">'
                    f"<title>{escape(span)}: {int(count):,}</title></rect>")
    body.append(f'<line x1="{left:.1f}" x2="{right:.1f}" y1="{bottom:.1f}" y2="{bottom:.1f}" stroke="#9AA5B1"/>')
    caption = f"n = {n:,}"
    if clipped:
        caption += f"; {clipped:,} values above {format_value(cut, kind)} are counted in the last bin"
    body.append(svg_text(left, bottom + 38, caption, extra=' font-style="italic"'))
    return svg_root("histogram", chart.title, WIDTH, bottom + 50, body)


def prebinned(table: pl.DataFrame, start: str, count: str) -> tuple[np.ndarray, np.ndarray]:
    """Edges and counts of a binned table (each bin's start and its count); bins are equally wide."""
    frame = table.select(pl.col(start).cast(pl.Float64), pl.col(count).cast(pl.Float64)).drop_nulls().sort(start)
    if frame.is_empty():
        raise ChartError("no bins to plot")
    starts = frame[start].to_numpy()
    step = float(np.diff(starts).min()) if starts.size > 1 else 1.0
    return np.append(starts, starts[-1] + step), np.rint(frame[count].to_numpy()).astype(np.int64)


def histogram_values(table: pl.DataFrame, column: str) -> np.ndarray:
    """The finite values of a column, as the histogram bins them."""
    values = table[column].cast(pl.Float64).drop_nulls().drop_nans().to_numpy()
    values = values[np.isfinite(values)]
    if values.size == 0:
        raise ChartError("no values to plot")
    return values


def histogram_bins(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, int, float]:
    """Bin edges and counts; a long upper tail beyond the 99th percentile joins the last bin."""
    lo, hi = float(values.min()), float(values.max())
    cut = float(np.quantile(values, 0.99)) if values.size >= 200 else hi
    if cut <= lo or (hi - lo) <= 1.5 * (cut - lo):  # no long tail worth cutting
        cut = hi
    if hi == lo:
        edges = np.array([lo - 0.5, lo + 0.5])
    else:
        inside = values[values <= cut]
        q75, q25 = np.quantile(inside, [0.75, 0.25])
        width = 2 * (q75 - q25) / inside.size ** (1 / 3)
        bins = int(np.clip(math.ceil((cut - lo) / width) if width > 0 else 20, 10, 40))
        if np.all(np.equal(np.mod(values, 1), 0)) and (cut - lo) < bins:  # few integers: one bin each
            edges = np.arange(lo - 0.5, cut + 1.5, 1.0)
        else:
            edges = np.linspace(lo, cut, bins + 1)
    counts, _ = np.histogram(np.minimum(values, edges[-1]), bins=edges)
    clipped = int((values > cut).sum())
    return edges, counts, clipped, cut
