"""Parse a command's options without loading pydantic when nothing needs it.

Typer 0.29 checks every non-bool parameter through a pydantic TypeAdapter, including
options left at their default and options not given at all (None): the first check
imports pydantic (about 60 ms of CPU) and each adapter takes a little more, a fixed cost
that `segment rfm` on a million rows notices (issue 14). Here each parameter's check is
built only for a value that needs it:

- not given (None) or left at a default that already has the parameter's type (our own
  defaults: OutputFormat.table, 10, "rank"): the value as it is, which is what Typer's
  check returns for them;
- a path (`-w`, `-o`) with no type of its own: Typer's own path check (coerce_cli_path:
  exists, readable, ... as declared), given a Path rather than converting the text with
  pydantic;
- anything else (`--bins 4`, `--as-of 2024-03-01`): Typer's own check, unchanged.

So a value the user typed is checked exactly as Typer checks it, with Typer's messages.
This reaches into Typer's private modules; if they change, `lean_command` returns
Typer's own command class and nothing here is used.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

try:
    from typer._click.core import ParameterSource
    from typer._coercion import RuntimeParam, TypeDescriptor, build_runtime_param
    from typer._param_types import coerce_cli_path
    from typer.core import TyperCommand, _TyperParameter
except ImportError:  # another Typer: its own command class, as before
    RuntimeParam = None


def _has_type(value: Any, annotation: Any) -> bool:
    """A default that already is what Typer's check would make of it."""
    if get_origin(annotation) is Literal:
        return value in get_args(annotation)
    if isinstance(annotation, type) and issubclass(annotation, (Enum, str, Path)):
        return isinstance(value, annotation)
    if annotation in (int, float):  # bool is an int, but never a default of a number option
        return type(value) is annotation
    return False


if RuntimeParam is not None:

    @dataclass(frozen=True)
    class _Deferred(RuntimeParam):
        """A parameter's check, built (with pydantic) only for a value that needs it."""

        descriptor: TypeDescriptor

        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            if ctx.get_parameter_source(param.name) is ParameterSource.DEFAULT and _has_type(value, self.annotation):
                return value
            info = self.parameter_info
            if self.annotation is Path and getattr(info, "path_type", None) is None and isinstance(value, str):
                return coerce_cli_path(Path(value), info, path_type=Path, param=param, ctx=ctx)
            return build_runtime_param(self.descriptor)._coerce_value(value, param=param, ctx=ctx)

    class LeanCommand(TyperCommand):
        """A Typer command whose parameters check their values through _Deferred."""

        def get_help_option(self, ctx: Any) -> Any:
            """--help not given is False, not None, as in commands.lean_help.LeanHelpGroup."""
            option = super().get_help_option(ctx)
            if option is not None and option.default is None:
                option.default = False
            return option

        def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
            for param in self.params:
                if isinstance(param, _TyperParameter) and getattr(param, "_runtime_param", False) is None:
                    desc = param.type_descriptor
                    if desc.file_annotation is None:
                        param._runtime_param = _Deferred(desc.parameter_info, desc.annotation, desc)
            return super().parse_args(ctx, args)


def lean_command() -> type | None:
    """The command class for `app.command(cls=...)`; None: Typer's own."""
    return LeanCommand if RuntimeParam is not None else None
