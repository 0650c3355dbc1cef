"""Behaviour before an anchor date, and nearest-neighbour matching on it.

Used where no randomised holdout exists (campaign comparison groups, loyalty-program
members): each treated customer is compared with the untreated customer whose behaviour
in the year before the same anchor date was closest, so customers who were already
buying more are not counted as an effect.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy.spatial import cKDTree  # not sklearn.neighbors: in sklearn 1.9 that imports rich

from core.errors import AnalysisError

PRE_DAYS = 365
# Behaviour measured before the anchor; log1p keeps big spenders from dominating distances.
FEATURES = ("pre_orders", "pre_revenue", "days_since", "tenure_days", "lifetime_orders")


def behaviour(transactions: pl.LazyFrame, anchors: pl.LazyFrame, pre_days: int = PRE_DAYS) -> pl.LazyFrame:
    """Anchors (customer_id, anchor, outcome_end, any keys) with behaviour around the anchor.

    pre_orders: purchase days in [anchor - pre_days, anchor); pre_revenue: net spend there;
    days_since: days from the last purchase before the anchor (2·pre_days if none);
    tenure_days / lifetime_orders: days since the first purchase and purchase days before it;
    post_orders / post_revenue: the same in [anchor, outcome_end].
    """
    rows = anchors.with_row_index("_anchor")
    d, a, end = pl.col("order_date"), pl.col("anchor"), pl.col("outcome_end")
    pre = (d < a) & (d >= a - pl.duration(days=pre_days))
    post = (d >= a) & (d <= end)
    buy = pl.col("amount") > 0
    # Each measure is a column that is null outside its window, reduced by a plain
    # min/max/sum/n_unique: the streaming group_by runs those in one pass, where filters
    # inside agg() fell back to a much slower per-group evaluation.
    windows = {"_pre_day": pre & buy, "_before_day": (d < a) & buy, "_post_day": post & buy}
    per_row = (
        rows.select("_anchor", "customer_id", "anchor", "outcome_end")
        .join(transactions.select("customer_id", "order_date", "amount"), on="customer_id")
        .filter(d <= end)
        .select("_anchor",
                *(pl.when(w).then(d).alias(name) for name, w in windows.items()),
                pl.when(pre).then(pl.col("amount")).alias("_pre_amount"),
                pl.when(post).then(pl.col("amount")).alias("_post_amount"))
    )

    def days(name: str) -> pl.Expr:  # distinct days; n_unique counts the null (no day) as one
        return pl.col(name).n_unique() - (pl.col(name).null_count() > 0).cast(pl.UInt32)

    stats = per_row.group_by("_anchor").agg(
        days("_pre_day").alias("pre_orders"),
        pl.col("_pre_amount").sum().alias("pre_revenue"),
        pl.col("_before_day").max().alias("_last"),
        pl.col("_before_day").min().alias("_first"),
        days("_before_day").alias("lifetime_orders"),
        days("_post_day").alias("post_orders"),
        pl.col("_post_amount").sum().alias("post_revenue"),
    )
    return rows.join(stats, on="_anchor", how="left").with_columns(
        (a - pl.col("_last")).dt.total_days().alias("days_since"),
        (a - pl.col("_first")).dt.total_days().alias("tenure_days"),
    ).select(
        pl.exclude("_anchor", "_last", "_first", "days_since", "tenure_days", "pre_orders", "pre_revenue",
                   "lifetime_orders", "post_orders", "post_revenue"),
        pl.col("pre_orders").fill_null(0).cast(pl.Int64),
        pl.col("pre_revenue").fill_null(0.0),
        pl.col("days_since").fill_null(2 * pre_days).clip(upper_bound=2 * pre_days),
        pl.col("tenure_days").fill_null(0),
        pl.col("lifetime_orders").fill_null(0).cast(pl.Int64),
        pl.col("post_orders").fill_null(0).cast(pl.Int64),
        pl.col("post_revenue").fill_null(0.0),
    )


@dataclass(frozen=True)
class Matched:
    """Treated outcomes against their matched controls'."""

    effect: float  # mean of treated - matched control outcome (ATT)
    se: float  # SD of the paired differences / sqrt(n); ignores the matching step itself
    treated_mean: float
    control_mean: float  # mean outcome of the matched controls
    n_treated: int
    n_controls: int  # distinct controls used
    balance: pl.DataFrame  # per feature: means and standardised differences before/after matching


def nearest_match(treated: pl.DataFrame, control: pl.DataFrame, outcome: str,
                  strata: str | None = None, features: tuple[str, ...] = FEATURES) -> Matched:
    """1-nearest-neighbour matching with replacement on standardised log1p features,
    within each stratum (e.g. the month of the anchor) when `strata` is given."""
    if treated.is_empty() or control.is_empty():
        raise AnalysisError("matching needs treated and untreated customers with a history. "
                            "Fix: widen the dates or add customers")
    scale = np.log1p(np.clip(pl.concat([treated.select(features), control.select(features)]).to_numpy(),
                             0, None)).std(axis=0)
    scale[scale == 0] = 1.0
    groups = treated[strata].unique().to_list() if strata else [None]
    t_y, c_y, matched, used = [], [], [], set()
    for g in groups:
        t = treated.filter(pl.col(strata) == g) if strata else treated
        c = control.filter(pl.col(strata) == g) if strata else control
        if c.is_empty():
            continue
        xt = np.log1p(np.clip(t.select(features).to_numpy(), 0, None)) / scale
        xc = np.log1p(np.clip(c.select(features).to_numpy(), 0, None)) / scale
        nearest = cKDTree(xc).query(xt, k=1)[1]
        t_y.append(t[outcome].to_numpy())
        c_y.append(c[outcome].to_numpy()[nearest])
        matched.append(c.select(features)[nearest])
        used.update((g, i) for i in np.unique(nearest))
    if not t_y:
        raise AnalysisError("no untreated customers to match with in the same periods. "
                            "Fix: widen the dates")
    ty, cy = np.concatenate(t_y), np.concatenate(c_y)
    diffs = ty - cy
    n = diffs.size
    balance = balance_table(treated, control, features).join(
        balance_table(treated, pl.concat(matched), features).select(
            "feature", pl.col("control_mean").alias("matched_mean"),
            pl.col("std_mean_diff").alias("std_mean_diff_matched")),
        on="feature", maintain_order="left")
    return Matched(float(diffs.mean()), float(diffs.std(ddof=1) / np.sqrt(n)) if n > 1 else float("nan"),
                   float(ty.mean()), float(cy.mean()), n, len(used), balance)


def balance_table(treated: pl.DataFrame, control: pl.DataFrame, features: tuple[str, ...]) -> pl.DataFrame:
    """Standardised mean difference of each feature, treated against all controls."""
    rows = []
    for f in features:
        t, c = treated[f].to_numpy().astype(float), control[f].to_numpy().astype(float)
        pooled = np.sqrt((t.var(ddof=1) + c.var(ddof=1)) / 2) if t.size > 1 and c.size > 1 else 0.0
        rows.append({"feature": f, "treated_mean": t.mean(), "control_mean": c.mean(),
                     "std_mean_diff": (t.mean() - c.mean()) / pooled if pooled else None})
    return pl.DataFrame(rows)
