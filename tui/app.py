"""LoyalistApp: the shell that opens the workspace and hosts the registered screens.

The shell draws at once; the workspace is opened in a thread worker and published as
`workspace_state`, which every screen watches. It is opened lazily (a table's headers and
sample are read when first used), so the first screen's first rows wait for one table,
not all of them; `finish_opening` then reads every table in another worker (after the
Data screen's first rows are painted) and publishes `workspace_read`, or the reason the
workspace cannot be opened. Screens, their keys and the command
palette all come from the registry in tui/screens/__init__.py and each screen's ACTIONS.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
import asyncio
import contextlib
import datetime as dt
import signal
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

import polars as pl

from textual import on, work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.message import Message
from textual.reactive import var
from textual.screen import Screen
from textual.worker import get_current_worker

from core.export.display import printable
from core.session import KEPT_DIR, keep_unsaved, kept_files, load_state, save_state
from core.workspace import Workspace
from tui.actions import Action, bindings
from tui.palette import KeyedCommands
from tui.export import Pack, PackKeeper, add_to_pack, start_export, start_pack_export
from tui.hangup import CHECK_SECONDS, HANGUP_EXIT, hung_up, surviving_driver, watched_terminal
from tui.messages import OpenCustomer
from tui.screens import SCREENS
from tui.state import WorkspaceState, describe_error, mapping_hint
from tui.widgets.dialogs import AskDialog


@dataclass(eq=False)
class WorkspaceOpened(Message):
    state: WorkspaceState
    remembered: dict[str, Any]  # what the app saved about this workspace last time (core.session)
    notice: str | None = None  # why a saved state was set aside
    kept: list[Path] = field(default_factory=list)  # unsaved work kept when the terminal went away


@dataclass(eq=False)
class WorkspaceRead(Message):
    state: WorkspaceState  # the state whose workspace was read
    error: str | None = None  # why none of its tables could be read
    readable: Workspace | None = None  # the workspace without the tables that could not be (Workspace.readable)


@dataclass(frozen=True)
class PaletteCommand:
    title: str
    help: str
    callback: Callable[[], Any]
    key: str = ""  # as the footer shows it; "" for commands without a key
    discover: bool = True


class LoyalistApp(App):
    CSS_PATH = "app.tcss"
    COMMANDS: ClassVar = {KeyedCommands}
    TITLE = "Loyalist"
    MODES: ClassVar = {spec.name: spec.screen for spec in SCREENS}
    DEFAULT_MODE: ClassVar[str] = SCREENS[0].name
    ACTIONS: ClassVar[tuple[Action, ...]] = (
        *(Action(s.key, f"show_screen('{s.name}')", s.title, s.help) for s in SCREENS),
        Action("e", "export", "Export", "Export what this screen shows (csv, xlsx, html, parquet, ...)"),
        Action("plus", "add_to_pack", "Add to report", "Add what this screen shows to the report being "
               "collected (written with E)", key_display="+"),
        Action("E", "export_pack", "Export report", "Write the collected results into one HTML report, "
               "workbook or Markdown file, or save them as a recipe", show=False, key_display="E"),
        Action("M", "map_columns", "Map columns", "Choose which of a file's columns each contract column is "
               "read from, and write it into loyalist.toml", show=False, key_display="M"),
        Action("S", "skip_invalid", "Skip invalid rows", "Leave out the invalid rows that stopped this analysis "
               "(or its table): writes on_invalid = \"skip\" for their table into loyalist.toml and runs it "
               "again; shown only then", key_display="S"),
        Action("r", "reopen", "Reload", "Open the workspace again, re-reading its files", show=False),
        Action("question_mark", "toggle_help", "Help", "Show or hide the keys for this screen",
               key_display="?"),
        Action("q", "quit", "Quit", "Leave Loyalist"),
    )
    BINDINGS = bindings(ACTIONS)

    # None until on_load; then opening, open or failed. Identity compare (always_update):
    # a Workspace holds LazyFrames, which do not compare with ==.
    workspace_state: var[WorkspaceState | None] = var(None, always_update=True)
    # The open workspace once every table's headers and sample are read (finish_opening).
    workspace_read: var[Workspace | None] = var(None, always_update=True)
    # Tests switch this off so a run on the shared sample folder leaves no state behind.
    remember_state: ClassVar[bool] = True

    def __init__(self, workspace: str | Path | None = None) -> None:
        super().__init__()
        self.workspace_path = Path(workspace) if workspace is not None else None
        # The Scale builder's latest per-customer scores (customer_id, score, tier), shown in
        # a customer's history; None until a scale has been computed on this workspace.
        self.loyalty_scores: pl.DataFrame | None = None
        self.pack = Pack()  # the results collected with "Add to report"
        self.remembered: dict[str, dict[str, Any]] = {}  # per screen: what to restore (core.session)
        self.screen_restored = False  # the remembered screen is shown once, on the first open
        self.state_write_failed = False  # said once, not on every change
        self.reading: WorkspaceState | None = None  # the state finish_opening was asked for
        self.terminal_lost = False

    def get_driver_class(self) -> type:
        return surviving_driver(super().get_driver_class())  # its writes survive a hung-up terminal

    def on_load(self) -> None:
        # before the first screen is mounted: opening the workspace overlaps with mounting it
        self.open_workspace()

    def on_mount(self) -> None:
        if self.is_headless or (terminal := watched_terminal()) is None:
            return
        self.set_interval(CHECK_SECONDS, partial(self.check_terminal, terminal))
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):  # no SIGHUP here
            asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, self.lose_terminal)

    def check_terminal(self, terminal: int) -> None:
        if hung_up(terminal):
            self.lose_terminal()

    def lose_terminal(self) -> None:
        """The terminal went away (tui.hangup): keep every screen's unsaved work in the workspace's
        kept folder, where the next opening names it, and end; no one is there to answer a question."""
        if self.terminal_lost:
            return
        self.terminal_lost = True
        ws = self.workspace_state.workspace if self.workspace_state else None
        if ws is not None:
            folder, when = Path(ws.root) / KEPT_DIR, dt.datetime.now().strftime("%Y%m%d-%H%M%S")
            for keeper in self.unsaved_keepers():
                with contextlib.suppress(Exception):  # nowhere left to say so; the next keeper is tried
                    keep_unsaved(ws.root, *keeper.kept_copy(folder), when)
        self.exit(return_code=HANGUP_EXIT)

    def notify(self, message: str, *, title: str = "", severity: str = "information",
               timeout: float | None = None, markup: bool = True) -> None:
        """Every toast (most quote file names, values or errors from the data) shows its
        text without control characters; markup=False ones are the data-bearing kind."""
        if not markup:
            message, title = printable(message), printable(title)
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)

    def open_workspace(self) -> None:
        self.loyalty_scores = None
        self.workspace_read = None
        self.workspace_state = WorkspaceState(self.workspace_path)
        self._open(self.workspace_path)

    @work(thread=True, exclusive=True, group="workspace", exit_on_error=False)
    def _open(self, path: Path | None) -> None:
        remembered, notice, kept = {}, None, []
        try:
            # lazily: which tables exist is known now, their files are read when first used
            ws = Workspace.open(path, lazy=True)
            if self.remember_state:
                remembered, notice = load_state(ws.root)
            kept = kept_files(ws.root)
            # the first screen's first rows, read here while that screen is being mounted
            first = next(s for s in SCREENS if s.name == self.first_mode(remembered))
            state = WorkspaceState(path, workspace=ws, first_page=first.prefetch(ws, remembered))
        except Exception as exc:  # a bad workspace is shown on screen, never a crash
            state = WorkspaceState(path, error=describe_error(exc))
        if not get_current_worker().is_cancelled:
            self.post_message(WorkspaceOpened(state, remembered, notice, kept))

    def first_mode(self, remembered: dict[str, Any]) -> str:
        """The screen the workspace will first be shown on (publish)."""
        screen = remembered.get("app", {}).get("screen")
        return screen if not self.screen_restored and screen in self.MODES else self.current_mode

    @on(WorkspaceOpened)
    async def publish(self, message: WorkspaceOpened) -> None:
        self.remembered = message.remembered  # before the screens hear of the workspace
        if message.notice:
            self.notify(message.notice, title="App state", severity="warning", timeout=8, markup=False)
        self.workspace_state = message.state
        if not self.screen_restored and message.state.workspace is not None:
            screen = self.first_mode(message.remembered)  # the one the first rows were read for
            self.screen_restored = True
            if screen != self.current_mode:
                await self.switch_mode(screen)
        if message.state.error:
            self.notify(message.state.error, title="Could not open the workspace",
                        severity="error", timeout=10, markup=False)
            return
        self.sub_title = printable(message.state.label)  # the folder name is the user's
        self.name_kept_work(message.kept)
        for notice in message.state.workspace.notices:  # e.g. a stale converted copy set aside
            self.notify(printable(notice), title="Reading the source", severity="warning", timeout=10, markup=False)
        if not getattr(self.screen, "finishes_opening", False):  # else after its first rows
            self.finish_opening()

    def name_kept_work(self, kept: list[Path]) -> None:
        """Say once which unsaved work the app kept when its terminal last went away (lose_terminal)."""
        seen = self.remembered.get("app", {}).get("kept_named", [])
        new = [path for path in kept if path.name not in seen]
        if not new:
            return
        self.notify("When its terminal went away, the app kept unsaved work in "
                    + ", ".join(str(path) for path in new)
                    + ". A scale spec (.toml) opens with ctrl+o on the Scale screen, a report (.html) in a "
                    "browser; delete the file once you have what you need.",
                    title="Unsaved work kept", severity="warning", timeout=20, markup=False)
        self.remember("app", kept_named=[path.name for path in kept])  # the files still there

    def finish_opening(self) -> None:
        """Read every table's headers and sample, in a worker (once per opened workspace):
        a screen showing rows first asks for it once they are painted."""
        state = self.workspace_state
        if state is not None and state.workspace is not None and self.reading is not state:
            self.reading = state
            self._read_every_table(state)

    @work(thread=True, exclusive=True, group="workspace-read", exit_on_error=False)
    def _read_every_table(self, state: WorkspaceState) -> None:
        from tui.priority import yield_to_ui

        yield_to_ui()  # it runs while the first rows are drawn
        error, readable = None, None
        try:
            readable = state.workspace.readable()  # a table that cannot be read does not hide the others
            if readable.unreadable and not readable.sources:
                error = describe_error(next(iter(readable.unreadable.values())))
        except Exception as exc:
            error = describe_error(exc)
        if not get_current_worker().is_cancelled:
            self.post_message(WorkspaceRead(state, error, readable))

    @on(WorkspaceRead)
    def workspace_was_read(self, message: WorkspaceRead) -> None:
        if message.state is not self.workspace_state:  # reopened meanwhile
            return
        if message.error is not None:
            self.workspace_state = WorkspaceState(message.state.path, error=message.error)
            self.notify(message.error, title="Could not open the workspace", severity="error", timeout=10,
                        markup=False)
            return
        readable = message.readable
        if readable is not None and readable is not message.state.workspace:  # some tables could not be read
            for table, error in readable.unreadable.items():
                self.notify(f"{describe_error(error)}\nThe other tables are open; press r to reload once it is "
                            "mended.", title=f"Could not read the {table} table", severity="error", timeout=20,
                            markup=False)
            # every screen now shows the workspace without them (the Data screen lists each with its error)
            self.workspace_read = readable
            self.reading = WorkspaceState(message.state.path, workspace=readable)
            self.workspace_state = self.reading
        else:
            self.workspace_read = message.state.workspace
        # tui.state, not the editor's module: importing that here cost the UI thread 9 ms
        # (more when compiled) in the go that follows the first rows
        hint = mapping_hint(self.workspace_state)
        if hint:
            self.notify(hint.strip(), title="Columns missing", severity="warning", timeout=10, markup=False)

    # -- actions --------------------------------------------------------------------

    def recall(self, section: str) -> dict[str, Any]:
        """What a screen saved about this workspace last time ({} if nothing)."""
        return dict(self.remembered.get(section, {}))

    def remember(self, section: str, **values: Any) -> None:
        """Keep a screen's values (JSON-able) for the next time the app opens this workspace."""
        ws = self.workspace_state.workspace if self.workspace_state else None
        current = self.remembered.get(section, {})
        if ws is None or {**current, **values} == current:
            return
        self.remembered[section] = {**current, **values}
        if not self.remember_state:
            return
        problem = save_state(ws.root, self.remembered)
        if problem and not self.state_write_failed:
            self.state_write_failed = True
            self.notify(problem, title="App state", severity="warning", timeout=8, markup=False)

    def action_show_screen(self, name: str) -> None:
        self.switch_mode(name)
        self.remember("app", screen=name)

    def action_map_columns(self) -> None:
        from tui.screens.mapping import open_mapping_editor

        open_mapping_editor(self)

    def action_skip_invalid(self) -> None:
        """S, when invalid rows stopped the screen's analysis (tui.skip)."""
        from tui.skip import offer_skip

        table = getattr(self.screen, "skippable", None)
        ws = self.workspace_state.workspace if self.workspace_state else None
        if table is None or ws is None:
            self.notify("No analysis here was stopped by invalid rows.", markup=False)
            return
        offer_skip(self, ws, table, getattr(self.screen, "after_skip", None))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "skip_invalid":  # in the footer only when invalid rows stopped the screen's analysis
            return getattr(self.screen, "skippable", None) is not None
        return True

    def action_reopen(self) -> None:
        self.open_workspace()

    def action_export(self) -> None:
        start_export(self)

    def action_add_to_pack(self) -> None:
        add_to_pack(self, self.pack)

    def action_export_pack(self) -> None:
        ws = self.workspace_state.workspace if self.workspace_state else None
        start_pack_export(self, self.pack, workspace=ws)

    async def action_open_report(self, kind: str) -> None:
        """From the palette: the Reports screen with this analysis chosen."""
        await self.switch_mode("reports")
        choose = getattr(self.screen, "choose_report", None)
        if choose is not None:
            await choose(kind)

    @on(OpenCustomer)
    def open_customer(self, message: OpenCustomer) -> None:
        from tui.screens.customer import CustomerScreen

        ws = self.workspace_state.workspace if self.workspace_state else None
        if ws is None:
            self.notify("No workspace is open.", severity="warning")
            return
        self.push_screen(CustomerScreen(ws, message.customer_id, scores=message.scores,
                                        segmentation=message.segmentation, as_of=message.as_of))

    def unsaved_keepers(self) -> list[Any]:
        """What holds work not yet saved: screens of every opened mode, then the report being
        collected (tui.export.PackKeeper). Each answers `unsaved_work()` with what it is, saves it
        with `save_work(done)` and gives `kept_copy(folder)` for when the terminal goes away."""
        found = []
        for mode in self.MODES:
            try:
                stack = self.get_screen_stack(mode)
            except KeyError:  # a mode never shown has nothing to lose
                continue
            found += [s for s in stack if getattr(s, "unsaved_work", lambda: None)()]
        ws = self.workspace_state.workspace if self.workspace_state else None
        pack = PackKeeper(self, self.pack, workspace=ws)
        return found + ([pack] if pack.unsaved_work() else [])

    async def action_quit(self) -> None:
        """Quit at once, unless something holds unsaved work: then ask save, discard or cancel."""
        unsaved = self.unsaved_keepers()
        if not unsaved:
            self.exit()
            return
        keeper = unsaved[0]

        def answered(answer: str | None) -> None:
            if answer == "discard":
                self.exit()
            elif answer == "save":
                # saved: ask again (another screen may hold work too); not saved: stay
                keeper.save_work(lambda saved: self.call_later(self.action_quit) if saved else None)

        self.push_screen(AskDialog("Unsaved changes", f"{keeper.unsaved_work()} Save before quitting?",
                                   (("save", "Save", "s"), ("discard", "Discard", "d"),
                                    ("cancel", "Cancel", "escape"))), answered)

    def action_toggle_help(self) -> None:
        if self.screen.query("HelpPanel"):
            self.action_hide_help_panel()
        else:
            self.action_show_help_panel()

    def palette_commands(self, screen: Screen) -> list[PaletteCommand]:
        """The palette lists the same actions as the keys, each with its key (tui/palette.py):
        the app's, then the screen's, then every analysis of the registry, then Textual's own."""
        ours = [(a, self) for a in self.ACTIONS] + [(a, screen) for a in getattr(screen, "ACTIONS", ())]
        commands = [PaletteCommand(action.title, action.help, partial(self.run_action, action.action, target),
                                   self.action_key(action)) for action, target in ours]
        from tui.screens.report_entries import ENTRIES  # the registry's analyses, cheap to list

        commands += [PaletteCommand(f"{entry.group}: {entry.title}", entry.about,
                                    partial(self.run_action, f"open_report('{entry.key}')", self))
                     for entry in ENTRIES]
        commands += self.sheet_commands(screen)
        titles = {a.title for a, _ in ours} | {"Keys"}  # Textual's "Keys" is our "Help"
        commands += [PaletteCommand(c.title, c.help, c.callback, discover=c.discover)
                     for c in super().get_system_commands(screen) if c.title not in titles]
        return commands

    def sheet_commands(self, screen: Screen) -> list[PaletteCommand]:
        """The table verbs (tui/widgets/sheet.py) when the focus is in a table that has them."""
        from tui.widgets.sheet import SheetVerbs, sheet_bindings

        focused = screen.focused
        chain = [focused, *focused.ancestors] if focused is not None else []
        sheet = next((w for w in chain if isinstance(w, SheetVerbs)), None)
        if sheet is None:
            return []
        return [PaletteCommand(b.description, b.tooltip or b.description, partial(self.run_action, b.action, sheet),
                               self.get_key_display(b)) for b in sheet_bindings()]

    def action_key(self, action: Action) -> str:
        """How the footer shows the action's (first) key, e.g. ^s or del."""
        first = action.key.split(",")[0]
        return self.get_key_display(Binding(first, action.action, key_display=action.key_display))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        for command in self.palette_commands(screen):
            yield SystemCommand(command.title, command.help, command.callback, command.discover)
