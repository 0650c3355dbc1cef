"""The points ledger of programme members (points.csv), from its own stream "points".

Earnings, welcome bonuses and expiries follow from the orders by rule; only which rewards
are redeemed, and when, is drawn. See params.PointsProgram for the rules.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from core.demo.calendar import Calendar
from core.demo.params import POINTS, PROGRAM
from core.demo.purchases import OrderLines

TIERS = ("bronze", "silver", "gold")
# Within a day: earnings first, then rewards, then expiry (the order the ledger is written in).
_KIND_ORDER = {"adjust": 0, "earn": 1, "redeem": 2, "expire": 3}


def order_amounts(tx: pl.DataFrame, orders: int) -> np.ndarray:
    """Each simulated order's value in the transactions table (its sale lines: ids O000001...,
    not the returns' -R lines nor the promotions' copied orders), by order index."""
    sales = tx.filter(pl.col("order_id").str.starts_with("O"), ~pl.col("order_id").str.ends_with("-R"))
    index = (sales["order_id"].str.slice(1).cast(pl.Int64) - 1).to_numpy()
    return np.bincount(index, weights=sales["amount"].to_numpy(), minlength=orders)


def points_ledger(rng: np.random.Generator, cal: Calendar, cust_id: pl.Series, member: np.ndarray,
                  member_day: np.ndarray, lines: OrderLines, amounts: np.ndarray) -> pl.DataFrame:
    """customer_id, date, points, kind, reason, order_id, tier; sorted by date and customer.

    `amounts` are the orders' values as written to transactions (order_amounts), so the
    points follow the spend an analyst sees, after the price plants changed some lines."""
    width = max(6, len(str(len(lines.cust))))
    orders = pl.DataFrame({"cust": lines.cust, "day": lines.day.astype(np.int64),
                           "amount": np.asarray(amounts, dtype=np.float64),
                           "order": np.arange(len(lines.cust), dtype=np.int64)})
    members = pl.DataFrame({"cust": np.flatnonzero(member), "join": member_day[member].astype(np.int64)})
    bonus = members.select("cust", pl.col("join").alias("day"), pl.lit(0.0).alias("amount"),
                           pl.lit(None, pl.Int64).alias("order"))
    events = (pl.concat([orders.join(members, on="cust").drop("join"), bonus])
              .join(members, on="cust")
              .with_columns(pl.date(1970, 1, 1).alias("_epoch"))
              .sort("cust", "day", pl.col("order").is_not_null(), "order"))
    # Gross spend in the 365 days before each event's day (that day's own orders left out).
    events = events.with_columns(
        (pl.col("_epoch") + pl.duration(days=pl.col("day"))).alias("_date")
    ).with_columns(
        pl.col("amount").rolling_sum_by("_date", window_size="365d", closed="left").over("cust")
        .fill_null(0.0).alias("trailing"),
    )
    silver, gold = PROGRAM.tier_thresholds
    tier = pl.when(pl.col("trailing") >= gold).then(2).when(pl.col("trailing") >= silver).then(1).otherwise(0)
    earning = (events.filter(pl.col("day") >= pl.col("join"))
               .with_columns(tier.alias("tier"))
               .with_columns(pl.when(pl.col("order").is_null()).then(float(POINTS.welcome_bonus))
                             .otherwise((pl.col("amount") * POINTS.earn_per_unit
                                         * pl.col("tier").replace_strict(dict(enumerate(POINTS.tier_multipliers)),
                                                                         return_dtype=pl.Float64)).floor())
                             .alias("points"))
               .filter(pl.col("points") > 0)
               .drop("_epoch", "_date", "trailing"))
    # Spells of activity: a gap of more than expiry_days lets the balance expire and starts anew.
    earning = earning.with_columns(
        (pl.col("day").diff().over("cust").fill_null(0) > POINTS.expiry_days).cum_sum().over("cust").alias("spell"),
    ).with_columns(pl.col("points").cum_sum().over("cust", "spell").alias("cum"))
    block = POINTS.redeem_block
    rewards = (earning.with_columns(((pl.col("cum") // block) - ((pl.col("cum") - pl.col("points")) // block))
                                    .cast(pl.Int64).alias("new"))
               .filter(pl.col("new") > 0)
               .select("cust", "spell", "day", "tier", pl.int_ranges("new").alias("_k"))
               .explode("_k").drop("_k"))
    spells = earning.group_by("cust", "spell").agg(
        pl.col("points").sum().alias("earned"),
        (pl.col("day").max() + POINTS.expiry_days).alias("expires"),
        pl.col("tier").last().alias("tier"))
    n = rewards.height
    redeemed = rng.random(n) < POINTS.redeem_prob
    delay = rng.geometric(1.0 / (POINTS.redeem_delay_mean_days + 1.0), n) - 1
    rewards = (rewards.with_columns(pl.Series("taken", redeemed), (pl.col("day") + pl.Series(delay)).alias("on"))
               .join(spells.select("cust", "spell", "expires"), on=["cust", "spell"])
               .filter(pl.col("taken"), pl.col("on") < pl.col("expires"), pl.col("on") <= cal.days - 1))
    used = rewards.group_by("cust", "spell").agg(pl.len().alias("rewards"))
    expiries = (spells.join(used, on=["cust", "spell"], how="left")
                .with_columns((pl.col("earned") - pl.col("rewards").fill_null(0) * block).alias("left"))
                .filter(pl.col("expires") <= cal.days - 1, pl.col("left") > 0))
    tier_names = pl.Series(TIERS)
    ledger = pl.concat([
        earning.select("cust", "day", "points",
                       pl.when(pl.col("order").is_null()).then(pl.lit("adjust")).otherwise(pl.lit("earn")).alias("kind"),
                       pl.when(pl.col("order").is_null()).then(pl.lit("welcome bonus")).alias("reason"), "order", "tier"),
        rewards.select("cust", pl.col("on").alias("day"), pl.lit(-float(block)).alias("points"),
                       pl.lit("redeem").alias("kind"), pl.lit("reward").alias("reason"),
                       pl.lit(None, pl.Int64).alias("order"), "tier"),
        expiries.select("cust", pl.col("expires").alias("day"), (-pl.col("left")).alias("points"),
                        pl.lit("expire").alias("kind"), pl.lit("no earning for a year").alias("reason"),
                        pl.lit(None, pl.Int64).alias("order"), "tier"),
    ])
    # Every column breaks ties, so rows the parallel join and group_by met in any order are
    # written in one order (same arguments, same bytes).
    ledger = ledger.sort("day", "cust", pl.col("kind").replace_strict(_KIND_ORDER, return_dtype=pl.Int8), "order",
                         "points", "tier", "reason", nulls_last=True, maintain_order=True)
    return pl.DataFrame({
        "customer_id": cust_id[ledger["cust"].to_numpy()],
        "date": cal.dates(ledger["day"].to_numpy()),
        "points": ledger["points"].cast(pl.Float64),
        "kind": ledger["kind"],
        "reason": ledger["reason"],
        "order_id": "O" + (ledger["order"] + 1).cast(pl.String).str.zfill(width),
        "tier": tier_names.gather(ledger["tier"].cast(pl.UInt32)),
    })
