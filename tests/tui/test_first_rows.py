"""On opening a workspace the first table's rows come first: the tables list (a pass over
every table) and the data checks follow in thread workers, and the keys work meanwhile."""

from __future__ import annotations

import threading
from pathlib import Path

import polars as pl
from textual.widgets import Static, TabbedContent
from textual.worker import WorkerCancelled

from tests.tui.conftest import ACTIVE
from tests.tui.test_data_screen import column_values, findings_text, status_text, toasts
from tui.app import LoyalistApp
from tui.widgets.browser import FrameBackend, TableBrowser
from tui.widgets.frame_table import FrameTable

SIZE = (100, 30)
CHECKS = ("inspect", "validate")  # the worker groups held back by the test


async def settle_except(pilot, held: tuple[str, ...]) -> None:
    """Wait until every worker but the `held` ones has finished and its messages are handled."""
    app = pilot.app
    quiet = 0
    for _ in range(100):
        for worker in [w for w in app.workers if w.group not in held and w.state in ACTIVE]:
            try:
                await worker.wait()
            except WorkerCancelled:
                pass
        await pilot.pause()
        quiet = 0 if any(w.group not in held and w.state in ACTIVE for w in app.workers) else quiet + 1
        if quiet == 2:
            return
    raise AssertionError("workers never settled")


def held_back(monkeypatch) -> threading.Event:
    """The tables list and the data checks wait for the returned Event before they run."""
    import tui.screens.data as data

    release = threading.Event()
    for name in ("tables_list", "validation_result"):
        real = getattr(data, name)

        def waiting(ws, real=real):
            assert release.wait(60), "the test never released the checks"
            return real(ws)

        monkeypatch.setattr(data, name, waiting)
    return release


async def test_rows_show_and_keys_work_while_the_checks_run(workspace: Path, settle, monkeypatch) -> None:
    release = held_back(monkeypatch)
    app = LoyalistApp(workspace)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await settle_except(pilot, CHECKS)
            screen = app.screen
            assert any(w.group in CHECKS and w.state in ACTIVE for w in app.workers)  # still held
            table = screen.query_one("#browser", TableBrowser).table
            assert table is not None and table.row_count == 4  # the transactions, before any check
            assert str(table.get_row_at(0)[0]) == "C1"
            caption = screen.query_one("#browser-caption", Static).render().plain
            assert caption.startswith("transactions · 4 rows")
            assert screen.findings is None and "reading tables" in status_text(app)

            await pilot.press("down", "down")  # the rows have the focus and answer at once
            assert table.cursor_coordinate.row == 2
            await pilot.press("m")
            assert screen.query_one(TabbedContent).active == "mapping"
            assert screen.query_one("#mapping-table", FrameTable).loading  # its columns come with the list

            release.set()
            await settle(pilot)
            assert "customer ids that appear more than once" in findings_text(app)
            assert column_values(screen.query_one("#tables", FrameTable), "table") == ["transactions", "customers"]
            mapping = screen.query_one("#mapping-table", FrameTable)
            assert column_values(mapping, "column")[0:3] == ["customer_id", "order_date", "amount"]
            assert "1 error" in status_text(app) and "checking" not in status_text(app)
            assert table.cursor_coordinate.row == 2  # the list arriving does not move the analyst
            assert "transactions.csv" in screen.query_one("#browser-caption", Static).render().plain
    finally:
        release.set()


async def test_a_big_table_counts_its_rows_once_the_list_is_read(make_workspace, settle, monkeypatch) -> None:
    # 2,500 rows: a first page of 1,000 shown before the row count is known (the tables
    # list reads it), then the rest, then the count in the caption
    rows = [f"C{i % 40},2024-01-{1 + i % 28:02d},{i % 97}.50" for i in range(2500)]
    folder = make_workspace({"transactions.csv": "customer_id,order_date,amount\n" + "\n".join(rows) + "\n"})
    release = held_back(monkeypatch)
    app = LoyalistApp(folder)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await settle_except(pilot, CHECKS)
            browser = app.screen.query_one("#browser", TableBrowser)
            caption = browser.query_one("#browser-caption", Static).render().plain
            assert browser.table.row_count == 2500  # the rest followed the first page, checks or not
            assert "2,500 rows" in caption
            release.set()
            await settle(pilot)
            assert "transactions.csv" in browser.query_one("#browser-caption", Static).render().plain
    finally:
        release.set()


