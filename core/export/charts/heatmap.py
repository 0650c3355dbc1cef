"""Heatmaps for cohorts, migration and overlap matrices, long or wide tables, with a colour key."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

import numpy as np
import polars as pl

from core.export import columns as k
from core.export.charts.base import (INK, MAX_CELLS_SIDE, WIDTH, ChartError, clip_text, compact, limit_note, svg_root,
                                     svg_text, text_width, value_columns, y_columns)
from core.export.display import format_value, label
from core.result import Chart


def heatmap(chart: Chart, table: pl.DataFrame) -> str:
    rows, cols, matrix, kind = heatmap_matrix(chart, table)
    notes = [n for n in (limit_note(MAX_CELLS_SIDE, len(rows), "rows"),
                         limit_note(MAX_CELLS_SIDE, len(cols), "columns")) if n]
    rows, cols = rows[:MAX_CELLS_SIDE], cols[:MAX_CELLS_SIDE]
    matrix = matrix[:MAX_CELLS_SIDE, :MAX_CELLS_SIDE]
    finite = matrix[np.isfinite(matrix)]
    if finite.size == 0:
        raise ChartError("every value is missing")
    lo, hi = float(finite.min()), float(finite.max())
    colour = _diverging(lo, hi) if lo < 0 < hi else _sequential(lo, hi)
    row_labels = [clip_text(r, 200) for r in rows]
    col_labels = [clip_text(c, 150) for c in cols]
    row_title, col_title = _heatmap_titles(chart, table)
    left = max(text_width(t) for t in [*row_labels, row_title]) + 16
    cell_w = max(30.0, min(90.0, (WIDTH - left - 16) / len(cols)))
    rotate = max(text_width(t) for t in col_labels) > cell_w - 4
    head = (max(text_width(t) for t in col_labels) * 0.72 + 16) if rotate else 24
    top, cell_h = 30 + head, 24.0
    overhang = max(text_width(t) for t in col_labels) * 0.72 - cell_w / 2 if rotate else 0.0
    width = max(WIDTH, left + cell_w * len(cols) + max(16.0, overhang + 8))
    body = [svg_text(left - 8, 16, row_title, "end", extra=' font-style="italic"')]
    if col_title:
        body.append(svg_text(left, 16, col_title + " →", extra=' font-style="italic"'))
    for j, c in enumerate(col_labels):
        cx = left + j * cell_w + cell_w / 2
        if rotate:
            body.append(f'<text x="{cx:.1f}" y="{top - 6:.1f}" text-anchor="start" fill="{INK}" '
                        f'transform="rotate(-45 {cx:.1f} {top - 6:.1f})">{escape(c)}</text>')
        else:
            body.append(svg_text(cx, top - 8, c, "middle", INK))
    show_values = all(text_width(compact(float(v), kind), 11) < cell_w - 4 for v in finite[:500])
    for i, r in enumerate(row_labels):
        y = top + i * cell_h
        body.append(svg_text(left - 8, y + cell_h / 2 + 4, r, "end", INK))
        for j in range(len(cols)):
            v = matrix[i, j]
            x = left + j * cell_w
            if not np.isfinite(v):
                body.append(f'<rect class="cell empty" x="{x:.1f}" y="{y:.1f}" width="{cell_w - 1:.1f}" '
                            f'height="{cell_h - 1:.1f}" fill="#FBFCFD" stroke="#EEF1F4" data-row="{escape(rows[i])}" '
                            f'data-column="{escape(cols[j])}"/>')
                continue
            fill = colour(float(v))
            shown = format_value(float(v), kind)
            short = compact(float(v), kind)
            body.append(f'<rect class="cell" x="{x:.1f}" y="{y:.1f}" width="{cell_w - 1:.1f}" '
                        f'height="{cell_h - 1:.1f}" '
                        f'fill="{fill}" data-row="{escape(rows[i])}" data-column="{escape(cols[j])}" '
                        f'data-value="{float(v)!r}"><title>{escape(rows[i])} · {escape(cols[j])}: '
                        f"{escape(shown)}</title></rect>")
            if show_values:
                body.append(svg_text(x + cell_w / 2, y + cell_h / 2 + 4, short, "middle",
                                  "#FFFFFF" if _dark(fill) else INK, ' font-size="11"'))
    bottom = top + cell_h * len(rows)
    body += _colour_key(colour, lo, hi, kind, left, bottom + 14)
    height = bottom + 44
    for n in notes:
        body.append(svg_text(left, height, n, extra=' font-style="italic"'))
        height += 16
    return svg_root("heatmap", chart.title, width, height + 4, body)


def _long_form(chart: Chart, table: pl.DataFrame) -> tuple[str, str] | None:
    """(row column, value column) for a long-form heatmap, None for a wide one.

    Long form is `series` = rows with the first `y` as values, or, as the segment results
    write it, y = (row column, value column) with `x` repeating down the table.
    """
    ys = y_columns(chart)
    if chart.series:
        return chart.series, value_columns(chart, table)[0]
    if len(ys) == 2 and table[chart.x].n_unique() < table.height:
        if not table.schema[ys[1]].is_numeric():
            raise ChartError(f"column {ys[1]!r} is not numeric")
        return ys[0], ys[1]
    return None


def _heatmap_titles(chart: Chart, table: pl.DataFrame) -> tuple[str, str]:
    """What the rows and the columns are, for the axis captions."""
    long = _long_form(chart, table)
    return (label(long[0]), label(chart.x)) if long else (label(chart.x), "")


def heatmap_matrix(chart: Chart, table: pl.DataFrame) -> tuple[list[str], list[str], np.ndarray, str]:
    long = _long_form(chart, table)
    if long:
        row, y = long
        frame = table.select(row, chart.x, y).filter(pl.col(row).is_not_null() & pl.col(chart.x).is_not_null())
        if not frame.height:
            raise ChartError("no rows to plot")
        row_keys = _ordered(frame[row])
        col_keys = _ordered(frame[chart.x])
        r_index = {v: i for i, v in enumerate(row_keys)}
        c_index = {v: i for i, v in enumerate(col_keys)}
        matrix = np.full((len(row_keys), len(col_keys)), np.nan)
        for r, c, v in frame.iter_rows():
            if v is not None:
                matrix[r_index[r], c_index[c]] = float(v)
        kind = k.column_kind(y, table.schema[y], chart.kinds, chart.table)
        x_kind = k.column_kind(chart.x, table.schema[chart.x], chart.kinds, chart.table)
        r_kind = k.column_kind(row, table.schema[row], chart.kinds, chart.table)
        return ([format_value(v, r_kind) for v in row_keys], [format_value(v, x_kind) for v in col_keys],
                matrix, kind)
    ys = value_columns(chart, table)
    frame = table.filter(pl.col(chart.x).is_not_null())
    if not frame.height:
        raise ChartError("no rows to plot")
    matrix = frame.select(pl.col(y).cast(pl.Float64) for y in ys).to_numpy().astype(float)
    kinds = {k.column_kind(y, table.schema[y], chart.kinds, chart.table) for y in ys}
    return ([format_value(v) for v in frame[chart.x].to_list()], list(ys), matrix,
            kinds.pop() if len(kinds) == 1 else k.NUMBER)


def _ordered(column: pl.Series) -> list[object]:
    """Numbers and dates in order; labels in the order the analysis gave them."""
    keys = column.unique(maintain_order=True).to_list()
    return sorted(keys) if column.dtype.is_numeric() or column.dtype.is_temporal() else keys


def _mix(a: str, b: str, t: float) -> str:
    ca = [int(a[i:i + 2], 16) for i in (1, 3, 5)]
    cb = [int(b[i:i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(x + (y - x) * t):02X}" for x, y in zip(ca, cb))


def _ramp(stops: Sequence[str], t: float) -> str:
    t = min(1.0, max(0.0, t))
    pos = t * (len(stops) - 1)
    i = min(int(pos), len(stops) - 2)
    return _mix(stops[i], stops[i + 1], pos - i)


def _sequential(lo: float, hi: float):
    stops = ("#DEEBF7", "#9CC3E4", "#3A7DBF", "#0B3C73")
    return lambda v: _ramp(stops, 0.5 if hi == lo else (v - lo) / (hi - lo))


def _diverging(lo: float, hi: float):
    bound = max(abs(lo), abs(hi))
    stops = ("#B2182B", "#EF9B7F", "#F7F7F7", "#8FC1DE", "#2166AC")
    return lambda v: _ramp(stops, 0.5 + v / (2 * bound))


def _dark(colour: str) -> bool:
    r, g, b = (int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b < 0.5


def _colour_key(colour, lo: float, hi: float, kind: str, x: float, y: float) -> list[str]:
    steps, w = 24, 8.0
    out = [f'<rect class="key" x="{x + i * w:.1f}" y="{y:.1f}" width="{w:.1f}" height="10" '
           f'fill="{colour(lo + (hi - lo) * i / (steps - 1))}"/>' for i in range(steps)]
    out.append(svg_text(x, y + 24, format_value(lo, kind)))
    out.append(svg_text(x + steps * w, y + 24, format_value(hi, kind), "end"))
    return out
