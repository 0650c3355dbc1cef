"""Charts drawn with plotext (through textual-plotext): axes with ticks in the result's units,
axis titles, a legend, interval bands and whiskers, scatter points coloured by group.

`PlotView` takes the numbers `tui.widgets.charts.plot` already pulled in a worker and only
lays them out. It falls back to the text chart of `tui.widgets.charts` (the same numbers
as Rich renderables) when plotext would mislead or not fit:
- the widget is narrower than MIN_WIDTH cells or the screen lower than MIN_SCREEN_HEIGHT rows
  (or, when it fills a fixed panel, that panel is lower than PLOT_ROWS[0]);
- a heatmap (cells coloured with their value in them read better as text than plotext's matrix),
  or bars of one series without intervals (a labelled bar with its value printed is clearer
  and shorter);
- a label, series name or title holds wide characters (Chinese): plotext counts characters,
  not terminal cells, and would shift its axes; the text charts measure cells.
"""

from __future__ import annotations

import math
from typing import Any

from rich.cells import cell_len
from rich.text import Text
from textual_plotext import PlotextPlot

from core.export.charts.base import PALETTE, axis_labels, nice_ticks
from core.export.display import label
from tui.widgets.charts import (MUTED, Bars, Heatmap, Histogram, HistogramRender, LineRender, Lines, Plot, Scatter,
                                render)

MIN_WIDTH = 44  # cells: narrower, the text chart
MIN_SCREEN_HEIGHT = 24  # rows: a lower terminal gets the text chart
PLOT_ROWS = (12, 22)  # a plot's height: what its panel shows at once, within these bounds
LABEL_CELLS = 18  # category labels are cut to this many cells
BAND = (170, 196, 228)  # the interval band: a light tint of the first palette colour
WHISKER = (90, 90, 90)
REFERENCE = (150, 150, 150)  # reference lines (a scatter's split points)


def rgb(i: int) -> tuple[int, int, int]:
    hex_colour = PALETTE[i % len(PALETTE)].lstrip("#")
    return tuple(int(hex_colour[j:j + 2], 16) for j in (0, 2, 4))  # type: ignore[return-value]


def tint(colour: tuple[int, int, int], share: float = 0.6) -> tuple[int, int, int]:
    """The colour mixed with white: a band under its line."""
    return tuple(round(c + (255 - c) * share) for c in colour)  # type: ignore[return-value]


def short(text: str, cells: int = LABEL_CELLS) -> str:
    return text if len(text) <= cells else text[: cells - 1] + "…"


def name(p: Bars | Lines, series: str) -> str:
    """A series' name in the legend: a column's label ("Sales lift"), or a value as it is."""
    return label(series) if p.named_by_column else series


def texts_of(p: Plot) -> list[str]:
    """Every piece of text plotext would lay out for this plot."""
    if isinstance(p, Bars):
        return [p.title, p.x_title, *p.names, *(name for name, _ in p.groups)]
    if isinstance(p, Lines):
        return [p.title, p.x_title, *(s.name for s in p.series), p.x_labels[0], p.x_labels[-1]]
    if isinstance(p, Histogram):
        return [p.title, p.x_title]
    if isinstance(p, Scatter):
        return [p.title, p.points.x_title, p.points.y_title, *(name for name, _, _ in p.points.groups)]
    return [p.title]


def plotext_can_draw(p: Plot) -> bool:
    """Heatmaps, and bars of one series without intervals (a labelled bar with its value
    printed reads better, in fewer lines), stay text charts."""
    if isinstance(p, Heatmap) or (isinstance(p, Bars) and len(p.names) == 1 and not p.ends):
        return False
    return all(cell_len(t) == len(t) for t in texts_of(p))


# --- drawing onto plotext (only layout: the numbers are already pulled) ---------------------------


def value_ticks(plt: Any, lo: float, hi: float, kind: str, axis: str = "y") -> None:
    """Round ticks labelled as the tables label the values (money, shares...)."""
    ticks = nice_ticks(lo, hi)
    (plt.yticks if axis == "y" else plt.xticks)(ticks, axis_labels(ticks, kind))
    (plt.ylim if axis == "y" else plt.xlim)(ticks[0], ticks[-1])


def draw(plt: Any, p: Plot, width: int) -> None:
    plt.clear_figure()
    if isinstance(p, Lines):
        _lines(plt, p, width)
    elif isinstance(p, Bars):
        _bars(plt, p)
    elif isinstance(p, Histogram):
        _histogram(plt, p)
    elif isinstance(p, Scatter):
        _scatter(plt, p)


def _runs(xs: list[float], ys: list[float | None]) -> list[tuple[list[float], list[float]]]:
    runs: list[tuple[list[float], list[float]]] = [([], [])]
    for x, y in zip(xs, ys):
        if y is None:
            if runs[-1][0]:
                runs.append(([], []))
        else:
            runs[-1][0].append(x)
            runs[-1][1].append(y)
    return [r for r in runs if r[0]]


