"""The per-customer summary buy-till-you-die models are fitted on.

As of a calibration end date (inclusive), for every customer whose first purchase is on
or before it:

- ``frequency``: repeat purchase days (all orders on one day merged; the first day not
  counted), the x of Fader, Hardie & Lee (2005);
- ``recency``: time from the first to the last purchase day, their t_x (note: the BTYD
  meaning, not the RFM "time since last purchase");
- ``T``: time from the first purchase day to the calibration end;
- ``monetary_value``: mean spend per repeat purchase day (0 when there is none).

Times are in days or weeks (days / 7). Rows with a negative amount are returns: they
neither start nor extend a customer's purchase history and do not reduce spend here
(zero-value orders, e.g. free items, are purchases, as in the CDNOW data). With a
holdout end date, ``holdout_frequency`` (purchase days in (calibration end, holdout
end]) and ``holdout_spend`` are added for the same customers.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import polars as pl

from core.errors import AnalysisError, InputError
from core.exact import exact_sum

if TYPE_CHECKING:
    from core.engines import Reducer

UNITS: dict[str, float] = {"day": 1.0, "week": 7.0}
REQUIRED = ("customer_id", "order_date", "amount")


def unit_days(unit: str) -> float:
    """Days in one time unit; InputError for anything but day or week."""
    try:
        return UNITS[unit]
    except KeyError:
        raise InputError(
            f"unknown time unit {unit!r}", fix="use --unit day or --unit week"
        ) from None


def _purchases(transactions: pl.LazyFrame) -> pl.LazyFrame:
    """Purchase rows (returns dropped), with just the columns the summary needs."""
    return transactions.select(REQUIRED).filter(
        pl.col("amount") >= 0, pl.col("order_date").is_not_null()
    )


def _check_columns(transactions: pl.LazyFrame) -> None:
    schema = transactions.collect_schema()
    missing = [c for c in REQUIRED if c not in schema]
    if missing:
        raise InputError(
            f"transactions lack the column(s) {', '.join(missing)}",
            column=missing[0],
            fix="map the columns in loyalist.toml (customer_id, order_date, amount)",
        )
    if schema["order_date"] != pl.Date:
        raise InputError(
            f"order_date must be a date, not {schema['order_date']}",
            column="order_date",
            fix="load transactions through the workspace so dates are parsed",
        )


def btyd_summary(
    transactions: pl.LazyFrame | None,
    calibration_end: dt.date,
    *,
    unit: str = "week",
    holdout_end: dt.date | None = None,
    engine: Reducer | None = None,
    per_customer: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Frequency, recency, T and mean repeat spend per customer as of ``calibration_end``.

    ``transactions`` is the canonical transactions LazyFrame (customer_id, order_date,
    amount). The plan stays lazy until one collect. Sorted by customer_id. With an
    `engine` (core.engines) the per-customer reductions run there. With `per_customer`
    (customer_id, first_purchase, last_purchase, purchase_days, spend, first_spend as of
    calibration_end, made by the same rules elsewhere: core.features.customer_features_at's
    purchase_summary) the transactions are not read; no holdout then.
    """
    days = unit_days(unit)
    if per_customer is not None and holdout_end is not None:
        raise ValueError("a holdout needs the transactions: per_customer holds the calibration period only")
    if engine is None and per_customer is None:
        _check_columns(transactions)
    if holdout_end is not None and holdout_end <= calibration_end:
        raise InputError(
            f"the holdout end {holdout_end} is not after the calibration end {calibration_end}",
            fix="give a --holdout-end later than the calibration end date",
        )
    end = pl.lit(calibration_end, dtype=pl.Date)
    if per_customer is not None:
        per_customer, holdout = per_customer.lazy(), None
    elif engine is not None:
        on_engine, holdout = engine.btyd_parts(calibration_end, holdout_end)
        per_customer = on_engine.lazy()
    else:
        per_customer, holdout = _per_customer(transactions, calibration_end, holdout_end)
    calibration = (
        per_customer
        .with_columns(frequency=pl.col("purchase_days") - 1)
        .select(
            "customer_id",
            "first_purchase",
            "frequency",
            recency=(pl.col("last_purchase") - pl.col("first_purchase")).dt.total_days() / days,
            T=(end - pl.col("first_purchase")).dt.total_days() / days,
            monetary_value=pl.when(pl.col("frequency") > 0)
            .then((pl.col("spend") - pl.col("first_spend")) / pl.col("frequency"))
            .otherwise(0.0),
        )
    )
    if holdout is not None:
        calibration = calibration.join(holdout.lazy(), on="customer_id", how="left").with_columns(
            pl.col("holdout_frequency").fill_null(0), pl.col("holdout_spend").fill_null(0.0)
        )
    summary = calibration.sort("customer_id").collect()
    if summary.is_empty():
        raise AnalysisError(
            f"no customer has a purchase on or before {calibration_end}; "
            "choose a later calibration end date"
        )
    return summary


def _per_customer(transactions: pl.LazyFrame, calibration_end: dt.date, holdout_end: dt.date | None,
                  ) -> tuple[pl.LazyFrame, pl.LazyFrame | None]:
    """The per-customer reductions (core.engines' btyd_parts makes the same on an engine)."""
    purchases = _purchases(transactions)
    end = pl.lit(calibration_end, dtype=pl.Date)
    before = purchases.filter(pl.col("order_date") <= end)
    # Plain reductions over the raw rows, plus a join for the first day's spend: much
    # faster than a per-day group_by followed by a filtered reduction in each group.
    per_customer = before.group_by("customer_id").agg(
        first_purchase=pl.col("order_date").min(),
        last_purchase=pl.col("order_date").max(),
        purchase_days=pl.col("order_date").n_unique().cast(pl.Int64),
        spend=exact_sum(pl.col("amount")),
    )
    first_day = (
        before.join(per_customer.select("customer_id", "first_purchase"), on="customer_id")
        .filter(pl.col("order_date") == pl.col("first_purchase"))
        .group_by("customer_id")
        .agg(first_spend=exact_sum(pl.col("amount")))
    )
    holdout = None
    if holdout_end is not None:
        holdout = (
            purchases.filter(
                pl.col("order_date") > end,
                pl.col("order_date") <= pl.lit(holdout_end, dtype=pl.Date),
            )
            .group_by("customer_id")
            .agg(holdout_frequency=pl.col("order_date").n_unique().cast(pl.Int64),
                 holdout_spend=exact_sum(pl.col("amount")))
        )
    return per_customer.join(first_day, on="customer_id"), holdout


def last_order_date(transactions: pl.LazyFrame, engine: Reducer | None = None) -> dt.date:
    """The date of the last purchase: the default calibration end (DESIGN: as-of default)."""
    if engine is not None:
        last = engine.last_purchase()
    else:
        _check_columns(transactions)
        last = (
            transactions.filter(pl.col("amount") >= 0)
            .select(pl.col("order_date").max()).collect().item()
        )
    if last is None:
        raise AnalysisError(
            "the transactions hold no purchase (every amount is negative or missing)"
        )
    return last
