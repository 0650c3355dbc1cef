"""The reports a recipe can list: kind -> a function (workspace, options) -> Result.

Each entry says which options it takes and their types, so a recipe is checked in full
before anything runs. Adapters import their analysis inside the function, so listing a
kind costs nothing until it runs. To add a report:

    def _rfm(ws: Workspace, options: dict[str, Any]) -> Result:
        from core.segments.rfm import rfm_segments
        return rfm_segments(ws, as_of=options.get("as_of"), bins=options.get("bins", 5))

    register_report("segment.rfm", _rfm, options={"as_of": dt.date, "bins": int},
                    help="RFM scores and the 10 named segments")

Option names are the command's option names with `_` for `-` (`--as-of` is `as_of`);
types are dt.date, int, float, str, bool or list (a TOML array).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from core.result import Result

if TYPE_CHECKING:
    from core.workspace import Workspace

Runner = Callable[["Workspace", dict[str, Any]], Result]
OPTION_TYPES = (dt.date, int, float, str, bool, list)


@dataclass(frozen=True)
class ReportKind:
    kind: str
    run: Runner
    options: Mapping[str, type] = field(default_factory=dict)
    help: str = ""


REPORT_KINDS: dict[str, ReportKind] = {}


def register_report(kind: str, run: Runner, *, options: Mapping[str, type] | None = None, help: str = "") -> None:
    options = dict(options or {})
    bad = {name: t for name, t in options.items() if t not in OPTION_TYPES}
    if bad:
        raise ValueError(f"{kind}: option types must be one of {OPTION_TYPES}, got {bad}")
    REPORT_KINDS[kind] = ReportKind(kind, run, options, help)


# --- the reports that exist now ---------------------------------------------------------


def _inspect(ws: Workspace, options: dict[str, Any]) -> Result:
    from core.inspect import inspect_workspace

    return inspect_workspace(ws)


def _validate(ws: Workspace, options: dict[str, Any]) -> Result:
    from core.validate import validation_result

    return validation_result(ws, as_of=options.get("as_of"))


register_report("data.inspect", _inspect, help="Tables, files, row counts, date ranges and the column mapping")
register_report("data.validate", _validate, options={"as_of": dt.date},
                help="Errors and warnings per table and column, with the first rows and a fix")
