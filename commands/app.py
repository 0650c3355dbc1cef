"""`loyalist`: the top-level Typer app, its error handling and the command groups."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from typer.core import TyperGroup

from commands import data, demo, export, predict, report, scale, segment
from commands.options import ExitCode
from commands.output import start_busy, stderr, stop_busy
from core.errors import LoyalistError


class LoyalistGroup(TyperGroup):
    """Turns known errors into one clear line on stderr and the documented exit code."""

    def invoke(self, ctx: typer.Context):
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, typer.TyperException):  # usage errors: Typer's own message
            raise
        except LoyalistError as exc:
            stop_busy()
            if _debug(ctx):
                raise
            stderr.print(f"[bold red]error:[/bold red] {escape(str(exc))}", highlight=False)
            raise typer.Exit(exc.exit_code) from None
        except Exception as exc:  # a bug: say so briefly, traceback on request
            stop_busy()
            if _debug(ctx):
                raise
            stderr.print(f"[bold red]internal error:[/bold red] {type(exc).__name__}: {escape(str(exc))} "
                         "(run with --debug for the traceback)", highlight=False)
            raise typer.Exit(ExitCode.ANALYSIS_FAILED) from None


def _debug(ctx: typer.Context) -> bool:
    return bool(ctx.params.get("debug")) or os.environ.get("LOYALIST_DEBUG") == "1"


app = typer.Typer(
    cls=LoyalistGroup,
    name="loyalist",
    help="Customer segments, loyalty scales and evaluation reports, offline in the terminal.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(data.app, name="data", help="Inspect and validate a workspace's tables.")
app.add_typer(segment.app, name="segment", help="RFM, clusters, loyalty quadrants, profiles, migration.")
app.add_typer(scale.app, name="scale", help="Build, check and score loyalty scales.")
app.add_typer(report.app, name="report", help="Evaluation reports: channels, attribution, experiments, ...")
app.add_typer(predict.app, name="predict", help="CLV, churn risk and key drivers.")
app.add_typer(export.app, name="export", help="Write several reports into one HTML report or workbook, from a recipe.")
app.command("demo")(demo.demo)


@app.callback()
def main_callback(
    ctx: typer.Context,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks for errors")] = False,
) -> None:
    """Loyalist: customer segments, loyalty scales and evaluation reports."""
    if ctx.invoked_subcommand not in (None, "tui"):
        start_busy(f"loyalist {ctx.invoked_subcommand}: working…")
        ctx.call_on_close(stop_busy)


@app.command("tui")
def tui(
    workspace: Annotated[Path | None, typer.Argument(help="Workspace folder (default: the bundled sample)")] = None,
) -> None:
    """Open the interactive app."""
    from tui.app import LoyalistApp  # imported here so the rest of the CLI starts fast

    LoyalistApp(workspace).run()


def main() -> None:
    app()
