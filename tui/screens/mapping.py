"""The mapping editor: which of the file's columns each contract column is read from.

Pushed over any screen (M, or "Map columns" in the palette; the app offers it when a
table's columns do not match). One row per contract column: the file's column it is read
from now and how that was found, a few sample values, and how many of the first rows'
values would not parse as that column. Enter picks another of the file's columns (those
whose names suggest it first); w (or ctrl+s) shows the change to loyalist.toml as a diff
and writes it only when the analyst says so; the workspace is then opened again.
All reading and writing is core.mapping_edit's; this screen only shows and asks.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import DataTable, Header, Static
from textual.worker import get_current_worker

from core.errors import LoyalistError
from core.mapping_edit import (AMBIGUOUS, FROM_CONFIG, MappingDraft, Preview, columns_to_write, config_diff,
                               draft_mapping, mappable_tables, preview, proposed_config, write_config)
from core.workspace import resolve_root
from tui.actions import Action, bindings
from tui.state import describe_error
from tui.widgets.dialogs import AskDialog, ChoiceDialog
from tui.widgets.footer import KeysFooter

NONE = "\x00none"  # the choice "not in this file" (no header can be a NUL)
HOW = {FROM_CONFIG: "loyalist.toml", "name": "its name", "synonym": "a usual name", AMBIGUOUS: "two could be",
       "": "—"}


@dataclass(eq=False)
class DraftReady(Message):
    draft: MappingDraft | None
    previews: dict[str, Preview]
    tables: list[str]
    error: str = ""


@dataclass(eq=False)
class PreviewReady(Message):
    draft: MappingDraft  # the draft it was read for
    column: str
    preview: Preview


def open_mapping_editor(app: App) -> None:
    """Push the editor for the workspace the app has (or failed to open), on the table the
    screen shows when it has one (the Data screen's current_table)."""
    state = app.workspace_state
    ws = state.workspace if state else None
    try:
        root = (ws.config_path or ws.root) if ws is not None else resolve_root(app.workspace_path)
    except LoyalistError as exc:
        app.notify(str(exc), title="Map columns", severity="error", markup=False)
        return
    app.push_screen(MappingScreen(root, getattr(app.screen, "current_table", None)))


class MappingScreen(ModalScreen[bool]):
    """Modal: the app's screen keys wait until the mapping is written or left."""

    ACTIONS: ClassVar[tuple[Action, ...]] = (
        Action("enter", "choose", "Choose", "Pick the file's column the highlighted contract column is read from",
               priority=True),
        Action("w,ctrl+s", "save", "Write", "Show the change to loyalist.toml and write it", key_display="w"),
        Action("t", "next_table", "Next table", "Map the next table's columns"),
        Action("escape", "close", "Close", "Leave the mapping editor (asks when choices are not written)"),
    )
    BINDINGS = bindings(ACTIONS)

    def __init__(self, root: Path, table: str | None = None) -> None:
        super().__init__()
        self.root, self.table = root, table
        self.draft: MappingDraft | None = None
        self.tables: list[str] = []
        self.chosen: dict[str, str | None] = {}  # contract column -> header, as the analyst has it now
        self.previews: dict[str, Preview] = {}

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="mapping-status")
        yield DataTable(id="mapping-columns", cursor_type="row", zebra_stripes=True)
        yield Static("", id="mapping-detail")
        yield KeysFooter()

    def on_mount(self) -> None:
        self.title = "Loyalist · Map columns"
        table = self.query_one("#mapping-columns", DataTable)
        table.add_columns("Column", "Needed", "Read from", "Found by", "Unparsed", "Sample values")
        table.focus()
        self.load(self.table)

    # -- reading ------------------------------------------------------------------------------

    def load(self, table: str | None) -> None:
        self.set_status(f"Reading {table or 'the tables'}…", "-busy")
        self.read_draft(self.root, table)

    @work(thread=True, exclusive=True, group="mapping", exit_on_error=False)
    def read_draft(self, root: Path, table: str | None) -> None:
        try:
            tables = mappable_tables(root)
            if not tables:
                raise LoyalistError(f"no table files in {root}")
            if table not in tables:  # the first that needs a mapping, else the first
                drafts = (draft_mapping(root, t) for t in tables)
                draft = next((d for d in drafts if d.needs_attention), None) or draft_mapping(root, tables[0])
            else:
                draft = draft_mapping(root, table)
            previews = {ch.column: preview(draft, ch.column, ch.header) for ch in draft.choices}
            message = DraftReady(draft, previews, tables)
        except Exception as exc:  # shown on screen, never a crash
            message = DraftReady(None, {}, [], describe_error(exc))
        if not get_current_worker().is_cancelled:
            self.post_message(message)

    @on(DraftReady)
    def draft_ready(self, message: DraftReady) -> None:
        if message.error:
            self.set_status(f"Cannot map columns: {message.error}", "-error")
            return
        self.draft, self.tables, self.previews = message.draft, message.tables, dict(message.previews)
        self.table = self.draft.table
        self.chosen = self.draft.current()
        self.fill()

    def fill(self) -> None:
        grid = self.query_one("#mapping-columns", DataTable)
        row = grid.cursor_row
        grid.clear()
        for choice in self.draft.choices:
            header = self.chosen[choice.column]
            changed = header != choice.header
            shown = self.previews.get(choice.column)
            grid.add_row(
                Text(choice.column, "bold" if choice.required else ""),
                "required" if choice.required else "",
                Text(header if header is not None else "—", "bold" if changed else ""),
                Text("your choice", "italic") if changed else
                Text(HOW[choice.how], "bold red" if choice.how == AMBIGUOUS else ""),
                _failures(shown, header),
                Text(", ".join(self.draft.values(header)) if header is not None else ""),
                key=choice.column,
            )
        grid.move_cursor(row=min(row, grid.row_count - 1))
        self.show_state()

    def show_state(self) -> None:
        draft = self.draft
        unwritten = self.unwritten()
        config = draft.config_path.name if draft.config_path.is_file() else f"{draft.config_path.name} (new)"
        text = f"{draft.table} · {draft.file.name} · {config}"
        missing = [ch.column for ch in draft.choices if ch.required and self.chosen[ch.column] is None]
        if missing:
            self.set_status(f"{text} · choose a column for {', '.join(missing)}", "-error")
        elif unwritten:
            self.set_status(f"{text} · not written yet: w shows the change", "-warning")
        else:
            self.set_status(f"{text} · enter picks another column · t next table", "")
        self.show_detail()

    def set_status(self, text: str, kind: str = "") -> None:
        status = self.query_one("#mapping-status", Static)
        status.update(Text(text))
        status.set_classes(kind)

    # -- choosing ---------------------------------------------------------------------------------

    def highlighted(self) -> str | None:
        grid = self.query_one("#mapping-columns", DataTable)
        if self.draft is None or not grid.row_count:
            return None
        return self.draft.choices[grid.cursor_row].column

    @on(DataTable.RowHighlighted, "#mapping-columns")
    def row_highlighted(self) -> None:
        self.show_detail()

    def show_detail(self) -> None:
        column = self.highlighted()
        if column is None:
            return
        shown = self.previews.get(column)
        line = f"{column}: read from {self.chosen[column] or 'no column'}"
        if shown and shown.header is not None:
            line += f" · {shown.values} values in the first rows, {shown.failed} would not parse"
            if shown.examples:
                line += f" (e.g. {', '.join(shown.examples)})"
            if shown.problem:
                line += f" · {shown.problem}"
        self.query_one("#mapping-detail", Static).update(Text(line))

    @on(DataTable.RowSelected, "#mapping-columns")
    def row_selected(self) -> None:
        self.action_choose()

    def action_choose(self) -> None:
        column = self.highlighted()
        if column is None:
            return
        choice = next(ch for ch in self.draft.choices if ch.column == column)
        used = {h: c for c, h in self.chosen.items() if h is not None and c != column}
        choices = [(h, h, ", ".join(self.draft.values(h)) + (f"  (now read as {used[h]})" if h in used else ""))
                   for h in choice.candidates]
        if not choice.required:
            choices.append((NONE, "(not in this file)", "leave the column out"))
        current = self.chosen[column]

        def picked(value: str | None) -> None:
            if value is None:
                return
            self.pick(column, None if value == NONE else value)

        self.app.push_screen(ChoiceDialog(f"Read {column} from", choices, current=current if current else NONE),
                             picked)

    def pick(self, column: str, header: str | None) -> None:
        self.chosen[column] = header
        self.previews.pop(column, None)  # shown as being read until read_preview's answer
        self.fill()
        self.read_preview(self.draft, column, header)

    @work(thread=True, group="mapping-preview", exit_on_error=False)
    def read_preview(self, draft: MappingDraft, column: str, header: str | None) -> None:
        """The first rows' preview, in a worker: a date order they leave open is settled by a scan
        of the whole column (core.mapping_edit.preview)."""
        try:
            shown = preview(draft, column, header)
        except Exception as exc:  # shown on screen, never a crash
            shown = Preview(header, 0, 0, problem=describe_error(exc))
        self.post_message(PreviewReady(draft, column, shown))

    @on(PreviewReady)
    def preview_ready(self, message: PreviewReady) -> None:
        if message.draft is not self.draft or self.chosen.get(message.column) != message.preview.header:
            return  # another table, or another pick since
        self.previews[message.column] = message.preview
        self.fill()

    def unwritten(self) -> bool:
        return self.draft is not None and self.chosen != self.draft.current()

    # -- writing ----------------------------------------------------------------------------------

    def action_save(self) -> None:
        if self.draft is None:
            return
        draft = self.draft
        try:
            old, new = proposed_config(draft.config_path, draft.table, columns_to_write(draft, self.chosen))
        except LoyalistError as exc:
            self.notify(str(exc), title="Not written", severity="error", markup=False)
            return
        if old == new:
            self.notify(f"{draft.config_path.name} already says this; nothing to write.")
            return

        def answered(answer: str | None) -> None:
            if answer == "write":
                self.write(old, new)

        diff = config_diff(draft.config_path, old, new)
        self.app.push_screen(AskDialog(f"Write {draft.config_path.name}?", diff,
                                       (("write", "Write", "w"), ("cancel", "Cancel", "escape"))), answered)

    def write(self, old: str, new: str) -> None:
        try:
            write_config(self.draft.config_path, old, new)
        except (LoyalistError, OSError) as exc:
            self.notify(describe_error(exc), title="Not written", severity="error", markup=False)
            return
        self.notify(f"Wrote the {self.draft.table} columns into {self.draft.config_path}; opening the "
                    "workspace again.", title="Map columns", markup=False)
        self.draft = None
        self.app.open_workspace()
        self.dismiss(True)

    # -- leaving ----------------------------------------------------------------------------------

    def action_next_table(self) -> None:
        if not self.tables:
            return
        if self.unwritten():
            self.notify("Write (w) or undo this table's choices before moving on.", severity="warning")
            return
        self.load(self.tables[(self.tables.index(self.table) + 1) % len(self.tables)])

    def action_close(self) -> None:
        if not self.unwritten():
            self.dismiss(False)
            return

        def answered(answer: str | None) -> None:
            if answer == "discard":
                self.dismiss(False)

        self.app.push_screen(AskDialog("Choices not written", "The columns you chose are not in loyalist.toml "
                                       "yet. Leave without writing them?",
                                       (("discard", "Discard", "d"), ("cancel", "Cancel", "escape"))), answered)


def _failures(shown: Preview | None, header: str | None) -> Text:
    if header is None:
        return Text("")
    if shown is None:
        return Text("reading…", "dim")
    if not shown.values:
        return Text("no values", "dim")
    if not shown.failed:
        return Text("none", "green")
    return Text(f"{shown.failed} of {shown.values}", "bold red")
