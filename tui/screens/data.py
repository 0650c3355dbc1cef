"""The Data screen: the workspace's tables, each table's column mapping, validation
findings, and a virtualised browser over the selected table's rows, which can be sorted,
filtered (a SQL condition or a search text), counted by column and jumped through.

Every Polars step (inspect, validate, collecting rows, counting values) runs in a thread
worker that posts a message back; the handlers, on the UI thread, only hand results to
widgets. A message about a workspace, table or query that is no longer current is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import ClassVar

import polars as pl
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Header, Static, TabbedContent, TabPane
from textual.worker import get_current_worker
from textual_fastdatatable.backend import PolarsBackend

from core.contract import MONEY
from core.result import Result
from core.validate import validation_result
from core.readers import csv_head
from core.workspace import Workspace, coercions, plain_numbers
from tui import present
from tui.widgets.footer import KeysFooter
from tui.actions import Action, bindings
from tui.checks import checked_apart, plan, run_apart, tables_list
from tui.export import Exportable, file_stem
from tui.priority import yield_to_ui
from tui.query import BrowseQuery, collect_query, frequency
from tui.state import WorkspaceState, describe_error
from tui.widgets.bars import bar_cells
from tui.widgets.browser import TableBrowser, browsable
from tui.widgets.findings import FindingsList
from tui.widgets.focus_frame import frame_when_focused
from tui.widgets.frame_table import FrameTable
from tui.widgets.sheet import LazySheet, sort_marks
from tui.widgets.query_bar import QueryBar

# Rows handed to the browser. The Polars backend keeps them columnar and draws only the
# rows in view; the cap bounds memory for a 10-million-row transactions file.
BROWSE_ROWS = 1_000_000
# Rows shown first, while the rest (up to BROWSE_ROWS) are read: a screenful or many.
FIRST_ROWS = 1_000
FINDINGS_LABEL = "Findings{} [dim](f)[/]"
FAILURE_TITLES = {"inspect": "Could not read the tables", "validate": "Could not validate the data",
                  "rows": "Could not read the rows", "query": "Could not filter the rows",
                  "frequency": "Could not count the values", "alerts": "Could not check the alerts"}
FREQUENCY_BAR = 20  # cells of the share bar in the counts table
NO_COUNTS = "Press F on a column of the rows to count its values."


@dataclass(eq=False)
class Inspected(Message):
    workspace: Workspace
    result: Result
    mappings: dict[str, pl.DataFrame] = field(init=False, repr=False)  # the Mapping tab's rows per table

    def __post_init__(self) -> None:
        # made by the worker that posts the message: as Polars queries on the UI thread they
        # wait for Polars' threads, busy with the rest of the rows (30 ms with a CSV)
        super().__post_init__()
        tables = self.result.tables["columns"]["table"].unique(maintain_order=True).to_list()
        self.mappings = {t: present.mapping_for(self.result, t) for t in tables}


@dataclass(eq=False)
class Validated(Message):
    workspace: Workspace
    result: Result
    counts: dict[str, tuple[int, int]] = field(init=False, repr=False)  # (errors, warnings) per table, as Inspected's mappings

    def __post_init__(self) -> None:
        super().__post_init__()
        self.counts = present.issue_counts(self.result.tables["findings"])


@dataclass(eq=False)
class RowsLoaded(Message):
    workspace: Workspace
    table: str
    backend: PolarsBackend
    note: str  # why the columns are not the canonical ones, if they are not
    frame: pl.DataFrame  # the rows shown, with their own dtypes (the backend's money is Decimal)
    query: BrowseQuery
    complete: bool  # the frame holds every row the query matches
    first_page: bool = False  # the first FIRST_ROWS rows; the rest follow in another message


@dataclass(eq=False)
class FrequencyLoaded(Message):
    workspace: Workspace
    table: str
    result: Result
    backend: PolarsBackend


@dataclass(eq=False)
class AlertsChecked(Message):
    workspace: Workspace
    result: Result


@dataclass(eq=False)
class TaskFailed(Message):
    workspace: Workspace
    task: str  # "inspect" | "validate" | "rows" | "query" | "frequency" | "alerts"
    error: str


def source_rows(ws: Workspace, table: str) -> tuple[pl.LazyFrame, str, list[str]]:
    """The table's rows (lazy), a note when they are the file as read, and its money columns."""
    if table in ws.unreadable:  # listed with its error (Workspace.readable)
        raise ws.unreadable[table]
    source = ws.sources[table]
    if source.missing_required:  # still worth seeing: it shows what to map
        return (ws.scan_raw(table),
                f"the file as read: required column {source.missing_required[0]!r} is not mapped", [])
    return ws.scan(table), "", [m.canonical for m in source.columns if m.kind == MONEY]


