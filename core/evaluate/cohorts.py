"""Acquisition cohorts: customers grouped by the month (or week) of their first purchase,
followed period by period. Customer retention in period k is the share of the cohort
buying in its k-th period after the first; revenue retention is the cohort's revenue in
period k over its revenue in period 0. Periods after as_of are missing, not zero.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import polars as pl

from core.errors import InputError
from core.evaluate.inputs import UNNAMED, on_or_before, require, require_rows
from core.result import Chart, Result

if TYPE_CHECKING:
    from core.engines import Reducer

ANALYSIS = "cohorts report"
PERIODS = {"month": "m", "week": "w"}
MONDAY = dt.date(1970, 1, 5)


def period_number(date: pl.Expr, period: str) -> pl.Expr:
    """Months (or weeks starting Monday) since an epoch, so periods subtract."""
    if period == "month":
        return date.dt.year().cast(pl.Int64) * 12 + date.dt.month().cast(pl.Int64) - 1
    return (date - pl.lit(MONDAY)).dt.total_days() // 7


def period_label(number: pl.Expr, period: str) -> pl.Expr:
    if period == "month":
        return pl.date(number // 12, number % 12 + 1, 1).dt.strftime("%Y-%m")
    return (pl.lit(MONDAY) + pl.duration(weeks=number)).dt.strftime("%Y-%m-%d")


def cohorts(
    transactions: pl.LazyFrame | None,
    *,
    period: str = "month",
    since: dt.date | None = None,
    as_of: dt.date | None = None,
    max_periods: int | None = None,
    workspace: str = UNNAMED,
    engine: Reducer | None = None,
) -> Result:
    """Customer and revenue retention matrices of acquisition cohorts. With an `engine`
    (core.engines) the transactions are reduced there to one row per customer and period."""
    require(transactions, "transactions", ANALYSIS, workspace)
    if period not in PERIODS:
        raise InputError(f"unknown period {period!r}", fix="use --period month or --period week")
    if max_periods is not None and max_periods < 1:
        raise InputError("max periods must be 1 or more", fix="pass --periods 12")
    if engine is not None:
        per, last_seen = engine.cohort_parts(period, as_of)
        per = per.lazy()
    else:
        per, last_seen = customer_periods(transactions, period, as_of)
    first = (
        per.filter(pl.col("_first_buy").is_not_null())
        .group_by("customer_id")
        .agg(pl.col("_p").min().alias("cohort_no"), pl.col("_first_buy").min().alias("first_purchase"))
    )
    if since is not None:
        first = first.filter(pl.col("first_purchase") >= since)
    # The last observed period: as_of's when given (quiet periods before it are zeros).
    end = pl.lit(as_of, dtype=pl.Date) if as_of is not None else pl.col("last_seen")
    last = last_seen.filter(pl.col("last_seen").is_not_null()).select(
        period_number(end, period).alias("last_no"), end.alias("last_date"))
    activity = (
        per.join(first, on="customer_id")
        .with_columns((pl.col("_p") - pl.col("cohort_no")).alias("period"))
        .filter(pl.col("period") >= 0)
        .group_by("cohort_no", "period")
        .agg(  # one row per customer and period: a customer who bought counts once
            pl.col("_first_buy").is_not_null().sum().cast(pl.UInt32).alias("active"),
            pl.sum("revenue").alias("revenue"),
        )
    )
    grid = (
        first.group_by("cohort_no").agg(pl.len().alias("customers"))
        .join(last, how="cross")
        .with_columns(pl.int_ranges(0, pl.col("last_no") - pl.col("cohort_no") + 1).alias("period"))
        .explode("period")
        .with_columns(pl.col("period").cast(pl.Int64))
    )
    if max_periods is not None:
        grid = grid.filter(pl.col("period") <= max_periods)
    long = (
        grid.join(activity, on=["cohort_no", "period"], how="left")
        .with_columns(pl.col("active").fill_null(0), pl.col("revenue").fill_null(0.0))
        .sort("cohort_no", "period")
        .with_columns(
            period_label(pl.col("cohort_no"), period).alias("cohort"),
            (pl.col("active") / pl.col("customers")).alias("retention"),
            (pl.col("revenue") / pl.col("revenue").first().over("cohort_no")).alias("revenue_retention"),
        )
    )
    table, bounds = pl.collect_all([
        long.select("cohort", "period", "customers", "active", "retention", "revenue",
                    "revenue_retention", "last_date"),
        last,
    ])
    require_rows(table.select(pl.col("cohort").n_unique()).item() if table.height else 0, 1,
                 "cohort (customers with a purchase)", ANALYSIS)
    table = table.with_columns(pl.col("revenue_retention").fill_nan(None))
    last_date = bounds["last_date"][0]
    notes = [
        f"Customer retention: share of the cohort buying in period k after the {period} of their "
        "first purchase; revenue retention: cohort revenue in period k over period 0 "
        "(net of returns). Cells after the last date are left empty.",
    ]
    if not period_complete(last_date, period):
        notes.append(f"The last {period} is partial: it ends on {last_date}.")
    prefix = PERIODS[period]
    customers = table.filter(pl.col("period") == 0).select("cohort", "customers")
    headline = {
        "cohort_count": customers.height,
        "customers": int(customers["customers"].sum()),
        "last_date": last_date,
        **{f"retention_{prefix}{k}": weighted_retention(table, k) for k in (1, 3, 6, 12)},
    }
    return Result(
        name="report.cohorts",
        title=f"Cohorts by {period} of first purchase",
        tables={
            "customer_retention": matrix(table, "retention", prefix),
            "revenue_retention": matrix(table, "revenue_retention", prefix),
            "cohorts": table.drop("last_date"),
        },
        headline=headline,
        charts=(
            Chart("heatmap", "Customer retention", "cohorts", "period", ("retention",), "cohort"),
            Chart("heatmap", "Revenue retention", "cohorts", "period", ("revenue_retention",), "cohort"),
        ),
        params={"period": period, "since": since, "as_of": as_of, "max_periods": max_periods},
        notes=tuple(notes),
        # the matrices' period columns (m0, m1, ... or w0, ...) hold retention shares; their
        # customers column is a count (a bare * made it read 5700.0% for 57 customers)
        kinds={"customer_retention/[mw][0-9]*": "percent", "revenue_retention/[mw][0-9]*": "percent"},
    )


def customer_periods(transactions: pl.LazyFrame, period: str, as_of: dt.date | None,
                     ) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """The transactions reduced to one row per customer and period (`_p`): revenue (net of
    returns) and the first purchase day in it (null: no purchase); and the last date seen
    (core.engines' cohort_parts makes both on an engine)."""
    tx = (
        transactions.filter(on_or_before(pl.col("order_date"), as_of), pl.col("order_date").is_not_null())
        .select("customer_id", "order_date", "amount")
    )
    # The purchase day is a row column (null for a return) reduced by a plain min: a filter
    # inside agg() makes the streaming group_by fall back to a per-group evaluation.
    per = tx.group_by("customer_id", period_number(pl.col("order_date"), period).alias("_p")).agg(
        pl.sum("amount").alias("revenue"),
        pl.when(pl.col("amount") > 0).then(pl.col("order_date")).min().alias("_first_buy"))
    return per, tx.select(pl.col("order_date").max().alias("last_seen"))


def matrix(table: pl.DataFrame, value: str, prefix: str) -> pl.DataFrame:
    """Cohorts down, periods across (m0, m1, ...), one value per cell."""
    wide = table.with_columns((pl.lit(prefix) + pl.col("period").cast(pl.String)).alias("_col")).pivot(
        on="_col", index=["cohort", "customers"], values=value, sort_columns=False
    )
    return wide.sort("cohort")


def weighted_retention(table: pl.DataFrame, k: int) -> float | None:
    """Retention in period k over every cohort observed that long (weighted by size)."""
    cells = table.filter(pl.col("period") == k)
    if cells.is_empty():
        return None
    return float(cells["active"].sum() / cells["customers"].sum())


def period_complete(end: dt.date, period: str) -> bool:
    if period == "month":
        return (end + dt.timedelta(days=1)).day == 1
    return end.weekday() == 6
