"""Engagement: the message funnel per channel (sent, delivered, open, click, convert) and
contact fatigue (response by how many messages a customer got in the trailing window).

A touchpoints row is one contact; its touch_type is the furthest stage the contact reached
(`sent`, `delivered` or `impression`, `open`, `click`, `convert`), as email and push tools
export a message's status. Other types (e.g. `call`) count as contacts outside the funnel.
A rate is left empty for a channel whose rows never record its denominator's stage (a
channel logged only as clicks has no open rate), never shown as 100% or 0.
"""

from __future__ import annotations

import datetime as dt
from statistics import NormalDist

import polars as pl

from core.errors import AnalysisError
from core.evaluate.inputs import UNNAMED, names, on_or_before, require, require_columns, require_rows
from core.result import Chart, Result

ANALYSIS = "engagement report"
# Depth of each stage; "impression" is a delivered ad, "convert" a logged conversion, and
# "unsubscribe" a delivered message after which the customer unsubscribed (not counted as an
# open: a list-unsubscribe button needs none).
STAGES = {"sent": 0, "delivered": 1, "impression": 1, "unsubscribe": 1, "open": 2, "click": 3, "convert": 4}
# (rate, numerator, denominator, the stage the denominator needs recorded)
RATES = (
    ("delivery_rate", "delivered", "sent", "sent"),
    ("open_rate", "opened", "delivered", "open"),
    ("click_rate", "clicked", "delivered", "delivered"),
    ("click_to_open_rate", "clicked", "opened", "open"),
    ("conversion_rate", "converted", "contacts", None),
    ("unsubscribe_rate", "unsubscribed", "delivered", "unsubscribe"),
)
SMALL_SAMPLE = 30


def wilson(hits: pl.Expr, n: pl.Expr, name: str, confidence: float) -> list[pl.Expr]:
    """The Wilson score interval of hits/n (Wilson 1927), as `<name>_ci_low`/`_ci_high`."""
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    p = hits / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * (p * (1 - p) / n + z * z / (4 * n * n)).sqrt()
    # At 0 or n hits the bound is exactly 0 or 1; the formula leaves rounding dust (2.8e-17).
    return [pl.when(n > 0).then(pl.when(hits > 0).then(centre - half).otherwise(0.0)).alias(f"{name}_ci_low"),
            pl.when(n > 0).then(pl.when(hits < n).then(centre + half).otherwise(1.0)).alias(f"{name}_ci_high")]


