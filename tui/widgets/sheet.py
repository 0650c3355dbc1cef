"""The verbs every result table shares (VisiData's sheet): sort by the column under the
cursor with a marker in its header, `/` search with n/N to the next or previous match, y
copies the cell and Y the row, F (Shift-f) counts the column's values, R shows the row as a
record (one line per column, for wide tables). Export is the app's `e`, as everywhere.

`SheetVerbs` holds the logic on a Polars frame, the table's own values (not its formatted
text); a table widget (ResultTable) or a container of a virtualised table (SheetBrowser)
supplies the table and how to redraw it sorted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl
from textual.binding import Binding
from textual.message import Message

from core.export.display import format_value, printable
from core.result import Result

MARKS = {False: " ▲", True: " ▼"}  # ascending, descending
ROW = "__sheet_row"  # the original row number, kept through sorting
# figures an analyst reads a row for: shown right after the row's key column, so a wide
# table (channels, campaigns) never leaves them past the right edge at 160 columns
LEAD_COLUMNS = ("roi", "incremental_revenue", "attributed_revenue")
SEARCH_CHUNK = 20_000  # rows looked through at a time for the next match
COUNTED_MATCHES = 20_000  # up to this many rows, "Match 3 of 12"; beyond, the row number alone


def sheet_bindings() -> list[Binding]:
    """The verbs' keys; their tooltips are the palette's help lines (LoyalistApp.palette_commands)."""
    return [
        Binding("o", "sheet_sort", "Sort", tooltip="Sort by the column under the cursor (again: descending, then off)"),
        Binding("slash", "sheet_search", "Search", key_display="/", tooltip="Find text in any cell of the table"),
        Binding("n", "sheet_next(1)", "Next match", show=False, tooltip="Move to the next cell matching the search"),
        Binding("N", "sheet_next(-1)", "Previous match", show=False,
                tooltip="Move to the previous cell matching the search"),
        Binding("y", "sheet_copy('cell')", "Copy cell", show=False, tooltip="Copy the cell's value"),
        Binding("Y", "sheet_copy('row')", "Copy row", show=False, tooltip="Copy the row, tab-separated"),
        Binding("F", "sheet_counts", "Value counts", show=False, key_display="F",
                tooltip="Count the values of the column under the cursor"),
        Binding("R", "sheet_record", "Record view", show=False, key_display="R",
                tooltip="The highlighted row as a record, one line per column"),
    ]


def matches(frame: pl.DataFrame, text: str) -> list[tuple[int, int]]:
    """(row, column) of every cell whose shown text contains `text` (any case), row by row."""
    if frame.is_empty() or not text:
        return []
    found = _hits(frame, text.lower()).with_row_index("row").unpivot(index="row").filter(pl.col("value"))
    return sorted((int(r), int(c)) for r, c in zip(found["row"], found["variable"]))


def _hits(frame: pl.DataFrame, needle: str) -> pl.DataFrame:
    """A boolean per cell (columns named by position): its text contains `needle` (lowercase)."""
    columns = [c for c in frame.columns if c != ROW]
    return frame.select(pl.col(c).cast(pl.String).str.to_lowercase().str.contains(needle, literal=True)
                        .fill_null(False).alias(str(i)) for i, c in enumerate(columns))


def next_match(frame: pl.DataFrame, text: str, at: tuple[int, int], step: int) -> tuple[int, int] | None:
    """The next (step 1) or previous (step -1) cell after `at` containing `text`, wrapping
    around; None when no cell does. Looks SEARCH_CHUNK rows at a time from the cursor, so
    on a million rows the next match costs a slice, not the whole table."""
    width = len([c for c in frame.columns if c != ROW])
    if frame.is_empty() or not text or not width:
        return None
    here = at[0] * width + at[1]  # cells numbered row by row
    first = at[0] // SEARCH_CHUNK * SEARCH_CHUNK
    starts = list(range(0, frame.height, SEARCH_CHUNK))
    i = starts.index(first)
    order = starts[i:] + starts[:i] if step > 0 else starts[i::-1] + starts[:i:-1]
    for n, start in enumerate([*order, first]):  # the cursor's own chunk again, for the wrap-around
        part = _hits(frame.slice(start, SEARCH_CHUNK), text.lower()).to_numpy().ravel()
        cells = np.flatnonzero(part) + start * width
        if n == 0:
            cells = cells[cells > here] if step > 0 else cells[cells < here]
        elif n == len(order):
            cells = cells[cells <= here] if step > 0 else cells[cells >= here]
        if cells.size:
            return divmod(int(cells[0] if step > 0 else cells[-1]), width)
    return None


def lead_first(columns: list[str]) -> list[str]:
    """`columns` with the LEAD_COLUMNS present moved right after the first (the key) column."""
    lead = [c for c in columns[1:] if c in LEAD_COLUMNS]
    return columns[:1] + lead + [c for c in columns[1:] if c not in lead]


def copied(value: Any) -> str:
    """A value as pasted elsewhere: in full (870719.38, not 870,719), empty for a missing one."""
    return "" if value is None else printable(str(value))


def value_counts(name: str, series: pl.Series) -> Result:
    counts = (series.value_counts(sort=True, name="count").rename({series.name: "value"})
              .with_columns(share=pl.col("count") / series.len()))
    return Result("sheet.counts", f"{name}: {counts.height:,} distinct values in {series.len():,} rows",
                  {"counts": counts.with_columns(pl.col("value").cast(pl.String))},
                  kinds={"count": "count", "share": "share"})


def record(frame: pl.DataFrame, row: int) -> Result:
    values = frame.drop(ROW, strict=False).row(row, named=True)
    table = pl.DataFrame({"column": list(values), "value": [printable(format_value(v)) for v in values.values()]})
    first, key = next(iter(values.items()))
    return Result("sheet.record", f"{first} {printable(format_value(key))} · row {row + 1:,} of {frame.height:,}",
                  {"record": table})


class SheetVerbs:
    """Mixin: the verbs, given `sheet_table()` (the DataTable with the cursor), `sheet_frame`
    (the rows in the order shown) and `sheet_redraw(frame)` (show it re-sorted)."""

    sheet_frame: pl.DataFrame | None = None
    sheet_sort_state: tuple[str, bool] | None = None  # (column, descending)
    sheet_search_text: str = ""
    sheet_match: int = -1

    def sheet_table(self) -> Any:  # a Textual or fastdatatable DataTable
        raise NotImplementedError

    def sheet_redraw(self, frame: pl.DataFrame) -> None:
        raise NotImplementedError

    def sheet_columns(self) -> list[str]:
        return [c for c in self.sheet_frame.columns if c != ROW] if self.sheet_frame is not None else []

    def sheet_cursor(self) -> tuple[int, int] | None:
        table = self.sheet_table()
        if table is None or self.sheet_frame is None or self.sheet_frame.is_empty():
            return None
        row, column = table.cursor_coordinate
        return min(row, self.sheet_frame.height - 1), min(column, len(self.sheet_columns()) - 1)

    def header_marks(self) -> dict[str, str]:
        """The sorted column's marker, for the table to add to its header."""
        if self.sheet_sort_state is None:
            return {}
        column, descending = self.sheet_sort_state
        return {column: MARKS[descending]}

    # -- verbs -----------------------------------------------------------------------------------

    def action_sheet_sort(self) -> None:
        at = self.sheet_cursor()
        if at is None:
            return
        column = self.sheet_columns()[at[1]]
        state = self.sheet_sort_state
        if state is None or state[0] != column:
            state = (column, False)
        elif not state[1]:
            state = (column, True)
        else:
            state = None  # third press: the original order
        self.sheet_sort_state = state
        frame = self.sheet_frame
        frame = frame.sort(ROW) if state is None else frame.sort(state[0], descending=state[1], nulls_last=True,
                                                                 maintain_order=True)
        self.sheet_frame = frame
        self.sheet_match = -1
        self.sheet_redraw(frame)

    def action_sheet_search(self) -> None:
        from tui.widgets.dialogs import TextDialog

        def chosen(text: str | None) -> None:
            if text:
                self.sheet_search_text, self.sheet_match = text, -1
                self.action_sheet_next(1)

        self.app.push_screen(TextDialog("Search the table", "Text to find in any cell (n: next, N: previous).",
                                        value=self.sheet_search_text), chosen)

    def action_sheet_next(self, step: int) -> None:
        if not self.sheet_search_text or self.sheet_frame is None:
            self.app.notify("Press / to search first.", timeout=3)
            return
        self.sheet_goto_match(step)

    def sheet_goto_match(self, step: int, *, from_start: bool = False) -> None:
        """Move to the next (or previous) cell containing the search text; a new search
        (`from_start`) may stop on the top-left cell itself."""
        frame, text = self.sheet_frame, self.sheet_search_text
        at = (0, -1) if from_start else (self.sheet_cursor() or (0, 0))  # (0, -1): before the first cell
        target = next_match(frame, text, at, step)
        if target is None:
            self.app.notify(f"No cell contains {text!r}.", severity="warning", markup=False)
            return
        self.sheet_table().move_cursor(row=target[0], column=target[1])
        if frame.height <= COUNTED_MATCHES:
            found = matches(frame, text)
            self.sheet_match = found.index(target)
            self.app.notify(f"Match {self.sheet_match + 1} of {len(found)}", timeout=2)
        else:
            self.app.notify(f"Match in row {target[0] + 1:,}", timeout=2)

    def action_sheet_copy(self, what: str) -> None:
        at = self.sheet_cursor()
        if at is None:
            return
        row = self.sheet_frame.drop(ROW, strict=False).row(at[0])
        if what == "cell":
            text = copied(row[at[1]])
        else:
            text = "\t".join(copied(v) for v in row)  # pastes into a spreadsheet row
        self.app.copy_to_clipboard(text)
        self.app.notify(f"Copied the {what}.", timeout=2)

    def action_sheet_counts(self) -> None:
        from tui.widgets.dialogs import ResultDialog

        at = self.sheet_cursor()
        if at is None:
            return
        column = self.sheet_columns()[at[1]]
        result = value_counts(column, self.sheet_frame[column])
        self.app.push_screen(ResultDialog(result, result.title, tab="table-counts"))

    def action_sheet_record(self) -> None:
        from tui.widgets.dialogs import ResultDialog

        at = self.sheet_cursor()
        if at is None:
            return
        result = record(self.sheet_frame, at[0])
        self.app.push_screen(ResultDialog(result, result.title, tab="table-record"))




