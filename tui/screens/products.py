"""The Products screen: association rules with their filters, the customers a rule speaks
to, the recommendations for the customer highlighted there, and whether the recommenders
beat the best sellers (evaluation table and chart).

Every analysis runs in a thread worker (core.products: rules, rule_audience, recommend,
evaluate) and posts its result back; handlers only fill widgets. Each run carries a key
(the workspace and what was asked); a message whose key is no longer the current one is
dropped, so a slow, stale run never overwrites a newer one. The evaluation (three models
fitted on a time split) runs when its tab is first shown, not before.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import polars as pl
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Header, Input, Label, Static, TabbedContent, TabPane
from textual.worker import get_current_worker

from core.export.display import printable
from core.registry import checked_for, run_analysis
from core.registry import get as analysis
from core.result import Result
from core.workspace import Workspace
from tui.actions import Action, bindings
from tui.export import Exportable, file_stem
from tui.messages import OpenCustomer, ResultReady, WorkFailed
from tui.skip import skippable
from tui.state import WorkspaceState, describe_error
from tui.widgets.bars import Bar, BarChart
from tui.widgets.footer import KeysFooter
from tui.widgets.frame_table import cell
from tui.widgets.recommended import RecommendedTable, recommend_customer
from tui.widgets.result_view import ResultTable, ShownTable, shown_table

FILTERS = ("min_support", "min_confidence", "min_lift")  # options of products.rules, bounds from the registry
# lift next to the rule: the rules are ranked by it, and a narrow panel must not cut it
RULE_COLUMNS = ("antecedent", "consequent", "lift", "confidence", "support", "both_count")
NARROW = 130  # columns below which the rules panel takes more of the width
EVALUATION_COLUMNS = ("method", "customers", "precision", "recall", "ndcg", "hit_rate", "coverage_share",
                      "ndcg_gain", "ndcg_gain_ci_low", "ndcg_gain_ci_high")
TAB_TITLES = {"audience": ("Customers", "a"), "recommended": ("Recommended", "m"), "evaluation": ("Evaluation", "v")}
AUDIENCE_SHOWN = 500  # customers listed under a rule (the count says how many there are)


@dataclass(frozen=True, eq=False)
class Ask:
    """One request to a worker; handlers compare it by identity with the current one."""

    workspace: Workspace
    value: Any = None


@dataclass(eq=False)
class AudienceReady(Message):
    key: Ask
    customers: pl.DataFrame  # customer_id, last_bought


@dataclass(eq=False)
class TablePrepared(Message):
    """A Result and its table formatted for display (in the worker)."""

    key: Ask
    task: str
    result: Result
    table: ShownTable


class ProductsScreen(Screen):
    HELP = """\
## Products

**Rules** (left): products bought together, highest lift first. Type the least support,
confidence and lift above the table and press **enter** (or **g**) to mine again.

Highlight a rule to list its **customers** (**a**): those who bought its first side and
not its second, the audience to offer it to. Highlight a customer to see the products
**recommended** (**m**) to them, each with its reason; **enter** opens their history.

**Evaluation** (**v**): the recommenders against "show the best sellers" on the last 90
days: NDCG with the paired gain over popularity and its interval, and a chart.

