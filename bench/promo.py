"""`python -m bench.promo [--rows 10000000]`: `report promotions` beside a bare Polars + statsmodels peer.

A synthetic transactions Parquet (rows lines over three years: a growing customer base, monthly
seasonality, a weekend lift, six tagged promotions with a known lift) is written once to --out.
Then, alternately (A B A B, so both see the same machine load), in fresh processes: Loyalist's
core.pricing.promotions.promotions on the scanned file, and a peer that reduces the lines to
daily sales, orders, units and new customers with Polars, fits statsmodels' GLM Poisson with
Newey-West errors on the same seasonal design (patsy B-splines, weekday, month, holiday dummies)
per metric, predicts each promotion's window, and computes the discount depth with a Polars
join. Both sales lifts must agree to 1e-6 (relative) before a time counts. Wall time and peak
memory (each child's own) go to bench/results/promo.json. Check it at a small size
(--rows 200000) before the 10M run.
"""

from __future__ import annotations

import sys
from pathlib import Path

from bench import alternating

START, DAYS, PRODUCTS = "2023-01-01", 3 * 365, 500
PROMOS = (("P1", "2023-04-05", 7), ("P2", "2023-09-13", 10), ("P3", "2024-03-06", 7),
          ("P4", "2024-07-10", 7), ("P5", "2025-05-14", 7), ("P6", "2025-10-15", 10))
LIFT, DISCOUNT = 0.4, 0.2


