"""The Scale builder: choose a loyalty scale's items, their direction, transform,
normalisation and weights, and watch reliability, the score histogram and the tiers follow.

The spec being edited is a frozen core.scale.spec.ScaleSpec; every edit makes a new one
(core.scale.edit) and, after a short pause (so a run of key presses costs one
computation), a thread worker runs core.scale on it: weights, the reliability check and
the scores, on the workspace's per-customer table (read once per as-of date). The spec is
loaded from and saved to a TOML file; an existing file is never replaced without asking.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Callable
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Header, Static
from textual.worker import get_current_worker

from core.errors import LoyalistError
from core.export.safe import safe_write
from core.registry import checked_for
from core.result import Result
from core.scale import build
from core.scale.data import ScaleData, scale_data
from core.scale.run import init_text, spec_weights
from core.scale.score import score
from core.scale.spec import LOWER_IS_LOYAL, SKEWED, MISSING, TIER_METHOD, ScaleSpec, load_spec, parse_spec
from core.workspace import Workspace
from tui.widgets.footer import KeysFooter
from tui.actions import Action, bindings
from tui.export import Exportable, file_stem
from tui.history import History
from tui.messages import ResultPrepared, WorkFailed
from core.scale import edit
from tui.skip import skippable
from tui.state import WorkspaceState, describe_error
from tui.widgets.charts import Plot, safe_plot
from tui.widgets.plots import PlotView
from tui.widgets.dialogs import ChoiceDialog, ConfirmDialog, FormDialog, ResultDialog, TextDialog
from tui.widgets.options_form import CHOICE, DATE, INT, LIST, TEXT, Field
from tui.widgets.result_view import Prepared, ResultTable, ShownTable, prepare, shown_table
from tui.widgets.scale_items import ItemRow, ScaleItemsTable, item_rows

DEBOUNCE = 0.3  # seconds of quiet after an edit before the scale is computed again
SPEC_FILE = "scale.toml"
TIER_COLUMNS = ("tier", "low", "high", "customers", "share", "mean_score")

WEIGHT_METHODS = (
    ("manual", "Manual", "The weight typed for each item (w)"),
    ("equal", "Equal", "Every item counts the same"),
    ("delphi", "Delphi", "Expert panel ratings: a file with expert, round, item, rating"),
    ("pca", "Data-driven: PCA", "Loadings on the first principal component of the items"),
    ("factor", "Data-driven: factor", "Loadings of a one-factor model of the items"),
    ("regression", "Data-driven: regression", "Standardised coefficients predicting a purchase "
     "within the outcome window"),
)


@dataclass(frozen=True)
class ScaleOutcome:
    """Everything one computation produced, made in the worker."""

    spec: ScaleSpec
    data: ScaleData
    check: Result
    scores: Result
    prepared: Prepared  # check and scores together, for the details view and export
    rows: list[ItemRow]
    histogram: tuple[Plot | None, str]
    tiers: ShownTable

    @property
    def result(self) -> Result:
        return self.prepared.result


@dataclass(eq=False)
class ScaleStarted(Message):
    """The workspace's per-customer table and a starting spec are ready (screen-private)."""

    workspace: Workspace
    data: ScaleData
    spec: ScaleSpec
    path: Path | None
    note: str
    dirty: bool = False  # the spec carries unsaved edits from before a reload


class ComputeKey:
    def __init__(self, spec: ScaleSpec) -> None:
        self.spec = spec


def read_text(path: Path | None) -> str | None:
    try:
        return path.read_text(encoding="utf-8") if path is not None else None
    except (OSError, UnicodeDecodeError):
        return None


def suggested(column: str) -> dict[str, str]:
    """Direction and transform `scale init` would give a column (recency: lower; money: log)."""
    low = column.lower()
    return {"direction": "lower" if any(w in low for w in LOWER_IS_LOYAL) else "higher",
            "transform": "log" if any(w in low for w in SKEWED) else "none"}


