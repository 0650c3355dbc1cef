"""Ranking metrics of top-k recommendations against what each customer bought next.

For one customer with recommendations at ranks 1..k and R relevant items (bought in the
test window, not bought before):
- precision@k = hits / k; recall@k = hits / R; hit = at least one hit;
- AP@k = (sum over hit ranks r of precision@r) / min(R, k); MAP@k is its mean;
- NDCG@k = DCG / ideal DCG, DCG = sum over hit ranks r of 1 / log2(r + 1), the ideal DCG
  the same with min(R, k) hits at ranks 1.. (binary relevance).
A customer with fewer than k recommendations is still divided by k: an empty slot is a miss.
"""

from __future__ import annotations

import numpy as np
import polars as pl

PER_CUSTOMER = ("precision", "recall", "ap", "ndcg", "hit")


def per_customer(recommended: pl.DataFrame, relevant: pl.DataFrame, k: int) -> pl.DataFrame:
    """One row per customer of `relevant` (customer, item): the metrics of their top-k in
    `recommended` (customer, rank, item). Customers with no recommendation score 0."""
    top = recommended.filter(pl.col("rank") <= k)
    hits = top.join(relevant.with_columns(pl.lit(True).alias("_hit")), on=["customer", "item"], how="left") \
        .with_columns(pl.col("_hit").fill_null(False)).sort("customer", "rank")
    hits = hits.with_columns(pl.col("_hit").cast(pl.Int64).cum_sum().over("customer").alias("_so_far"))
    per = hits.group_by("customer").agg(
        pl.col("_hit").sum().alias("hits"),
        (pl.col("_so_far") / pl.col("rank")).filter(pl.col("_hit")).sum().alias("_ap_sum"),
        (1.0 / (pl.col("rank") + 1).log(2)).filter(pl.col("_hit")).sum().alias("_dcg"),
    )
    wanted = relevant.group_by("customer").agg(pl.len().alias("relevant"))
    ideal = _ideal_dcg(k)
    return wanted.join(per, on="customer", how="left").with_columns(
        pl.col("hits").fill_null(0), pl.col("_ap_sum").fill_null(0.0), pl.col("_dcg").fill_null(0.0),
    ).select(
        "customer", "relevant", "hits",
        (pl.col("hits") / k).alias("precision"),
        (pl.col("hits") / pl.col("relevant")).alias("recall"),
        (pl.col("_ap_sum") / pl.min_horizontal(pl.col("relevant"), pl.lit(k))).alias("ap"),
        (pl.col("_dcg") / pl.col("relevant").clip(upper_bound=k).replace_strict(
            np.arange(1, k + 1), ideal[1:], return_dtype=pl.Float64)).alias("ndcg"),
        (pl.col("hits") > 0).alias("hit"),
    ).sort("customer")


def _ideal_dcg(k: int) -> np.ndarray:
    """ideal[r] = DCG of r hits at ranks 1..r (ideal[0] = 0)."""
    return np.concatenate(([0.0], np.cumsum(1.0 / np.log2(np.arange(2, k + 2)))))