def head_rows(ws: Workspace, table: str, rows: pl.LazyFrame) -> pl.LazyFrame:
    """`rows` (source_rows), read from a UTF-8 CSV's first bytes when they hold the first
    FIRST_ROWS rows (core.readers.csv_head), read as the scan reads them: the scan's
    head first walks the file's line ends (at 10M rows, 75 ms against 5 ms from the head)."""
    source = ws.sources[table]
    if table in ws.frames or source.format != "csv" or source.text is None or not source.text.utf8:
        return rows
    schema = ws.scan_raw(table).collect_schema()
    head = csv_head(source.path, source.text, FIRST_ROWS)
    if head is None or head.columns != schema.names():
        return rows
    if source.missing_required:  # the file as read, as source_rows shows it
        return head.lazy()
    return head.lazy().with_columns(**plain_numbers(source, schema)).select(coercions(source, schema, staged=True))


def read_first_page(ws: Workspace, table: str) -> RowsLoaded:
    """The table's first FIRST_ROWS rows, ready to show (in a worker thread)."""
    rows, note, money = source_rows(ws, table)
    first = collect_query(head_rows(ws, table, rows), BrowseQuery(), FIRST_ROWS)
    complete = first.height < FIRST_ROWS
    return RowsLoaded(ws, table, browsable(first, money=money), note, first, BrowseQuery(), complete,
                      first_page=not complete)


def first_rows(ws: Workspace, remembered: dict) -> RowsLoaded | None:
    """Run by the app in the worker that opens the workspace (ScreenSpec.prefetch), so the
    first rows are read while the screen is still being mounted; None when the screen
    will read them itself (a remembered query, or a table that cannot be read: its error
    is shown as for any table)."""
    saved = remembered.get("data", {})
    table = first_table(ws, saved)
    if table is None or (table == saved.get("table") and BrowseQuery.from_saved(saved.get("query")).active):
        return None
    try:
        return read_first_page(ws, table)
    except Exception:  # noqa: BLE001 - read again by the screen, which shows the error
        return None


def first_table(ws: Workspace, restore: dict | None) -> str | None:
    """The table shown on opening: the one shown when the app last ran here, else the
    first of the tables list (its order is the workspace's)."""
    last = (restore or {}).get("table")
    return last if last in ws.sources else next(iter(ws.sources), None)


def frequency_rows(result: Result) -> pl.DataFrame:
    """The frequency table as shown: value, count, percent and a bar of the share."""
    table = result.tables["frequency"]
    top = table["share"].max() or 1.0
    return table.select(
        "value", "count",
        percent=(pl.col("share") * 100).round(2),
        # at most FREQUENCY_ROWS + 1 rows: drawing their bars in Python is cheap
        share=pl.Series([bar_cells(s / top, FREQUENCY_BAR).rstrip() if s is not None else ""
                         for s in table["share"]], dtype=pl.String),
    )