def test_text_columns_are_measured_as_the_table_library_measures_them() -> None:
    # the reference: fastdatatable's own measure (through pyarrow) of the same frame
    from textual_fastdatatable.backend import PolarsBackend

    frame = pl.DataFrame({
        "ascii": ["a", "abcdef", None],
        "wide": ["顾客", "華東区域の店舗", "x"],  # two cells a character
        "emoji": ["ok", "🎉🎉🎉", None],
        "accent": ["e\u0301te\u0301", "cafe", "é"],  # a combining mark takes no cell
        "lines": ["first line\nsecond, longer line", "short", "ab"],
        "nulls": [None, None, None],
        "amount": [1.5, -20.25, 3.0],
    }, schema_overrides={"nulls": pl.String})
    ours = FrameBackend.from_dataframe(frame)
    theirs = PolarsBackend.from_dataframe(frame)
    for backend in (ours, theirs):
        backend.render_markup = False
    assert ours.column_content_widths == theirs.column_content_widths
    # the hook FrameBackend overrides (a private one): if the library renames it, widths
    # stay right but the slow path comes back, so say so here
    assert "_measure" in vars(PolarsBackend)
    assert ours.column_content_widths[:2] == [6, 14]



def test_money_is_formatted_as_rows_are_drawn_not_for_the_whole_table() -> None:
    from tui.widgets.browser import browsable

    frame = pl.DataFrame({"customer_id": ["C1", "C2", "C3", "C4"],
                          "amount": [18952.41, -1234567.0, None, float("nan")]})
    backend = browsable(frame, money=["amount"], marks={"amount": " ▲"})
    # the frame keeps its numbers: a million values are not turned into text up front
    assert backend.data["amount ▲"].dtype == pl.Float64
    rows = [backend.get_row_at(i) for i in range(4)]
    assert [r[1] for r in rows] == ["    18,952.41", "-1,234,567.00", None, None]  # one width, right-aligned
    assert backend.column_content_widths[1] == len("-1,234,567.00")
    assert backend.get_cell_at(0, 1) == "    18,952.41"
    assert backend.get_column_at(1) == [r[1] for r in rows]  # a copied column reads the same


async def test_the_first_rows_come_with_the_opening(workspace: Path, settle, monkeypatch) -> None:
    # read in the worker that opens the workspace, while the screen is mounted: the Data
    # screen shows them without starting a worker of its own
    release = held_back(monkeypatch)
    app = LoyalistApp(workspace)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await settle_except(pilot, CHECKS)
            table = app.screen.query_one("#browser", TableBrowser).table
            assert table is not None and table.row_count == 4
            assert not [w for w in app.workers if w.group == "rows"]
            assert app.workspace_state.first_page.table == "transactions"
    finally:
        release.set()


async def test_a_remembered_table_is_the_one_read_first(workspace: Path, settle, remembering) -> None:
    app = LoyalistApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("t")  # to customers: remembered for the next run
        await settle(pilot)
    app = LoyalistApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.workspace_state.first_page.table == "customers"
        assert app.screen.current_table == "customers"
        assert app.screen.query_one("#browser", TableBrowser).table.row_count == 3


async def test_a_table_that_cannot_be_read_still_stops_the_opening(workspace: Path, settle) -> None:
    # the first rows need only their own table; the others are read after them, and one
    # that cannot be read says so as an eager opening did (the workspace is not half-open)
    (workspace / "loyalist.toml").write_text('[tables.customers]\ndecimal = ";"\n', encoding="utf-8")
    app = LoyalistApp(workspace)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        assert app.workspace_state.error is not None and "decimal" in app.workspace_state.error
        status = status_text(app)
        assert "Could not open" in status and "decimal" in status
        assert app.screen.findings is None  # no checks on a workspace that did not open
        await pilot.press("r")  # fixed and reloaded: opens
        (workspace / "loyalist.toml").unlink()
        await pilot.press("r")
        await settle(pilot)
        assert app.workspace_state.error is None
        assert column_values(app.screen.query_one("#tables", FrameTable), "table") == ["transactions", "customers"]


async def test_a_file_that_cannot_be_read_leaves_the_other_tables_open(workspace: Path, settle) -> None:
    # a POS report's title lines above the customers' header: that table cannot be read,
    # and says why; the transactions are still there to browse and analyse
    customers = workspace / "customers.csv"
    customers.write_text("Customer list\nPrinted 2024-03-01\n\n" + customers.read_text(encoding="utf-8"),
                         encoding="utf-8")
    app = LoyalistApp(workspace)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        assert app.workspace_state.error is None
        assert "above its header" in str(app.workspace_state.workspace.unreadable["customers"])
        tables = app.screen.query_one("#tables", FrameTable)
        assert column_values(tables, "table") == ["transactions", "customers"]  # listed with its error
        assert column_values(tables, "issues") == ["1 warning", "1 error"]
        assert any("Could not read the customers table" in t and "above its header" in t for t in toasts(app))
        assert "above its header" in findings_text(app)  # among the checks' findings, as an error
        assert "2 tables · 1 error" in status_text(app)
        await pilot.press("t")  # to the customers: its error where its rows would be
        await settle(pilot)
        browser_text = "\n".join(s.render().plain for s in app.screen.query(".placeholder"))
        assert "Could not read rows of customers" in browser_text and "above its header" in browser_text
        customers.write_text(customers.read_text(encoding="utf-8").split("\n\n", 1)[1], encoding="utf-8")
        await pilot.press("r")  # mended and reloaded: every table opens
        await settle(pilot)
        assert app.workspace_state.error is None and not app.workspace_state.workspace.unreadable
        assert column_values(app.screen.query_one("#tables", FrameTable), "table") == ["transactions", "customers"]


