"""The row browser's table (tui.widgets.browser.Grid) draws plain cells itself, faster than
Rich's pipeline: every line it draws must be the line fastdatatable's own DataTable draws
for the same rows (same characters, same styles), whatever the cell holds, wherever the
cursor is and whether or not the table has the focus."""

from __future__ import annotations

import datetime as dt

import polars as pl
from textual.app import App, ComposeResult
from textual.containers import Horizontal
from textual_fastdatatable import DataTable

from tui.widgets.browser import MAX_COLUMN_WIDTH, Grid, browsable, plain_cell

SIZE = (200, 30)


def frame() -> pl.DataFrame:
    n = 24
    return pl.DataFrame({
        "customer_id": [f"C{i:05d}" for i in range(n)],
        "amount": [None if i % 7 == 3 else i * 1234.5678 - 900 for i in range(n)],
        "units": [None if i % 5 == 4 else (i - 3) * 1_000_003 for i in range(n)],
        "day": [dt.date(2024, 1, 1) + dt.timedelta(days=i) for i in range(n)],
        "at": [dt.datetime(2024, 1, 1, 8, 30) + dt.timedelta(hours=7 * i) for i in range(n)],
        "paid": [i % 3 == 0 for i in range(n)],
        "note": ["a [bold]tag[/]", "ends with \\", "wide 漢字", "café", "tab\there", "", None,
                 "x" * (MAX_COLUMN_WIDTH + 15), "line one\nline two", "  spaced  ", "plain", "#42"] * 2,
    })


class Pair(App):
    """The same rows in the Grid and in the library's DataTable, side by side, same width."""

    def compose(self) -> ComposeResult:
        rows = frame()
        with Horizontal():
            for cls, name in ((Grid, "grid"), (DataTable, "reference")):
                yield cls(id=name, backend=browsable(rows, money=["amount"]), render_markup=False,
                          null_rep="[dim]null[/]", max_column_content_width=MAX_COLUMN_WIDTH,
                          cursor_type="cell", fixed_columns=1)


def lines(table) -> list[list[tuple[str, object]]]:
    return [[(s.text, s.style) for s in table.render_line(y).simplify()] for y in range(table.size.height)]


async def test_grid_draws_every_line_as_the_library_does() -> None:
    app = Pair()
    async with app.run_test(size=SIZE) as pilot:
        grid, reference = app.query_one("#grid", Grid), app.query_one("#reference", DataTable)
        await pilot.pause()
        assert grid.size == reference.size and grid.size.height > 20
        for focus, cursor in ((None, (0, 0)), (grid, (2, 1)), (grid, (9, 6)), (reference, (12, 3))):
            for table in (grid, reference):
                table.move_cursor(row=cursor[0], column=cursor[1])
            if focus is not None:
                focus.focus()
            await pilot.pause()
            for table in (grid, reference):  # the same focus state on both, for the comparison
                table._pseudo_class_state = grid.get_pseudo_class_state()
            assert lines(grid) == lines(reference), (focus, cursor)
        from rich.align import Align
        from rich.style import Style

        # a null takes the short path too (its line is compared above)
        assert grid._null_text(Align(grid.null_rep, align="center"), 8) == ("null", Style(dim=True))
        shown = "".join(text for line in lines(grid) for text, _ in line)
        assert "C00009" in shown and "2024-01-10" in shown and "…" in shown  # rows drawn, long text cut


def test_only_plain_ascii_cells_take_the_short_path() -> None:
    from rich.align import Align
    from rich.text import Text

    assert plain_cell("C00001") == ("C00001", False)
    assert plain_cell(Align("1,234.5", align="right")) == ("1,234.5", True)
    for other in ("café", "a \\[b]", "tab\there", Text("x"), Align(Text("null"), align="center"),
                  Align("1", align="right", style="bold")):
        assert plain_cell(other) is None, other
