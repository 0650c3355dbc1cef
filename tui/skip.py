"""Skipping a table's invalid rows from the app, under the CLI's policy (core.invalid).

When rows breaking an error rule stop an analysis (core.invalid.InvalidRowsError), the
message names the file, column and rows, and offers S: "Skip invalid rows of <table>"; so
does a report whose notes say a table it only uses was left out for its errors.
S shows the change to loyalist.toml (`on_invalid = "skip"` under [tables.<table>], written
with tomlkit by core.mapping_edit, so comments and other keys stay), asks, writes it in one
step, and opens the workspace again; the screen then runs what stopped again, and its
result counts the rows left out in a note, as `loyalist ...` would.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from core.contract import TABLE_NAMES
from core.errors import InputError, LoyalistError
from core.invalid import WARNINGS_ADVICE, InvalidRowsError, left_out_advice

if TYPE_CHECKING:
    from textual.app import App

    from core.workspace import Workspace

KEY = "S"
CLI_ADVICE = "run `loyalist data validate`"


def skippable(exc: BaseException) -> str | None:
    """The table whose invalid rows stopped the work, when leaving them out would let it run."""
    return exc.table if isinstance(exc, InvalidRowsError) else None


def app_text(exc: InvalidRowsError) -> str:
    """The error as the app says it: the fix names the app's key, not a CLI flag."""
    fix = (f"{exc.fix}; or press {KEY} to skip the invalid rows of {exc.table} "
           f"(writes on_invalid = \"skip\" into loyalist.toml) and run again")
    message = exc.message.replace(CLI_ADVICE, "the Data screen lists them")
    return InputError(message, file=exc.file, column=exc.column, rows=exc.rows, fix=fix).describe()


def left_out(notes: tuple[str, ...]) -> str | None:
    """The first table a result's notes say was left out for its errors (S would use its valid rows)."""
    return next((t for t in TABLE_NAMES if any(left_out_advice(t) in n for n in notes)), None)


def app_note(note: str) -> str:
    """A result's note as the app says it: a left-out table's fix names S, and the checks' warnings
    the Data screen, not the CLI."""
    if WARNINGS_ADVICE in note:
        return note.replace(WARNINGS_ADVICE, "the Data screen's Findings (d, then f) show the rows and fixes")
    for table in TABLE_NAMES:
        advice = left_out_advice(table)
        if advice in note:
            return note.replace(advice, f"Correct them (the Data screen lists them), or press {KEY} to use its "
                                        f"valid rows (writes on_invalid = \"skip\" for {table} into loyalist.toml)")
    return note


def offer_skip(app: App, ws: Workspace, table: str, then: Callable[[], None] | None = None) -> None:
    """Show what writing on_invalid = "skip" for `table` changes in loyalist.toml, ask, write
    it and open the workspace again; `then` (the screen's rerun) follows the write."""
    from core.mapping_edit import config_diff, config_path_of, proposed_on_invalid, write_config
    from tui.state import describe_error
    from tui.widgets.dialogs import AskDialog

    path = config_path_of(ws.root)
    try:
        old, new = proposed_on_invalid(path, table)
    except (LoyalistError, OSError) as exc:
        app.notify(describe_error(exc), title="Not written", severity="error", markup=False)
        return
    if old == new:
        app.notify(f"{path.name} already skips the invalid rows of {table}; opening the workspace again.",
                   markup=False)
        app.open_workspace()
        if then is not None:
            then()
        return

    def answered(answer: str | None) -> None:
        if answer != "write":
            return
        try:
            write_config(path, old, new, reader="the Skip invalid rows dialog")
        except (LoyalistError, OSError) as exc:
            app.notify(describe_error(exc), title="Not written", severity="error", markup=False)
            return
        app.notify(f"Wrote on_invalid = \"skip\" for {table} into {path}; its invalid rows are left out and "
                   "counted in each result's notes.", title="Skip invalid rows", markup=False)
        app.open_workspace()
        if then is not None:
            then()

    text = (f"Leave out the rows of {table} that break an error rule, in every analysis, as the CLI does "
            f"with on_invalid = \"skip\"; each result counts them in its notes.\n\n{config_diff(path, old, new)}")
    app.push_screen(AskDialog(f"Skip invalid rows of {table}?", text,
                              (("write", "Write and run again", "w"), ("cancel", "Cancel", "escape"))), answered)
