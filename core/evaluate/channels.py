"""Channels: what each channel brings, and single- against multi-channel customers.

One row per channel name, whichever table it comes from: purchase channels
(transactions.channel), marketing channels (touchpoints.channel) and acquisition
channels (customers.acquisition_channel). A measure that does not apply to a channel is
left empty, never zero.
"""

from __future__ import annotations

import datetime as dt
import importlib
import threading
from typing import TYPE_CHECKING

import polars as pl

from core.errors import AnalysisError, InputError
from core.evaluate.compare import MEAN, NPS, SHARE, Metric, compare_groups
from core.evaluate.inputs import UNNAMED, names, require, require_columns
from core.evaluate.value import (
    DISCOUNT_RATE, RETENTION_DAYS, customer_table, data_span_note, retention_windows, with_clv, with_retention,
)
from core.features import (
    MONEY_UNITS, PASS_HASH_SEED, aggregation_passes, checked_channels, default_as_of,
    features_from_aggregates,
)
from core.order_layout import continues_order, distinct_starts
from core.result import Chart, Result

if TYPE_CHECKING:
    from core.engines import Reducer

ANALYSIS = "channels report"
COLUMNS = (
    "channel", "customers", "orders", "revenue", "aov", "repeat_rate",
    "touches", "reached", "reach", "touches_per_customer", "converted", "conversion_rate",
    "cost", "attributed_revenue", "roi", "new_customers", "cac", "acquisition_roi",
)
COMPARISON = [
    Metric("customers_retained", "retained", SHARE),
    Metric("active", "active", SHARE),
    Metric("purchase_frequency", "frequency", MEAN),
    Metric("monetary_value", "monetary", MEAN),
    Metric("aov", "aov", MEAN),
    Metric("clv", "clv", MEAN),
    Metric("nps", "nps", NPS),
]


