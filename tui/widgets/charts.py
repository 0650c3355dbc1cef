"""Terminal charts drawn from a Result's Chart specs: bars, lines, histograms, heatmaps, scatters.

Two steps, so the UI thread only draws: `plot(chart, table)` pulls the numbers out of the
table (pure, safe in a worker thread; it reads the data the same way the HTML exporter
does, through core.export.charts), and the Rich renderables below lay them out as text in
whatever width the terminal gives. `tui.widgets.plots.PlotView` shows one: with plotext
when it fits, else with these text charts.

Colours are fixed mid-tone hues (the exporter's palette) that read on light and dark
themes; heatmap cells carry their own background, so they look the same in both.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import polars as pl
from rich.cells import cell_len, set_cell_size
from rich.console import Console, ConsoleOptions, RenderResult
from rich.style import Style
from rich.text import Text

from core.export import columns as k
from core.export.charts.base import (PALETTE, ChartError, Interval, Series, compact, interval_columns, intervals,
                                     limit_note, need_columns, value_columns, value_range, wide, y_columns)
from core.export.charts.heatmap import heatmap_matrix  # the exporter's reading of long/wide tables
from core.export.charts.histogram import histogram_bins, histogram_values  # the exporter's bins (tail folded in)
from core.export.charts.scatter import Points, scatter_points  # the exporter's points (a seeded sample of many)
from core.export.display import format_value, label
from core.result import Chart

MAX_BARS = 30  # categories drawn; the rest are counted in a note
MAX_LINE_POINTS = 2000
MAX_HEAT_ROWS = 40
MAX_SCATTER_POINTS = 3000  # a terminal has fewer cells than that; more rows are sampled
PLOT_HEIGHT = 8  # rows of a line chart or histogram
HORIZONTAL_EIGHTHS = " ▏▎▍▌▋▊▉█"
VERTICAL_EIGHTHS = " ▁▂▃▄▅▆▇█"
MUTED = Style(dim=True)


def colour(i: int) -> Style:
    return Style(color=PALETTE[i % len(PALETTE)])


# --- the numbers (pure: run in a worker) -------------------------------------------------------


@dataclass(frozen=True)
class Bars:
    title: str
    names: list[str]  # series names, for the legend
    groups: list[tuple[str, list[tuple[int, float | None]]]]  # label, (series index, value) per bar
    kind: str  # how values read (core.export.columns kinds)
    note: str = ""
    ends: dict[tuple[int, int], tuple[float, float]] = field(default_factory=dict)  # (group, series): interval
    x_title: str = ""
    named_by_column: bool = False  # series names are column names (shown as their labels), not values

    @property
    def values(self) -> list[float]:
        return [v for _, bars in self.groups for _, v in bars if v is not None] + \
            [e for pair in self.ends.values() for e in pair]


@dataclass(frozen=True)
class Lines:
    title: str
    xs: list[float]  # positions (numbers, days since 1970 for dates, or 0..n-1 for labels)
    x_labels: list[str]
    series: list[Series]
    kind: str
    note: str = ""
    bands: tuple[Interval, ...] = ()  # shaded around the series of the same name
    x_title: str = ""
    named_by_column: bool = False
    x_kind: str | None = None  # the kind of a numeric x (ticks placed as for values); None: dates or labels


@dataclass(frozen=True)
class Histogram:
    title: str
    edges: list[float]
    counts: list[int]
    kind: str  # of the binned values
    caption: str = ""
    x_title: str = ""


@dataclass(frozen=True)
class Heatmap:
    title: str
    rows: list[str]
    columns: list[str]
    matrix: np.ndarray
    kind: str
    row_title: str = ""
    column_title: str = ""
    note: str = ""


@dataclass(frozen=True)
class Scatter:
    title: str
    points: Points


Plot = Bars | Lines | Histogram | Heatmap | Scatter


def plot(chart: Chart, table: pl.DataFrame | None) -> Plot:
    """The numbers of one chart; ChartError says why it cannot be drawn."""
    if table is None:
        raise ChartError(f"the result has no table named {chart.table!r}")
    need_columns(table, chart.x, *y_columns(chart), *([chart.series] if chart.series else []),
                 *interval_columns(chart))
    if chart.kind == "scatter":
        return Scatter(chart.title, scatter_points(chart, table, MAX_SCATTER_POINTS))
    if chart.kind == "bar":
        return _bars(chart, table)
    if chart.kind == "line":
        return _lines(chart, table)
    if chart.kind == "histogram":
        return _histogram(chart, table)
    if chart.kind == "heatmap":
        return _heatmap(chart, table)
    raise ChartError(f"unknown chart kind {chart.kind!r}")


def _bars(chart: Chart, table: pl.DataFrame) -> Bars:
    cats, series, kind = wide(chart, table)
    x_kind = k.column_kind(chart.x, table.schema[chart.x], chart.kinds, chart.table)
    note = limit_note(MAX_BARS, len(cats), "categories")
    labels = [format_value(c, x_kind) for c in cats[:MAX_BARS]]
    names = [s.name for s in series]
    value_range(series)  # raises when every value is missing
    filled = sum(v is not None for s in series for v in s.values)
    if chart.series and len(series) > 1 and filled < 0.5 * len(cats) * len(series):
        # Groups of one dimension each (NPS by tier, then by region): one bar per row, in
        # table order, coloured by its group, as the HTML report draws it.
        y = value_columns(chart, table)[0]
        frame = table.select(chart.x, chart.series, y).filter(pl.col(chart.x).is_not_null())
        note = limit_note(MAX_BARS, frame.height, "bars")
        groups = [(format_value(x, x_kind), [(names.index(format_value(name)), _float(v))])
                  for x, name, v in frame.head(MAX_BARS).iter_rows()]
        return Bars(chart.title, names, groups, kind, note, x_title=label(chart.x))
    groups = []
    for i, text in enumerate(labels):
        bars = [(j, s.values[i]) for j, s in enumerate(series)]
        present = [b for b in bars if b[1] is not None]
        groups.append((text, present if len(series) > 1 and present else bars))
    ends = {(i, names.index(w.name)): (lo, hi)
            for w in intervals(chart, table, MAX_BARS) if w.name in names
            for i, (lo, hi) in enumerate(zip(w.low, w.high)) if lo is not None and hi is not None}
    return Bars(chart.title, names, groups, kind, note, ends, label(chart.x), not chart.series)


def _float(value: object) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    f = float(value)  # type: ignore[arg-type]
    return f if math.isfinite(f) else None


def _lines(chart: Chart, table: pl.DataFrame) -> Lines:
    x_type = table.schema[chart.x]
    temporal = x_type.is_temporal()
    ordered = table.sort(chart.x) if (x_type.is_numeric() or temporal) else table
    cats, series, kind = wide(chart, ordered)
    note = limit_note(MAX_LINE_POINTS, len(cats), "points")
    cats = cats[:MAX_LINE_POINTS]
    series = [Series(s.name, s.values[:MAX_LINE_POINTS]) for s in series]
    bands = tuple(intervals(chart, ordered, len(cats)))
    value_range(series, include_zero=False)
    if x_type.is_numeric():
        xs = [float(c) for c in cats]
    elif temporal:
        xs = [_days(c) for c in cats]
    else:
        xs = [float(i) for i in range(len(cats))]
    x_kind = k.column_kind(chart.x, x_type, chart.kinds, chart.table)
    return Lines(chart.title, xs, [format_value(c, x_kind) for c in cats], series, kind, note, bands,
                 label(chart.x), not chart.series, x_kind if x_type.is_numeric() else None)


def _days(value: object) -> float:
    if isinstance(value, dt.datetime):
        return value.timestamp() / 86400
    return float((value - dt.date(1970, 1, 1)).days)  # type: ignore[operator]


def _histogram(chart: Chart, table: pl.DataFrame) -> Histogram:
    if not table.schema[chart.x].is_numeric():
        raise ChartError(f"column {chart.x!r} is not numeric")
    ys = y_columns(chart)
    if ys:  # already binned: x holds each bin's start, y its count (scale score distribution)
        frame = table.select(pl.col(chart.x).cast(pl.Float64), pl.col(ys[0]).cast(pl.Float64)).drop_nulls()
        if frame.is_empty():
            raise ChartError("no bins to plot")
        starts = frame[chart.x].to_list()
        step = starts[1] - starts[0] if len(starts) > 1 else 1.0
        edges = [*starts, starts[-1] + step]
        counts = [int(round(c)) for c in frame[ys[0]].to_list()]
        return Histogram(chart.title, edges, counts, k.column_kind(chart.x, table.schema[chart.x], chart.kinds, chart.table),
                         f"n = {sum(counts):,}")  # no x title: "Bin start" says nothing the chart title does not
    values = histogram_values(table, chart.x)
    kind = k.column_kind(chart.x, table.schema[chart.x], chart.kinds, chart.table)
    edges, counts, clipped, cut = histogram_bins(values)
    caption = f"n = {values.size:,}"
    if clipped:
        caption += f"; {clipped:,} above {format_value(cut, kind)} in the last bin"
    return Histogram(chart.title, [float(e) for e in edges], [int(c) for c in counts], kind, caption, label(chart.x))


def _heatmap(chart: Chart, table: pl.DataFrame) -> Heatmap:
    rows, columns, matrix, kind = heatmap_matrix(chart, table)
    if not np.isfinite(matrix).any():
        raise ChartError("every value is missing")
    note = limit_note(MAX_HEAT_ROWS, len(rows), "rows")
    ys = y_columns(chart)
    if chart.series:
        row_title, column_title = label(chart.series), label(chart.x)
    elif len(ys) == 2 and len(rows) != table.height:
        row_title, column_title = label(ys[0]), label(chart.x)
    else:
        row_title, column_title = label(chart.x), ""
    return Heatmap(chart.title, rows[:MAX_HEAT_ROWS], columns, matrix[:MAX_HEAT_ROWS], kind,
                   row_title, column_title, note)


# --- drawing (Rich renderables: they only lay out numbers already pulled) ----------------------


def _legend(names: Sequence[str]) -> Text:
    text = Text()
    for i, name in enumerate(names):
        text.append("■ ", colour(i))
        text.append(name + "  ")
    return text


def _fit(text: str, width: int) -> str:
    """Cut or pad to `width` terminal cells (CJK characters take two)."""
    if cell_len(text) > width:
        return set_cell_size(text, max(width - 1, 0)) + "…"
    return set_cell_size(text, width)


class BarRender:
    """Horizontal bars, one line per bar, the value at the end; negative values grow left
    of a zero line. Several series: one colour each, named in a legend."""

    def __init__(self, bars: Bars) -> None:
        self.bars = bars

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        bars = self.bars
        width = options.max_width
        many = len(bars.names) > 1
        if many:
            yield _legend(bars.names)
        shown = [[(compact(v, bars.kind) if v is not None else "–") + _ends_text(bars, i, owner)
                  for owner, v in group] for i, (_, group) in enumerate(bars.groups)]
        value_w = max(cell_len(t) for row in shown for t in row)
        label_w = min(max(cell_len(name) for name, _ in bars.groups), max(width // 3, 6))
        area = max(width - label_w - value_w - 2, 4)
        values = bars.values
        lo, hi = min(0.0, *values), max(0.0, *values)
        span = (hi - lo) or 1.0
        zero = round(-lo / span * area)  # cells left of the zero line
        for (name, group), texts in zip(bars.groups, shown):
            for n, ((owner, value), text) in enumerate(zip(group, texts)):
                line = Text(_fit(name if n == 0 else "", label_w) + " ")
                line.append_text(self._bar(value, span, area, zero, colour(owner)))
                line.append(" " + text.rjust(value_w), MUTED if value is None else "")
                yield line
        if bars.note:
            yield Text(bars.note, MUTED)

    @staticmethod
    def _bar(value: float | None, span: float, area: int, zero: int, style: Style) -> Text:
        if value is None:
            return Text(" " * area)
        if value >= 0:
            room = area - zero
            eighths = min(round(value / span * area * 8), room * 8)
            full, part = divmod(eighths, 8)
            body = "█" * full + (HORIZONTAL_EIGHTHS[part] if part else "")
            if value > 0 and not body:
                body = HORIZONTAL_EIGHTHS[1]  # a positive value is never drawn as nothing
            return Text(" " * zero) + Text(body, style) + Text(" " * (room - len(body)))
        cells = max(min(round(-value / span * area), zero), 1)
        return Text(" " * (zero - cells)) + Text("█" * cells, style) + Text(" " * (area - zero))


def _ends_text(bars: Bars, group: int, owner: int) -> str:
    ends = bars.ends.get((group, owner))
    return f" ({compact(ends[0], bars.kind)} to {compact(ends[1], bars.kind)})" if ends else ""


class HistogramRender:
    """Vertical columns with eighth-block tops, the count scale on the left."""

    def __init__(self, hist: Histogram, height: int = PLOT_HEIGHT) -> None:
        self.hist, self.height = hist, height

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        hist = self.hist
        top = max(hist.counts) or 1
        axis_w = len(f"{top:,}") + 1
        bins = len(hist.counts)
        col_w = max(1, min(4, (options.max_width - axis_w) // max(bins, 1)))
        style = colour(0)
        for row in range(self.height, 0, -1):
            label_text = f"{top:,}" if row == self.height else ("0" if row == 1 else "")
            line = Text(label_text.rjust(axis_w - 1) + "│", MUTED)
            for count in hist.counts:
                eighths = count / top * self.height * 8
                level = eighths - (row - 1) * 8
                cell = "█" if level >= 8 else VERTICAL_EIGHTHS[max(0, int(round(level)))]
                if count and row == 1 and cell == " ":
                    cell = "▁"  # a bin with any customers is never drawn empty
                line.append(cell * col_w, style)
            yield line
        plot_w = col_w * bins
        low = format_value(hist.edges[0], hist.kind)
        high = format_value(hist.edges[-1], hist.kind)
        axis = Text(" " * axis_w + low.ljust(max(plot_w - len(high), len(low) + 1)) + high, MUTED)
        yield axis
        if hist.caption:
            yield Text(" " * axis_w + hist.caption, MUTED)


# Braille dots: (row 0-3, column 0-1) -> bit
_DOTS = ((0x01, 0x08), (0x02, 0x10), (0x04, 0x20), (0x40, 0x80))


class LineRender:
    """Lines drawn with braille dots (2 x 4 per cell), the value scale on the left."""

    def __init__(self, lines: Lines, height: int = PLOT_HEIGHT) -> None:
        self.lines, self.height = lines, height

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        lines = self.lines
        lo, hi = value_range(lines.series, include_zero=False)
        if lo > 0 and lo < (hi - lo) * 0.5:  # near zero: start at zero so slopes are not exaggerated
            lo = 0.0
        if hi == lo:
            lo, hi = lo - 1, hi + 1
        ticks = [format_value(hi, lines.kind), format_value((lo + hi) / 2, lines.kind), format_value(lo, lines.kind)]
        axis_w = max(cell_len(t) for t in ticks) + 1
        width = max(options.max_width - axis_w, 8)
        if len(lines.series) > 1:
            yield _legend([s.name for s in lines.series])
        dots_w, dots_h = width * 2, self.height * 4
        bits = np.zeros((self.height, width), dtype=np.int64)
        owner = np.full((self.height, width), -1)
        x_lo, x_hi = min(lines.xs), max(lines.xs)
        x_span = (x_hi - x_lo) or 1.0

        def point(x: float, y: float) -> tuple[int, int]:
            px = round((x - x_lo) / x_span * (dots_w - 1)) if x_hi > x_lo else dots_w // 2
            py = round((hi - y) / (hi - lo) * (dots_h - 1))
            return px, py

        for j, s in enumerate(lines.series):
            previous = None
            for x, y in zip(lines.xs, s.values):
                if y is None:
                    previous = None
                    continue
                here = point(x, y)
                for px, py in _segment(previous or here, here):
                    bits[py // 4, px // 2] |= _DOTS[py % 4][px % 2]
                    owner[py // 4, px // 2] = j
                previous = here
        for row in range(self.height):
            tick = ticks[0] if row == 0 else ticks[2] if row == self.height - 1 else (
                ticks[1] if row == self.height // 2 else "")
            line = Text(tick.rjust(axis_w - 1) + "│", MUTED)
            for col in range(width):
                b = int(bits[row, col])
                line.append(chr(0x2800 + b) if b else " ", colour(int(owner[row, col])) if b else "")
            yield line
        first, last = lines.x_labels[0], lines.x_labels[-1]
        gap = max(width - cell_len(first) - cell_len(last), 1)
        yield Text(" " * axis_w + first + " " * gap + last, MUTED)
        notes = [lines.note] + (["widen the window to see the interval"] if lines.bands else [])
        if any(notes):
            yield Text("; ".join(n for n in notes if n), MUTED)


class ScatterRender:
    """Points as braille dots (2 x 4 per cell), coloured by group; the y scale on the left."""

    def __init__(self, scatter: Scatter, height: int = PLOT_HEIGHT) -> None:
        self.scatter, self.height = scatter, height

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        points = self.scatter.points
        xs = [x for _, gx, _ in points.groups for x in gx]
        ys = [y for _, _, gy in points.groups for y in gy]
        (x_lo, x_hi), (lo, hi) = (min(xs), max(xs)), (min(ys), max(ys))
        ticks = [format_value(hi, points.y_kind), format_value(lo, points.y_kind)]
        axis_w = max(cell_len(t) for t in ticks) + 1
        width = max(options.max_width - axis_w, 8)
        if len(points.groups) > 1:
            yield _legend([name for name, _, _ in points.groups])
        dots_w, dots_h = width * 2, self.height * 4
        bits = np.zeros((self.height, width), dtype=np.int64)
        owner = np.full((self.height, width), -1)
        for j, (_, gx, gy) in enumerate(points.groups):
            px = np.rint((np.asarray(gx) - x_lo) / ((x_hi - x_lo) or 1.0) * (dots_w - 1)).astype(int)
            py = np.rint((hi - np.asarray(gy)) / ((hi - lo) or 1.0) * (dots_h - 1)).astype(int)
            for x, y in zip(px, py):
                bits[y // 4, x // 2] |= _DOTS[y % 4][x % 2]
                owner[y // 4, x // 2] = j
        for row in range(self.height):
            tick = ticks[0] if row == 0 else ticks[1] if row == self.height - 1 else ""
            line = Text(tick.rjust(axis_w - 1) + "│", MUTED)
            for col in range(width):
                b = int(bits[row, col])
                line.append(chr(0x2800 + b) if b else " ", colour(int(owner[row, col])) if b else "")
            yield line
        first, last = format_value(x_lo, points.x_kind), format_value(x_hi, points.x_kind)
        gap = max(width - cell_len(first) - cell_len(last), 1)
        yield Text(" " * axis_w + first + " " * gap + last, MUTED)
        yield Text(f"x: {points.x_title} · y: {points.y_title}" + (f" · {points.note}" if points.note else ""),
                   MUTED)


def _segment(a: tuple[int, int], b: tuple[int, int]) -> list[tuple[int, int]]:
    """Dots on the straight line from a to b (Bresenham)."""
    (x0, y0), (x1, y1) = a, b
    dx, dy = abs(x1 - x0), -abs(y1 - y0)
    sx, sy = (1 if x0 < x1 else -1), (1 if y0 < y1 else -1)
    err, out = dx + dy, []
    while True:
        out.append((x0, y0))
        if (x0, y0) == (x1, y1):
            return out
        e2 = 2 * err
        if e2 >= dy:
            err += dy
            x0 += sx
        if e2 <= dx:
            err += dx
            y0 += sy


_LIGHT, _BLUE, _RED = (247, 251, 255), (47, 109, 181), (200, 80, 90)


def _blend(a: tuple[int, int, int], b: tuple[int, int, int], t: float) -> tuple[int, int, int]:
    return tuple(round(x + (y - x) * t) for x, y in zip(a, b))  # type: ignore[return-value]


class HeatmapRender:
    """A grid of shaded cells with their values; as many columns as fit the width."""

    def __init__(self, heat: Heatmap) -> None:
        self.heat = heat

    def cell_style(self, value: float, lo: float, hi: float) -> Style:
        if lo < 0 < hi:  # diverging around zero
            t = value / (hi if value > 0 else lo)
            rgb = _blend(_LIGHT, _BLUE if value > 0 else _RED, min(abs(t), 1.0))
        else:
            rgb = _blend(_LIGHT, _BLUE, (value - lo) / (hi - lo) if hi > lo else 1.0)
        dark = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2] < 140
        return Style(bgcolor=f"rgb{rgb}", color="white" if dark else "black")

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        heat = self.heat
        finite = heat.matrix[np.isfinite(heat.matrix)]
        lo, hi = float(finite.min()), float(finite.max())
        texts = [[compact(float(v), heat.kind) if np.isfinite(v) else "" for v in row] for row in heat.matrix]
        cell_w = max(5, max(cell_len(t) for row in texts for t in row) + 1,
                     min(max(cell_len(c) for c in heat.columns) + 1, 10))
        row_w = min(max(cell_len(r) for r in [*heat.rows, heat.row_title]), max(options.max_width // 3, 6))
        fit = max(1, (options.max_width - row_w - 1) // cell_w)
        columns = heat.columns[:fit]
        if heat.column_title:
            yield Text(_fit("", row_w) + " " + heat.column_title + " →", MUTED)
        header = Text(_fit(heat.row_title, row_w) + " ", MUTED)
        for c in columns:  # right-aligned over the values
            shown = c if cell_len(c) <= cell_w - 1 else _fit(c, cell_w - 1)
            header.append(" " * (cell_w - 1 - cell_len(shown)) + shown + " ")
        yield header
        for i, name in enumerate(heat.rows):
            line = Text(_fit(name, row_w) + " ")
            for j in range(len(columns)):
                v = heat.matrix[i, j]
                if np.isfinite(v):
                    line.append(texts[i][j].rjust(cell_w - 1) + " ", self.cell_style(float(v), lo, hi))
                else:
                    line.append(" " * cell_w)
            yield line
        notes = [n for n in (heat.note, limit_note(fit, len(heat.columns), "columns")) if n]
        yield Text(f"from {format_value(lo, heat.kind)} (light) to {format_value(hi, heat.kind)} (dark)"
                   + ("; " + "; ".join(notes) if notes else ""), MUTED)


def render(p: Plot):
    """The Rich renderable for a plot."""
    if isinstance(p, Bars):
        return BarRender(p)
    if isinstance(p, Lines):
        return LineRender(p)
    if isinstance(p, Histogram):
        return HistogramRender(p)
    if isinstance(p, Scatter):
        return ScatterRender(p)
    return HeatmapRender(p)


def safe_plot(chart: Chart, table: pl.DataFrame | None) -> tuple[Plot | None, str]:
    """(plot, "") or (None, why not): a chart that cannot be drawn never stops the rest."""
    try:
        return plot(chart, table), ""
    except ChartError as exc:
        return None, str(exc)
    except (ValueError, TypeError, pl.exceptions.PolarsError) as exc:
        return None, f"{type(exc).__name__}: {exc}"