def messy_rows(count: int) -> str:
    """A decimal-comma, day-first CSV with padded ids and a quoted multi-line note, past 1 MiB."""
    lines = ["customer_id;order_date;amount;note"]
    for i in range(count):
        note = f'"eins\nzwei; {i}"' if i % 9 == 0 else f"n{i}"
        lines.append(f" K{i % 500} ;{1 + i % 28:02d}/0{1 + i % 9}/2024;{i % 97}.{i % 1000:03d},{i % 10};{note}")
    return "\n".join(lines) + "\n"


def test_a_csv_first_page_from_its_first_bytes_equals_the_scan(make_workspace, monkeypatch) -> None:
    # The first page comes from the file's first MiB, not a scan; the reference is the
    # workspace's own scan (every row read as the checks and analyses read it).
    import tui.screens.data as data
    from core import readers
    from core.workspace import Workspace

    folder = make_workspace({"transactions.csv": messy_rows(40_000),
                             "loyalist.toml": '[tables.transactions]\ndate_format = "%d/%m/%Y"\n'})
    assert (folder / "transactions.csv").stat().st_size > readers.HEAD_BYTES
    ws = Workspace.open(folder, lazy=True)
    scanned = ws.scan("transactions").head(data.FIRST_ROWS).collect()
    assert scanned["amount"][1] == 1001.1  # "1.001,1": the decimal comma was read

    heads = []
    real_head = data.csv_head
    monkeypatch.setattr(data, "csv_head", lambda *a: heads.append(real_head(*a)) or heads[-1])
    page = data.read_first_page(ws, "transactions")
    assert heads and heads[0] is not None  # read from the first bytes
    assert page.first_page and page.frame.equals(scanned)


def test_a_csv_whose_first_bytes_hold_too_few_rows_shows_the_scan(make_workspace, monkeypatch) -> None:
    import tui.screens.data as data
    from core import readers
    from core.workspace import Workspace

    monkeypatch.setattr(readers, "HEAD_BYTES", 4096)  # far fewer than 1000 rows fit
    folder = make_workspace({"transactions.csv": messy_rows(3000),
                             "loyalist.toml": '[tables.transactions]\ndate_format = "%d/%m/%Y"\n'})
    ws = Workspace.open(folder, lazy=True)
    page = data.read_first_page(ws, "transactions")
    assert page.frame.height == data.FIRST_ROWS
    assert page.frame.equals(ws.scan("transactions").head(data.FIRST_ROWS).collect())


async def test_the_rest_of_the_rows_join_the_first_page_in_its_table(make_workspace, settle,
                                                                     monkeypatch) -> None:
    # The rest of the rows go into the first page's table: no table is mounted again and the
    # focus is given once (a focus move restyles the rows' panel; a new table is drawn cell by
    # cell). Rows after the first page with a longer id widen that column, drawn at its new width.
    from textual.coordinate import Coordinate
    from textual.screen import Screen
    from textual.widgets import DataTable

    ids = [f"C{i % 40}" if i < 1000 else f"CUSTOMER-{i:06d}" for i in range(2500)]
    rows = [f"{c},2024-01-{1 + i % 28:02d},{i % 97}.50" for i, c in enumerate(ids)]
    folder = make_workspace({"transactions.csv": "customer_id,order_date,amount\n" + "\n".join(rows) + "\n"})
    focused: list[str] = []
    real_set_focus = Screen.set_focus

    def spy(screen, widget, *args, **kwargs):
        focused.append(type(widget).__name__ if widget is not None else "nothing")
        return real_set_focus(screen, widget, *args, **kwargs)

    monkeypatch.setattr(Screen, "set_focus", spy)
    app = LoyalistApp(folder)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        browser = app.screen.query_one("#browser", TableBrowser)
        table = browser.table
        assert table.row_count == 2500 and app.focused is table
        assert len(browser.query(DataTable)) == 1
        first_grid = focused.index("Grid")  # the browser's table (tui.widgets.browser.Grid)
        assert focused[first_grid:] == ["Grid"], focused  # one table, focused once
        assert [table.get_cell_at(Coordinate(r, 0)) for r in range(2500)] == ids  # every row, in order
        width = len("CUSTOMER-002499")
        assert table.ordered_columns[0].content_width == width
        await pilot.pause()
        first_line = "".join(segment.text for segment in table.render_line(1))
        assert first_line.startswith(" " + "C0".ljust(width) + "  2024-01-01"), first_line
