"""Tiers over time, from the points ledger's tier column: movement between two dates, time in
tier and retention by tier.

A customer's tier on a day is the tier of their last ledger row on or before it (a tier
holds until a row says otherwise). A tier spell runs from the first row in a tier to the
first row in another; a spell still running on the as-of date is censored there, so time
in tier is a Kaplan-Meier estimate, not the mean of finished spells alone.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from core.errors import AnalysisError
from core.evaluate.engagement import wilson
from core.evaluate.inputs import UNNAMED, on_or_before, require, require_columns, require_rows
from core.evaluate.points import kaplan_meier
from core.result import Chart, Result

ANALYSIS = "tiers report"
NONE = "(none)"
# Tier names in their usual order, lowest first; a ledger using others gives --order.
KNOWN_ORDERS = (
    ("basic", "bronze", "silver", "gold", "platinum", "diamond"),
    ("standard", "silver", "gold", "platinum", "black"),
    ("普通", "铜卡", "银卡", "金卡", "白金", "白金卡", "钻石", "钻石卡"),
)


def tiers(
    points: pl.LazyFrame | None,
    transactions: pl.LazyFrame | None = None,
    *,
    start: dt.date | None = None,
    as_of: dt.date | None = None,
    order: list[str] | None = None,
    confidence: float = 0.95,
    workspace: str = UNNAMED,
) -> Result:
    """Tier movement from `start` to `as_of`, time in tier, and retention by the tier at `start`."""
    require(points, "points", ANALYSIS, workspace)
    require_columns(points, "points", ("tier",), ANALYSIS, "add each row's tier as 'tier' (the customer's tier "
                    "when the points moved)")
    rows = points.filter(pl.col("tier").is_not_null()).select("customer_id", "date", pl.col("tier").cast(pl.String))
    last = rows.select(pl.col("date").max()).collect().item()
    if last is None:
        raise AnalysisError(f"{ANALYSIS}: no points row has a tier. Fix: fill in the tier column")
    as_of = as_of or last
    start = start or as_of - dt.timedelta(days=365)
    if start >= as_of:
        raise AnalysisError(f"{ANALYSIS}: --from {start} is not before the as-of date {as_of}. "
                            "Fix: give an earlier --from")
    rows = rows.filter(on_or_before(pl.col("date"), as_of))
    active = _activity(points, transactions, start, as_of)
    at = (rows.sort("date").group_by("customer_id").agg(
        pl.col("tier").filter(pl.col("date") <= start).last().alias("from_tier"),
        pl.col("tier").last().alias("to_tier")))
    spells = _spells(rows)
    people, spells, active = pl.collect_all([at, spells, active])
    rank = tier_rank(sorted(set(spells["tier"].drop_nulls())), order)
    notes = [f"A customer's tier on a day is the tier of their last points row on or before it. From {start} to "
             f"{as_of}; tier order (lowest first): {', '.join(rank)}."]
    if order is None and not _known(rank):
        notes.append("The tier names are not a known ladder, so they are ordered alphabetically: give --order "
                     "(lowest first) for upgrades and downgrades to mean something.")
    require_rows(people.height, 1, f"customers with a tier on or before {as_of}", ANALYSIS)
    index = {tier: i for i, tier in enumerate(rank)}
    people = people.with_columns(
        pl.col("from_tier").replace_strict(index, default=None, return_dtype=pl.Int64).alias("_from"),
        pl.col("to_tier").replace_strict(index, default=None, return_dtype=pl.Int64).alias("_to"))
    move = (pl.when(pl.col("_from").is_null()).then(pl.lit("new"))
            .when(pl.col("_to") > pl.col("_from")).then(pl.lit("upgrade"))
            .when(pl.col("_to") < pl.col("_from")).then(pl.lit("downgrade")).otherwise(pl.lit("stay")))
    people = people.with_columns(move.alias("movement"))
    counts = {m: int((people["movement"] == m).sum()) for m in ("upgrade", "downgrade", "stay", "new")}
    had = counts["upgrade"] + counts["downgrade"] + counts["stay"]
    retention = retention_table(people, active, rank, confidence)
    headline = {
        "customer_count": people.height, "upgrades": counts["upgrade"], "downgrades": counts["downgrade"],
        "stays": counts["stay"], "new_to_tiers": counts["new"],
        "upgrade_rate": counts["upgrade"] / had if had else None,
        "downgrade_rate": counts["downgrade"] / had if had else None,
    }
    notes.append("Retention: customers in a tier on the start date with points earned (or, with transactions, a "
                 "purchase) after it, up to the as-of date; Wilson intervals.")
    return Result(
        name="report.tiers",
        title=f"Tiers from {start} to {as_of}",
        tables={"movement": movement_matrix(people, rank), "time_in_tier": time_in_tier(spells, as_of, rank),
                "retention": retention, "customers": people.drop("_from", "_to").sort("customer_id")},
        headline=headline,
        charts=(Chart("heatmap", "Tier movement", "movement", "from_tier"),
                Chart("bar", "Retention by tier", "retention", "tier", ("retention_rate",))),
        params={"start": start, "as_of": as_of, "order": rank, "confidence": confidence},
        notes=tuple(notes),
    )


def _known(rank: list[str]) -> bool:
    lowered = [t.lower() for t in rank]
    return any(all(t in ladder for t in lowered) for ladder in KNOWN_ORDERS)


def tier_rank(seen: list[str], order: list[str] | None) -> list[str]:
    """The tiers lowest first: --order, else a known ladder the names fit, else alphabetical."""
    if order:
        missing = [t for t in seen if t not in order]
        if missing:
            raise AnalysisError(f"{ANALYSIS}: tier(s) {', '.join(map(repr, missing))} are in the ledger but not in "
                                f"--order ({', '.join(order)}). Fix: list every tier, lowest first")
        return list(order)
    for ladder in KNOWN_ORDERS:
        if all(t.lower() in ladder for t in seen):
            return sorted(seen, key=lambda t: ladder.index(t.lower()))
    return sorted(seen)


def _activity(points: pl.LazyFrame, transactions: pl.LazyFrame | None, start: dt.date,
              as_of: dt.date) -> pl.LazyFrame:
    """Customers who earned points (or bought) after start, up to as_of."""
    from core import ledger

    window = (pl.col("date") > start) & (pl.col("date") <= as_of)
    earned = points.filter(window, ledger.kind_of() == ledger.EARN).select("customer_id")
    if transactions is not None:
        bought = transactions.filter(pl.col("amount") > 0, pl.col("order_date") > start,
                                     pl.col("order_date") <= as_of).select("customer_id")
        earned = pl.concat([earned, bought])
    return earned.unique()


def _spells(rows: pl.LazyFrame) -> pl.LazyFrame:
    """Per customer, runs of the same tier: tier, first day, first day of the next run (null if none)."""
    return (rows.sort("customer_id", "date")
            .with_columns((pl.col("tier") != pl.col("tier").shift(1).over("customer_id")).fill_null(True)
                          .cum_sum().over("customer_id").alias("_spell"))
            .group_by("customer_id", "_spell").agg(pl.col("tier").first(), pl.col("date").min().alias("began"))
            .sort("customer_id", "_spell")
            .with_columns(pl.col("began").shift(-1).over("customer_id").alias("ended"))
            .drop("_spell"))


def movement_matrix(people: pl.DataFrame, rank: list[str]) -> pl.DataFrame:
    """Customers by tier on the start date (rows, (none) = no tier yet) and on the as-of date (columns)."""
    counts = people.group_by("from_tier", "to_tier").len()
    rows = []
    for f in [NONE, *rank]:
        mine = counts.filter(pl.col("from_tier").is_null() if f == NONE else pl.col("from_tier") == f)
        got = dict(zip(mine["to_tier"].to_list(), mine["len"].to_list()))
        rows.append({"from_tier": f, **{t: int(got.get(t, 0)) for t in rank}, "customers": int(sum(got.values()))})
    return pl.DataFrame(rows, schema={"from_tier": pl.String, **{t: pl.Int64 for t in rank}, "customers": pl.Int64})


def time_in_tier(spells: pl.DataFrame, as_of: dt.date, rank: list[str]) -> pl.DataFrame:
    out = []
    for tier in rank:
        mine = spells.filter(pl.col("tier") == tier)
        ended = mine["ended"].is_not_null().to_numpy()
        end = mine.select(pl.col("ended").fill_null(pl.lit(as_of))).to_series()
        days = (end - mine["began"]).dt.total_days().to_numpy().astype(float)
        times, _, _, surv = kaplan_meier(days, ended)
        below = surv <= 0.5
        out.append({"tier": tier, "spells": mine.height, "spells_ended": int(ended.sum()),
                    "median_days_in_tier": float(times[np.argmax(below)]) if below.any() else None,
                    "mean_days_of_ended_spells": float(days[ended].mean()) if ended.any() else None})
    return pl.DataFrame(out, schema={"tier": pl.String, "spells": pl.Int64, "spells_ended": pl.Int64,
                                     "median_days_in_tier": pl.Float64, "mean_days_of_ended_spells": pl.Float64})


def retention_table(people: pl.DataFrame, active: pl.DataFrame, rank: list[str], confidence: float) -> pl.DataFrame:
    flagged = (people.filter(pl.col("from_tier").is_not_null())
               .join(active.with_columns(pl.lit(True).alias("_active")), on="customer_id", how="left"))
    table = (flagged.group_by(pl.col("from_tier").alias("tier"))
             .agg(pl.len().alias("customers"), pl.col("_active").fill_null(False).sum().alias("retained")))
    order = pl.DataFrame({"tier": rank, "_order": list(range(len(rank)))})
    table = order.join(table, on="tier", how="inner").sort("_order").drop("_order")
    hits, n = pl.col("retained").cast(pl.Float64), pl.col("customers").cast(pl.Float64)
    return table.with_columns((hits / n).alias("retention_rate"), *wilson(hits, n, "retention_rate", confidence))
