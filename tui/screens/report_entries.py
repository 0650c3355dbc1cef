"""What the Reports screen lists: the registry's analyses (core.registry) in groups whose
Group.screen is "reports" (evaluation reports and predictions), each with its option fields
and its run, all made from the one declaration the CLI and recipes use too.

Nothing here touches a widget or imports an analysis: `run` is called in a worker and
imports the analysis then.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from core.registry import CHOICE, PATH, TABLE, TEXT, Option, analyses, groups, run_analysis
from core.result import Result
from tui.widgets.options_form import Field

SCREEN = "reports"


@dataclass(frozen=True)
class ReportEntry:
    key: str  # the registry kind, e.g. "report.nps"
    title: str
    group: str  # the group's title: "Reports", "Predict"
    about: str
    needs: tuple[str, ...]
    uses: tuple[str, ...]
    fields: tuple[Field, ...]
    run: Callable[[Any, Mapping[str, Any]], Result]  # (workspace, options) -> Result

    def defaults(self) -> dict[str, Any]:
        return {f.name: f.default for f in self.fields}


def _run(kind: str, ws: Any, options: Mapping[str, Any]) -> Result:
    return run_analysis(kind, ws, options)


def field_of(option: Option) -> Field:
    """The form field of a registry option (paths are typed as text)."""
    kind = TEXT if option.type in (PATH, TABLE) else option.type
    return Field(option.name, kind, option.default, title=option.label, help=option.help,
                 choices=option.choices if option.type == CHOICE else (), optional=option.optional,
                 low=option.low, high=option.high)


def _entries() -> tuple[ReportEntry, ...]:
    shown = {g.name: g.title for g in groups() if g.screen == SCREEN}
    return tuple(
        ReportEntry(a.kind, a.title, shown[a.group], a.description + ".", a.needs, a.uses,
                    tuple(field_of(o) for o in a.options if o.form), partial(_run, a.kind))
        for a in analyses() if a.group in shown
    )


ENTRIES: tuple[ReportEntry, ...] = _entries()
BY_KEY: dict[str, ReportEntry] = {e.key: e for e in ENTRIES}

__all__ = ["BY_KEY", "ENTRIES", "ReportEntry", "field_of"]
