"""What the app knows about its workspace: still opening, open, or failed to open."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core.errors import InputError, LoyalistError, UnmappedColumnError
from core.workspace import Workspace


@dataclass(frozen=True, eq=False)  # identity equality: a Workspace holds LazyFrames
class WorkspaceState:
    path: Path | None  # as given on the command line; None means the default workspace
    workspace: Workspace | None = None
    error: str | None = None
    first_page: object | None = None  # the first screen's first data, read with the opening (ScreenSpec.prefetch)

    @property
    def opening(self) -> bool:
        return self.workspace is None and self.error is None

    @property
    def label(self) -> str:
        if self.workspace is not None:
            return self.workspace.name
        return str(self.path) if self.path is not None else "the default workspace"


def mapping_hint(state: WorkspaceState) -> str:
    """What the app adds to its notice when the editor can help: a table without a required
    column. (A workspace that did not open for its mapping says so in its error already:
    tui.state.describe_error.)"""
    if state.workspace is None:
        return ""
    lacking = [f"{s.table} has no {', '.join(s.missing_required)}" for s in state.workspace.sources.values()
               if s.missing_required]
    return f"{'; '.join(lacking)}. Press M to map the columns." if lacking else ""


def describe_error(exc: BaseException) -> str:
    """One readable line: our own errors already say what, where and how to fix."""
    from tui.skip import app_text, skippable

    if skippable(exc) is not None:  # rows that stopped it: the fix names the app's key
        return app_text(exc)
    if isinstance(exc, UnmappedColumnError):  # the app's mapping editor settles it, not an edit of loyalist.toml
        what = f"the file's column for {exc.canonical}" if exc.canonical else f"the {exc.table} table's columns"
        return InputError(exc.message, file=exc.file, column=exc.column, rows=exc.rows,
                          fix=f"press M (Map columns) and choose {what}").describe()
    if isinstance(exc, LoyalistError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"