def channels(
    transactions: pl.LazyFrame | None,
    customers: pl.LazyFrame | None = None,
    touchpoints: pl.LazyFrame | None = None,
    survey: pl.LazyFrame | None = None,
    campaigns: pl.LazyFrame | None = None,
    *,
    as_of: dt.date | None = None,
    window_days: int = 30,
    retention_days: int = RETENTION_DAYS,
    discount_rate: float = DISCOUNT_RATE,
    confidence: float = 0.95,
    workspace: str = UNNAMED,
    engine: Reducer | None = None,
    orders_adjacent: bool = False,
) -> Result:
    """Per channel performance, single vs multi-channel customers, overlap and a radar table.
    With an `engine` (core.engines) the per-customer table is reduced there; the per-channel
    tables are computed here from the columns they read. `orders_adjacent`: the data checks
    found the transactions laid out order by order (reduced_tables)."""
    require(transactions, "transactions", ANALYSIS, workspace)
    require_columns(transactions, "transactions", ("channel",), ANALYSIS,
                    "add the channel of each order (store, web, app...) as 'channel'")
    # the comparison's numpy and scipy (about 0.3 s of imports) load while Polars reduces the rows
    threading.Thread(target=importlib.import_module, args=("core.evaluate.stats",), daemon=True).start()
    as_of = as_of or default_as_of(transactions, engine=engine)
    has_order_id = "order_id" in names(transactions)
    reduced = (reduced_tables(transactions, as_of, has_order_id, orders_adjacent)
               if engine is None and {"customer_id", "order_date", "amount"} <= set(names(transactions)) else None)
    if reduced is not None:  # one read of the transactions serves every table below
        parts = parts_from_reduced(reduced, has_order_id)
        people = customer_table_from_days(parts["by_channel"], parts["purchases"], as_of, has_order_id,
                                          customers=customers, survey=survey, retention_days=retention_days)
    else:  # on an engine, or orders spanning days or customers: each table from the rows
        parts = ({k: v.lazy() for k, v in engine.channel_parts(as_of, has_order_id).items()}
                 if engine is not None else channel_parts(transactions, as_of, has_order_id))
        people = customer_table(transactions, as_of, customers=customers, survey=survey,
                                retention_days=retention_days, engine=engine)
    queries = {
        "purchase": purchase_channels(parts["per_channel"], parts["pairs"], has_order_id),
        "overlap": parts["overlap"] if "overlap" in parts else overlap_counts(parts["pairs"]),
        "customers": people,
        "first_date": parts["first_date"],
    }
    if touchpoints is not None:
        queries["marketing"] = marketing_channels(touchpoints, parts["purchases"], campaigns, as_of, window_days)
    acquisition = acquisition_channels(customers, parts["pairs"])
    if acquisition is not None:
        queries["acquisition"] = acquisition
    frames = dict(zip(queries, pl.collect_all(list(queries.values()))))
    # In customer order: the comparison's means then add up in the same order every run.
    people = frames["customers"].sort("customer_id")
    if people["first_purchase"].is_not_null().sum() < 2:  # customers of returns only bought nothing here
        raise AnalysisError(f"{ANALYSIS}: fewer than two customers with a purchase on or before {as_of}. "
                            "Fix: check --as-of and the transactions")
    if frames["purchase"].is_empty():  # customers bought, but no purchase names its channel
        raise InputError(f"{ANALYSIS}: no purchase on or before {as_of} has a channel (the column is empty)",
                         file="transactions", column="channel",
                         fix="fill the channel of each order (store, web, app...), or map another column as "
                             "channel in loyalist.toml")
    table = frames["purchase"]
    if "marketing" in frames:
        table = table.join(frames["marketing"], on="channel", how="full", coalesce=True)
        total = people.height
        table = table.with_columns((pl.col("reached") / total).alias("reach"))
    if "acquisition" in frames:
        table = table.join(acquisition_value(frames["acquisition"], people), on="channel",
                           how="full", coalesce=True)
    table = table.select([c for c in COLUMNS if c in table.columns]).sort(
        "revenue", "channel", descending=[True, False], nulls_last=True)
    people = with_clv(people, "multi_channel", discount_rate)
    comparison = compare_groups(people, "multi_channel", ("single", "multi"), COMPARISON, confidence)
    overlap = overlap_matrix(frames["overlap"], frames["purchase"]["channel"].to_list())
    radar = radar_table(table, "marketing" in frames, people.height)
    notes = [
        f"Conversion rate: share of customers touched in a channel who bought within {window_days} "
        "days after such a touch. Attributed revenue (for ROI): purchases credited to the last "
        f"touch within {window_days} days before them. Cost: touchpoint costs plus the spend of "
        "campaigns whose touches carry no cost.",
        f"Single vs multi-channel: customers who bought in one channel against two or more. "
        f"Retained: bought in the year before last and again in the last {retention_days} days; "
        f"CLV = annual net spend x r / (1 + {discount_rate:g} - r) with r the group's retention "
        "(its interval treats r as known).",
    ]
    span = data_span_note(frames["first_date"].item(), as_of, retention_days)
    if span:
        notes.append(span)
    multi = people["multi_channel"]
    headline = {
        "customers": people.height,
        "purchase_channels": frames["purchase"].height,
        "multi_channel_share": float(multi.mean()),
        "top_channel_by_revenue": frames["purchase"].sort("revenue", descending=True)["channel"][0],
    }
    for metric in ("customers_retained", "clv"):
        row = comparison.filter(pl.col("metric") == metric)
        if row.height:
            headline[f"multi_vs_single_{metric}_diff"] = row["diff"][0]
            headline[f"multi_vs_single_{metric}_relative"] = row["relative_diff"][0]
    return Result(
        name="report.channels",
        title="Channels: performance, multi-channel customers and overlap",
        tables={"channels": table, "single_vs_multi": comparison, "overlap": overlap, "radar": radar},
        headline=headline,
        kinds={"channels/reach": "percent", "radar/reach": "percent", "radar/conversion": "percent"},
        charts=(
            Chart("bar", "Revenue by channel", "channels", "channel", ("revenue",)),
            Chart("bar", "Single vs multi-channel customers", "single_vs_multi", "metric",
                  ("single", "multi")),
            Chart("heatmap", "Customers shared between channels", "overlap", "channel",
                  tuple(c for c in overlap.columns if c != "channel")),
            Chart("bar", "Reach, engagement and conversion (0-100)", "radar", "channel",
                  ("reach_score", "engagement_score", "conversion_score")),
        ),
        params={"as_of": as_of, "window_days": window_days, "retention_days": retention_days,
                "discount_rate": discount_rate, "confidence": confidence},
        notes=tuple(notes),
    )