def make_data(rows: int, path: Path, seed: int = 1) -> None:
    import numpy as np
    import polars as pl

    rng = np.random.default_rng(seed)
    dates = np.datetime64(START) + np.arange(DAYS)
    month = dates.astype("datetime64[M]").astype(int) % 12
    weekday = (dates.astype(int) + 3) % 7
    season = np.array([0.85, 0.8, 0.9, 0.95, 1.0, 0.95, 0.9, 0.9, 0.95, 1.0, 1.35, 1.45])[month]
    weight = (0.3 + np.arange(DAYS) / DAYS) * season * np.where(weekday >= 5, 1.2, 1.0)
    promo = np.full(DAYS, "", dtype=object)
    for name, first, days in PROMOS:
        at = (dates - np.datetime64(first)).astype(int)
        inside = (at >= 0) & (at < days)
        weight = np.where(inside, weight * (1 + LIFT), weight)
        promo[inside] = name
    day = rng.choice(DAYS, size=rows, p=weight / weight.sum())
    product = rng.integers(0, PRODUCTS, rows)
    price = 5.0 + (product % 50)
    quantity = 1 + rng.poisson(0.3, rows)
    tagged = (promo[day] != "") & (rng.random(rows) < LIFT / (1 + LIFT))
    pl.DataFrame({
        "order_id": np.char.add("O", (np.arange(rows) // 2).astype(str)),
        "customer_id": np.char.add("C", rng.integers(0, max(rows // 20, 1), rows).astype(str)),
        "order_date": dates[day],
        "amount": np.round(price * quantity * np.where(tagged, 1 - DISCOUNT, 1.0), 2),
        "quantity": quantity.astype(np.float64),
        "product_id": np.char.add("P", product.astype(str)),
        "promo_id": pl.Series(np.where(tagged, promo[day], None).tolist(), dtype=pl.String),
    }).write_parquet(path)


def loyalist(path: Path) -> dict[str, float]:
    import polars as pl

    from core.pricing.promotions import promotions

    table = promotions(pl.scan_parquet(path)).tables["promotions"]
    return dict(zip(table["promo_id"].to_list(), table["sales_lift"].to_list()))


def peer(path: Path) -> dict[str, float]:
    """The same seasonal baseline by hand: Polars daily totals, statsmodels GLM per metric."""
    import datetime as dt

    import numpy as np
    import polars as pl
    import statsmodels.api as sm
    from patsy import bs

    from core.forecast.holidays import calendar, holiday_days

    lines = pl.scan_parquet(path).filter(pl.col("amount") > 0)
    daily, first, windows = pl.collect_all([
        lines.group_by("order_date").agg(pl.col("amount").sum().alias("sales"),
                                         pl.col("order_id").n_unique().alias("orders"),
                                         pl.col("quantity").sum().alias("units")),
        lines.group_by("customer_id").agg(pl.col("order_date").min()).group_by("order_date").len("new_customers"),
        lines.filter(pl.col("promo_id").is_not_null()).group_by("promo_id")
        .agg(pl.col("order_date").min().alias("start"), pl.col("order_date").max().alias("end")).sort("start")])
    lo, hi = daily["order_date"].min(), daily["order_date"].max()
    series = (pl.DataFrame({"order_date": pl.date_range(lo, hi, "1d", eager=True)})
              .join(daily, on="order_date", how="left").join(first, on="order_date", how="left").fill_null(0))
    dates = series["order_date"].to_numpy().astype("datetime64[D]")
    festive = holiday_days(calendar("both"), lo, hi)
    t = (dates - dates[0]).astype(float)
    inner = np.linspace(0, t[-1], round(t[-1] / 182) + 1)
    frame = series.select(pl.col("order_date").dt.weekday().alias("wd"), pl.col("order_date").dt.month().alias("m"))
    x = np.column_stack([np.asarray(bs(t, knots=inner[1:-1], degree=3, include_intercept=True, lower_bound=0,
                                       upper_bound=t[-1]))]
                        + [(frame["wd"] == k).to_numpy().astype(float) for k in range(2, 8)]
                        + [(frame["m"] == k).to_numpy().astype(float) for k in range(2, 13)]
                        + [np.isin(dates, g["date"].to_numpy().astype("datetime64[D]")).astype(float)
                           for _, g in festive.group_by("holiday", maintain_order=True)])
    quiet = np.ones(len(dates), bool)
    masks = {}
    for name, start, end in windows.iter_rows():
        own = (dates >= np.datetime64(start)) & (dates <= np.datetime64(end))
        quiet &= ~own & ~((dates > np.datetime64(end)) & (dates <= np.datetime64(end + dt.timedelta(days=14))))
        masks[name] = own
    x = x[:, x[quiet].any(axis=0)]
    lifts = {}
    for metric in ("sales", "orders", "units", "new_customers"):
        y = series[metric].to_numpy().astype(float)
        fit = sm.GLM(y[quiet], x[quiet], family=sm.families.Poisson()).fit(
            cov_type="HAC", cov_kwds={"maxlags": 14}, tol=1e-13)
        for name, own in masks.items():
            mu = fit.predict(x[own])
            grad = mu @ x[own]
            _ = grad @ fit.cov_params() @ grad  # the interval's parameter part, as Loyalist computes it
            if metric == "sales":
                lifts[name] = float(y[own].sum() - mu.sum())
    regular = (pl.scan_parquet(path).filter((pl.col("amount") > 0) & pl.col("promo_id").is_null())
               .join_where(windows.lazy().with_columns((pl.col("start") - pl.duration(weeks=8)).alias("from")),
                           pl.col("order_date") < pl.col("start"), pl.col("order_date") >= pl.col("from"))
               .group_by("promo_id", "product_id").agg((pl.col("amount").sum() / pl.col("quantity").sum()).alias("p")))
    (lines.filter(pl.col("promo_id").is_not_null()).join(regular, on=["promo_id", "product_id"])
     .group_by("promo_id").agg(1 - pl.col("amount").sum() / (pl.col("quantity") * pl.col("p")).sum()).collect())
    return lifts


def _agreement(ours: dict, theirs: dict) -> dict:
    worst = max(abs(ours[p] - theirs[p]) / max(abs(theirs[p]), 1.0) for p in theirs)
    if worst > 1e-6:
        raise SystemExit(f"Loyalist and the peer disagree on a sales lift by {worst:.2e} (relative)")
    return {"max_relative_lift_difference": worst}


def main() -> None:
    alternating.main(sys.modules[__name__], "promo", _agreement)


if __name__ == "__main__":
    main()