**1**, **2** and **3** jump to the rules, the filters and the side panel; **escape** goes
back to the rules.
"""

    ACTIONS: ClassVar[tuple[Action, ...]] = (
        Action("g", "mine", "Mine", "Mine the rules again with the filters above the table"),
        Action("a", "show_tab('audience')", "Customers", "The customers the highlighted rule speaks to"),
        Action("m", "show_tab('recommended')", "Recommended", "Products recommended to the highlighted customer"),
        Action("v", "show_tab('evaluation')", "Evaluation", "Do the recommenders beat the best sellers?"),
        Action("escape", "back", "Back", "Back to the rules table", show=False),
        Action("1", "focus_panel('rules')", "Rules panel", "Move to the rules table", show=False),
        Action("2", "focus_panel('filters')", "Filters", "Move to the rule filters", show=False),
        Action("3", "focus_panel('side')", "Side panel", "Move to the customers, recommendations or evaluation",
               show=False),
    )
    BINDINGS = bindings(ACTIONS)

    def __init__(self) -> None:
        super().__init__()
        self.workspace: Workspace | None = None
        self.rules: Result | None = None
        self.evaluation: Result | None = None
        self.audience = pl.DataFrame(schema={"customer_id": pl.String, "last_bought": pl.Date})
        self.asked: dict[str, Ask | None] = {"rules": None, "audience": None, "recommend": None, "evaluate": None}
        self.skippable: str | None = None  # the table whose invalid rows stopped a worker (S: tui.skip)

    # -- layout -----------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        spec = analysis("products.rules")
        yield Header()
        yield Static("", id="status")
        with Horizontal(id="products-body"):
            with Vertical(id="products-rules-panel"):
                with Horizontal(id="rule-filters"):
                    for name in FILTERS:
                        option = spec.option(name)
                        yield Label(f"{option.title or name.removeprefix('min_')} ≥", classes="filter-label")
                        yield Input(f"{option.default:g}", id=name.replace("_", "-"), type="number",
                                    tooltip=option.help, classes="rule-filter")
                yield ResultTable(ShownTable("rules", []), id="products-rules")
            with TabbedContent(id="products-tabs", initial="audience"):
                with TabPane("Customers [dim](a)[/]", id="audience"):
                    yield Static("", id="audience-caption", classes="products-caption")
                    yield DataTable(id="products-audience", cursor_type="row", zebra_stripes=True)
                with TabPane("Recommended [dim](m)[/]", id="recommended"):
                    yield Static("Highlight a customer to see what to offer them.", id="recommended-caption",
                                 classes="products-caption")
                    yield RecommendedTable(id="products-recommended")
                with TabPane("Evaluation [dim](v)[/]", id="evaluation"):
                    yield Static("", id="evaluation-caption", classes="products-caption")
                    yield ResultTable(ShownTable("metrics", []), id="products-evaluation")
                    yield Label("NDCG@10 by method, (gain over popularity), │ = popularity", classes="section-title")
                    yield BarChart(id="products-evaluation-chart", empty="Not evaluated yet.")
        yield KeysFooter()

    def on_resize(self) -> None:
        # at 100 columns, half the width cut the lift column and its filter; the tabs then
        # drop their key hints (in the footer and help) so "Evaluation" is not cut
        narrow = self.size.width < NARROW
        self.set_class(narrow, "-narrow")
        tabs = self.query_one(TabbedContent)
        for pane, (title, key) in TAB_TITLES.items():
            tabs.get_tab(pane).label = title if narrow else f"{title} [dim]({key})[/]"

    def on_mount(self) -> None:
        self.title = "Loyalist · Products"
        self.query_one("#products-rules-panel").border_title = "Rules"
        self.query_one("#products-rules").focus()
        self.watch(self.app, "workspace_state", self.workspace_changed, init=True)

    def set_status(self, text: str, kind: str = "") -> None:
        status = self.query_one("#status", Static)
        status.update(Text(printable(text)))  # product ids and errors quote the user's data
        status.set_classes(kind)

    def caption(self, widget: str, text: str) -> None:
        self.query_one(f"#{widget}", Static).update(Text(printable(text)))

    # -- the workspace ----------------------------------------------------------------------------

    def workspace_changed(self, state: WorkspaceState | None) -> None:
        self.workers.cancel_node(self)
        self.asked = dict.fromkeys(self.asked)
        if self.skippable is not None:  # S wrote the policy and reopened the workspace: rerun below
            self.skippable = None
            self.app.refresh_bindings()
        self.rules = self.evaluation = None
        self.workspace = state.workspace if state else None
        if state is None or state.opening:
            self.set_status(f"Opening {state.label if state else 'the workspace'}…", "-busy")
        elif state.error:
            self.set_status(f"Could not open {state.label}: {state.error} (press r to reload)", "-error")
        else:
            self.action_mine()
            if self.query_one(TabbedContent).active == "evaluation":
                self.start_evaluation()

    # -- rules --------------------------------------------------------------------------------------

    def filters(self) -> dict[str, float] | None:
        """The filter values, checked against the registry's bounds; None (and a notice) if one is bad."""
        spec = analysis("products.rules")
        values = {}
        for name in FILTERS:
            option, box = spec.option(name), self.query_one(f"#{name.replace('_', '-')}", Input)
            try:
                value = float(box.value)
                if (option.low is not None and value < option.low) or (option.high is not None and value > option.high):
                    raise ValueError
            except ValueError:
                bounds = f"between {option.low:g} and {option.high:g}" if option.high is not None \
                    else f"at least {option.low:g}"
                self.notify(f"{name.replace('_', ' ')} must be a number {bounds}", title="Check the filters",
                            severity="error", markup=False)
                box.focus()
                return None
            values[name] = value
        return values

    def action_mine(self) -> None:
        if self.workspace is None:
            return
        values = self.filters()
        if values is not None:
            self.start_mining(values)

    def start_mining(self, values: dict[str, float]) -> None:
        if self.workspace is None:
            return
        ask = self.asked["rules"] = Ask(self.workspace, values)
        self.query_one("#products-rules-panel").loading = True
        self.set_status("Mining association rules…", "-busy")
        self.mine(ask)

    @work(thread=True, exclusive=True, group="products-rules", exit_on_error=False)
    def mine(self, ask: Ask) -> None:
        try:  # as on the CLI: options checked, invalid rows by the table's policy, counted in the notes
            result = run_analysis("products.rules", ask.workspace, ask.value)
            table = result.tables["rules"].select(RULE_COLUMNS)
            shown = shown_table("rules", table, result.kinds)
        except Exception as exc:  # no product_id, too little data: said on screen
            self.post_message(WorkFailed(ask, "rules", describe_error(exc), skippable(exc)))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(TablePrepared(ask, "rules", result, shown))

    @on(TablePrepared)
    def rules_ready(self, message: TablePrepared) -> None:
        if message.task != "rules" or message.key is not self.asked["rules"]:
            return
        message.stop()
        self.rules = message.result
        self.query_one("#products-rules-panel").loading = False
        self.query_one("#products-rules", ResultTable).show(message.table)
        shown, total = message.result.tables["rules"].height, message.result.headline["rule_count"]
        self.query_one("#products-rules-panel").border_title = \
            f"Rules · {shown:,}" + (f" of {total:,}" if total > shown else "")
        self.set_status(f"{total:,} rules in {message.result.headline['basket_count']:,} baskets"
                        + (" · highlight one to see its customers" if total else
                           " · lower the filters to see some"), "-ok")
        self.rule_chosen(0)

    @on(DataTable.CellHighlighted, "#products-rules")
    def rule_highlighted(self, event: DataTable.CellHighlighted) -> None:
        # A result table has a cell cursor and may be sorted: find the rule the row shows.
        self.rule_chosen(self.query_one("#products-rules", ResultTable).source_row(event.coordinate.row))

    def rule_chosen(self, row: int) -> None:
        table = self.rules.tables["rules"] if self.rules is not None else None
        if table is None or self.workspace is None:
            return
        if table.height == 0:
            self.show_audience(pl.DataFrame(schema={"customer_id": pl.String, "last_bought": pl.Date}), "no rule")
            return
        rule = table.row(min(row, table.height - 1), named=True)
        current = self.asked["audience"]
        if current is not None and current.value == rule and current.workspace is self.workspace:
            return
        ask = self.asked["audience"] = Ask(self.workspace, rule)
        self.caption("audience-caption", f"Finding who bought {rule['antecedent']} and not {rule['consequent']}…")
        self.find_audience(ask)

    @work(thread=True, exclusive=True, group="products-audience", exit_on_error=False)
    def find_audience(self, ask: Ask) -> None:
        from core.products.cross_sell import rule_audience
        from core.products.rules import JOIN

        rule = ask.value
        try:
            ws = checked_for("products.cross_sell", ask.workspace).ws
            customers = rule_audience(ws, rule["antecedent"].split(JOIN), rule["consequent"].split(JOIN))
        except Exception as exc:
            self.post_message(WorkFailed(ask, "audience", describe_error(exc), skippable(exc)))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(AudienceReady(ask, customers))

    @on(AudienceReady)
    def audience_ready(self, message: AudienceReady) -> None:
        if message.key is not self.asked["audience"]:
            return
        message.stop()
        rule = message.key.value
        self.show_audience(message.customers, f"{rule['antecedent']} → {rule['consequent']}")

    def show_audience(self, customers: pl.DataFrame, rule: str) -> None:
        self.audience = customers.head(AUDIENCE_SHOWN)
        table = self.query_one("#products-audience", DataTable)
        table.clear(columns=True)
        table.add_column(Text("customer", style="bold"), key="customer_id")
        table.add_column(Text("last bought", style="bold"), key="last_bought")
        for cid, day in self.audience.iter_rows():
            table.add_row(cell(cid), cell(day), key=cid)
        more = f", the {AUDIENCE_SHOWN:,} latest listed" if customers.height > AUDIENCE_SHOWN else ""
        self.caption("audience-caption", f"{customers.height:,} customers to offer {rule}{more} · enter opens "
                     "one's history" if customers.height else f"No customer to offer: {rule}")
        if self.audience.height:
            self.customer_chosen(self.audience["customer_id"][0])

    # -- the highlighted customer -------------------------------------------------------------------

    @on(DataTable.RowHighlighted, "#products-audience")
    def audience_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key.value is not None:
            self.customer_chosen(event.row_key.value)

    @on(DataTable.RowSelected, "#products-audience")
    def audience_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self.post_message(OpenCustomer(event.row_key.value))

    def customer_chosen(self, customer_id: str) -> None:
        current = self.asked["recommend"]
        if self.workspace is None or (current is not None and current.value == customer_id
                                      and current.workspace is self.workspace):
            return
        ask = self.asked["recommend"] = Ask(self.workspace, customer_id)
        self.caption("recommended-caption", f"Recommended for customer {customer_id}")
        self.query_one("#products-recommended", RecommendedTable).working()
        self.recommend(ask)

    @work(thread=True, exclusive=True, group="products-recommended", exit_on_error=False)
    def recommend(self, ask: Ask) -> None:
        try:
            result = recommend_customer(checked_for("products.recommend", ask.workspace).ws, ask.value)
        except Exception as exc:
            self.post_message(WorkFailed(ask, "recommend", describe_error(exc), skippable(exc)))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(ResultReady(ask, "recommend", result))

    @on(ResultReady)
    def recommendations_ready(self, message: ResultReady) -> None:
        if message.task != "recommend" or message.key is not self.asked["recommend"]:
            return
        message.stop()
        self.query_one("#products-recommended", RecommendedTable).show_result(message.result)

    # -- evaluation -----------------------------------------------------------------------------------

    @on(TabbedContent.TabActivated, "#products-tabs")
    def tab_shown(self, event: TabbedContent.TabActivated) -> None:
        if event.pane.id == "evaluation":
            self.start_evaluation()

    def start_evaluation(self) -> None:
        if self.workspace is None or self.asked["evaluate"] is not None:
            return  # running or done for this workspace
        ask = self.asked["evaluate"] = Ask(self.workspace)
        self.caption("evaluation-caption", "Fitting item-item, ALS and popularity on a time split…")
        self.query_one("#products-evaluation").loading = True
        self.evaluate(ask)

    @work(thread=True, exclusive=True, group="products-evaluate", exit_on_error=False)
    def evaluate(self, ask: Ask) -> None:
        try:
            result = run_analysis("products.evaluate", ask.workspace)
            shown = shown_table("metrics", result.tables["metrics"].select(EVALUATION_COLUMNS), result.kinds)
        except Exception as exc:
            self.post_message(WorkFailed(ask, "evaluate", describe_error(exc), skippable(exc)))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(TablePrepared(ask, "evaluate", result, shown))

    @on(TablePrepared)
    def evaluation_ready(self, message: TablePrepared) -> None:
        if message.task != "evaluate" or message.key is not self.asked["evaluate"]:
            return
        message.stop()
        result = self.evaluation = message.result
        self.query_one("#products-evaluation").loading = False
        self.query_one("#products-evaluation", ResultTable).show(message.table)
        h = result.headline
        verdict = f"{h['best_method']} beats the best sellers" if h["beats_popularity"] else \
            "no method beats the best sellers beyond chance"
        self.caption("evaluation-caption", f"Trained to {h['train_until']}, tested to {h['test_end']} on "
                     f"{h['customer_count']:,} customers: {verdict}")
        metrics = result.tables["metrics"]
        bars = [Bar(row["method"], row["ndcg"], f"{row['ndcg']:.3f}" + (
            f" ({row['ndcg_gain']:+.3f})" if row["ndcg_gain"] is not None else ""))
                for row in metrics.iter_rows(named=True)]
        self.query_one("#products-evaluation-chart", BarChart).show(bars, reference=h["popularity_ndcg"])

    # -- failures -------------------------------------------------------------------------------------

    @on(WorkFailed)
    def failed(self, message: WorkFailed) -> None:
        if message.key is not self.asked.get(message.task):
            return
        message.stop()
        if message.skippable:  # invalid rows stopped it: the footer offers S
            self.skippable = message.skippable
            self.app.refresh_bindings()
        if message.task == "rules":
            self.query_one("#products-rules-panel").loading = False
            self.query_one("#products-rules", ResultTable).show(ShownTable("rules", []))
            self.rules = None
            self.set_status(f"Could not mine rules: {message.error}", "-error")
            self.notify(message.error, title="Rules could not run", severity="error", timeout=10, markup=False)
        elif message.task == "audience":
            self.caption("audience-caption", f"Could not list the customers: {message.error}")
        elif message.task == "recommend":
            self.query_one("#products-recommended", RecommendedTable).show_error(message.error)
        else:
            self.query_one("#products-evaluation").loading = False
            self.caption("evaluation-caption", f"Could not evaluate: {message.error}")

    # -- other actions ---------------------------------------------------------------------------------

    def action_show_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab

    def action_back(self) -> None:
        self.query_one("#products-rules").focus()

    def action_focus_panel(self, panel: str) -> None:
        if panel == "rules":
            self.query_one("#products-rules").focus()
        elif panel == "filters":
            self.query_one("#min-support").focus()
        else:
            tab = self.query_one(TabbedContent).active
            target = {"audience": "#products-audience", "recommended": "#products-recommended",
                      "evaluation": "#products-evaluation"}[tab]
            self.query_one(target).focus()

    @on(Input.Submitted, ".rule-filter")
    def filter_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        values = self.filters()
        if values is not None:
            self.query_one("#products-rules").focus()  # back to the rules, so the screen's keys work again
            self.start_mining(values)

    def exportable(self) -> Exportable | None:
        """The evaluation when its tab is shown, else the rules."""
        if self.query_one(TabbedContent).active == "evaluation" and self.evaluation is not None:
            return Exportable(self.evaluation, file_stem("recommender evaluation"))
        if self.rules is None:
            return None
        return Exportable(self.rules, file_stem("association rules"))
