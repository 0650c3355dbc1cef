"""The keyboard never gets stuck: escape leaves any input or panel for the screen's main
list, the footer says how while an input has the focus, typing into an input never runs
a screen's keys, and the Reports screen's panels are one key away."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Footer, Input, OptionList

from tui.app import LoyalistApp
from tui.screens.data import DataScreen
from tui.screens.reports import ReportsScreen
from tui.widgets.browser import TableBrowser
from tui.widgets.options_form import OptionsForm
from tui.widgets.result_view import ResultView

from tests.tui.test_reports_screen import ReportsApp, open_reports

SAMPLE = Path(__file__).resolve().parents[2] / "fixtures" / "sample"
SIZE = (120, 40)


def footer_keys(app: LoyalistApp) -> list[str]:
    """The keys the footer shows (a narrow footer hides some whole: tui/widgets/footer.py)."""
    return [k.render().plain for k in app.screen.query_one(Footer).query("FooterKey") if k.display]


def focused_id(app: LoyalistApp) -> str | None:
    return app.focused.id if app.focused is not None else None


async def test_escape_leaves_the_report_options_for_the_list(settle) -> None:
    async with ReportsApp(SAMPLE).run_test(size=SIZE) as pilot:
        app = await open_reports(pilot, settle)
        report_list = app.screen.query_one("#report-list", OptionList)
        assert app.focused is report_list
        await pilot.press("o")
        field = app.focused
        assert isinstance(field, Input) and app.screen.query_one(OptionsForm) in field.ancestors
        before = field.value
        assert any("esc" in k and "Back" in k for k in footer_keys(app)), footer_keys(app)
        await pilot.press("q")  # typed into the field: it does not quit
        assert app.is_running and field.value != before
        field.value = before
        await pilot.press("escape")
        assert app.focused is report_list and isinstance(app.screen, ReportsScreen)
        highlighted = report_list.highlighted
        await pilot.press("down")  # the list takes the keys again
        assert report_list.highlighted != highlighted


async def test_after_a_report_runs_one_key_returns_to_the_list(settle) -> None:
    async with ReportsApp(SAMPLE).run_test(size=SIZE) as pilot:
        app = await open_reports(pilot, settle)
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen.query_one(ResultView).prepared is not None
        await pilot.press("3")  # to the result
        result = app.screen.query_one(ResultView)
        assert app.focused is not None and result in app.focused.ancestors
        await pilot.press("escape")
        assert focused_id(app) == "report-list"
        await pilot.press("2")
        assert isinstance(app.focused, Input)
        await pilot.press("escape", "3", "1")
        assert focused_id(app) == "report-list"


async def test_escape_closes_the_data_search_and_then_goes_to_the_tables(settle) -> None:
    async with LoyalistApp(SAMPLE).run_test(size=SIZE) as pilot:
        app = pilot.app
        await settle(pilot)
        assert isinstance(app.screen, DataScreen)
        await pilot.press("slash")
        assert focused_id(app) == "query-input" and app.focused.value == ""  # no stray "/"
        assert any("esc" in k and "Close" in k for k in footer_keys(app)), footer_keys(app)
        await pilot.press("q")
        assert app.is_running and app.focused.value == "q"
        await pilot.press("escape")
        assert app.focused is app.screen.query_one(TableBrowser).table
        await pilot.press("escape")
        assert focused_id(app) == "tables"
        await pilot.press("q")  # outside an input, q quits again
        await pilot.pause()
        assert not app.is_running


async def test_the_data_grid_takes_the_arrows_at_start_and_the_tables_keep_their_size(settle) -> None:
    async with LoyalistApp(SAMPLE).run_test(size=(100, 30)) as pilot:
        app = pilot.app
        await settle(pilot)
        grid = app.screen.query_one(TableBrowser).table
        assert app.focused is grid
        await pilot.press("down", "down")
        assert grid.cursor_row == 2
        tables = app.screen.query_one("#tables")
        height = tables.region.height
        await pilot.press("escape")
        await pilot.pause()
        assert focused_id(app) == "tables" and tables.region.height == height
        await pilot.press("down")  # the next table: its rows arrive, the focus stays in the list
        await settle(pilot)
        assert focused_id(app) == "tables" and tables.region.height == height
        assert app.screen.current_table != "transactions"
        await pilot.press("enter")
        assert app.focused is app.screen.query_one(TableBrowser).table
        assert tables.region.height == height


def framed(widget) -> str:
    """The frame style a panel shows ("heavy" when it holds the focus)."""
    return widget.styles.border_top[0]


async def test_the_focused_panel_is_framed_on_every_screen(settle) -> None:
    from tui.screens.scale import ScaleScreen
    from tui.screens.segments import SegmentsScreen

    async with ReportsApp(SAMPLE).run_test(size=SIZE) as pilot:
        app = await open_reports(pilot, settle)
        await pilot.press("enter")
        await settle(pilot)
        panels = {name: app.screen.query_one(sel) for name, sel in
                  (("list", "#report-list"), ("options", OptionsForm), ("result", ResultView))}
        for key, focused in (("3", "result"), ("o", "options"), ("escape", "list")):
            await pilot.press(key)
            await pilot.pause()
            assert {n: framed(w) for n, w in panels.items()} == {
                n: "heavy" if n == focused else "round" for n in panels}, focused

        await pilot.press("d")  # Data: the tables list, then the grid beside it
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DataScreen)
        tables, detail = screen.query_one("#tables"), screen.query_one("#detail")
        assert (framed(tables), framed(detail)) == ("round", "heavy")  # the grid takes the keys at start
        tables.focus()
        await pilot.pause()
        assert (framed(tables), framed(detail)) == ("heavy", "round")

        await pilot.press("s")  # Segments: the list, then the customers of a segment
        await settle(pilot)
        assert isinstance(app.screen, SegmentsScreen)
        listing, detail = app.screen.query_one("#segment-list"), app.screen.query_one("#segment-detail")
        assert (framed(listing), framed(detail)) == ("heavy", "round")
        await pilot.press("u")
        await settle(pilot)
        assert (framed(listing), framed(detail)) == ("round", "heavy")

        await pilot.press("l")  # Scale builder: the items, then the tiers
        await settle(pilot)
        assert isinstance(app.screen, ScaleScreen)
        items, tiers = app.screen.query_one("#scale-items"), app.screen.query_one("#scale-tiers-box")
        assert (framed(items), framed(tiers)) == ("heavy", "round")
        app.screen.query_one("#scale-tiers").focus()
        await pilot.pause()
        assert (framed(items), framed(tiers)) == ("round", "heavy")
