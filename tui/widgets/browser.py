"""A virtualised browser for a whole table: the Polars frame goes to fastdatatable's
Polars backend, which renders only the rows on screen (no million-row Python lists).

fastdatatable tables cannot be refilled in place, so each table shown gets a new one.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import polars as pl
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static
from rich.align import Align
from rich.segment import Segment
from rich.style import Style
from textual_fastdatatable import DataTable
from textual_fastdatatable.backend import PolarsBackend
from textual_fastdatatable.column import CELL_X_PADDING
from textual_fastdatatable.format import MULTILINE_MARKER_WIDTH

from core.export.display import printable, printable_frame

MAX_COLUMN_WIDTH = 40  # long comments should not push every other column off screen
NULL_TEXT = "<null>"  # what the backend measures a missing text value as


def text_width(series: pl.Series) -> int:
    """The widest cell of a text column as the table draws it literally (no markup): a
    multi-line value as its first line and the line-break marker. ASCII values are
    measured in Polars; only the distinct others go through Rich, one at a time."""
    from rich.cells import cell_len

    values = series.fill_null(NULL_TEXT)
    chars = values.str.len_chars()
    plain = (chars == values.str.len_bytes()) & ~values.str.contains("\n", literal=True)
    widest = chars.filter(plain).max() or 0
    for value in values.filter(~plain).unique():
        first, *more = value.split("\n", 1)
        widest = max(widest, cell_len(first) + (MULTILINE_MARKER_WIDTH if more else 0))
    return widest


class FrameBackend(PolarsBackend):
    """fastdatatable's Polars backend, measuring text columns in Polars (text_width): its
    own measure goes through a pyarrow function whose first call imports pandas, 1.2 s
    that hold the GIL in the worker and so freeze the screen before the first rows.

    Money columns (`money`: column position -> width) stay numbers in the frame and are
    formatted as a row is drawn: formatting a million values up front kept both cores busy
    for about a second while the screen waited for one."""

    money: dict[int, int] = {}

    def _measure(self, arr: pl.Series) -> int:
        if arr.dtype == pl.String:
            return text_width(arr)
        return super()._measure(arr)

    @property
    def column_content_widths(self) -> list[int]:
        widths = list(super().column_content_widths)
        for i, width in self.money.items():
            widths[i] = width
        return widths

    def get_row_at(self, index: int) -> list:
        row = list(super().get_row_at(index))
        for i, width in self.money.items():
            row[i] = money_cell(row[i], width)
        return row

    def get_cell_at(self, row_index: int, column_index: int):
        value = super().get_cell_at(row_index, column_index)
        width = self.money.get(column_index)
        return value if width is None else money_cell(value, width)

    def get_column_at(self, column_index: int) -> list:
        width = self.money.get(column_index)
        values = super().get_column_at(column_index)
        return values if width is None else [money_cell(v, width) for v in values]


def browsable(frame: pl.DataFrame, money: Sequence[str] = (), marks: Mapping[str, str] | None = None
               ) -> PolarsBackend:
    """The backend for `frame`, built in a worker thread with its column widths measured,
    so the UI thread only draws the rows in view. `money` columns show two decimals and
    thousands separators, as the report tables do ("18,952.41"; the table itself would
    print floats to six significant digits, 1.23457e+06), right-aligned to one width.
    `marks` are added to column headers (the sort marker, tui/widgets/sheet.py).
    Control characters in text and column names are replaced here, once, in Polars."""
    widths = {frame.columns.index(c): money_width(frame[c]) for c in money
              if c in frame.columns and frame[c].dtype.is_numeric()}
    if marks:
        frame = frame.rename({c: c + m for c, m in marks.items() if c in frame.columns})
    frame = printable_frame(frame)
    backend = FrameBackend.from_dataframe(frame)
    backend.render_markup = False  # cell values are user data, never markup
    backend.money = {i: max(width, len(frame.columns[i])) for i, width in widths.items()}
    _ = backend.column_content_widths  # measured (and cached) here, off the UI thread
    return backend


def money_cell(value, width: int) -> str | None:
    """A money value as the report tables show it, "18,952.41", padded on the left to the
    column's width so the column reads right-aligned like numbers."""
    if value is None or not math.isfinite(value):
        return None
    return f"{value:,.2f}".rjust(width)


