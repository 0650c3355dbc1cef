"""Horizontal bar charts drawn with block characters, one labelled bar per line.

The chart only draws the values it is given (a Result's figures); it computes nothing
but lengths. Labels are fitted by terminal cell width, so Chinese names line up with
Latin ones. Colours come from component classes styled in app.tcss (theme variables),
so the bars read in light and dark themes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from rich.cells import cell_len, set_cell_size
from rich.style import Style
from rich.text import Text
from textual.widget import Widget

EIGHTHS = " ▏▎▍▌▋▊▉█"  # index n: n/8 of a cell filled from the left
FULL = "█"
REFERENCE = "│"
OVERFLOW = "›"
MIN_BAR = 6


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None  # bar length in chart units; None draws no bar
    text: str = ""  # figures shown after the bar


def fit(text: str, width: int) -> str:
    """`text` padded or cut (with an ellipsis) to exactly `width` terminal cells."""
    if width <= 0:
        return ""
    if cell_len(text) <= width:
        return set_cell_size(text, width)
    return set_cell_size(text, width - 1) + "…"


def bar_cells(fraction: float, width: int) -> str:
    """A left-aligned bar filling `fraction` (0-1) of `width` cells, in eighths of a cell."""
    fraction = min(max(fraction, 0.0), 1.0)
    eighths = round(fraction * width * 8)
    full, part = divmod(eighths, 8)
    return (FULL * full + (EIGHTHS[part] if part else "")).ljust(width)


def short_number(value: float | None) -> str:
    """A number in at most about six cells: 1.2M, 35k, 3.8k, 412, 4.4, 0.27."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    magnitude = abs(value)
    if magnitude >= 1e6:
        return f"{value / 1e6:.1f}M"
    if magnitude >= 1e4:
        return f"{value / 1e3:.0f}k"
    if magnitude >= 1e3:
        return f"{value / 1e3:.1f}k"
    if magnitude >= 100 or float(value).is_integer():
        return f"{value:.0f}"
    if magnitude >= 1:
        return f"{value:.1f}"
    return f"{value:.2f}"


class BarChart(Widget):
    """Labelled bars. `reference` draws a marker line (e.g. 100 = average on an index);
    `limit` caps the scale (longer bars end in ›); `diverging` grows negative values to the
    left of a centre line and positive ones to the right."""

    COMPONENT_CLASSES = {"bar-chart--bar", "bar-chart--negative", "bar-chart--reference",
                         "bar-chart--label", "bar-chart--text", "bar-chart--empty"}

    def __init__(self, *, empty: str = "Nothing to show.", id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.bars: tuple[Bar, ...] = ()
        self.reference: float | None = None
        self.limit: float | None = None
        self.scale: float | None = None
        self.diverging = False
        self.empty = empty

    def show(self, bars: Sequence[Bar], *, reference: float | None = None, limit: float | None = None,
             scale: float | None = None, diverging: bool = False, empty: str | None = None) -> None:
        """`scale` fixes the value of a full-width bar (e.g. 1.0 for shares); by default the
        longest bar (or the reference) fills the width, up to `limit`."""
        self.bars, self.reference, self.limit, self.diverging = tuple(bars), reference, limit, diverging
        self.scale = scale
        if empty is not None:
            self.empty = empty
        self.refresh(layout=True)

    def clear(self, empty: str | None = None) -> None:
        self.show((), empty=empty)

    def get_content_height(self, container, viewport, width: int) -> int:  # noqa: ANN001
        return max(len(self.bars), 1)

    def render(self) -> Text:
        if not self.bars:
            return Text(self.empty, style=self.get_component_rich_style("bar-chart--empty"))
        width = max(self.size.width, 20)
        label_w = min(max(cell_len(b.label) for b in self.bars), max(width // 3, 8))
        text_w = max(cell_len(b.text) for b in self.bars)
        bar_w = max(width - label_w - text_w - 2, MIN_BAR)
        styles = {name: self.get_component_rich_style(f"bar-chart--{name}")
                  for name in ("bar", "negative", "reference", "label", "text")}
        scale = self._scale()
        out = Text(no_wrap=True, overflow="crop")
        for i, item in enumerate(self.bars):
            if i:
                out.append("\n")
            out.append(fit(item.label, label_w) + " ", styles["label"])
            out.append_text(self._bar(item.value, scale, bar_w, styles))
            out.append(" " + item.text.rjust(text_w - cell_len(item.text) + len(item.text)), styles["text"])
        return out

    def _scale(self) -> float:
        if self.scale:
            return self.scale
        values = [abs(b.value) for b in self.bars if b.value is not None and math.isfinite(b.value)]
        if self.reference is not None:
            values.append(abs(self.reference))
        top = max(values, default=0.0)
        if self.limit is not None:
            top = min(top, self.limit)
        return top or 1.0

    def _bar(self, value: float | None, scale: float, width: int, styles: dict[str, Style]) -> Text:
        text = Text()
        if value is None or not math.isfinite(value):
            text.append(" " * width)
            return text
        if self.diverging:
            half = width // 2
            cells = min(abs(value) / scale, 1.0) * half
            if value < 0:
                whole = round(cells)
                text.append(" " * (half - whole) + FULL * whole, styles["negative"])
                text.append(REFERENCE, styles["reference"])
                text.append(" " * (width - half - 1))
            else:
                text.append(" " * half)
                text.append(REFERENCE, styles["reference"])
                text.append(bar_cells(cells / max(width - half - 1, 1), width - half - 1), styles["bar"])
            return text
        over = abs(value) > scale
        cells = bar_cells(abs(value) / scale, width)
        if over:
            cells = cells[:-1] + OVERFLOW
        text.append(cells, styles["negative" if value < 0 else "bar"])
        if self.reference is not None and 0 <= self.reference <= scale:
            at = min(round(self.reference / scale * width), width - 1)
            text = text[:at] + Text(REFERENCE, styles["reference"]) + text[at + 1:]
        return text