def channel_parts(transactions: pl.LazyFrame, as_of: dt.date, has_order_id: bool) -> dict[str, pl.LazyFrame]:
    """What the report reads of the transactions, reduced (core.engines' channel_parts makes
    the same tables on an engine): per channel revenue, gross and distinct orders; per
    channel and customer the purchase days, lines and first purchase; per customer and day
    the purchases' value (for conversion and attribution); the first date."""
    tx = transactions.filter(pl.col("order_date") <= as_of)
    named = tx.filter(pl.col("channel").is_not_null())
    buys = named.filter(pl.col("amount") > 0)
    per_channel = named.group_by("channel").agg(pl.sum("amount").alias("revenue"),
                                                pl.col("amount").clip(lower_bound=0).sum().alias("_gross"))
    if has_order_id:  # distinct (channel, order) pairs are cheaper than n_unique per group
        orders = buys.select("channel", "order_id").unique().group_by("channel").agg(
            pl.len().cast(pl.Int64).alias("orders"))
        per_channel = per_channel.join(orders, on="channel", how="left")
    return {
        "per_channel": per_channel,
        "pairs": buys.group_by("channel", "customer_id").agg(
            pl.col("order_date").n_unique().alias("_days"), pl.len().alias("_lines"),
            pl.col("order_date").min().alias("_first")),
        "purchases": buys.group_by("customer_id", "order_date").agg(pl.sum("amount").alias("value")),
        "first_date": tx.select(pl.col("order_date").min()),
    }


def reduced_tables(transactions: pl.LazyFrame, as_of: dt.date, has_order_id: bool,
                   orders_adjacent: bool = False) -> dict[str, pl.DataFrame] | None:
    """The transactions up to `as_of` reduced, straight from the rows, to the two tables every
    table the report reads of them is derived from (null ids and channels stay groups; keys
    Categorical, see below):
    - by_channel, one row per customer and channel: rows, purchase lines, net and gross money
      in integer MONEY_UNITS (so sums do not depend on the order rows are added in), distinct
      purchase orders, the first and last purchase day and the first day of any row;
    - purchases, one row per customer and purchase day: the value bought.
    There is no customer x channel x day table: its group_by barely reduced the rows (1.7M
    into 0.98M at 1M), held the report's peak and was then grouped twice more. A
    channel's repeat rate needs only whether its first and last purchase days differ.

    Distinct orders are counted without a per-group n_unique (which held a third more
    memory and CPU than every other aggregation together): a purchase line starts an order
    unless the line before it in the file is a line of the same order, and an order is
    counted in the row of the line that starts it. That counts each group's distinct orders
    exactly when every order's purchase lines are adjacent in the file and share one
    customer, channel and day. That is checked, not assumed: no line may continue an order in
    another customer, channel or day, no purchase may lack its order id, and the lines that
    start an order must number the distinct order ids of all purchases. Those are counted
    (as 64-bit hashes: a collision can only lower the count and so send the report down the
    exact path) from the starts of the same read, beside the two group_bys: an ascending-id
    shortcut missed on files where ids of two systems interleave (the demo's promotion
    orders), and then re-read the file to count them. When the file breaks the rule this
    returns None and the report takes the exact, slower path. `orders_adjacent`: the data
    checks found the file laid out so (core.order_layout), and none of this is counted again.

    customer_id and channel are Categorical here (parts_from_reduced and
    customer_table_from_days give text back), and each group_by keys on one integer packing
    two of the codes (PackedKey): less memory while they run, and faster than text or two
    key columns. A non-Date order_date (a caller's own frame) returns None."""
    if transactions.collect_schema()["order_date"] != pl.Date:  # the packed keys read day numbers
        return None
    tx = transactions.filter(pl.col("order_date") <= as_of)
    buy = pl.col("amount") > 0
    units = (pl.col("amount") * MONEY_UNITS).round().cast(pl.Int64)
    coded = tx.with_columns(pl.col(key).cast(pl.Categorical) for key in CODED)
    pair, day = (PackedKey(coded.collect_schema(), keys) for keys in (CODED, ("customer_id", "order_date")))
    checks = {}
    check_orders = has_order_id and not orders_adjacent
    if has_order_id:
        continues = continues_order(pl.when(buy).then(pl.col("order_id")))
        checks = {"_starts": buy & ~continues}
    if check_orders:
        # on the customer x channel group key (never null) and the day's number, cheaper than the text
        moved = (pl.col("_key") != pl.col("_key").shift(1)) | pl.col("order_date").to_physical().ne_missing(
            pl.col("order_date").to_physical().shift(1))
        checks["_moves"] = (continues & moved) | (buy & pl.col("order_id").is_null())
    rows = coded.with_columns(pair.key()).with_columns(**checks).with_columns(
        _units=units, _gross=units.clip(lower_bound=0), _buy=buy, _bought_on=pl.when(buy).then(pl.col("order_date")))
    by_channel = [pl.len().alias("_rows"), pl.col("_buy").sum().alias("_lines"), pl.col("_units", "_gross").sum(),
                  *([pl.col("_starts").sum().alias("_orders")] if has_order_id else []),
                  *([pl.col("_moves").sum()] if check_orders else []),
                  pl.col("_bought_on").min().alias("_first"), pl.col("_bought_on").max().alias("_last"),
                  pl.col("order_date").min().alias("_first_row")]
    n_passes = aggregation_passes(transactions)  # the memory budget core.features keeps
    # Side by side, from one read of the file: the customer x day table's hash table is the
    # smaller one, and reading the file twice cost a fifth more CPU.
    tables = {
        "by_channel": _in_passes(rows, pair, by_channel, n_passes),
        "purchases": _in_passes(rows.filter(pl.col("_buy")).with_columns(day.key()), day,
                                [(pl.col("_gross").sum() / MONEY_UNITS).alias("value")], n_passes),
    }
    if check_orders and n_passes == 1:  # beside the group_bys, from the rows they read (one scan of the file)
        tables["distinct"] = rows.filter(pl.col("_starts")).select(pl.col("order_id").hash().n_unique())
    tables = dict(zip(tables, pl.collect_all(list(tables.values()))))
    if not check_orders:
        return tables
    checked = tables["by_channel"]
    if checked["_moves"].sum():
        return None
    starts = int(checked["_orders"].sum())
    # In passes, after them (not beside: they bound the memory) and itself in passes sized from
    # the memory budget, as the checks count it: one hash set of every start held 6.5 GB at 204M lines
    distinct = tables.pop("distinct").item() if n_passes == 1 else distinct_starts(tx, starts)
    if distinct != starts:
        return None
    tables["by_channel"] = checked.drop("_moves")
    return tables


