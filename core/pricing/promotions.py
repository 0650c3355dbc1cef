"""Promotion lift against a counterfactual baseline (`report promotions`).

A promotion is a promo_id's days (its first to its last tagged sale), or, with no promo_id in
the transactions, a campaign's start_date..end_date. Per promotion and metric (sales, orders,
units, new customers, new members), store-wide daily totals in the promotion are compared with
a seasonal baseline (core.pricing.baseline: trend, weekday, calendar month and holidays, fitted
on the whole history outside every promotion and the days after it), with an interval for the
window's total. Beside it: a pre-period baseline (OLS of the daily total on a trend and
day-of-week over the `pre_weeks` before, blind to the season) and the same days 52 weeks
earlier where the data has them. The `post_days` after it give the dip (pull-forward).

Rules: days covered by two or more promotions are attributed to neither (counted in
overlap_days). A promotion whose months have no quiet days in another year (or with a holiday
seen only in promotions) is flagged: the pre-period lift, no interval. The pre-period leaves out
other promotions' days and the holidays of predict demand's calendar (core.forecast.holidays).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from core.errors import AnalysisError
from core.evaluate.inputs import UNNAMED, names, on_or_before, require, require_rows
from core.forecast.holidays import calendar, holiday_days
from core.pricing.baseline import SeasonalBaseline, month_of_year, weekday
from core.result import Chart, Result

ANALYSIS = "promotions report"
MIN_PRE_DAYS = 21
MIN_SEASONAL_DAYS = 180  # quiet days for a seasonal baseline to be fitted at all
MIN_MONTH_DAYS = 14  # quiet days of a promotion's month in another year, to learn the month's effect
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")
METRICS = ("sales", "orders", "units", "new_customers", "new_members")


def promotions(
    transactions: pl.LazyFrame | None,
    customers: pl.LazyFrame | None = None,
    campaigns: pl.LazyFrame | None = None,
    *,
    pre_weeks: int = 8,
    post_days: int = 14,
    margin: float | None = None,
    as_of: dt.date | None = None,
    confidence: float = 0.95,
    workspace: str = UNNAMED,
) -> Result:
    require(transactions, "transactions", ANALYSIS, workspace)
    if margin is not None and not 0 < margin <= 1:
        raise AnalysisError(f"{ANALYSIS}: --margin must be a fraction in (0, 1], got {margin}. "
                            "Fix: give the gross margin as a share of revenue, e.g. --margin 0.35")
    cols = names(transactions)
    tx = transactions.filter(on_or_before(pl.col("order_date"), as_of))
    sale = pl.col("amount") > 0
    order = pl.col("order_id") if "order_id" in cols else pl.struct("customer_id", "order_date")
    units = pl.col("quantity") if "quantity" in cols else pl.lit(None, dtype=pl.Float64)
    daily = tx.filter(sale).group_by("order_date").agg(
        pl.col("amount").sum().alias("sales"), order.n_unique().alias("orders"), units.sum().alias("units"))
    first = (tx.filter(sale).group_by("customer_id").agg(pl.col("order_date").min())
             .group_by("order_date").agg(pl.len().alias("new_customers")))
    frames = [daily, first]
    if "promo_id" in cols:
        frames.append(tx.filter(sale & pl.col("promo_id").is_not_null())
                      .select("promo_id", "order_date", "amount", "product_id" if "product_id" in cols
                              else pl.lit(None, dtype=pl.String).alias("product_id"), units.alias("quantity")))
    collected = pl.collect_all(frames)
    daily, first = collected[0], collected[1]
    notes = []
    tagged = collected[2] if len(collected) > 2 else None
    if tagged is not None and tagged.height:
        windows = (tagged.group_by("promo_id").agg(pl.col("order_date").min().alias("start"),
                                                   pl.col("order_date").max().alias("end")).sort("start", "promo_id"))
    elif campaigns is not None and {"start_date", "end_date"} <= set(names(campaigns)):
        windows = (campaigns.select(pl.col("campaign_id").alias("promo_id"), pl.col("start_date").alias("start"),
                                    pl.col("end_date").alias("end"))
                   .drop_nulls().collect().sort("start", "promo_id"))
        tagged = None
        notes.append("The transactions have no promo_id, so each campaign (start_date..end_date) is read as a "
                     "promotion; no discount depth without tagged lines.")
    else:
        raise AnalysisError(f"{ANALYSIS} needs promotions: a 'promo_id' column in transactions, or a campaigns "
                            "table with start_date and end_date. Fix: tag promotion lines with promo_id")
    require_rows(windows.height, 1, "promotions", ANALYSIS)
    if daily.height == 0:
        raise AnalysisError(f"{ANALYSIS} needs sales (positive amounts); this data has none. Fix: check the amounts")
    lo, hi = daily["order_date"].min(), daily["order_date"].max()
    days = pl.DataFrame({"order_date": pl.date_range(lo, hi, "1d", eager=True)})
    series = days.join(daily, on="order_date", how="left").join(first, on="order_date", how="left")
    if customers is not None and "member_since" in names(customers):
        joined = (customers.filter(pl.col("member_since").is_not_null())
                  .group_by(pl.col("member_since").cast(pl.Date).alias("order_date"))
                  .agg(pl.len().alias("new_members")).collect())
        series = series.join(joined, on="order_date", how="left")
    metrics = [m for m in METRICS if m in series.columns and not (m == "units" and "quantity" not in cols)]
    series = series.with_columns(pl.col(m).fill_null(0).cast(pl.Float64) for m in metrics)
    dates = series["order_date"].to_numpy().astype("datetime64[D]")
    values = {m: series[m].to_numpy() for m in metrics}

    starts = windows["start"].to_numpy().astype("datetime64[D]")
    ends = windows["end"].to_numpy().astype("datetime64[D]")
    in_window = (dates[:, None] >= starts[None, :]) & (dates[:, None] <= ends[None, :])
    covered = in_window.sum(axis=1)
    after = ((dates[:, None] > ends[None, :])
             & (dates[:, None] <= ends[None, :] + np.timedelta64(post_days, "D"))).any(axis=1)
    # Pre-period baselines are ordinary days: no promotion, and no holiday or shopping festival
    # of the forecast's calendar (a Spring Festival or 618 peak in the weeks before would inflate them).
    festive_days = holiday_days(calendar("both"), lo, hi)
    festive = festive_days["date"].to_numpy().astype("datetime64[D]")
    ordinary = (covered == 0) & ~np.isin(dates, festive)
    # The seasonal baseline keeps the holidays (each has its own effect) and leaves out every
    # promotion and the days after it (pull-forward), so no promotion is its own or another's baseline.
    holidays = {name: group["date"].to_numpy().astype("datetime64[D]")
                for (name,), group in festive_days.group_by("holiday", maintain_order=True)}
    quiet = (covered == 0) & ~after
    from threadpoolctl import threadpool_limits

    # A thousand days by fifty columns: a threaded BLAS only adds thread wake-ups to each small product.
    with threadpool_limits(limits=1, user_api="blas"):
        seasonal = ({m: SeasonalBaseline().fit(dates, values[m], quiet, holidays) for m in metrics}
                    if quiet.sum() >= MIN_SEASONAL_DAYS else {})
        rows, long = _per_promotion(windows, dates, values, metrics, in_window, covered, ordinary, quiet, holidays,
                                    seasonal, pre_weeks, post_days, confidence)
    metric_table = pl.DataFrame(long, infer_schema_length=None)
    if metric_table.height == 0 or metric_table["lift"].null_count() == metric_table.height:
        raise AnalysisError(f"{ANALYSIS} needs, for some promotion, a year of history around it (its months in "
                            f"another year) or at least {MIN_PRE_DAYS} days before it (outside other promotions) "
                            "to fit its baseline; none has. Fix: add history, or raise --pre-weeks")
    table = pl.DataFrame(rows, schema_overrides={"flag": pl.String}).join(
        metric_table.filter(pl.col("metric") == "sales").drop("metric"), on="promo_id", how="left")
    table = table.with_columns(
        (pl.col("lift") / pl.col("baseline")).alias("relative_lift"),
        pl.when(pl.col("lift") > 0).then((-pl.col("post_lift") / pl.col("lift")).clip(0.0, 1.0))  # 1: all of it, or more
        .alias("pull_forward_share"),
        (pl.col("lift") + pl.col("post_lift")).alias("net_lift"))
    if tagged is not None:
        table = table.join(_discounts(tagged, transactions, windows, pre_weeks), on="promo_id", how="left")
        if margin is not None:
            table = table.with_columns(
                (margin * pl.col("net_lift")).alias("incremental_margin"),
                pl.when(pl.col("discount_cost") > 0)
                .then(margin * pl.col("net_lift") / pl.col("discount_cost")).alias("roi"))
            notes.append(f"ROI: margin ({margin:.0%}) on the net incremental sales (lift plus the dip after) per "
                         "unit of discount given on the promotion's lines (against the same products' prices in "
                         "the weeks before).")
    table = table.rename({"observed": "sales", "baseline": "baseline_sales", "lift": "sales_lift",
                          "lift_ci_low": "sales_lift_ci_low", "lift_ci_high": "sales_lift_ci_high",
                          "post_observed": "post_sales", "post_baseline": "post_baseline_sales",
                          "post_lift": "post_dip", "post_lift_ci_low": "post_dip_ci_low",
                          "post_lift_ci_high": "post_dip_ci_high", "pre_lift": "pre_sales_lift",
                          "pre_lift_ci_low": "pre_sales_lift_ci_low", "pre_lift_ci_high": "pre_sales_lift_ci_high"})
    shares = {"relative_lift", "pull_forward_share", "discount_depth", "roi"}
    table = table.with_columns(pl.col(c).round(2) for c, t in table.schema.items() if t == pl.Float64 and c not in shares)
    metric_table = metric_table.with_columns(pl.col(c).round(2) for c, t in metric_table.schema.items()
                                             if t == pl.Float64)
    overlap = int(table["overlap_days"].sum())
    notes.insert(0, "Sales are gross (returns not subtracted). Baseline (seasonal): quasi-Poisson regression of the "
                 "store-wide daily total on a smooth trend (splines), day of week, calendar month and each holiday "
                 "of predict demand's calendar, fitted on every day of the history outside the promotions and their "
                 f"{post_days} days after, and predicted into each promotion and the days after it. {confidence:.0%} "
                 "intervals add the parameters' uncertainty (Newey-West) and the days' own noise (overdispersed, "
                 f"autocorrelated). pre_sales_lift: the second estimate, from the {pre_weeks} weeks before (OLS on a "
                 "trend and day of week; holidays left out), blind to the season. baseline_last_year: the same days "
                 "52 weeks earlier, where the data has them.")
    if overlap:
        notes.append(f"{overlap} promotion-day(s) fall in two or more promotions: attributed to neither "
                     "(left out of every lift and baseline).")
    flagged = table.filter(pl.col("flag").is_not_null())
    for row in flagged.iter_rows(named=True):
        notes.append(f"{row['promo_id']}: no seasonal baseline ({row['flag']}), so the lift shown is the "
                     f"{pre_weeks}-week pre-period's, without an interval: it assumes the season does not change "
                     "from those weeks into the promotion, which nothing in the data can check.")
    apart = table.filter(pl.col("flag").is_null() & ((pl.col("pre_sales_lift_ci_high") < pl.col("sales_lift_ci_low"))
                                                     | (pl.col("pre_sales_lift_ci_low") > pl.col("sales_lift_ci_high"))))
    for row in apart.iter_rows(named=True):
        notes.append(f"{row['promo_id']}: the pre-period estimate ({row['pre_sales_lift']:,.0f}) and the seasonal one "
                     f"({row['sales_lift']:,.0f}) disagree beyond their intervals: the weeks before differ in season "
                     "or trend from the promotion's; the seasonal baseline is the one shown.")
    short = table.filter(pl.col("baseline_sales").is_null())
    if short.height:
        notes.append(f"No baseline for {', '.join(short['promo_id'].to_list())}: no year around it to learn the "
                     f"season from and fewer than {MIN_PRE_DAYS} days before it outside other promotions and holidays.")
    headline = {"promotions_read": table.height, "overlap_days": overlap,
                "total_sales_lift": float(table["sales_lift"].drop_nulls().sum()),
                "total_net_lift": float(table["net_lift"].drop_nulls().sum())}
    return Result(
        name="report.promotions", title="Promotion lift against a baseline",
        tables={"promotions": table, "metrics": metric_table},
        headline=headline,
        charts=promotion_charts(),
        params={"pre_weeks": pre_weeks, "post_days": post_days, "margin": margin, "as_of": as_of,
                "confidence": confidence},
        notes=tuple(notes),
        kinds={**{f"promotions/{c}": "money" for c in ("post_dip", "post_dip_ci_low", "post_dip_ci_high", "net_lift",
                                                         "incremental_margin", "baseline_last_year",
                                                         "lift_vs_last_year", "pre_sales_lift",
                                                         "pre_sales_lift_ci_low", "pre_sales_lift_ci_high")},
               "relative_lift": "percent", "pull_forward_share": "percent", "discount_depth": "percent",
               "roi": "number", "metrics/observed": "number", "metrics/baseline": "number",
               "metrics/lift": "number", "metrics/lift_ci_low": "number", "metrics/lift_ci_high": "number",
               "metrics/post_observed": "number", "metrics/post_baseline": "number",
               "metrics/post_lift": "number", "metrics/baseline_last_year": "number",
               "metrics/lift_vs_last_year": "number",
               "metrics/pre_lift": "number", "metrics/pre_lift_ci_low": "number", "metrics/pre_lift_ci_high": "number"},
    )


def _per_promotion(windows: pl.DataFrame, dates: np.ndarray, values: dict, metrics: list, in_window: np.ndarray,
                   covered: np.ndarray, ordinary: np.ndarray, quiet: np.ndarray, holidays: dict, seasonal: dict,
                   pre_weeks: int, post_days: int, confidence: float) -> tuple[list, list]:
    """Per promotion, its row (days, flag) and per metric the seasonal and pre-period estimates."""
    starts = windows["start"].to_numpy().astype("datetime64[D]")
    ends = windows["end"].to_numpy().astype("datetime64[D]")
    rows, long = [], []
    for i, promo in enumerate(windows["promo_id"].to_list()):  # one promotion at a time, vectorised over days
        own = in_window[:, i]
        clean = own & (covered == 1)
        pre = (dates >= starts[i] - np.timedelta64(7 * pre_weeks, "D")) & (dates < starts[i]) & ordinary
        post = (dates > ends[i]) & (dates <= ends[i] + np.timedelta64(post_days, "D")) & (covered == 0)
        last_year = np.isin(dates, dates[clean] - np.timedelta64(364, "D")) & ordinary
        gap = (seasonal_gap(dates, quiet, clean | post, holidays, next(iter(seasonal.values())).columns_)
               if seasonal else "history too short for yearly seasonality")
        row = {"promo_id": promo, "start": windows["start"][i], "end": windows["end"][i],
               "days": int(own.sum()), "overlap_days": int((own & (covered > 1)).sum()), "pre_days": int(pre.sum()),
               "baseline_method": "pre-period, no interval" if gap else "seasonal", "flag": gap}
        for m in metrics:
            before = _pre_period(dates, values[m], pre, clean, post & ordinary, confidence)
            fit = (_unsure(before) if gap else
                   _seasonal_fit(seasonal[m], values[m], clean, post, confidence))
            yoy = (float(values[m][last_year].sum())
                   if last_year.sum() == clean.sum() and clean.any() else None)
            long.append({"promo_id": promo, "metric": m, **fit,
                         "pre_lift": before["lift"], "pre_lift_ci_low": before["lift_ci_low"],
                         "pre_lift_ci_high": before["lift_ci_high"],
                         "baseline_last_year": yoy,
                         "lift_vs_last_year": None if yoy is None else fit["observed"] - yoy})
        rows.append(row)
    return rows, long


def _design(dates: np.ndarray, origin: np.datetime64) -> np.ndarray:
    """Constant, trend (weeks since the promotion's first pre-day) and six day-of-week dummies."""
    t = (dates - origin).astype(np.int64)
    return np.column_stack([np.ones(len(t)), t / 7.0] + [(weekday(dates) == d).astype(float) for d in range(1, 7)])


def _empty(y: np.ndarray, own: np.ndarray, post: np.ndarray) -> dict:
    return {"observed": float(y[own].sum()), "baseline": None, "lift": None, "lift_ci_low": None,
            "lift_ci_high": None, "post_observed": float(y[post].sum()), "post_baseline": None,
            "post_lift": None, "post_lift_ci_low": None, "post_lift_ci_high": None}


def _pre_period(dates: np.ndarray, y: np.ndarray, pre: np.ndarray, own: np.ndarray, post: np.ndarray,
                confidence: float) -> dict:
    """Observed, baseline and lift (with its interval) in the promotion and in the days after,
    from OLS on the pre-period's trend and weekdays."""
    out = _empty(y, own, post)
    if pre.sum() < MIN_PRE_DAYS:
        return out
    from scipy.stats import t as student

    origin = dates[pre].min()
    x = _design(dates[pre], origin)
    beta, *_ = np.linalg.lstsq(x, y[pre], rcond=None)
    resid = y[pre] - x @ beta
    df = len(resid) - np.linalg.matrix_rank(x)
    sigma2 = float(resid @ resid) / df
    cov = sigma2 * np.linalg.pinv(x.T @ x)
    q = float(student.ppf(0.5 + confidence / 2, df))
    for key, mask in (("", own), ("post_", post)):
        if not mask.any():
            continue
        xf = _design(dates[mask], origin).sum(axis=0)
        base = float(xf @ beta)
        half = q * np.sqrt(float(xf @ cov @ xf) + mask.sum() * sigma2)
        lift = float(y[mask].sum()) - base
        out.update({f"{key}baseline": base, f"{key}lift": lift, f"{key}lift_ci_low": lift - half,
                    f"{key}lift_ci_high": lift + half})
    return out


def _unsure(fit: dict) -> dict:
    """A pre-period estimate shown for a promotion with no seasonal baseline: no interval."""
    return {**fit, **{k: None for k in ("lift_ci_low", "lift_ci_high", "post_lift_ci_low", "post_lift_ci_high")}}


def _seasonal_fit(model: SeasonalBaseline, y: np.ndarray, own: np.ndarray, post: np.ndarray,
                  confidence: float) -> dict:
    from scipy.stats import t as student

    out = _empty(y, own, post)
    q = float(student.ppf(0.5 + confidence / 2, max(model.df_, 1)))
    for key, mask in (("", own), ("post_", post)):
        if not mask.any():
            continue
        window = model.window(mask)
        half = q * np.sqrt(window.parameter_var + window.noise_var)
        lift = float(y[mask].sum()) - window.baseline
        out.update({f"{key}baseline": window.baseline, f"{key}lift": lift, f"{key}lift_ci_low": lift - half,
                    f"{key}lift_ci_high": lift + half})
    return out


def seasonal_gap(dates: np.ndarray, quiet: np.ndarray, window: np.ndarray, holidays: dict[str, np.ndarray],
                 learned: np.ndarray) -> str | None:
    """Why a window has no comparable seasonal information, or None: each calendar month it
    touches needs MIN_MONTH_DAYS quiet days of that month in another year, and each holiday in
    it an effect learned from quiet days."""
    month, year = month_of_year(dates), dates.astype("datetime64[Y]").astype(np.int64) + 1970
    for m in np.unique(month[window]):
        own_years = np.unique(year[window & (month == m)])
        if (quiet & (month == m) & ~np.isin(year, own_years)).sum() < MIN_MONTH_DAYS:
            return f"no other year with {MONTHS[m]}"
    holiday_learned = learned[-len(holidays):] if holidays else []
    for (name, days), known in zip(holidays.items(), holiday_learned):
        if np.isin(dates[window], days).any() and not known:
            return f"{name} falls only in promotions"
    return None


def _discounts(tagged: pl.DataFrame, transactions: pl.LazyFrame, windows: pl.DataFrame,
               pre_weeks: int) -> pl.DataFrame:
    """Discount depth of each promotion's lines against the same products' average price in the
    pre weeks (untagged sales), and the discount given in money."""
    cols = names(transactions)
    if "product_id" not in cols or "quantity" not in cols:
        return pl.DataFrame({"promo_id": windows["promo_id"], "discount_depth": [None] * windows.height,
                             "discount_cost": [None] * windows.height},
                            schema={"promo_id": pl.String, "discount_depth": pl.Float64, "discount_cost": pl.Float64})
    untagged = transactions.filter((pl.col("amount") > 0) & (pl.col("quantity") > 0)
                                   & pl.col("promo_id").is_null()).select("order_date", "product_id",
                                                                          "amount", "quantity")
    windows = windows.with_columns((pl.col("start") - pl.duration(weeks=pre_weeks)).alias("_from"))
    prices = (untagged.join_where(windows.lazy(), pl.col("order_date") < pl.col("start"),
                                  pl.col("order_date") >= pl.col("_from"))
              .group_by("promo_id", "product_id")
              .agg((pl.col("amount").sum() / pl.col("quantity").sum()).alias("_regular"))
              .collect())
    return (tagged.filter(pl.col("quantity") > 0).join(prices, on=["promo_id", "product_id"], how="inner")
            .group_by("promo_id")
            .agg((1 - pl.col("amount").sum() / (pl.col("quantity") * pl.col("_regular")).sum()).alias("discount_depth"),
                 ((pl.col("quantity") * pl.col("_regular")).sum() - pl.col("amount").sum()).round(2)
                 .alias("discount_cost")))


def promotion_charts() -> tuple[Chart, ...]:
    """Per promotion, the sales lift and the dip after it, each with its interval as whiskers."""
    return (Chart("bar", "Sales lift and dip after, per promotion, with their intervals", "promotions", "promo_id",
                  ("sales_lift", "post_dip"), intervals=(("sales_lift", "sales_lift_ci_low", "sales_lift_ci_high"),
                                                         ("post_dip", "post_dip_ci_low", "post_dip_ci_high"))),)
