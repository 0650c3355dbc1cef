"""Running a registered analysis on a workspace: one path for the CLI, recipes and the app."""

from __future__ import annotations

import dataclasses
import datetime as dt
import inspect
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.errors import InputError
from core.progress import step
from core.registry.model import Analysis, get
from core.registry.options import TABLE, OptionError, key_of

if TYPE_CHECKING:
    from core.engines import Reducer
    from core.invalid import Checked
    from core.result import Result
    from core.workspace import Workspace


def resolve_options(analysis: Analysis, given: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Every option of the analysis, checked: names (or their flag spellings, `as_of` for
    --as-of) resolved, types, bounds and choices checked, defaults filled in.

    None means "not given" (the default). InputError names the option and the fix.
    """
    keys = analysis.keys()
    values: dict[str, Any] = {}
    for key, value in (given or {}).items():
        option = keys.get(key_of(str(key)))
        if option is None:
            takes = ", ".join(o.name for o in analysis.options) or "no options"
            raise InputError(f"{analysis.kind} has no option {key!r}", fix=f"{analysis.kind} takes {takes}")
        if value is None:
            continue
        if option.name in values:
            raise InputError(f"{analysis.kind}: option {option.name} is given twice (as {key!r} too)",
                             fix=f"give {option.name} once")
        values[option.name] = _checked(analysis, option.name, value)
    for option in analysis.options:
        if values.get(option.name) is None:
            if option.required:
                raise InputError(f"{analysis.kind} needs option {option.name} ({option.flag})",
                                 fix=f"give {option.flag} ({option.what()}); in a recipe or the app, "
                                 f"{option.name}, e.g. {option.name} = {option.example()}")
            values[option.name] = option.default
    return values


def _checked(analysis: Analysis, name: str, value: Any) -> Any:
    option = analysis.option(name)
    try:
        return option.convert(value)
    except OptionError as exc:
        raise OptionError(option, f"{analysis.kind}: option {name} ({option.flag}): {exc.message}",
                          exc.fix or "") from None


def run_analysis(kind: str, ws: Workspace | None, options: Mapping[str, Any] | None = None) -> Result:
    """Run one analysis: check its options and tables, run it, record what it was run with.

    The Result is named after the kind; its params gain every option's value (the
    analysis's own records win), the workspace folder and the file each table was read from.
    """
    analysis = get(kind)
    values = resolve_options(analysis, options)
    needs, uses = analysis.tables(values)
    if ws is not None and "engine" in values:  # checked before the tables are: it is about where they are
        from core.engines import resolve

        values["engine"] = resolve(ws, values["engine"])
    if ws is None:
        if needs:
            raise InputError(f"{analysis.what} needs a workspace", fix="give --workspace DIR")
        read: tuple[str, ...] = ()
    engine = _engine(ws, values)
    try:
        if ws is not None:
            step(f"checking {', '.join(needs + uses) or 'the tables'}")
            checked = check_tables(ws, analysis, needs, uses, engine)
            ws, read = checked.ws, checked.read
            if engine is not None:  # rows left out as invalid: only Polars holds that view of a table
                engine.leave_to_polars(ws.frames)
        step(f"computing {analysis.what}")
        result = money_in_cents(_call(analysis, ws, read, values, engine))
        step("preparing the result")
    finally:
        if engine is not None:
            engine.close()
    if ws is not None and checked.notes:
        result = dataclasses.replace(result, notes=(*result.notes, *checked.notes))
    if engine is not None and not any(engine.label in note for note in result.notes):  # unless it said where
        result = dataclasses.replace(result, notes=(
            *result.notes, f"The per-customer table was computed on {engine.label}; the rest here, in Polars."))
    if result.name != kind:  # a result is named after its kind, wherever it is read
        result = dataclasses.replace(result, name=kind)
    provenance: dict[str, Any] = {}
    if ws is not None:
        provenance = {"workspace": str(ws.root), **({"tables": sources(ws, read)} if read else {})}
    result = result.with_params(**{k: _recorded(v) for k, v in values.items()}, **provenance)
    dated = analysis.keys().get("as_of")  # kpi's end, clv's calibration end: the as-of date of provenance
    if dated is not None and dated.name != "as_of" and result.params.get(dated.name) is not None:
        result = dataclasses.replace(result, params={**result.params, "as_of": result.params[dated.name]})
    from core.features import AFTER_TODAY

    counted = result.params.get(AFTER_TODAY)  # counted by the analysis's own read (core.segments.run)
    if counted is not None:
        result = dataclasses.replace(result, params={k: v for k, v in result.params.items() if k != AFTER_TODAY})
    if dated is not None and values.get(dated.name) is None and "transactions" in read:
        result = _note_future_dates(ws, result, engine, counted)
    return result


def _engine(ws: Workspace | None, values: dict[str, Any]) -> Reducer | None:
    """The engine the per-customer reduction runs on (core.engines); None for Polars."""
    if ws is None or values.get("engine") in (None, "polars"):
        return None
    from core.engines import reducer

    return reducer(ws, values["engine"])


def money_in_cents(result: Result) -> Result:
    """Money rounded to cents at the edge of the analysis, so every format carries the same
    figure (CSV and JSON too), never float noise such as 821187.4099999999. Which columns
    hold money is the one declaration every renderer reads (core.export.columns)."""
    import polars as pl

    from core.export import columns as k

    tables = {}
    for name, df in result.tables.items():
        money = [c for c, kind in k.kinds(df, result.kinds, name).items()
                 if kind == k.MONEY and df.schema[c].is_float()]
        tables[name] = df.with_columns(pl.col(money).round(2)) if money else df

    def cents(key: str, value: Any) -> Any:
        if k.value_kind(key, value, result.kinds) != k.MONEY:
            return value
        if isinstance(value, float) and math.isfinite(value):
            return round(value, 2)
        if isinstance(value, (list, tuple)):
            return type(value)(round(v, 2) if isinstance(v, float) and math.isfinite(v) else v for v in value)
        return value

    headline = {key: cents(key, value) for key, value in result.headline.items()}
    return dataclasses.replace(result, tables=tables, headline=headline)


def _note_future_dates(ws: Workspace, result: Result, engine: Reducer | None = None,
                       counted: int | None = None) -> Result:
    """Say how many transactions the default as-of date ignored (core.features.default_as_of);
    `counted`: the analysis's own read counted them, so they are not counted again."""
    from core.features import rows_after_today

    later = counted if counted is not None else rows_after_today(ws.scan("transactions"), dt.date.today(),
                                                                 engine=engine)
    if not later:
        return result
    rows = "1 transaction dated after today was" if later == 1 else f"{later} transactions dated after today were"
    note = (f"{rows} ignored for the default as-of date; "
            "check those dates (loyalist data validate) or pass --as-of")
    return dataclasses.replace(result, notes=(*result.notes, note))


def check_tables(ws: Workspace, analysis: Analysis, needs: tuple[str, ...], uses: tuple[str, ...],
                 engine: Reducer | None = None) -> Checked:
    """The one place an analysis's tables are checked before it runs (missing tables,
    validation errors), so the policy for invalid rows applies to every analysis alike:
    only errors in the tables it reads count, under each table's on_invalid (core.invalid).
    With an engine, the transactions are checked by queries there."""
    from core.invalid import checked_workspace

    return checked_workspace(ws, needs, uses, analysis.what, engine)


def checked_for(kind: str, ws: Workspace, options: Mapping[str, Any] | None = None) -> Checked:
    """The workspace as analysis `kind` would read it (check_tables): for work that computes
    what an analysis computes without running it (the app's Segments and Scale screens), so
    invalid rows stop it or are left out, counted in `notes`, exactly as on the CLI."""
    analysis = get(kind)
    # the defaults stand in for options not given (a required one, the scale's spec, names no table)
    needs, uses = analysis.tables({**{o.name: o.default for o in analysis.options}, **(options or {})})
    return check_tables(ws, analysis, needs, uses)


def _call(analysis: Analysis, ws: Workspace | None, tables: tuple[str, ...], values: dict[str, Any],
          engine: Reducer | None = None) -> Result:
    function = analysis.runner()
    arguments = {k: _read_table(v) if analysis.option(k).type == TABLE else v for k, v in values.items()}
    if "engine" in arguments:  # the option names the engine; the analysis gets its reduction
        arguments["engine"] = engine
    if analysis.takes == "nothing":
        return function(**arguments)
    if analysis.takes == "tables":
        frames = {t: ws.scan(t) for t in tables} if ws is not None else {}
        parameters = inspect.signature(function).parameters
        if ws is not None and "workspace" in parameters:
            arguments["workspace"] = str(ws.root)
        if ws is not None and "orders_adjacent" in parameters:
            from core.order_layout import orders_adjacent

            arguments["orders_adjacent"] = orders_adjacent(ws, engine)  # what the checks found (core.order_layout)
        return function(**frames, **arguments)
    return function(ws, **arguments)


def _read_table(value: Any) -> Any:
    if isinstance(value, Path):
        from core.readers import scan_file

        return scan_file(value)
    return value


def _recorded(value: Any) -> Any:
    """What the params keep of an option's value: a path as text, never a table."""
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if hasattr(value, "collect"):
        return "(a table given in memory)"
    return value


def sources(ws: Workspace, tables: tuple[str, ...]) -> str:
    """The files the tables were read from, relative to the workspace folder where they are in it."""
    files = []
    for table in tables:
        source = ws.sources.get(table)
        if source is None:
            continue
        if source.database is not None:
            files.append(source.database.label)
            continue
        try:
            files.append(str(Path(source.path).resolve().relative_to(Path(ws.root).resolve())))
        except ValueError:
            files.append(str(source.path))
    return ", ".join(files)
