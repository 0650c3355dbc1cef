"""`products.evaluate`: do the recommenders beat "show the best sellers"? On a time split.

Every method is fitted on the purchases up to `train_until` only and recommends k products
per customer, none of which the customer had bought by then. Its recommendations are
scored against the products each customer bought in the next `test_days` days that they
had not bought before (core.products.metrics): precision, recall, MAP, NDCG and hit rate
at k, catalogue coverage (share of the training catalogue recommended to anyone) and
novelty (mean -log2 of the share of training customers who bought a recommended product:
higher is less obvious). Nothing after `train_until` reaches a model.

Evaluated customers bought before and after the split and bought something new after it;
customers new in the test window (no history to recommend from) and products new in it
(no method can know them) are left out and counted in the notes. Each method's NDCG is
compared with popularity's on the same customers: the mean paired difference with a
t interval, overall and in each segment of `by` (a segment with fewer than SMALL_SAMPLE
evaluated customers is flagged small_sample and named in the notes).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from core.errors import AnalysisError, InputError
from core.products.data import MIN_BUYERS, Purchases, read_purchases
from core.products.metrics import per_customer
from core.products.recommend import MAX_ITEMS, METHOD_TITLES, METHODS, capped, fit_and_pick
from core.products.recommenders import ALS_FACTORS, ALS_REGULARIZATION
from core.result import Chart, Result

SMALL_SAMPLE = 30  # segments with fewer evaluated customers are flagged
MEASURES = ("precision", "recall", "map", "ndcg", "hit_rate")


def evaluate(ws, *, train_until: dt.date | None = None, test_days: int = 90, k: int = 10,
             methods: Sequence[str] | None = None, by: str | None = None, similarity: str = "cosine",
             neighbours: int = 50, factors: int = ALS_FACTORS, regularization: float = ALS_REGULARIZATION,
             confidence: float = 0.95, as_of: dt.date | None = None) -> Result:
    from core.features import default_as_of

    tx = ws.scan("transactions")
    where = str(ws.sources["transactions"].path) if "transactions" in ws.sources else "transactions"
    last = as_of or default_as_of(tx)
    split = train_until or last - dt.timedelta(days=test_days)
    segments = None
    if by:
        from core.products.segments import customer_segments

        segments = customer_segments(ws, by, split)
    return evaluate_split(tx, train_until=split, test_days=test_days, k=k, methods=methods, segments=segments,
                          by=by, similarity=similarity, neighbours=neighbours, factors=factors,
                          regularization=regularization, confidence=confidence, as_of=last, where=where)


def evaluate_split(tx: pl.LazyFrame, *, train_until: dt.date, test_days: int = 90, k: int = 10,
                   methods: Sequence[str] | None = None, segments: pl.DataFrame | None = None,
                   by: str | None = None, similarity: str = "cosine", neighbours: int = 50,
                   factors: int = ALS_FACTORS, regularization: float = ALS_REGULARIZATION,
                   confidence: float = 0.95, as_of: dt.date | None = None, where: str = "transactions") -> Result:
    methods = list(dict.fromkeys(methods or METHODS))
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise InputError(f"unknown method(s) {', '.join(unknown)}", fix=f"use {', '.join(METHODS)}")
    if "popularity" not in methods:
        methods.append("popularity")  # always beside the baseline
    split = time_split(tx, train_until, test_days, as_of, where)
    train, relevant, notes, test_end = split.train, split.relevant, split.notes, split.test_end
    scored, recommended = [], {}
    for method in methods:  # three methods, not rows
        per_method, recs = score_method(split, method, k, similarity=similarity, neighbours=neighbours,
                                        factors=factors, regularization=regularization)
        recommended[method] = recs
        scored.append(per_method)
    per = pl.concat(scored)
    if segments is not None:
        per = per.join(_segment_codes(train, segments), on="customer", how="left").with_columns(
            pl.col("segment").fill_null("(no segment)"))
    popularity = _popularity_share(train)
    overall = _summary(per, recommended, popularity, train.n_items, [], confidence)
    tables = {"metrics": overall}
    if segments is not None:
        tables["segments"] = _summary(per, recommended, popularity, train.n_items, ["segment"], confidence)
        small = tables["segments"].filter(pl.col("small_sample"))["segment"].unique().sort().to_list()
        if small:
            notes.append(f"{len(small)} segment(s) have fewer than {SMALL_SAMPLE} evaluated customers, so their "
                         f"NDCG gain intervals are wide (small_sample): {', '.join(small)}")
    tables["customers"] = per.with_columns(
        pl.Series("customer_id", train.customers.gather(per["customer"].cast(pl.UInt32)))).select(
        "method", *(["segment"] if segments is not None else []), "customer_id", "relevant", "hits",
        *PER_CUSTOMER_COLUMNS)
    best = overall.filter(pl.col("method") != "popularity").sort("ndcg", descending=True).row(0, named=True) \
        if len(methods) > 1 else None
    base = overall.filter(pl.col("method") == "popularity").row(0, named=True)
    return Result(
        name="products.evaluate",
        title=f"Recommender evaluation (train to {train_until.isoformat()}, test {test_days} days, top {k})",
        tables=tables,
        headline={"customer_count": int(relevant["customer"].n_unique()), "train_until": train_until,
                  "test_end": test_end, "k": k, "best_method": METHOD_TITLES[best["method"]] if best else None,
                  "best_ndcg": best["ndcg"] if best else None, "popularity_ndcg": base["ndcg"],
                  "beats_popularity": bool(best and best["ndcg_gain_ci_low"] is not None
                                           and best["ndcg_gain_ci_low"] > 0)},
        charts=(Chart("bar", f"Top-{k} accuracy by method", "metrics", x="method",
                      y=("precision", "recall", "ndcg", "hit_rate")),),
        params={"as_of": as_of, "train_until": train_until, "test_days": test_days, "k": k, "methods": methods,
                "by": by, "similarity": similarity, "neighbours": neighbours, "factors": factors,
                "regularization": regularization,
                "confidence": confidence},
        notes=tuple(notes),
    )


PER_CUSTOMER_COLUMNS = ("precision", "recall", "ap", "ndcg", "hit")


@dataclass(frozen=True)
class TimeSplit:
    """Training purchases up to the split and, per evaluated customer, what they bought new after it."""

    train: Purchases
    relevant: pl.DataFrame  # customer, item (train codes) bought new in the test window
    rows: np.ndarray  # the evaluated customers' codes, sorted
    notes: list[str]
    test_end: dt.date


def time_split(tx: pl.LazyFrame, train_until: dt.date, test_days: int, as_of: dt.date | None = None,
               where: str = "transactions") -> TimeSplit:
    test_end = train_until + dt.timedelta(days=test_days)
    if as_of is not None and as_of < test_end:
        test_end = as_of
    if test_end <= train_until:
        raise InputError(f"the test window after {train_until.isoformat()} is empty (as of {test_end.isoformat()})",
                         fix="give an earlier --train-until, or leave it empty for the last --test-days days")
    everything = read_purchases(tx, as_of=train_until, where=where)
    test = _test_items(tx, everything, train_until, test_end, where)  # "new" means new to all they bought
    train, dropped = capped(everything)
    relevant, notes = test["relevant"], test["notes"]
    if relevant.height == 0:
        raise AnalysisError(f"no customer bought a product new to them between {train_until.isoformat()} and "
                            f"{test_end.isoformat()}: nothing to evaluate against")
    if dropped:
        notes.append(f"{dropped:,} product(s) are not candidates (fewer than {MIN_BUYERS} buyers, or beyond the "
                     f"{MAX_ITEMS:,} bought by the most customers)")
    rows = relevant["customer"].unique().sort().to_numpy()
    return TimeSplit(train, relevant, rows, notes, test_end)


def score_method(split: TimeSplit, method: str, k: int, **model_options) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The method fitted on the training purchases: each evaluated customer's metrics at k
    (with a method column) and its recommendations (customer, rank, item)."""
    picks, _, _ = fit_and_pick(method, split.train, split.rows, k, **model_options)
    recs = pl.DataFrame({"customer": split.rows[picks.row].astype(np.int64), "rank": picks.rank,
                         "item": picks.item})
    return per_customer(recs, split.relevant, k).with_columns(pl.lit(method).alias("method")), recs


