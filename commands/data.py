"""`loyalist data inspect|validate|convert`: what a workspace holds and what is wrong with it.

inspect and validate are made from the registry (core.registry, commands/analysis.py);
convert writes files rather than reporting, so it is written out here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from commands.analysis import add_analysis_commands, working
from commands.calls import Extra, open_workspace
from commands.options import ExitCode, ForceOpt, FormatOpt, OutputFormat, WorkspaceOpt

app = typer.Typer(no_args_is_help=True)


def _say_errors(texts: list[str]) -> None:
    """Unreadable tables' errors in full on stderr, as any error that ends a command is said."""
    from commands.output import literal, stderr

    for text in texts:
        stderr.print(f"[bold red]error:[/bold red] {literal(text)}", highlight=False)


def _exit_on_errors(result) -> None:
    # an unreadable table's other findings could not be had: its error is said in full
    _say_errors([f"{f['message']}{f' (rows {rows})' if (rows := f['rows']) else ''}. Fix: {f['fix']}"
                 for f in result.tables["findings"].filter(rule="unreadable_table").iter_rows(named=True)])
    if result.headline["errors"]:
        raise typer.Exit(ExitCode.BAD_INPUT)


def _exit_on_unreadable(result) -> None:
    """`data inspect` lists every table it could read; one it could not is still an error
    (exit 2)."""
    from core.inspect import UNREADABLE

    said = [note.removeprefix(UNREADABLE) for note in result.tables["tables"]["notes"].to_list()
            if note and note.startswith(UNREADABLE)]
    _say_errors(said)
    if said:
        raise typer.Exit(ExitCode.BAD_INPUT)


add_analysis_commands(app, "data", {"data.validate": Extra(after=_exit_on_errors),
                                    "data.inspect": Extra(after=_exit_on_unreadable)})


@app.command("convert")
def convert(
    ctx: typer.Context,
    workspace: WorkspaceOpt = None,
    out: Annotated[Path | None, typer.Option(help="Folder for the Parquet files (default: beside the sources)")] = None,
    fmt: FormatOpt = OutputFormat.table,
    force: ForceOpt = False,
) -> None:
    """Write each table once as Parquet (canonical names and dtypes) so later runs load fast."""
    from commands.output import emit
    from core.convert import convert_to_parquet

    working(ctx)

    result = convert_to_parquet(open_workspace(workspace), out, force=force)
    emit(result, fmt)
    if result.headline["refused"]:  # the others were converted; these need fixing first
        raise typer.Exit(ExitCode.BAD_INPUT)
