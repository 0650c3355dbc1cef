"""Line charts over numbers, dates (ticks on calendar boundaries) or labels; gaps where values are missing."""

from __future__ import annotations

import datetime as dt
import math
from html import escape

import polars as pl

from core.export import columns as k
from core.export.charts.base import (MAX_POINTS, PALETTE, WIDTH, Scale, Series, axis_labels, axis_width, clip_text,
                                     inside, intervals, legend_marks, limit_note, nice_ticks, svg_root, svg_text,
                                     text_width, value_range, wide, with_intervals, y_axis)
from core.export.display import format_value, label
from core.result import Chart


def line_chart(chart: Chart, table: pl.DataFrame) -> str:
    x_type = table.schema[chart.x]
    temporal = x_type == pl.Date or isinstance(x_type, pl.Datetime)
    ordered = table.sort(chart.x) if (x_type.is_numeric() or temporal) else table
    cats, series, kind = wide(chart, ordered)
    note = limit_note(MAX_POINTS, len(cats), "points")
    cats = cats[:MAX_POINTS]
    series = [Series(s.name, s.values[:MAX_POINTS]) for s in series]
    xs, x_ticks, x_labels = _line_x(cats, x_type, temporal, chart.x, k.column_kind(chart.x, x_type, chart.kinds, chart.table))
    bands = intervals(chart, ordered, len(cats))
    if bands:
        note = "; ".join(filter(None, [note, band_note(chart)]))
    lo, hi = value_range(with_intervals(series, bands), include_zero=False)
    if lo > 0 and lo < (hi - lo) * 0.5:  # close to zero: show zero, so slopes are not exaggerated
        lo = 0.0
    legend, legend_h = legend_marks(series, 16, 16, WIDTH - 32)
    ticks = nice_ticks(lo, hi)
    left, right = axis_width(ticks, kind) + 18, WIDTH - 24
    top = 16 + legend_h + 8
    bottom = top + 260
    y_scale = Scale(ticks[0], ticks[-1], bottom, top)
    x_lo, x_hi = min(xs), max(xs)
    x_scale = Scale(x_lo, x_hi, left, right) if x_hi > x_lo else Scale(x_lo - 1, x_hi + 1, left, right)
    body = y_axis(ticks, y_scale, left, right, kind)
    for t, tick in zip(x_ticks, x_labels):  # edge labels lean inwards so they are not cut
        anchor = "start" if x_scale(t) - text_width(tick) / 2 < 4 else (
            "end" if x_scale(t) + text_width(tick) / 2 > WIDTH - 4 else "middle")
        body.append(svg_text(x_scale(t), bottom + 16, tick, anchor))
    body.append(f'<line x1="{left:.1f}" x2="{right:.1f}" y1="{bottom:.1f}" y2="{bottom:.1f}" stroke="#9AA5B1"/>')
    cat_labels = [format_value(c, k.column_kind(chart.x, table.schema[chart.x], chart.kinds, chart.table)) for c in cats]
    names = [s.name for s in series]
    for band in bands:  # under the lines: the interval as a shaded band
        colour = PALETTE[names.index(band.name) % len(PALETTE)] if band.name in names else PALETTE[0]
        for run in _band_runs(xs, band.low, band.high):
            edge = [f"{x_scale(x):.1f},{y_scale(v):.1f}" for x, v, _ in run]
            back = [f"{x_scale(x):.1f},{y_scale(v):.1f}" for x, _, v in reversed(run)]
            body.append(f'<polygon class="band" points="{" ".join(edge + back)}" fill="{colour}" '
                        f'fill-opacity="0.18" stroke="none" data-series="{escape(band.name)}"/>')
    for j, s in enumerate(series):
        colour = PALETTE[j % len(PALETTE)]
        for run in _runs(xs, s.values):  # a gap where values are missing
            points = " ".join(f"{x_scale(x):.1f},{y_scale(v):.1f}" for x, v in run)
            body.append(f'<polyline class="line" points="{points}" fill="none" stroke="{colour}" '
                        f'stroke-width="2" stroke-linejoin="round" data-series="{escape(s.name)}"/>')
        if len(cats) <= 60:
            for x, v, c in zip(xs, s.values, cat_labels):
                if v is not None:
                    body.append(
                        f'<circle class="point" cx="{x_scale(x):.1f}" cy="{y_scale(v):.1f}" r="3" fill="{colour}" '
                        f'data-category="{escape(c)}" data-series="{escape(s.name)}" data-value="{v!r}">'
                        f"<title>{escape(c)} · {escape(s.name)}: {escape(format_value(v, kind))}</title></circle>")
    height = bottom + 30 + (16 if note else 0)
    if note:
        body.append(svg_text(left, height - 8, note, extra=' font-style="italic"'))
    return svg_root("line", chart.title, WIDTH, height, legend + body)


