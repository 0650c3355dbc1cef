"""The Reports screen: pick an evaluation report or a predict analysis, set its options,
run it, read its figures, charts and tables; rerun with other options; add it to the
report being collected (+) and write them all at once (E).

The list holds tui.screens.report_entries.ENTRIES: the registry's report and predict
analyses (core.registry), their forms made from the same declarations as the CLI's flags.
A run happens in a thread worker that calls core.registry.run_analysis and formats the
Result for display (tui.widgets.result_view.prepare); the handler only mounts it. A
failed run, a missing table included, becomes a notice in the result panel and a
notification.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Header, Input, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from core.result import Result
from core.workspace import Workspace
from tui.widgets.footer import KeysFooter
from tui.actions import Action, bindings
from tui.export import Exportable, file_stem
from tui.messages import ResultPrepared, WorkFailed
from tui.progress import RunTicker
from tui.screens.drill import can_drill, drill
from tui.screens.report_entries import BY_KEY, ENTRIES, ReportEntry
from tui.skip import left_out, skippable
from tui.state import WorkspaceState, describe_error
from tui.widgets.options_form import FieldError, OptionsForm
from tui.widgets.result_view import ResultView, prepare


class RunKey:
    """Identifies one run; a message from any other run is stale and dropped."""

    def __init__(self, workspace: Workspace, entry: str, options: dict[str, Any] | None = None) -> None:
        self.workspace, self.entry, self.options = workspace, entry, options or {}


class ReportsScreen(Screen):
    HELP = """\
## Reports

Pick a report on the left (**↑/↓**), press **enter** (or **g**) to run it.

- **o** edits the options; **enter** in an option runs the report with them, **u** puts
  the defaults back.
- **[** and **]** move between the result's tabs: Summary, Charts and one per table.
- **escape** (or **ctrl+c**) cancels a report still running (the status line says what it
  is doing and for how long); else it goes back to the report list, from the options or
  the result. **1**, **2** and **3** jump to the list, the options
  and the result.