def _test_items(tx: pl.LazyFrame, train, train_until: dt.date, test_end: dt.date, where: str) -> dict:
    """(customer, item) in train codes of the products bought in the test window that the
    customer had not bought in training; notes on what was left out."""
    notes = []
    try:
        test = read_purchases(tx, as_of=test_end, since=train_until + dt.timedelta(days=1), where=where)
    except AnalysisError:
        return {"relevant": pl.DataFrame(schema={"customer": pl.Int64, "item": pl.Int64}), "notes": notes}
    lines = test.lines.select(pl.Series("customer_id", test.customers).gather(test.lines["customer"]),
                              pl.Series("item_label", test.items).gather(test.lines["item"])).unique()
    customers = pl.DataFrame({"customer_id": train.customers,
                              "customer": pl.int_range(train.n_customers, dtype=pl.Int64, eager=True)})
    items = pl.DataFrame({"item_label": train.items, "item": pl.int_range(train.n_items, dtype=pl.Int64,
                                                                          eager=True)})
    known = lines.join(customers, on="customer_id", how="left").join(items, on="item_label", how="left")
    new_customers = known.filter(pl.col("customer").is_null())["customer_id"].n_unique()
    if new_customers:
        notes.append(f"{new_customers:,} customer(s) first bought in the test window and are not evaluated "
                     "(no history to recommend from)")
    new_items = known.filter(pl.col("item").is_null())["item_label"].n_unique()
    if new_items:
        notes.append(f"{new_items:,} product(s) first sold in the test window are left out (no method can "
                     "know them)")
    known = known.drop_nulls(["customer", "item"]).select("customer", "item")
    bought = train.lines.select(pl.col("customer").cast(pl.Int64), pl.col("item").cast(pl.Int64)).unique()
    relevant = known.join(bought, on=["customer", "item"], how="anti")
    repeat_only = known["customer"].n_unique() - relevant["customer"].n_unique()
    if repeat_only:
        notes.append(f"{repeat_only:,} customer(s) only bought again what they had bought before and are not "
                     "evaluated (a recommendation is of something new)")
    return {"relevant": relevant, "notes": notes}


