"""`python -m bench.pricing [--rows 10000000]`: `report pricing` beside a bare Polars + statsmodels peer.

A synthetic transactions Parquet (rows lines of 2,000 products in 20 categories over two years,
weekly markdowns drawn independently of demand, a known elasticity per category) is written
once to --out. Then, alternately (A B A B, so both see the same machine load), in fresh
processes: Loyalist's core.pricing.elasticity.pricing on the scanned file (its default, PPML),
and a peer that builds the same product-week panel with Polars (zero-unit weeks kept, the last
price carried forward) and runs the Poisson IRLS with Polars window sums (see peer()). Both
elasticities must agree to 1e-6 before a time counts. Wall time and peak memory (each child's own) go to
bench/results/pricing.json. Check it at a small size (--rows 200000) before the 10M run.
"""

from __future__ import annotations

import sys
from pathlib import Path

from bench import alternating

CATEGORIES, PRODUCTS, WEEKS = 20, 2000, 104


def make_data(rows: int, path: Path, seed: int = 1) -> None:
    import numpy as np
    import polars as pl

    rng = np.random.default_rng(seed)
    elasticity = -0.5 - 2.5 * rng.random(CATEGORIES)
    category = np.arange(PRODUCTS) % CATEGORIES
    base = 5.0 * np.exp(rng.normal(1.0, 0.6, PRODUCTS))
    markdown = np.where(rng.random((PRODUCTS, WEEKS)) < 0.3, rng.choice([0.1, 0.2, 0.3], (PRODUCTS, WEEKS)), 0.0)
    price = base[:, None] * (1 - markdown)
    popularity = 1.0 / np.arange(1, PRODUCTS + 1) ** 0.8
    demand = popularity[:, None] * (1 - markdown) ** elasticity[category][:, None]
    cell = rng.choice(PRODUCTS * WEEKS, size=rows, p=(demand / demand.sum()).ravel())
    product, week = cell // WEEKS, cell % WEEKS
    quantity = 1 + rng.poisson(0.3, rows)
    start = np.datetime64("2024-01-01")
    pl.DataFrame({
        "customer_id": rng.integers(0, max(rows // 20, 1), rows).astype(str),
        "order_date": start + (7 * week + rng.integers(0, 7, rows)).astype("timedelta64[D]"),
        "amount": np.round(price[product, week] * quantity, 2),
        "quantity": quantity.astype(np.float64),
        "product_id": np.char.add("P", product.astype(str)),
        "category": np.char.add("C", category[product].astype(str)),
    }).write_parquet(path)


def loyalist(path: Path) -> dict[str, float]:
    import polars as pl

    from core.pricing.elasticity import pricing

    table = pricing(pl.scan_parquet(path), min_periods=8).tables["categories"]
    return dict(zip(table["category"].to_list(), table["elasticity"].to_list()))


def peer(path: Path) -> dict[str, float]:
    """The same PPML by hand: Polars builds the product-week panel (zero-unit weeks between a
    product's first and last sale, the last price paid carried forward) and runs the Poisson
    IRLS, every category at once: each step's weighted least squares on product and week dummies
    by weighted demeaning with Polars window sums, its slope per category from group sums.
    (statsmodels' GLM with every dummy takes minutes a category at this panel size; the tests
    check Loyalist against it on small panels.)"""
    import polars as pl

    sold = (pl.scan_parquet(path).filter((pl.col("quantity") > 0) & (pl.col("amount") > 0))
            .with_columns(pl.col("order_date").dt.truncate("1w").alias("week"))
            .group_by("category", "product_id", "week")
            .agg(pl.col("quantity").sum().alias("units"), pl.col("amount").sum().alias("revenue"))
            .filter(pl.len().over("category", "product_id") >= 8)
            .collect())
    weeks = sold.select("category", "week").unique()
    span = sold.group_by("category", "product_id").agg(pl.col("week").min().alias("first"),
                                                        pl.col("week").max().alias("last"))
    frame = (span.join(weeks, on="category").filter(pl.col("week").is_between(pl.col("first"), pl.col("last")))
             .join(sold, on=["category", "product_id", "week"], how="left").sort("category", "product_id", "week")
             .select("category", "product_id", "week", pl.col("units").fill_null(0.0).alias("y"),
                     (pl.col("revenue") / pl.col("units")).forward_fill().over("category", "product_id").log()
                     .alias("x")))
    frame = frame.with_columns(((pl.col("y") + pl.col("y").mean().over("category", "product_id")) / 2)
                               .clip(lower_bound=1e-3).alias("mu"))
    frame = frame.with_columns(pl.col("mu").log().alias("eta"), pl.lit(0.0).alias("beta"))
    keys = (["category", "product_id"], ["category", "week"])
    for _ in range(100):  # IRLS
        frame = frame.with_columns((pl.col("eta") + (pl.col("y") - pl.col("mu")) / pl.col("mu")).alias("z"))
        frame = frame.with_columns(pl.col("z").alias("zt"), pl.col("x").alias("xt"))
        for _ in range(10_000):  # alternate the two weighted demeanings until they settle
            before = frame["xt"].to_numpy().copy(), frame["zt"].to_numpy().copy()
            for key in keys:
                frame = frame.with_columns(
                    pl.col(v) - (pl.col(v) * pl.col("mu")).sum().over(key) / pl.col("mu").sum().over(key)
                    for v in ("zt", "xt"))
            moved = max(abs(frame["xt"].to_numpy() - before[0]).max(), abs(frame["zt"].to_numpy() - before[1]).max())
            if moved < 1e-13 * max(1.0, float(frame["z"].abs().max())):
                break
        old = frame["beta"].to_numpy().copy()
        frame = frame.with_columns(((pl.col("mu") * pl.col("xt") * pl.col("zt")).sum().over("category")
                                    / (pl.col("mu") * pl.col("xt") ** 2).sum().over("category")).alias("beta"))
        frame = frame.with_columns((pl.col("z") - pl.col("zt") + pl.col("beta") * pl.col("xt")).alias("eta"))
        frame = frame.with_columns(pl.col("eta").exp().alias("mu"))
        if abs(frame["beta"].to_numpy() - old).max() < 1e-11:
            break
    betas = frame.group_by("category").agg(pl.col("beta").first())
    return dict(zip(betas["category"].to_list(), betas["beta"].to_list()))


def _agreement(ours: dict, theirs: dict) -> dict:
    worst = max(abs(ours[c] - theirs[c]) for c in theirs)
    if worst > 1e-6:
        raise SystemExit(f"Loyalist and the peer disagree on an elasticity by {worst:.2e}")
    return {"target_seconds": 20.0, "max_elasticity_difference": worst}


def main() -> None:
    alternating.main(sys.modules[__name__], "pricing", _agreement)


if __name__ == "__main__":
    main()
