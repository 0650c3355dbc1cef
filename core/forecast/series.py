"""Transactions -> one demand series per group: revenue, orders or units by day or week.

Rules the notes state: returns (a negative amount or quantity) are left out, so the series
is gross demand; a day with no sales is a zero; weeks end on the as-of day (the last week is
complete) and a first, partial week is dropped. Each group's series starts on its first sale.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from core.errors import AnalysisError, InputError

MEASURES = ("revenue", "orders", "units")
FREQS = ("day", "week")
ALL = "all"  # the group name of the overall series


@dataclass(frozen=True)
class DemandSeries:
    frame: pl.DataFrame  # group, period (first day), value; every period from the group's first sale
    as_of: dt.date
    freq: str
    returns_left_out: int  # lines with a negative amount or quantity
    zero_periods: int  # periods with no sales, filled with 0
    since: dt.date | None = None
    no_quantity: int = 0  # with --measure units: sale lines without a quantity, counted as 0 units


def demand_series(tx: pl.LazyFrame, *, measure: str, freq: str, as_of: dt.date, since: dt.date | None = None,
                  by: str | None = None, customers: pl.LazyFrame | None = None) -> DemandSeries:
    """The per-period series (one collect). `by` is a transactions column, or a customers
    column joined on customer_id."""
    if measure not in MEASURES:
        raise InputError(f"unknown measure {measure!r}", fix=f"use one of {', '.join(MEASURES)}")
    if freq not in FREQS:
        raise InputError(f"unknown frequency {freq!r}", fix="use day or week")
    columns = tx.collect_schema().names()
    if measure == "units" and "quantity" not in columns:
        raise InputError("units need a quantity column in transactions", file="transactions",
                         column="quantity", fix="add a quantity column, or use --measure revenue or orders")
    tx = tx.filter(pl.col("order_date") <= pl.lit(as_of, dtype=pl.Date))
    if since is not None:
        tx = tx.filter(pl.col("order_date") >= pl.lit(since, dtype=pl.Date))
    if by:
        tx = _with_group(tx, by, columns, customers)
    else:
        tx = tx.with_columns(pl.lit(ALL).alias("group"))

    returned = pl.col("amount") < 0
    if "quantity" in columns:
        returned = returned | (pl.col("quantity") < 0)
    value = {"revenue": pl.col("amount").sum(),
             "units": pl.col("quantity").sum(),
             "orders": (pl.col("order_id").n_unique() if "order_id" in columns
                        else pl.struct("customer_id", "order_date").n_unique())}[measure]
    lines = tx.with_columns(returned.fill_null(False).alias("_returned"))
    daily = (lines.filter(~pl.col("_returned"))
             .group_by("group", pl.col("order_date").alias("period")).agg(value.cast(pl.Float64).alias("value")))
    no_quantity = (~pl.col("_returned") & pl.col("quantity").is_null()).sum() if measure == "units" else pl.lit(0)
    counts = lines.select(pl.col("_returned").sum().alias("returns"), pl.col("order_date").min().alias("first"),
                          no_quantity.alias("no_quantity"), (~pl.col("_returned")).sum().alias("sales"))
    daily, counts = pl.collect_all([daily, counts])
    returns, first, no_quantity, sales = counts.row(0)
    window = f"from {since} to {as_of}" if since else f"on or before {as_of}"
    if first is None or daily.is_empty():
        raise AnalysisError(f"no sales {window}, so there is nothing to forecast")
    if no_quantity and no_quantity == sales:  # an export's empty column: every period would be 0 units
        raise InputError(f"no sale line {window} has a quantity (the column is empty), so there are no units "
                         "to forecast", file="transactions", column="quantity",
                         fix="fill in the quantity of each line, or use --measure revenue or orders")

    if freq == "week":
        # Week k ends on as_of - 7k; a first week starting before the first sale is partial.
        back = ((pl.lit(as_of, dtype=pl.Date) - pl.col("period")).dt.total_days() // 7)
        daily = (daily.with_columns((pl.lit(as_of, dtype=pl.Date) - pl.duration(days=back * 7 + 6)).alias("period"))
                 .group_by("group", "period").agg(pl.col("value").sum())
                 .filter(pl.col("period") >= first))
        if daily.is_empty():  # every sale lies in the partial first week
            raise AnalysisError(f"the sales from {first} to {as_of} fill no whole week, so there is no weekly "
                                "series to forecast; use --freq day, or data covering several weeks")
    step = "1d" if freq == "day" else "7d"
    last = as_of if freq == "day" else as_of - dt.timedelta(days=6)
    starts = daily.group_by("group").agg(pl.col("period").min().alias("start"))
    periods = pl.DataFrame({"period": pl.date_range(starts["start"].min(), last, step, eager=True)})
    full = (starts.join(periods, how="cross").filter(pl.col("period") >= pl.col("start"))
            .join(daily, on=["group", "period"], how="left")
            .select("group", "period", pl.col("value"))
            .sort("group", "period"))
    zero = int(full["value"].null_count())
    full = full.with_columns(pl.col("value").fill_null(0.0))
    return DemandSeries(full, as_of, freq, int(returns or 0), zero, since=since, no_quantity=int(no_quantity or 0))


def _with_group(tx: pl.LazyFrame, by: str, columns: list[str], customers: pl.LazyFrame | None) -> pl.LazyFrame:
    if by in columns and by not in ("customer_id", "order_date", "amount"):
        return tx.with_columns(pl.col(by).cast(pl.String).fill_null("(missing)").alias("group"))
    if customers is not None:
        cols = customers.collect_schema().names()
        if by in cols and by != "customer_id":
            groups = customers.select("customer_id", pl.col(by).cast(pl.String).alias("group")).unique("customer_id")
            return (tx.join(groups, on="customer_id", how="left")
                    .with_columns(pl.col("group").fill_null("(missing)")))
    where = "transactions" + (" or customers" if customers is not None else "")
    raise InputError(f"--by {by!r} is not a column of {where}", column=by,
                     fix="use category, channel or a customers column such as tier or region")
