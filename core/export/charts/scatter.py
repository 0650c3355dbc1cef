"""Scatter charts: one point per row, coloured by group; very many rows are drawn as a sample."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

import polars as pl

from core.export import columns as k
from core.export.charts.base import (MAX_POINTS, MUTED, PALETTE, WIDTH, ChartError, Scale, Series, axis_labels,
                                     axis_width, inside, legend_marks, nice_ticks, svg_root, svg_text, y_axis)
from core.export.display import format_value, label
from core.result import Chart

SAMPLE_SEED = 0  # the same rows are drawn every time


@dataclass(frozen=True)
class Points:
    """The points of a scatter chart, grouped by `series` (one group when there is none)."""

    groups: list[tuple[str, list[float], list[float]]]  # (name, xs, ys)
    x_kind: str
    y_kind: str
    x_title: str
    y_title: str
    note: str = ""  # "5,000 of 120,000 points shown (a random sample)"
    references: tuple[tuple[str, float, str], ...] = ()  # (axis, value, label), as in the chart

    @property
    def count(self) -> int:
        return sum(len(xs) for _, xs, _ in self.groups)


def scatter_points(chart: Chart, table: pl.DataFrame, most: int = MAX_POINTS) -> Points:
    """The finite (x, y) pairs of the table, at most `most` of them (a seeded random sample)."""
    y = chart.y if isinstance(chart.y, str) else (chart.y[0] if chart.y else "")
    if not y:
        raise ChartError("a scatter chart needs one y column")
    for column in (chart.x, y):
        if not table.schema[column].is_numeric():
            raise ChartError(f"column {column!r} is not numeric")
    frame = table.select(pl.col(chart.x).cast(pl.Float64).alias("_x"), pl.col(y).cast(pl.Float64).alias("_y"),
                         *([pl.col(chart.series).cast(pl.String).alias("_g")] if chart.series else []))
    frame = frame.filter(pl.col("_x").is_finite() & pl.col("_y").is_finite())
    if frame.is_empty():
        raise ChartError("no rows with both values to plot")
    note = ""
    if frame.height > most:
        note = f"{most:,} of {frame.height:,} points shown (a random sample)"
        frame = frame.sample(n=most, seed=SAMPLE_SEED)
    if chart.series:
        names = table[chart.series].cast(pl.String).drop_nulls().unique(maintain_order=True).to_list()
        groups = []
        for name in names:
            part = frame.filter(pl.col("_g") == name)
            if part.height:
                groups.append((format_value(name), part["_x"].to_list(), part["_y"].to_list()))
        rest = frame.filter(pl.col("_g").is_null())
        if rest.height:
            groups.append(("(none)", rest["_x"].to_list(), rest["_y"].to_list()))
    else:
        groups = [(label(y), frame["_x"].to_list(), frame["_y"].to_list())]
    kind_of = lambda c: k.column_kind(c, table.schema[c], chart.kinds, chart.table)  # noqa: E731
    return Points(groups, kind_of(chart.x), kind_of(y), label(chart.x), label(y), note, chart.references)


def scatter(chart: Chart, table: pl.DataFrame) -> str:
    points = scatter_points(chart, table)
    xs = [x for _, gx, _ in points.groups for x in gx]
    ys = [y for _, _, gy in points.groups for y in gy]
    legend, legend_h = legend_marks([Series(name, []) for name, _, _ in points.groups], 16, 16, WIDTH - 32)
    if len(points.groups) < 2:
        legend, legend_h = [], 0.0
    y_ticks = nice_ticks(min(ys), max(ys))
    x_ticks = nice_ticks(min(xs), max(xs), 6)
    left, right = axis_width(y_ticks, points.y_kind) + 34, WIDTH - 20
    top = 16 + legend_h + 8
    bottom = top + 260
    y_scale = Scale(y_ticks[0], y_ticks[-1], bottom, top)
    x_scale = Scale(x_ticks[0], x_ticks[-1], left, right)
    body = y_axis(y_ticks, y_scale, left, right, points.y_kind)
    shown_x = inside(x_ticks, x_ticks[0], x_ticks[-1])
    for t, tick in zip(shown_x, axis_labels(shown_x, points.x_kind)):
        body.append(svg_text(x_scale(t), bottom + 16, tick, "middle"))
    body.append(f'<line x1="{left:.1f}" x2="{right:.1f}" y1="{bottom:.1f}" y2="{bottom:.1f}" stroke="#9AA5B1"/>')
    body.append(svg_text((left + right) / 2, bottom + 34, points.x_title, "middle"))
    middle = (top + bottom) / 2
    body.append(svg_text(14, middle, points.y_title, "middle", extra=f' transform="rotate(-90 14 {middle:.1f})"'))
    for axis, value, text in chart.references:  # dashed lines under the points, labelled at their end
        if axis == "x" and x_ticks[0] <= value <= x_ticks[-1]:
            x = x_scale(value)
            body.append(f'<line class="reference" x1="{x:.1f}" x2="{x:.1f}" y1="{top:.1f}" y2="{bottom:.1f}" '
                        f'stroke="{MUTED}" stroke-dasharray="4 3" data-value="{value!r}"/>')
            body.append(svg_text(x + 4, top + 10, text, extra=' font-size="11"'))
        elif axis == "y" and y_ticks[0] <= value <= y_ticks[-1]:
            y = y_scale(value)
            body.append(f'<line class="reference" x1="{left:.1f}" x2="{right:.1f}" y1="{y:.1f}" y2="{y:.1f}" '
                        f'stroke="{MUTED}" stroke-dasharray="4 3" data-value="{value!r}"/>')
            body.append(svg_text(right - 4, y - 4, text, "end", extra=' font-size="11"'))
    for j, (name, gx, gy) in enumerate(points.groups):
        colour = PALETTE[j % len(PALETTE)]
        marks = "".join(f'<circle cx="{x_scale(x):.1f}" cy="{y_scale(y):.1f}" r="2.5"/>' for x, y in zip(gx, gy))
        body.append(f'<g class="points" fill="{colour}" fill-opacity="0.55" data-series="{escape(name)}" '
                    f'data-count="{len(gx)}"><title>{escape(name)}: {len(gx):,} points</title>{marks}</g>')
    height = bottom + 46 + (16 if points.note else 0)
    if points.note:
        body.append(svg_text(left, height - 8, points.note, extra=' font-style="italic"'))
    return svg_root("scatter", chart.title, WIDTH, height, legend + body)
