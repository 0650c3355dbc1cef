"""The app remembers per workspace (in its .loyalist/ folder) the last screen, the scale
spec being edited and the Data screen's table, filter and sort; a state file that is
corrupt or from another version is set aside with a notice, never a crash."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from textual.widgets import Input, Static

from core.session import STATE_FILE
from tui.app import LoyalistApp
from tui.screens.data import DataScreen
from tui.screens.scale import ScaleScreen
from tui.widgets.browser import TableBrowser

from tests.tui.test_scale_screen import LIKERT, highlight, items, no_pause, open_scale, sample

__all__ = ["no_pause", "sample"]
SIZE = (120, 40)
pytestmark = pytest.mark.usefixtures("remembering")


def toasts(app: LoyalistApp) -> list[str]:
    return [str(t.render()) for t in app.screen.query("Toast")]


async def test_a_saved_spec_and_the_screen_are_reopened(sample: Path, settle) -> None:
    async with LoyalistApp(sample).run_test(size=SIZE) as pilot:
        await open_scale(pilot, settle)  # reached with its key: remembered
        await highlight(pilot, "loy_switch")
        await pilot.press("i")
        await settle(pilot)
        await pilot.press("ctrl+s")
        pilot.app.screen.query_one(Input).value = "mine.toml"
        await pilot.press("enter")
        await settle(pilot)
        assert (sample / "mine.toml").is_file()

    async with LoyalistApp(sample).run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, ScaleScreen)
        assert screen.spec_path == sample / "mine.toml" and not screen.dirty
        table = items(pilot.app)
        directions = dict(zip([r.column for r in table.rows_shown], table.column_values("direction")))
        assert list(directions) == LIKERT and directions["loy_switch"] == "↓ lower"
        assert str(sample / "mine.toml") in screen.query_one("#status", Static).render().plain


async def test_the_data_screens_table_filter_and_sort_are_reopened(sample: Path, settle) -> None:
    amounts = pd.read_csv(sample / "transactions.csv")["amount"]
    expected = sorted(amounts[amounts > 100], reverse=True)
    async with LoyalistApp(sample).run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert pilot.app.screen.current_table == "transactions"
        await pilot.press("w")
        pilot.app.screen.query_one("#query-input", Input).value = "amount > 100"
        await pilot.press("enter")
        await settle(pilot)
        browser = pilot.app.screen.query_one(TableBrowser)
        names = list(browser.table.backend.columns)
        browser.table.move_cursor(column=names.index("amount"))
        await pilot.press("o", "o")  # sorted by amount, then descending
        await settle(pilot)

    async with LoyalistApp(sample).run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, DataScreen) and screen.current_table == "transactions"
        table = screen.query_one(TableBrowser).table
        shown = [float(a) for a in table.get_column_at(names.index("amount"))]
        assert shown == pytest.approx(expected)
        caption = screen.query_one("#browser-caption", Static).render().plain
        assert "where amount > 100" in caption and "sorted by amount ↓" in caption


@pytest.mark.parametrize("content", ["{not json", json.dumps({"version": 0, "sections": {"app": {"screen": "scale"}}}),
                                     json.dumps([1, 2]), "\x00\xff"])
async def test_a_corrupt_or_old_state_file_is_set_aside(sample: Path, settle, content: str) -> None:
    (sample / STATE_FILE).parent.mkdir(exist_ok=True)
    (sample / STATE_FILE).write_text(content, encoding="latin-1")
    app = LoyalistApp(sample)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        assert app.is_running and isinstance(app.screen, DataScreen)
        assert app.screen.current_table == "transactions"
        assert any("starts afresh" in t for t in toasts(app))
        await pilot.press("l")  # a change rewrites it in the current layout
        await settle(pilot)
    saved = json.loads((sample / STATE_FILE).read_text(encoding="utf-8"))
    assert saved["sections"]["app"] == {"screen": "scale"} and saved["version"] == 1


async def test_a_remembered_spec_that_is_gone_falls_back_with_a_notice(sample: Path, settle) -> None:
    (sample / STATE_FILE).parent.mkdir(exist_ok=True)
    state = {"version": 1, "sections": {"app": {"screen": "scale"}, "scale": {"spec": str(sample / "gone.toml")},
                                        "data": {"table": "nosuch", "query": {"filter": 5}}}}
    (sample / STATE_FILE).write_text(json.dumps(state), encoding="utf-8")
    app = LoyalistApp(sample)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ScaleScreen)
        assert screen.spec_path == sample / "scale.toml"  # the workspace's own spec instead
        assert any("could not be read" in t and "gone.toml" in t for t in toasts(app))
        await pilot.press("d")
        await settle(pilot)
        assert app.screen.current_table == "transactions"


async def test_the_chosen_report_and_its_options_are_reopened(sample: Path, settle) -> None:
    from textual.widgets import OptionList, Select

    from tests.tui.test_reports_screen import open_reports, pick, set_option

    async with LoyalistApp(sample).run_test(size=SIZE) as pilot:
        await open_reports(pilot, settle)
        await pick(pilot, "report.nps")
        await set_option(pilot, "min_responses", "12")
        pilot.app.screen.query_one("#option-method", Select).value = "adjusted-wald"
        await pick(pilot, "report.kpi")
        await set_option(pilot, "days", "60")
        await pilot.press("enter")  # runs KPI over 60 days
        await settle(pilot)
    saved = json.loads((sample / STATE_FILE).read_text(encoding="utf-8"))["sections"]["reports"]
    assert saved["entry"] == "report.kpi" and saved["options"]["report.kpi"]["days"] == "60"

    async with LoyalistApp(sample).run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = pilot.app.screen
        assert screen.query_one("#report-list", OptionList).highlighted_option.id == "report.kpi"
        assert screen.query_one("#option-days", Input).value == "60"
        await pick(pilot, "report.nps")  # every report keeps what was typed into it
        await pilot.pause()
        assert screen.query_one("#option-min_responses", Input).value == "12"
        assert screen.query_one("#option-method", Select).value == "adjusted-wald"


async def test_the_segmentation_and_its_date_are_reopened(sample: Path, settle) -> None:
    import datetime as dt

    from tests.tui.test_segments_screen import open_segments

    async with LoyalistApp(sample).run_test(size=SIZE) as pilot:
        screen = await open_segments(pilot.app, pilot, settle)
        await pilot.press("3")  # loyalty quadrants
        await settle(pilot)
        day = screen.as_of - dt.timedelta(days=90)
        await pilot.press("a")
        pilot.app.screen.query_one("#date-0", Input).value = day.isoformat()
        await pilot.press("enter")
        await settle(pilot)
        assert screen.as_of == day and screen.method == "quadrant"

    async with LoyalistApp(sample).run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = pilot.app.screen
        assert screen.method == "quadrant" and screen.as_of == day
        assert screen.segmentation is not None and screen.segmentation.name == "segment.quadrant"
        assert f"as of {day}" in screen.query_one("#status", Static).render().plain