def engagement(
    touchpoints: pl.LazyFrame | None,
    transactions: pl.LazyFrame | None = None,
    customers: pl.LazyFrame | None = None,
    *,
    by: str | None = None,
    window_days: int = 30,
    convert_days: int = 7,
    as_of: dt.date | None = None,
    confidence: float = 0.95,
    workspace: str = UNNAMED,
) -> Result:
    """Funnel rates with Wilson intervals per channel (and `by`), and contact fatigue."""
    require(touchpoints, "touchpoints", ANALYSIS, workspace)
    require_columns(touchpoints, "touchpoints", ("channel", "touch_type"), ANALYSIS,
                    "add the kind of each contact (sent, delivered, open, click) as 'touch_type'")
    keys = ["channel"]
    tp = touchpoints.filter(on_or_before(pl.col("timestamp").dt.date(), as_of), pl.col("channel").is_not_null())
    stage = pl.col("touch_type").str.strip_chars().str.to_lowercase()
    tp = tp.with_columns(pl.col("timestamp").dt.date().alias("day"), stage.alias("_stage"),
                         stage.replace_strict(STAGES, default=None, return_dtype=pl.Int8).alias("_depth"))
    if by:
        if by not in names(customers):
            raise AnalysisError(f"{ANALYSIS}: --by {by!r} is not a column of the customers table "
                                f"({'no customers table' if customers is None else ', '.join(names(customers))}). "
                                "Fix: pick a customers column such as tier or region, or leave --by empty")
        tp = tp.join(customers.select("customer_id", by).unique("customer_id"), on="customer_id", how="left")
        keys.append(by)
    tp = tp.with_columns(_converted=pl.lit(False), _revenue=pl.lit(0.0))
    if transactions is not None:
        tp = with_purchases(tp, transactions, convert_days, as_of)
    queries = {
        "funnel": funnel(tp, keys),
        "types": tp.group_by("channel", "touch_type").agg(pl.len().alias("contacts"),
                                                         pl.col("customer_id").n_unique().alias("customers")),
        "fatigue": fatigue_counts(tp, window_days),
        "untyped": tp.select(pl.col("touch_type").is_null().sum().alias("untyped"),
                             (pl.col("touch_type").is_not_null() & pl.col("_depth").is_null()).sum().alias("other")),
    }
    frames = dict(zip(queries, pl.collect_all(list(queries.values()))))
    require_rows(int(frames["types"]["contacts"].sum()), 1, "touchpoints rows on or before the as-of date", ANALYSIS)
    table = with_rates(frames["funnel"], confidence).sort(keys)
    curve = fatigue_table(frames["fatigue"], confidence)
    threshold, p_value = fatigue_threshold(curve, 1 - confidence)
    notes = [
        "One touchpoints row is one contact; its touch_type is the furthest stage it reached. Open rate and "
        "click rate are of delivered contacts, click-to-open of opened ones; a rate is empty where the channel "
        "never records its stage. Intervals: Wilson score.",
        f"Fatigue: message contacts (channels with sent or delivered rows) by the number of messages the customer "
        f"got in the {window_days} days up to each one, itself included; response = opened or clicked.",
    ]
    if transactions is None:
        notes.append("No transactions table: conversion and revenue per contact are left empty.")
        table = table.with_columns(pl.lit(None, pl.Float64).alias(c) for c in
                                   ("converted", "conversion_rate", "conversion_rate_ci_low",
                                    "conversion_rate_ci_high", "revenue", "revenue_per_contact"))
    else:
        notes.append(f"A contact converts when the customer buys within {convert_days} days after it (the same day "
                     f"counts). Revenue per contact: each order credited once, to the customer's last contact within "
                     f"{convert_days} days before it.")
    untyped, other = frames["untyped"].row(0)
    if untyped:
        notes.append(f"{untyped} touchpoints rows have no touch_type: counted as contacts and reach, left out of "
                     "every rate. Fix: fill touch_type (sent, delivered, open, click) or map the column.")
    if other:
        notes.append(f"{other} touchpoints rows have a touch_type outside sent, delivered, impression, unsubscribe, open, "
                     "click, convert: counted as contacts, left out of the funnel stages.")
    if headline_unsubscribes(table):
        notes.append("Unsubscribe rate: contacts logged as touch_type 'unsubscribe' (a delivered message after which "
                     "the customer unsubscribed) over delivered contacts, per channel and by messages in the window "
                     "(fatigue table); empty for channels that never log unsubscribes.")
    if threshold is None and not curve.is_empty():
        notes.append(f"No contact fatigue detected: response does not fall significantly past any number of "
                     f"messages in {window_days} days.")
    headline = {
        "contacts": int(frames["types"]["contacts"].sum()),
        "channels": int(frames["types"]["channel"].n_unique()),
        "rows_without_touch_type": int(untyped),
        "fatigue_threshold": threshold,
        "fatigue_p_value": p_value,
        "unsubscribe_rate": unsubscribe_rate(table),
    }
    tables = {"funnel": table, "touch_types": frames["types"].sort("channel", "touch_type"), "fatigue": curve}
    return Result(
        name="report.engagement",
        title="Engagement: funnel rates and contact fatigue",
        tables=tables,
        headline=headline,
        charts=(
            Chart("bar", "Open, click and conversion rates", "funnel", "channel",
                  ("open_rate", "click_rate", "conversion_rate")),
            Chart("line", "Response by messages in the window", "fatigue", "contacts_in_window", ("response_rate",)),
        ),
        params={"by": by, "window_days": window_days, "convert_days": convert_days, "as_of": as_of,
                "confidence": confidence},
        notes=tuple(notes),
    )


def headline_unsubscribes(table: pl.DataFrame) -> int:
    return int(table["unsubscribed"].fill_null(0).sum())