def _browser_base():
    from tui.widgets.browser import TableBrowser  # browser imports nothing from here

    return TableBrowser


class SheetBrowser(SheetVerbs, _browser_base()):
    """A TableBrowser (virtualised rows) with the sheet verbs; a sorted view gets a new
    backend, built in a thread worker, with the marker in the sorted column's header."""

    BINDINGS = sheet_bindings()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.money: tuple[str, ...] = ()
        self.caption = ""

    def sheet_table(self) -> Any:
        return self.table

    async def show_sheet(self, frame: pl.DataFrame, backend: Any, caption: str, money=()) -> None:
        """Show `frame` (its backend made in a worker by `browsable`), unsorted."""
        self.sheet_frame, self.sheet_sort_state, self.sheet_match = frame.with_row_index(ROW), None, -1
        self.money, self.caption = tuple(money), caption
        await self.show(backend, caption)

    def sheet_redraw(self, frame: pl.DataFrame) -> None:
        column = self.table.cursor_coordinate.column if self.table is not None else 0
        self._sorted(frame, dict(self.header_marks()), column)

    def _sorted_worker(self, frame: pl.DataFrame, marks: dict[str, str], column: int) -> None:
        from tui.widgets.browser import browsable

        backend = browsable(frame.drop(ROW), money=self.money, marks=marks)
        self.app.call_from_thread(self._show_sorted, backend, column)

    def _sorted(self, frame: pl.DataFrame, marks: dict[str, str], column: int) -> None:
        self.run_worker(lambda: self._sorted_worker(frame, marks, column), thread=True, exclusive=True,
                        group="sheet-sort", exit_on_error=False)

    async def _show_sorted(self, backend: Any, column: int) -> None:
        focused = self.table is not None and self.table.has_focus
        await self.show(backend, self.caption)
        if self.table is not None:
            self.table.move_cursor(row=0, column=column)
            if focused:
                self.table.focus()