def compute(ws: Workspace, spec: ScaleSpec, data: ScaleData) -> ScaleOutcome:
    """Weights, reliability and scores of `spec` (pure core calls; run in a worker)."""
    weights = spec_weights(ws, spec, data)
    check = build.check(data.table, spec, weights_result=weights, params={"as_of": data.as_of})
    scores = score(data.table, spec, build.weight_map(weights))
    scores = dataclasses.replace(scores, headline={**scores.headline, "as_of": data.as_of},
                                 notes=(*scores.notes, *weights.notes))
    merged = build.merge("scale.build", f"{spec.name}: scores, reliability and weights", scores, check,
                         params={"as_of": data.as_of, "weight_method": spec.weights})
    chart = next(c for c in scores.charts_to_draw if c.table == "distribution")
    tiers = scores.tables["tiers"]
    return ScaleOutcome(
        spec=spec, data=data, check=check, scores=scores, prepared=prepare(merged),
        rows=item_rows(spec, check), histogram=safe_plot(chart, scores.tables[chart.table]),
        tiers=shown_table("tiers", tiers.select([c for c in TIER_COLUMNS if c in tiers.columns])),
    )


def summary_text(outcome: ScaleOutcome) -> Text:
    h, s = outcome.check.headline, outcome.scores.headline
    low, high = h["alpha_ci"]
    text = Text()
    text.append("α ", "bold")
    text.append(f"{h['alpha']:.3f}", "bold")
    text.append(f" ({h.get('level', 0.95):.0%} CI {low:.3f}–{high:.3f})")
    if h.get("omega_total") is not None:
        text.append(f" · ω {h['omega_total']:.3f}")
    text.append(f" · {h['k']} items · {h['n']:,} customers ({h['n_complete']:,} answered all)")
    text.append(f" · weights {outcome.spec.weights} · mean score {s['mean_score']:.1f}")
    notes = [n for n in outcome.check.notes if not n.startswith("Pairwise deletion")]
    for note in notes[:2]:
        text.append("\n• " + note, "italic")
    if len(notes) > 2:
        text.append(f"\n• {len(notes) - 2} more notes: press v for every table and note", "dim")
    return text


def same_spec(a: ScaleSpec, b: ScaleSpec) -> bool:
    """The same scale, wherever it was read from (saving sets `source`)."""
    return dataclasses.replace(a, source=None) == dataclasses.replace(b, source=None)


def changed_column(before: ScaleSpec, after: ScaleSpec) -> str | None:
    """The item an undo or redo touched (added, removed or changed), to highlight it."""
    old = {i.column: i for i in before.items}
    new = {i.column: i for i in after.items}
    touched = [c for c in after.columns if old.get(c) != new[c]]
    return touched[0] if touched else None


