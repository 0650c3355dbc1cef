"""The Report dialog: the results collected with "Add to report" (key +), written into one
HTML report, XLSX workbook or Markdown file (core.export.write_bundle), or saved as a recipe
that reruns them: `loyalist export run monthly.toml --as-of 2026-01-31`.

The report can be titled and a section left out (delete removes the highlighted one). The
recipe is saved beside the report, with the same name ending in .toml. Writing happens in
a thread worker; an existing file is never replaced without asking.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, OptionList, Select, Static
from textual.widgets.option_list import Option

from tui.export import Pack, format_of, free_path, with_format
from tui.messages import Exported
from tui.state import describe_error

FORMATS = {"html": "HTML report", "xlsx": "Excel workbook", "md": "Markdown", "json": "JSON"}
HINT = "Enter writes the report · Save recipe writes a TOML file to rerun it · Delete removes a section"


@dataclass(eq=False)
class _Written(Message):
    path: Path
    what: str  # "report" | "recipe"


@dataclass(eq=False)
class _WriteFailed(Message):
    path: Path
    what: str
    error: str
    exists: bool


class PackDialog(ModalScreen[Path | None]):
    BINDINGS: ClassVar = [Binding("escape", "cancel", "Cancel"),
                          Binding("delete", "remove_section", "Remove section", show=False)]

    def __init__(self, pack: Pack, folder: Path, workspace: Any = None) -> None:
        super().__init__()
        self.pack = pack
        self.folder = folder
        self.workspace = workspace
        self.writing = False
        self.confirming: tuple[Path, str] | None = None  # (existing file, "report" | "recipe")

    def compose(self) -> ComposeResult:
        with Vertical(id="pack-box", classes="dialog"):
            with Horizontal(classes="export-row"):
                yield Label("Title", classes="export-label")
                yield Input(self.pack.title, id="pack-title")
            yield OptionList(*self.section_options(), id="pack-sections")
            with Horizontal(classes="export-row"):
                yield Label("Format", classes="export-label")
                yield Select([(label, fmt) for fmt, label in FORMATS.items()], value="html", allow_blank=False,
                             id="pack-format")
            with Horizontal(classes="export-row"):
                yield Label("File", classes="export-label")
                yield Input(str(free_path(self.folder / "loyalist-report.html")), id="pack-path",
                            select_on_focus=False)
            yield Checkbox("Shareable: hash ids, drop names/emails/phones, blank small counts", id="pack-pseudonymise")
            yield Static(HINT, id="pack-message")
            with Horizontal(id="pack-buttons", classes="dialog-buttons"):
                yield Button("Export", variant="primary", id="pack-go")
                yield Button("Save recipe", id="pack-recipe")
                yield Button("Cancel", id="pack-cancel")
            with Horizontal(id="pack-confirm", classes="dialog-buttons"):
                yield Button("Overwrite", variant="error", id="pack-overwrite")
                yield Button("Choose another name", variant="primary", id="pack-rename")

    def on_mount(self) -> None:
        box = self.query_one("#pack-box")
        box.border_title = "Report"
        self.query_one("#pack-confirm").display = False
        self.update_subtitle()
        self.query_one("#pack-path", Input).focus()

    def section_options(self) -> list[Option]:
        options = []
        for i, item in enumerate(self.pack.items, 1):
            text = Text(f"{i}. {item.result.title}")
            text.append(f"  {item.result.name}" if item.step else "  (not in a recipe: it cannot be rerun)",
                        "dim")
            options.append(Option(text, id=str(i - 1)))
        return options

    def update_subtitle(self) -> None:
        n = len(self.pack.items)
        self.query_one("#pack-box").border_subtitle = f"{n} section{'s' if n != 1 else ''}"

    # -- the form -------------------------------------------------------------------

    @property
    def fmt(self) -> str:
        return str(self.query_one("#pack-format", Select).value)

    def target(self) -> Path:
        text = self.query_one("#pack-path", Input).value.strip()
        path = Path(text).expanduser() if text else self.folder / "loyalist-report"
        if not path.is_absolute():
            path = self.folder / path
        return path if format_of(path) in FORMATS else with_format(path, self.fmt)

    def recipe_target(self) -> Path:
        return self.target().with_suffix(".toml")

    def say(self, text: str, kind: str = "") -> None:
        message = self.query_one("#pack-message", Static)
        message.update(Text(text))
        message.set_classes(kind)

    @on(Select.Changed, "#pack-format")
    def format_changed(self, event: Select.Changed) -> None:
        path_input = self.query_one("#pack-path", Input)
        path_input.value = str(with_format(Path(path_input.value.strip() or "loyalist-report"), str(event.value)))
        self.ask_nothing()

    @on(Input.Changed, "#pack-path")
    def path_changed(self, event: Input.Changed) -> None:
        fmt = format_of(Path(event.value.strip()))
        select = self.query_one("#pack-format", Select)
        if fmt in FORMATS and fmt != select.value:
            select.value = fmt
        if self.confirming is not None:
            self.ask_nothing()

    @on(Input.Changed, "#pack-title")
    def title_changed(self, event: Input.Changed) -> None:
        self.pack.title = event.value.strip() or "Loyalist report"

    def ask_nothing(self) -> None:
        self.confirming = None
        self.query_one("#pack-confirm").display = False
        self.query_one("#pack-buttons").display = True
        self.say(HINT)

    def ask_overwrite(self, path: Path, what: str) -> None:
        self.confirming = (path, what)
        self.query_one("#pack-buttons").display = False
        self.query_one("#pack-confirm").display = True
        self.say(f"{path} already exists. Overwrite it, or choose another name?", "-warning")
        self.query_one("#pack-rename", Button).focus()

    # -- actions --------------------------------------------------------------------

    def action_remove_section(self) -> None:
        sections = self.query_one("#pack-sections", OptionList)
        if sections.highlighted is None or not self.pack.items:
            return
        removed = self.pack.items.pop(sections.highlighted)
        self.pack.unwritten = True
        sections.clear_options()
        sections.add_options(self.section_options())
        self.update_subtitle()
        self.say(f"Removed {removed.result.title}.")
        if not self.pack.items:
            self.dismiss(None)

    @on(Input.Submitted, "#pack-path")
    @on(Button.Pressed, "#pack-go")
    def export(self) -> None:
        self.start(self.target(), "report")

    @on(Button.Pressed, "#pack-recipe")
    def save_recipe(self) -> None:
        self.start(self.recipe_target(), "recipe")

    def start(self, path: Path, what: str) -> None:
        if self.writing:
            return
        if path.exists() and not path.is_dir():
            self.ask_overwrite(path, what)
            return
        self.write(path, what, force=False)

    @on(Button.Pressed, "#pack-overwrite")
    def overwrite(self) -> None:
        if self.confirming is not None and not self.writing:
            self.write(*self.confirming, force=True)

    @on(Button.Pressed, "#pack-rename")
    def rename(self) -> None:
        path, what = self.confirming or (self.target(), "report")
        free = free_path(path)
        path_input = self.query_one("#pack-path", Input)
        path_input.value = str(free.with_suffix(self.target().suffix) if what == "recipe" else free)
        self.ask_nothing()
        path_input.focus()
        self.say(f"Proposed a free name: {free.name}.")

    @on(Button.Pressed, "#pack-cancel")
    def action_cancel(self) -> None:
        if self.writing:
            self.say("Writing… a file being written is finished rather than left half-written.", "-busy")
            return
        self.dismiss(None)

    def write(self, path: Path, what: str, *, force: bool) -> None:
        self.writing = True
        self.say(f"Writing {path}…", "-busy")
        # Everything the worker needs is read here, on the UI thread.
        shareable = self.query_one("#pack-pseudonymise", Checkbox).value
        self._write(path, what, self.fmt, force, list(self.pack.items), self.pack.title, self.target().name,
                    shareable)

    @work(thread=True, exclusive=True, group="pack", exit_on_error=False)
    def _write(self, path: Path, what: str, fmt: str, force: bool, items: list, title: str, report: str,
               shareable: bool = False) -> None:
        try:
            if what == "report":
                from core.export import write_bundle

                results = [i.result for i in items]
                if shareable:  # one key for every section, so they join (core.privacy)
                    from functools import cache

                    from core.privacy import pseudonymise

                    key = cache(self._key)
                    results = [pseudonymise(r, key) for r in results]
                written = write_bundle(results, path, title=title, fmt=fmt, force=force)
            else:
                written = self._write_recipe(path, items, title, report, force, shareable)
        except Exception as exc:  # shown in the dialog, never a crash
            self.post_message(_WriteFailed(path, what, describe_error(exc), path.exists() and not force))
            return
        self.post_message(_Written(written, what))

    def _key(self) -> bytes:
        from core.errors import InputError
        from core.privacy import load_or_create_key

        if self.workspace is None:
            raise InputError("no workspace is open to keep the pseudonym key in", fix="open a workspace first")
        return load_or_create_key(Path(self.workspace.root))

    def _write_recipe(self, path: Path, items: list, title: str, report: str, force: bool,
                      shareable: bool = False) -> Path:
        """The recipe beside the report: its output is the report's name, its workspace this one."""
        from core.errors import InputError
        from core.export import safe_write
        from core.export.recipe import recipe_text

        steps = [i.step for i in items if i.step is not None]
        if not steps:
            raise InputError("none of these sections can be rerun from a recipe",
                             fix="add results from the Reports or Segments screens")
        workspace = None
        if self.workspace is not None:
            workspace = os.path.relpath(Path(self.workspace.root).resolve(), path.parent.resolve())
        text = recipe_text(title, steps, output=report, workspace=workspace)
        if shareable:  # top-level settings go before the first [table]
            text = "pseudonymise = true  # a shareable report (loyalist export run --pseudonymise)\n" + text
        return safe_write(path, lambda p: p.write_text(text, encoding="utf-8"), force=force)

    @on(_Written)
    def written(self, message: _Written) -> None:
        self.writing = False
        self.pack.unwritten = False  # the report, or a recipe that reruns it
        path = message.path.resolve()
        if message.what == "recipe":
            skipped = [i.result.title for i in self.pack.items if i.step is None]
            note = f" (left out, they cannot be rerun: {', '.join(skipped)})" if skipped else ""
            self.ask_nothing()
            self.say(f"Saved {path}{note}. Next time: loyalist export run {path.name} --as-of YYYY-MM-DD", "")
            self.app.notify(f"{path}{note}", title="Recipe saved", timeout=8, markup=False)
            return
        self.app.post_message(Exported(path, self.pack.title))
        self.app.notify(str(path), title="Report written", timeout=8, markup=False)
        self.dismiss(path)

    @on(_WriteFailed)
    def failed(self, message: _WriteFailed) -> None:
        self.writing = False
        if message.exists:
            self.ask_overwrite(message.path, message.what)
            return
        self.ask_nothing()
        self.say(message.error, "-error")
