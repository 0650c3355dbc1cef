"""Load typer's help renderer without the two modules Loyalist's help never uses.

typer.rich_utils (what draws `--help` and usage errors) imports rich.markdown and
rich.traceback at its top: markdown_it and pygments come with them, about a third of
`loyalist --help`. Loyalist's help is Rich markup (Typer's default markup mode, never
"markdown") and pretty tracebacks are off, so neither class is used. While
typer.rich_utils loads, those two modules are stand-ins whose one class imports the real
one the first time it is touched, so Typer behaves exactly as before if it ever is.
Typer's maintainers discuss lazy-loading Markdown upstream (fastapi/typer#1128); when
Typer does it itself this module can go.
"""

from __future__ import annotations

import importlib
import sys
import types

from typer.core import TyperGroup

DEFERRED = {"rich.markdown": "Markdown", "rich.traceback": "Traceback"}


class _Deferred(type):
    """A class that stands for module.name: calling it or reading an attribute (e.g.
    Traceback.from_exception) imports the real class and hands over to it."""

    def _real(cls) -> type:
        return getattr(importlib.import_module(cls.__module__), cls.__name__)

    def __call__(cls, *args, **kwargs):
        return cls._real()(*args, **kwargs)

    def __getattr__(cls, name: str):
        return getattr(cls._real(), name)


def load_typer_help() -> None:
    """Import typer.rich_utils with stand-ins for the deferred modules (nothing to do if
    it is loaded already, or if a real one was loaded first: then that one is used)."""
    if "typer.rich_utils" in sys.modules:
        return
    placed = {}
    for module, name in DEFERRED.items():
        if module in sys.modules:
            continue
        stand_in = types.ModuleType(module, "stand-in while typer.rich_utils loads")
        setattr(stand_in, name, _Deferred(name, (), {"__module__": module}))
        sys.modules[module] = placed[module] = stand_in
    try:
        importlib.import_module("typer.rich_utils")
    finally:  # the real modules import normally from here on
        for module, stand_in in placed.items():
            if sys.modules.get(module) is stand_in:
                del sys.modules[module]


class LeanHelpGroup(TyperGroup):
    """A command group whose `--help`, when not given, is False rather than None: Typer
    checks a None through a pydantic TypeAdapter (importing pydantic, ~60 ms) for every
    group on the way to a command, `loyalist segment rfm --help` included; a bool it
    passes through. The help option still prints and exits only when given."""

    def get_help_option(self, ctx):
        option = super().get_help_option(ctx)
        if option is not None and option.default is None:
            option.default = False
        return option
