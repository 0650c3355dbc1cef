"""Bar charts: grouped, horizontal for long labels, one coloured bar per group when groups do not overlap."""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape

import polars as pl

from core.export import columns as k
from core.export.charts.base import (INK, MAX_CATEGORIES, PALETTE, WIDTH, Interval, Scale, Series, axis_width,
                                     clip_text, compact, floats, intervals, legend_marks, limit_note, nice_ticks,
                                     svg_root, svg_text, text_width, value_columns, value_range, wide, with_intervals,
                                     x_value_axis, y_axis)
from core.export.display import format_value, label
from core.result import Chart


def bar_chart(chart: Chart, table: pl.DataFrame) -> str:
    cats, series, kind = wide(chart, table)
    note = limit_note(MAX_CATEGORIES, len(cats), "categories")
    cats = cats[:MAX_CATEGORIES]
    series = [Series(s.name, s.values[:MAX_CATEGORIES]) for s in series]
    labels = [format_value(c, k.column_kind(chart.x, table.schema[chart.x], chart.kinds, chart.table)) for c in cats]
    whiskers = intervals(chart, table, MAX_CATEGORIES)
    lo, hi = value_range(with_intervals(series, whiskers))
    filled = sum(v is not None for s in series for v in s.values)
    if chart.series and len(series) > 1 and filled < 0.5 * len(cats) * len(series):
        bars = _Bars.listed(chart, table)  # e.g. NPS by tier, then by region: groups of one dimension each
        labels = bars.labels
    else:
        names = [s.name for s in series]
        bars = _Bars.of(labels, series, {names.index(w.name): w for w in whiskers if w.name in names})
    plot_w = WIDTH - 80
    horizontal = len(cats) > 12 or max(text_width(t) for t in labels) > plot_w / len(cats) - 6
    draw = _horizontal_bars if horizontal else _vertical_bars
    if whiskers:
        note = "; ".join(filter(None, [note, "whiskers: " + "; ".join(
            f"{label(low)} to {label(high)}" for _, low, high in chart.intervals)]))
    return draw(chart, bars, kind, lo, hi, note)


@dataclass(frozen=True)
class _Bars:
    """Bars per category. When each category has a value in one series only (NPS by tier,
    by region, ...), one bar per category coloured by its series, not a sparse group."""

    labels: list[str]
    names: list[str]  # series names, for the legend
    values: list[list[float | None]]  # [category][bar]
    owners: list[list[int]]  # [category][bar] -> series index (colour, name)
    whiskers: dict[int, Interval] = field(default_factory=dict)  # series index -> its interval ends

    @classmethod
    def of(cls, labels: list[str], series: list[Series], whiskers: dict[int, Interval] | None = None) -> _Bars:
        names = [s.name for s in series]
        present = [[j for j, s in enumerate(series) if s.values[i] is not None] for i in range(len(labels))]
        if len(series) > 1 and all(len(p) <= 1 for p in present):
            return cls(labels, names, [[series[p[0]].values[i]] if p else [None] for i, p in enumerate(present)],
                       [[p[0]] if p else [0] for p in present], whiskers or {})
        return cls(labels, names, [[s.values[i] for s in series] for i in range(len(labels))],
                   [list(range(len(series))) for _ in labels], whiskers or {})

    def ends(self, category: int, owner: int) -> tuple[float, float] | None:
        """The interval around one bar, when the chart has one and both ends are known."""
        band = self.whiskers.get(owner)
        if band is None or band.low[category] is None or band.high[category] is None:
            return None
        return band.low[category], band.high[category]  # type: ignore[return-value]

    @classmethod
    def listed(cls, chart: Chart, table: pl.DataFrame) -> _Bars:
        """One bar per row of a long table, in table order, coloured by its series."""
        y = value_columns(chart, table)[0]
        frame = table.select(chart.x, chart.series, y).filter(pl.col(chart.x).is_not_null()).head(MAX_CATEGORIES)
        names = [format_value(n) for n in frame[chart.series].unique(maintain_order=True).to_list()]
        x_kind = k.column_kind(chart.x, table.schema[chart.x], chart.kinds, chart.table)
        labels, values, owners = [], [], []
        for x, name, v in frame.iter_rows():
            labels.append(format_value(x, x_kind))
            values.append(floats([v]))
            owners.append([names.index(format_value(name))])
        return cls(labels, names, values, owners)

    @property
    def per_category(self) -> int:
        return len(self.values[0])

    def legend(self) -> tuple[list[str], float]:
        return legend_marks([Series(n, []) for n in self.names], 16, 16, WIDTH - 32)


def _bar_rect(x: float, y: float, w: float, h: float, owner: int, cat: str, series: str, v: float, kind: str) -> str:
    shown = format_value(v, kind)
    return (f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{max(w, 0.5):.1f}" height="{max(h, 0.5):.1f}" '
            f'fill="{PALETTE[owner % len(PALETTE)]}" data-category="{escape(cat)}" data-series="{escape(series)}" '
            f'data-value="{v!r}"><title>{escape(cat)} · {escape(series)}: {escape(shown)}</title></rect>')


