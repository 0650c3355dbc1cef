"""The mapping editor driven as an analyst would: a file whose columns do not say which is
the customer stops the workspace from opening; M shows each contract column with the
file's candidates, enter picks one, w shows the change to loyalist.toml and writes it only
when asked, keeping the analyst's comments; the workspace then opens."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from textual.widgets import DataTable, OptionList, Static

from tui.app import LoyalistApp
from tui.screens.mapping import MappingScreen
from tui.widgets.dialogs import AskDialog, ChoiceDialog

SIZE = (120, 36)
SALES = ("CustID,Customer,Order Date,Total\n"
         "A1,Ann,2024-01-05,12.5\n"
         "A2,Bob,2024-02-06,abc\n"
         "A1,Ann,2024-03-07,7\n")
CONFIG = '# our shop\n[tables.transactions]\non_invalid = "skip"  # count bad rows, do not stop\n'


@pytest.fixture
def ambiguous(make_workspace) -> Path:
    return make_workspace({"transactions.csv": SALES, "loyalist.toml": CONFIG})


def row(app: LoyalistApp, column: str) -> list[str]:
    grid = app.screen.query_one("#mapping-columns", DataTable)
    return [str(getattr(cell, "plain", cell)) for cell in grid.get_row(column)]


async def open_editor(pilot, settle) -> MappingScreen:
    await settle(pilot)
    await pilot.press("M")
    await settle(pilot)
    assert isinstance(pilot.app.screen, MappingScreen)
    return pilot.app.screen


async def choose(pilot, settle, header: str) -> None:
    await pilot.press("enter")
    await pilot.pause()
    dialog = pilot.app.screen
    assert isinstance(dialog, ChoiceDialog)
    options = dialog.query_one(OptionList)
    options.highlighted = options.get_option_index(header)
    await pilot.press("enter")
    await settle(pilot)


async def test_choosing_the_customer_column_writes_loyalist_toml_and_opens(ambiguous: Path, settle) -> None:
    async with LoyalistApp(ambiguous).run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert pilot.app.workspace_state.error and "could both be" in pilot.app.workspace_state.error
        assert any("press M (Map columns) and choose the file's column for customer_id" in n.message
                   for n in pilot.app._notifications)
        editor = await open_editor(pilot, settle)
        assert row(pilot.app, "customer_id")[2:4] == ["—", "two could be"]
        assert row(pilot.app, "amount")[2] == "Total" and row(pilot.app, "amount")[4] == "1 of 3"
        await choose(pilot, settle, "CustID")
        assert row(pilot.app, "customer_id")[2:6] == ["CustID", "your choice", "none", "A1, A2"]
        assert "w shows the change" in editor.query_one("#mapping-status", Static).render().plain
        await pilot.press("w")
        await pilot.pause()
        ask = pilot.app.screen
        assert isinstance(ask, AskDialog)
        assert '+customer_id = "CustID"' in ask.message
        assert tomllib.loads((ambiguous / "loyalist.toml").read_text()) == tomllib.loads(CONFIG)  # not yet
        await pilot.press("w")
        await settle(pilot)
        text = (ambiguous / "loyalist.toml").read_text()
        assert "# our shop" in text and "# count bad rows, do not stop" in text
        assert tomllib.loads(text)["tables"]["transactions"]["columns"] == {"customer_id": "CustID"}
        assert not isinstance(pilot.app.screen, MappingScreen)
        ws = pilot.app.workspace_state.workspace
        assert ws is not None
        assert ws.scan("transactions").collect()["customer_id"].to_list() == ["A1", "A2", "A1"]


async def test_cancelling_the_diff_or_leaving_writes_nothing(ambiguous: Path, settle) -> None:
    async with LoyalistApp(ambiguous).run_test(size=SIZE) as pilot:
        editor = await open_editor(pilot, settle)
        await choose(pilot, settle, "Customer")
        await pilot.press("w")
        await pilot.pause()
        await pilot.press("escape")  # the diff dialog: cancel
        await pilot.pause()
        assert pilot.app.screen is editor
        await pilot.press("escape")  # leave: asks, since the choice is not written
        await pilot.pause()
        assert isinstance(pilot.app.screen, AskDialog)
        await pilot.press("escape")
        await pilot.pause()
        assert pilot.app.screen is editor and row(pilot.app, "customer_id")[2] == "Customer"
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("d")
        await pilot.pause()
        assert not isinstance(pilot.app.screen, MappingScreen)
        assert (ambiguous / "loyalist.toml").read_text() == CONFIG


async def test_two_columns_cannot_share_a_header(ambiguous: Path, settle) -> None:
    async with LoyalistApp(ambiguous).run_test(size=SIZE) as pilot:
        await open_editor(pilot, settle)
        await choose(pilot, settle, "Total")  # customer_id = Total, which amount reads already
        await pilot.press("w")
        await pilot.pause()
        assert isinstance(pilot.app.screen, MappingScreen)  # refused before any diff
        assert any("chosen for both" in n.message for n in pilot.app._notifications)
        assert (ambiguous / "loyalist.toml").read_text() == CONFIG


async def test_a_table_without_a_required_column_points_to_the_editor(make_workspace, settle) -> None:
    root = make_workspace({"transactions.csv": "CustID,Order Date,Paid Sum\nA1,2024-01-05,12.5\nA2,2024-02-06,3\n"})
    async with LoyalistApp(root).run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert pilot.app.workspace_state.workspace is not None  # it opens; the amount is missing
        assert any("transactions has no amount. Press M" in n.message for n in pilot.app._notifications)
        await pilot.press("M")
        await settle(pilot)
        assert row(pilot.app, "amount")[2] == "—"
        grid = pilot.app.screen.query_one("#mapping-columns", DataTable)
        grid.move_cursor(row=2)
        await choose(pilot, settle, "Paid Sum")
        await pilot.press("w")
        await pilot.pause()
        await pilot.press("w")
        await settle(pilot)
        assert tomllib.loads((root / "loyalist.toml").read_text()) == {
            "tables": {"transactions": {"columns": {"amount": "Paid Sum"}}}}
        assert pilot.app.workspace_state.workspace.scan("transactions").collect()["amount"].to_list() == [12.5, 3.0]


async def test_a_picked_date_column_is_judged_as_the_workspace_reads_it(make_workspace, settle) -> None:
    """A UK export whose first rows fall on days 1-12: the preview settles the day order on the
    whole column (in a worker), so the editor does not call every date unreadable."""
    rows = "".join(f"A{i},Ann,{1 + i % 12:02d}/03/2024,10\n" for i in range(300)) + "A9,Bob,13/03/2024,10\n"
    root = make_workspace({"transactions.csv": "CustID,Customer,Order Date,Total\n" + rows})
    async with LoyalistApp(root).run_test(size=SIZE) as pilot:
        await open_editor(pilot, settle)
        assert row(pilot.app, "order_date")[2] == "Order Date" and row(pilot.app, "order_date")[4] == "none"
        grid = pilot.app.screen.query_one("#mapping-columns", DataTable)
        grid.move_cursor(row=grid.get_row_index("order_date"))
        await choose(pilot, settle, "Customer")  # a wrong pick: names are no dates
        assert row(pilot.app, "order_date")[4] == "200 of 200"
        await choose(pilot, settle, "Order Date")
        assert row(pilot.app, "order_date")[2:5] == ["Order Date", "its name", "none"]