def unsubscribe_rate(table: pl.DataFrame) -> float | None:
    """Unsubscribes over delivered contacts, in the channels that log unsubscribes."""
    logging = table.filter(pl.col("unsubscribed").is_not_null())
    delivered = logging["delivered"].fill_null(0).sum()
    return float(logging["unsubscribed"].sum()) / delivered if logging.height and delivered else None


def with_purchases(tp: pl.LazyFrame, transactions: pl.LazyFrame, convert_days: int,
                   as_of: dt.date | None) -> pl.LazyFrame:
    """_converted (a purchase within convert_days after the contact) and _revenue (orders
    credited to the customer's last contact before them within convert_days)."""
    buys = (transactions.filter(pl.col("amount") > 0, on_or_before(pl.col("order_date"), as_of))
            .group_by("customer_id", "order_date").agg(pl.sum("amount").alias("_value")))
    tp = tp.drop("_converted", "_revenue").with_row_index("_contact")
    next_buy = (tp.select("_contact", "customer_id", "day").sort("day")
                .join_asof(buys.select("customer_id", "order_date").sort("order_date"),
                           left_on="day", right_on="order_date", by="customer_id", strategy="forward",
                           check_sortedness=False,
                           tolerance=f"{convert_days}d")
                .select("_contact", pl.col("order_date").is_not_null().alias("_converted")))
    credited = (buys.sort("order_date")
                .join_asof(tp.select("_contact", "customer_id", "day", "timestamp").sort("day", "timestamp"),
                           left_on="order_date", right_on="day", by="customer_id", strategy="backward",
                           check_sortedness=False,
                           tolerance=f"{convert_days}d")
                .filter(pl.col("_contact").is_not_null())
                .group_by("_contact").agg(pl.sum("_value").alias("_revenue")))
    return (tp.join(next_buy, on="_contact", how="left").join(credited, on="_contact", how="left")
            .with_columns(pl.col("_revenue").fill_null(0.0)))


def funnel(tp: pl.LazyFrame, keys: list[str]) -> pl.LazyFrame:
    depth = pl.col("_depth")
    counts = tp.group_by(keys).agg(
        pl.len().alias("contacts"), pl.col("customer_id").n_unique().alias("reach"),
        (depth >= 0).sum().alias("sent"), (depth >= 1).sum().alias("delivered"),
        (depth >= 2).sum().alias("opened"), (depth >= 3).sum().alias("clicked"),
        pl.col("_converted").sum().alias("converted"), pl.col("_revenue").sum().alias("revenue"),
        (pl.col("_stage") == "unsubscribe").sum().alias("unsubscribed"),
    )
    # Which stages each channel records at all (a channel logged as clicks has no sends).
    stage = pl.col("_stage")
    recorded = tp.group_by("channel").agg(
        (stage == "sent").any().alias("_has_sent"), (stage == "open").any().alias("_has_open"),
        (stage.is_in(["sent", "delivered", "impression", "unsubscribe"])).any().alias("_has_delivered"),
        (stage == "unsubscribe").any().alias("_has_unsubscribe"),
        pl.lit(True).alias("_has_None"))
    return counts.join(recorded, on="channel", how="left")


def with_rates(table: pl.DataFrame, confidence: float) -> pl.DataFrame:
    exprs = []
    for rate, hits, n, needs in RATES:
        ok = pl.col(f"_has_{needs}") & (pl.col(n) > 0)
        exprs.append(pl.when(ok).then(pl.col(hits) / pl.col(n)).alias(rate))
        exprs += [pl.when(ok).then(e).alias(e.meta.output_name()) for e in
                  wilson(pl.col(hits).cast(pl.Float64), pl.col(n).cast(pl.Float64), rate, confidence)]
    table = table.with_columns(*exprs, (pl.col("revenue") / pl.col("contacts")).alias("revenue_per_contact"))
    # Stage counts a channel does not record are unknown, not zero.
    table = table.with_columns(
        pl.when(pl.col("_has_sent")).then(pl.col("sent")).alias("sent"),
        pl.when(pl.col("_has_delivered")).then(pl.col("delivered")).alias("delivered"),
        pl.when(pl.col("_has_open")).then(pl.col("opened")).alias("opened"),
        pl.when(pl.col("_has_unsubscribe")).then(pl.col("unsubscribed")).alias("unsubscribed"),
        (pl.col("contacts") < SMALL_SAMPLE).alias("small_sample"),
    )
    return table.drop([c for c in table.columns if c.startswith("_has_")])


