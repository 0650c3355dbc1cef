"""The Segments screen: RFM segments, K-Means clusters or loyalty quadrants of the
workspace's customers; each segment's size and revenue share; the selected segment's
profile against the average (terminal bar charts) and top channels; its customers, each
one's history; a comparison of two segments; the migration between two dates.

Everything runs in thread workers calling core (core.features, core.segments) and comes
back as tui.messages.ResultReady; handlers only select rows of those Results for the
widgets. A result whose key (workspace, as-of date, method...) is no longer current is
dropped. Results are kept per method, so switching back is instant.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any, ClassVar

import polars as pl
from rich.text import Text
from textual import on, work
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Header, Label, Static, TabbedContent, TabPane
from textual.worker import WorkerState, get_current_worker
from textual_fastdatatable import DataTable as FastDataTable
from textual_fastdatatable.backend import PolarsBackend

from core.features import customer_features, default_as_of
from core.progress import step
from core.invalid import Checked
from core.registry import checked_for
from core.result import Result
from core.workspace import Workspace
from tui.widgets.footer import KeysFooter
from tui.actions import Action, bindings
from tui.export import Exportable, file_stem
from tui.messages import OpenCustomer, ResultReady, WorkFailed
from tui.progress import RunTicker
from tui.screens.choose import ChooseDialog
from tui.screens.dates import DatesDialog
from tui.skip import skippable
from tui.state import WorkspaceState, describe_error
from tui.widgets.bars import Bar, BarChart, short_number
from tui.widgets.browser import TableBrowser, browsable
from tui.widgets.chart_panel import ChartPanel
from tui.widgets.matrix import MatrixTable
from tui.widgets.segment_list import SegmentList
from tui.widgets.sheet import SheetBrowser

METHODS = {"rfm": "RFM", "kmeans": "Clusters", "quadrant": "Quadrants"}
METHOD_KEYS = {"rfm": "1", "kmeans": "2", "quadrant": "3"}
INDEX_LIMIT = 300.0  # index bars are capped here (longer ones end in ›)
D_LIMIT = 2.0  # standardised differences beyond this fill the half-bar
COMPARE_FEATURES = 15
MIGRATION_DAYS = 180  # the default earlier date: this many days before the as-of date
MONEY_COLUMNS = ("monetary",)
ACTIVE = (WorkerState.PENDING, WorkerState.RUNNING)


@dataclass(eq=False)
class MembersReady(Message):
    key: Any
    result: Result
    backend: PolarsBackend


# -- presentation: rows of Results as bars and lines (selection only) -----------------


def segment_row(summary: pl.DataFrame, segment: str) -> dict:
    rows = summary.filter(pl.col("segment") == segment)
    return rows.row(0, named=True) if rows.height else {}


def head_text(segmentation: Result, segment: str) -> Text:
    row = segment_row(segmentation.tables["segments"], segment)
    text = Text(segment, style="bold")
    if row.get("rule"):
        text.append(f" · {row['rule']}")
    if row.get("cluster") is not None:
        text.append(f" · cluster {row['cluster']}")
    if not row:
        return text
    share = f" ({row['customer_share']:.1%})" if row["customer_share"] is not None else ""
    text.append(f"\n{row['customers']:,} customers{share}")
    if row["revenue_share"] is not None:
        text.append(f" · {row['revenue_share']:.1%} of revenue ({short_number(row['revenue'])})")
    return text


def share_bars(segmentation: Result, segment: str) -> list[Bar]:
    row = segment_row(segmentation.tables["segments"], segment)
    if not row:
        return []
    pct = lambda v: f"{v:.1%}" if v is not None else "–"  # noqa: E731
    return [Bar("customers", row["customer_share"], pct(row["customer_share"])),
            Bar("revenue", row["revenue_share"], pct(row["revenue_share"]))]


def profile_bars(profile: Result, segment: str) -> list[Bar]:
    """One bar per feature: the index (100 = average), with the segment and overall means."""
    from core.export.display import label as nice_label  # the exports' headings; loaded on first use

    rows = profile.tables["features"].filter(pl.col("segment") == segment)
    return [Bar(nice_label(r["feature"]), r["index"],
                f"{short_number(r['mean'])} vs {short_number(r['overall_mean'])}")
            for r in rows.iter_rows(named=True)]


def channel_bars(profile: Result, segment: str) -> list[Bar]:
    if "channels" not in profile.tables:
        return []
    rows = (profile.tables["channels"].filter((pl.col("segment") == segment) & (pl.col("share") > 0))
            .sort("share", descending=True))
    return [Bar(r["channel"], r["share"], f"{r['share']:.0%}") for r in rows.iter_rows(named=True)]


def terms_text(profile: Result) -> str:
    """What the profile's feature names mean (core.glossary), under its bars."""
    from core.glossary import glossary_for

    features = profile.tables["features"]["feature"].unique(maintain_order=True).to_list()
    terms = glossary_for(features)
    return "Terms\n" + "\n".join(text for _, text in terms) if terms else ""


