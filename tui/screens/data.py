"""The Data screen: the workspace's tables, each table's column mapping, validation
findings, and a virtualised browser over the selected table's rows.

Every Polars step (inspect, validate, collecting rows) runs in a thread worker that
posts a message back; the handlers, on the UI thread, only hand results to widgets.
A message about a workspace that is no longer current is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static, TabbedContent, TabPane
from textual.worker import get_current_worker
from textual_fastdatatable.backend import PolarsBackend

from core.contract import MONEY
from core.inspect import inspect_workspace
from core.result import Result
from core.validate import validation_result
from core.workspace import Workspace
from tui import present
from tui.actions import Action, bindings
from tui.state import WorkspaceState, describe_error
from tui.widgets.browser import TableBrowser, browsable
from tui.widgets.findings import FindingsList
from tui.widgets.frame_table import FrameTable

# Rows handed to the browser. The Polars backend keeps them columnar and draws only the
# rows in view; the cap bounds memory for a 10-million-row transactions file.
BROWSE_ROWS = 1_000_000
FINDINGS_LABEL = "Findings{} [dim](f)[/]"
FAILURE_TITLES = {"inspect": "Could not read the tables", "validate": "Could not validate the data",
                  "rows": "Could not read the rows"}


@dataclass(eq=False)
class Inspected(Message):
    workspace: Workspace
    result: Result


@dataclass(eq=False)
class Validated(Message):
    workspace: Workspace
    result: Result


@dataclass(eq=False)
class RowsLoaded(Message):
    workspace: Workspace
    table: str
    backend: PolarsBackend
    note: str  # why the columns are not the canonical ones, if they are not


@dataclass(eq=False)
class TaskFailed(Message):
    workspace: Workspace
    task: str  # "inspect" | "validate" | "rows"
    error: str


class DataScreen(Screen):
    ACTIONS: ClassVar[tuple[Action, ...]] = (
        Action("t", "next_table", "Next table", "Show the next table's mapping and rows"),
        Action("v", "validate", "Validate", "Check the workspace's data again and show the findings"),
        # the tab keys are shown in the tab labels rather than in a crowded footer
        Action("b", "show_tab('browse')", "Browse", "Browse the selected table's rows", show=False),
        Action("m", "show_tab('mapping')", "Mapping", "Show how the selected table's columns were mapped",
               show=False),
        Action("f", "show_tab('findings')", "Findings", "Show validation errors and warnings", show=False),
    )
    BINDINGS = bindings(ACTIONS)

    def __init__(self) -> None:
        super().__init__()
        self.workspace: Workspace | None = None
        self.inspected: Result | None = None
        self.findings: Result | None = None
        self.current_table: str | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="data-body"):
            yield Static("", id="status")
            yield FrameTable(id="tables", key="table")
            with TabbedContent(id="detail", initial="browse"):
                with TabPane("Browse [dim](b)[/]", id="browse"):
                    yield TableBrowser(id="browser")
                with TabPane("Mapping [dim](m)[/]", id="mapping"):
                    yield FrameTable(id="mapping-table", cursor_type="cell")
                with TabPane(FINDINGS_LABEL.format(""), id="findings"):
                    yield FindingsList(id="findings-list")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.title = "Loyalist · Data"
        self.query_one("#tables").border_title = "Tables"
        self.query_one("#tables", FrameTable).focus()
        self.watch(self.app, "workspace_state", self.workspace_changed, init=True)

    # -- the workspace --------------------------------------------------------------

    async def workspace_changed(self, state: WorkspaceState | None) -> None:
        self.workspace, self.inspected, self.findings, self.current_table = None, None, None, None
        tables = self.query_one("#tables", FrameTable)
        if state is None or state.opening:
            label = state.label if state else "the workspace"
            self.set_status(f"Opening {label}…", "-busy")
            tables.loading = True
            return
        tables.loading = False
        if state.error is not None:
            tables.clear(columns=True)
            self.query_one("#mapping-table", FrameTable).clear(columns=True)
            self.query_one(TableBrowser).set_caption("")
            await self.query_one(TableBrowser).show_message("No workspace is open.")
            await self.query_one("#findings-list", FindingsList).clear()
            self.query_one(TabbedContent).get_tab("findings").label = FINDINGS_LABEL.format("")
            self.set_status(f"Could not open {state.label}: {state.error} (press r to reload)", "-error")
            return
        self.workspace = state.workspace
        self.set_status(f"{self.workspace.root} · reading tables…", "-busy")
        tables.loading = True
        self.query_one("#findings-list", FindingsList).loading = True
        self.inspect(self.workspace)
        self.validate(self.workspace)

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
        try:
            result = inspect_workspace(ws)
        except Exception as exc:  # bad data must become a message, never a dead app
            self.post_message(TaskFailed(ws, "inspect", describe_error(exc)))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(Inspected(ws, result))

    @work(thread=True, exclusive=True, group="validate", exit_on_error=False)
    def validate(self, ws: Workspace) -> None:
        try:
            result = validation_result(ws)
        except Exception as exc:
            self.post_message(TaskFailed(ws, "validate", describe_error(exc)))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(Validated(ws, result))

    @work(thread=True, exclusive=True, group="rows", exit_on_error=False)
    def load_rows(self, ws: Workspace, table: str) -> None:
        source = ws.sources[table]
        note, money = "", []
        try:
            if source.missing_required:  # still worth seeing: it shows what to map
                frame = ws.scan_raw(table).head(BROWSE_ROWS).collect()
                note = f"the file as read: required column {source.missing_required[0]!r} is not mapped"
            else:
                frame = ws.scan(table).head(BROWSE_ROWS).collect()
                money = [m.canonical for m in source.columns if m.kind == MONEY]
            if get_current_worker().is_cancelled:
                return
            backend = browsable(frame, money=money)
        except Exception as exc:
            self.post_message(TaskFailed(ws, "rows", f"{table}: {describe_error(exc)}"))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(RowsLoaded(ws, table, backend, note))

    # -- results (UI thread) --------------------------------------------------------

    @on(Inspected)
    def show_inspected(self, message: Inspected) -> None:
        if message.workspace is not self.workspace:
            return
        self.inspected = message.result
        self.refresh_tables()
        self.show_status()
        tables = self.query_one("#tables", FrameTable)
        tables.loading = False
        if tables.row_count:
            self.select_table(tables.highlighted_key)

    @on(Validated)
    async def show_findings(self, message: Validated) -> None:
        if message.workspace is not self.workspace:
            return
        self.findings = message.result
        findings_list = self.query_one("#findings-list", FindingsList)
        findings_list.loading = False
        await findings_list.show_findings(message.result.tables["findings"])
        errors, warnings = message.result.headline["errors"], message.result.headline["warnings"]
        summary = f" · {present.issue_text(errors, warnings)}" if errors or warnings else ""
        self.query_one(TabbedContent).get_tab("findings").label = FINDINGS_LABEL.format(summary)
        self.refresh_tables()
        self.show_status()

    @on(RowsLoaded)
    async def show_rows(self, message: RowsLoaded) -> None:
        if message.workspace is not self.workspace or message.table != self.current_table:
            return
        browser = self.query_one(TableBrowser)
        await browser.show(message.backend, self.caption(message.table, message.backend, message.note))
        browser.loading = False

    @on(TaskFailed)
    async def show_failure(self, message: TaskFailed) -> None:
        if message.workspace is not self.workspace:
            return
        self.notify(message.error, title=FAILURE_TITLES[message.task], severity="error",
                    timeout=10, markup=False)
        if message.task == "inspect":
            self.query_one("#tables", FrameTable).loading = False
            self.set_status(f"{message.workspace.root}: {message.error}", "-error")
        elif message.task == "validate":
            findings_list = self.query_one("#findings-list", FindingsList)
            findings_list.loading = False
            await findings_list.show_message(f"Validation could not run: {message.error}")
        else:
            browser = self.query_one(TableBrowser)
            browser.loading = False
            browser.set_caption("")
            await browser.show_message(f"Could not read rows of {message.error}")

    def refresh_tables(self) -> None:
        if self.inspected is None:
            return
        findings = self.findings.tables["findings"] if self.findings else None
        overview = present.tables_overview(self.inspected, findings)
        self.query_one("#tables", FrameTable).show_frame(overview, present.TABLE_LABELS)

    def caption(self, table: str, backend: PolarsBackend, note: str) -> str:
        info = present.table_row(self.inspected, table) if self.inspected else {}
        total = info.get("rows") or backend.source_row_count
        shown = backend.row_count
        rows = (f"first {shown:,} of {total:,} rows" if shown < total
                else present.plural(total, "row"))
        parts = [table, info.get("file", ""), rows, present.plural(backend.column_count, "column"), note]
        return " · ".join(p for p in parts if p)

    # -- selection ------------------------------------------------------------------

    def select_table(self, table: str | None) -> None:
        if table is None or self.workspace is None or self.inspected is None:
            return
        if table == self.current_table:
            return
        self.current_table = table
        self.query_one("#mapping-table", FrameTable).show_frame(
            present.mapping_for(self.inspected, table), present.MAPPING_LABELS)
        browser = self.query_one(TableBrowser)
        browser.set_caption(f"{table} · loading rows…")
        browser.loading = True
        self.load_rows(self.workspace, table)

    @on(DataTable.RowHighlighted, "#tables")
    def table_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.select_table(event.row_key.value)

    @on(DataTable.RowSelected, "#tables")
    def table_chosen(self, event: DataTable.RowSelected) -> None:
        self.select_table(event.row_key.value)
        self.action_show_tab("browse")
        table = self.query_one(TableBrowser).table
        if table is not None:
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
