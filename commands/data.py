"""`loyalist data inspect|validate`: what a workspace holds and what is wrong with it.

This module is the pattern for every command: parse options, open the workspace, call
one function in core that returns a Result, and hand it to commands.output.emit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from commands.options import FileFormatOpt, AsOfOpt, ExitCode, ForceOpt, FormatOpt, OutputFormat, OutputOpt, WorkspaceOpt, as_date
from commands.output import emit
from core.convert import convert_to_parquet
from core.inspect import inspect_workspace
from core.validate import validation_result
from core.workspace import Workspace

app = typer.Typer(no_args_is_help=True)


@app.command("inspect")
def inspect(
    workspace: WorkspaceOpt = None,
    fmt: FormatOpt = OutputFormat.table,
    output: OutputOpt = None,
    force: ForceOpt = False,
    file_format: FileFormatOpt = None,
) -> None:
    """Tables found, files, row counts, date ranges, and each column's mapping and dtype."""
    emit(inspect_workspace(Workspace.open(workspace)), fmt, output, force, file_format=file_format)


@app.command("validate")
def validate(
    workspace: WorkspaceOpt = None,
    as_of: AsOfOpt = None,
    fmt: FormatOpt = OutputFormat.table,
    output: OutputOpt = None,
    force: ForceOpt = False,
    file_format: FileFormatOpt = None,
) -> None:
    """Errors and warnings with table, column, rule, count, first rows and a fix (exit 2 on errors)."""
    result = validation_result(Workspace.open(workspace), as_of=as_date(as_of))
    emit(result, fmt, output, force, file_format=file_format)
    if result.headline["errors"]:
        raise typer.Exit(ExitCode.BAD_INPUT)


@app.command("convert")
def convert(
    workspace: WorkspaceOpt = None,
    out: Annotated[Path | None, typer.Option(help="Folder for the Parquet files (default: beside the sources)")] = None,
    fmt: FormatOpt = OutputFormat.table,
    force: ForceOpt = False,
) -> None:
    """Write each table once as Parquet (canonical names and dtypes) so later runs load fast."""
    emit(convert_to_parquet(Workspace.open(workspace), out, force=force), fmt)
