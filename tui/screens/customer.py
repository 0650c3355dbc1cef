"""One customer's history, over the screen that opened it: orders by channel, scores and
profile attributes, every order, and survey answers.

Opened from the Segments screen's customer list (or by any screen posting
tui.messages.OpenCustomer). The lookup runs in a thread worker (core.customer); Escape
closes the view, e exports the history (every table) like any screen. The Recommended tab
lists the products item-item filtering (core.products.recommend) suggests for the
customer, each with its reason (tui.widgets.recommended, shared with the Products screen),
from a second worker so the history never waits for it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, ClassVar

import polars as pl
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static, TabbedContent, TabPane

from core.export.display import label as nice_label
from core.result import Result
from core.workspace import Workspace
from tui.widgets.footer import KeysFooter
from tui.actions import Action, bindings
from tui.export import Exportable, file_stem
from core.customer import customer_history
from tui.messages import ResultReady, WorkFailed
from tui.state import describe_error
from tui.widgets.bars import Bar, BarChart
from tui.widgets.frame_table import FrameTable
from tui.widgets.recommended import RecommendedTable, recommend_customer
ORDER_LABELS = {"order_date": "date", "amount": "amount", "channel": "channel", "order_id": "order",
                "category": "category", "product_id": "product", "quantity": "qty",
                "campaign_id": "campaign"}


def headline_text(result: Result) -> str:
    h = result.headline
    parts = [f"{h['orders']:,} order{'s' if h['orders'] != 1 else ''}", f"net spend {h['net_spend']:,.2f}"]
    if h["first_order"]:
        parts.append(f"first {h['first_order']} · last {h['last_order']}")
    parts.append(f"{h['channels']} channel{'s' if h['channels'] != 1 else ''}")
    if h["survey_responses"]:
        parts.append(f"{h['survey_responses']} survey response{'s' if h['survey_responses'] != 1 else ''}")
    return " · ".join(parts)


def channel_bars(channels: pl.DataFrame) -> list[Bar]:
    return [Bar(row["channel"], row["net_spend"],
                f"{row['net_spend']:,.2f} · {row['orders']:,} ord"
                + (f" · {row['spend_share']:.0%}" if row["spend_share"] is not None else ""))
            for row in channels.iter_rows(named=True)]


class CustomerScreen(ModalScreen[None]):
    ACTIONS: ClassVar[tuple[Action, ...]] = (
        Action("escape", "close", "Close", "Close the customer's history"),
        # app keys are not active under a modal, so Export is bound here too
        Action("e", "app.export", "Export", "Export the customer's history (every table)"),
        Action("v", "show_tab('overview')", "Overview", "Orders by channel, scores and profile", show=False),
        Action("o", "show_tab('orders')", "Orders", "Every order and return, newest first", show=False),
        Action("a", "show_tab('survey')", "Survey", "The customer's survey answers", show=False),
        Action("m", "show_tab('recommended')", "Recommended", "Products to suggest, with the reason",
               show=False),
    )
    BINDINGS = bindings(ACTIONS)
    HORIZONTAL_BREAKPOINTS: ClassVar = [(0, "-narrow"), (110, "-wide")]  # facts side by side when wide

    def __init__(self, ws: Workspace, customer_id: str, *, scores: Mapping[str, Any] | None = None,
                 segmentation: str | None = None, as_of: dt.date | None = None) -> None:
        super().__init__()
        self.workspace, self.customer_id = ws, customer_id
        self.scores, self.segmentation, self.as_of = dict(scores or {}), segmentation, as_of
        self.result: Result | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="customer-box"):
            yield Static("", id="customer-status")
            with TabbedContent(id="customer-tabs", initial="overview"):
                with TabPane("Overview [dim](v)[/]", id="overview"):
                    with VerticalScroll():
                        yield Label("Orders by channel (net spend)", classes="section-title")
                        yield BarChart(id="customer-channels", empty="No orders.")
                        with Horizontal(id="customer-facts"):
                            with Vertical():
                                yield Label("Scores", classes="section-title")
                                yield FrameTable(id="customer-scores", cursor_type="none", zebra_stripes=False)
                            with Vertical():
                                yield Label("Profile", classes="section-title")
                                yield FrameTable(id="customer-profile", cursor_type="none", zebra_stripes=False)
                with TabPane("Orders [dim](o)[/]", id="orders"):
                    yield FrameTable(id="customer-orders")
                with TabPane("Survey [dim](a)[/]", id="survey"):
                    yield FrameTable(id="customer-survey")
                with TabPane("Recommended [dim](m)[/]", id="recommended"):
                    yield RecommendedTable(id="customer-recommended")
        yield KeysFooter()

    def on_mount(self) -> None:
        box = self.query_one("#customer-box")
        box.border_title = f"Customer {self.customer_id}"
        box.border_subtitle = "Esc closes · e exports"
        box.loading = True
        self.set_status("Reading the customer's orders…", "-busy")
        self.load(self.workspace, self.customer_id)
        self.query_one("#customer-recommended", RecommendedTable).working()
        self.load_recommendations(self.workspace, self.customer_id)

    def set_status(self, text: str, kind: str = "") -> None:
        status = self.query_one("#customer-status", Static)
        status.update(Text(text))
        status.set_classes(kind)

    @work(thread=True, exclusive=True, group="customer", exit_on_error=False)
    def load(self, ws: Workspace, customer_id: str) -> None:
        try:
            result = customer_history(ws, customer_id, scores=self.scores, segmentation=self.segmentation,
                                      as_of=self.as_of, loyalty=getattr(self.app, "loyalty_scores", None))
        except Exception as exc:  # a readable panel message, never a crash
            self.post_message(WorkFailed(customer_id, "history", describe_error(exc)))
            return
        self.post_message(ResultReady(customer_id, "history", result))

    @work(thread=True, exclusive=True, group="customer-recommended", exit_on_error=False)
    def load_recommendations(self, ws: Workspace, customer_id: str) -> None:
        try:
            result = recommend_customer(ws, customer_id, self.as_of)
        except Exception as exc:  # no product_id, no purchase: said in the tab
            self.post_message(WorkFailed(customer_id, "recommend", describe_error(exc)))
            return
        self.post_message(ResultReady(customer_id, "recommend", result))

    @on(ResultReady)
    def show_recommendations(self, message: ResultReady) -> None:
        if message.key != self.customer_id or message.task != "recommend":
            return
        message.stop()
        self.query_one("#customer-recommended", RecommendedTable).show_result(message.result)

    @on(ResultReady)
    def show(self, message: ResultReady) -> None:
        if message.key != self.customer_id or message.task != "history":
            return
        message.stop()
        result = self.result = message.result
        box = self.query_one("#customer-box")
        box.loading = False
        box.border_title = result.title
        self.set_status(headline_text(result))
        self.query_one("#customer-channels", BarChart).show(channel_bars(result.tables["channels"]))
        self.query_one("#customer-scores", FrameTable).show_frame(
            _labelled(result.tables["scores"]) if result.tables["scores"].height
            else _only_row("no scores: open the customer from a segment to see them"))
        self.query_one("#customer-profile", FrameTable).show_frame(
            _labelled(result.tables["profile"]) if result.tables["profile"].height
            else _only_row("no customers table in this workspace"))
        orders = result.tables["orders"]
        shown = [c for c in ORDER_LABELS if c in orders.columns]
        self.query_one("#customer-orders", FrameTable).show_frame(orders.select(shown), ORDER_LABELS)
        survey = result.tables["survey"]
        self.query_one("#customer-survey", FrameTable).show_frame(
            survey.select("response_date", "question", "answer") if survey.height
            else _only_row("no survey answers"))

    @on(WorkFailed)
    def failed(self, message: WorkFailed) -> None:
        if message.key != self.customer_id:
            return
        message.stop()
        if message.task == "recommend":
            self.query_one("#customer-recommended", RecommendedTable).show_error(message.error)
            return
        self.query_one("#customer-box").loading = False
        self.set_status(f"Could not read the history: {message.error}", "-error")

    def exportable(self) -> Exportable | None:
        if self.result is None:
            return None
        return Exportable(self.result, file_stem("customer", self.customer_id), fmt="xlsx")

    def action_close(self) -> None:
        self.workers.cancel_node(self)
        self.dismiss(None)

    def action_show_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab


def _labelled(facts: pl.DataFrame) -> pl.DataFrame:
    """Field names as headings (recency_days -> Recency days) for the screen; exports keep them."""
    return facts.with_columns(pl.Series("field", [nice_label(f) for f in facts["field"]], pl.String))


def _only_row(text: str) -> pl.DataFrame:
    return pl.DataFrame({"": [text]})
