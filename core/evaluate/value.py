"""The per-customer table the channel, program and KPI reports share, and simple CLV.

Built on core.features.customer_features (one row per customer) plus:
- in_base / retained: bought in the year before last (as_of - 2·days, as_of - days] and,
  for retained, again in the last (as_of - days, as_of]; retention = retained / in_base.
- annual_value: net spend per year of the relationship; customers known for less than a
  year count their spend so far (so new customers are not inflated).
- clv: annual_value · r / (1 + d - r), the retention-based customer value of Gupta &
  Lehmann ("Customers as Assets", 2003), with r the group's retention rate and d the
  yearly discount rate.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import polars as pl

from core.features import customer_features

if TYPE_CHECKING:
    from core.engines import Reducer

RETENTION_DAYS = 365
DISCOUNT_RATE = 0.10


def retention_windows(as_of: dt.date, days: int) -> tuple[dt.date, dt.date]:
    """(later, earlier): retention's later window is (later, as_of], the earlier one (earlier, later]."""
    return as_of - dt.timedelta(days=days), as_of - dt.timedelta(days=2 * days)


def customer_table(
    transactions: pl.LazyFrame,
    as_of: dt.date,
    *,
    customers: pl.LazyFrame | None = None,
    touchpoints: pl.LazyFrame | None = None,
    survey: pl.LazyFrame | None = None,
    retention_days: int = RETENTION_DAYS,
    engine: Reducer | None = None,
    orders_adjacent: bool = False,
) -> pl.LazyFrame:
    """customer_features plus in_base, retained and annual_value (lazy; collect once).
    With an `engine` (core.engines) the features' group_by and the retention flags run there;
    otherwise in_base (a purchase in the earlier window) and retained (and one in the later
    window) are two more reductions of the features' own group_by, not a second group_by
    over the rows. `orders_adjacent` is customer_features'."""
    if engine is not None:
        features = customer_features(transactions, as_of=as_of, customers=customers,
                                     touchpoints=touchpoints, survey=survey, engine=engine)
        return with_retention(features, engine.retention(as_of, retention_days).lazy())
    later, earlier = retention_windows(as_of, retention_days)
    bought, day = pl.col("amount") > 0, pl.col("order_date")
    features = customer_features(transactions, as_of=as_of, customers=customers, touchpoints=touchpoints,
                                 survey=survey, any_row={"in_base": bought & (day > earlier) & (day <= later),
                                                         "_later": bought & (day > later)},
                                 orders_adjacent=orders_adjacent)
    return with_retention(features.with_columns(retained=pl.col("in_base") & pl.col("_later")).drop("_later"),
                          None)


def with_retention(features: pl.LazyFrame, flags: pl.LazyFrame | None) -> pl.LazyFrame:
    """customer_table's last step: the features with in_base and retained (joined from
    `flags`, or already there when it is None) and annual_value."""
    if flags is not None:
        features = features.join(flags, on="customer_id", how="left")
    return (
        features
        .with_columns(
            pl.col("in_base").fill_null(False),
            # Retention is only defined for customers who bought in the earlier window.
            pl.when(pl.col("in_base").fill_null(False)).then(pl.col("retained").fill_null(False))
            .alias("retained"),
            (pl.col("monetary") * 365.0 / pl.max_horizontal(pl.col("t_days") + 1, pl.lit(365)))
            .alias("annual_value"),
        )
    )


def with_clv(table: pl.DataFrame, group: str | None, discount_rate: float = DISCOUNT_RATE) -> pl.DataFrame:
    """Add clv = annual_value x the multiplier of the customer's group retention rate."""
    keys = [group] if group else []
    base = pl.col("in_base").sum()
    rate = pl.when(base > 0).then(pl.col("retained").sum() / base)
    multiplier = rate / (1 + discount_rate - rate)
    mult = multiplier.over(keys) if keys else multiplier
    return table.with_columns((pl.col("annual_value") * mult).alias("clv"))


def data_span_note(first_date: dt.date | None, as_of: dt.date, days: int = RETENTION_DAYS) -> str | None:
    """A warning when the data do not reach back over both retention windows."""
    if first_date is None or first_date <= as_of - dt.timedelta(days=2 * days - 1):
        return None
    return (
        f"Retention compares buyers of the year before last with the last year ({2 * days} days); "
        f"the data start on {first_date}, so the earlier window is incomplete."
    )