def _whisker(x0: float, y0: float, x1: float, y1: float, cat: str, series: str, ends: tuple[float, float],
             kind: str) -> str:
    """An interval drawn over its bar: a line between the ends, with short caps."""
    vertical = x0 == x1
    cap = (f'<line x1="{x0 - 4:.1f}" x2="{x0 + 4:.1f}" y1="{y0:.1f}" y2="{y0:.1f}"/>'
           f'<line x1="{x1 - 4:.1f}" x2="{x1 + 4:.1f}" y1="{y1:.1f}" y2="{y1:.1f}"/>' if vertical else
           f'<line x1="{x0:.1f}" x2="{x0:.1f}" y1="{y0 - 4:.1f}" y2="{y0 + 4:.1f}"/>'
           f'<line x1="{x1:.1f}" x2="{x1:.1f}" y1="{y1 - 4:.1f}" y2="{y1 + 4:.1f}"/>')
    shown = f"{format_value(ends[0], kind)} to {format_value(ends[1], kind)}"
    return (f'<g class="whisker" stroke="{INK}" stroke-width="1.5" data-category="{escape(cat)}" '
            f'data-series="{escape(series)}" data-low="{ends[0]!r}" data-high="{ends[1]!r}">'
            f'<title>{escape(cat)} · {escape(series)}: {escape(shown)}</title>'
            f'<line x1="{x0:.1f}" x2="{x1:.1f}" y1="{y0:.1f}" y2="{y1:.1f}"/>{cap}</g>')


def _vertical_bars(chart: Chart, bars: _Bars, kind: str, lo: float, hi: float, note: str) -> str:
    legend, legend_h = bars.legend()
    ticks = nice_ticks(lo, hi)
    left, right = axis_width(ticks, kind) + 18, WIDTH - 16
    top, plot_h = 16 + legend_h + 8, 260
    bottom = top + plot_h
    scale = Scale(ticks[0], ticks[-1], bottom, top)
    body = y_axis(ticks, scale, left, right, kind)
    slot = (right - left) / len(bars.labels)
    group_w = slot * 0.78
    bar_w = group_w / bars.per_category
    single = bars.per_category == 1
    for i, cat in enumerate(bars.labels):
        x0 = left + i * slot + (slot - group_w) / 2
        for j, (v, owner) in enumerate(zip(bars.values[i], bars.owners[i])):
            if v is None:
                continue
            y1, y0 = scale(max(v, 0)), scale(min(v, 0))
            body.append(_bar_rect(x0 + j * bar_w, y1, bar_w - (0 if single else 1), y0 - y1, owner, cat,
                                  bars.names[owner], v, kind))
            ends = bars.ends(i, owner)
            if ends:
                mid = x0 + j * bar_w + bar_w / 2
                body.append(_whisker(mid, scale(ends[0]), mid, scale(ends[1]), cat, bars.names[owner], ends, kind))
                continue  # the whisker takes the place of the value label
            if single and len(bars.labels) <= 16:
                body.append(svg_text(x0 + bar_w / 2, (y1 - 5) if v >= 0 else (y0 + 13),
                                  compact(v, kind), "middle", INK, ' font-size="11"'))
        body.append(svg_text(left + i * slot + slot / 2, bottom + 16, clip_text(cat, slot - 4), "middle", INK))
    height = bottom + 30 + (16 if note else 0)
    if note:
        body.append(svg_text(left, height - 8, note, extra=' font-style="italic"'))
    return svg_root("bar", chart.title, WIDTH, height, legend + body)


def _horizontal_bars(chart: Chart, bars: _Bars, kind: str, lo: float, hi: float, note: str) -> str:
    legend, legend_h = bars.legend()
    clipped = [clip_text(t, 220) for t in bars.labels]
    left = max(text_width(t) for t in clipped) + 24
    right = WIDTH - 60  # room for value labels
    top = 16 + legend_h + 4
    band = max(20.0, bars.per_category * 13 + 8)
    bottom = top + band * len(bars.labels)
    ticks = nice_ticks(lo, hi)
    scale = Scale(ticks[0], ticks[-1], left, right)
    body = x_value_axis(ticks, scale, top, bottom, kind)
    bar_h = (band - 6) / bars.per_category
    single = bars.per_category == 1
    for i, (cat, shown) in enumerate(zip(bars.labels, clipped)):
        y0 = top + i * band + 3
        body.append(svg_text(left - 8, y0 + (band - 6) / 2 + 4, shown, "end", INK))
        for j, (v, owner) in enumerate(zip(bars.values[i], bars.owners[i])):
            if v is None:
                continue
            x1, x0 = scale(max(v, 0)), scale(min(v, 0))
            body.append(_bar_rect(x0, y0 + j * bar_h, x1 - x0, bar_h - (0 if single else 1), owner, cat,
                                  bars.names[owner], v, kind))
            ends = bars.ends(i, owner)
            if ends:
                mid = y0 + j * bar_h + bar_h / 2
                body.append(_whisker(scale(ends[0]), mid, scale(ends[1]), mid, cat, bars.names[owner], ends, kind))
                continue
            if single:
                body.append(svg_text(x1 + 4 if v >= 0 else x0 - 4, y0 + bar_h / 2 + 4, compact(v, kind),
                                  "start" if v >= 0 else "end", INK, ' font-size="11"'))
    height = bottom + 30 + (16 if note else 0)
    if note:
        body.append(svg_text(left, height - 8, note, extra=' font-style="italic"'))
    return svg_root("bar", chart.title, WIDTH, height, legend + body)