def compare_bars(comparison: Result) -> list[Bar]:
    from core.export.display import label as nice_label

    rows = comparison.tables["differences"].filter(pl.col("std_difference").is_not_null())
    return [Bar(nice_label(r["feature"]), r["std_difference"],
                f"{r['std_difference']:+.2f} · {short_number(r['mean_a'])} vs {short_number(r['mean_b'])}")
            for r in rows.head(COMPARE_FEATURES).iter_rows(named=True)]


def splits_text(segmentation: Result) -> str:
    """The quadrant split points or the number of clusters, read from the Result's tables."""
    tables = segmentation.tables
    if "splits" in tables:
        return "high if " + ", ".join(f"{r['axis']} > {r['split']:g}" for r in tables["splits"].iter_rows(named=True))
    if "k_scores" in tables:
        chosen = tables["k_scores"].filter(pl.col("chosen")) if tables["k_scores"].height else None
        silhouette = f", silhouette {chosen['silhouette'][0]:.2f}" if chosen is not None and chosen.height else ""
        how = "chosen" if segmentation.params.get("k") is not None else "the best"
        return f"k = {tables['segments'].height}{silhouette} ({how}) · K: another k"
    return ""


def method_bar(active: str) -> Text:
    text = Text()
    for method, title in METHODS.items():
        text.append(f" {title} ", style="reverse bold" if method == active else "")
        text.append(f"{METHOD_KEYS[method]}  ", style="dim")
    return text


def merged_result(segmentation: Result, profile: Result | None) -> Result:
    """The segmentation with its profile tables beside it, for export (no new figures)."""
    if profile is None:
        return segmentation
    extra = {"profile": profile.tables["features"]}
    if "channels" in profile.tables:
        extra["channels"] = profile.tables["channels"]
    return dataclasses.replace(segmentation, tables={**segmentation.tables, **extra},
                               notes=(*segmentation.notes, *profile.notes))


# -- core calls (run in workers) -------------------------------------------------------


def segmentation_of(method: str, features: pl.DataFrame, as_of: dt.date, ws: Workspace,
                    k: int | None = None) -> Result:
    """`k`: the number of clusters the analyst chose (None: the best silhouette)."""
    if method == "rfm":
        from core.segments.rfm import rfm_segments

        section = ws.options.get("segments", {})
        rfm_map = section.get("rfm_map") if isinstance(section, dict) else None
        return rfm_segments(features, rfm_map=rfm_map, as_of=as_of)
    if method == "kmeans":
        from core.segments.clusters import kmeans_segments

        return kmeans_segments(features, seed=0, as_of=as_of, k=k, score_k=k is not None)
    from core.segments.quadrants import quadrant_segments

    return quadrant_segments(features, as_of=as_of)