def money_width(column: pl.Series) -> int:
    """The widest money cell: the longest text is the smallest or the largest value."""
    finite = column.filter(column.is_finite()) if column.dtype.is_float() else column.drop_nulls()
    ends = [finite.min(), finite.max()] if len(finite) else []
    return max((len(f"{v:,.2f}") for v in ends), default=0)


def fit_parts(text: str, width: int, sep: str = " · ") -> str:
    """`text` if it fits in `width` cells; else as many of its `sep`-separated parts as fit,
    followed by "…"."""
    from rich.cells import cell_len

    if width <= 0 or cell_len(text) <= width:
        return text
    parts = text.split(sep)
    for n in range(len(parts) - 1, 0, -1):
        shown = sep.join(parts[:n]) + sep + "…"
        if cell_len(shown) <= width:
            return shown
    return text  # not even the first part fits: Textual cuts it with an ellipsis


def plain_cell(renderable) -> tuple[str, bool] | None:
    """(text, right-aligned) of a cell fastdatatable renders as one run of plain ASCII
    text: a string (its markup escapes nothing: no "[" or "\\") or such a string aligned
    right (numbers, dates); None for anything else (nulls, styled or wide text)."""
    right = isinstance(renderable, Align)
    if right:
        if renderable.align != "right" or renderable.style is not None or renderable.vertical is not None:
            return None
        renderable = renderable.renderable
    if (not isinstance(renderable, str) or not renderable.isascii() or not renderable.isprintable()
            or "[" in renderable or "\\" in renderable):
        return None
    return renderable, right


class Grid(DataTable):
    """fastdatatable's table, drawing a plain cell (plain_cell) as one segment of the
    style Rich gives it: the same characters and style as Rich's Styled(Padding(Align(text)))
    pipeline, which costs about 0.1 ms a cell, and a 160-column screen of rows has
    hundreds of cells, all drawn afresh for a new table or a new focus. A null is drawn
    likewise, centred in its own style. Other cells (the header, text that must be cut or
    is not ASCII) go through the library's own drawing. tests/tui/test_grid_cells.py
    compares the two."""

    def _render_cell(self, row_index: int, column_index: int, base_style: Style, width: int,
                     cursor: bool = False, hover: bool = False, in_range: bool = False):
        if row_index < 0 or column_index < 0 or width <= CELL_X_PADDING:
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover, in_range)
        key = (row_index, column_index, base_style, cursor, hover, in_range, self._show_hover_cursor,
               self._update_count, self._pseudo_class_state)  # the library's own cache key
        lines = self._cell_render_cache.get(key)
        if lines is not None:
            return lines
        inner = width - CELL_X_PADDING
        renderable = self._get_cell_renderable(row_index, column_index, max_width=inner)
        null = self._null_text(renderable, inner)
        plain = plain_cell(renderable) if null is None else None
        if null is None and (plain is None or len(plain[0]) > inner):
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover, in_range)
        fixed = row_index < self.fixed_rows or column_index < self.fixed_columns
        component, post = self._get_styles_to_render_cell(
            False, False, fixed, hover, cursor, in_range, self.show_cursor, self._show_hover_cursor,
            self.cursor_type == "range", self.cursor_foreground_priority == "css",
            self.cursor_background_priority == "css")
        pre = base_style + Style.from_meta({"row": row_index, "column": column_index}) + component
        if null is not None:  # centred as Rich's Align does: the odd space goes right
            text, text_style = null
            left = (inner - len(text)) // 2
            lines = [[Segment(" " * (1 + left), pre + post), Segment(text, pre + text_style + post),
                      Segment(" " * (inner - len(text) - left + 1), pre + post)]]
        else:
            text, right = plain
            lines = [[Segment(f" {text.rjust(inner) if right else text.ljust(inner)} ", pre + post)]]
        self._cell_render_cache[key] = lines
        return lines

    def _null_text(self, renderable, inner: int) -> tuple[str, Style] | None:
        """(text, style) of a null cell (fastdatatable's Align(null_rep, "center")) when its
        text is plain ASCII in one style and fits: a fifth of the first rows' cells in the
        bench (no campaign, no promotion), each 0.1 ms through Rich."""
        rep = self.null_rep
        if not (isinstance(renderable, Align) and renderable.renderable is rep and renderable.align == "center"
                and renderable.style is None and renderable.vertical is None):
            return None
        text = rep.plain
        if (rep.style or len(text) > inner or not text.isascii() or not text.isprintable()
                or len(rep.spans) > 1 or any((sp.start, sp.end) != (0, len(text)) for sp in rep.spans)):
            return None
        span_style = rep.spans[0].style if rep.spans else Style.null()
        return text, self.app.console.get_style(span_style) if isinstance(span_style, str) else span_style


    def continue_with(self, backend: PolarsBackend) -> None:
        """Show `backend`'s rows, which begin with the rows shown (the rest of a first
        page's table), in this table: no table mounted, focus moved or cursor lost, and
        the cells drawn are kept unless a column's width changed."""
        widths = [c.content_width for c in self.ordered_columns]
        backend.render_markup = self.render_markup
        self.backend = backend
        self._ordered_columns = None  # read again from the backend
        if [c.content_width for c in self.ordered_columns] != widths:
            self._clear_caches()
            self._update_count += 1
        self._require_update_dimensions = True  # the row count, on idle
        self.refresh()