class ScaleScreen(Screen):
    HELP = """\
## Scale builder

The items of a loyalty scale, with what the reliability check says of each.
Edits recompute alpha, the score histogram and the tiers after a short pause.

- **a** adds a survey answer or customer feature; **delete** removes the highlighted item.
- **i** reverses an item (a lower value is more loyal, e.g. recency); **t** cycles its
  transform (none, log, winsorise); **n** its normalisation.
- **w** types a weight (manual weighting); **m** chooses equal, Delphi or data-driven weights.
- **c** sets the name, missing-data policy, tiers and outcome window.
- **v** shows every table and note (item statistics, weights, sensitivity, tiers).
- **ctrl+z** undoes the last edit (add, remove, reverse, transform, weight, tiers...),
  **ctrl+y** redoes it.
- **ctrl+o** opens a spec file, **ctrl+s** saves one (it asks before replacing a file; the
  first time it suggests a name that replaces nothing).

A bold *α if deleted* means alpha would rise without that item; a negative item-rest r
usually means the item needs reversing.
"""

    ACTIONS: ClassVar[tuple[Action, ...]] = (
        Action("a", "add_item", "Add", "Add a survey answer or customer feature to the scale"),
        Action("delete,backspace", "remove_item", "Remove", "Remove the highlighted item from the scale "
               "(ctrl+z puts it back)", key_display="del"),
        Action("i", "flip_direction", "Reverse", "Reverse the highlighted item: a lower value is more loyal"),
        Action("t", "next_transform", "Transform", "Cycle the highlighted item's transform: none, log, "
               "winsorise"),
        Action("n", "next_normalise", "Normalise", "Cycle the item's normalisation: minmax, percentile, zscore",
               show=False),
        Action("w", "set_weight", "Weight", "Type the highlighted item's weight (manual weighting)"),
        Action("m", "weight_method", "Weighting", "Choose manual, equal, Delphi or data-driven weights"),
        Action("c", "settings", "Settings", "Scale name, missing-data policy, tiers and outcome window",
               show=False),
        Action("v", "details", "Details", "Every reliability, weight, sensitivity and tier table", show=False),
        # the status line says "ctrl+s saves" when there is something to save
        Action("ctrl+o", "open_spec", "Open", "Load a scale spec (TOML file)", show=False),
        Action("ctrl+s", "save_spec", "Save", "Save the scale spec as a TOML file", show=False),
        Action("ctrl+z", "undo", "Undo", "Undo the last edit of the scale", show=False),
        Action("ctrl+y", "redo", "Redo", "Redo the edit last undone", show=False),
        Action("escape", "cancel", "Stop", "Stop the computation that is running", show=False),
    )
    BINDINGS = bindings(ACTIONS)

    def __init__(self) -> None:
        super().__init__()
        self.workspace: Workspace | None = None
        self.spec: ScaleSpec | None = None
        self.spec_path: Path | None = None  # the file the spec came from or was saved to
        self.disk_text: str | None = None  # spec_path's text when read or written, to see later edits
        self.dirty = False
        self.clean: ScaleSpec | None = None  # the spec as last read or saved (None: unknown)
        self.history: History[ScaleSpec] = History()  # undo and redo of edits
        self.data: dict[dt.date | None, ScaleData] = {}  # per-customer tables by the spec's as_of
        self.outcome: ScaleOutcome | None = None
        self.pending: ComputeKey | None = None
        self.kept: tuple[ScaleSpec, Path | None, bool] | None = None  # the scale across a reload

    # -- layout ---------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="status")
        with Vertical(id="scale-body"):
            yield Static("", id="scale-summary")
            yield ScaleItemsTable(id="scale-items")
            with Horizontal(id="scale-bottom"):
                yield PlotView(None, "Score distribution", id="scale-histogram", fit_height=True)
                with Vertical(id="scale-tiers-box"):
                    yield ResultTable(ShownTable("tiers", []), id="scale-tiers")
        yield KeysFooter()

    def on_mount(self) -> None:
        self.title = "Loyalist · Scale builder"
        self.query_one("#scale-items").border_title = "Items"
        self.query_one("#scale-tiers-box").border_title = "Tiers"
        self.query_one("#scale-items").focus()
        self.watch(self.app, "workspace_state", self.workspace_changed, init=True)

    def on_resize(self) -> None:
        self.set_class(self.size.height < 32, "-short")

    @property
    def items_table(self) -> ScaleItemsTable:
        return self.query_one("#scale-items", ScaleItemsTable)

    def set_status(self, text: str, kind: str = "") -> None:
        status = self.query_one("#status", Static)
        status.update(Text(text))
        status.set_classes(kind)

    def show_status(self) -> None:
        if self.spec is None:
            return
        where = str(self.spec_path) if self.spec_path else "not saved yet"
        changed = " · unsaved changes (ctrl+s saves, ctrl+z undoes)" if self.dirty else ""
        self.set_status(f"{self.spec.name} · {len(self.spec.items)} items · {where}{changed}",
                        "-warning" if self.dirty else "")

    def set_summary(self, text: Text | str, kind: str = "") -> None:
        summary = self.query_one("#scale-summary", Static)
        summary.update(text if isinstance(text, Text) else Text(text))
        summary.set_classes(kind)

    # -- the workspace ----------------------------------------------------------------------------

    async def workspace_changed(self, state: WorkspaceState | None) -> None:
        for group in ("scale", "scale-debounce", "scale-start"):
            self.workers.cancel_group(self, group)
        # Reloading the same workspace keeps the scale being edited (saved or not).
        if state is not None and state.opening and self.spec is not None and self.workspace is not None \
                and (state.path is None or Path(state.path).resolve() == Path(self.workspace.root).resolve()):
            self.kept = (self.spec, self.spec_path, self.dirty)
        elif state is not None and state.opening:
            self.kept = None
            self.history.clear()  # another workspace: its edits are not this one's
        self.workspace, self.spec, self.spec_path, self.outcome, self.pending = None, None, None, None, None
        self.skippable: str | None = None  # the table whose invalid rows stopped the start (S: tui.skip)
        self.data.clear()
        self.dirty = False
        self.items_table.show_rows([])
        if state is None or state.opening:
            self.set_status(f"Opening {state.label if state else 'the workspace'}…", "-busy")
            return
        if state.error:
            self.set_status(f"Could not open {state.label}: {state.error} (press r to reload)", "-error")
            self.set_summary("No workspace is open.")
            return
        self.workspace = state.workspace
        self.set_status(f"{self.workspace.root} · reading survey answers and customer features…", "-busy")
        self.items_table.loading = True
        last = self.app.recall("scale").get("spec")
        self.start(self.workspace, self.kept, Path(last) if isinstance(last, str) and last else None)
        self.kept = None

    @work(thread=True, exclusive=True, group="scale-start", exit_on_error=False)
    def start(self, ws: Workspace, kept: tuple[ScaleSpec, Path | None, bool] | None = None,
              last: Path | None = None) -> None:
        """The per-customer table, and the scale being edited before a reload, the spec
        open when the app last ran on this workspace, its scale.toml or a starting spec."""
        try:
            path, note, spec = ws.root / SPEC_FILE, "", None
            if kept is not None:
                spec, path = kept[0], kept[1]
            elif last is not None and last != path:
                try:
                    spec, path = load_spec(last), last
                    note = f"Reopened {last}, the spec open last time."
                except (LoyalistError, OSError) as exc:
                    note = f"The spec open last time could not be read: {exc}. "
            if spec is not None:
                pass
            elif path.is_file():
                try:
                    spec = load_spec(path)
                except LoyalistError as exc:
                    spec, note = parse_spec(init_text(ws)), f"{note}{path} could not be read, so this is a " \
                                                            f"starting spec: {exc}"
                    path = None
            else:
                spec, path = parse_spec(init_text(ws)), None
                note += "A starting spec: every survey answer and five customer features."
            # the survey and features as `loyalist scale score` reads them (core.invalid)
            checked = checked_for("scale.score", ws)
            data = scale_data(checked.ws, spec.as_of)
            if checked.notes:
                note = " ".join(p for p in (note, *checked.notes) if p)
        except Exception as exc:
            if not get_current_worker().is_cancelled:
                self.post_message(WorkFailed(ws, "scale-start", describe_error(exc), skippable(exc)))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(ScaleStarted(ws, data, spec, path, note, kept is not None and kept[2]))

    @on(ScaleStarted)
    def started(self, message: ScaleStarted) -> None:
        if message.workspace is not self.workspace:
            return
        self.items_table.loading = False
        self.data[message.spec.as_of] = message.data
        self.spec, self.spec_path, self.dirty = message.spec, message.path, message.dirty
        self.clean = None if message.dirty else message.spec
        self.disk_text = read_text(message.path)
        self.show_status()
        if message.note:
            self.notify(message.note, title="Scale builder", timeout=6, markup=False)
        self.items_table.show_rows(item_rows(self.spec, None), stale=True)
        self.start_compute()

    # -- computing ----------------------------------------------------------------------------------

    def edited(self, spec: ScaleSpec, select: str | None = None, what: str = "the edit") -> None:
        """Take an edit (undoable): show it at once (statistics dimmed) and recompute after a pause."""
        if self.spec is not None and spec != self.spec:
            self.history.record(self.spec, what)
        self.show_spec(spec, select)

    def show_spec(self, spec: ScaleSpec, select: str | None = None) -> None:
        self.spec = spec
        self.dirty = self.clean is None or not same_spec(spec, self.clean)
        stats = {r.column: r for r in self.items_table.rows_shown}
        rows = [dataclasses.replace(r, **{f: getattr(stats[r.column], f) for f in
                                          ("weight", "alpha_if_deleted", "r_drop", "flag")})
                if r.column in stats else r for r in item_rows(spec, None)]
        self.items_table.show_rows(rows, stale=True, select=select)
        self.show_status()
        self.set_summary("Recomputing…", "-busy")
        self.debounce()

    def action_undo(self) -> None:
        self.step_history(self.history.undo, "Undid", "Nothing to undo.")

    def action_redo(self) -> None:
        self.step_history(self.history.redo, "Redid", "Nothing to redo.")

    def step_history(self, step: Callable[[ScaleSpec], tuple[ScaleSpec, str] | None], verb: str,
                     nothing: str) -> None:
        if self.spec is None:
            return
        stepped = step(self.spec)
        if stepped is None:
            self.notify(nothing, timeout=3)
            return
        spec, what = stepped
        self.show_spec(spec, select=changed_column(self.spec, spec) or self.items_table.highlighted_item)
        self.notify(f"{verb} {what}.", timeout=3, markup=False)

    @work(exclusive=True, group="scale-debounce")
    async def debounce(self) -> None:
        await asyncio.sleep(DEBOUNCE)  # a newer edit cancels this wait: one computation per burst
        self.start_compute()

    def start_compute(self) -> None:
        if self.workspace is None or self.spec is None:
            return
        self.pending = ComputeKey(self.spec)
        self.set_summary("Computing reliability, weights and scores…", "-busy")
        self.run_compute(self.pending, self.workspace, self.data.get(self.spec.as_of))

    @work(thread=True, exclusive=True, group="scale", exit_on_error=False)
    def run_compute(self, key: ComputeKey, ws: Workspace, data: ScaleData | None) -> None:
        try:
            if data is None:  # another as-of date: read as at the start (core.invalid)
                data = scale_data(checked_for("scale.score", ws).ws, key.spec.as_of)
            outcome = compute(ws, key.spec, data)
        except Exception as exc:  # a scale that cannot be computed is a message, never a dead app
            if not get_current_worker().is_cancelled:
                self.post_message(WorkFailed(key, "scale", describe_error(exc)))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(ResultPrepared(key, "scale", outcome))

    @on(ResultPrepared)
    def computed(self, message: ResultPrepared) -> None:
        if message.key is not self.pending:
            return
        message.stop()
        self.pending = None
        outcome: ScaleOutcome = message.prepared
        self.outcome = outcome
        self.app.loyalty_scores = outcome.scores.tables["scores"].select("customer_id", "score", "tier")
        self.data[outcome.spec.as_of] = outcome.data
        self.items_table.show_rows(outcome.rows)
        self.set_summary(summary_text(outcome))
        self.query_one("#scale-histogram", PlotView).show(*outcome.histogram)
        self.query_one("#scale-tiers", ResultTable).show(outcome.tiers)

    @on(WorkFailed)
    def failed(self, message: WorkFailed) -> None:
        if message.task == "scale-start" and message.key is self.workspace:
            self.skippable = message.skippable
            self.app.refresh_bindings()
            self.items_table.loading = False
            self.set_status(f"{self.workspace.root}: {message.error}", "-error")
            self.set_summary("The scale cannot be built on this workspace.", "-error")
            self.notify(message.error, title="Scale builder", severity="error", timeout=10, markup=False)
        elif message.key is self.pending:
            self.pending = None
            self.outcome = None
            self.items_table.show_rows(item_rows(self.spec, None), stale=True)
            self.set_summary(f"Cannot compute this scale: {message.error}", "-error")
            self.notify(message.error, title="Cannot compute this scale", severity="error", timeout=8,
                        markup=False)
        else:
            return
        message.stop()

    def action_cancel(self) -> None:
        if self.pending is None and not any(w.group == "scale-debounce" and w.is_running for w in self.workers):
            return
        self.workers.cancel_group(self, "scale")
        self.workers.cancel_group(self, "scale-debounce")
        self.pending = None
        self.set_summary("Stopped: the figures below are for an earlier version of the scale.", "-warning")

    # -- editing items ------------------------------------------------------------------------------

    def highlighted(self) -> str | None:
        if self.spec is None:
            self.notify("The scale is still loading.", severity="warning")
            return None
        column = self.items_table.highlighted_item
        if column is None:
            self.notify("The scale has no items: press a to add one.", severity="warning")
        return column

    def action_add_item(self) -> None:
        if self.spec is None or self.spec.as_of not in self.data:
            self.notify("The scale is still loading.", severity="warning")
            return
        data = self.data[self.spec.as_of]
        chosen = set(self.spec.columns)
        choices = [(c, c, "survey answer") for c in data.survey_columns if c not in chosen]
        choices += [(c, c, "customer feature") for c in data.feature_columns if c not in chosen]
        if not choices:
            self.notify("Every survey answer and customer feature is already an item.")
            return

        def add(column: str | None) -> None:
            if column and self.spec is not None:
                self.edited(edit.add_item(self.spec, column, **suggested(column)), select=column,
                            what=f"adding {column}")

        self.app.push_screen(ChoiceDialog("Add an item", choices), add)

    def action_remove_item(self) -> None:
        column = self.highlighted()
        if column:
            self.edited(edit.remove_item(self.spec, column), what=f"removing {column}")
            self.notify(f"Removed {column}. ctrl+z puts it back.", timeout=4, markup=False)

    def action_flip_direction(self) -> None:
        column = self.highlighted()
        if column:
            self.edited(edit.flip_direction(self.spec, column), select=column, what=f"reversing {column}")

    def action_next_transform(self) -> None:
        column = self.highlighted()
        if column:
            self.edited(edit.next_transform(self.spec, column), select=column,
                        what=f"the transform of {column}")

    def action_next_normalise(self) -> None:
        column = self.highlighted()
        if column:
            self.edited(edit.next_normalise(self.spec, column), select=column,
                        what=f"the normalisation of {column}")

    def action_set_weight(self) -> None:
        column = self.highlighted()
        if not column:
            return
        current = edit.item(self.spec, column).weight

        def check(text: str) -> str:
            try:
                value = float(text)
            except ValueError:
                return f"{text!r} is not a number"
            return "" if value >= 0 and value == value and value != float("inf") else "a weight is 0 or more"

        def chosen(text: str | None) -> None:
            if text is not None and self.spec is not None:
                if self.spec.weights != "manual":
                    self.notify(f"Typed weights apply to manual weighting, so the scale now uses it "
                                f"instead of {self.spec.weights}.", markup=False)
                self.edited(edit.set_weight(self.spec, column, float(text)), select=column,
                            what=f"the weight of {column}")

        message = (f"Weight of {column}. Weights are relative: they are scaled to sum to 1."
                   + ("" if self.spec.weights == "manual" else f" This switches the scale from "
                      f"{self.spec.weights} to manual weights."))
        self.app.push_screen(TextDialog("Item weight", message, value=f"{current if current is not None else 1:g}",
                                        check=check), chosen)

    def action_weight_method(self) -> None:
        if self.spec is None:
            return

        def chosen(method: str | None) -> None:
            if method is None or self.spec is None:
                return
            if method == "delphi":
                self.choose_delphi()
            else:
                self.edited(edit.set_method(self.spec, method), what="the weighting")

        self.app.push_screen(ChoiceDialog("Weighting", WEIGHT_METHODS, current=self.spec.weights), chosen)

    def choose_delphi(self) -> None:
        """Delphi weights need the panel's ratings: the spec's file, the workspace's
        delphi.csv, or one the analyst names."""
        known = self.spec.delphi if self.spec.delphi and self.spec.delphi.is_file() else None
        beside = self.workspace.root / "delphi.csv" if self.workspace else None
        if known is None and beside is not None and beside.is_file():
            known = beside
        if known is not None:
            self.notify(f"Delphi ratings from {known}", markup=False)
            self.edited(edit.set_method(self.spec, "delphi", known), what="the weighting")
            return

        def check(text: str) -> str:
            return "" if self.resolve(text).is_file() else f"no such file: {self.resolve(text)}"

        def chosen(text: str | None) -> None:
            if text is not None and self.spec is not None:
                self.edited(edit.set_method(self.spec, "delphi", self.resolve(text)), what="the weighting")

        self.app.push_screen(TextDialog("Delphi ratings", "The expert panel's ratings: a CSV/Parquet/XLSX "
                                        "file with columns expert, round, item, rating.",
                                        placeholder="delphi.csv", check=check), chosen)

    def action_settings(self) -> None:
        if self.spec is None:
            return
        spec = self.spec
        fields = (
            Field("name", TEXT, spec.name, title="Scale name"),
            Field("missing", CHOICE, spec.missing, choices=MISSING, title="Missing answers",
                  help="pairwise: use what each customer answered; listwise: score only complete "
                       "answers; impute_median: fill gaps with the median"),
            Field("tier_method", CHOICE, spec.tiers.method, choices=TIER_METHOD, title="Tier cuts",
                  help="fixed: cut points are scores 0-100; quantile: cut points are shares 0-1"),
            Field("cuts", LIST, tuple(f"{c:g}" for c in spec.tiers.cuts), title="Cut points",
                  help="Comma-separated, increasing, e.g. 40, 70"),
            Field("names", LIST, spec.tiers.names, title="Tier names",
                  help="One more name than cut points, lowest tier first"),
            Field("outcome_days", INT, spec.outcome_days, low=1, title="Outcome days",
                  help="Regression weights and validity: bought again within this many days"),
            Field("as_of", DATE, spec.as_of, optional=True, title="As of",
                  help="Score as of this date; empty: the last transaction"),
        )

        def apply(values: dict[str, Any]) -> ScaleSpec:
            try:
                cuts = [float(c) for c in values["cuts"] or ()]
            except ValueError:
                raise ValueError("cut points are numbers, e.g. 40, 70") from None
            return edit.set_settings(spec, name=values["name"] or spec.name, missing=values["missing"],
                                     tier_method=values["tier_method"], cuts=cuts, names=values["names"] or (),
                                     outcome_days=values["outcome_days"], as_of=values["as_of"])

        def check(values: dict[str, Any]) -> str:
            try:
                apply(values)
            except ValueError as exc:
                return str(exc)
            return ""

        def chosen(values: dict[str, Any] | None) -> None:
            if values is not None:
                self.edited(apply(values), what="the settings (name, missing answers, tiers...)")

        self.app.push_screen(FormDialog("Scale settings", fields, check=check), chosen)

    def action_details(self) -> None:
        if self.outcome is None:
            self.notify("Nothing computed yet.", severity="warning")
            return
        self.app.push_screen(ResultDialog(self.outcome.prepared, self.outcome.result.title))

    # -- the spec file --------------------------------------------------------------------------------

    def resolve(self, text: str) -> Path:
        """A typed path: relative ones are relative to the workspace folder."""
        path = Path(text.strip()).expanduser()
        if not path.is_absolute() and self.workspace is not None:
            path = Path(self.workspace.root) / path
        return path

    def default_path(self) -> str:
        """The spec's own file; the first time, scale.toml or a name from the scale's name
        that replaces no file."""
        if self.spec_path is not None:
            return str(self.spec_path)
        if self.workspace is None:
            return SPEC_FILE
        root = Path(self.workspace.root)
        stem = file_stem(self.spec.name) if self.spec is not None else "scale"
        names = [SPEC_FILE, f"{stem}.toml", *(f"{stem}-{n}.toml" for n in range(2, 100))]
        return str(next((root / n for n in names if not (root / n).exists()), root / SPEC_FILE))

    def action_open_spec(self) -> None:
        if self.workspace is None:
            self.notify("No workspace is open yet.", severity="warning")
            return
        if self.dirty:
            def answered(discard: bool | None) -> None:
                if discard:
                    self.ask_open()

            self.app.push_screen(ConfirmDialog("Unsaved changes", "The scale has changes that are not "
                                               "saved. Open another spec and lose them?",
                                               yes="Discard", no="Keep"), answered)
        else:
            self.ask_open()

    def ask_open(self) -> None:
        loaded: dict[str, ScaleSpec] = {}

        def check(text: str) -> str:
            try:
                loaded["spec"] = load_spec(self.resolve(text))
            except LoyalistError as exc:
                return str(exc)
            return ""

        def chosen(text: str | None) -> None:
            if text is None or "spec" not in loaded:
                return
            self.spec, self.spec_path, self.dirty = loaded["spec"], self.resolve(text), False
            self.clean = self.spec
            self.history.clear()  # undo does not reach back into another file            self.disk_text = read_text(self.spec_path)
            self.app.remember("scale", spec=str(self.spec_path))
            self.outcome = None
            self.items_table.show_rows(item_rows(self.spec, None), stale=True)
            self.show_status()
            self.notify(f"Opened {self.spec_path}", markup=False)
            self.start_compute()

        self.app.push_screen(TextDialog("Open a scale spec", "A TOML spec (loyalist scale init writes one).",
                                        value=self.default_path(), check=check), chosen)

    def action_save_spec(self) -> None:
        self.save()

    def save(self, done: Callable[[bool], None] = lambda saved: None) -> None:
        """Ask where to save the spec (and before replacing a file); `done(saved)` follows."""
        if self.spec is None or self.workspace is None:
            self.notify("The scale is still loading.", severity="warning")
            done(False)
            return

        def check(text: str) -> str:
            path = self.resolve(text)
            if not text.strip():
                return "give a file name, e.g. scale.toml"
            if path.suffix.lower() != ".toml":
                return "a scale spec is a .toml file"
            if path.is_dir():
                return f"{path} is a folder"
            return ""

        def chosen(text: str | None) -> None:
            if text is None:
                done(False)
                return
            path = self.resolve(text)
            if path.exists():
                self.app.push_screen(
                    ConfirmDialog("Replace the file?", f"{path} already exists. Replace it with this "
                                  "scale? Comments in it are not kept.", yes="Replace", no="Cancel"),
                    lambda yes: done(bool(yes) and self.write_spec(path, force=True)))
            else:
                done(self.write_spec(path, force=False))

        self.app.push_screen(TextDialog("Save the scale spec", "Where to write it (TOML).",
                                        value=self.default_path(), check=check), chosen)

    def write_spec(self, path: Path, *, force: bool) -> bool:
        spec = dataclasses.replace(self.spec, source=str(path))
        text = edit.spec_text(spec, path)
        try:
            safe_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"), force=force)
        except LoyalistError as exc:
            self.notify(str(exc), title="Could not save the spec", severity="error", timeout=10, markup=False)
            return False
        self.spec, self.spec_path, self.dirty, self.disk_text = spec, path, False, text
        self.clean = spec
        self.app.remember("scale", spec=str(path))
        self.show_status()
        self.notify(f"Saved the scale spec to {path}", title="Saved", markup=False)
        return True

    # -- unsaved work, asked about when the app quits ------------------------------------------------

    def unsaved_work(self) -> str | None:
        if not self.dirty or self.spec is None:
            return None
        return f"The scale {self.spec.name!r} has changes that are not saved."

    def kept_copy(self, folder: Path) -> tuple[str, str, Callable[[Path], object]]:
        """(file stem, suffix, writer) of the unsaved spec for a file in `folder`: the app keeps it
        there when its terminal goes away (LoyalistApp.lose_terminal)."""
        text = edit.spec_text(self.spec, folder / "kept.toml")
        return file_stem(self.spec.name), ".toml", lambda path: path.write_text(text, encoding="utf-8")

    def save_work(self, done: Callable[[bool], None]) -> None:
        """Save to the spec's own file when it is as it was read or written; otherwise (a new
        scale, or a file changed since) ask where, and before replacing anything."""
        if self.spec_path is not None and self.disk_text is not None and read_text(self.spec_path) == self.disk_text:
            done(self.write_spec(self.spec_path, force=True))
        else:
            self.save(done)

    def exportable(self) -> Exportable | None:
        """For the app's Export action: per-customer scores (one-table formats), with the
        tiers, reliability, weights and sensitivity tables in workbook and report formats."""
        if self.outcome is None:
            return None
        return Exportable(self.outcome.result, file_stem(self.outcome.spec.name, "scores"), table="scores")
