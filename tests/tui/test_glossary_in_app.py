"""The glossary in the app: a report's Summary lists what its figure and column names mean,
and moving the cursor to a table column says what that column means."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Static

from core.glossary import explain
from tui.widgets.result_view import ResultTable, ResultView

from tests.tui.test_reports_screen import ReportsApp, open_reports, pick

SAMPLE = Path(__file__).resolve().parents[2] / "fixtures" / "sample"
SIZE = (120, 40)


async def test_a_reports_terms_and_the_column_under_the_cursor_are_explained(settle) -> None:
    async with ReportsApp(SAMPLE).run_test(size=SIZE) as pilot:
        app = await open_reports(pilot, settle)
        await pick(pilot, "report.nps")
        await pilot.press("enter")
        await settle(pilot)
        view = app.screen.query_one(ResultView)
        terms = view.query_one(".result-terms", Static).render().plain
        assert explain("nps") in terms

        await pilot.press("3")  # the result, then its tabs up to the first table
        for _ in view.tab_ids():
            if isinstance(app.focused, ResultTable):
                break
            await pilot.press("right_square_bracket")
            await pilot.pause()
        table = app.focused
        assert isinstance(table, ResultTable)
        line = view.query_one(".term-help", Static)
        for step in range(len(table.shown.names)):
            name = table.shown.names[table.cursor_coordinate.column]
            if explain(name):
                break
            await pilot.press("right")
        assert explain(name), table.shown.names
        assert line.display and line.render().plain == explain(name)


async def test_a_segments_profile_says_what_its_feature_names_mean(settle) -> None:
    from tui.app import LoyalistApp

    from tests.tui.test_segments_screen import open_segments, text_of

    async with LoyalistApp(SAMPLE).run_test(size=SIZE) as pilot:
        await open_segments(pilot.app, pilot, settle)
        terms = text_of(pilot.app, "#profile-terms")
        assert explain("t_days") in terms and explain("mean_ipt_days") in terms
