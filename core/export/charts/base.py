"""What every chart shares: the data pulled from the table, scales, ticks, text and SVG."""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

import polars as pl

from core.export import columns as k
from core.export.display import format_value, label
from core.result import Chart

WIDTH = 560  # drawn at its natural size in the report's two-column grid
FONT = 12
FONT_FAMILY = ("system-ui, -apple-system, 'Segoe UI', Roboto, 'Noto Sans', 'Noto Sans CJK SC', "
               "'PingFang SC', 'Microsoft YaHei', sans-serif")
PALETTE = ("#2F6DB5", "#E5863A", "#3A9E78", "#C8505A", "#8465B5", "#9C7650", "#D27CB0", "#6F7782",
           "#B4A82E", "#3AAFC2")
INK, MUTED, GRID = "#1F2933", "#616E7C", "#E4E7EB"
MAX_CATEGORIES, MAX_POINTS, MAX_CELLS_SIDE = 40, 5000, 60


class ChartError(ValueError):
    """The chart cannot be drawn from this table (missing column, no data...)."""


# --- data ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Series:
    name: str
    values: list[float | None]


def y_columns(chart: Chart) -> tuple[str, ...]:
    return (chart.y,) if isinstance(chart.y, str) else tuple(chart.y)


def interval_columns(chart: Chart) -> tuple[str, ...]:
    """The low and high columns of the chart's intervals (checked like the other columns)."""
    return tuple(c for _, low, high in chart.intervals for c in (low, high))


@dataclass(frozen=True)
class Interval:
    """The low and high ends around one plotted column, row for row with its values."""

    name: str  # the y column
    low: list[float | None]
    high: list[float | None]


def intervals(chart: Chart, table: pl.DataFrame, count: int) -> list[Interval]:
    """The chart's intervals over the rows `wide` plots (x present, table order), cut to `count`.
    Long tables split by `series` carry none: an interval belongs to one column."""
    if chart.series or not chart.intervals:
        return []
    frame = table.filter(pl.col(chart.x).is_not_null()).head(count)
    return [Interval(y, floats(frame[low].to_list()), floats(frame[high].to_list()))
            for y, low, high in chart.intervals if y in y_columns(chart) or not y_columns(chart)]


def with_intervals(series: Sequence[Series], bands: Sequence[Interval]) -> list[Series]:
    """The series plus the interval ends, so a value range covers the whiskers and bands too."""
    return [*series, *(Series(b.name, [*b.low, *b.high]) for b in bands)]


def need_columns(table: pl.DataFrame, *names: str) -> None:
    missing = [n for n in names if n not in table.columns]
    if missing:
        raise ChartError(f"the table has no column {', '.join(map(repr, missing))}")


def value_columns(chart: Chart, table: pl.DataFrame) -> list[str]:
    ys = list(y_columns(chart)) or [c for c, t in table.schema.items() if t.is_numeric() and c != chart.x]
    if not ys:
        raise ChartError("no numeric column to plot")
    for y in ys:
        if not table.schema[y].is_numeric():
            raise ChartError(f"column {y!r} is not numeric")
    return ys


def floats(values: Sequence[object]) -> list[float | None]:
    out: list[float | None] = []
    for v in values:
        f = None if v is None or isinstance(v, bool) else float(v)  # type: ignore[arg-type]
        out.append(None if f is None or not math.isfinite(f) else f)
    return out


def wide(chart: Chart, table: pl.DataFrame) -> tuple[list[object], list[Series], str]:
    """Categories (x values in table order) and one Series per line/bar group, plus the value kind."""
    ys = value_columns(chart, table)
    if chart.series:
        y = ys[0]
        frame = table.select(chart.x, chart.series, y).filter(pl.col(chart.x).is_not_null())
        cats = frame[chart.x].unique(maintain_order=True).to_list()
        names = frame[chart.series].unique(maintain_order=True).to_list()
        series = []
        for name in names:
            part = frame.filter(pl.col(chart.series).eq_missing(name))
            lookup = dict(zip(part[chart.x].to_list(), floats(part[y].to_list())))
            series.append(Series(format_value(name), [lookup.get(c) for c in cats]))
        kind = k.column_kind(y, table.schema[y], chart.kinds, chart.table)
    else:
        frame = table.filter(pl.col(chart.x).is_not_null())
        cats = frame[chart.x].to_list()
        series = [Series(y, floats(frame[y].to_list())) for y in ys]
        kinds = {k.column_kind(y, table.schema[y], chart.kinds, chart.table) for y in ys}
        kind = kinds.pop() if len(kinds) == 1 else k.NUMBER
    if not cats:
        raise ChartError("no rows to plot")
    return cats, series, kind


# --- layout helpers ---------------------------------------------------------------------


def text_width(text: str, size: float = FONT) -> float:
    """Rough rendered width: East Asian wide characters are about one em, others about 0.58."""
    return sum(size * (1.0 if unicodedata.east_asian_width(ch) in "WF" else 0.58) for ch in text)


def clip_text(text: str, max_width: float, size: float = FONT) -> str:
    if text_width(text, size) <= max_width:
        return text
    while text and text_width(text + "…", size) > max_width:
        text = text[:-1]
    return text + "…"