def _in_passes(rows: pl.LazyFrame, packed: PackedKey, aggs: list[pl.Expr], n_passes: int) -> pl.LazyFrame:
    """`rows` grouped on their `_key` column (packed.key()), the packed columns given back."""
    # Grouped on one integer packing both keys' codes, not on the two keys: at 10M rows the
    # two-key group_by cost about half as much CPU again.
    if n_passes == 1:
        return rows.group_by("_key").agg(aggs).select(*packed.unpacked(), pl.exclude("_key"))
    # disjoint customers per pass, as core.features._per_customer does
    bucket = pl.col("customer_id").hash(PASS_HASH_SEED) % n_passes
    return pl.concat([rows.filter(bucket == i).group_by("_key").agg(aggs)
                      .select(*packed.unpacked(), pl.exclude("_key")) for i in range(n_passes)], parallel=False)


class PackedKey:
    """One UInt64 `_key` per pair of values of two columns, distinct for distinct pairs (a
    null apart from every value), and the two columns given back from it. Each value's
    integer code lies in 0 .. 2**32 - 1, the first column's above the second's: a
    Categorical's code (UInt32, one per distinct text in the process) + 1, null 0; a Date's
    day number (Int32) + 2**31."""

    def __init__(self, schema: pl.Schema, columns: tuple[str, str]) -> None:
        self.columns = columns
        self.dtypes = [schema[c] for c in columns]
        for column, dtype in zip(columns, self.dtypes):
            if dtype not in (pl.Categorical, pl.Date):
                raise TypeError(f"no packed code for {column}: {dtype}")

    def key(self) -> pl.Expr:
        high, low = (self._code(c, d) for c, d in zip(self.columns, self.dtypes))
        return (high * 2**32 + low).alias("_key")

    def unpacked(self) -> list[pl.Expr]:
        key = pl.col("_key")
        codes = (key // 2**32, key % 2**32)
        return [self._value(code, d).alias(c) for code, c, d in zip(codes, self.columns, self.dtypes)]

    @staticmethod
    def _code(column: str, dtype: pl.DataType) -> pl.Expr:
        physical = pl.col(column).to_physical().cast(pl.Int64)
        shifted = physical + 1 if dtype == pl.Categorical else physical + 2**31
        return shifted.cast(pl.UInt64).fill_null(0)

    @staticmethod
    def _value(code: pl.Expr, dtype: pl.DataType) -> pl.Expr:
        if dtype == pl.Categorical:
            return pl.when(code > 0).then(code - 1).cast(pl.UInt32).cat.to(pl.Categorical)
        return (code.cast(pl.Int64) - 2**31).cast(pl.Int32).cast(pl.Date)


# The reduced tables' text keys, Categorical while they are reduced.
CODED = ("customer_id", "channel")


def as_text(*columns: str) -> list[pl.Expr]:
    return [pl.col(c).cast(pl.String) for c in columns]


def parts_from_reduced(tables: dict[str, pl.DataFrame], has_order_id: bool) -> dict[str, pl.LazyFrame]:
    """channel_parts' tables from reduced_tables', with text keys except the purchases'
    customer_id, which stays Categorical for marketing_channels' integer codes; the channel
    overlap; and by_channel (Categorical keys), which customer_table_from_days reads."""
    by_channel = tables["by_channel"]
    bought = pl.col("_lines") > 0
    named = by_channel.lazy().filter(pl.col("channel").is_not_null())
    orders = [pl.when(pl.col("_lines").sum() > 0).then(pl.col("_orders").sum()).cast(pl.Int64).alias("orders")]
    # distinct purchase days capped at two: the repeat rate reads only whether there are two
    repeat = (pl.col("_last") > pl.col("_first")).cast(pl.UInt32) + 1
    pairs = named.filter(bought).select("channel", "customer_id", repeat.alias("_days"), "_lines", "_first")
    return {
        "per_channel": named.group_by("channel").agg(
            (pl.col("_units").sum() / MONEY_UNITS).alias("revenue"),
            (pl.col("_gross").sum() / MONEY_UNITS).alias("_gross"), *(orders if has_order_id else []))
        .with_columns(as_text("channel")),
        "pairs": pairs.with_columns(as_text(*CODED)),
        # the self-join on the customers' integer codes, not their text
        "overlap": overlap_counts(pairs).with_columns(as_text("channel", "channel_b")),
        "purchases": tables["purchases"].lazy(),
        "first_date": by_channel.lazy().select(pl.col("_first_row").min().alias("order_date")),
        "by_channel": by_channel,
    }


def customer_table_from_days(
    by_channel: pl.DataFrame, purchases: pl.LazyFrame, as_of: dt.date, has_order_id: bool, *,
    customers: pl.LazyFrame | None, survey: pl.LazyFrame | None, retention_days: int,
) -> pl.LazyFrame:
    """core.evaluate.value.customer_table from reduced_tables': the per-customer aggregates
    core.features makes from the raw rows, summed from by_channel (one row per customer and
    channel). What depends on the distinct purchase days (first and
    last purchase, their count, the retention flags) comes from `purchases`
    (reduced_tables' one row per customer and purchase day, on its Categorical
    customer_id): one row per day, so a count instead of an n_unique, and no second
    group_by for the flags."""
    channels = checked_channels(by_channel["channel"].drop_nulls().unique().cast(pl.String).sort().to_list())
    width = len(channels) + 1  # as core.features: code len(channels) stands for "no channel"
    code = pl.lit(len(channels), dtype=pl.Int64)
    for i, channel in reversed(list(enumerate(channels))):
        code = pl.when(pl.col("channel") == channel).then(pl.lit(i, pl.Int64)).otherwise(code)
    bought = pl.col("_lines") > 0
    later, earlier = retention_windows(as_of, retention_days)
    day = pl.col("order_date")
    buyers = purchases.filter(pl.col("customer_id").is_not_null()).group_by("customer_id").agg(
        day.min().alias("first_purchase"), day.max().alias("last_purchase"), pl.len().alias("_distinct"),
        ((day > earlier) & (day <= later)).any().alias("in_base"), (day > later).any().alias("_later"))
    lazy = by_channel.lazy().filter(pl.col("customer_id").is_not_null())
    per_customer = (
        lazy.with_columns(
            _non_buys=pl.col("_rows") - pl.col("_lines"),
            # the latest purchase day, of two channels on it the first by name: within one
            # channel the key grows with the day
            _last_key=pl.when(bought).then(pl.col("_last").cast(pl.Int64) * width + (len(channels) - code)),
            **{f"_cg{i}": pl.when(pl.col("channel") == c).then(pl.col("_gross")).otherwise(0)
               for i, c in enumerate(channels)},
        )
        .group_by("customer_id").agg(
            pl.col("_rows").sum(), pl.col("_non_buys").sum(),
            pl.col("_units").sum().alias("monetary"), pl.col("_gross").sum().alias("gross_spend"),
            *([pl.col("_last_key").max()] if channels else []),
            *[pl.col(f"_cg{i}").sum() for i in range(len(channels))],
            *([pl.col("_orders").sum()] if has_order_id else []),
        )
        .join(buyers, on="customer_id", how="left")
        # core.features counts a customer's non-purchase rows as one null day and one null key.
        .with_columns(_null=(pl.col("_non_buys") > 0).cast(pl.UInt32))
        .with_columns(
            _days=(pl.col("_distinct").fill_null(0).cast(pl.UInt32) + pl.col("_null")),
            **({"_keys": pl.col("_orders").cast(pl.UInt32) + pl.col("_null")} if has_order_id else {}),
            retained=pl.col("in_base") & pl.col("_later"),
        )
        .drop("_distinct", "_null", "_orders", "_later", strict=False)
        .with_columns(as_text("customer_id"))
    )
    features = features_from_aggregates(per_customer, as_of, channels, customers=customers, survey=survey,
                                        keep=["in_base", "retained"])
    return with_retention(features, None)


def overlap_counts(pairs: pl.LazyFrame) -> pl.LazyFrame:
    """Customers per pair of purchase channels (both orders; a channel with itself is its
    customers), from channel_parts' pairs."""
    pairs = pairs.select("customer_id", "channel")
    return pairs.join(pairs, on="customer_id", suffix="_b").group_by("channel", "channel_b").agg(
        pl.len().alias("customers"))


def purchase_channels(per_channel: pl.LazyFrame, pairs: pl.LazyFrame, has_order_id: bool) -> pl.LazyFrame:
    """customers, orders, revenue (net), AOV and repeat rate per purchase channel, from
    channel_parts' tables."""
    # One row per channel and customer gives customers, repeat rate and (without order ids)
    # orders in one pass.
    counts = pairs.group_by("channel").agg(
        pl.len().cast(pl.Int64).alias("customers"), (pl.col("_days") >= 2).mean().alias("repeat_rate"),
        *([] if has_order_id else [pl.col("_lines").sum().cast(pl.Int64).alias("orders")]))
    return (
        counts.join(per_channel, on="channel", how="left")
        .with_columns((pl.col("_gross") / pl.col("orders")).alias("aov"))
        .select("channel", "customers", "orders", "revenue", "aov", "repeat_rate")
    )


def marketing_channels(
    touchpoints: pl.LazyFrame, purchases: pl.LazyFrame, campaigns: pl.LazyFrame | None, as_of: dt.date,
    window_days: int,
) -> pl.LazyFrame:
    """touches, reached customers, engagement, conversion rate, cost, attributed revenue, ROI;
    `purchases`: channel_parts' value bought per customer and day."""
    has_cost = "cost" in names(touchpoints)
    spend = campaigns is not None and {"spend", "channel"} <= set(names(campaigns))
    costed_ids = spend and {"cost", "campaign_id"} <= set(names(touchpoints))
    # Both as-of joins run on one Int64 key, customer code x DAY_SPAN + day number, instead of
    # `by=customer_id` on text ids. Buyers get a code (which one does not matter: keys of two
    # customers never meet); touches of other customers keep a null code (or a code no purchase
    # has), can neither convert nor be credited, and are counted as reached by their text id
    # (or their code). One read of the touchpoints, keyed once, serves the reach, the
    # campaigns' costs and both joins.
    # Collected first: the codes and the keyed purchases both read it, and in one plan each
    # would re-run the group_by that makes it.
    purchases = purchases.collect().lazy()
    if purchases.collect_schema()["customer_id"] == pl.Categorical:  # reduced_tables': its codes serve
        # Categorical codes are global (one mapping per process), so a touch's customer_id cast
        # to Categorical has its buyer's code, found with no text lookup; every touched
        # customer keeps its code (no lookup of who bought): a never-buyer's touches then find
        # no purchase of theirs and count among the reached once per channel by code
        code = pl.col("customer_id").cast(pl.Categorical).to_physical()
        buys = purchases.with_columns(pl.col("customer_id").to_physical().alias("_code"))
    else:  # sorted, so that every plan reading the codes gives a customer the same one
        codes = purchases.select("customer_id").unique().sort("customer_id").with_row_index("_code").collect()
        # a lookup keeps the file order (which the stable sort below needs) at less cost
        # than a join that maintains it
        code = pl.col("customer_id").replace_strict(codes["customer_id"], codes["_code"], default=None,
                                                    return_dtype=pl.UInt32)
        buys = purchases.join(codes.lazy(), on="customer_id")
    touches = (
        touchpoints.filter(pl.col("timestamp").dt.date() <= as_of, pl.col("channel").is_not_null())
        .select("channel", "customer_id", "timestamp", *(["cost"] if has_cost else []),
                *(["campaign_id"] if costed_ids else []))
        # a Categorical channel: the reach group_by, the keyed touches and both joins' outputs
        # hold a small integer per row instead of text
        .with_columns(code.alias("_code"), pl.col("timestamp").dt.date().alias("day"), pl.col("channel").cast(pl.Categorical))
    )
    # The backward join credits a day's last touch. Touches kept in time order need only a
    # stable sort on the key, half the cost of sorting on key and timestamp: that order is
    # assumed, checked in the same collect (not a read of its own before it), and the touches
    # sorted on both when the check fails.
    in_time_order = touchpoints.select(
        (pl.col("timestamp").drop_nulls().diff().drop_nulls() >= pl.duration(microseconds=0)).all())
    keyed = touches.filter(pl.col("_code").is_not_null())
    reach = touches.group_by("channel").agg(
        pl.len().alias("touches"),
        # the distinct ids (a null id counts once) of the touched without a code; those with
        # one come from the conversion step's one row per channel and code
        pl.col("customer_id").filter(pl.col("_code").is_null()).n_unique().alias("_others"),
        *([pl.col("cost").sum().alias("_touch_cost")] if has_cost else []),
    ).with_columns(as_text("channel"))
    queries = [
        reach,
        # Sorted frames hold only the key and what it cannot give back (customer code and
        # day are read off the key): a sort gathers every column it carries.
        keyed.select("channel", _key=_day_key("day")).sort("_key", maintain_order=True),
        buys.select("value", _key=_day_key("order_date")).sort("_key"),
        in_time_order,
    ]
    if costed_ids:  # campaigns whose touches carry a cost are not charged their spend again
        queries.append(touches.filter(pl.col("cost") > 0).select("campaign_id").unique())
    reach, keyed_tp, keyed_buys, in_time_order, *costed = pl.collect_all(queries)
    if not in_time_order.item():
        keyed_tp = keyed.select("channel", "timestamp", _key=_day_key("day")).sort("_key", "timestamp").collect()
    reach, keyed_tp, keyed_buys, *costed = (frame.lazy() for frame in (reach, keyed_tp, keyed_buys, *costed))
    # the next purchase key on or after each touch's: a purchase of this customer when the key's
    # customer is the same, within the window when the keys are at most window_days apart
    converted = (
        keyed_tp.select("channel", "_key")
        .join_asof(keyed_buys.select("_key", pl.col("_key").alias("_bought")),
                   on="_key", strategy="forward", check_sortedness=False)
        .with_columns(_converted=((_key_customer("_bought") == _key_customer("_key"))
                                  & (pl.col("_bought") - pl.col("_key") <= window_days)).fill_null(False))
        # one row per channel and customer, grouped on one integer: the channel's code above
        # the customer's (both below 2**32; the touches' channels are never null)
        .group_by((pl.col("channel").to_physical().cast(pl.UInt64) * 2**32
                   + _key_customer("_key").cast(pl.UInt64)).alias("_pair"))
        .agg(pl.col("_converted").any())
        .group_by((pl.col("_pair") // 2**32).alias("channel"))
        .agg(pl.col("_converted").sum().alias("converted"), pl.len().alias("_buyers"))
        .with_columns(pl.col("channel").cast(pl.UInt32).cat.to(pl.Categorical).cast(pl.String))
    )
    attributed = (
        keyed_buys.join_asof(keyed_tp.select("_key", pl.col("_key").alias("_touched"), "channel"),
                             on="_key", strategy="backward", check_sortedness=False)
        .filter(_key_customer("_touched") == _key_customer("_key"), pl.col("_key") - pl.col("_touched") <= window_days)
        # summed in integer money units: the total does not depend on the order of the rows
        .group_by("channel").agg(((pl.col("value") * MONEY_UNITS).round().cast(pl.Int64).sum() / MONEY_UNITS)
                                 .alias("attributed_revenue"))
        .with_columns(as_text("channel"))
    )
    # a channel whose touched never bought converted no one: 0, not empty
    table = (reach.join(converted, on="channel", how="left").join(attributed, on="channel", how="left")
             .with_columns((pl.col("_buyers").fill_null(0) + pl.col("_others")).cast(pl.UInt32).alias("reached"),
                           pl.col("converted").fill_null(0)))
    cost_parts = [pl.col("_touch_cost")] if has_cost else []
    if spend:
        charged = campaigns.join(costed[0], on="campaign_id", how="anti") if costed else campaigns
        table = table.join(charged.group_by("channel").agg(pl.col("spend").sum().alias("_campaign_spend")),
                           on="channel", how="left")
        cost_parts.append(pl.col("_campaign_spend"))
    if cost_parts:
        cost = pl.sum_horizontal(cost_parts)
        table = table.with_columns(cost.alias("cost")).with_columns(
            pl.when(pl.col("cost") > 0)
            .then((pl.col("attributed_revenue").fill_null(0) - pl.col("cost")) / pl.col("cost"))
            .alias("roi")
        )
    return table.with_columns(
        (pl.col("touches") / pl.col("reached")).alias("touches_per_customer"),
        (pl.col("converted") / pl.col("reached")).alias("conversion_rate"),
    ).drop("_touch_cost", "_campaign_spend", "_buyers", "_others", strict=False)


# Days from 1970 stay far below half this for any real date, so keys of two customers never
# meet and a key gives its customer back.
DAY_SPAN = 1_000_000


def _day_key(date_column: str) -> pl.Expr:
    return pl.col("_code").cast(pl.Int64) * DAY_SPAN + pl.col(date_column).cast(pl.Int32).cast(pl.Int64)


def _key_customer(key_column: str) -> pl.Expr:
    """The customer code of a _day_key (its day is within DAY_SPAN / 2 of 1970)."""
    return (pl.col(key_column) + DAY_SPAN // 2) // DAY_SPAN


def acquisition_channels(customers: pl.LazyFrame | None, pairs: pl.LazyFrame) -> pl.LazyFrame | None:
    """customer_id and the channel that acquired them: customers.acquisition_channel, else the
    channel of the first purchase (of two on that day, the first by name), from channel_parts'
    pairs; with acquisition_cost when the customers table has it."""
    cols = names(customers)
    if "acquisition_channel" in cols:
        extra = ["acquisition_cost"] if "acquisition_cost" in cols else []
        return customers.select("customer_id", pl.col("acquisition_channel").alias("channel"), *extra)
    return pairs.sort("_first", "channel").group_by("customer_id").agg(pl.col("channel").first())


def acquisition_value(acquired: pl.DataFrame, people: pl.DataFrame) -> pl.DataFrame:
    """Per acquisition channel: new customers, CAC and the return on it."""
    joined = acquired.join(people.select("customer_id", "monetary"), on="customer_id", how="inner")
    has_cost = "acquisition_cost" in acquired.columns
    aggs = [pl.len().alias("new_customers")]
    if has_cost:
        aggs += [pl.col("acquisition_cost").mean().alias("cac"),
                 ((pl.col("monetary").sum() - pl.col("acquisition_cost").sum())
                  / pl.col("acquisition_cost").sum()).alias("acquisition_roi")]
    out = joined.filter(pl.col("channel").is_not_null()).group_by("channel").agg(aggs)
    if has_cost:
        out = out.with_columns(pl.when(pl.col("cac") > 0).then(pl.col("acquisition_roi")).alias("acquisition_roi"))
    return out


def overlap_matrix(pairs: pl.DataFrame, channels: list[str]) -> pl.DataFrame:
    """Customers who bought in both channels; the diagonal is each channel's customers."""
    order = sorted(channels)
    wide = pairs.pivot(on="channel_b", index="channel", values="customers")
    missing = [c for c in order if c not in wide.columns]
    return (
        wide.with_columns(pl.lit(0).alias(c) for c in missing)
        .select("channel", *order)
        .with_columns(pl.col(order).fill_null(0).cast(pl.Int64))
        .sort("channel")
    )


def radar_table(table: pl.DataFrame, marketing: bool, customers: int) -> pl.DataFrame:
    """Reach, engagement and conversion per channel, raw and scaled to 0-100 (best = 100).

    With touchpoints: reach = share of customers touched, engagement = touches per touched
    customer, conversion = conversion rate. Without: share of customers buying in the
    channel, orders per customer and repeat rate.
    """
    if marketing:
        base = table.filter(pl.col("touches").is_not_null()).select(
            "channel", pl.col("reach"), pl.col("touches_per_customer").alias("engagement"),
            pl.col("conversion_rate").alias("conversion"))
    else:
        base = table.filter(pl.col("customers").is_not_null()).select(
            "channel", (pl.col("customers") / customers).alias("reach"),
            (pl.col("orders") / pl.col("customers")).alias("engagement"),
            pl.col("repeat_rate").alias("conversion"))
    return base.with_columns(
        # x / max * 100, not 100 * x / max: the best channel scores exactly 100, not 100.00000000000001
        (pl.col(c) / pl.col(c).max() * 100).alias(f"{c}_score") for c in ("reach", "engagement", "conversion")
    ).sort("channel")
