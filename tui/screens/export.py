"""The Export dialog: choose a format (and a table, for one-table formats) and a file;
the Result on screen is written by core.export.write_result in a thread worker.

"Shareable" writes the result pseudonymised (core.privacy): customer ids hashed with the
workspace's key, names, emails and phone numbers dropped, small counts blanked.
An existing file is never replaced silently: the dialog asks to overwrite it or proposes
a free name. Errors (no such folder, no permission) stay in the dialog to be fixed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Select, Static

from core.export import TABLE_FORMATS, write_result
from tui.export import DESCRIPTIONS, EXTENSIONS, Exportable, format_of, free_path, with_format
from tui.messages import Exported
from tui.state import describe_error

HINT = "Tab moves between fields · Enter exports · Esc cancels"


@dataclass(eq=False)
class _Written(Message):
    path: Path


@dataclass(eq=False)
class _WriteFailed(Message):
    path: Path
    error: str
    exists: bool  # the file appeared since the check: ask again


class ExportDialog(ModalScreen[Path | None]):
    BINDINGS: ClassVar = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, item: Exportable, folder: Path, workspace_root: Path | None = None) -> None:
        super().__init__()
        self.item = item
        self.folder = folder
        self.workspace_root = workspace_root  # where the pseudonym key is kept
        self.writing = False
        self.confirming: Path | None = None  # the existing file the user is asked about

    def compose(self) -> ComposeResult:
        result = self.item.result
        fmt = self.item.default_format
        tables = list(result.tables)
        with Vertical(id="export-box"):
            yield Static(Text(result.title), id="export-title")
            with Horizontal(classes="export-row"):
                yield Label("Format", classes="export-label")
                yield Select([(DESCRIPTIONS[f], f) for f in EXTENSIONS], value=fmt, allow_blank=False,
                             id="export-format")
            with Horizontal(classes="export-row", id="export-table-row"):
                yield Label("Table", classes="export-label")
                yield Select([(f"{name} ({result.tables[name].height:,} rows)", name) for name in tables],
                             value=self.item.table or tables[0], allow_blank=False, id="export-table")
            with Horizontal(classes="export-row"):
                yield Label("File", classes="export-label")
                path = free_path(self.folder / f"{self.item.stem}{EXTENSIONS[fmt]}")
                yield Input(str(path), id="export-path", select_on_focus=False)
            yield Checkbox("Shareable: hash ids, drop names/emails/phones, blank small counts",
                           id="export-pseudonymise")
            yield Static(HINT, id="export-message")
            with Horizontal(id="export-buttons"):
                yield Button("Export", variant="primary", id="export-go")
                yield Button("Cancel", id="export-cancel")
            with Horizontal(id="export-confirm"):
                yield Button("Overwrite", variant="error", id="export-overwrite")
                yield Button("Choose another name", variant="primary", id="export-rename")

    def on_mount(self) -> None:
        self.query_one("#export-box").border_title = "Export"
        self.query_one("#export-confirm").display = False
        self.show_table_choice()
        self.query_one("#export-path", Input).focus()

    # -- the form -------------------------------------------------------------------

    @property
    def fmt(self) -> str:
        return str(self.query_one("#export-format", Select).value)

    @property
    def table(self) -> str:
        return str(self.query_one("#export-table", Select).value)

    def target(self) -> Path:
        text = self.query_one("#export-path", Input).value.strip()
        path = Path(text).expanduser() if text else self.folder / self.item.stem
        if not path.is_absolute():
            path = self.folder / path
        return path if format_of(path) else with_format(path, self.fmt)

    def show_table_choice(self) -> None:
        several = len(self.item.result.tables) > 1
        self.query_one("#export-table-row").display = several and self.fmt in TABLE_FORMATS

    def say(self, text: str, kind: str = "") -> None:
        message = self.query_one("#export-message", Static)
        message.update(Text(text))
        message.set_classes(kind)

    @on(Select.Changed, "#export-format")
    def format_changed(self, event: Select.Changed) -> None:
        path_input = self.query_one("#export-path", Input)
        path = Path(path_input.value.strip() or self.item.stem)
        path_input.value = str(with_format(path, str(event.value)))
        self.show_table_choice()
        self.ask_nothing()

    @on(Input.Changed, "#export-path")
    def path_changed(self, event: Input.Changed) -> None:
        fmt = format_of(Path(event.value.strip()))
        select = self.query_one("#export-format", Select)
        if fmt and fmt != select.value:
            select.value = fmt  # the extension typed decides the format
        if self.confirming is not None:
            self.ask_nothing()

    def ask_nothing(self) -> None:
        self.confirming = None
        self.query_one("#export-confirm").display = False
        self.query_one("#export-buttons").display = True
        self.say(HINT)

    def ask_overwrite(self, path: Path) -> None:
        self.confirming = path
        self.query_one("#export-buttons").display = False
        self.query_one("#export-confirm").display = True
        self.say(f"{path} already exists. Overwrite it, or choose another name?", "-warning")
        self.query_one("#export-rename", Button).focus()

    # -- actions --------------------------------------------------------------------

    @on(Input.Submitted, "#export-path")
    @on(Button.Pressed, "#export-go")
    def export(self) -> None:
        if self.writing:
            return
        path = self.target()
        if path.exists() and not path.is_dir():
            self.ask_overwrite(path)
            return
        self.write(path, force=False)

    @on(Button.Pressed, "#export-overwrite")
    def overwrite(self) -> None:
        if self.confirming is not None and not self.writing:
            self.write(self.confirming, force=True)

    @on(Button.Pressed, "#export-rename")
    def rename(self) -> None:
        path = free_path(self.confirming or self.target())
        path_input = self.query_one("#export-path", Input)
        path_input.value = str(path)
        self.ask_nothing()
        path_input.focus()
        path_input.cursor_position = len(path_input.value) - len(path.suffix)
        self.say(f"Proposed a free name; Enter exports to {path.name}.")

    @on(Button.Pressed, "#export-cancel")
    def action_cancel(self) -> None:
        if self.writing:
            self.say("Writing… a file being written is finished rather than left half-written.",
                     "-busy")
            return
        self.dismiss(None)

    def write(self, path: Path, *, force: bool) -> None:
        self.writing = True
        self.say(f"Writing {path}…", "-busy")
        shareable = self.query_one("#export-pseudonymise", Checkbox).value
        self._write(path, self.fmt, self.table if self.fmt in TABLE_FORMATS else None, force, shareable)

    @work(thread=True, exclusive=True, group="export", exit_on_error=False)
    def _write(self, path: Path, fmt: str, table: str | None, force: bool, shareable: bool = False) -> None:
        try:
            result = self.item.result
            if shareable:
                from core.privacy import pseudonymise

                result = pseudonymise(result, self._key)
            written = write_result(result, path, force=force, fmt=fmt, table=table)
        except Exception as exc:  # shown in the dialog, never a crash
            self.post_message(_WriteFailed(path, describe_error(exc), path.exists() and not force))
            return
        self.post_message(_Written(written))

    def _key(self) -> bytes:
        from core.errors import InputError
        from core.privacy import load_or_create_key

        if self.workspace_root is None:
            raise InputError("no workspace is open to keep the pseudonym key in", fix="open a workspace first")
        return load_or_create_key(self.workspace_root)

    @on(_Written)
    def written(self, message: _Written) -> None:
        self.writing = False
        path = message.path.resolve()
        self.app.post_message(Exported(path, self.item.result.title))
        self.app.notify(str(path), title="Exported", timeout=8, markup=False)
        self.dismiss(path)

    @on(_WriteFailed)
    def failed(self, message: _WriteFailed) -> None:
        self.writing = False
        if message.exists:
            self.ask_overwrite(message.path)
            return
        self.ask_nothing()
        self.say(message.error, "-error")
