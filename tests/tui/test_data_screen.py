"""The Data screen driven as a user would: open a workspace, read the tables, move between
them, read the findings, browse rows; bad workspaces and bad files never end the app."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from textual.widgets import Label, Static, TabbedContent
from textual_fastdatatable.backend import PolarsBackend

from core.contract import TABLE_NAMES
from tui.app import LoyalistApp
from tui.widgets.browser import TableBrowser
from tui.widgets.findings import FindingsList
from tui.widgets.frame_table import FrameTable

SIZE = (100, 30)


def write_csv(path: Path, header: str, rows: list[str]) -> None:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")


def status_text(app: LoyalistApp) -> str:
    return app.screen.query_one("#status", Static).render().plain


def column_values(table: FrameTable, label: str) -> list[str]:
    index = [c.label.plain for c in table.ordered_columns].index(label)
    return [table.get_row_at(i)[index].plain for i in range(table.row_count)]


def findings_text(app: LoyalistApp) -> str:
    return "\n".join(label.render().plain for label in app.screen.query_one(FindingsList).query(Label))


def toasts(app: LoyalistApp) -> list[str]:
    return [str(t.render()) for t in app.screen.query("Toast")]


async def test_lists_tables_with_rows_and_dates(workspace: Path, settle) -> None:
    app = LoyalistApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        tables = app.screen.query_one("#tables", FrameTable)
        assert column_values(tables, "table") == ["transactions", "customers"]
        assert column_values(tables, "rows") == ["4", "3"]
        assert column_values(tables, "from")[0] == "2024-01-03"
        assert column_values(tables, "to")[0] == "2024-02-02"
        assert column_values(tables, "file") == ["transactions.csv", "customers.csv"]
        assert str(workspace) in status_text(app)
        assert "2 tables" in status_text(app)


async def test_next_table_changes_mapping_and_browser(workspace: Path, settle) -> None:
    app = LoyalistApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        mapping = app.screen.query_one("#mapping-table", FrameTable)
        browser = app.screen.query_one(TableBrowser)
        # the first table is shown at once: its Chinese headers mapped to canonical names
        assert dict(zip(column_values(mapping, "column"), column_values(mapping, "source header"))) == {
            "customer_id": "客户ID", "order_date": "订单日期", "amount": "金额", "channel": "渠道"}
        assert column_values(mapping, "date format")[1] == "%Y-%m-%d"
        assert browser.table.row_count == 4
        assert list(browser.table.backend.columns) == ["customer_id", "order_date", "amount", "channel"]
        assert [format(a, "n") for a in browser.table.get_column_at(2)] == ["10.50", "-3.00", "20.00", "5.00"]

        await pilot.press("t")
        await settle(pilot)
        assert set(column_values(mapping, "column")) == {"customer_id", "region", "tier"}
        assert browser.table.row_count == 3
        assert "customers" in browser.query_one("#browser-caption", Static).render().plain

        await pilot.press("t")  # wraps around to the first table
        await settle(pilot)
        assert column_values(mapping, "column")[0:3] == ["customer_id", "order_date", "amount"]


async def test_findings_show_errors_and_warnings(workspace: Path, settle) -> None:
    app = LoyalistApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        text = findings_text(app)
        assert "ERROR" in text and "customer ids that appear more than once" in text
        assert "rows 3, 4" in text  # the duplicate customer's spreadsheet rows
        assert "negative amounts (kept as returns)" in text
        assert "Fix:" in text
        findings_tab = app.screen.query_one(TabbedContent).get_tab("findings").label.plain
        assert "1 error, 2 warnings" in findings_tab
        tables = app.screen.query_one("#tables", FrameTable)
        assert column_values(tables, "issues") == ["2 warnings", "1 error"]
        assert "1 error, 2 warnings" in status_text(app)

        await pilot.press("v")
        await settle(pilot)
        assert app.screen.query_one(TabbedContent).active == "findings"
        assert "customer ids that appear more than once" in findings_text(app)


async def test_reload_picks_up_a_fixed_file(workspace: Path, settle) -> None:
    app = LoyalistApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "customer ids that appear more than once" in findings_text(app)
        write_csv(workspace / "customers.csv", "customer_id,region,tier", ["C1,华东,gold", "C2,West,silver"])
        await pilot.press("r")
        await settle(pilot)
        assert "customer ids that appear more than once" not in findings_text(app)
        assert column_values(app.screen.query_one("#tables", FrameTable), "rows") == ["4", "2"]


async def test_workspace_that_fails_to_open_shows_the_reason(tmp_path: Path, settle) -> None:
    for path in (tmp_path, tmp_path / "no such folder"):  # no tables; does not exist
        app = LoyalistApp(path)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            assert app.is_running
            status = status_text(app)
            assert "Could not open" in status and "Fix:" in status
            assert "-error" in app.screen.query_one("#status").classes
            assert app.screen.query_one("#tables", FrameTable).row_count == 0
            await pilot.press("t", "v", "m", "b")  # keys with nothing to act on do no harm
            await settle(pilot)
            assert app.is_running and "Could not open" in status_text(app)


async def test_reload_after_the_files_went_away_clears_the_old_tables(workspace: Path, settle) -> None:
    app = LoyalistApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for file in workspace.iterdir():
            file.unlink()
        await pilot.press("r")
        await settle(pilot)
        assert "no tables found" in status_text(app)
        assert app.screen.query_one("#tables", FrameTable).row_count == 0
        assert app.screen.query_one("#mapping-table", FrameTable).row_count == 0
        assert app.screen.query_one(TableBrowser).table is None
        assert findings_text(app) == ""


async def test_unreadable_rows_become_messages_not_a_crash(tmp_path: Path, settle) -> None:
    # the stray line sits past the sample read on opening, so only full reads hit it
    rows = [f"C{i},2024-01-01,{i}" for i in range(20_000)] + ["C1,2024-01-01,5,extra,fields"]
    write_csv(tmp_path / "transactions.csv", "customer_id,order_date,amount", rows)
    app = LoyalistApp(tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        assert app.is_running
        assert "Validation could not run" in findings_text(app)
        browser_text = "\n".join(s.render().plain for s in app.screen.query(".placeholder"))
        assert "Could not read rows of transactions" in browser_text
        assert any("Could not validate the data" in t for t in toasts(app)), "errors are also notified"


async def test_missing_required_column_browses_the_file_as_read(tmp_path: Path, settle) -> None:
    write_csv(tmp_path / "transactions.csv", "customer_id,order_date,total_paid_maybe",
              ["C1,2024-01-01,5", "C2,2024-01-02,6"])
    app = LoyalistApp(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "the transactions table has no 'amount' column" in findings_text(app)
        browser = app.screen.query_one(TableBrowser)
        assert browser.table.row_count == 2
        assert "total_paid_maybe" in browser.table.backend.columns
        assert "as read" in browser.query_one("#browser-caption", Static).render().plain


async def test_browser_hands_a_polars_frame_to_the_virtual_table(tmp_path: Path, settle) -> None:
    n = 50_000
    frame = pl.DataFrame({
        "customer_id": [f"C{i:05d}" for i in range(n)],
        "order_date": pl.date_range(pl.date(2020, 1, 1), pl.date(2024, 12, 31), eager=True).sample(
            n, with_replacement=True, seed=1).sort(),
        "amount": pl.Series(range(n), dtype=pl.Float64),
    })
    frame.write_parquet(tmp_path / "transactions.parquet")
    app = LoyalistApp(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = app.screen.query_one(TableBrowser).table
        # rows stay columnar in Polars: nothing holds a list of Python rows
        assert isinstance(table.backend, PolarsBackend)
        assert isinstance(table.backend.data, pl.DataFrame) and table.backend.data.height == n
        assert "50,000 rows" in app.screen.query_one("#browser-caption", Static).render().plain
        await pilot.press("enter")  # from the tables list into the browser
        assert table.has_focus
        await pilot.press("ctrl+end")
        await pilot.pause()
        assert table.cursor_row == n - 1
        last = table.get_row_at(n - 1)
        assert last[0] == f"C{n - 1:05d}"
        assert format(last[2], "n") == "49999.00"  # money keeps its cents (a float would show 49999)
        assert table.scroll_offset.y > 0


async def test_no_argument_opens_the_bundled_sample(sample_copy: Path, monkeypatch, tmp_path: Path,
                                                     settle) -> None:
    monkeypatch.setenv("LOYALIST_SAMPLE", str(sample_copy))
    monkeypatch.chdir(tmp_path)  # a folder that is not a workspace
    app = LoyalistApp(None)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert set(column_values(app.screen.query_one("#tables", FrameTable), "table")) == set(TABLE_NAMES)
        assert "Could not" not in status_text(app)
        assert app.screen.query_one(TableBrowser).table.row_count > 0


async def test_fits_80_by_24(workspace: Path, settle) -> None:
    app = LoyalistApp(workspace)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        tables = app.screen.query_one("#tables", FrameTable)
        browser = app.screen.query_one(TableBrowser).table
        assert tables.region.height >= 2 + 1 + 2  # border, header, both tables
        assert not tables.show_horizontal_scrollbar
        assert browser.region.height >= 6  # header and the first rows stay in view
        assert browser.region.right <= 80


async def test_every_key_action_is_in_the_command_palette(workspace: Path, settle) -> None:
    app = LoyalistApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        titles = {c.title for c in app.get_system_commands(app.screen)}
        assert {"Data", "Next table", "Validate", "Browse", "Mapping", "Findings", "Help", "Quit",
                "Reload"} <= titles
        bound = {binding.action for _, binding, *_ in app.screen.active_bindings.values()}
        assert {"next_table", "validate", "show_tab('mapping')", "show_screen('data')", "quit"} <= bound

        await pilot.press("m")
        assert app.screen.query_one(TabbedContent).active == "mapping"
        await pilot.press("question_mark")
        await pilot.pause()
        assert app.screen.query("HelpPanel")