class DataScreen(Screen):
    ACTIONS: ClassVar[tuple[Action, ...]] = (
        Action("t", "next_table", "Next table", "Show the next table's mapping and rows"),
        Action("v", "validate", "Validate", "Check the workspace's data again and show the findings",
               show=False),
        # sort (o), search (/, n, N), copy (y, Y), counts (F) and record (R) are the grid's
        # table verbs, the same as on every table (tui/widgets/sheet.py: LazySheet)
        Action("w", "filter", "Filter", "Show only rows matching a condition, e.g. amount > 100"),
        Action("g", "goto", "Go to row", "Move the cursor to a row number", show=False),
        Action("x", "clear_query", "Clear", "Clear the sort, filter and search", show=False),
        Action("escape", "cancel", "Cancel", "Stop reading, sorting or counting rows; else back to the "
               "tables list", show=False),
        # the tab keys are shown in the tab labels rather than in a crowded footer
        Action("b", "show_tab('browse')", "Browse", "Browse the selected table's rows", show=False),
        Action("m", "show_tab('mapping')", "Mapping", "Show how the selected table's columns were mapped",
               show=False),
        Action("f", "show_tab('findings')", "Findings", "Show validation errors and warnings", show=False),
        Action("c", "show_tab('counts')", "Counts tab", "Show the last frequency table", show=False),
    )
    BINDINGS = bindings(ACTIONS)
    # The app reads every table (LoyalistApp.finish_opening) when this screen asks, once
    # its first rows are painted (start_checks): the first rows need only their own table.
    finishes_opening: ClassVar[bool] = True

    def __init__(self) -> None:
        super().__init__()
        self.workspace: Workspace | None = None
        self.inspected: Result | None = None
        self.findings: Result | None = None
        self.mappings: dict[str, pl.DataFrame] = {}  # Inspected.mappings
        self.issue_counts: dict[str, tuple[int, int]] | None = None  # Validated.counts
        self.current_table: str | None = None
        self.query_state = BrowseQuery()
        self.rows: pl.DataFrame | None = None  # the rows shown (after the query)
        self.all_rows: pl.DataFrame | None = None  # every row of the table, when it fits the cap
        self.counts: Result | None = None
        self.retry: tuple[str, str] | None = None  # (mode, text) to reopen the bar with on failure
        self.first_page_of: tuple[str, BrowseQuery] | None = None  # (table, query) of a first page shown
        self.checks_pending = False  # validation waits for the first rows (start_checks)
        self.restore: dict | None = None  # the table and query shown when the app last ran here
        self.grid_first = False  # the first rows of a workspace take the focus (arrows move in them)
        self.shown: RowsLoaded | None = None  # the rows shown, for their caption

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="data-body"):
            yield Static("", id="status")
            yield Static("", id="alerts")  # the [[alerts]] of loyalist.toml that fire (loyalist alerts)
            yield FrameTable(id="tables", key="table")
            with TabbedContent(id="detail", initial="browse"):
                with TabPane("Browse [dim](b)[/]", id="browse"):
                    yield LazySheet(id="browser")
                    yield QueryBar(id="query-bar")
                with TabPane("Mapping [dim](m)[/]", id="mapping"):
                    yield FrameTable(id="mapping-table", cursor_type="cell")
                with TabPane(FINDINGS_LABEL.format(""), id="findings"):
                    yield FindingsList(id="findings-list")
                with TabPane("Counts [dim](c)[/]", id="counts"):
                    yield TableBrowser(id="frequency-browser")
        yield KeysFooter()

    def on_mount(self) -> None:
        self.title = "Loyalist · Data"
        self.query_one("#tables").border_title = "Tables"
        self.query_one("#tables", FrameTable).focus()
        frame_when_focused(self, self.query_one("#detail"))  # not app.tcss's :focus-within (tui.widgets.focus_frame)
        self.query_one("#alerts").display = False
        self.watch(self.app, "workspace_state", self.workspace_changed, init=True)
        self.watch(self.app, "workspace_read", self.run_checks, init=False)
        self.call_later(self.query_one("#frequency-browser", TableBrowser).show_message, NO_COUNTS)

    # -- the workspace --------------------------------------------------------------

    async def workspace_changed(self, state: WorkspaceState | None) -> None:
        self.workspace, self.inspected, self.findings, self.current_table = None, None, None, None
        self.forget_rows()
        self.query_one("#alerts").display = False
        tables = self.query_one("#tables", FrameTable)
        if state is None or state.opening:
            label = state.label if state else "the workspace"
            self.set_status(f"Opening {label}…", "-busy")
            tables.loading = True
            return
        if state.error is not None:
            tables.loading = False
            tables.styles.height = "auto"
            tables.clear(columns=True)
            self.query_one("#mapping-table", FrameTable).clear(columns=True)
            self.query_one("#mapping-table", FrameTable).loading = False
            self.query_one("#browser", LazySheet).set_caption("")
            await self.query_one("#browser", LazySheet).show_message("No workspace is open.")
            await self.query_one("#findings-list", FindingsList).clear()
            self.query_one(TabbedContent).get_tab("findings").label = FINDINGS_LABEL.format("")
            self.set_status(f"Could not open {state.label}: {state.error} (press r to reload)", "-error")
            return
        self.workspace = state.workspace
        self.restore = self.app.recall("data")
        self.grid_first = True
        self.set_status(f"{self.workspace.root} · reading tables…", "-busy")
        tables.loading = True  # still (a loading indicator mounted again costs the first rows)
        # the list's height as it will be filled (a row per table, header, frame): the
        # rows below keep their size when it fills, instead of being drawn again cell by
        # cell at the new size (~100-200 ms of the UI thread at 160 columns)
        tables.styles.height = len(self.workspace.sources) + len(self.workspace.unreadable) + 3
        self.query_one("#findings-list", FindingsList).loading = True
        # The first table's rows come first; the tables list (row counts and date ranges:
        # a pass over every table) and the data checks start once they are on screen
        # (start_checks): on two cores they would otherwise hold up the rows an analyst
        # opened the app to see.
        self.checks_pending = True
        first = first_table(self.workspace, self.restore)
        ready = state.first_page
        if first is None:
            self.start_checks()
        elif isinstance(ready, RowsLoaded) and ready.workspace is self.workspace and ready.table == first:
            self.select_table(first, read=False)  # read by the app while this screen was mounted
            await self.show_rows(ready)
        else:
            self.select_table(first, BrowseQuery.from_saved((self.restore or {}).get("query"))
                              if first == (self.restore or {}).get("table") else BrowseQuery())

    def start_checks(self) -> None:
        """After the first rows: the app reads every table, then the checks run (workspace_read)."""
        if self.checks_pending and self.workspace is not None:
            self.checks_pending = False
            if self.app.workspace_read is self.workspace:
                self.run_checks(self.workspace)
            else:
                self.app.finish_opening()

    def run_checks(self, ws: Workspace | None) -> None:
        if ws is not None and ws is self.workspace and not self.checks_pending:
            if checked_apart(ws):  # big files: in a child process, so the UI keeps its frames
                self.check_apart(ws)
            else:
                self.inspect(ws)
                self.validate(ws)
            if ws.options.get("alerts"):
                self.check_alerts(ws)

    def forget_rows(self) -> None:
        had_counts = self.counts is not None
        self.query_state, self.rows, self.all_rows, self.counts = BrowseQuery(), None, None, None
        self.shown = None
        if had_counts:
            self.call_later(self.clear_counts)

    async def clear_counts(self) -> None:
        browser = self.query_one("#frequency-browser", TableBrowser)
        browser.set_caption("")
        await browser.show_message(NO_COUNTS)

    def set_status(self, text: str, kind: str = "") -> None:
        status = self.query_one("#status", Static)
        status.update(Text(text))
        status.set_classes(kind)

    def show_status(self) -> None:
        if self.workspace is None or self.inspected is None:
            return
        n = self.inspected.headline["tables_found"]
        text = f"{self.workspace.root} · {present.plural(n, 'table')}"
        if self.findings is None:
            self.set_status(f"{text} · checking data…", "-busy")
            return
        errors, warnings = self.findings.headline["errors"], self.findings.headline["warnings"]
        self.set_status(f"{text} · {present.issue_text(errors, warnings)}",
                        "-error" if errors else "-warning" if warnings else "-ok")

    # -- workers (threads: no widget is touched here) --------------------------------

    @work(thread=True, exclusive=True, group="inspect", exit_on_error=False)
    def inspect(self, ws: Workspace) -> None:
        yield_to_ui()
        try:
            result = tables_list(ws)
        except Exception as exc:  # bad data must become a message, never a dead app
            self.post_message(TaskFailed(ws, "inspect", describe_error(exc)))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(Inspected(ws, result))

    @work(thread=True, exclusive=True, group="validate", exit_on_error=False)
    def validate(self, ws: Workspace) -> None:
        yield_to_ui()
        try:
            result = validation_result(ws)
        except Exception as exc:
            self.post_message(TaskFailed(ws, "validate", describe_error(exc)))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(Validated(ws, result))

    @work(thread=True, exclusive=True, group="checks-apart", exit_on_error=False)
    def check_apart(self, ws: Workspace) -> None:
        """The tables list and the data checks of a big workspace: from a child process
        (tui.checks) what must read every row; here, at once, findings the check cache
        holds and (Parquet) the tables list."""
        yield_to_ui()
        worker = get_current_worker()
        apart = plan(ws)
        here = {"validate": validation_result, "inspect": tables_list}
        messages = {"inspect": Inspected, "validate": Validated}
        for task in ("validate", "inspect"):  # the cached findings first: they take milliseconds
            if task in apart:
                continue
            try:
                result = here[task](ws)
            except Exception as exc:
                self.post_message(TaskFailed(ws, task, describe_error(exc)))
                continue
            if worker.is_cancelled:
                return
            self.post_message(messages[task](ws, result))
        if not apart:
            return
        answered = set()
        try:
            for task, status, value in run_apart(ws, lambda: worker.is_cancelled, apart):
                if worker.is_cancelled:
                    return
                answered.add(task)
                self.post_message(messages[task](ws, value) if status == "ok" else TaskFailed(ws, task, value))
        except Exception as exc:  # the child could not be started (no fork, no memory): said, not hung
            for task in apart:
                if task not in answered:
                    self.post_message(TaskFailed(ws, task, describe_error(exc)))

    @work(thread=True, exclusive=True, group="alerts", exit_on_error=False)
    def check_alerts(self, ws: Workspace) -> None:
        from core.registry import run_analysis

        try:
            result = run_analysis("alerts.check", ws)
        except Exception as exc:
            self.post_message(TaskFailed(ws, "alerts", describe_error(exc)))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(AlertsChecked(ws, result))

    @work(thread=True, exclusive=True, group="rows", exit_on_error=False)
    def load_rows(self, ws: Workspace, table: str, query: BrowseQuery, base: pl.DataFrame | None,
                  first_page: bool = True) -> None:
        """The table's rows under `query`; from `base` (every row, already read) when given.
        A table just opened shows a first page, and the rest are read once it is painted
        (show_rows: `first_page` False)."""
        task = "query" if query.active else "rows"
        if not first_page:  # the rest of the rows, read while the first are drawn
            yield_to_ui()
        worker = get_current_worker()
        try:
            if base is None and not query.active and first_page:  # a table just opened: a first page at once
                loaded = read_first_page(ws, table)
                if not worker.is_cancelled:
                    self.post_message(loaded)
                return
            rows, note, money = source_rows(ws, table)
            marks = sort_marks(query.sort, query.descending)  # the header marker of the sorted column
            source = base.lazy() if base is not None else rows
            frame = collect_query(source, query, BROWSE_ROWS)
            if worker.is_cancelled:
                return
            backend = browsable(frame, money=money, marks=marks)
        except Exception as exc:
            error = describe_error(exc)
            self.post_message(TaskFailed(ws, task, f"{table}: {error}" if task == "rows" else error))
            return
        if not worker.is_cancelled:
            self.post_message(RowsLoaded(ws, table, backend, note, frame, query, frame.height < BROWSE_ROWS))

    @work(thread=True, exclusive=True, group="frequency", exit_on_error=False)
    def count_values(self, ws: Workspace, table: str, column: str, query: BrowseQuery,
                     base: pl.DataFrame | None) -> None:
        try:
            rows = base.lazy() if base is not None else source_rows(ws, table)[0]
            result = frequency(rows, column, table=table, query=query)
            backend = browsable(frequency_rows(result))
        except Exception as exc:
            self.post_message(TaskFailed(ws, "frequency", describe_error(exc)))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(FrequencyLoaded(ws, table, result, backend))

    # -- results (UI thread) --------------------------------------------------------

    @on(Inspected)
    def show_inspected(self, message: Inspected) -> None:
        if message.workspace is not self.workspace:
            return
        self.inspected, self.mappings = message.result, message.mappings
        self.refresh_tables()
        self.show_status()
        tables = self.query_one("#tables", FrameTable)
        tables.loading = False
        keys = [r.value for r in tables.rows]
        self.restore = None
        if self.current_table in keys:  # its rows came first (workspace_changed): the list follows
            tables.move_cursor(row=keys.index(self.current_table), animate=False)
            self.show_mapping(self.current_table)
            if self.shown is not None:  # the caption gains the row count and the file's details
                self.query_one("#browser", LazySheet).set_caption(self.caption(self.shown))
        elif tables.row_count:
            self.select_table(tables.highlighted_key)

    @on(Validated)
    async def show_findings(self, message: Validated) -> None:
        if message.workspace is not self.workspace:
            return
        self.findings, self.issue_counts = message.result, message.counts
        findings_list = self.query_one("#findings-list", FindingsList)
        findings_list.loading = False
        await findings_list.show_findings(message.result.tables["findings"])
        errors, warnings = message.result.headline["errors"], message.result.headline["warnings"]
        summary = f" · {present.issue_text(errors, warnings)}" if errors or warnings else ""
        self.query_one(TabbedContent).get_tab("findings").label = FINDINGS_LABEL.format(summary)
        self.refresh_tables()
        self.show_status()

    @on(AlertsChecked)
    def show_alerts(self, message: AlertsChecked) -> None:
        if message.workspace is not self.workspace:
            return
        self.query_one("#alerts", Static).update(present.alerts_text(message.result))
        self.query_one("#alerts").set_classes("-warning" if message.result.headline["fired"] else "-ok")
        self.query_one("#alerts").display = True

    @on(RowsLoaded)
    async def show_rows(self, message: RowsLoaded) -> None:
        if message.workspace is not self.workspace or message.table != self.current_table:
            return
        column = self.cursor_column()  # None for a new table; a requery keeps the cursor's column
        browser = self.query_one("#browser", LazySheet)
        # The rest of the rows after a first page: the cursor stays where the analyst moved it.
        rest = self.first_page_of == (message.table, message.query) and not message.first_page
        cursor = browser.table.cursor_coordinate if rest and browser.table is not None else None
        self.first_page_of = (message.table, message.query) if message.first_page else None
        self.shown = message
        self.query_state, self.rows, self.retry = message.query, message.frame, None
        self.app.remember("data", table=message.table, query=message.query.saved())
        if not message.query.active and message.complete:
            self.all_rows = message.frame  # later queries run on it instead of re-reading the file
        # the first rows of a workspace take the focus (escape goes back to the tables list)
        take_focus = self.grid_first and (self.focused is None or self.focused.id == "tables")
        await browser.show(message.backend, self.caption(message), focus=take_focus, continues=rest)
        browser.loading = False
        if cursor is not None and browser.table is not None:
            browser.table.move_cursor(row=cursor.row, column=cursor.column)
        elif column in message.frame.columns and browser.table is not None:
            browser.table.move_cursor(column=message.frame.columns.index(column))
        browser.rows_shown(message.frame, message.query.sort, message.query.descending, message.query.search)
        # after the rows are painted: the rest of the rows and the checks would compete
        # with the first frame for the two cores
        if message.first_page:
            self.call_after_refresh(self.read_rest, message)
        self.call_after_refresh(self.start_checks)

    def read_rest(self, first: RowsLoaded) -> None:
        """The rows after a first page, unless the analyst has moved on to another table or query."""
        if first.workspace is self.workspace and self.first_page_of == (first.table, first.query):
            self.load_rows(first.workspace, first.table, first.query, None, first_page=False)

    @on(FrequencyLoaded)
    async def show_counts(self, message: FrequencyLoaded) -> None:
        if message.workspace is not self.workspace or message.table != self.current_table:
            return
        self.counts = message.result
        browser = self.query_one("#frequency-browser", TableBrowser)
        browser.loading = False
        h, params = message.result.headline, message.result.params
        parts = [message.result.title, f"{present.plural(h['rows'], 'row')}"]
        parts += [f"{h['nulls']:,} empty"] if h["nulls"] else []
        parts += [params["rows"]] if params.get("rows") else []
        await browser.show(message.backend, " · ".join(parts))

    @on(TaskFailed)
    async def show_failure(self, message: TaskFailed) -> None:
        if message.workspace is not self.workspace:
            return
        self.notify(message.error, title=FAILURE_TITLES[message.task], severity="error",
                    timeout=10, markup=False)
        self.start_checks()  # the checks were waiting for rows that will not come
        if message.task == "inspect":
            self.query_one("#tables", FrameTable).loading = False
            self.query_one("#tables", FrameTable).styles.height = "auto"  # no rows will fill it
            self.query_one("#mapping-table", FrameTable).loading = False
            self.set_status(f"{message.workspace.root}: {message.error}", "-error")
        elif message.task == "validate":
            findings_list = self.query_one("#findings-list", FindingsList)
            findings_list.loading = False
            await findings_list.show_message(f"Validation could not run: {message.error}")
        elif message.task == "query":  # the previous rows stay; the text comes back to be fixed
            self.query_one("#browser", LazySheet).loading = False
            if self.retry is not None:
                self.query_one(QueryBar).open(*self.retry, note=message.error)
            elif self.rows is None and self.current_table is not None:  # a query kept from last time
                self.load_rows(message.workspace, self.current_table, BrowseQuery(), None)
            self.retry = None
        elif message.task == "alerts":
            self.query_one("#alerts", Static).update(Text(f"Alerts could not be checked: {message.error}"))
            self.query_one("#alerts").set_classes("-error")
            self.query_one("#alerts").display = True
        elif message.task == "frequency":
            browser = self.query_one("#frequency-browser", TableBrowser)
            browser.loading = False
            await browser.show_message(f"Could not count the values: {message.error}")
        else:
            browser = self.query_one("#browser", LazySheet)
            browser.loading = False
            browser.set_caption("")
            await browser.show_message(f"Could not read rows of {message.error}")

    def refresh_tables(self) -> None:
        if self.inspected is None:
            return
        overview = present.tables_overview(self.inspected, self.issue_counts if self.findings else None)
        self.query_one("#tables", FrameTable).show_frame(overview, present.TABLE_LABELS)

    def caption(self, message: RowsLoaded) -> str:
        info = present.table_row(self.inspected, message.table) if self.inspected else {}
        # the row count comes with the tables list, which follows the first rows
        counted = info.get("rows") is not None or message.complete
        total = info.get("rows") if info.get("rows") is not None else message.backend.source_row_count
        shown = message.backend.row_count
        of_total = f" of {total:,}" if counted else ""
        if message.query.filter or message.query.search:
            matched = f"{shown:,}" if message.complete else f"first {shown:,}"
            rows = f"{matched}{of_total} rows match"
        else:
            rows = (f"first {shown:,}{of_total} rows" if shown < total or not counted
                    else present.plural(total, "row"))
        # the query goes first: at 80 columns the end of the caption is cut off
        if message.first_page:
            rows = f"first {shown:,}{of_total} rows (reading more…)"
        # the note (why the columns are not the canonical ones) before the file's details:
        # at 100 columns the caption keeps only the parts that fit
        parts = [message.table, rows, message.query.describe(), message.note, info.get("file", ""),
                 present.read_as(info), present.plural(message.backend.column_count, "column")]
        return " · ".join(p for p in parts if p)

    # -- selection ------------------------------------------------------------------

    def select_table(self, table: str | None, query: BrowseQuery = BrowseQuery(), read: bool = True) -> None:  # noqa: B008
        if table is None or self.workspace is None:
            return
        if table == self.current_table:
            return
        self.current_table = table
        self.forget_rows()
        self.show_mapping(table)
        if not read:  # its rows are at hand
            return
        browser = self.query_one("#browser", LazySheet)
        browser.set_caption(f"{table} · loading rows…")
        browser.loading = True
        self.load_rows(self.workspace, table, query, None)

    def show_mapping(self, table: str) -> None:
        mapping = self.query_one("#mapping-table", FrameTable)
        if self.inspected is None:  # the first table's rows come before the tables are inspected
            mapping.loading = True
            return
        mapping.loading = False
        rows = self.mappings.get(table)
        mapping.show_frame(rows if rows is not None else present.mapping_for(self.inspected, table),
                           present.MAPPING_LABELS)

    def requery(self, query: BrowseQuery) -> None:
        """Show the current table's rows under `query` (the change is kept once it worked)."""
        if self.workspace is None or self.current_table is None:
            self.notify("No table is shown.", severity="warning")
            return
        self.action_show_tab("browse")
        browser = self.query_one("#browser", LazySheet)
        browser.set_caption(f"{self.current_table} · {query.describe() or 'all rows'}… (Esc cancels)")
        browser.loading = True
        self.load_rows(self.workspace, self.current_table, query, self.all_rows)

    def cursor_column(self) -> str | None:
        table = self.query_one("#browser", LazySheet).table
        if table is None or not table.column_count or self.rows is None:
            return None
        return self.rows.columns[table.cursor_column]

    def on_descendant_focus(self) -> None:
        if self.focused is not None and self.focused is self.query_one("#browser", LazySheet).table:
            self.grid_first = False  # landed (focus is applied later: the next page may come first)

    def on_resize(self) -> None:
        # at 24 rows the tables list leaves little room: it is shorter, whatever has the focus
        # (a panel that changes size as the focus moves loses the analyst's place)
        self.set_class(self.size.height < 32, "-short")

    @on(DataTable.RowHighlighted, "#tables")
    def table_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key.value != self.current_table:  # the analyst moved in the list: leave the focus there
            self.grid_first = False
        self.select_table(event.row_key.value)

    @on(DataTable.RowSelected, "#tables")
    def table_chosen(self, event: DataTable.RowSelected) -> None:
        self.select_table(event.row_key.value)
        self.action_show_tab("browse")
        table = self.query_one("#browser", LazySheet).table
        if table is not None:
            table.focus()

    @on(LazySheet.Requested)
    def sheet_requested(self, event: LazySheet.Requested) -> None:
        """The grid's sort, search and counts run here, on the whole table (lazy)."""
        {"sort": self.action_sort, "search": self.action_search, "counts": self.action_counts}[event.verb]()

    @on(QueryBar.Submitted)
    def query_submitted(self, event: QueryBar.Submitted) -> None:
        self.focus_rows()
        if event.mode == "goto":
            self.goto(event.value)
            return
        self.retry = (event.mode, event.value)
        self.requery(replace(self.query_state, **{event.mode: event.value}))

    @on(QueryBar.Closed)
    def query_closed(self) -> None:
        self.focus_rows()

    def focus_rows(self) -> None:
        table = self.query_one("#browser", LazySheet).table
        if table is not None:
            table.focus()

    def goto(self, text: str) -> None:
        table = self.query_one("#browser", LazySheet).table
        if table is None:
            return
        try:
            row = int(text)
        except ValueError:
            self.notify(f"{text!r} is not a row number.", severity="warning")
            return
        if not 1 <= row <= table.row_count:
            self.notify(f"Row {row:,} is outside 1–{table.row_count:,}; moved to the nearest row.",
                        severity="warning")
        table.move_cursor(row=min(max(row, 1), table.row_count) - 1)
        table.focus()

    # -- actions --------------------------------------------------------------------

    def action_next_table(self) -> None:
        tables = self.query_one("#tables", FrameTable)
        if tables.row_count:
            tables.move_cursor(row=(tables.cursor_row + 1) % tables.row_count)

    def action_validate(self) -> None:
        if self.workspace is None:
            self.notify("No workspace is open.", severity="warning")
            return
        self.findings = None
        self.query_one("#findings-list", FindingsList).loading = True
        self.show_status()
        self.action_show_tab("findings")
        self.validate(self.workspace)

    def action_show_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab
        if tab == "browse":  # back to the rows, where the table keys work
            self.focus_rows()

    def open_bar(self, mode: str, value: str = "") -> None:
        if self.rows is None:
            self.notify("No rows are shown yet.", severity="warning")
            return
        self.action_show_tab("browse")
        self.query_one(QueryBar).open(mode, value)

    def action_search(self) -> None:
        self.open_bar("search", self.query_state.search)

    def action_filter(self) -> None:
        self.open_bar("filter", self.query_state.filter)

    def action_goto(self) -> None:
        self.open_bar("goto")

    def action_sort(self) -> None:
        column = self.cursor_column()
        if column is None:
            self.notify("No rows are shown yet.", severity="warning")
            return
        self.requery(self.query_state.next_sort(column))

    def action_clear_query(self) -> None:
        if self.query_state.active:
            self.requery(BrowseQuery())

    def action_counts(self) -> None:
        column = self.cursor_column()
        if column is None or self.workspace is None or self.current_table is None:
            self.notify("No rows are shown yet: choose a table first.", severity="warning")
            return
        self.action_show_tab("counts")
        browser = self.query_one("#frequency-browser", TableBrowser)
        browser.set_caption(f"{self.current_table}.{column} · counting… (Esc cancels)")
        browser.loading = True
        self.count_values(self.workspace, self.current_table, column, self.query_state, self.all_rows)

    def action_cancel(self) -> None:
        running = [w for w in self.workers if w.node is self and w.is_running and w.group in ("rows", "frequency")]
        if not running:  # nothing to stop: back to the tables list
            self.query_one("#tables", FrameTable).focus()
            return
        for worker in running:
            worker.cancel()
        self.query_one("#browser", LazySheet).loading = False
        frequency_browser = self.query_one("#frequency-browser", TableBrowser)
        frequency_browser.loading = False
        if self.rows is not None:
            self.query_one("#browser", LazySheet).set_caption(f"{self.current_table} · cancelled; the rows shown are "
                                                     f"{self.query_state.describe() or 'all rows'}")
        self.notify("Cancelled.", timeout=3)

    # -- export ---------------------------------------------------------------------

    def exportable(self) -> Exportable | None:
        tab = self.query_one(TabbedContent).active
        if tab == "mapping" and self.inspected is not None:
            return Exportable(self.inspected, file_stem(self.workspace.name if self.workspace else "", "tables"),
                              table="columns", fmt="xlsx")
        if tab == "findings" and self.findings is not None:
            return Exportable(self.findings, file_stem(self.workspace.name if self.workspace else "", "findings"),
                              table="findings", fmt="csv")
        if tab == "counts" and self.counts is not None:
            p = self.counts.params
            return Exportable(self.counts, file_stem(p["table"], p["column"], "counts"))
        if self.rows is None or self.current_table is None:
            return None
        query = self.query_state
        result = Result("data.rows", f"{self.current_table}: {self.rows.height:,} rows",
                        {self.current_table: self.rows},
                        params={"table": self.current_table, "filter": query.filter or None,
                                "search": query.search or None, "sort": query.sort,
                                "descending": query.descending if query.sort else None})
        return Exportable(result, file_stem(self.current_table, "filtered" if query.active else ""), fmt="csv")
