"""A transition matrix (segment before x segment after) as a table whose cells are shaded
by row share, like a heat map. It draws a migration Result's `counts` and `shares`
tables as they are."""

from __future__ import annotations

import polars as pl
from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual.color import Color
from textual.widgets import DataTable

from core.export.display import printable
from tui.widgets.bars import fit

HEADER_WIDTH = 9  # header lines are cut to this many cells (ten segments fit 160 columns); full names are in the row labels
MAX_SHADE = 0.85


def header_label(name: str) -> Text:
    """A segment name on at most two short lines ("Potential" / "Loyalists"), measured in
    terminal cells so Chinese names are cut at the same width as Latin ones."""
    words, lines = printable(name).split(), [""]
    for word in words:
        candidate = f"{lines[-1]} {word}".strip()
        if cell_len(candidate) <= HEADER_WIDTH or not lines[-1]:
            lines[-1] = candidate
        elif len(lines) < 2:
            lines.append(word)
        else:
            lines[-1] = candidate
    lines = [fit(ln, HEADER_WIDTH).rstrip() if cell_len(ln) > HEADER_WIDTH else ln for ln in lines]
    return Text("\n".join(lines), style="bold", justify="right")


class MatrixTable(DataTable):
    COMPONENT_CLASSES = DataTable.COMPONENT_CLASSES | {"matrix-table--heat"}

    def __init__(self, **kwargs) -> None:  # noqa: ANN003
        kwargs.setdefault("cursor_type", "cell")
        kwargs.setdefault("header_height", 2)
        kwargs.setdefault("fixed_columns", 1)  # the "from" segment stays while scrolling to the last columns
        super().__init__(**kwargs)

    def show_matrix(self, counts: pl.DataFrame, shares: pl.DataFrame, row_label: str = "from \\ to") -> None:
        """counts: from_segment, one column per after-segment, total; shares: the row shares."""
        self.clear(columns=True)
        targets = [c for c in counts.columns if c not in ("from_segment", "total")]
        self.add_column(Text(row_label, style="bold"), key="from_segment")
        for name in targets:
            self.add_column(header_label(name), key=name)
        self.add_column(Text("total", style="bold", justify="right"), key="total")
        heat = self.get_component_rich_style("matrix-table--heat").color
        heat_color = Color.from_rich_color(heat) if heat is not None else Color.parse("ansi_blue")
        _, background = self.background_colors
        share_rows = {row["from_segment"]: row for row in shares.iter_rows(named=True)}
        for row in counts.iter_rows(named=True):
            source = row["from_segment"]
            cells = [Text(printable(source), style="bold")]
            for name in targets:
                share = share_rows.get(source, {}).get(name)
                cells.append(self._cell(row[name], share, background, heat_color))
            cells.append(Text(f"{row['total']:,}", justify="right"))
            self.add_row(*cells, key=source)

    @staticmethod
    def _cell(count: int, share: float | None, background: Color, heat: Color) -> Text:
        text = f"{count:,}" + ("" if not share else " <1%" if share < 0.005 else f" {share:.0%}")
        if not share:
            return Text(text, style="dim", justify="right")
        shade = background.blend(heat, min(share, 1.0) * MAX_SHADE)
        style = Style(bgcolor=shade.rich_color, color=shade.get_contrast_text().rich_color)
        return Text(text, style=style, justify="right")