def _band_path(xs: list[float], low: list[float | None], high: list[float | None],
               steps: int) -> tuple[list[float], list[float]]:
    """A zig-zag between the ends, dense enough (one turn per braille column) to fill the band."""
    known = [(x, a, b) for x, a, b in zip(xs, low, high) if a is not None and b is not None]
    if not known:
        return [], []
    path_x, path_y = [], []
    first, last = known[0][0], known[-1][0]
    span = (last - first) or 1.0
    count = max(2, steps)
    for n in range(count + 1):
        x = first + span * n / count
        # linear interpolation between the known points around x
        right = next(i for i, (kx, _, _) in enumerate(known) if kx >= x - 1e-9)
        left = max(right - 1, 0)
        (x0, a0, b0), (x1, a1, b1) = known[left], known[right]
        t = 0.0 if x1 == x0 else (x - x0) / (x1 - x0)
        a, b = a0 + (a1 - a0) * t, b0 + (b1 - b0) * t
        path_x += [x, x]
        path_y += [a, b] if n % 2 == 0 else [b, a]
    return path_x, path_y


def _lines(plt: Any, p: Lines, width: int) -> None:
    values = [v for s in p.series for v in s.values if v is not None] + \
        [v for b in p.bands for v in (*b.low, *b.high) if v is not None]
    lo, hi = min(values), max(values)
    if lo > 0 and lo < (hi - lo) * 0.5:  # near zero: start at zero so slopes are not exaggerated
        lo = 0.0
    names = [s.name for s in p.series]
    x_span = (max(p.xs) - min(p.xs)) or 1.0
    for band in p.bands:
        owner = names.index(band.name) if band.name in names else 0
        known = [x for x, a in zip(p.xs, band.low) if a is not None]
        steps = int(2 * width * (max(known) - min(known)) / x_span) if known else 0
        bx, by = _band_path(p.xs, band.low, band.high, steps)
        if bx:
            plt.plot(bx, by, color=tint(rgb(owner)), marker="braille", label=f"{name(p, band.name)} interval")
    for j, s in enumerate(p.series):
        for n, (xs, ys) in enumerate(_runs(p.xs, s.values)):
            plt.plot(xs, ys, color=rgb(j), marker="braille",
                     label=name(p, s.name) if n == 0 and (len(p.series) > 1 or p.bands) else None)
    if p.x_kind is not None and max(p.xs) > min(p.xs):
        value_ticks(plt, min(p.xs), max(p.xs), p.x_kind, "x")
    else:  # dates or labels: ticks on points of the series, labelled as the table shows them
        every = max(1, math.ceil(len(p.xs) / 6))
        ticks = list(range(0, len(p.xs), every))
        if ticks[-1] != len(p.xs) - 1 and len(p.xs) - 1 - ticks[-1] >= every / 2:
            ticks.append(len(p.xs) - 1)
        plt.xticks([p.xs[i] for i in ticks], [p.x_labels[i] for i in ticks])
    value_ticks(plt, lo, hi, p.kind)
    plt.xlabel(p.x_title)
    if p.note:
        plt.title(p.note)


def _bars(plt: Any, p: Bars) -> None:
    """Grouped bars at numeric positions (so whiskers land on their bar), labelled by ticks;
    horizontal when there are many or long labels, as the HTML report does."""
    horizontal = len(p.groups) > 8 or max(len(name) for name, _ in p.groups) > 12
    per_series: dict[int, tuple[list[float], list[float]]] = {}
    whiskers = []
    for i, (_, group) in enumerate(p.groups):
        slot = 0.8 / max(len(group), 1)
        for n, (owner, value) in enumerate(group):
            at = i + (n - (len(group) - 1) / 2) * slot
            if value is not None:
                per_series.setdefault(owner, ([], []))[0].append(at)
                per_series[owner][1].append(value)
            ends = p.ends.get((i, owner))
            if ends:
                whiskers.append((at, ends))
    width = 0.8 / max(max(len(g) for _, g in p.groups), 1)
    orientation = "horizontal" if horizontal else "vertical"
    positions = list(range(len(p.groups)))
    if horizontal:  # the first category on top, as a list reads
        flip = len(p.groups) - 1
        per_series = {j: ([flip - a for a in xs], ys) for j, (xs, ys) in per_series.items()}
        whiskers = [(flip - at, ends) for at, ends in whiskers]
    for owner, (xs, ys) in sorted(per_series.items()):
        # plotext scales `width` by the series' mean spacing: undo that so every bar is one slot wide
        spacing = (max(xs) - min(xs)) / (len(xs) - 1) if len(xs) > 1 else 1.0
        plt.bar(xs, ys, width=min(width / (spacing or 1.0), 1.0), color=rgb(owner), orientation=orientation,
                label=name(p, p.names[owner]) if len(p.names) > 1 else None)
    for at, (lo, hi) in whiskers:
        if horizontal:
            plt.plot([lo, hi], [at, at], color=WHISKER, marker="─")
        else:
            plt.plot([at, at], [lo, hi], color=WHISKER, marker="│")
    labels = [short(name) for name, _ in p.groups]
    values = p.values
    lo, hi = min(0.0, *values), max(0.0, *values)
    if horizontal:
        plt.yticks([len(p.groups) - 1 - i for i in positions], labels)
        value_ticks(plt, lo, hi, p.kind, "x")
    else:
        plt.xticks(positions, labels)
        value_ticks(plt, lo, hi, p.kind)
        plt.xlabel(p.x_title)
    notes = [p.note] + (["whiskers: the interval"] if p.ends else [])
    if any(notes):
        plt.title("; ".join(n for n in notes if n))


