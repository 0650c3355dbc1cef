"""Every result table has the same verbs: sort by the column under the cursor with a header
marker, / search with n/N, y copies the cell (Y the row), F counts values, R shows the row as
a record; the segment customer list sorts the same way and Enter still opens the customer on
the row the analyst sees."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input

from tui.screens.customer import CustomerScreen
from tui.widgets.dialogs import ResultDialog, TextDialog
from tui.widgets.result_view import ResultTable, ResultView
from tui.widgets.sheet import SheetBrowser

from tests.tui.test_reports_screen import ReportsApp, open_reports

SAMPLE = Path(__file__).resolve().parents[2] / "fixtures" / "sample"
SIZE = (140, 40)


def first_column(table: ResultTable) -> list[str]:
    return [str(table.get_row_at(i)[0]) for i in range(table.row_count)]


def header(table: ResultTable, index: int) -> str:
    return str(table.ordered_columns[index].label)


async def to_first_table(pilot, app) -> ResultTable:
    view = app.screen.query_one(ResultView)
    await pilot.press("3")
    for _ in view.tab_ids():
        if isinstance(app.focused, ResultTable):
            return app.focused
        await pilot.press("right_square_bracket")
        await pilot.pause()
    raise AssertionError("no table")


async def test_sort_search_copy_counts_and_record_in_a_report_table(settle) -> None:
    async with ReportsApp(SAMPLE).run_test(size=SIZE) as pilot:
        app = await open_reports(pilot, settle)
        await pilot.press("enter")  # Channels, the first report
        await settle(pilot)
        table = await to_first_table(pilot, app)
        frame = table.shown.frame.to_pandas()
        revenue = table.shown.names.index("revenue")
        for _ in range(revenue):
            await pilot.press("right")

        await pilot.press("o")
        await pilot.pause()
        ascending = frame.sort_values("revenue", na_position="last", kind="stable")["channel"].tolist()
        assert first_column(table) == ascending
        assert header(table, revenue).endswith("▲")
        await pilot.press("o")
        await pilot.pause()
        descending = frame.sort_values("revenue", ascending=False, na_position="last", kind="stable")
        assert first_column(table) == descending["channel"].tolist()
        assert header(table, revenue).endswith("▼")
        top = descending.iloc[0]
        assert table.cursor_coordinate.row == 0

        await pilot.press("y")  # the cell: the top revenue, in full
        assert float(app.clipboard) == top["revenue"]
        await pilot.press("Y")
        assert app.clipboard.split("\t")[0] == top["channel"]

        await pilot.press("o")  # third press: the report's own order
        await pilot.pause()
        assert first_column(table) == frame["channel"].tolist()
        assert not header(table, revenue).endswith(("▲", "▼"))

        await pilot.press("slash")
        assert isinstance(app.screen, TextDialog)
        app.screen.query_one(Input).value = "mail"
        await pilot.press("enter")
        await pilot.pause()
        assert first_column(table)[table.cursor_coordinate.row] == "email"
        assert table.cursor_coordinate.column == 0

        await pilot.press("F")  # value counts of the column under the cursor
        await settle(pilot)
        assert isinstance(app.screen, ResultDialog)
        counts = app.screen.shown.tables["counts"]
        assert counts["count"].sum() == len(frame) and counts.height == frame["channel"].nunique()
        await pilot.press("escape")

        await pilot.press("R")  # the highlighted row, one line per column
        await settle(pilot)
        assert isinstance(app.focused, ResultTable) and app.focused.shown.name == "record"  # opened on it
        shown = app.screen.shown.tables["record"]
        assert shown["column"].to_list() == list(frame.columns.drop("__sheet_row"))
        assert shown.filter(shown["column"] == "channel")["value"].item() == "email"


async def test_sorting_segment_customers_keeps_enter_on_the_row_shown(settle) -> None:
    from tui.app import LoyalistApp

    from tests.tui.test_segments_screen import open_segments

    async with LoyalistApp(SAMPLE).run_test(size=SIZE) as pilot:
        app = pilot.app
        await open_segments(app, pilot, settle)
        await pilot.press("u")  # the first segment's customers
        await settle(pilot)
        browser = app.screen.query_one("#members-browser", SheetBrowser)
        members = app.screen.members.tables["customers"].to_pandas()
        column = list(members.columns).index("monetary")
        browser.table.move_cursor(column=column)
        await pilot.press("o", "o")  # by spend, highest first
        await settle(pilot)
        assert str(browser.table.ordered_columns[column].label).startswith("monetary ▼")
        richest = members.sort_values("monetary", ascending=False, kind="stable").iloc[0]["customer_id"]
        assert browser.sheet_frame["customer_id"][0] == richest
        browser.table.move_cursor(row=0, column=0)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, CustomerScreen) and app.screen.customer_id == richest


async def test_the_table_verbs_are_in_the_palette_while_a_table_has_the_focus(settle) -> None:
    async with ReportsApp(SAMPLE).run_test(size=SIZE) as pilot:
        app = await open_reports(pilot, settle)
        await pilot.press("enter")
        await settle(pilot)
        assert "Value counts" not in {c.title for c in app.palette_commands(app.screen)}  # the list has the focus
        table = await to_first_table(pilot, app)
        commands = {c.title: c for c in app.palette_commands(app.screen)}
        assert commands["Sort"].key == "o" and commands["Value counts"].key == "F"
        assert commands["Record view"].key == "R" and commands["Copy cell"].key == "y"
        await commands["Record view"].callback()  # as the palette runs it
        await settle(pilot)
        assert isinstance(app.screen, ResultDialog)
        assert app.screen.shown.tables["record"].height == len(table.shown.names)


async def test_a_long_report_table_has_the_same_verbs(settle) -> None:
    """Tables of 500 rows and more are virtualised; they sort, search and copy the same way."""
    import polars as pl
    from textual.app import App

    from core.result import Result
    from tui.widgets.result_view import prepare

    frame = pl.DataFrame({"customer_id": [f"C{i:04d}" for i in range(600)],
                          "spend": [float((i * 37) % 600) for i in range(600)]})
    result = Result("test.long", "Long", {"customers": frame})

    class One(App):
        def compose(self):
            yield ResultView()

        async def on_mount(self):
            await self.query_one(ResultView).show(prepare(result))

    async with One().run_test(size=SIZE) as pilot:
        app = pilot.app
        await settle(pilot)
        view = app.query_one(ResultView)
        view.show_tab("table-customers")
        view.focus_content()
        await pilot.pause()
        browser = app.query_one(SheetBrowser)
        assert app.focused is browser.table
        browser.table.move_cursor(column=1)
        await pilot.press("o", "o")  # spend, highest first
        await settle(pilot)
        expected = frame.sort("spend", descending=True, maintain_order=True)["customer_id"].to_list()
        assert browser.sheet_frame["customer_id"].to_list() == expected
        assert str(browser.table.ordered_columns[1].label).startswith("spend ▼")
        from textual.coordinate import Coordinate

        assert browser.table.get_cell_at(Coordinate(0, 0)) == expected[0]
        await pilot.press("y")
        assert float(app.clipboard) == frame["spend"].max()
        await pilot.press("slash")
        app.screen.query_one(Input).value = "C0007"
        await pilot.press("enter")
        await pilot.pause()
        assert browser.sheet_frame["customer_id"][browser.table.cursor_coordinate.row] == "C0007"


def drawn_lines(app) -> list[str]:
    return [strip.text for strip in app.screen._compositor.render_strips()]  # noqa: SLF001


async def test_roi_and_incremental_revenue_are_seen_whole_at_160_columns(settle) -> None:
    """Wide report tables put ROI, incremental and attributed revenue next to the row's key,
    not past the right edge; the key column stays put while scrolling sideways."""
    async with ReportsApp(SAMPLE).run_test(size=(160, 48)) as pilot:
        app = await open_reports(pilot, settle)
        for report, key, lead in (("Channels", "Channel", ("Attributed revenue", "ROI")),
                                  ("Campaigns", "Campaign ID", ("Incremental revenue", "ROI"))):
            await pilot.press("1")
            lists = app.screen.query_one("#report-list")
            lists.highlighted = next(i for i, o in enumerate(lists.options) if str(o.prompt) == report)
            await pilot.press("enter")
            await settle(pilot)
            table = await to_first_table(pilot, app)
            line = drawn_lines(app)[table.region.y]  # the header row as drawn
            assert line[table.region.x:].lstrip().startswith(key)
            right = table.region.right
            for name in lead:
                assert name in line and line.index(name) + len(name) < right, (name, line)
            assert table.fixed_columns == 1
            await pilot.press(*["right"] * (len(table.shown.columns) - 1))  # to the last column
            await pilot.pause()
            assert table.scroll_offset.x > 0
            assert drawn_lines(app)[table.region.y][table.region.x:].lstrip().startswith(key)  # still there
