"""The result object every analysis returns and every renderer takes.

Renderers (Rich in the CLI, Textual widgets, exporters) only read a Result; they never
recompute. Tables are eager Polars DataFrames: the collect happened in the analysis.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import polars as pl


@dataclass(frozen=True)
class Chart:
    """A chart described as data: which table, which columns, what kind.

    - bar: one bar per value of `x`, heights from `y` (one or more columns: grouped bars).
    - line: `y` against `x`; `series` splits the rows into lines.
    - histogram: the raw values of `x` are binned by the renderer (pre-binned counts are
      a bar chart).
    - heatmap: a long table with `series` as rows, `x` as columns and `y` the value; or
      `y=(row column, value column)` with `x` the columns; or a wide table whose first
      column names the rows (e.g. a channel overlap or migration matrix).
    - scatter: one point per row, `y` (one column) against `x`, both numeric; `series` colours
      the points by group (loyalty quadrants). Renderers draw a sample of very many rows.

    `intervals` holds (y column, low column, high column) triples: the interval around that
    y column's values, drawn as a shaded band on a line chart (a forecast's prediction
    interval) and as whiskers on a bar chart (an elasticity's confidence interval).
    `references` holds (axis "x" or "y", value, label) triples: dashed reference lines on a
    scatter, e.g. the split points of the loyalty quadrants.
    """

    kind: str  # "bar" | "line" | "histogram" | "heatmap" | "scatter"
    title: str
    table: str  # key into Result.tables
    x: str
    y: str | tuple[str, ...] = ()
    series: str | None = None  # column splitting the data into series (line/bar/scatter)
    intervals: tuple[tuple[str, str, str], ...] = ()  # (y, low, high) columns
    references: tuple[tuple[str, float, str], ...] = ()  # (axis, value, label) reference lines
    # The Result's declared kinds (Result.kinds), set by renderers: axes format as tables do
    kinds: Mapping[str, str] = field(default_factory=dict, compare=False)

    def interval(self, y: str) -> tuple[str, str] | None:
        """The (low, high) columns of the interval around column `y`, if the chart has one."""
        return next(((low, high) for name, low, high in self.intervals if name == y), None)


@dataclass(frozen=True)
class Result:
    """Named tables, headline figures, chart specs, the parameters used and notes."""

    name: str  # stable id, e.g. "segment.rfm"
    title: str
    tables: Mapping[str, pl.DataFrame]
    headline: Mapping[str, Any] = field(default_factory=dict)
    charts: tuple[Chart, ...] = ()
    params: Mapping[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    # Declared kinds where a name would mislead (core.export.columns): "promoters": "points",
    # "customer_retention/m*": "percent". Every renderer formats from them.
    kinds: Mapping[str, str] = field(default_factory=dict)

    @property
    def charts_to_draw(self) -> tuple[Chart, ...]:
        """The charts carrying the declared kinds, so their axes read as the tables do."""
        return tuple(replace(chart, kinds=self.kinds) for chart in self.charts)

    def with_params(self, **params: Any) -> Result:
        """The same result with more parameters recorded (existing ones win)."""
        return replace(self, params={**params, **self.params})

    @property
    def main_table(self) -> pl.DataFrame:
        """The first table: what `--format csv` prints and `--output x.csv` writes."""
        return next(iter(self.tables.values()))

    def to_dict(self) -> dict[str, Any]:
        """The JSON layout every command prints with `--format json`.

        name and title, then every headline figure and every table (a list of row
        records) at the top level, then notes and params. In a row, a pair
        `x_ci_low`/`x_ci_high` (or `x_low`/`x_high` of an interval) also appears as
        `x_ci: [low, high]`, so scripts read one key for an interval.
        """
        clash = (set(self.headline) & set(self.tables)) | ((set(self.headline) | set(self.tables)) & RESERVED_KEYS)
        if clash:  # a programming error in an analysis, caught by its tests
            raise ValueError(f"{self.name}: keys used twice in its JSON: {sorted(clash)}")
        return {
            "name": self.name,
            "title": self.title,
            **{k: jsonable(v) for k, v in self.headline.items()},
            **{k: [with_ci_pairs(jsonable_row(r)) for r in df.iter_rows(named=True)]
               for k, df in self.tables.items()},
            "notes": list(self.notes),
            "params": {k: jsonable(v) for k, v in self.params.items()},
        }


RESERVED_KEYS = frozenset({"name", "title", "notes", "params", "schemas", "charts", "loyalist_version"})


def with_ci_pairs(row: dict[str, Any]) -> dict[str, Any]:
    pairs = {key[: -len("_low")]: [row[key], row[key[: -len("_low")] + "_high"]]
             for key in row if key.endswith("ci_low") and key[: -len("_low")] + "_high" in row}
    return {**row, **pairs}


def jsonable(value: Any) -> Any:
    """Convert a value to something json.dumps accepts; NaN and inf become None."""
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return jsonable(value.item())
    if hasattr(value, "__fspath__"):
        return str(value)
    return value


def jsonable_row(row: Mapping[str, Any]) -> dict[str, Any]:
    return {k: jsonable(v) for k, v in row.items()}