def nice_ticks(lo: float, hi: float, target: int = 5) -> list[float]:
    """Round tick values covering [lo, hi] (Heckbert's nice numbers)."""
    if hi < lo:
        lo, hi = hi, lo
    if hi == lo:
        pad = abs(lo) * 0.1 or 1.0
        lo, hi = lo - pad, hi + pad
    raw = (hi - lo) / max(target, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    start = math.floor(lo / step + 1e-9) * step
    stop = math.ceil(hi / step - 1e-9) * step
    count = int(round((stop - start) / step))
    return [round(start + i * step, 12) for i in range(count + 1)]


def axis_labels(ticks: Sequence[float], kind: str) -> list[str]:
    """Tick labels sharing one unit (k, M, B) and enough decimals to tell them apart."""
    step = abs(ticks[1] - ticks[0]) if len(ticks) > 1 else 1.0
    top = max(abs(t) for t in ticks)
    if kind == k.PERCENT:
        return [f"{t * 100:,.{_decimals(step * 100)}f}%" for t in ticks]
    if kind == k.POINTS:
        return [f"{t:,.{_decimals(step)}f}%" for t in ticks]
    for unit, suffix in ((1e9, "B"), (1e6, "M"), (1e4, "k")):
        if top >= unit:
            divisor = unit if unit != 1e4 else 1e3
            return [f"{t / divisor:,.{_decimals(step / divisor)}f}{suffix}" if t else "0" for t in ticks]
    return [f"{t:,.{_decimals(step)}f}" for t in ticks]


def compact(value: float, kind: str) -> str:
    """A short label for a bar: 132k, 1.23M, 41.2%, 452."""
    if kind in (k.PERCENT, k.POINTS):
        return format_value(value, kind)
    magnitude = abs(value)
    for unit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if magnitude >= unit * 0.9995:
            return f"{value / unit:.3g}{suffix}"
    if kind in (k.COUNT, k.ID) or float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:.3g}"


def _decimals(step: float) -> int:
    """Fewest decimals that show the tick step exactly (2.5 -> 1, 0.25 -> 2, 1000 -> 0)."""
    for d in range(7):
        scaled = abs(step) * 10**d
        if abs(scaled - round(scaled)) < 1e-6 * max(1.0, scaled):
            return d
    return 6


class Scale:
    """Linear map from data values to pixels."""

    def __init__(self, lo: float, hi: float, start: float, end: float) -> None:
        self.lo, self.hi, self.start, self.end = lo, hi, start, end

    def __call__(self, value: float) -> float:
        if self.hi == self.lo:
            return (self.start + self.end) / 2
        return self.start + (value - self.lo) / (self.hi - self.lo) * (self.end - self.start)


def svg_root(kind: str, title: str, width: float, height: float, body: list[str]) -> str:
    wide = ' data-wide="true"' if width > WIDTH else ""
    return (
        f'<svg class="chart" data-kind="{kind}"{wide} viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" '
        f'height="{height:.0f}" role="img" aria-label="{escape(title)}" '
        f'font-family="{escape(FONT_FAMILY)}" font-size="{FONT}" fill="{INK}">'
        f"<title>{escape(title)}</title>" + "".join(body) + "</svg>"
    )


def svg_text(x: float, y: float, text: str, anchor: str = "start", fill: str = MUTED, extra: str = "") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" fill="{fill}"{extra}>'
            f"{escape(text)}</text>")


def legend_marks(series: Sequence[Series], x: float, y: float, max_width: float) -> tuple[list[str], float]:
    """Swatches in rows from (x, y), or for one series its name; returns the marks and the height used."""
    if len(series) < 2:
        return [svg_text(x, y + 1, label(series[0].name), extra=' font-style="italic"')], 18.0
    out, cx, cy = [], x, y
    for i, s in enumerate(series):
        shown = clip_text(s.name, 180)
        w = 16 + text_width(shown) + 18
        if cx + w > x + max_width and cx > x:
            cx, cy = x, cy + 18
        out.append(f'<g class="legend-item"><rect x="{cx:.1f}" y="{cy - 9:.1f}" width="11" height="11" rx="2" '
                   f'fill="{PALETTE[i % len(PALETTE)]}"/>{svg_text(cx + 16, cy + 1, shown, fill=INK)}</g>')
        cx += w
    return out, cy - y + 18


def y_axis(ticks: list[float], scale: Scale, left: float, right: float, kind: str) -> list[str]:
    out = []
    for t, tick in zip(ticks, axis_labels(ticks, kind)):
        y = scale(t)
        colour = "#9AA5B1" if t == 0 else GRID
        out.append(f'<line x1="{left:.1f}" x2="{right:.1f}" y1="{y:.1f}" y2="{y:.1f}" stroke="{colour}"/>')
        out.append(svg_text(left - 6, y + 4, tick, "end"))
    return out


def axis_width(ticks: list[float], kind: str) -> float:
    return max(text_width(t) for t in axis_labels(ticks, kind))


def x_value_axis(ticks: list[float], scale: Scale, top: float, bottom: float, kind: str) -> list[str]:
    out = []
    for t, tick in zip(ticks, axis_labels(ticks, kind)):
        x = scale(t)
        colour = "#9AA5B1" if t == 0 else GRID
        out.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top:.1f}" y2="{bottom:.1f}" stroke="{colour}"/>')
        out.append(svg_text(x, bottom + 16, tick, "middle"))
    return out


def inside(ticks: list[float], lo: float, hi: float) -> list[float]:
    return [t for t in ticks if lo - 1e-9 <= t <= hi + 1e-9] or [lo]


def limit_note(shown: int, total: int, what: str) -> str:
    return f"first {shown} of {total} {what} shown" if total > shown else ""


def value_range(series: Sequence[Series], include_zero: bool = True) -> tuple[float, float]:
    values = [v for s in series for v in s.values if v is not None]
    if not values:
        raise ChartError("every value is missing")
    lo, hi = min(values), max(values)
    if include_zero:
        lo, hi = min(lo, 0.0), max(hi, 0.0)
    return lo, hi