def fatigue_counts(tp: pl.LazyFrame, window_days: int) -> pl.LazyFrame:
    """Per message contact: messages to the customer in the trailing window; responded."""
    messaging = tp.group_by("channel").agg(pl.col("_stage").is_in(["sent", "delivered"]).any().alias("_message"))
    messages = (tp.join(messaging.filter("_message"), on="channel", how="semi")
                .filter(pl.col("_depth").is_not_null()).sort("customer_id", "timestamp"))
    return (messages.with_columns(
        pl.len().rolling(index_column="timestamp", period=f"{window_days}d").over("customer_id")
        .alias("contacts_in_window"))
        .group_by("contacts_in_window").agg(pl.len().alias("contacts"),
                                            (pl.col("_depth") >= 2).sum().alias("responded"),
                                            (pl.col("_stage") == "unsubscribe").sum().alias("unsubscribed")))


def fatigue_table(counts: pl.DataFrame, confidence: float) -> pl.DataFrame:
    """Response and unsubscribe rates by messages in the window; unsubscribe columns are
    empty (unknown, not 0) when no contact was ever logged as an unsubscribe."""
    contacts, responded = pl.col("contacts").cast(pl.Float64), pl.col("responded").cast(pl.Float64)
    unsubscribed = pl.col("unsubscribed").cast(pl.Float64)
    logged = bool(counts["unsubscribed"].sum()) if "unsubscribed" in counts.columns else False
    table = (counts.with_columns(pl.col("contacts_in_window").cast(pl.Int64))
             .with_columns((responded / contacts).alias("response_rate"),
                           *wilson(responded, contacts, "response_rate", confidence),
                           (unsubscribed / contacts).alias("unsubscribe_rate"),
                           *wilson(unsubscribed, contacts, "unsubscribe_rate", confidence),
                           (pl.col("contacts") < SMALL_SAMPLE).alias("small_sample"))
             .sort("contacts_in_window"))
    if not logged:
        table = table.with_columns(pl.lit(None, pl.Float64).alias(c) for c in
                                   ("unsubscribe_rate", "unsubscribe_rate_ci_low", "unsubscribe_rate_ci_high"))
        table = table.with_columns(pl.lit(None, pl.Int64).alias("unsubscribed"))
    return table


def fatigue_threshold(curve: pl.DataFrame, alpha: float) -> tuple[int | None, float | None]:
    """The number of messages past which response falls: the hinge T of the best fitting
    log-binomial model p(k) = exp(a + b * max(0, k - T)), kept when it beats a constant rate
    by a likelihood-ratio test at alpha (one extra parameter, T chosen from the data)."""
    if curve.height < 3 or curve["contacts"].sum() == 0:
        return None, None
    import numpy as np
    from scipy import optimize, stats

    k = curve["contacts_in_window"].to_numpy().astype(float)
    n = curve["contacts"].to_numpy().astype(float)
    y = curve["responded"].to_numpy().astype(float)

    def loglik(p: np.ndarray) -> float:
        p = np.clip(p, 1e-12, 1 - 1e-12)
        return float(np.sum(y * np.log(p) + (n - y) * np.log1p(-p)))

    flat = loglik(np.full_like(k, y.sum() / n.sum()))
    best = (-np.inf, None)
    for hinge in k[:-1]:  # a handful of candidate thresholds
        excess = np.maximum(k - hinge, 0.0)
        start = np.log(max(y[k <= hinge].sum() / n[k <= hinge].sum(), 1e-6))
        fit = optimize.minimize(lambda ab: -loglik(np.exp(ab[0] + ab[1] * excess)), x0=[start, -0.1],
                                bounds=[(None, 0.0), (-20.0, 0.0)], method="L-BFGS-B")
        if -fit.fun > best[0]:
            best = (-fit.fun, int(hinge))
    # Choosing T adds to the test's freedom; 2 degrees of freedom keep it conservative.
    p_value = float(stats.chi2.sf(max(2 * (best[0] - flat), 0.0), df=2))
    return (best[1] if p_value < alpha else None), p_value
