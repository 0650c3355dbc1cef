"""`loyalist`: the top-level Typer app, its error handling and the command groups."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from typer.core import TyperGroup

from commands import data, demo, export, predict, report, scale, segment
from commands.analysis import Extra, add_analysis_commands, command_help, make_command
from commands.options import ExitCode
from core.errors import LoyalistError
from core.registry import get, groups

# Commands printing goes through commands.output, imported when a command runs: it loads
# Polars and the exporters, which `loyalist --help` must not pay for.


class LoyalistGroup(TyperGroup):
    """Turns known errors into one clear line on stderr and the documented exit code."""

    def invoke(self, ctx: typer.Context):
        try:
            outcome = super().invoke(ctx)
            sys.stdout.flush()  # a closed pipe shows here, not as noise at interpreter exit
            return outcome
        except (typer.Exit, typer.Abort, typer.TyperException):  # usage errors: Typer's own message
            raise
        except BrokenPipeError:  # `loyalist ... | head` stopped reading: that is not a failure
            silence_stdout()
            raise typer.Exit(0) from None
        except LoyalistError as exc:
            from commands.output import literal, stderr, stop_busy

            stop_busy()
            if _debug(ctx):
                raise
            stderr.print(f"[bold red]error:[/bold red] {literal(exc)}", highlight=False)
            raise typer.Exit(exc.exit_code) from None
        except Exception as exc:  # a bug: say so briefly, traceback on request
            from commands.output import literal, stderr, stop_busy

            stop_busy()
            if _debug(ctx):
                raise
            stderr.print(f"[bold red]internal error:[/bold red] {type(exc).__name__}: {literal(exc)} "
                         "(run with --debug for the traceback)", highlight=False)
            raise typer.Exit(ExitCode.ANALYSIS_FAILED) from None


def silence_stdout() -> None:
    """Point stdout at /dev/null so nothing more is written to the closed pipe (Python docs,
    "Note on SIGPIPE")."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # not a real file (tests capture stdout)
        pass


def _flush_stdout() -> None:
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        silence_stdout()
    except (OSError, ValueError):
        pass


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
# One command group per registry group: its module adds what the registry cannot say (data
# convert, scale init, report experiment --plan); a group without a module is all registry.
MODULES = {"data": data.app, "segment": segment.app, "scale": scale.app, "report": report.app,
           "predict": predict.app}
for _group in groups():
    if _group.single:  # a group that is one command: `loyalist alerts`, not `loyalist alerts check`
        _one = get(_group.single)
        app.command(_group.name, help=command_help(_one), short_help=_group.help)(make_command(_one, Extra()))
        continue
    _sub = MODULES.get(_group.name)
    if _sub is None:
        _sub = typer.Typer(no_args_is_help=True)
        add_analysis_commands(_sub, _group.name)
    app.add_typer(_sub, name=_group.name, help=_group.help)
app.add_typer(export.app, name="export", help="Write several reports into one HTML report or workbook, from a recipe.")
app.command("demo")(demo.demo)


@app.callback()
def main_callback(
    ctx: typer.Context,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks for errors")] = False,
) -> None:
    """Loyalist: customer segments, loyalty scales and evaluation reports."""
    # Each command starts its spinner once its options are parsed (commands.analysis.working),
    # so `--help` and usage errors load nothing.


@app.command("tui")
def tui(
    workspace: Annotated[Path | None, typer.Argument(help="Workspace folder (default: the bundled sample)")] = None,
) -> None:
    """Open the interactive app."""
    from tui.app import LoyalistApp  # imported here so the rest of the CLI starts fast

    LoyalistApp(workspace).run()


def main() -> None:
    try:
        app()
    finally:  # output still buffered after an error exit may meet a closed pipe too
        _flush_stdout()