def _segment_codes(train, segments: pl.DataFrame) -> pl.DataFrame:
    codes = pl.DataFrame({"customer_id": train.customers,
                          "customer": pl.int_range(train.n_customers, dtype=pl.Int64, eager=True)})
    return codes.join(segments, on="customer_id", how="inner").select("customer", "segment")


def _popularity_share(train) -> np.ndarray:
    pairs = train.lines.select("customer", "item").unique()
    buyers = np.bincount(pairs["item"].to_numpy(), minlength=train.n_items)
    return buyers / max(train.n_customers, 1)


def _summary(per: pl.DataFrame, recommended: dict[str, pl.DataFrame], popularity: np.ndarray, n_items: int,
             keys: list[str], confidence: float) -> pl.DataFrame:
    """Per method (and segment): customers, the mean metrics, coverage, novelty and the NDCG gain
    over popularity on the same customers."""
    from scipy import stats

    means = per.group_by("method", *keys).agg(
        pl.len().cast(pl.Int64).alias("customers"), pl.col("precision").mean(), pl.col("recall").mean(),
        pl.col("ap").mean().alias("map"), pl.col("ndcg").mean(), pl.col("hit").mean().alias("hit_rate"))
    reach = []
    groups = per.select("customer", *keys).unique()
    for method, recs in recommended.items():  # per method: which products went to whom
        recs = recs.join(groups, on="customer")
        novelty = -np.log2(np.maximum(popularity[recs["item"].to_numpy()], 1e-12))
        reach.append(recs.with_columns(pl.Series("_novelty", novelty)).group_by(*keys or [pl.lit(1).alias("_all")])
                     .agg(pl.col("item").n_unique().alias("_products"), pl.col("_novelty").mean().alias("novelty"))
                     .with_columns(pl.lit(method).alias("method")))
    reach_table = pl.concat(reach).with_columns((pl.col("_products") / max(n_items, 1)).alias("coverage_share"))
    reach_table = reach_table.drop([c for c in ("_all", "_products") if c in reach_table.columns])
    base = per.filter(pl.col("method") == "popularity").select("customer", pl.col("ndcg").alias("_base"))
    paired = per.join(base, on="customer").with_columns((pl.col("ndcg") - pl.col("_base")).alias("_gain"))
    gains = paired.group_by("method", *keys).agg(pl.col("_gain").mean().alias("ndcg_gain"),
                                                 pl.col("_gain").std().alias("_sd"), pl.len().alias("_n"))
    z = gains.with_columns(pl.col("_n").map_elements(
        lambda n: float(stats.t.ppf(0.5 + confidence / 2, n - 1)) if n > 1 else None,
        return_dtype=pl.Float64).alias("_t"))
    half = pl.col("_t") * pl.col("_sd") / pl.col("_n").sqrt()
    z = z.with_columns(
        pl.when(pl.col("method") != "popularity").then(pl.col("ndcg_gain")).alias("ndcg_gain"),
        pl.when(pl.col("method") != "popularity").then(pl.col("ndcg_gain") - half).alias("ndcg_gain_ci_low"),
        pl.when(pl.col("method") != "popularity").then(pl.col("ndcg_gain") + half).alias("ndcg_gain_ci_high"),
    ).select("method", *keys, "ndcg_gain", "ndcg_gain_ci_low", "ndcg_gain_ci_high")
    order = {m: i for i, m in enumerate(METHODS)}
    table = means.join(reach_table, on=["method", *keys], how="left").join(z, on=["method", *keys], how="left")
    table = table.with_columns((pl.col("customers") < SMALL_SAMPLE).alias("small_sample"),
                               pl.col("method").replace_strict(order, return_dtype=pl.Int64).alias("_order"))
    return table.sort(*keys, "_order").select(
        *keys, "method", "customers", *MEASURES, "coverage_share", "novelty", "ndcg_gain", "ndcg_gain_ci_low",
        "ndcg_gain_ci_high", "small_sample")
