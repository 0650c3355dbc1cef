"""One analysis command's run, from its parsed values to its printout, without Typer: the
Typer commands (commands.analysis) and the direct path (commands.direct) both end here."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from commands.enums import OutputFormat
from core.registry import LIST, Analysis, Option, get

if TYPE_CHECKING:
    import inspect

    from core.result import Result
    from core.workspace import Workspace

# The options every analysis command shares (their flags: commands.options, commands.direct).
SHARED = ("workspace", "skip_invalid", "fmt", "output", "force", "file_format", "pseudonymise", "min_count")


@dataclass
class Call:
    """One command as given: the registry options, the Extra's own flags and the workspace."""

    analysis: Analysis
    options: dict[str, Any]  # registry options by name; None = not given
    extra: dict[str, Any]
    workspace_path: Path | None
    skip_invalid: bool = False
    ran: Analysis | None = None  # the analysis that produced the result
    _workspace: Workspace | None = None

    @property
    def workspace(self) -> Workspace:
        if self._workspace is None:
            self._workspace = open_workspace(self.workspace_path)
            self._workspace.skip_invalid = self.skip_invalid
        return self._workspace

    def run(self, kind: str | None = None, options: Mapping[str, Any] | None = None) -> Result:
        from core.registry import run_analysis

        self.ran = get(kind) if kind else self.analysis
        ws = self.workspace if self.ran.needs or self.ran.uses or self.ran.takes != "nothing" else None
        return run_analysis(self.ran.kind, ws, self.options if options is None else options)


@dataclass(frozen=True)
class Extra:
    """What one analysis command has beyond its registry options."""

    params: tuple[inspect.Parameter, ...] = ()  # more flags (keyword-only parameters with typer.Option)
    optional: tuple[str, ...] = ()  # required registry options another flag can stand in for
    run: Callable[[Call], Result | None] | None = None  # a Result replaces the usual run; None: run as usual
    after: Callable[[Result], None] | None = None  # e.g. exit 2 when validation found errors
    borrow: str | None = None  # another kind whose options become flags here too (all optional)
    borrow_prefix: str = ""  # put before their help, e.g. "--plan: "


def open_workspace(path: Path | str | None) -> Workspace:
    """Open a workspace and say on stderr what the user must know first (a stale converted copy)."""
    from rich.markup import escape

    from commands.output import stderr
    from core.workspace import Workspace

    ws = Workspace.open(path, lazy=True)  # a table is read when the command uses it
    for notice in ws.notices:
        stderr.print(f"[yellow]note:[/yellow] {escape(notice)}", highlight=False)
    return ws


def run_command(analysis: Analysis, extra: Extra, values: dict[str, Any]) -> None:
    """Run one analysis command from its parsed values (shared options, registry options by
    name, the Extra's flags) and print or write its result. Its modules are imported already
    (commands.output): callers import them under commands.heap.importing."""
    from commands.output import check_output, emit

    shared = {name: values.pop(name) for name in SHARED if name in values}
    output, force = shared.get("output"), bool(shared.get("force"))
    check_output(output, force)  # an unwritable --output fails before any work
    options = {o.name: cli_value(o, values.pop(o.name)) for o in analysis.options if o.cli}
    call = Call(analysis, options, values, shared.get("workspace"), bool(shared.get("skip_invalid")))
    result = extra.run(call) if extra.run else None
    if result is None:
        result = call.run()
    ran = call.ran or analysis
    if shared.get("pseudonymise"):
        result = pseudonymised(result, call, shared.get("min_count", 10))
    emit(result, shared.get("fmt", OutputFormat.table), output=output, force=force, hide=ran.per_customer,
         hide_on_terminal=ran.long, file_format=shared.get("file_format"))
    if extra.after:
        extra.after(result)


def cli_value(option: Option, value: Any) -> Any:
    """Typer's value as the registry takes it (it checks and converts the rest)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if option.type == LIST and isinstance(value, list) and not value:
        return None
    return value


def pseudonymised(result: Result, call: Call, min_count: int) -> Result:
    """--pseudonymise: the result made shareable before anything is printed or written
    (core.privacy); the key is the workspace's, made on first use."""
    from core.privacy import load_or_create_key, pseudonymise

    return pseudonymise(result, lambda: load_or_create_key(call.workspace.root), min_count)
