"""What the Data screen's row browser shows: a filter, a search, a sort, and a column's
frequency table, applied to a table's rows in a thread worker.

User text is never run as code: a filter is parsed by Polars SQL as one expression
(`pl.sql_expr`, which has no table functions and cannot read files) and a search is
matched literally. Everything is lazy, so a filter on a ten-million-row file is pushed
into the scan and only the matching rows (up to the browse cap) are collected.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import polars as pl

from core.errors import InputError
from core.result import Result

FREQUENCY_ROWS = 1_000  # distinct values listed; the rest are summed in one "(other values)" row
OTHER = "(other values)"
FILTER_EXAMPLE = "amount > 100 AND order_date >= DATE '2025-01-01'"


@dataclass(frozen=True)
class BrowseQuery:
    filter: str = ""  # a Polars SQL boolean expression
    search: str = ""  # text looked for, case-insensitively, in every column
    sort: str | None = None  # column to sort by
    descending: bool = False

    @property
    def active(self) -> bool:
        return bool(self.filter or self.search or self.sort)

    def describe(self) -> str:
        """A short line for the browser caption, e.g. "where amount > 100 · sorted by amount ↓"."""
        parts = []
        if self.filter:
            parts.append(f"where {self.filter}")
        if self.search:
            parts.append(f"containing {self.search!r}")
        if self.sort:
            parts.append(f"sorted by {self.sort} {'↓' if self.descending else '↑'}")
        return " · ".join(parts)

    def saved(self) -> dict:
        return {"filter": self.filter, "search": self.search, "sort": self.sort, "descending": self.descending}

    @classmethod
    def from_saved(cls, saved: object) -> BrowseQuery:
        """A query as `saved()` wrote it; anything else in the file reads as no query."""
        if not isinstance(saved, dict):
            return cls()
        text = {k: saved.get(k) if isinstance(saved.get(k), str) else "" for k in ("filter", "search", "sort")}
        return cls(filter=text["filter"], search=text["search"], sort=text["sort"] or None,
                   descending=bool(text["sort"]) and saved.get("descending") is True)

    def next_sort(self, column: str) -> BrowseQuery:
        """Sorting a column cycles ascending, descending, unsorted; another column starts ascending."""
        if self.sort != column:
            return replace(self, sort=column, descending=False)
        if not self.descending:
            return replace(self, descending=True)
        return replace(self, sort=None, descending=False)


def parse_filter(text: str) -> pl.Expr:
    """A SQL boolean expression as a Polars expression; a clear InputError if it does not parse."""
    try:
        return pl.sql_expr(text)
    except Exception as exc:  # Polars raises several SQL error types; all mean "not valid"
        raise InputError(f"the filter {text!r} is not a valid expression ({_first_line(exc)})",
                         fix=f"write e.g. {FILTER_EXAMPLE}") from None


def apply_query(rows: pl.LazyFrame, query: BrowseQuery) -> pl.LazyFrame:
    if query.filter:
        rows = rows.filter(parse_filter(query.filter))
    if query.search:
        rows = rows.filter(search_expr(rows.collect_schema().names(), query.search))
    if query.sort:
        rows = rows.sort(query.sort, descending=query.descending, nulls_last=True, maintain_order=True)
    return rows


def search_expr(columns: list[str], text: str) -> pl.Expr:
    """Rows where any column, shown as text, contains `text` (case-insensitive, literal)."""
    pattern = "(?i)" + re.escape(text)
    return pl.any_horizontal(
        pl.col(c).cast(pl.String).str.contains(pattern).fill_null(False) for c in columns)


def collect_query(rows: pl.LazyFrame, query: BrowseQuery, limit: int) -> pl.DataFrame:
    """The first `limit` rows of `rows` under `query`, with errors made readable."""
    try:
        return apply_query(rows, query).head(limit).collect()
    except InputError:
        raise
    except (pl.exceptions.PolarsError, pl.exceptions.SQLInterfaceError) as exc:
        raise InputError(f"the filter cannot be applied: {_explain(exc)}",
                         fix=f"check the column names and types; e.g. {FILTER_EXAMPLE}") from None


def frequency(rows: pl.LazyFrame, column: str, *, table: str, query: BrowseQuery | None = None,
              limit: int = FREQUENCY_ROWS) -> Result:
    """Result "data.frequency": each value of `column` with its count and share of rows.

    Counts cover every row of the table (after the filter and search, if any), not only
    the rows the browser holds. Values are ordered by count, most frequent first; beyond
    `limit` distinct values the rest are summed in one row.
    """
    if query is not None:
        rows = apply_query(rows, replace(query, sort=None))
    if column not in rows.collect_schema().names():
        raise InputError(f"the {table} table has no column {column!r}", fix="choose a column of the table")
    try:
        counts = (rows.group_by(pl.col(column).alias("value")).agg(count=pl.len().cast(pl.Int64))
                  .sort(["count", "value"], descending=[True, False], nulls_last=True).collect())
    except (pl.exceptions.PolarsError, pl.exceptions.SQLInterfaceError) as exc:
        raise InputError(f"cannot count the values of {column!r}: {_explain(exc)}",
                         fix="check the filter") from None
    total = int(counts["count"].sum()) if counts.height else 0
    distinct = counts.height
    nulls = int(counts.filter(pl.col("value").is_null())["count"].sum())
    shown = counts.head(limit).with_columns(pl.col("value").cast(pl.String))
    if distinct > limit:
        rest = counts.slice(limit)
        shown = pl.concat([shown, pl.DataFrame({"value": [OTHER], "count": [int(rest["count"].sum())]},
                                               schema=shown.schema)])
    shown = shown.with_columns(share=pl.col("count") / total if total else pl.lit(None, pl.Float64))
    notes = [f"{distinct:,} distinct values; the {limit:,} most frequent are listed"] if distinct > limit else []
    where = query.describe() if query is not None and query.active else ""
    return Result(
        name="data.frequency",
        title=f"{table}.{column}: {distinct:,} distinct value{'s' if distinct != 1 else ''}",
        tables={"frequency": shown},
        headline={"rows": total, "distinct": distinct, "nulls": nulls},
        params={"table": table, "column": column, **({"rows": where} if where else {})},
        notes=tuple(notes),
    )


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _explain(exc: BaseException) -> str:
    text = _first_line(exc)
    if "compare 'date" in text or "compare 'datetime" in text:
        return text + "; write dates as DATE '2025-01-01'"
    return text