- **enter** on a row of the channels, campaigns or cohorts tables lists the customers behind
  it (enter again opens one customer's history); on a cell of a cohort retention matrix
  (a cohort's row, a period's column m3) only that cohort's customers active in that period;
  on a row of customers (CLV, churn risk) it opens that customer's history. The footer
  shows the key only where it works.
- **S**, when invalid rows stopped a report, leaves out the invalid rows of that table
  (it shows and writes `on_invalid = "skip"` into loyalist.toml) and runs the report again;
  the result's notes count the rows left out.
- **+** adds the result to the report being collected; **E** writes that report (HTML,
  XLSX or Markdown) or saves it as a recipe to rerun next month.

A report that needs a table the workspace lacks says which one and how to add it.
"""

    ACTIONS: ClassVar[tuple[Action, ...]] = (
        Action("g", "run", "Run", "Run the highlighted report with the options in the form"),
        Action("o", "focus_options", "Options", "Edit the options of the highlighted report"),
        Action("left_square_bracket", "cycle_view(-1)", "Prev tab", "Show the result's previous tab",
               key_display="["),
        Action("right_square_bracket", "cycle_view(1)", "Next tab", "Show the result's next tab",
               key_display="]"),
        Action("u", "reset_options", "Defaults", "Put the report's options back to their defaults", show=False),
        Action("escape", "cancel", "Back", "Stop the report that is running; else back to the report list",
               show=False),
        Action("ctrl+c", "stop_run", "Stop", "Stop the report that is running", show=False),
        Action("enter", "drill", "Customers", "The customers behind the highlighted row (a channel, campaign, "
               "cohort or customer); shown only on such rows", priority=True),
        Action("1", "focus_panel('list')", "Report list", "Move to the list of reports", show=False),
        Action("2", "focus_panel('options')", "Options panel", "Move to the highlighted report's options",
               show=False),
        Action("3", "focus_panel('result')", "Result panel", "Move to the result (its table or summary)",
               show=False),
    )
    BINDINGS = bindings(ACTIONS)

    def __init__(self) -> None:
        super().__init__()
        self.workspace: Workspace | None = None
        self.entry: ReportEntry = ENTRIES[0]
        self.pending: RunKey | None = None
        self.ticker: RunTicker | None = None  # what the running report is doing, on the status line
        self.shown: dict[str, Any] = {}  # entry key -> Prepared, the last result of each report
        self.typed: dict[str, dict[str, Any]] = {}  # entry key -> the form as the analyst left it
        self.ran_with: dict[str, dict[str, Any]] = {}  # entry key -> the options of its shown result
        self.skippable: str | None = None  # the table whose invalid rows stopped the last run (S: tui.skip)
        self.rerun_on_open = False  # S wrote loyalist.toml: run the report again once the workspace reopens

    # -- layout ---------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="status")
        with Horizontal(id="reports-body"):
            yield OptionList(*self.list_options(None), id="report-list")
            with Vertical(id="reports-main"):
                yield OptionsForm(self.entry.fields, id="report-form")
                yield Static("", id="option-help")
                yield ResultView(id="report-view")
        yield KeysFooter()

    def on_mount(self) -> None:
        self.title = "Loyalist · Reports"
        self.query_one("#report-list").border_title = "Reports"
        self.query_one("#report-form").border_title = "Options"
        report_list = self.query_one("#report-list", OptionList)
        report_list.highlighted = self.option_index(self.entry.key)
        report_list.focus()
        self.watch(self.app, "workspace_state", self.workspace_changed, init=True)

    def list_options(self, ws: Workspace | None) -> list[Option | None]:
        options: list[Option | None] = []
        group = None
        for entry in ENTRIES:
            if entry.group != group:
                if group is not None:
                    options.append(None)
                group = entry.group
            text = Text(entry.title)
            missing = [t for t in entry.needs if ws is not None and not ws.has(t)]
            if missing:
                text.stylize("dim")
                text.append(f"\n  needs {', '.join(missing)}", "dim italic")
            options.append(Option(text, id=entry.key))
        return options

    def option_index(self, key: str) -> int:
        report_list = self.query_one("#report-list", OptionList)
        return report_list.get_option_index(key)

    # -- the workspace ------------------------------------------------------------------------

    async def workspace_changed(self, state: WorkspaceState | None) -> None:
        self.workers.cancel_group(self, "report")
        self.pending = None
        self.stop_ticker()
        self.shown.clear()
        self.ran_with.clear()
        self.set_skippable(None)
        self.workspace = state.workspace if state else None
        report_list = self.query_one("#report-list", OptionList)
        highlighted = report_list.highlighted
        report_list.clear_options()
        report_list.add_options(self.list_options(self.workspace))
        report_list.highlighted = highlighted
        view = self.query_one(ResultView)
        view.loading = False
        if state is None or state.opening:
            self.set_status(f"Opening {state.label if state else 'the workspace'}…", "-busy")
        elif state.error:
            self.set_status(f"Could not open {state.label}: {state.error} (press r to reload)", "-error")
            await view.show_notice("No workspace is open.", severity="error")
            return
        else:
            self.set_status(f"{self.workspace.root} · choose a report and press enter", "")
            await self.restore()
        await self.show_entry(self.entry)
        if self.rerun_on_open and state is not None and state.workspace is not None:
            self.rerun_on_open = False
            self.action_run()

    def set_skippable(self, table: str | None) -> None:
        self.skippable = table
        self.app.refresh_bindings()  # the footer offers S only when invalid rows stopped the run

    def after_skip(self) -> None:
        """S wrote on_invalid = "skip": run the report again on the reopened workspace."""
        self.rerun_on_open = True

    async def restore(self) -> None:
        """The report chosen and the options typed when the app last ran on this workspace."""
        saved = self.app.recall("reports")
        typed = saved.get("options")
        if isinstance(typed, dict):
            self.typed.update({k: v for k, v in typed.items() if k in BY_KEY and isinstance(v, dict)})
        await self.query_one(OptionsForm).set_fields(self.entry.fields, self.typed.get(self.entry.key))
        entry = BY_KEY.get(saved.get("entry"), self.entry)
        # the highlight handler shows the entry and its form, as when the analyst moves there
        self.query_one("#report-list", OptionList).highlighted = self.option_index(entry.key)

    def remember(self) -> None:
        """Keep the chosen report and every report's typed options for the next run (core.session)."""
        self.typed[self.entry.key] = self.query_one(OptionsForm).saved()
        self.app.remember("reports", entry=self.entry.key, options=dict(self.typed))

    def set_status(self, text: str, kind: str = "") -> None:
        status = self.query_one("#status", Static)
        status.update(Text(text))
        status.set_classes(kind)

    # -- choosing a report ----------------------------------------------------------------------

    @on(OptionList.OptionHighlighted, "#report-list")
    async def report_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        entry = BY_KEY[event.option.id]
        if entry is not self.entry:
            self.typed[self.entry.key] = self.query_one(OptionsForm).saved()
            self.entry = entry
            await self.query_one(OptionsForm).set_fields(entry.fields, self.typed.get(entry.key))
            await self.show_entry(entry)
            if self.workspace is not None:
                self.remember()

    @on(OptionList.OptionSelected, "#report-list")
    def report_chosen(self, event: OptionList.OptionSelected) -> None:
        self.action_run()

    async def show_entry(self, entry: ReportEntry) -> None:
        """The entry's last result, or what it does and needs."""
        view = self.query_one(ResultView)
        if self.pending is not None and self.pending.entry == entry.key:
            return  # running: the busy view stays
        view.loading = False
        if entry.key in self.shown:
            await view.show(self.shown[entry.key])
            return
        lines = [entry.about, "", f"Needs: {', '.join(entry.needs)}."]
        if entry.uses:
            lines.append(f"Uses when present: {', '.join(entry.uses)}.")
        if self.workspace is not None:
            missing = [t for t in entry.needs if not self.workspace.has(t)]
            if missing:
                lines.append(f"This workspace has no {' or '.join(missing)} table.")
        lines += ["", "Press enter (or g) to run it; o edits the options."]
        await view.show_notice("\n".join(lines), title=entry.title)

    # -- running ----------------------------------------------------------------------------------

    def action_run(self) -> None:
        if self.workspace is None:
            self.notify("No workspace is open yet.", severity="warning")
            return
        form = self.query_one(OptionsForm)
        try:
            options = form.values()
        except FieldError as exc:
            self.notify(str(exc), title="Check the options", severity="error", markup=False)
            widget = form.query_one(f"#option-{exc.field.name}")
            widget.add_class("-invalid")
            widget.focus()
            return
        entry = self.entry
        self.remember()
        self.pending = RunKey(self.workspace, entry.key, options)
        self.query_one(ResultView).loading = True
        self.stop_ticker()
        self.ticker = RunTicker(self, lambda text: self.set_status(text, "-busy"), f"Running {entry.title}",
                                "escape stops it").start()
        self.run_entry(self.pending, entry, self.workspace, options, self.ticker)

    def stop_ticker(self) -> float:
        """Stop the status line's clock; the seconds the run took (0 if none was running)."""
        ticker, self.ticker = self.ticker, None
        return ticker.stop() if ticker is not None else 0.0

    @work(thread=True, exclusive=True, group="report", exit_on_error=False)
    def run_entry(self, key: RunKey, entry: ReportEntry, ws: Workspace, options: dict[str, Any],
                  ticker: RunTicker) -> None:
        try:
            with ticker.tracking():  # a cancelled run stops at the analysis's next step
                prepared = prepare(entry.run(ws, options))
        except Exception as exc:  # a failed analysis is a message in the panel, never a dead app
            if not get_current_worker().is_cancelled:
                self.post_message(WorkFailed(key, "report", describe_error(exc), skippable(exc)))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(ResultPrepared(key, "report", prepared))

    @on(ResultPrepared)
    async def report_ready(self, message: ResultPrepared) -> None:
        if message.key is not self.pending:
            return
        message.stop()
        self.pending = None
        took = self.stop_ticker()
        key = message.key.entry
        self.shown[key] = message.prepared
        self.ran_with[key] = message.key.options
        # a table it only uses, left out for its errors: S uses its valid rows and runs it again
        self.set_skippable(left_out(message.prepared.result.notes))
        view = self.query_one(ResultView)
        view.loading = False
        result: Result = message.prepared.result
        skip = f" · S uses the valid rows of {self.skippable}" if self.skippable else ""
        self.set_status(f"{result.title} · {self.workspace.root if self.workspace else ''} · {took:.1f} s · "
                        f"+ adds it to the report{skip}", "-ok")
        if key == self.entry.key:
            await view.show(message.prepared)

    @on(WorkFailed)
    async def report_failed(self, message: WorkFailed) -> None:
        if message.key is not self.pending:
            return
        message.stop()
        self.pending = None
        self.stop_ticker()
        entry = BY_KEY[message.key.entry]
        self.shown.pop(entry.key, None)
        view = self.query_one(ResultView)
        view.loading = False
        self.set_skippable(message.skippable)
        self.set_status(f"{entry.title} could not run" + (f" · S skips the invalid rows of {message.skippable}"
                                                          if message.skippable else ""), "-error")
        self.notify(message.error, title=f"{entry.title} could not run", severity="error", timeout=10,
                    markup=False)
        if entry is self.entry:
            await view.show_notice(message.error, title=f"{entry.title} could not run", severity="error")

    async def action_cancel(self) -> None:
        if self.pending is None:  # nothing to stop: back to the list, from wherever the focus is
            self.query_one("#report-list", OptionList).focus()
            return
        entry = BY_KEY[self.pending.entry]
        self.workers.cancel_group(self, "report")
        self.pending = None
        took = self.stop_ticker()
        view = self.query_one(ResultView)
        view.loading = False
        self.set_status(f"{entry.title} cancelled after {took:.0f} s", "-warning")
        await view.show_notice(f"{entry.title} was cancelled before it finished; nothing was kept. "
                               "Press enter to run it again.", title=entry.title, severity="warning")

    async def action_stop_run(self) -> None:
        """ctrl+c stops a running report; with none running the key keeps its app-wide meaning."""
        if self.pending is None:
            raise SkipAction()
        await self.action_cancel()

    # -- other actions ------------------------------------------------------------------------------

    def action_focus_options(self) -> None:
        self.query_one(OptionsForm).focus_first()

    def action_focus_panel(self, panel: str) -> None:
        if panel == "list":
            self.query_one("#report-list", OptionList).focus()
        elif panel == "options":
            self.action_focus_options()
        else:
            self.query_one(ResultView).focus_content()

    def action_reset_options(self) -> None:
        self.query_one(OptionsForm).reset()
        self.notify(f"{self.entry.title}: options back to their defaults.")

    def action_cycle_view(self, step: int) -> None:
        self.query_one(ResultView).cycle_tab(step)

    @on(Input.Submitted, "#report-form Input")
    def option_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_run()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "drill":  # in the footer, and taking enter, only on a row with customers behind it
            return can_drill(self.query_one(ResultView), self.focused)
        return True

    def action_drill(self) -> None:
        drill(self, self.query_one(ResultView), self.workspace)

    def on_descendant_focus(self, event) -> None:
        self.refresh_bindings()
        widget: Widget = event.widget
        text = self.query_one(OptionsForm).help_for(widget)
        line = self.query_one("#option-help", Static)
        line.update(Text(text))
        line.display = bool(text)  # a blank line would only take a row from the result

    async def choose_report(self, key: str) -> None:
        """Show one analysis of the list (the palette's "Reports: NPS & CSAT" and the like)."""
        report_list = self.query_one("#report-list", OptionList)
        report_list.highlighted = self.option_index(key)
        report_list.focus()

    def exportable(self) -> Exportable | None:
        """The report on screen, for the app's Export and Add to report actions; its step is
        the kind and the options it ran with that differ from the defaults (a recipe reruns it)."""
        from core.export.recipe import ReportStep

        result = self.query_one(ResultView).result
        if result is None:
            return None
        key = self.entry.key
        defaults = self.entry.defaults()
        options = {k: v for k, v in self.ran_with.get(key, {}).items() if v is not None and v != defaults.get(k)}
        return Exportable(result, file_stem(key.replace(".", " ")), step=ReportStep(key, options))