class SegmentsScreen(Screen):
    ACTIONS: ClassVar[tuple[Action, ...]] = (
        *(Action(key, f"show_method('{m}')", METHODS[m], f"Segment the customers by {METHODS[m]}",
                 show=False) for m, key in METHOD_KEYS.items()),
        Action("u", "members", "Customers", "List the selected segment's customers (Enter opens one)"),
        Action("c", "compare", "Compare", "Compare the selected segment with another"),
        Action("m", "migration", "Migration", "How customers moved between segments between two dates"),
        Action("a", "as_of", "As of", "Segment the customers as of another date", show=False),
        Action("K", "choose_k", "Clusters k", "Choose the number of clusters, seeing the silhouette of each k",
               show=False),
        Action("v", "show_tab('profile')", "Profile", "The selected segment against the average",
               show=False),
        Action("h", "show_tab('segment-charts-tab')", "Charts",
               "The segmentation's charts: sizes, the quadrant scatter, silhouette by k, the R x F grid"),
        Action("escape", "cancel", "Cancel", "Stop the analysis that is running", show=False),
        Action("ctrl+c", "stop_run", "Stop", "Stop the analysis that is running", show=False),
    )
    BINDINGS = bindings(ACTIONS)

    def __init__(self) -> None:
        super().__init__()
        self.workspace: Workspace | None = None
        self.generation = 0  # bumped when the workspace or the as-of date changes
        self.as_of: dt.date | None = None  # None: the date of the last transaction
        self.features: pl.DataFrame | None = None
        # The workspace as the segment analyses read it (core.invalid: invalid rows stop them, or are
        # left out under on_invalid = "skip"), and what was left out; set with the features.
        self.read_as: tuple[tuple, Checked] | None = None
        self.skippable: str | None = None  # the table whose invalid rows stopped the features (S: tui.skip)
        self.method = "rfm"
        self.k: int | None = None  # clusters chosen by the analyst; None: the best silhouette
        self.segmentations: dict[str, Result] = {}
        self.profiles: dict[str, Result] = {}
        self.profile_errors: dict[str, str] = {}
        self.members: Result | None = None
        self.comparison: Result | None = None
        self.migration: Result | None = None
        self.focus_members = False  # the user drilled in: focus the list once it arrives
        self.ticker: RunTicker | None = None  # what the segments' worker is doing, on the status line

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="segments-body"):
            yield Static("", id="status")
            yield Static(method_bar(self.method), id="methods")
            with Horizontal(id="segments-main"):
                yield SegmentList(id="segment-list")
                with TabbedContent(id="segment-detail", initial="profile"):
                    with TabPane("Profile", id="profile"):
                        with VerticalScroll(id="profile-scroll"):
                            yield Static("", id="profile-head")
                            yield BarChart(id="profile-share", empty="")
                            yield Label("Against the average (bar: index, │ = 100; figures: segment vs all)",
                                        classes="section-title")
                            yield BarChart(id="profile-index", empty="No profile yet.")
                            yield Label("Top channels · share of the segment's spend", classes="section-title")
                            yield BarChart(id="profile-channels", empty="No channel in the transactions.")
                            yield Static("", id="profile-terms", classes="notes")
                    with TabPane("Charts", id="segment-charts-tab"):  # quadrant scatter, silhouette by k...
                        yield ChartPanel("The segments' charts appear here.", id="segment-charts")
                    with TabPane("Customers", id="members"):
                        yield SheetBrowser(id="members-browser")
                    with TabPane("Compare", id="compare"):
                        with VerticalScroll():
                            yield Static("Press c to compare the selected segment with another.",
                                         id="compare-head")
                            yield BarChart(id="compare-bars", empty="")
                            yield Static("", id="compare-notes", classes="notes")
                    with TabPane("Migration", id="migration"):
                        with Vertical():
                            yield Static("Press m to see how customers moved between two dates.",
                                         id="migration-head")
                            yield MatrixTable(id="migration-matrix")
                            yield Static("", id="migration-notes", classes="notes")
        yield KeysFooter()

    def on_mount(self) -> None:
        self.title = "Loyalist · Segments"
        self.query_one("#segment-list").border_title = "Segments"
        self.query_one("#migration-matrix").display = False
        self.query_one(SegmentList).focus()
        self.watch(self.app, "workspace_state", self.workspace_changed, init=True)

    # -- state ----------------------------------------------------------------------

    @property
    def segmentation(self) -> Result | None:
        return self.segmentations.get(self.method)

    @property
    def profile(self) -> Result | None:
        return self.profiles.get(self.method)

    @property
    def selected(self) -> str | None:
        return self.query_one(SegmentList).selected if self.segmentation else None

    def key(self, *parts: Any) -> tuple:
        """What a worker's result must match to be shown: this workspace and date, and the
        choices it was run for (method, segment...)."""
        return (self.generation, *parts)

    @property
    def checked(self) -> Checked | None:
        """How the current features' tables were read (None before they are)."""
        return self.read_as[1] if self.read_as is not None and self.read_as[0] == self.key("features") else None

    @property
    def read_workspace(self) -> Workspace | None:
        """The workspace as the analyses read it: invalid rows left out where on_invalid says so."""
        return self.checked.ws if self.checked is not None else self.workspace

    def is_current(self, task: str, key: tuple) -> bool:
        if task == "features":
            return key == self.key("features")
        if task in ("segment", "profile"):
            return key == self.key(key[-1])
        if task == "members":
            return key == self.key(self.method, "members", self.selected)
        if task == "compare":
            return key == self.key(self.method, "compare")
        if task == "migration":
            return key[:-2] == self.key(self.method, "migration")
        return False

    def set_status(self, text: str, kind: str = "") -> None:
        status = self.query_one("#status", Static)
        status.update(Text(text))
        status.set_classes(kind)

    def reset(self) -> None:
        self.generation += 1
        self.skippable = None
        self.features = None
        self.segmentations.clear()
        self.profiles.clear()
        self.profile_errors.clear()
        self.members = self.comparison = self.migration = None

    async def workspace_changed(self, state: WorkspaceState | None) -> None:
        self.workers.cancel_node(self)
        self.stop_ticker()
        self.reset()
        self.as_of = None
        self.workspace = state.workspace if state else None
        segment_list = self.query_one(SegmentList)
        segment_list.clear(columns=True)
        await self.clear_detail()
        if state is None or state.opening:
            self.set_status(f"Opening {state.label if state else 'the workspace'}…", "-busy")
            segment_list.loading = True
            return
        segment_list.loading = False
        if state.error is not None:
            self.set_status(f"Could not open {state.label}: {state.error} (press r to reload)", "-error")
            return
        self.restore()
        self.compute_features()

    def restore(self) -> None:
        """The method and as-of date chosen when the app last ran on this workspace."""
        saved = self.app.recall("segments")
        k = saved.get("k")
        self.k = k if isinstance(k, int) and not isinstance(k, bool) and 2 <= k <= 50 else None
        if saved.get("method") in METHODS:
            self.method = saved["method"]
            self.query_one("#methods", Static).update(method_bar(self.method))
        try:
            self.as_of = dt.date.fromisoformat(saved["as_of"]) if saved.get("as_of") else None
        except (TypeError, ValueError):  # an old or hand-edited state file: the default date
            self.as_of = None

    async def clear_detail(self) -> None:
        self.query_one("#profile-head", Static).update("")
        self.query_one("#profile-terms", Static).update("")
        for chart in ("#profile-share", "#profile-index", "#profile-channels", "#compare-bars"):
            self.query_one(chart, BarChart).clear()
        self.query_one("#compare-head", Static).update("Press c to compare the selected segment with another.")
        self.query_one("#compare-notes", Static).update("")
        self.query_one("#migration-head", Static).update("Press m to see how customers moved between two dates.")
        self.query_one("#migration-notes", Static).update("")
        self.query_one("#migration-matrix").display = False
        self.query_one("#segment-charts", ChartPanel).show_result(None)
        browser = self.query_one("#members-browser", TableBrowser)
        browser.set_caption("")
        await browser.show_message("Press u (or Enter on a segment) to list its customers.")

    # -- workers (threads: no widget is touched here) --------------------------------

    def start_ticker(self, title: str) -> RunTicker:
        """The status line says what the segments' worker is doing and for how long (tui.progress)."""
        self.stop_ticker()
        self.ticker = RunTicker(self, lambda text: self.set_status(text, "-busy"), title, "Esc cancels").start()
        return self.ticker

    def stop_ticker(self) -> None:
        if self.ticker is not None:
            self.ticker.stop()
            self.ticker = None

    def compute_features(self) -> None:
        self.query_one(SegmentList).loading = True
        ticker = self.start_ticker(f"{self.workspace.name} · customer features")
        self._features(self.workspace, self.as_of, self.key("features"), ticker)

    @work(thread=True, exclusive=True, group="segments", exit_on_error=False)
    def _features(self, ws: Workspace, as_of: dt.date | None, key: tuple, ticker: RunTicker) -> None:
        try:
            with ticker.tracking():
                step("checking the transactions, customers, touchpoints and survey")
                # as `loyalist segment kmeans` reads them: the same rows, so the same segments
                checked = checked_for("segment.kmeans", ws)
                ws = checked.ws
                tx = ws.scan("transactions")
                step("finding the last order date")
                day = as_of or default_as_of(tx)
                step("computing each customer's features")
                features = customer_features(tx, as_of=day, customers=ws.scan_if("customers"),
                                             touchpoints=ws.scan_if("touchpoints"),
                                             survey=ws.scan_if("survey")).collect()
            result = Result("segment.features", f"Customer features as of {day}", {"features": features},
                            params={"as_of": day}, notes=checked.notes)
            self.read_as = (key, checked)
        except Exception as exc:
            self._post(WorkFailed(key, "features", describe_error(exc), skippable(exc)))
            return
        self._post(ResultReady(key, "features", result))

    @work(thread=True, exclusive=True, group="segments", exit_on_error=False)
    def _segment(self, ws: Workspace, method: str, features: pl.DataFrame, as_of: dt.date, key: tuple,
                 k: int | None = None, ticker: RunTicker | None = None) -> None:
        from core.segments.profile import segment_profile

        try:
            with ticker.tracking() if ticker else nullcontext():  # a cancelled run stops at its next step
                step(f"segmenting {features.height:,} customers")
                segmentation = segmentation_of(method, features, as_of, ws, k)
                if self.checked is not None and self.checked.notes:  # what was left out, in every export
                    segmentation = dataclasses.replace(
                        segmentation, notes=(*segmentation.notes, *self.checked.notes))
        except Exception as exc:
            self._post(WorkFailed(key, "segment", describe_error(exc)))
            return
        self._post(ResultReady(key, "segment", segmentation))
        try:
            order = segmentation.tables["segments"]["segment"].to_list()
            profile = segment_profile(features, segmentation.tables["customers"], order=order, as_of=as_of)
        except Exception as exc:
            self._post(WorkFailed(key, "profile", describe_error(exc)))
            return
        self._post(ResultReady(key, "profile", profile))

    @work(thread=True, exclusive=True, group="members", exit_on_error=False)
    def _members(self, ws: Workspace, segmentation: Result, segment: str, as_of: dt.date, key: tuple) -> None:
        try:
            members = (segmentation.tables["customers"].filter(pl.col("segment") == segment)
                       .drop("segment"))
            if ws.has("customers") and "name" in ws.scan("customers").collect_schema():
                names = (ws.scan("customers").select("customer_id", "name")
                         .unique("customer_id", keep="first").collect())
                members = (members.join(names, on="customer_id", how="left", maintain_order="left")
                           .select("customer_id", "name", pl.exclude("customer_id", "name")))
            result = Result("segment.members", f"{segment}: {members.height:,} customers",
                            {"customers": members},
                            params={"segmentation": segmentation.name, "segment": segment, "as_of": as_of})
            backend = browsable(members, money=[c for c in MONEY_COLUMNS if c in members.columns])
        except Exception as exc:
            self._post(WorkFailed(key, "members", describe_error(exc)))
            return
        self._post(MembersReady(key, result, backend))

    @work(thread=True, exclusive=True, group="compare", exit_on_error=False)
    def _compare(self, features: pl.DataFrame, segmentation: Result, a: str, b: str, as_of: dt.date,
                 key: tuple) -> None:
        from core.segments.profile import compare_segments

        try:
            result = compare_segments(features, segmentation.tables["customers"], a, b, as_of=as_of)
        except Exception as exc:
            self._post(WorkFailed(key, "compare", describe_error(exc)))
            return
        self._post(ResultReady(key, "compare", result))

    @work(thread=True, exclusive=True, group="migration", exit_on_error=False)
    def _migrate(self, ws: Workspace, method: str, before: dt.date, after: dt.date, key: tuple,
                 k: int | None = None) -> None:
        from core.segments.migration import migration_between

        try:
            if method == "quadrant":
                ws.require("touchpoints", analysis="loyalty quadrants")
            result = migration_between(
                ws.scan("transactions"), lambda f, as_of: segmentation_of(method, f, as_of, ws, k),
                before, after, customers=ws.scan_if("customers"),
                touchpoints=ws.scan_if("touchpoints") if method != "rfm" else None)
        except Exception as exc:
            self._post(WorkFailed(key, "migration", describe_error(exc)))
            return
        self._post(ResultReady(key, "migration", result))

    def _post(self, message: Message) -> None:
        if not get_current_worker().is_cancelled:
            self.post_message(message)

    # -- results (UI thread) --------------------------------------------------------

    @on(ResultReady)
    async def result_ready(self, message: ResultReady) -> None:
        message.stop()
        task, result = message.task, message.result
        if not self.is_current(task, message.key):
            return
        if task == "features":
            self.features = result.tables["features"]
            self.as_of = result.params["as_of"]
            self.run_method()
        elif task in ("segment", "profile"):
            method = message.key[-1]
            (self.segmentations if task == "segment" else self.profiles)[method] = result
            if method == self.method:
                await self.show_method_result()
        elif task == "compare":
            self.comparison = result
            self.show_comparison()
        elif task == "migration":
            self.migration = result
            self.show_migration()

    @on(WorkFailed)
    async def work_failed(self, message: WorkFailed) -> None:
        message.stop()
        if not self.is_current(message.task, message.key):
            return
        if message.task in ("segment", "profile") and message.key[-1] != self.method:
            return  # the analyst has moved on to another segmentation
        titles = {"features": "Could not compute customer features",
                  "segment": f"Could not segment by {METHODS[self.method]}",
                  "profile": "Could not profile the segments",
                  "members": "Could not list the customers", "compare": "Could not compare the segments",
                  "migration": "Could not compute the migration"}
        self.notify(message.error, title=titles.get(message.task, "Failed"), severity="error",
                    timeout=10, markup=False)
        if message.task == "features" and message.skippable:
            self.skippable = message.skippable
            self.app.refresh_bindings()  # the footer offers S: skip those rows
        if message.task in ("features", "segment", "profile"):
            self.stop_ticker()
            self.query_one(SegmentList).loading = False
            self.set_status(f"{titles[message.task]}: {message.error}", "-error")
            self.query_one("#profile-head", Static).update(Text(f"{titles[message.task]}.\n{message.error}"))
            if message.task == "profile":
                self.profile_errors[self.method] = message.error
                self.query_one("#profile-index", BarChart).clear("")
        elif message.task == "members":
            browser = self.query_one("#members-browser", TableBrowser)
            browser.loading = False
            await browser.show_message(message.error)
        elif message.task == "compare":
            self.query_one("#compare-head", Static).update(Text(f"{titles['compare']}: {message.error}"))
            self.query_one("#compare-bars", BarChart).clear()
        elif message.task == "migration":
            self.query_one("#migration-head", Static).update(Text(f"{titles['migration']}: {message.error}"))
            self.query_one("#migration-matrix").display = False
            self.query_one("#migration-matrix").loading = False

    @on(MembersReady)
    async def members_ready(self, message: MembersReady) -> None:
        if not self.is_current("members", message.key):
            return
        self.members = message.result
        browser = self.query_one("#members-browser", SheetBrowser)
        browser.loading = False
        members = message.result.tables["customers"]
        await browser.show_sheet(members, message.backend, f"{message.result.title} · Enter opens a customer's "
                                 "history · o sort, / search, y copy, F counts, R record",
                                 money=[c for c in MONEY_COLUMNS if c in members.columns])
        if self.focus_members and browser.table is not None:
            browser.table.focus()
        self.focus_members = False

    # -- showing --------------------------------------------------------------------

    def run_method(self) -> None:
        """Show the current method's segments, computing them first if needed."""
        self.query_one("#methods", Static).update(method_bar(self.method))
        if self.features is None or self.workspace is None:
            return
        if self.method in self.segmentations:
            self.call_later(self.show_method_result)
            return
        self.query_one(SegmentList).loading = True
        ticker = self.start_ticker(f"{METHODS[self.method]} as of {self.as_of}")
        self._segment(self.read_workspace, self.method, self.features, self.as_of, self.key(self.method), self.k,
                      ticker)

    async def show_method_result(self) -> None:
        segmentation = self.segmentation
        if segmentation is None:
            return
        self.stop_ticker()
        segment_list = self.query_one(SegmentList)
        segment_list.loading = False
        previous = segment_list.selected if segment_list.row_count else None
        segment_list.show_summary(segmentation.tables["segments"], select=previous)
        extra = splits_text(segmentation)
        skipped = self.checked.skipped if self.checked is not None else 0
        if skipped:
            # the full note (rule, rows) is in the segmentation's notes, and so in its exports
            extra = " · ".join(p for p in (extra, f"{skipped:,} invalid row{'' if skipped == 1 else 's'} left out") if p)
        self.set_status(f"{self.workspace.root} · as of {self.as_of} · {METHODS[self.method]}: "
                        f"{segmentation.tables['customers'].height:,} customers" + (f" · {extra}" if extra else ""),
                        "-ok")
        self.members = None
        self.show_profile()
        self.query_one("#segment-charts", ChartPanel).show_result(segmentation)
        if self.query_one(TabbedContent).active == "members":
            self.load_members()

    def show_profile(self) -> None:
        segmentation, segment = self.segmentation, self.selected
        if segmentation is None or segment is None:
            return
        self.query_one("#profile-head", Static).update(head_text(segmentation, segment))
        self.query_one("#profile-share", BarChart).show(share_bars(segmentation, segment), scale=1.0)
        profile = self.profile
        if profile is None:
            error = self.profile_errors.get(self.method)
            self.query_one("#profile-index", BarChart).clear(
                f"Could not profile the segments: {error}" if error else "Profiling…")
            self.query_one("#profile-channels", BarChart).clear("")
            return
        if not segment_row(segmentation.tables["segments"], segment).get("customers"):
            self.query_one("#profile-index", BarChart).clear("This segment has no customers.")
            self.query_one("#profile-channels", BarChart).clear("")
            return
        self.query_one("#profile-index", BarChart).show(profile_bars(profile, segment), reference=100.0,
                                                        limit=INDEX_LIMIT)
        self.query_one("#profile-terms", Static).update(Text(terms_text(profile)))
        self.query_one("#profile-channels", BarChart).show(
            channel_bars(profile, segment), scale=1.0,
            empty="No channel in the transactions.")

    def load_members(self) -> None:
        segment, segmentation = self.selected, self.segmentation
        if segment is None or segmentation is None:
            return
        key = self.key(self.method, "members", segment)
        if self.members is not None and self.members.params.get("segment") == segment \
                and self.members.params.get("segmentation") == segmentation.name:
            return
        browser = self.query_one("#members-browser", TableBrowser)
        browser.set_caption(f"{segment} · loading customers…")
        browser.loading = True
        self._members(self.read_workspace, segmentation, segment, self.as_of, key)

    def show_comparison(self) -> None:
        result = self.comparison
        a, b = result.params["a"], result.params["b"]
        head = Text(f"{a} vs {b}", style="bold")
        head.append(f"\nbar = standardised difference (d), right: {a} higher · figures: means, {a} vs {b}")
        self.query_one("#compare-head", Static).update(head)
        self.query_one("#compare-bars", BarChart).show(compare_bars(result), diverging=True, limit=D_LIMIT,
                                                       empty="No feature to compare.")
        self.query_one("#compare-notes", Static).update(Text("\n".join(result.notes[1:])))

    def show_migration(self) -> None:
        result = self.migration
        h = result.headline
        head = Text(f"{result.params['before']} → {result.params['after']} · {METHODS[self.method]}",
                    style="bold")
        moves = [f"{key} {h[key]:,}" for key in ("stayed", "moved", "new", "gone") if key in h]
        head.append("\n" + " · ".join([*moves, "cells: customers and share of the row"]))
        self.query_one("#migration-head", Static).update(head)
        matrix = self.query_one("#migration-matrix", MatrixTable)
        matrix.loading = False
        matrix.display = True
        matrix.show_matrix(result.tables["counts"], result.tables["shares"])
        self.query_one("#migration-notes", Static).update(Text("\n".join(result.notes[1:])))

    # -- events ---------------------------------------------------------------------

    @on(SegmentList.RowHighlighted, "#segment-list")
    def segment_highlighted(self) -> None:
        self.show_profile()
        if self.query_one(TabbedContent).active == "members":
            self.load_members()

    @on(SegmentList.RowSelected, "#segment-list")
    def segment_chosen(self) -> None:
        self.action_members()

    @on(TabbedContent.TabActivated, "#segment-detail")
    def tab_activated(self, event: TabbedContent.TabActivated) -> None:
        if event.pane.id == "members":
            self.load_members()
        # The matrix has its own row per segment: the list makes room for its last columns.
        matrix = event.pane.id == "migration"
        if matrix and self.query_one("#segment-list").has_focus:
            self.query_one("#segment-detail").focus()
        self.set_class(matrix, "-matrix")

    @on(FastDataTable.CellSelected, "#members-browser DataTable")
    def member_chosen(self, event: FastDataTable.CellSelected) -> None:
        self.open_member(event.coordinate.row)

    # -- actions --------------------------------------------------------------------

    def running(self, group: str) -> bool:
        return any(w.node is self and w.group == group and w.state in ACTIVE for w in self.workers)

    def action_show_method(self, method: str) -> None:
        if self.workspace is None:
            return
        if method == self.method and (method in self.segmentations or self.running("segments")):
            return
        if self.features is not None:  # a run for the old method is no longer wanted
            self.workers.cancel_group(self, "segments")
        self.method = method
        self.app.remember("segments", method=method)
        self.members = self.comparison = self.migration = None
        if self.query_one(TabbedContent).active in ("compare", "migration"):  # those were cleared
            self.action_show_tab("profile")
        self.call_later(self.clear_detail)
        self.query_one(SegmentList).clear(columns=True)
        if self.features is None and not self.running("segments"):
            self.compute_features()  # the features run was cancelled: start again
        else:
            self.run_method()  # or wait for the features, which then run this method

    def action_show_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab

    def action_members(self) -> None:
        if self.selected is None:
            self.notify("No segment selected yet.", severity="warning")
            return
        self.action_show_tab("members")
        self.focus_members = True
        self.load_members()
        table = self.query_one("#members-browser", TableBrowser).table
        if table is not None and not self.query_one("#members-browser", TableBrowser).loading:
            table.focus()
            self.focus_members = False

    def open_member(self, row: int) -> None:
        if self.members is None:
            return
        shown = self.query_one("#members-browser", SheetBrowser).sheet_frame  # in the order shown (sorted)
        members = shown if shown is not None else self.members.tables["customers"]
        if not 0 <= row < members.height:
            return
        scores = {k: v for k, v in members.row(row, named=True).items() if k != "__sheet_row"}
        customer_id = scores["customer_id"]
        if self.features is not None:
            found = self.features.filter(pl.col("customer_id") == customer_id)
            if found.height:
                scores = {"segment": self.members.params["segment"], **scores,
                          **{k: v for k, v in found.row(0, named=True).items() if k not in scores}}
        scores.pop("name", None)
        self.app.post_message(OpenCustomer(customer_id, scores=scores, segmentation=self.segmentation.name,
                                           as_of=self.as_of))

    def action_compare(self) -> None:
        segmentation, a = self.segmentation, self.selected
        if segmentation is None or a is None:
            self.notify("No segments yet.", severity="warning")
            return
        summary = segmentation.tables["segments"]
        others = [(r["segment"], f"{r['segment']} ({r['customers']:,})")
                  for r in summary.iter_rows(named=True) if r["segment"] != a and r["customers"] >= 2]
        if not others:
            self.notify("There is no other segment with at least 2 customers to compare with.",
                        severity="warning")
            return

        def chosen(b: str | None) -> None:
            if b is None:
                return
            self.action_show_tab("compare")
            self.query_one("#compare-head", Static).update(Text(f"Comparing {a} with {b}…"))
            self.query_one("#compare-bars", BarChart).clear("")
            self._compare(self.features, segmentation, a, b, self.as_of, self.key(self.method, "compare"))

        self.app.push_screen(ChooseDialog(f"Compare {a} with…", others), chosen)

    def action_migration(self) -> None:
        if self.as_of is None or self.workspace is None:
            self.notify("The customers are not segmented yet.", severity="warning")
            return
        method = self.method

        def chosen(dates: tuple[dt.date, ...] | None) -> None:
            if dates is None:
                return
            before, after = dates
            self.action_show_tab("migration")
            self.query_one("#migration-head", Static).update(
                Text(f"Segmenting by {METHODS[method]} as of {before} and {after}… (Esc cancels)"))
            matrix = self.query_one("#migration-matrix")
            matrix.display = True
            matrix.loading = True
            self._migrate(self.read_workspace, method, before, after, self.key(method, "migration", before, after),
                          self.k if method == "kmeans" else None)

        earlier = self.as_of - dt.timedelta(days=MIGRATION_DAYS)
        self.app.push_screen(DatesDialog(f"Migration · {METHODS[method]}", [("From", earlier), ("To", self.as_of)],
                                         prompt="Segment the customers at two dates and count the moves.",
                                         increasing=True), chosen)

    def action_as_of(self) -> None:
        if self.workspace is None:
            return

        def chosen(dates: tuple[dt.date, ...] | None) -> None:
            if dates is None or dates[0] == self.as_of:
                return
            self.workers.cancel_node(self)
            self.reset()
            self.as_of = dates[0]  # the features worker keys on it: set before starting
            self.app.remember("segments", as_of=self.as_of.isoformat())
            self.query_one(SegmentList).clear(columns=True)
            self.call_later(self.clear_detail)
            self.compute_features()

        self.app.push_screen(DatesDialog("As of", [("As of", self.as_of)],
                                         prompt="Segment on what was known on this date (inclusive)."), chosen)

    def action_choose_k(self) -> None:
        """The number of clusters: automatic or a k of the range, each with its silhouette (bars)."""
        if self.method != "kmeans":
            self.action_show_method("kmeans")
            self.notify("Clusters first: press K again once they are shown.", timeout=4)
            return
        segmentation = self.segmentation
        if segmentation is None:
            self.notify("The clusters are still being computed.", severity="warning")
            return
        scores = segmentation.tables["k_scores"]
        best = scores.sort(["silhouette", "k"], descending=[True, False]).row(0, named=True) \
            if scores.height else None
        auto = "Automatic: the best silhouette" + (f" (k = {best['k']})" if best else "")
        options = [("auto", auto)] + [(str(r["k"]), f"k = {r['k']} · silhouette {r['silhouette']:.3f}")
                                      for r in scores.iter_rows(named=True)]
        bars = [Bar(f"k = {r['k']}", r["silhouette"], f"{r['silhouette']:.3f}" + ("  ◀ shown" if r["chosen"] else ""))
                for r in scores.iter_rows(named=True)]

        def chosen(answer: str | None) -> None:
            if answer is None:
                return
            k = None if answer == "auto" else int(answer)
            if k == self.k:
                return
            self.k = k
            self.app.remember("segments", k=k)
            self.workers.cancel_group(self, "segments")
            self.segmentations.pop("kmeans", None)
            self.profiles.pop("kmeans", None)
            self.profile_errors.pop("kmeans", None)
            self.members = self.comparison = self.migration = None
            self.call_later(self.clear_detail)
            self.query_one(SegmentList).clear(columns=True)
            self.run_method()

        self.app.push_screen(ChooseDialog(
            "Number of clusters", options, bars=bars, current="auto" if self.k is None else str(self.k),
            prompt="Silhouette by k (higher: customers sit closer to their own cluster than to the next)."),
            chosen)

    def action_stop_run(self) -> None:
        """ctrl+c stops what is running; with nothing running the key keeps its app-wide meaning."""
        if not any(w.node is self and w.state in ACTIVE for w in self.workers):
            raise SkipAction()
        self.action_cancel()

    def action_cancel(self) -> None:
        running = [w for w in self.workers if w.node is self and w.state in ACTIVE]
        if not running:
            if not self.query_one(SegmentList).has_focus:
                self.query_one(SegmentList).focus()
            return
        groups = {w.group for w in running}
        self.workers.cancel_node(self)
        self.stop_ticker()
        self.query_one(SegmentList).loading = False
        self.query_one("#members-browser", TableBrowser).loading = False
        if "migration" in groups:
            self.query_one("#migration-matrix").loading = False
            self.query_one("#migration-head", Static).update("Cancelled. Press m to start again.")
        if "compare" in groups:
            self.query_one("#compare-head", Static).update("Cancelled. Press c to start again.")
        if "segments" in groups:
            self.set_status(f"Cancelled. Press {METHOD_KEYS[self.method]} to run {METHODS[self.method]} "
                            "again, or another method's key.", "-warning")
        self.notify("Cancelled.", timeout=3)

    # -- export ---------------------------------------------------------------------

    def exportable(self) -> Exportable | None:
        tab = self.query_one(TabbedContent).active
        method = METHODS[self.method].lower()
        if tab == "members" and self.members is not None:
            return Exportable(self.members, file_stem(method, self.members.params["segment"]), fmt="csv")
        if tab == "compare" and self.comparison is not None:
            p = self.comparison.params
            return Exportable(self.comparison, file_stem(method, p["a"], "vs", p["b"]))
        if tab == "migration" and self.migration is not None:
            p = self.migration.params
            return Exportable(self.migration, file_stem(method, "migration", str(p["before"]), str(p["after"])),
                              table="counts", fmt="xlsx")
        if self.segmentation is None:
            return None
        return Exportable(merged_result(self.segmentation, self.profile), file_stem(method, "segments"),
                          table="segments", fmt="xlsx")
