"""Export what a screen shows: the protocol screens implement, the app's export action, and
the report being collected ("Add to report", key +; written by the Report dialog, key E).

A screen (or modal) that has something to export defines

    def exportable(self) -> Exportable | None

returning the Result on screen (None while nothing is ready). The app's Export action
(key e, in the palette) asks the active screen, then opens the Export dialog
(tui/screens/export.py), which writes through core.export.write_result, shows the path,
and never replaces a file without asking. "Add to report" puts the same Result into the app's
Pack; the Report dialog (tui/screens/pack.py) writes the pack as one HTML report, workbook or
Markdown file (core.export.write_bundle) and can save it as a recipe to rerun next month.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from core.result import Result

if TYPE_CHECKING:
    from textual.app import App

# every format core.export writes (checked in tests), as the dialog offers them
EXTENSIONS = {"csv": ".csv", "tsv": ".tsv", "parquet": ".parquet", "ndjson": ".ndjson",
              "xlsx": ".xlsx", "html": ".html", "json": ".json", "md": ".md"}
DESCRIPTIONS = {
    "csv": "CSV · one table", "tsv": "TSV · one table", "parquet": "Parquet · one table",
    "ndjson": "NDJSON · one table", "xlsx": "Excel · every table", "html": "HTML report · every table",
    "json": "JSON · every table", "md": "Markdown · every table",
}


@dataclass(frozen=True)
class Exportable:
    """What a screen offers for export."""

    result: Result
    stem: str  # suggested file name without extension, e.g. "rfm-champions"
    table: str | None = None  # the table one-table formats write (default: the result's first)
    fmt: str | None = None  # suggested format (default: csv if there is one table or `table` names
    #                          one, else xlsx)
    step: Any = None  # core.export.recipe.ReportStep that reruns it (default: read from the result)

    @property
    def default_format(self) -> str:
        if self.fmt:
            return self.fmt
        return "csv" if len(self.result.tables) == 1 or self.table else "xlsx"


@runtime_checkable
class ExportSource(Protocol):
    def exportable(self) -> Exportable | None: ...


def file_stem(*parts: str) -> str:
    """A file-name-safe stem: "RFM", "Can't Lose Them" -> "rfm-cant-lose-them" (CJK kept)."""
    text = "-".join(p for p in parts if p).lower()
    text = re.sub(r"[^\w]+", "-", text.replace("'", ""))
    return text.strip("-") or "export"


def format_of(path: Path) -> str | None:
    """The format a path's extension names, or None."""
    from core.export import FORMATS  # imported on first export: the app starts without it

    return FORMATS.get(path.suffix.lower())


def with_format(path: Path, fmt: str) -> Path:
    """`path` ending in `fmt`'s extension (a known other extension is replaced)."""
    if format_of(path) == fmt:
        return path
    base = path.with_suffix("") if format_of(path) else path
    return base.with_name(base.name + EXTENSIONS[fmt])


def free_path(path: Path) -> Path:
    """`path`, or the first of name-2.ext, name-3.ext... that does not exist."""
    if not path.exists():
        return path
    for n in range(2, 10_000):
        candidate = path.with_name(f"{path.stem}-{n}{path.suffix}")
        if not candidate.exists():
            return candidate
    return path


def start_export(app: App) -> None:
    """The Export action: open the dialog for what the active screen shows."""
    from tui.screens.export import ExportDialog

    if isinstance(app.screen, ExportDialog):
        return
    item = _offered(app)
    if item is not None:
        state = getattr(app, "workspace_state", None)
        ws = state.workspace if state is not None else None
        app.push_screen(ExportDialog(item, folder=Path.cwd(), workspace_root=ws.root if ws is not None else None))


@dataclass(frozen=True, eq=False)
class PackItem:
    result: Result
    step: Any  # core.export.recipe.ReportStep, or None: a recipe cannot rerun it (e.g. one customer)


@dataclass(eq=False)
class Pack:
    """The report being collected in the app: results in the order they were added."""

    title: str = "Loyalist report"
    items: list[PackItem] = field(default_factory=list)
    unwritten: bool = False  # sections added or removed since the report (or its recipe) was last written

    def add(self, item: Exportable) -> PackItem | None:
        """Add what a screen offers; None if that very result is already in."""
        if any(i.result is item.result for i in self.items):
            return None
        from core.export.recipe import step_of

        added = PackItem(item.result, item.step if item.step is not None else step_of(item.result))
        self.items.append(added)
        self.unwritten = True
        return added


class PackKeeper:
    """The report being collected, as the app's unsaved work (LoyalistApp.unsaved_keepers): what
    quitting asks about, and what is kept when the terminal goes away, as the screens' work is."""

    def __init__(self, app: App, pack: Pack, workspace: Any = None) -> None:
        self.app, self.pack, self.workspace = app, pack, workspace

    def unsaved_work(self) -> str | None:
        if not (self.pack.items and self.pack.unwritten):
            return None
        n = len(self.pack.items)
        return f"The report being collected ({n} section{'s' if n != 1 else ''}) has not been written."

    def save_work(self, done) -> None:
        """The Report dialog; done(True) once the report is written, done(False) if it is left."""
        from tui.screens.pack import PackDialog

        self.app.push_screen(PackDialog(self.pack, folder=Path.cwd(), workspace=self.workspace),
                             lambda written: done(written is not None))

    def kept_copy(self, folder: Path):
        """(stem, suffix, writer): the collected results as one HTML report."""
        from core.export import write_bundle

        results, title = [i.result for i in self.pack.items], self.pack.title

        def write(path: Path) -> None:
            write_bundle(results, path, title=title, fmt="html", force=True)
        return file_stem(title), ".html", write


def _offered(app: App) -> Exportable | None:
    screen = app.screen
    if not isinstance(screen, ExportSource):
        app.notify("This screen has nothing to export.", severity="warning")
        return None
    item = screen.exportable()
    if item is None:
        app.notify("Nothing to export yet: wait until the results are shown.", severity="warning")
    return item


def add_to_pack(app: App, pack: Pack) -> None:
    """The "Add to report" action: what the active screen shows joins the report."""
    item = _offered(app)
    if item is None:
        return
    added = pack.add(item)
    n = len(pack.items)
    if added is None:
        app.notify(f"{item.result.title} is already in the report ({n} section{'s' if n != 1 else ''}).",
                   markup=False)
        return
    app.notify(f"Added {item.result.title} to the report: {n} section{'s' if n != 1 else ''}. "
               "Press E to write it or save it as a recipe.", title="Add to report", markup=False)


def start_pack_export(app: App, pack: Pack, workspace: Any = None) -> None:
    """The "Export report" action: the Report dialog for the collected results."""
    from tui.screens.pack import PackDialog

    if isinstance(app.screen, PackDialog):
        return
    if not pack.items:
        app.notify("The report is empty: press + on a result to add it.", severity="warning")
        return
    app.push_screen(PackDialog(pack, folder=Path.cwd(), workspace=workspace))
