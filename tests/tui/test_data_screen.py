"""The Data screen driven as a user would: open a workspace, read the tables, move between
them, read the findings, browse rows (sorted, filtered, searched, counted, jumped through);
bad workspaces, bad files and bad filters never end the app."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from textual.widgets import Input, Label, Static, TabbedContent
from textual_fastdatatable.backend import PolarsBackend

from core.contract import TABLE_NAMES
from tui.app import LoyalistApp
from tui.widgets.browser import TableBrowser
from tui.widgets.findings import FindingsList
from tui.widgets.frame_table import FrameTable
from tui.widgets.query_bar import QueryBar

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
        assert [a.strip() for a in browser.table.get_column_at(2)] == ["10.50", "-3.00", "20.00", "5.00"]

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
            if file.is_file():  # the data files; .loyalist/ (remembered checks) may stay
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
        await settle(pilot)  # the focus moves after the next refresh
        assert table.has_focus
        await pilot.press("ctrl+end")
        await pilot.pause()
        assert table.cursor_row == n - 1
        last = table.get_row_at(n - 1)
        assert last[0] == f"C{n - 1:05d}"
        # money keeps its cents (a float would show 49999) and reads as the report tables do
        assert last[2].strip() == "49,999.00" and len(last[2]) == len(table.get_row_at(0)[2])
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
                "Reload", "Search", "Filter", "Sort", "Value counts", "Counts tab", "Go to row", "Clear", "Export",
                "Copy cell", "Record view"} <= titles  # the grid (focused at start) brings the table verbs
        bound = {binding.action for _, binding, *_ in app.screen.active_bindings.values()}
        assert {"next_table", "validate", "show_tab('mapping')", "show_screen('data')", "quit"} <= bound

        await pilot.press("m")
        assert app.screen.query_one(TabbedContent).active == "mapping"
        await pilot.press("question_mark")
        await pilot.pause()
        assert app.screen.query("HelpPanel")


# -- browsing tools: sort, filter, search, counts, go to row ------------------------------


def rows_workspace(folder: Path) -> Path:
    """300 orders with known values: amounts i * 1.25, four channels in turn, 30 customers."""
    folder.mkdir()
    channels = ["web", "store", "app", "门店"]
    write_csv(folder / "transactions.csv", "customer_id,order_date,amount,channel",
              [f"C{i % 30:02d},2024-{1 + i % 12:02d}-{1 + i % 28:02d},{i * 1.25:.2f},{channels[i % 4]}"
               for i in range(1, 301)])
    return folder


def csv_rows(folder: Path) -> list[dict[str, str]]:
    import csv

    with (folder / "transactions.csv").open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def browser_of(app: LoyalistApp) -> TableBrowser:
    return app.screen.query_one("#browser", TableBrowser)


def headers(app: LoyalistApp) -> list[str]:
    return [str(c.label) for c in browser_of(app).table.ordered_columns]


def caption_of(browser: TableBrowser) -> str:
    return browser.query_one("#browser-caption", Static).render().plain


async def test_sort_by_the_cursor_column(tmp_path: Path, settle) -> None:
    folder = rows_workspace(tmp_path / "ws")
    amounts = sorted(float(r["amount"]) for r in csv_rows(folder))
    app = LoyalistApp(folder)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter", "right", "right", "o")  # into the rows, to amount, sort
        await settle(pilot)
        table = browser_of(app).table
        assert [float(a) for a in table.get_column_at(2)] == amounts
        assert table.cursor_column == 2, "the cursor stays on the sorted column"
        assert "sorted by amount ↑" in caption_of(browser_of(app))
        assert headers(app) == ["customer_id", "order_date", "amount ▲", "channel"]
        await pilot.press("o")  # again: descending
        await settle(pilot)
        assert [float(a) for a in browser_of(app).table.get_column_at(2)] == amounts[::-1]
        assert headers(app)[2] == "amount ▼"
        await pilot.press("y")  # the same copy as on every table: the cell in full
        assert float(app.clipboard) == amounts[-1]
        await pilot.press("o")  # a third time: the file's order
        await settle(pilot)
        assert [float(a) for a in browser_of(app).table.get_column_at(2)][:3] == [1.25, 2.5, 3.75]
        assert "sorted" not in caption_of(browser_of(app))
        assert headers(app)[2] == "amount"


async def test_filter_with_an_expression_and_fix_a_bad_one(tmp_path: Path, settle) -> None:
    folder = rows_workspace(tmp_path / "ws")
    expected = [r for r in csv_rows(folder) if float(r["amount"]) > 300 and r["channel"] == "门店"]
    app = LoyalistApp(folder)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("w")
        query_input = app.screen.query_one("#query-input", Input)
        assert query_input.has_focus
        query_input.value = "amount > 300 AND channel = '门店'"
        await pilot.press("enter")
        await settle(pilot)
        table = browser_of(app).table
        assert table.row_count == len(expected) > 0
        assert [str(c) for c in table.get_column_at(0)] == [r["customer_id"] for r in expected]
        assert f"{len(expected)} of 300 rows match" in caption_of(browser_of(app))
        assert table.has_focus

        await pilot.press("w")  # a broken condition: rows stay, the text comes back to be fixed
        query_input.value = "amount >> 3"
        await pilot.press("enter")
        await settle(pilot)
        assert app.is_running and browser_of(app).table.row_count == len(expected)
        assert any("Could not filter the rows" in t for t in toasts(app))
        assert app.screen.query_one(QueryBar).is_open and query_input.value == "amount >> 3"
        assert "not a valid expression" in app.screen.query_one(".query-help", Static).render().plain

        query_input.value = "nosuch > 1"  # an unknown column is explained too
        await pilot.press("enter")
        await settle(pilot)
        assert "nosuch" in app.screen.query_one(".query-help", Static).render().plain

        await pilot.press("escape", "x")  # close the bar, clear the filter
        await settle(pilot)
        assert browser_of(app).table.row_count == 300


async def test_search_and_go_to_row(tmp_path: Path, settle) -> None:
    folder = rows_workspace(tmp_path / "ws")
    expected = [r for r in csv_rows(folder) if any("c07" in v.lower() for v in r.values())]
    app = LoyalistApp(folder)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        app.screen.query_one("#query-input", Input).value = "c07"  # any case, any column
        await pilot.press("enter")
        await settle(pilot)
        table = browser_of(app).table
        assert table.row_count == len(expected) == 10
        assert "containing 'c07'" in caption_of(browser_of(app))
        # then n / N move between the matching cells, as in every table: C07 is the first column
        assert (table.cursor_row, table.cursor_column) == (0, 0)
        await pilot.press("n")
        assert (table.cursor_row, table.cursor_column) == (1, 0)
        await pilot.press("N", "N")  # back past the first match: the last one
        assert (table.cursor_row, table.cursor_column) == (9, 0)
        await pilot.press("x")
        await settle(pilot)
        await pilot.press("g", *"250", "enter")
        await settle(pilot)
        table = browser_of(app).table
        assert table.cursor_row == 249 and table.has_focus
        assert str(table.get_row_at(249)[0]) == csv_rows(folder)[249]["customer_id"]


async def test_counts_of_a_column(tmp_path: Path, settle) -> None:
    from collections import Counter

    folder = rows_workspace(tmp_path / "ws")
    expected = Counter(r["channel"] for r in csv_rows(folder) if float(r["amount"]) > 100)
    app = LoyalistApp(folder)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("w")
        app.screen.query_one("#query-input", Input).value = "amount > 100"
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("right", "right", "right", "F")  # the channel column (Shift-F, as in every table)
        await settle(pilot)
        assert app.screen.query_one(TabbedContent).active == "counts"
        counts = app.screen.query_one("#frequency-browser", TableBrowser)
        shown = {str(v): int(n) for v, n in zip(counts.table.get_column_at(0), counts.table.get_column_at(1))}
        assert shown == dict(expected)  # counted over the filtered rows
        caption = caption_of(counts)
        assert "transactions.channel: 4 distinct values" in caption and "where amount > 100" in caption


async def test_counts_of_many_values_are_capped(tmp_path: Path, settle) -> None:
    from tui.query import FREQUENCY_ROWS, OTHER

    n = FREQUENCY_ROWS + 500
    write_csv(tmp_path / "transactions.csv", "customer_id,order_date,amount",
              [f"C{i:05d},2024-01-01,{1 + (i == 0)}" for i in range(n)] + ["C00000,2024-01-02,1"])
    app = LoyalistApp(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("F")  # customer_id: every value once, C00000 twice
        await settle(pilot)
        table = app.screen.query_one("#frequency-browser", TableBrowser).table
        assert table.row_count == FREQUENCY_ROWS + 1
        assert (str(table.get_row_at(0)[0]), int(table.get_row_at(0)[1])) == ("C00000", 2)
        last = table.get_row_at(FREQUENCY_ROWS)
        assert (str(last[0]), int(last[1])) == (OTHER, n - FREQUENCY_ROWS)


async def test_first_rows_show_before_the_checks_run_and_the_rest_follow(make_workspace, settle,
                                                                       monkeypatch) -> None:
    # 2,500 rows: a first page of 1,000, then the rest. The data checks wait for the first
    # page, so on a big file they do not hold up the rows the analyst opened the app to see.
    from tui.screens.data import FIRST_ROWS, DataScreen

    rows = [f"C{i % 40},2024-01-{1 + i % 28:02d},{i % 97}.50" for i in range(2500)]
    folder = make_workspace({"transactions.csv": "customer_id,order_date,amount\n" + "\n".join(rows) + "\n"})
    shown_when_checked: list[int] = []
    real_validate = DataScreen.validate

    def validate(screen, ws):
        table = screen.query_one(TableBrowser).table
        shown_when_checked.append(table.row_count if table is not None else 0)
        return real_validate(screen, ws)

    monkeypatch.setattr(DataScreen, "validate", validate)
    app = LoyalistApp(folder)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        browser = app.screen.query_one(TableBrowser)
        assert shown_when_checked == [FIRST_ROWS]
        assert browser.table.row_count == 2500
        caption = browser.query_one("#browser-caption", Static).render().plain
        assert "2,500 rows" in caption and "reading more" not in caption
        assert "checking data" not in status_text(app)  # the checks ran and reported


async def test_a_stale_converted_copy_is_set_aside_with_a_notice(workspace: Path, settle) -> None:
    from core.convert import convert_to_parquet
    from core.workspace import Workspace

    convert_to_parquet(Workspace.open(workspace))
    with (workspace / "transactions.csv").open("a", encoding="utf-8") as handle:
        handle.write("C2,2024-02-03,7.00,online\n")  # edited after the conversion
    app = LoyalistApp(workspace)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        tables = app.screen.query_one("#tables", FrameTable)
        assert column_values(tables, "file")[0] == "transactions.csv"
        assert column_values(tables, "rows")[0] == "5"  # the copy has 4
        assert any("not transactions.parquet" in t and "data convert" in t for t in toasts(app))


async def test_record_view_and_copied_row_of_the_grid(tmp_path: Path, settle) -> None:
    from tui.widgets.dialogs import ResultDialog

    folder = rows_workspace(tmp_path / "ws")
    row = csv_rows(folder)[4]
    app = LoyalistApp(folder)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("down", "down", "down", "down", "Y")  # the fifth order, tab-separated
        assert app.clipboard.split("\t") == [row["customer_id"], row["order_date"], row["amount"].rstrip("0")
                                             .rstrip("."), row["channel"]]
        await pilot.press("R")  # the same row as a record, one line per column
        await settle(pilot)
        assert isinstance(app.screen, ResultDialog)
        record = app.screen.shown.tables["record"]
        assert record["column"].to_list() == ["customer_id", "order_date", "amount", "channel"]
        assert record.filter(pl.col("column") == "channel")["value"].item() == row["channel"]


def test_a_long_caption_drops_whole_parts_never_half_a_word() -> None:
    from tui.widgets.browser import fit_parts

    caption = "transactions · 12 of 54,821 rows match · containing 'HOM-059' · sorted by amount ↑ · transactions.csv"
    assert fit_parts(caption, 200) == caption
    assert fit_parts(caption, 70) == "transactions · 12 of 54,821 rows match · containing 'HOM-059' · …"
    assert fit_parts("门店 · 客户", 10) == "门店 · …"  # measured in terminal cells: a Chinese character is two
