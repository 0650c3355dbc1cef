"""`loyalist`: the top-level Typer app, its error handling and the command groups."""

from __future__ import annotations

import functools
import importlib
import sys
from pathlib import Path
from typing import Annotated

import typer

from commands import demo, heap
from commands.direct import GROUP_MODULES
from commands.launch import debugging, flush_stdout, say_failure, silence_stdout
from commands.lean_help import LeanHelpGroup, load_typer_help
from core.registry import get, groups

# Commands printing goes through commands.output, imported when a command runs: it loads
# Polars and the exporters, which `loyalist --help` must not pay for.


class LoyalistGroup(LeanHelpGroup):
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
        except Exception as exc:  # known errors: one clear line; a bug: one line, traceback on request
            from commands.output import stop_busy

            stop_busy()
            if _debug(ctx):
                raise
            raise typer.Exit(say_failure(exc)) from None


def _debug(ctx: typer.Context) -> bool:
    return bool(ctx.params.get("debug")) or debugging()


# One command group per registry group: its module adds what the registry cannot say (data
# convert, scale init, report experiment --plan); a group without a module is all registry.
# A group's module is imported, and its commands made, only when the group is mounted.
MODULES = GROUP_MODULES
EXPORT_HELP = "Write several reports into one HTML report or workbook, from a recipe."


def group_help() -> dict[str, str]:
    """Every command group's name and help, in the order shown."""
    return {**{group.name: group.help for group in groups()}, "export": EXPORT_HELP}


@functools.cache
def group_app(name: str) -> typer.Typer:
    """The Typer app of one command group, made on first use."""
    if name in MODULES:
        return importlib.import_module(f"commands.{name}").app
    from commands.analysis import add_analysis_commands

    sub = typer.Typer(no_args_is_help=True)
    add_analysis_commands(sub, name)
    return sub


def _unreached() -> None:
    """Stands in for a one-command group the command line does not run (only listed)."""


def main_callback(
    ctx: typer.Context,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks for errors")] = False,
) -> None:
    """Loyalist: customer segments, loyalty scales and evaluation reports."""
    heap.ready()  # the command's work begins (commands.heap)
    # Each command starts its spinner once its options are parsed (commands.analysis.working),
    # so `--help` and usage errors load nothing.


def tui(
    workspace: Annotated[Path | None, typer.Argument(help="Workspace folder (default: the bundled sample)")] = None,
) -> None:
    """Open the interactive app."""
    from tui.app import LoyalistApp  # imported here so the rest of the CLI starts fast

    app = LoyalistApp(workspace)
    app.run()
    if app.return_code:  # e.g. its terminal went away (tui.hangup)
        raise typer.Exit(app.return_code)


def command_line(only: str | None = None, command: str = "") -> typer.Typer:
    """The `loyalist` app. With `only`, every other group is mounted empty: still listed with
    its help (all that `loyalist --help` shows of it), but its module is not imported and
    Typer does not build its commands, which was most of the start-up of `--help` and of
    every command (each option's type is resolved when the command is built). With `command`
    too, that group's analysis commands but this one are only listed (commands.analysis.RUNS)."""
    if only and command:
        from commands.analysis import RUNS

        RUNS[only] = command
    root = typer.Typer(
        cls=LoyalistGroup,
        name="loyalist",
        help="Customer segments, loyalty scales and evaluation reports, offline in the terminal.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=False,
    )
    singles = {group.name: group.single for group in groups() if group.single}
    for name, text in group_help().items():
        if name in singles:  # a group that is one command: `loyalist alerts`, not `loyalist alerts check`
            if only in (None, name):
                from commands.analysis import command_help, make_command
                from commands.calls import Extra

                one = get(singles[name])
                root.command(name, help=command_help(one), short_help=text)(make_command(one, Extra()))
            else:  # listed only, never reached
                root.command(name, help=text, short_help=text)(_unreached)
            continue
        # A group the command line does not name is never reached: an empty app lists it.
        sub = group_app(name) if only is None or name == only else typer.Typer(no_args_is_help=True)
        root.add_typer(sub, name=name, help=text, cls=LeanHelpGroup)
    root.command("demo")(demo.demo)
    root.callback()(main_callback)
    root.command("tui")(tui)
    return root


def __getattr__(name: str):
    """`commands.app.app`: every group built, for tests and tools that walk the commands;
    made on first use, so the command line (main) does not pay for the groups it does not run."""
    if name == "app":
        globals()["app"] = built = command_line()
        return built
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def first_words(args: list[str]) -> tuple[str, str]:
    """The group and the command of it a command line runs: its first two words that are not
    options (the top level and the groups take no option with a value); "" for none."""
    words = [arg for arg in args if not arg.startswith("-")][:2]
    return words[0] if words else "", words[1] if len(words) > 1 else ""


def main() -> None:
    heap.start()  # no garbage collection while starting up (commands.heap)
    load_typer_help()  # help and usage errors draw without markdown_it and pygments
    try:
        command_line(*first_words(sys.argv[1:]))()
    finally:  # output still buffered after an error exit may meet a closed pipe too
        flush_stdout()
        heap.end()