def _histogram(plt: Any, p: Histogram) -> None:
    centres = [(a + b) / 2 for a, b in zip(p.edges[:-1], p.edges[1:])]
    plt.bar(centres, p.counts, width=1.0, color=rgb(0))  # plotext's width: a share of the bin
    value_ticks(plt, p.edges[0], p.edges[-1], p.kind, "x")
    plt.xlim(p.edges[0], p.edges[-1])
    value_ticks(plt, 0.0, float(max(p.counts) or 1), "count")
    plt.xlabel(p.x_title)
    if p.caption:
        plt.title(p.caption)


def _scatter(plt: Any, p: Scatter) -> None:
    points = p.points
    for j, (name, xs, ys) in enumerate(points.groups):
        plt.scatter(xs, ys, color=rgb(j), marker="dot", label=name if len(points.groups) > 1 else None)
    xs = [x for _, gx, _ in points.groups for x in gx]
    ys = [y for _, _, gy in points.groups for y in gy]
    for axis, value, _ in points.references:  # e.g. the quadrants' split points
        (plt.vline if axis == "x" else plt.hline)(value, REFERENCE)
    value_ticks(plt, min(xs), max(xs), points.x_kind, "x")
    value_ticks(plt, min(ys), max(ys), points.y_kind)
    plt.xlabel(points.x_title)
    plt.ylabel(points.y_title)
    notes = [points.note] + ([" · ".join(f"{axis}: {text}" for axis, _, text in points.references)]
                             if points.references else [])
    if any(notes):
        plt.title("; ".join(n for n in notes if n))


# --- the widget ---------------------------------------------------------------------------------


class PlotView(PlotextPlot):
    """One chart, its title on the border. plotext draws it when it fits, else the text chart.
    With `fit_height` it fills the height CSS gives it; otherwise it sizes itself: a plot takes
    the height its panel shows at once (within PLOT_ROWS), a text chart the lines it needs."""

    DEFAULT_CSS = """
    PlotView { height: auto; width: 1fr; }
    """

    def __init__(self, p: Plot | None, title: str, *, problem: str = "", fit_height: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.plot = p
        self.problem = problem
        self.fit_height = fit_height
        self.border_title = title

    def show(self, p: Plot | None, problem: str = "") -> None:
        self.plot, self.problem = p, problem
        self.refresh(layout=True)

    def uses_plotext(self, width: int | None = None) -> bool:
        """Whether plotext draws the chart at this width (the text chart otherwise)."""
        width = self.content_size.width if width is None else width
        if self.fit_height and self.is_mounted and self.content_size.height < PLOT_ROWS[0]:
            return False  # a panel too low for axes: the text chart's eighth-blocks read better
        return (self.plot is not None and plotext_can_draw(self.plot) and width >= MIN_WIDTH
                and self.app.size.height >= MIN_SCREEN_HEIGHT)

    def _fallback(self):
        if self.plot is None:
            return Text(f"Cannot draw this chart: {self.problem}" if self.problem else "Nothing to draw yet.",
                        MUTED)
        if self.fit_height and isinstance(self.plot, (Histogram, Lines)):
            rows = max(3, self.content_size.height - 3)
            return HistogramRender(self.plot, rows) if isinstance(self.plot, Histogram) else LineRender(self.plot, rows)
        return render(self.plot)

    def get_content_height(self, container, viewport, width: int) -> int:  # noqa: ANN001
        if self.fit_height:
            return viewport.height
        if self.uses_plotext(width):  # the visible height of the panel (less the border), within bounds
            low, high = PLOT_ROWS
            return max(low, min(high, container.height - 2))
        lines = self.app.console.render_lines(self._fallback(), self.app.console.options.update_width(max(width, 1)),
                                              pad=False)
        return max(len(lines), 1)

    def render(self):
        if not self.uses_plotext():
            return self._fallback()
        draw(self.plt, self.plot, self.content_size.width)
        return super().render()


def caption(p: Plot | None) -> str:
    """A one-line description of a plot, for tests and screen readers."""
    if p is None:
        return ""
    if isinstance(p, Scatter):
        return f"{p.title}: {p.points.count:,} points in {len(p.points.groups)} groups"
    if isinstance(p, Bars):
        return f"{p.title}: {len(p.groups)} bars"
    if isinstance(p, Lines):
        return f"{p.title}: {len(p.series)} lines over {len(p.xs)} points"
    if isinstance(p, Histogram):
        return f"{p.title}: {len(p.counts)} bins"
    return f"{p.title}: {len(p.rows)} x {len(p.columns)} cells"

