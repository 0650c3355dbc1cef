"""The app shows data literally: markup in values and headers stays text, and escape
sequences in the data (OSC 0 sets the window title, CSI 2J clears the screen) never
reach the terminal, in the tables list, the mapping, the findings and the row browser."""

from __future__ import annotations

import re

from textual.widgets import Label

import polars as pl

from core.result import Result
from tests.tui.test_data_screen import SIZE, column_values
from tests.tui.test_reports_screen import ReportsApp, view
from tui.app import LoyalistApp
from tui.widgets.browser import TableBrowser
from tui.widgets.findings import FindingsList
from tui.widgets.frame_table import FrameTable

CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# A Shopify-like order export with a pasted note column and a bad amount (a finding).
ORDERS = ("Order ID,Customer,Created at,Total,Source,\x1b]0;owned\x07[bold]Notes\n"
          "#1001,ana@example.com,2024-01-10,100.00,web,\x1b[2Jcleared\n"
          "#1002,ben@example.com,2024-01-12,oops\x1b(B,[/bold],[link=http://evil.example]x[/link]\n"
          "#1003,ben@example.com,2024-02-20,70.00,store,ok\n")


async def test_data_screen_shows_hostile_values_and_headers_literally(make_workspace, settle) -> None:
    folder = make_workspace({"transactions.csv": ORDERS})
    app = LoyalistApp(folder)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        mapping = app.screen.query_one("#mapping-table", FrameTable)
        headers = column_values(mapping, "source header")
        assert "␛]0;owned␇[bold]Notes" in headers
        browser = app.screen.query_one(TableBrowser).table
        names = list(browser.backend.columns)
        cells = [str(v) for i in range(len(names)) for v in browser.get_column_at(i)]
        assert "[/bold]" in cells and "[link=http://evil.example]x[/link]" in cells
        assert "␛[2Jcleared" in cells
        assert not any(CONTROL.search(text) for text in [*names, *cells, *headers])
        findings = "\n".join(str(w.render()) for w in app.screen.query_one(FindingsList).query(Label))
        assert "amount" in findings and not CONTROL.search(findings)


async def test_result_view_and_toasts_show_hostile_text_literally(make_workspace, settle) -> None:
    folder = make_workspace({"transactions.csv": ORDERS})
    result = Result("t", "Sales \x1b]0;x\x07", {"by_channel": pl.DataFrame({"\x1b[2Jch": ["[b]\x9bweb"], "n": [1]})},
                    headline={"top": "\x1b[5mweb"}, notes=("channel \x1b[8mhidden",))
    app = ReportsApp(folder)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await view(app).show(result)
        await pilot.pause()
        app.notify("could not read \x1b]0;owned\x07.csv", title="Error \x1b[2J", markup=False)
        await settle(pilot)
        toasts = [f"{n.title}: {n.message}" for n in app._notifications]  # as the toast shows them
        shown = view(app).prepared.tables[0]
        texts = [view(app).text(), *shown.columns, *(c.plain for row in shown.rows for c in row),
                 *(v for pair in view(app).prepared.figures for v in pair), *toasts]
        assert not any(CONTROL.search(t) for t in texts), texts
        assert "channel ␛[8mhidden" in view(app).text() and "[b]\ufffdweb" in texts and "␛[5mweb" in texts
        assert toasts == ["Error ␛[2J: could not read ␛]0;owned␇.csv"]