def _line_x(cats: list[object], x_type: pl.DataType, temporal: bool,
            name: str, x_kind: str) -> tuple[list[float], list[float], list[str]]:
    """Positions of the x values, and tick positions with their labels."""
    if temporal:
        days = [_as_days(c) for c in cats]
        ticks, labels = date_ticks(min(days), max(days))
        return days, ticks, labels
    if x_type.is_numeric():
        xs = [float(c) for c in cats]  # type: ignore[arg-type]
        ticks = inside(nice_ticks(min(xs), max(xs), 6), min(xs), max(xs))
        return xs, ticks, axis_labels(ticks, x_kind)
    xs = [float(i) for i in range(len(cats))]
    every = max(1, math.ceil(len(cats) / 8))
    ticks = xs[::every]
    return xs, ticks, [clip_text(format_value(cats[int(t)]), 70) for t in ticks]


EPOCH = dt.date(1970, 1, 1)


def date_ticks(lo: float, hi: float, most: int = 7) -> tuple[list[float], list[str]]:
    """Ticks on calendar boundaries (days, weeks, month starts, years) between two day numbers."""
    first, last = EPOCH + dt.timedelta(days=math.ceil(lo)), EPOCH + dt.timedelta(days=math.floor(hi))
    span = (last - first).days
    if span <= 60:
        step = next(s for s in (1, 2, 7, 14, 28) if span / s <= most)
        if step >= 7:  # weeks start on Monday
            first += dt.timedelta(days=(7 - first.weekday()) % 7)
        dates = [first + dt.timedelta(days=i) for i in range(0, (last - first).days + 1, step)]
        labels = [d.isoformat() for d in dates]
    else:
        months = (last.year - first.year) * 12 + last.month - first.month
        step = next((s for s in (1, 2, 3, 6, 12, 24, 60, 120) if months / s <= most), 120)
        start = first.year * 12 + first.month - 1 + (0 if first.day == 1 else 1)
        start += (-start) % step
        stop = last.year * 12 + last.month - 1
        dates = [dt.date(m // 12, m % 12 + 1, 1) for m in range(start, stop + 1, step)]
        labels = [d.strftime("%Y" if step >= 12 else "%Y-%m") for d in dates]
    if not dates:
        dates, labels = [first], [first.isoformat()]
    return [float((d - EPOCH).days) for d in dates], labels


def _as_days(value: object) -> float:
    if isinstance(value, dt.datetime):
        return (value.replace(tzinfo=None) - dt.datetime(1970, 1, 1)).total_seconds() / 86400
    return float((value - EPOCH).days)  # type: ignore[operator]


def band_note(chart: Chart) -> str:
    """What the shaded band is: "shaded: Forecast low to Forecast high"."""
    return "shaded: " + "; ".join(f"{label(low)} to {label(high)}" for _, low, high in chart.intervals)


def _band_runs(xs: list[float], low: list[float | None],
               high: list[float | None]) -> list[list[tuple[float, float, float]]]:
    """Stretches of (x, low, high) where both ends are known; a single point is a sliver."""
    runs: list[list[tuple[float, float, float]]] = [[]]
    for x, a, b in zip(xs, low, high):
        if a is None or b is None:
            if runs[-1]:
                runs.append([])
        else:
            runs[-1].append((x, a, b))
    return [r if len(r) > 1 else [(r[0][0] - 0.5, r[0][1], r[0][2]), (r[0][0] + 0.5, r[0][1], r[0][2])]
            for r in runs if r]


def _runs(xs: list[float], values: list[float | None]) -> list[list[tuple[float, float]]]:
    runs: list[list[tuple[float, float]]] = [[]]
    for x, v in zip(xs, values):
        if v is None:
            if runs[-1]:
                runs.append([])
        else:
            runs[-1].append((x, v))
    return [r for r in runs if r]
