"""Drill-down: from a report row to the customers behind it, and on to one customer.

Enter on a row of a table that names a group of customers (a channel, a campaign, a
cohort, a segment: core.drill.DRILLABLE) pushes CustomersScreen, which lists them with the
table verbs (sort, search, copy, counts) and exports them with e like any screen; Enter on
one of them opens that customer's history (tui.screens.customer). A table whose rows are
customers already (a customer_id column: CLV, churn risk) opens the history at once.
The list is computed in a thread worker (core.drill.customers_behind) with its progress on
the status line; escape cancels it, or goes back.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.message import Message
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Header, Static, TabPane
from textual.worker import get_current_worker

from core.drill import customers_behind, drill_column, period_of_cell
from core.progress import step
from core.registry import ANALYSES, checked_for
from core.result import Result
from core.workspace import Workspace
from tui.actions import Action, bindings
from tui.export import Exportable, file_stem
from tui.messages import OpenCustomer
from tui.progress import RunTicker
from tui.state import describe_error
from tui.widgets.footer import KeysFooter
from tui.widgets.result_view import Prepared, ResultTable, ResultView, prepare
from tui.widgets.sheet import ROW, SheetBrowser


def focused_row(view: ResultView, focused: Widget | None) -> tuple[str, dict[str, Any]] | None:
    """(table name, the highlighted row's values) when the focus is in one of the view's tables."""
    if focused is None or view.prepared is None:
        return None
    chain = [focused, *focused.ancestors]
    if view not in chain:
        return None
    sheet = next((w for w in chain if isinstance(w, (ResultTable, SheetBrowser))), None)
    pane = next((w for w in chain if isinstance(w, TabPane)), None)
    if sheet is None or pane is None or sheet.sheet_frame is None or sheet.sheet_table() is None:
        return None
    name = next((t.name for t in view.prepared.tables if t.tab_id == pane.id), None)
    row = sheet.sheet_table().cursor_coordinate.row
    frame = sheet.sheet_frame  # in the order shown (sorted or not)
    if name is None or not 0 <= row < frame.height:
        return None
    return name, {k: v for k, v in frame.row(row, named=True).items() if k != ROW}


def focused_column(view: ResultView, focused: Widget | None) -> str | None:
    """The name of the column the cursor is on, in the focused table of the view."""
    chain = [focused, *focused.ancestors] if focused is not None else []
    if view not in chain:
        return None
    sheet = next((w for w in chain if isinstance(w, (ResultTable, SheetBrowser))), None)
    at = sheet.sheet_cursor() if sheet is not None and sheet.sheet_frame is not None else None
    return sheet.sheet_columns()[at[1]] if at is not None else None


def drill_kind(result: Result, table: str, row: dict[str, Any]) -> str | None:
    """"group" (list its customers), "customer" (open the history) or None (nothing behind it)."""
    if drill_column(result.name, table) is not None:
        return "group"
    return "customer" if row.get("customer_id") is not None else None


def as_of_of(result: Result) -> dt.date | None:
    day = result.params.get("as_of")
    return day if isinstance(day, dt.date) else None


def drill(screen: Screen, view: ResultView, ws: Workspace | None) -> None:
    """Enter on a result's row: its customers, or its customer's history; SkipAction (the key
    does what it does elsewhere) when the focus is on no such row."""
    found = focused_row(view, screen.focused)
    result = view.result
    kind = drill_kind(result, *found) if found and result is not None else None
    if kind is None:
        raise SkipAction()
    table, row = found
    if kind == "customer":
        screen.post_message(OpenCustomer(str(row["customer_id"]), as_of=as_of_of(result)))
    else:  # on a cohort matrix's period cell: the cohort's customers active in that period
        column = focused_column(view, screen.focused)
        cell = column if period_of_cell(result.name, table, column) is not None else None
        screen.app.push_screen(CustomersScreen(result, table, row, ws, cell))


def can_drill(view: ResultView, focused: Widget | None) -> bool:
    found = focused_row(view, focused)
    return bool(found and view.result is not None and drill_kind(view.result, *found))


@dataclass(eq=False)
class CustomersListed(Message):
    prepared: Prepared | None
    error: str = ""


class CustomersScreen(Screen):
    ACTIONS: ClassVar[tuple[Action, ...]] = (
        Action("enter", "open_customer", "History", "Open the highlighted customer's history", priority=True),
        Action("escape", "back", "Back", "Stop listing the customers, or go back to the report"),
    )
    BINDINGS = bindings(ACTIONS)

    def __init__(self, source: Result, table: str, row: dict[str, Any], ws: Workspace | None,
                 cell: str | None = None) -> None:
        super().__init__()
        self.source, self.table, self.row, self.workspace = source, table, row, ws
        self.cell = cell  # a cohort matrix's period column (m3): only the customers active then
        self.ticker: RunTicker | None = None
        self.listed: Result | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="status")
        yield ResultView(id="drill-view")
        yield KeysFooter()

    def on_mount(self) -> None:
        self.title = "Loyalist · Customers"
        column = drill_column(self.source.name, self.table)
        self.ticker = RunTicker(self, lambda text: self.set_status(text, "-busy"),
                                f"Customers of {column} {self.row.get(column)}"
                                + (f" active in {self.cell}" if self.cell else ""), "escape cancels").start()
        self.list_customers(self.ticker)

    def set_status(self, text: str, kind: str = "") -> None:
        status = self.query_one("#status", Static)
        status.update(Text(text))
        status.set_classes(kind)

    @work(thread=True, exclusive=True, group="drill", exit_on_error=False)
    def list_customers(self, ticker: RunTicker) -> None:
        try:
            with ticker.tracking():
                ws = self.workspace
                if ws is not None and self.source.name in ANALYSES:  # the rows the report read (core.invalid)
                    step("checking the tables")
                    ws = checked_for(self.source.name, ws).ws
                step("finding the customers")
                listed = customers_behind(self.source, self.table, self.row, ws, self.cell)
                step("laying out the list")
                message = CustomersListed(prepare(listed))
        except Exception as exc:  # shown on screen, never a crash
            message = CustomersListed(None, describe_error(exc))
        if not get_current_worker().is_cancelled:
            self.post_message(message)

    @on(CustomersListed)
    async def listed_ready(self, message: CustomersListed) -> None:
        took = self.ticker.stop() if self.ticker else 0.0
        self.ticker = None
        view = self.query_one(ResultView)
        if message.prepared is None:
            self.set_status("Could not list the customers", "-error")
            await view.show_notice(message.error, title="Customers", severity="error")
            return
        self.listed = message.prepared.result
        await view.show(message.prepared)
        view.show_tab("table-customers")
        view.focus_content()
        self.set_status(f"{self.listed.title} · {self.listed.tables['customers'].height:,} customers · "
                        f"{took:.1f} s · enter opens one, e exports the list", "-ok")
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "open_customer":
            return can_drill(self.query_one(ResultView), self.focused)
        return True

    def on_descendant_focus(self) -> None:
        self.refresh_bindings()  # the footer shows enter only on a customer row

    def action_open_customer(self) -> None:
        drill(self, self.query_one(ResultView), self.workspace)

    def action_back(self) -> None:
        if self.ticker is not None:  # still listing: stop, and say so
            self.workers.cancel_group(self, "drill")
            self.ticker.stop()
            self.ticker = None
            self.set_status("Cancelled; escape goes back to the report.", "-warning")
            self.call_later(self.query_one(ResultView).show_notice, "Listing the customers was cancelled.",
                            title="Customers", severity="warning")
            return
        self.dismiss()

    def exportable(self) -> Exportable | None:
        if self.listed is None:
            return None
        value = next((v for k, v in self.listed.params.items() if k not in ("from", "as_of")), "customers")
        return Exportable(self.listed, file_stem("customers", str(value)), table="customers", fmt="csv")