class TableBrowser(Vertical):
    """A caption line over a virtualised table."""

    def compose(self) -> ComposeResult:
        yield Static("", id="browser-caption", markup=False)
        yield Static("No table selected.", classes="placeholder")

    @property
    def table(self) -> DataTable | None:
        found = self.query(DataTable)
        return found.first() if found else None

    caption_text = ""

    def set_caption(self, text: str) -> None:
        self.caption_text = printable(text)
        self.fit_caption()

    def on_resize(self) -> None:
        self.fit_caption()

    def fit_caption(self) -> None:
        """The caption's " · " parts that fit whole, then "…": never a word cut in half."""
        caption = self.query_one("#browser-caption", Static)
        room = caption.content_region.width or self.size.width - 2
        caption.update(Text(fit_parts(self.caption_text, room)))

    async def show(self, backend: PolarsBackend, caption: str, focus: bool = False,
                   continues: bool = False) -> None:
        """Show `backend`'s rows in a new table; it takes the focus if the old one had it
        or `focus` asks for it. `continues`: the rows begin with those shown (the rest of a
        first page), so the table shown takes them in place (Grid.continue_with)."""
        if continues and isinstance(self.table, Grid):
            self.table.continue_with(backend)
            self.set_caption(caption)
            return
        old = list(self.query("DataTable, .placeholder"))  # listed now: the new table is not one of them
        had_focus = self.table is not None and self.table.has_focus
        table = Grid(backend=backend, render_markup=False, null_rep="[dim]null[/]",
                          max_column_content_width=MAX_COLUMN_WIDTH, cursor_type="cell",
                          fixed_columns=1)  # the key column stays while scrolling sideways
        await self.mount(table)
        if had_focus or focus:  # now, before the old table goes: removing the focused widget first moved
            # the focus away and back, restyling the screen twice (~100 ms); and before the
            # table's first frame, which a focus given later draws again cell by cell (~60 ms)
            self.screen.set_focus(table)
        await self.remove_children(old)
        self.set_caption(caption)

    async def show_message(self, text: str) -> None:
        await self.query("DataTable, .placeholder").remove()
        await self.mount(Static(Text(printable(text)), classes="placeholder"))
