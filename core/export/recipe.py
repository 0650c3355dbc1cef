"""Recipes: a TOML file (data only, never code) listing reports to run into one bundle.

    title = "Monthly loyalty report"
    workspace = "../shop"        # optional, relative to this file; --workspace wins
    output = "monthly.html"      # optional, relative to this file; --output wins

    [defaults]                   # given to every report that takes the option
    as_of = 2024-06-30           # --as-of wins over this and over each report's own

    [[report]]
    kind = "data.inspect"

    [[report]]
    kind = "data.validate"
    title = "Data quality"       # optional: replaces the report's own title
    as_of = 2024-05-31           # any option the kind takes (`loyalist export kinds`)

The whole file is checked (kinds, option names and types) before any report runs.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import InputError, LoyalistError
from core.export.kinds import REPORT_KINDS, ReportKind
from core.result import Result

TOP_KEYS = {"title", "workspace", "output", "defaults", "report"}
STEP_KEYS = {"kind", "title"}


@dataclass(frozen=True)
class ReportStep:
    kind: str
    options: dict[str, Any]  # checked and converted, defaults applied
    title: str | None = None


@dataclass(frozen=True)
class Recipe:
    path: Path
    title: str
    workspace: Path | None
    output: Path | None
    reports: tuple[ReportStep, ...]


def load_recipe(path: str | Path, *, overrides: Mapping[str, Any] | None = None) -> Recipe:
    """Read and check a recipe; `overrides` (e.g. {"as_of": date}) win over the file's options."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise InputError("the recipe file does not exist", file=str(path), fix="check the path") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"is not valid TOML ({exc})", file=str(path),
                         fix="see `loyalist export init` for an example") from None
    except OSError as exc:
        raise InputError(f"cannot be read ({exc.strerror or exc})", file=str(path), fix="check the path") from None
    return parse_recipe(data, path, overrides=overrides)


def parse_recipe(data: Mapping[str, Any], path: Path, *, overrides: Mapping[str, Any] | None = None) -> Recipe:
    fail = _failer(path)
    unknown = set(data) - TOP_KEYS
    if unknown:
        fail(f"unknown setting {', '.join(sorted(unknown))}", f"the settings are {', '.join(sorted(TOP_KEYS))}")
    steps = data.get("report")
    if not isinstance(steps, list) or not steps:
        fail("lists no reports", 'add one or more [[report]] tables with kind = "..."')
    defaults = _normalise(data.get("defaults", {}), fail, "[defaults]")
    forced = _normalise(overrides or {}, fail, "the command line")
    reports = tuple(_step(i, raw, defaults, forced, fail) for i, raw in enumerate(steps, 1))
    base = path.parent
    return Recipe(
        path=path,
        title=_text(data, "title", fail) or path.stem.replace("_", " ").replace("-", " ").capitalize(),
        workspace=base / _text(data, "workspace", fail) if "workspace" in data else None,
        output=base / _text(data, "output", fail) if "output" in data else None,
        reports=reports,
    )


def run_recipe(recipe: Recipe, workspace: Any, *, keep_going: bool = False,
               on_report: Callable[[int, ReportStep], None] | None = None) -> tuple[list[Result], list[str]]:
    """Run every report on one opened workspace; returns the results and the failures.

    With keep_going, a report that fails becomes a section saying why, and the others run.
    """
    results, failures = [], []
    for i, step in enumerate(recipe.reports, 1):
        if on_report is not None:
            on_report(i, step)
        try:
            result = REPORT_KINDS[step.kind].run(workspace, dict(step.options))
        except LoyalistError as exc:
            message = f"report {i} ({step.kind}): {exc}"
            if not keep_going:
                error = LoyalistError(message)
                error.exit_code = exc.exit_code  # bad input stays exit 2, a failed analysis exit 1
                raise error from exc
            failures.append(message)
            results.append(_failed(step, exc, workspace))
            continue
        results.append(_finish(result, step, workspace))
    return results, failures


def _finish(result: Result, step: ReportStep, workspace: Any) -> Result:
    params = dict(result.params)
    params.setdefault("workspace", str(workspace.root))
    changes: dict[str, Any] = {"params": params}
    if step.title:
        changes["title"] = step.title
    return dataclasses.replace(result, **changes)


def _failed(step: ReportStep, exc: Exception, workspace: Any) -> Result:
    return Result(name=step.kind, title=step.title or step.kind, tables={},
                  params={"workspace": str(workspace.root), **step.options},
                  notes=(f"This report could not be produced: {exc}",))


def _failer(path: Path) -> Callable[..., Any]:
    def fail(message: str, fix: str) -> None:
        raise InputError(message, file=str(path), fix=fix)
    return fail


def _text(data: Mapping[str, Any], key: str, fail: Callable[..., Any], where: str = "") -> str | None:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        fail(f"{where}{key} must be text in quotes, got {value!r}", f'write {key} = "..."')
    return value


def _normalise(options: Any, fail: Callable[..., Any], where: str) -> dict[str, Any]:
    if not isinstance(options, Mapping):
        fail(f"{where} must be a table of options", "write [defaults] on its own line, then name = value lines")
    return {str(k).replace("-", "_"): v for k, v in options.items()}


def _step(i: int, raw: Any, defaults: dict[str, Any], forced: dict[str, Any], fail: Callable[..., Any]) -> ReportStep:
    where = f"report {i}: "
    if not isinstance(raw, Mapping):
        fail(f"{where}must be a [[report]] table", 'write [[report]] then kind = "..."')
    kind = raw.get("kind")
    if not isinstance(kind, str) or not kind:
        fail(f'{where}has no kind', 'add kind = "data.inspect" (see `loyalist export kinds`)')
    spec = REPORT_KINDS.get(kind)
    if spec is None:
        fail(f"{where}unknown kind {kind!r}", f"use one of {', '.join(sorted(REPORT_KINDS))}")
    where = f"report {i} ({kind}): "
    own = _normalise({k: v for k, v in raw.items() if k not in STEP_KEYS}, fail, where)
    unknown = set(own) - set(spec.options)
    if unknown:
        takes = ", ".join(sorted(spec.options)) or "no options"
        fail(f"{where}unknown option {', '.join(sorted(unknown))}", f"{kind} takes {takes}")
    merged = {k: v for k, v in defaults.items() if k in spec.options} | own
    merged |= {k: v for k, v in forced.items() if k in spec.options and v is not None}
    options = {name: _convert(value, spec, name, where, fail) for name, value in merged.items()}
    return ReportStep(kind, options, _text(raw, "title", fail, where))


def _convert(value: Any, spec: ReportKind, name: str, where: str, fail: Callable[..., Any]) -> Any:
    want = spec.options[name]
    if want is dt.date:
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                pass
        fail(f"{where}{name} must be a date, got {value!r}", f"write {name} = 2024-06-30 (no quotes needed)")
    if want is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if want is list and isinstance(value, list):
        return value
    if isinstance(value, want) and not (want is int and isinstance(value, bool)):
        return value
    names = {int: "a whole number", float: "a number", str: "text in quotes", bool: "true or false",
             list: "a list [..]"}
    fail(f"{where}{name} must be {names[want]}, got {value!r}", f"fix {name} in the recipe")
    return None
