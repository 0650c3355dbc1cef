"""Attribution: which channels get the credit for conversions.

Conversion paths come either from touchpoints before each purchase or from an
aggregated paths file. Heuristic models (first/last touch, linear, time decay,
position based) are shares computed per touch; the Markov model is solved exactly
from the absorbing chain (no simulation), so the same input gives the same answer.

Internally every source becomes one *touch table*: one row per touch with path_id,
position (0-based), length, channel, days_before (touch to conversion; null without
timestamps), conversions, nulls and value of its path, in path order (by path_id, then
position), which distinct_paths relies on. From touchpoints, channel is a categorical.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
from scipy import sparse
from scipy.sparse.linalg import spsolve

from core.errors import AnalysisError, InputError
from core.evaluate.inputs import UNNAMED, on_or_before, require
from core.result import Chart, Result

ANALYSIS = "attribution report"
HEURISTIC = ("first_touch", "last_touch", "linear", "time_decay", "position_based")
MODELS = (*HEURISTIC, "markov")
SEPARATOR = " > "
TOP_PATHS = 100
# Header synonyms accepted in a paths file (ChannelAttribution's names included).
PATH_COLUMNS = {
    "path": ("path", "paths"),
    "conversions": ("conversions", "total_conversions", "conversion"),
    "nulls": ("nulls", "total_null", "null", "total_nulls"),
    "value": ("value", "total_conversion_value", "conversion_value", "revenue"),
}


def attribution(
    touchpoints: pl.LazyFrame | None = None,
    transactions: pl.LazyFrame | None = None,
    *,
    paths: pl.LazyFrame | None = None,
    lookback_days: int = 30,
    half_life_days: float = 7.0,
    markov_order: int = 1,
    as_of: dt.date | None = None,
    workspace: str = UNNAMED,
) -> Result:
    """Every model side by side, in conversions and in value.

    With `paths` (columns path, conversions, optional nulls and value) the touchpoints
    and transactions are not needed; otherwise both are.
    """
    if lookback_days < 1:
        raise InputError("the lookback window must be at least 1 day", fix="pass --lookback 30")
    if half_life_days <= 0:
        raise InputError("the half-life must be positive", fix="pass --half-life 7")
    if markov_order < 1:
        raise InputError("the Markov order must be 1 or more", fix="pass --order 1")
    notes: list[str] = []
    if paths is not None:
        touches, purchase_count = touches_from_paths(paths), None
        notes.append("Time decay needs timestamps, which a paths file does not have.")
    else:
        require(touchpoints, "touchpoints", ANALYSIS, workspace)
        require(transactions, "transactions", ANALYSIS, workspace)
        touches, purchase_count = touches_from_touchpoints(touchpoints, transactions, lookback_days, as_of)
        notes.append(
            "Purchases on one day count as one conversion; touchpoints on the purchase day "
            f"count before it. A purchase's path holds the touchpoints within {lookback_days} days "
            "before it and after the customer's previous purchase; touchpoints that no purchase "
            "followed within that window make non-converting journeys."
        )
    # The one pass over the input tables; the models then work on touches in memory.
    touches, *counted = pl.collect_all([touches] + ([purchase_count] if purchase_count is not None else []))
    channel_credit, path_table = pl.collect_all([heuristic_credit(touches.lazy(), half_life_days),
                                                 distinct_paths(touches.lazy())])
    # A row per touch (millions at 10M transactions): the models below read only the distinct
    # paths, so it is let go before the Markov step's tables are built beside it.
    del touches
    # The distinct paths' touches are read twice by markov_edges: held once, not rebuilt.
    edges = markov_edges(path_touches(path_table).collect().lazy(), markov_order).collect()
    conversions = float(path_table["conversions"].sum())
    if conversions <= 0:
        raise AnalysisError(
            f"{ANALYSIS} found no conversion with a touchpoint on its path. "
            "Fix: widen --lookback, check that touchpoints and transactions share customer ids, "
            "or give a paths file with conversions"
        )
    total_value = float(path_table["value"].sum())
    base_probability, chain = markov_removal_effects(edges)
    share = chain["removal_effect"] / chain["removal_effect"].sum()
    markov = chain.with_columns(
        markov=share * conversions, markov_value=share * total_value
    )
    table = (
        channel_credit.join(markov, on="channel", how="full", coalesce=True)
        .join(journeys_per_channel(path_table), on="channel", how="left")
        .with_columns(pl.exclude("channel").fill_null(0.0))
        .with_columns((pl.col("markov") / pl.col("journeys")).alias("markov_per_journey"))
        .sort(["markov", "channel"], descending=[True, False])
    )
    has_value = total_value != 0
    if paths is not None:
        table = table.with_columns(pl.lit(None, pl.Float64).alias(c) for c in ("time_decay", "time_decay_value"))
    channels = table.select("channel", "touches", "journeys", *MODELS, "removal_effect", "markov_per_journey")
    headline = {
        "conversions": conversions,
        "total_value": total_value if has_value else None,
        "journeys": int(conversions + path_table["nulls"].sum()),
        "unique_paths": path_table.height,
        "conversion_probability": base_probability,
        "top_channel": channels["channel"][0],
    }
    if counted:
        purchases = int(counted[0].item())
        headline["purchases"] = purchases
        headline["purchases_without_touchpoints"] = purchases - int(conversions)
        if purchases > conversions:
            notes.append(
                f"{purchases - int(conversions)} of {purchases} purchases had no touchpoint in "
                "their window and are not attributed to any channel."
            )
    notes.append(
        "Every model shares out conversions among the channels on converting paths: credit "
        "follows exposure, not proven effect. A channel on many journeys of customers who "
        "would have bought anyway still earns credit; compare markov_per_journey, and use a "
        "holdout (report campaign, report experiment) to measure incremental lift."
    )
    tables = {"channels": channels}
    if has_value:
        tables["value"] = table.select(
            "channel", *(pl.col(f"{m}_value").alias(m) for m in MODELS)
        )
    tables["paths"] = path_table.head(TOP_PATHS).drop(["channels"] + ([] if has_value else ["value"]))
    return Result(
        name="report.attribution",
        title="Attribution: conversions credited to channels by model",
        tables=tables,
        headline=headline,
        charts=(Chart("bar", "Attributed conversions by model", "channels", "channel",
                      tuple(m for m in MODELS if paths is None or m != "time_decay")),),
        params={"source": "paths file" if paths is not None else "touchpoints",
                "lookback_days": lookback_days if paths is None else None,
                "half_life_days": half_life_days, "markov_order": markov_order, "as_of": as_of},
        notes=tuple(notes),
    )


# --- building the touch table -------------------------------------------------------


# A customer and a day as one integer, ordered by customer then day: the customer's code
# times 2^22 plus the day (days since 1970, plus 2^21 so that dates 5,700 years either side
# stay within the customer's span). Keys of one customer differ by their days; they all lie
# below the next customer's.
DAY_SPAN = 1 << 22
NO_CUSTOMER = (1 << 32) - 1  # the code of a missing customer id, so those rows stay one run


def customer_day(code: pl.Expr, day: pl.Expr) -> pl.Expr:
    # a datetime counts by its day, as a date does
    return code.cast(pl.Int64) * DAY_SPAN + day.cast(pl.Date).cast(pl.Int32).cast(pl.Int64) + DAY_SPAN // 2


def touches_from_touchpoints(
    touchpoints: pl.LazyFrame, transactions: pl.LazyFrame, lookback_days: int, as_of: dt.date | None
) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """Touch table from touchpoints and purchases, plus a one-row frame counting purchases.

    Each touch belongs to the customer's first purchase on or after its day. Touches within
    the lookback window make that purchase's converting path; earlier touches, and touches
    after the customer's last purchase, make a non-converting (null) journey.
    """
    # Customers become 4-byte integer codes and channels categoricals first, so the sort,
    # the join and every step after them move small integers rather than text (at 10M
    # transactions the text held most of the memory). Categoricals sort by their text, so
    # touches at the same moment keep their alphabetical order.
    code = pl.col("customer_id").cast(pl.String).cast(pl.Categorical).to_physical().fill_null(NO_CUSTOMER)
    purchases = (
        transactions.filter(on_or_before(pl.col("order_date"), as_of), pl.col("amount") > 0)
        .group_by(customer_day(code, pl.col("order_date")).alias("_purchase"))
        .agg(pl.sum("amount").alias("value"))
        .sort("_purchase")
    )
    touches = (
        touchpoints.filter(on_or_before(pl.col("timestamp").dt.date(), as_of), pl.col("channel").is_not_null())
        .select(code.alias("_customer"), pl.col("timestamp").alias("at"),
                pl.col("channel").cast(pl.String).cast(pl.Categorical))
        .sort("_customer", "at", "channel")
        .with_columns(customer_day(pl.col("_customer"), pl.col("at").dt.date()).set_sorted().alias("_day"))
    )
    # Sorted by customer and time, the touches' keys are sorted too: a forward as-of join on
    # one integer finds each touch's first purchase key on or after its day (touches on the
    # purchase day count before it). It is the same customer's purchase when the keys agree
    # on the customer; then their difference is the days between.
    same = (pl.col("_purchase") // DAY_SPAN) == pl.col("_customer")
    touches = (
        touches.join_asof(purchases, left_on="_day", right_on="_purchase", strategy="forward")
        .select(
            "_customer", "channel",
            pl.when(same).then("_purchase").alias("_purchase"),
            pl.when(same).then(pl.col("_purchase") - pl.col("_day")).cast(pl.Int32).alias("days_before"),
            pl.when(same).then("value").alias("value"),
        )
        # Touches too long before the next purchase did not lead to it: they make a
        # non-converting journey of their own, like touches after the last purchase.
        .with_columns((pl.col("days_before") <= lookback_days).fill_null(False).alias("_converts"))
        .with_columns(
            # A new path starts where the customer, the purchase or the outcome changes; the
            # rows are in path order, so positions and lengths come from row numbers.
            (pl.col("_customer").ne_missing(pl.col("_customer").shift())
             | pl.col("_purchase").ne_missing(pl.col("_purchase").shift())
             | pl.col("_converts").ne_missing(pl.col("_converts").shift())).alias("_starts"),
            pl.int_range(pl.len(), dtype=pl.Int64).alias("_row"),
        )
        .with_columns(
            pl.col("_starts").cum_sum().set_sorted().alias("path_id"),
            pl.when("_starts").then("_row").forward_fill().alias("_first"),
            pl.when(pl.col("_starts").shift(-1, fill_value=True)).then("_row").backward_fill().alias("_last"),
        )
        .select(
            "path_id",
            (pl.col("_row") - pl.col("_first")).cast(pl.Int32).alias("position"),
            (pl.col("_last") - pl.col("_first") + 1).cast(pl.Int32).alias("length"),
            "channel", "days_before",
            pl.col("_converts").cast(pl.Float64).alias("conversions"),
            (1.0 - pl.col("_converts").cast(pl.Float64)).alias("nulls"),
            pl.when("_converts").then(pl.col("value")).otherwise(0.0).fill_null(0.0).alias("value"),
        )
    )
    return touches, purchases.select(pl.len().alias("purchases"))


def touches_from_paths(paths: pl.LazyFrame) -> pl.LazyFrame:
    """Touch table from an aggregated paths file (path, conversions, nulls?, value?)."""
    present = {c.strip().lower(): c for c in paths.collect_schema().names()}
    chosen = {
        role: next((present[s] for s in synonyms if s in present), None)
        for role, synonyms in PATH_COLUMNS.items()
    }
    for role in ("path", "conversions"):
        if chosen[role] is None:
            raise InputError(
                f"the paths file has no {role!r} column (columns: {', '.join(present.values())})",
                fix="give columns path (channels separated by '>'), conversions, and optionally "
                "nulls and value",
            )
    numbers = [
        pl.col(chosen[r]).cast(pl.Float64).fill_null(0.0).alias(r) if chosen[r] else pl.lit(0.0).alias(r)
        for r in ("conversions", "nulls", "value")
    ]
    rows = paths.select(pl.col(chosen["path"]).cast(pl.String).alias("path"), *numbers).with_row_index("path_id")
    bad = rows.filter(
        pl.col("path").str.strip_chars().fill_null("").eq("")
        | (pl.col("conversions") < 0) | (pl.col("nulls") < 0)
    ).head(5).collect()
    if bad.height:
        raise InputError(
            "empty paths or negative counts", column=chosen["path"],
            rows=[r + 2 for r in bad["path_id"].to_list()],  # +2: header line and 1-based rows
            fix="every row needs a path such as 'search > email' and counts of 0 or more",
        )
    return (
        rows.filter((pl.col("conversions") + pl.col("nulls")) > 0)
        .with_columns(pl.col("path").str.split(">"))
        .explode("path")
        .with_columns(pl.col("path").str.strip_chars().alias("channel"))
        .filter(pl.col("channel") != "")
        .with_columns(
            pl.int_range(pl.len()).over("path_id").alias("position"),
            pl.len().over("path_id").alias("length"),
            pl.lit(None, pl.Int64).alias("days_before"),
        )
        .select("path_id", "position", "length", "channel", "days_before", "conversions", "nulls", "value")
    )


# --- heuristic models ---------------------------------------------------------------


def heuristic_shares(half_life_days: float = 7.0) -> dict[str, pl.Expr]:
    """Each heuristic model's share of its path's conversion given to one touch."""
    pos, n = pl.col("position"), pl.col("length")
    first, last = pos == 0, pos == n - 1
    decay = pl.lit(0.5).pow(pl.col("days_before") / half_life_days)
    return {
        "first_touch": first.cast(pl.Float64),
        "last_touch": last.cast(pl.Float64),
        "linear": 1.0 / n,
        "time_decay": decay / decay.sum().over("path_id"),
        "position_based": pl.when(n == 1).then(1.0).when(n == 2).then(0.5)
        .when(first | last).then(0.4).otherwise(0.2 / (n - 2)),
    }


def heuristic_credit(touches: pl.LazyFrame, half_life_days: float = 7.0) -> pl.LazyFrame:
    """Per channel: touches on any path, and conversions and value credited by each heuristic model."""
    shares = heuristic_shares(half_life_days)
    return (
        touches.with_columns(share.alias(f"_{m}") for m, share in shares.items())
        .group_by("channel")
        .agg(
            (pl.col("conversions") + pl.col("nulls")).sum().alias("touches"),
            *((pl.col(f"_{m}") * pl.col("conversions")).sum().alias(m) for m in shares),
            *((pl.col(f"_{m}") * pl.col("value")).sum().alias(f"{m}_value") for m in shares),
        )
        .with_columns(pl.col("channel").cast(pl.String))  # categorical from touchpoints
    )


# --- Markov chain -------------------------------------------------------------------

START, CONVERSION, NULL = "(start)", "(conversion)", "(null)"


def markov_edges(touches: pl.LazyFrame, order: int = 1) -> pl.LazyFrame:
    """Transition counts (from, to, weight) between states; a state is the last `order` channels."""
    pos = pl.col("position")
    # Sorted by path and position, the row j back is in the same path exactly when position >= j.
    back = [pl.when(pos >= j).then(pl.col("channel").shift(j)) for j in range(order - 1, -1, -1)]
    steps = touches.sort("path_id", "position").with_columns(
        pl.concat_str(back, separator=SEPARATOR, ignore_nulls=True).alias("state"),
        (pl.col("conversions") + pl.col("nulls")).alias("weight"),
    )
    inner = steps.select(
        pl.when(pos == 0).then(pl.lit(START)).otherwise(pl.col("state").shift(1)).alias("from"),
        pl.col("state").alias("to"),
        "weight",
    )
    last = steps.filter(pos == pl.col("length") - 1)
    ends = pl.concat([
        last.select(pl.col("state").alias("from"), pl.lit(CONVERSION).alias("to"),
                    pl.col("conversions").alias("weight")),
        last.select(pl.col("state").alias("from"), pl.lit(NULL).alias("to"),
                    pl.col("nulls").alias("weight")),
    ])
    return (
        pl.concat([inner, ends])
        .filter(pl.col("weight") > 0)
        .group_by("from", "to")
        .agg(pl.sum("weight"))
        .sort("from", "to")
    )


def markov_removal_effects(edges: pl.DataFrame) -> pl.DataFrame:
    """Removal effect of every channel, solved exactly from the absorbing chain.

    P(conversion) is the probability of absorption in the conversion state from the start:
    x = (I - Q)^-1 r. Removing a channel removes every state that contains it, so
    transitions into those states end the journey without a conversion.
    Returns P(conversion) with every channel and a table of channel, removal_effect.
    """
    transient = [START, *sorted(set(edges["from"]) - {START})]
    index = {s: i for i, s in enumerate(transient)}
    n = len(transient)
    rows = edges["from"].replace_strict(index, return_dtype=pl.Int64).to_numpy()
    weight = edges["weight"].to_numpy().astype(float)
    totals = np.bincount(rows, weights=weight, minlength=n)
    prob = weight / totals[rows]
    to = edges["to"].to_list()
    inner = np.array([t in index for t in to])
    cols = np.array([index.get(t, -1) for t in to])
    q = sparse.csc_matrix((prob[inner], (rows[inner], cols[inner])), shape=(n, n))
    r = np.bincount(rows, weights=prob * (np.array(to, dtype=object) == CONVERSION), minlength=n)
    channels = sorted({c for s in transient[1:] for c in s.split(SEPARATOR)})
    membership = np.array([[c in s.split(SEPARATOR) for c in channels] for s in transient])

    def p_conversion(keep: np.ndarray) -> float:
        sub = q[keep][:, keep]
        x = spsolve((sparse.identity(int(keep.sum()), format="csc") - sub).tocsc(), r[keep])
        return float(np.atleast_1d(x)[0])  # the start state is always kept and first

    base = p_conversion(np.ones(n, dtype=bool))
    removed = np.array([p_conversion(~membership[:, j]) for j in range(len(channels))])
    effect = 1 - removed / base if base > 0 else np.zeros(len(channels))
    # Removing states can only lower absorption in conversion; the clip drops rounding noise.
    table = pl.DataFrame({"channel": channels, "removal_effect": np.clip(effect, 0.0, 1.0)},
                         schema={"channel": pl.String, "removal_effect": pl.Float64})
    return base, table


def distinct_paths(touches: pl.LazyFrame) -> pl.LazyFrame:
    """One row per distinct path: path, channels (list), conversions, nulls, value, rate."""
    # The touch table is in path order, so each path's list is in position order. Paths are
    # grouped on their channel lists first and joined into text only once each.
    return (
        touches.group_by("path_id")
        .agg(pl.col("channel").alias("channels"),
             pl.col("conversions").first(), pl.col("nulls").first(), pl.col("value").first())
        .group_by("channels")
        .agg(pl.sum("conversions"), pl.sum("nulls"), pl.sum("value"))
        .with_columns(pl.col("channels").cast(pl.List(pl.String)))
        .with_columns(pl.col("channels").list.join(SEPARATOR).alias("path"))
        .group_by("path")
        .agg(pl.col("channels").first(), pl.sum("conversions"), pl.sum("nulls"), pl.sum("value"))
        .with_columns(
            (pl.col("conversions") / (pl.col("conversions") + pl.col("nulls"))).alias("conversion_rate")
        )
        .sort(["conversions", "nulls", "path"], descending=[True, True, False])
    )


def journeys_per_channel(paths: pl.DataFrame) -> pl.DataFrame:
    """Journeys (converting or not) with the channel on their path: its volume, against which
    a channel's credit is fairly compared (a busy channel is on many paths by coincidence)."""
    return (
        paths.select("path", "channels", (pl.col("conversions") + pl.col("nulls")).alias("journeys"))
        .explode("channels").unique(["path", "channels"])
        .group_by(pl.col("channels").alias("channel")).agg(pl.sum("journeys"))
    )


def path_touches(paths: pl.DataFrame) -> pl.LazyFrame:
    """The touch table of distinct paths (each path once, with its summed counts)."""
    return (
        paths.lazy().select("channels", "conversions", "nulls").with_row_index("path_id")
        .with_columns(pl.col("channels").list.len().alias("length"))
        .explode("channels")
        .rename({"channels": "channel"})
        .with_columns(pl.int_range(pl.len()).over("path_id").alias("position"))
    )
