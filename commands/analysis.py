"""The analysis commands, made from the registry (core.registry): one command per analysis,
one flag per option, and the options every analysis command shares.

A group module (commands/segment.py, ...) calls `add_analysis_commands(app, "segment")`;
behaviour only the CLI has (`report experiment --plan`, `scale check --data`, the exit
code of `data validate`) is an `Extra` for that kind: more flags, and a run that replaces
or follows the usual one. Nothing here imports Polars or the analyses: building `--help`
stays light; the work is imported when a command runs.
"""

from __future__ import annotations

import datetime as dt
import inspect
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import typer

from commands.calls import SHARED, Extra, run_command
from commands.lean_parse import lean_command
from commands.options import (FileFormatOpt, ForceOpt, FormatOpt, MinCountOpt, OutputFormat, OutputOpt,
                              PseudonymiseOpt, SkipInvalidOpt, WorkspaceOpt)
from core.registry import (BOOL, CHOICE, DATE, FLOAT, INT, LIST, PAIRS, PATH, TABLE, TEXT, Analysis, Option,
                           analyses, get)

KEYWORD = inspect.Parameter.KEYWORD_ONLY
# The options every analysis command takes, as (name, annotation, default); the flags are in commands.options.
SHARED_BEFORE = (("workspace", WorkspaceOpt, None), ("skip_invalid", SkipInvalidOpt, False))
SHARED_AFTER = (("fmt", FormatOpt, OutputFormat.table), ("output", OutputOpt, None), ("force", ForceOpt, False),
                ("file_format", FileFormatOpt, None), ("pseudonymise", PseudonymiseOpt, False),
                ("min_count", MinCountOpt, 10))
assert set(SHARED) == {name for name, _, _ in (*SHARED_BEFORE, *SHARED_AFTER)}


# Every Extra given to a command, by kind: commands.direct leaves these commands to Typer
# (tests/commands/test_direct.py checks its list against this one).
EXTRAS: dict[str, Extra] = {}
# group -> the one command of it the command line runs (commands.app.command_line sets it before
# the group is made): only that command is made with its options, for Typer resolves every
# option's type as it builds a command; the group's others are listed with their help and never
# run. A group not here (tests and tools walking commands.app.app) has every command made.
RUNS: dict[str, str] = {}


def _listed_only() -> None:
    """A command of the group that the command line does not run (RUNS): listed, never run."""
    raise RuntimeError("a command made only to be listed was run")


def add_analysis_commands(app: typer.Typer, group: str, extras: Mapping[str, Extra] | None = None) -> None:
    """One command per analysis of the group that has one (Analysis.cli_name)."""
    extras = extras or {}
    EXTRAS.update(extras)
    runs = RUNS.get(group)
    for analysis in analyses(group):
        if analysis.cli_name and runs is not None and analysis.cli_name != runs:
            app.command(analysis.cli_name, help=command_help(analysis), short_help=analysis.description)(_listed_only)
        elif analysis.cli_name:
            command = make_command(analysis, extras.get(analysis.kind, Extra()))
            app.command(analysis.cli_name, help=command_help(analysis), short_help=analysis.description,
                        cls=lean_command())(command)


def make_command(analysis: Analysis, extra: Extra) -> Callable[..., None]:
    params = [inspect.Parameter("ctx", KEYWORD, annotation=typer.Context)]
    params += [inspect.Parameter(n, KEYWORD, annotation=a, default=d) for n, a, d in SHARED_BEFORE]
    params += [option_parameter(o, relaxed=o.name in extra.optional) for o in analysis.options if o.cli]
    params += list(extra.params)
    if extra.borrow:
        params += [option_parameter(o, relaxed=True, prefix=extra.borrow_prefix) for o in get(extra.borrow).options
                   if o.cli]
    params += [inspect.Parameter(n, KEYWORD, annotation=a, default=d) for n, a, d in SHARED_AFTER]

    def command(**values: Any) -> None:
        invoke(analysis, extra, values)

    command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    command.__name__ = analysis.cli_name
    command.__doc__ = command_help(analysis)
    return command


def command_help(analysis: Analysis) -> str:
    text = analysis.description + "."
    if analysis.details:
        text += "\n\n" + analysis.details
    return text


def cli_help(option: Option, prefix: str = "") -> str:
    """The registry's help for the command line (after `prefix`, e.g. "--plan: ")."""
    text = option.described()
    return prefix + (text[:1].lower() + text[1:] if prefix else text)


def option_parameter(option: Option, *, relaxed: bool = False, prefix: str = "") -> inspect.Parameter:
    """The Typer parameter of a registry option: its type, flags, bounds, default and help."""
    base: Any = {INT: int, FLOAT: float, BOOL: bool, TEXT: str, DATE: dt.datetime, PAIRS: str, PATH: Path,
                 TABLE: Path}.get(option.type)
    if option.type == CHOICE:
        base = Literal[option.choices]  # type: ignore[valid-type]
    elif option.type == LIST:
        base = list[str] if option.repeat else str
    kwargs: dict[str, Any] = {"help": cli_help(option, prefix)}
    if option.low is not None:
        kwargs["min"] = option.low
    if option.high is not None:
        kwargs["max"] = option.high
    if option.type == DATE:
        kwargs["formats"] = ["%Y-%m-%d"]
    decls = option.flags or (() if option.type == BOOL else (option.flag,))
    required = option.required and not relaxed
    nullable = option.default is None and not required
    annotation = Annotated[base | None if nullable else base, typer.Option(*decls, **kwargs)]
    default = inspect.Parameter.empty if required else option.default
    return inspect.Parameter(option.name, KEYWORD, annotation=annotation, default=default)


def working(ctx: typer.Context) -> None:
    """A spinner on stderr (on a terminal) until the command ends: call it once the options are parsed."""
    from commands.output import start_busy, stop_busy

    names = [c.info_name for c in _chain(ctx)]
    start_busy(f"{' '.join(n for n in names if n) or 'loyalist'}: working…")
    ctx.call_on_close(stop_busy)


def _chain(ctx: Any) -> list[Any]:
    out = []
    while ctx is not None:
        out.insert(0, ctx)
        ctx = ctx.parent
    return out


def invoke(analysis: Analysis, extra: Extra, values: dict[str, Any]) -> None:
    from commands import heap

    with heap.importing():  # Polars, Rich and the exporters: nothing to collect while they load
        import commands.output  # noqa: F401

    working(values.pop("ctx"))
    run_command(analysis, extra, values)