def sort_marks(column: str | None, descending: bool) -> dict[str, str]:
    return {column: MARKS[descending]} if column else {}


class LazySheet(SheetVerbs, _browser_base()):
    """The Data screen's grid: the same verbs and keys, but sorting, searching and counting
    apply to the whole table, lazily, in the screen's workers (a 10-million-row file is
    never sorted in memory here). `/` keeps only the rows containing the text, then n/N
    move between the matching cells. The screen sets `sheet_frame` (the rows shown) and
    `sheet_sort_state` each time rows arrive, and answers the requests."""

    BINDINGS = sheet_bindings()

    @dataclass(eq=False)
    class Requested(Message):
        """A verb the screen runs on the whole table: "sort", "search" or "counts"."""

        sheet: LazySheet
        verb: str

    def sheet_table(self) -> Any:
        return self.table

    def action_sheet_sort(self) -> None:
        self.post_message(self.Requested(self, "sort"))

    def action_sheet_search(self) -> None:
        self.post_message(self.Requested(self, "search"))

    def action_sheet_counts(self) -> None:
        self.post_message(self.Requested(self, "counts"))

    def rows_shown(self, frame: pl.DataFrame, sort: str | None, descending: bool, search: str) -> None:
        """New rows are on screen: the verbs read them; a new search moves to its first match."""
        new_search = search and search != self.sheet_search_text
        self.sheet_frame, self.sheet_match = frame, -1
        self.sheet_sort_state = (sort, descending) if sort else None
        self.sheet_search_text = search
        if new_search and self.table is not None:
            self.sheet_goto_match(1, from_start=True)
