"""Where demand growth comes from: weekly orders = shopping days x orders per shopping day,
and revenue = orders x revenue per order, each part with its own linear trend.

A shopping day is one customer buying on one day (a distinct customer and date). A trend in
orders alone cannot tell a growing customer base from customers buying more: the first shows
in shopping days, the second in orders per shopping day. Only regular orders count: lines
tagged with a campaign_id or promo_id (where those columns exist) are left out, since their
extra orders are the campaign's or promotion's, not the trend's.

Each part's weekly value v_t is fitted as v_t = a + b t + holiday windows (t in years since
the first week; core.forecast.design's holiday columns), by least squares weighted with the
part's denominator (shopping days or orders; none for shopping days themselves), with
Newey-West (HAC) standard errors since neighbouring weeks' errors are correlated. The growth
per year is b / a: the yearly change as a share of the level at the first week, with a
delta-method interval. A straight line is a summary: a customer base still being acquired
does not grow in a straight line, and its row is then an average slope.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import polars as pl

from core.forecast.design import holiday_matrix, usable_columns
from core.forecast.holidays import Holiday

HAC_LAGS = 4  # weeks of error correlation the standard errors allow for
PARTS = (("shopping days", "shopping_days", None), ("orders per shopping day", "orders", "shopping_days"),
         ("revenue per order", "revenue", "orders"))
LEAST_WEEKS = 26  # fewer weeks say nothing about a yearly trend


def weekly_parts(tx: pl.LazyFrame, as_of: dt.date, since: dt.date | None = None) -> pl.DataFrame:
    """period (a week's first day, weeks ending on as_of), shopping_days, orders, revenue of the
    regular sale lines; a first, partial week is left out (one collect)."""
    cols = tx.collect_schema().names()
    sale = (pl.col("amount") > 0) & (pl.col("order_date") <= pl.lit(as_of, dtype=pl.Date))
    if since is not None:
        sale = sale & (pl.col("order_date") >= pl.lit(since, dtype=pl.Date))
    for tag in ("campaign_id", "promo_id"):
        if tag in cols:
            sale = sale & pl.col(tag).is_null()
    order = pl.col("order_id") if "order_id" in cols else pl.struct("customer_id", "order_date")
    back = (pl.lit(as_of, dtype=pl.Date) - pl.col("order_date")).dt.total_days() // 7
    week = (pl.lit(as_of, dtype=pl.Date) - pl.duration(days=back * 7 + 6)).alias("period")
    lines = tx.filter(sale)
    weeks = (lines.group_by(week)
             .agg(pl.struct("customer_id", "order_date").n_unique().cast(pl.Float64).alias("shopping_days"),
                  order.n_unique().cast(pl.Float64).alias("orders"), pl.col("amount").sum().alias("revenue"))
             .sort("period"))
    first = lines.select(pl.col("order_date").min().alias("first"))
    weeks, first = pl.collect_all([weeks, first])
    start = first.item()
    return weeks.filter(pl.col("period") >= start) if start is not None else weeks


def growth_split(weeks: pl.DataFrame, holidays: Sequence[Holiday], confidence: float = 0.95) -> pl.DataFrame:
    """One row per part: its level at the first week, change per year, and growth per year
    (change / level) with its interval. Empty when there are too few weeks."""
    import statsmodels.api as sm
    from scipy.stats import norm

    schema = {"part": pl.String, "level_at_start": pl.Float64, "change_per_year": pl.Float64,
              "growth_per_year": pl.Float64, "growth_low": pl.Float64, "growth_high": pl.Float64,
              "weeks": pl.Int64}
    weeks = weeks.filter(pl.col("shopping_days") > 0)
    if weeks.height < LEAST_WEEKS:
        return pl.DataFrame(schema=schema)
    periods = weeks["period"].to_list()
    t = np.array([(p - periods[0]).days for p in periods], dtype=np.float64) / 365.25
    H, names = holiday_matrix(periods, "week", holidays) if holidays else (np.empty((len(t), 0)), [])
    H = H[:, usable_columns(H, names)]  # seen at least once, and no two holidays always in one week
    X = np.column_stack([np.ones_like(t), t, H])
    z = float(norm.ppf(0.5 + confidence / 2.0))
    rows = []
    for label, num, den in PARTS:
        y = weeks[num].to_numpy() / (weeks[den].to_numpy() if den else 1.0)
        w = weeks[den].to_numpy() if den else np.ones_like(y)
        fit = sm.WLS(y, X, weights=w).fit(cov_type="HAC", cov_kwds={"maxlags": HAC_LAGS})
        (a, b), cov = fit.params[:2], fit.cov_params()[:2, :2]
        if a <= 0:
            continue
        g = b / a
        # delta method for b / a: gradient (-b / a^2, 1 / a)
        grad = np.array([-b / a ** 2, 1.0 / a])
        se = float(np.sqrt(grad @ cov @ grad))
        rows.append((label, float(a), float(b), float(g), float(g - z * se), float(g + z * se), len(y)))
    return pl.DataFrame(rows, schema=schema, orient="row").with_columns(
        pl.col("level_at_start", "change_per_year", "growth_per_year", "growth_low", "growth_high").round(4))
