"""What the registry holds: command groups and analyses, each declared once.

An Analysis names the function that runs it as "module:function" and imports it only
when it runs, so listing analyses (for `--help`, the app's list, recipes) imports no
Polars, scikit-learn or scipy.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from core.registry.options import Option

GIVEN = object()  # When(option): applies when the option has a value (is not None)
TAKES = ("workspace", "tables", "nothing")


@dataclass(frozen=True)
class Group:
    """A command group (`loyalist report ...`): its name, title and help."""

    name: str
    title: str  # e.g. "Reports": the app's heading for the group
    help: str  # one line, for `loyalist --help`
    screen: str | None = None  # the app screen that lists its analyses ("reports"), if any
    single: str | None = None  # the kind the group is, as one command (`loyalist alerts`), if any


@dataclass(frozen=True)
class When:
    """Tables an analysis needs depend on an option: `by = "quadrant"` also needs touchpoints;
    a --paths file stands in for touchpoints and transactions."""

    option: str
    equals: Any = GIVEN  # the value that triggers it (GIVEN: any value but None)
    needs: tuple[str, ...] = ()  # tables added to the needed ones
    drops: tuple[str, ...] = ()  # tables no longer needed

    def applies(self, options: Mapping[str, Any]) -> bool:
        value = options.get(self.option)
        return value is not None if self.equals is GIVEN else value == self.equals


@dataclass(frozen=True)
class Analysis:
    kind: str  # "group.name", e.g. "segment.rfm": the recipe kind and `loyalist segment rfm`
    title: str  # e.g. "RFM segments"
    description: str  # one line: what it tells the analyst
    run: str | Callable[..., Any]  # "module:function" (imported when it runs) or the function
    options: tuple[Option, ...] = ()
    needs: tuple[str, ...] = ("transactions",)  # tables it cannot do without
    uses: tuple[str, ...] = ()  # tables it uses when the workspace has them
    when: tuple[When, ...] = ()
    takes: str = "workspace"  # how it is called: "workspace" fn(ws, **options); "tables"
    #   fn(**{table: LazyFrame}, **options) with the needed and present used tables (and
    #   workspace=<folder> if it takes that); "nothing" fn(**options)
    per_customer: tuple[str, ...] = ()  # tables of one row per customer: not printed on a
    #   terminal or in JSON (--output writes them), last and collapsed in reports
    long: tuple[str, ...] = ()  # long tables: not printed on a terminal, collapsed in reports
    details: str = ""  # more help for `--help`, after the description
    command: str | None = None  # CLI command in its group (default: the kind after the group;
    #                             "" = none of its own, e.g. reached through another's flag)
    noun: str | None = None  # how errors name it: "nps report needs the 'survey' table"

    @property
    def group(self) -> str:
        return self.kind.split(".", 1)[0]

    @property
    def cli_name(self) -> str:
        return self.kind.split(".", 1)[1] if self.command is None else self.command

    @property
    def what(self) -> str:
        return self.noun or self.title

    @property
    def detail_tables(self) -> tuple[str, ...]:
        return (*self.per_customer, *self.long)

    def option(self, name: str) -> Option:
        return next(o for o in self.options if o.name == name)

    def keys(self) -> dict[str, Option]:
        """Every name a recipe or caller may use for an option -> the option."""
        return {key: option for option in self.options for key in option.keys}

    def tables(self, options: Mapping[str, Any]) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(needed, used when present) for these option values."""
        needs, drops = list(self.needs), set()
        for rule in self.when:
            if rule.applies(options):
                needs += [t for t in rule.needs if t not in needs]
                drops |= set(rule.drops)
        needed = tuple(t for t in needs if t not in drops)
        return needed, tuple(t for t in self.uses if t not in needed)

    def runner(self) -> Callable[..., Any]:
        if callable(self.run):
            return self.run
        module, _, name = self.run.partition(":")
        return getattr(importlib.import_module(module), name)


GROUPS: dict[str, Group] = {}
ANALYSES: dict[str, Analysis] = {}


def register_group(group: Group) -> Group:
    GROUPS[group.name] = group
    return group


def register(analysis: Analysis) -> Analysis:
    """Add an analysis; a declaration mistake is a ValueError at import, caught by any test."""
    kind = analysis.kind
    if "." not in kind or analysis.group not in GROUPS:
        raise ValueError(f"{kind}: a kind is group.name with a registered group ({', '.join(GROUPS)})")
    if analysis.takes not in TAKES:
        raise ValueError(f"{kind}: takes must be one of {TAKES}")
    if isinstance(analysis.run, str) and ":" not in analysis.run:
        raise ValueError(f"{kind}: run must be 'module:function'")
    keys: dict[str, str] = {}
    for option in analysis.options:
        for key in option.keys:
            if keys.setdefault(key, option.name) != option.name:
                raise ValueError(f"{kind}: options {keys[key]} and {option.name} both answer to {key!r}")
    for rule in analysis.when:
        if rule.option not in {o.name for o in analysis.options}:
            raise ValueError(f"{kind}: When names an unknown option {rule.option!r}")
    ANALYSES[kind] = analysis
    return analysis


def get(kind: str) -> Analysis:
    from core.errors import InputError

    analysis = ANALYSES.get(kind)
    if analysis is None:
        raise InputError(f"unknown analysis kind {kind!r}",
                         fix=f"use one of {', '.join(ANALYSES)} (`loyalist export kinds` lists them)")
    return analysis


def analyses(group: str | None = None) -> tuple[Analysis, ...]:
    """In registration order (the order of the CLI, the app's lists and `export init`)."""
    return tuple(a for a in ANALYSES.values() if group is None or a.group == group)


def groups() -> tuple[Group, ...]:
    return tuple(GROUPS.values())


def detail_tables(name: str) -> tuple[str, ...]:
    """The tables a result of this kind keeps for the end (one row per customer, long lists)."""
    analysis = ANALYSES.get(name)
    return analysis.detail_tables if analysis else ()
