"""Charts as inline SVG, drawn from a Chart spec and its table: no script, no network, no fonts.

Kinds and the columns they read (core.result.Chart):
- bar: categories in `x`; one bar per column in `y` (grouped), or, with `series`, the
  single `y` column split by the `series` column (long form). `y` empty: every numeric
  column except `x`. Horizontal when there are many categories or long labels.
- line: `x` numeric, date or text (evenly spaced); lines as for bar.
- histogram: the values of `x`, binned here (Freedman-Diaconis, 10 to 40 bins); the top
  one percent of a long tail is counted in the last bin, and the chart says so.
- scatter: `y` (one column) against `x`, points coloured by `series`; at most 5,000 points, a
  seeded random sample of more, and the chart says so.
- intervals (y, low, high): a shaded band around a line, whiskers on a bar.
- heatmap, long form: columns are the `x` values, rows the `series` values and cells the
  first `y` column (cohort x period); or, without `series`, y = (row column, value
  column) while `x` repeats down the table (segment migration, the RFM grid). Wide form:
  rows are the `x` values (one each), columns the `y` columns (all numeric columns when
  `y` is empty), as in a channel overlap matrix.

Every mark carries data-* attributes (category, series, value) and a <title> tooltip,
so a browser shows values on hover and tests can read what was drawn.
"""

from __future__ import annotations

import polars as pl

from core.export.charts.bar import bar_chart
from core.export.charts.base import ChartError, interval_columns, need_columns, nice_ticks, y_columns
from core.export.charts.heatmap import heatmap
from core.export.charts.histogram import histogram
from core.export.charts.line import date_ticks, line_chart
from core.export.charts.scatter import scatter
from core.result import Chart

__all__ = ["ChartError", "chart_svg", "date_ticks", "nice_ticks"]

DRAW = {"bar": bar_chart, "line": line_chart, "histogram": histogram, "heatmap": heatmap,
        "scatter": scatter}


def chart_svg(chart: Chart, table: pl.DataFrame | None) -> str:
    """The chart as an <svg> element; ChartError says why it cannot be drawn."""
    if table is None:
        raise ChartError(f"the result has no table named {chart.table!r}")
    draw = DRAW.get(chart.kind)
    if draw is None:
        raise ChartError(f"unknown chart kind {chart.kind!r} (bar, line, histogram, heatmap or scatter)")
    need_columns(table, chart.x, *y_columns(chart), *([chart.series] if chart.series else []),
                 *interval_columns(chart))
    return draw(chart, table)
