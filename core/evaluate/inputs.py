"""Checks the reports share: a table that is missing, a column that is missing, too little data."""

from __future__ import annotations

import datetime as dt

import polars as pl

from core.errors import AnalysisError, MissingTableError

# What MissingTableError names when a report is called with frames rather than a workspace.
UNNAMED = "(in use)"


def require(frame: pl.LazyFrame | None, table: str, analysis: str, workspace: str) -> pl.LazyFrame:
    """The frame, or MissingTableError naming the table and the report that needs it."""
    if frame is None:
        raise MissingTableError(table, analysis, workspace)
    return frame


def names(frame: pl.LazyFrame | None) -> list[str]:
    return [] if frame is None else frame.collect_schema().names()


def require_columns(frame: pl.LazyFrame, table: str, columns: tuple[str, ...], analysis: str,
                    fix: str | None = None) -> None:
    missing = [c for c in columns if c not in names(frame)]
    if missing:
        listed = ", ".join(repr(c) for c in missing)
        raise AnalysisError(
            f"{analysis} needs column(s) {listed} in the {table!r} table, which it does not have. "
            f"Fix: {fix or f'add the column(s) to {table} or map them in loyalist.toml'}"
        )


def require_rows(n: int, minimum: int, what: str, analysis: str) -> None:
    """AnalysisError instead of a report full of zeros when there is too little data."""
    if n < minimum:
        needs = (f"needs {what}; this data has none" if minimum == 1
                 else f"needs at least {minimum} {what}; this data has {n}")
        raise AnalysisError(f"{analysis} {needs}. Fix: widen the date range or add data")


def on_or_before(date: pl.Expr, as_of: dt.date | None) -> pl.Expr:
    """Rows dated on or before as_of (inclusive); every row when as_of is None."""
    return pl.lit(True) if as_of is None else date <= pl.lit(as_of, dtype=pl.Date)
