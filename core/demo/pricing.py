"""Planted promotions and price paths on the finished transactions table.

They act on the table (after every other draw), so no other stream's draws move:
- promotions (stream "promotions"): per params.PROMOTIONS, extra orders copied from the
  60 days before each promotion and a share of the orders after it moved into it, all
  tagged with its promo_id (and, last of all, sold at its discount);
- prices (stream "prices"): in the categories of params.PRICE_PLANTS, each product's unit
  price in a calendar month is list / UNITS_PER_LINE x (1 - markdown), markdowns drawn
  independently of demand; a line's units are its drawn value at the regular price times
  (1 - markdown) ** elasticity, so its value moves by (1 - markdown) ** (1 + elasticity) and
  every spend truth (order values, member lift) holds in expectation.

Returns follow their order: a moved order's return lines carry its promo_id, and a line's
refund is recomputed from its new price and units.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import numpy as np
import polars as pl

from core.demo.params import (
    MARKDOWN_DEPTHS,
    MARKDOWN_PROB,
    PRICE_PLANTS,
    PROMO_CLONE_DAYS,
    PROMOTIONS,
    UNITS_PER_LINE,
)

_SALE = pl.col("amount") > 0
_BASE_ORDER = pl.col("order_id").str.strip_suffix("-R")


def _window(promo) -> tuple[date, date]:
    start = date.fromisoformat(promo.start)
    return start, start + timedelta(days=promo.days - 1)


def plant_promotions(rng: np.random.Generator, tx: pl.DataFrame) -> tuple[pl.DataFrame, list[dict[str, Any]]]:
    """Add each promotion's copied orders and move its pulled-forward ones; returns the table
    (with a promo_id column) and per promotion the orders added and moved."""
    tx = tx.with_columns(pl.lit(None, dtype=pl.String).alias("promo_id"))
    windows = [_window(p) for p in PROMOTIONS]
    in_any = pl.any_horizontal([pl.col("order_date").is_between(s, e) for s, e in windows])
    realised = []
    for promo, (start, end) in zip(PROMOTIONS, windows):  # a handful of promotions, not rows
        sales = tx.filter(_SALE & pl.col("promo_id").is_null())
        orders = sales.group_by("order_id").agg(pl.col("order_date").first()).sort("order_id")
        in_window = orders.filter(pl.col("order_date").is_between(start, end)).height
        source = orders.filter(pl.col("order_date").is_between(start - timedelta(days=PROMO_CLONE_DAYS),
                                                               start - timedelta(days=1)))["order_id"]
        extra = int(rng.poisson(promo.lift * in_window))
        picked = source.gather(rng.integers(0, len(source), extra))
        clones = pl.DataFrame({
            "_source": picked,
            "_new": [f"{promo.promo_id}-{k:03d}" for k in range(1, extra + 1)],
            "_date": pl.Series([start + timedelta(days=int(d)) for d in rng.integers(0, promo.days, extra)],
                               dtype=pl.Date),
        })
        cloned = (clones.join(sales, left_on="_source", right_on="order_id", how="inner", maintain_order="left")
                  .with_columns(pl.col("_new").alias("order_id"), pl.col("_date").alias("order_date"),
                                pl.lit(promo.promo_id).alias("promo_id"))
                  .select(tx.columns))
        post = (orders.filter(pl.col("order_date").is_between(end + timedelta(days=1),
                                                              end + timedelta(days=promo.post_days)))
                .join(tx.filter(in_any).select("order_id").unique(), on="order_id", how="anti")
                .sort("order_id"))
        moving = rng.random(post.height) < promo.pull_forward
        moved = pl.DataFrame({
            "_base": post["order_id"].filter(pl.Series(moving)),
            "_date": pl.Series([start + timedelta(days=int(d))
                                for d in rng.integers(0, promo.days, int(moving.sum()))], dtype=pl.Date),
        })
        tx = (tx.with_columns(_BASE_ORDER.alias("_base"))
              .join(moved, on="_base", how="left", maintain_order="left")
              .with_columns(pl.when(pl.col("_date").is_not_null()).then(pl.lit(promo.promo_id))
                            .otherwise(pl.col("promo_id")).alias("promo_id"),
                            pl.when(pl.col("_date").is_not_null() & _SALE).then(pl.col("_date"))
                            .otherwise(pl.col("order_date")).alias("order_date"))
              .select(tx.columns))
        tx = pl.concat([tx, cloned])
        realised.append({"promo_id": promo.promo_id, "start": start.isoformat(), "end": end.isoformat(),
                         "orders_in_window_before": in_window, "extra_orders": extra,
                         "moved_orders": moved.height,
                         "_moved": moved["_base"], "_extra": clones["_new"]})
    return _sorted(tx), realised


def plant_prices(rng: np.random.Generator, tx: pl.DataFrame, products: pl.DataFrame) -> tuple[pl.DataFrame, dict]:
    """Monthly markdowns per product of the planted categories; their lines' prices and units
    follow (returns refund the new price)."""
    plants = pl.DataFrame({"category": [p.category for p in PRICE_PLANTS],
                           "_elasticity": [p.elasticity for p in PRICE_PLANTS]})
    ids = products.filter(pl.col("category").is_in(plants["category"].implode())).sort("product_id")
    months = pl.date_range(tx["order_date"].min().replace(day=1), tx["order_date"].max(), "1mo", eager=True)
    marked = rng.random((ids.height, len(months))) < MARKDOWN_PROB
    depth = np.asarray(MARKDOWN_DEPTHS)[rng.integers(0, len(MARKDOWN_DEPTHS), (ids.height, len(months)))]
    paths = pl.DataFrame({
        "product_id": np.repeat(ids["product_id"].to_numpy(), len(months)),
        "_month": np.tile(months.to_numpy(), ids.height),
        "_markdown": np.where(marked, depth, 0.0).ravel(),
    }).with_columns(pl.col("_month").cast(pl.Date))
    tx = tx.with_row_index("_row")
    lines = (tx.filter(_SALE).join(plants, on="category", how="inner")
             .with_columns(pl.col("order_date").dt.truncate("1mo").alias("_month"))
             .join(paths, on=["product_id", "_month"], how="left")
             .join(products.select("product_id", "list_price"), on="product_id", how="left")
             .sort("_row"))
    m = 1.0 - lines["_markdown"].to_numpy()
    price = lines["list_price"].to_numpy() * m / UNITS_PER_LINE
    # The line's value as drawn (the order's value split over its lines, which carries every
    # spend truth) buys units at the regular price, scaled by the demand response m ** elasticity;
    # rounded up or down at random (exact in expectation), at least one.
    target = lines["amount"].to_numpy() * m ** lines["_elasticity"].to_numpy() / (price / m)
    units = np.maximum(np.floor(target) + (rng.random(len(target)) < target - np.floor(target)), 1.0)
    q = lines["quantity"].to_numpy()
    new = pl.DataFrame({"_row": lines["_row"], "_key": lines["order_id"], "product_id": lines["product_id"],
                        "_q": units.astype(np.float64), "_price": price, "_old_q": q})
    refunds = (tx.filter(~_SALE).with_columns(_BASE_ORDER.alias("_key"))
               .join(new.drop("_row"), on=["_key", "product_id"], how="inner")
               .with_columns(pl.when(-pl.col("quantity") == pl.col("_old_q")).then(pl.col("_q"))
                             .otherwise((pl.col("_q") // 2).clip(lower_bound=1)).alias("_q"))
               .select("_row", "_q", "_price", pl.lit(-1.0).alias("_sign")))
    changes = pl.concat([new.select("_row", "_q", "_price", pl.lit(1.0).alias("_sign")), refunds])
    tx = (tx.join(changes, on="_row", how="left", maintain_order="left")
          .with_columns(pl.when(pl.col("_q").is_not_null())
                        .then((pl.col("_sign") * pl.col("_q") * pl.col("_price")).round(2))
                        .otherwise(pl.col("amount")).alias("amount"),
                        pl.when(pl.col("_q").is_not_null()).then(pl.col("_sign") * pl.col("_q"))
                        .otherwise(pl.col("quantity")).alias("quantity"))
          .drop("_row", "_q", "_price", "_sign"))
    realised = {"product_months_marked_down": int(marked.sum()), "lines_repriced": new.height,
                "units": int(units.sum())}
    return tx, realised


def discount_promotions(tx: pl.DataFrame, realised: list[dict[str, Any]]) -> tuple[pl.DataFrame, list[dict]]:
    """Sell every promotion's tagged orders (and refund their returns) at its discount; fill in
    the revenue the promotions added and moved."""
    discounts = pl.DataFrame({"promo_id": [p.promo_id for p in PROMOTIONS],
                              "_discount": [p.discount for p in PROMOTIONS]})
    before = tx
    tx = (tx.join(discounts, on="promo_id", how="left", maintain_order="left")
          .with_columns(pl.when(pl.col("_discount").is_not_null())
                        .then((pl.col("amount") * (1 - pl.col("_discount"))).round(2))
                        .otherwise(pl.col("amount")).alias("amount"))
          .drop("_discount"))
    out = []
    for row in realised:
        extra, moved = row.pop("_extra"), row.pop("_moved")
        sales = tx.filter(_SALE)
        row["extra_revenue"] = round(float(sales.filter(pl.col("order_id").is_in(extra.implode()))["amount"].sum()), 2)
        row["moved_revenue"] = round(float(sales.filter(pl.col("order_id").is_in(moved.implode()))["amount"].sum()), 2)
        row["moved_revenue_undiscounted"] = round(float(
            before.filter(_SALE & pl.col("order_id").is_in(moved.implode()))["amount"].sum()), 2)
        out.append(row)
    return tx, out


def _sorted(tx: pl.DataFrame) -> pl.DataFrame:
    """Date, then order id, keeping each order's lines (and a return right after its order) in order."""
    return (tx.with_row_index("_line")
            .sort("order_date", _BASE_ORDER, pl.col("order_id").str.ends_with("-R"), "_line")
            .drop("_line"))
