"""Per-customer features: transactions (and optional tables) reduced to one row per customer.

One lazy Polars pipeline, one `group_by` over the transactions, no Python loops over rows.
`customer_features` returns a LazyFrame; the caller collects it once (Polars 2 collects
with its streaming engine by default). When the transactions would not fit the memory
budget (core.memory) in one group_by, it runs in several passes over disjoint sets of
customers, so a transaction history bigger than memory still fits. Every column is documented in FEATURES (used by the docs and by
the CLI's help).

Dates follow DESIGN.md: `as_of` is inclusive (the analysis sees everything dated on or
before it) and recency and T are measured to it (a purchase on `as_of` has recency 0).
A purchase is a transaction with a positive amount; negative amounts are returns.
Money is summed exactly (in units of 1/MONEY_UNITS), so features do not change from run
to run, and rows come sorted by customer_id.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import polars as pl

from core.errors import AnalysisError, InputError
from core.exact import SCALE as EXACT_SCALE
from core.order_layout import continues_order

if TYPE_CHECKING:
    from core.engines import Reducer

ENGAGEMENT_DAYS = 90
INACTIVITY_MULTIPLE = 3.0
# Threshold when nobody has bought twice, so no inter-purchase time exists to scale.
NO_REPEAT_FALLBACK_DAYS = 365
# A channel column with more values than this is almost surely mis-mapped (e.g. store names).
MAX_CHANNELS = 30
SHARE_PREFIX = "share_"
CHANNEL_FEATURES = ("n_channels", "multi_channel", "last_channel")  # and a share_<channel> per channel
# Money is summed exactly as integers in these units per currency unit: float sums depend
# on the (parallel) summation order, and results must not change from run to run.
MONEY_UNITS = 10_000
# Peak bytes per transaction row of one group_by pass with every feature (the streaming
# group_by holds its input). Measured by `make bench`: one pass over 10M rows peaks near
# 1 GB with every feature, 0.66 GB for RFM; 100M rows in one pass took 4.5 GB for RFM.
BYTES_PER_ROW = 120
MIN_ROWS_PER_PASS = 1_000_000  # below this, passes cost more re-reading than they save
# Set to fix the rows per pass (tests, the benchmark); None: from the memory budget.
ROWS_PER_PASS: int | None = None
PASS_HASH_SEED = 20_240_601
ID_HASH_SEED = 20_261_207

FEATURES: dict[str, str] = {
    "customer_id": "customer identifier (one row per customer with a transaction on or before as_of)",
    "first_purchase": "date of the first purchase (positive amount); null if the customer only returned",
    "last_purchase": "date of the last purchase on or before as_of; null if the customer only returned",
    "recency_days": "days from the last purchase to as_of (a purchase on as_of is 0); null with no purchase",
    "frequency": "number of distinct days with a purchase (same-day orders count once)",
    "orders": "number of distinct orders with a positive amount (order_id if present, else purchase rows)",
    "monetary": "net spend: purchases minus returns (sum of all amounts)",
    "gross_spend": "sum of positive amounts (purchases before returns)",
    "returns_value": "sum of returned value, as a positive number",
    "aov": "average order value: gross_spend / orders; null with no orders",
    "tenure_days": "days from the start of the relationship (the earlier of signup_date and "
                   "first_purchase) to as_of; null with neither",
    "t_days": "T: days from the first purchase to as_of; null with no purchase",
    "mean_ipt_days": "mean inter-purchase time in days: (last_purchase - first_purchase) / "
                     "(frequency - 1); null with fewer than two purchase days",
    "n_channels": "number of distinct channels the customer bought in (needs a channel column)",
    "multi_channel": "true if the customer bought in two or more channels",
    "last_channel": "channel of the last purchase (same-day purchases in several channels: the "
                    "first by name)",
    SHARE_PREFIX + "<channel>": "share of the customer's gross spend made in <channel> (0-1); "
                                "one column per channel",
    "return_rate": "returns_value / gross_spend; null with no purchase",
    "engagement": f"touchpoints in the last {ENGAGEMENT_DAYS} days (engagement_days) up to "
                  "as_of inclusive (needs the touchpoints table; 0 for customers without any)",
    "nps": "latest NPS answer (0-10) on or before as_of (needs the survey table)",
    "csat": "latest CSAT answer (1-5) on or before as_of (needs the survey table)",
    "inactivity_threshold_days": "days without a purchase after which the customer counts as lapsed: "
                                 "a fixed number if given, else inactivity_multiple x the "
                                 "customer's own mean_ipt_days (customers with one purchase day "
                                 "use the median mean_ipt_days of repeat buyers)",
    "active": "true if recency_days <= inactivity_threshold_days (false with no purchase)",
}


def feature_description(column: str) -> str:
    """The documented meaning of a feature column (channel share columns included)."""
    if column in FEATURES:
        return FEATURES[column]
    if column.startswith(SHARE_PREFIX):
        channel = column[len(SHARE_PREFIX):]
        return f"share of the customer's gross spend made in {channel} (0-1)"
    raise KeyError(column)


def default_as_of(transactions: pl.LazyFrame, today: dt.date | None = None, *,
                  engine: Reducer | None = None) -> dt.date:
    """The default as-of date: the date of the last transaction up to today (reads one
    column; on the engine when one is given). Dates after today are typos (2999-12-31) or
    pre-dated orders, and one of them must not move every analysis's as-of; run_analysis
    notes how many it ignored."""
    today = today or dt.date.today()
    if engine is not None:
        last, later = engine.last_date(today)
    else:
        dates = pl.col("order_date")
        last, later = transactions.select(dates.filter(dates <= today).max().alias("last"),
                                          (dates > today).sum().alias("later")).collect().row(0)
    if last is None:
        after = f" ({later} are dated after today, {today})" if later else ""
        raise AnalysisError(f"transactions has no dated rows up to today{after}, so there is no default "
                            "as-of date; pass --as-of")
    return last


def rows_after_today(transactions: pl.LazyFrame, today: dt.date | None = None, *,
                     engine: Reducer | None = None) -> int:
    """How many transactions default_as_of ignored for being dated after today."""
    today = today or dt.date.today()
    if engine is not None:
        return engine.last_date(today)[1]
    return transactions.select((pl.col("order_date") > today).sum()).collect().item()


def channel_values(transactions: pl.LazyFrame) -> list[str]:
    """Distinct non-null channels in the transactions, sorted (reads one column)."""
    values = (
        transactions.select(pl.col("channel").drop_nulls().unique().sort())
        .collect().to_series().to_list()
    )
    return checked_channels(values)


def checked_channels(values: list[str]) -> list[str]:
    if len(values) > MAX_CHANNELS:
        raise InputError(
            f"{len(values)} distinct channels; channel mix needs at most {MAX_CHANNELS}",
            file="transactions", column="channel",
            fix="map the column to a handful of channels (web, store, app...) or map another "
                "column as channel in loyalist.toml",
        )
    return values


def customer_features(
    transactions: pl.LazyFrame,
    *,
    as_of: dt.date | None = None,
    customers: pl.LazyFrame | None = None,
    touchpoints: pl.LazyFrame | None = None,
    survey: pl.LazyFrame | None = None,
    inactivity_days: int | None = None,
    inactivity_multiple: float = INACTIVITY_MULTIPLE,
    channels: Sequence[str] | None = None,
    engagement_days: int = ENGAGEMENT_DAYS,
    engine: Reducer | None = None,
    any_row: Mapping[str, pl.Expr] | None = None,
    orders_adjacent: bool = False,
) -> pl.LazyFrame:
    """One row per customer with a transaction on or before `as_of`; columns in FEATURES.

    `as_of` defaults to the last transaction date and `channels` to the distinct channels
    (each found with a cheap one-column read; channels=() means no channel features).
    Channel columns appear only when the transactions have a channel column; engagement,
    nps and csat only when the matching table (and column) is given; engagement counts
    the last `engagement_days` days. With an `engine` (core.engines), the group_by over the
    transactions runs there and only its per-customer rows come back; so do engagement and
    the latest answers when the engine reaches touchpoints and survey (Reducer.reads).
    Select only the columns you need before collecting: projection pushdown then skips the
    other aggregations (RFM needs four columns and runs several times faster than the full
    table).
    `any_row` adds, per name, whether any of the customer's rows up to `as_of` meets the
    condition, from the same group_by (not on an engine). `orders_adjacent`: the data checks
    found the file laid out order by order (core.order_layout.orders_adjacent), so orders are
    counted at the line that starts them instead of by a distinct count per customer.
    """
    schema = _checked_schema(transactions, engine, inactivity_days, inactivity_multiple)
    if as_of is None:
        as_of = default_as_of(transactions, engine=engine)
    has_channel = "channel" in schema
    if has_channel and channels is None:
        channels = (checked_channels(engine.channels(as_of)) if engine is not None
                    else channel_values(transactions.filter(pl.col("order_date") <= as_of)))
    channels = list(channels or []) if has_channel else []

    any_row = dict(any_row or {})
    if engine is not None:  # the group_by where the data is; the same formulas after it
        if any_row:
            raise ValueError("any_row is not computed on an engine")
        aggregated = engine.scan_aggregates(as_of, channels, "order_id" in schema)
    else:
        # Rows without a customer id belong to nobody (data validation counts them).
        rows = transactions.filter((pl.col("order_date") <= as_of) & pl.col("customer_id").is_not_null())
        # a flag per row, then a plain max per customer (see _aggregations)
        rows = rows.with_columns(**{name: condition.fill_null(False) for name, condition in any_row.items()})
        aggregated = _per_customer(rows, channels, "order_id" in schema, aggregation_passes(transactions),
                                   extra=[pl.col(name).max() for name in any_row], orders_adjacent=orders_adjacent)
    return features_from_aggregates(aggregated, as_of, channels, customers=customers, touchpoints=touchpoints,
                                    survey=survey, engine=engine, engagement_days=engagement_days,
                                    inactivity_days=inactivity_days, inactivity_multiple=inactivity_multiple,
                                    keep=list(any_row))


def _checked_schema(transactions: pl.LazyFrame, engine: Reducer | None, inactivity_days: int | None,
                    inactivity_multiple: float) -> pl.Schema | list[str]:
    schema = engine.columns if engine is not None else transactions.collect_schema()
    missing = [c for c in ("customer_id", "order_date", "amount") if c not in schema]
    if missing:
        raise InputError(
            f"transactions lacks required column(s) {', '.join(missing)}",
            file="transactions", fix="map them in loyalist.toml, table tables.transactions.columns",
        )
    if inactivity_days is not None and inactivity_days <= 0:
        raise InputError("inactivity days must be a positive number of days",
                         fix="pass e.g. --inactivity-days 180")
    if inactivity_multiple <= 0:
        raise InputError("inactivity multiple must be positive", fix="pass e.g. 3")
    return schema


# read_features' helper columns: each customer's latest date, and the latest of those
_LAST_DATE, _AS_OF = "_last_date", "_as_of"


# The param an analysis records the count of rows dated after today in, when its own read
# counted them; run_analysis turns it into its note (and takes it out of the params).
AFTER_TODAY = "rows_after_today"


@dataclass(frozen=True)
class FeaturesRead:
    """Collected features, the as-of date they are measured to, and how many transactions
    dated after today the default as-of date ignored (None: not counted in this read)."""

    table: pl.DataFrame
    as_of: dt.date
    after_today: int | None = None


def read_features(
    transactions: pl.LazyFrame,
    *,
    as_of: dt.date | None = None,
    columns: Sequence[str] | None = None,
    channels: Sequence[str] | None = None,
    inactivity_days: int | None = None,
    inactivity_multiple: float = INACTIVITY_MULTIPLE,
    engine: Reducer | None = None,
    today: dt.date | None = None,
    orders_adjacent: bool = False,
    **tables: pl.LazyFrame | None,
) -> FeaturesRead:
    """customer_features (only `columns`, if given) collected, with the as-of date.

    With the default as-of date, on Polars, with the channels known (or no channel column)
    and no other table, the transactions are read ONCE (a CSV is parsed once): the rows up
    to today are aggregated per customer with each one's latest date, the as-of date is the
    latest of those (so recency, T and tenure are derived after the group_by, not before),
    and the count of rows dated after today shares the scan (collect_all). Otherwise the
    as-of date is found first, as customer_features does.
    """
    options = {"inactivity_days": inactivity_days, "inactivity_multiple": inactivity_multiple}
    others = {name: frame for name, frame in tables.items() if frame is not None}
    has_channel = engine is None and "channel" in transactions.collect_schema()
    if as_of is not None or engine is not None or others or (has_channel and channels is None):
        as_of = as_of or default_as_of(transactions, engine=engine)
        lazy = customer_features(transactions, as_of=as_of, channels=channels, engine=engine,
                                 orders_adjacent=orders_adjacent, **options, **others)
        return FeaturesRead((lazy.select(_selectable(columns, lazy)) if columns is not None else lazy).collect(), as_of)
    schema = _checked_schema(transactions, None, inactivity_days, inactivity_multiple)
    today = today or dt.date.today()
    channels = list(channels or []) if has_channel else []
    # Rows without a customer id belong to nobody but still date the data (default_as_of),
    # so their group is kept until the as-of date is taken.
    rows = transactions.filter(pl.col("order_date") <= today)
    aggregated = _per_customer(rows, channels, "order_id" in schema, aggregation_passes(transactions),
                               extra=[pl.col("order_date").max().alias(_LAST_DATE)], orders_adjacent=orders_adjacent)
    features = (
        aggregated.with_columns(pl.col(_LAST_DATE).max().alias(_AS_OF))
        .filter(pl.col("customer_id").is_not_null())
        .pipe(_counts, channels)
        .pipe(_derived, pl.col(_AS_OF), channels, None)
        .pipe(_with_activity, inactivity_days, inactivity_multiple)
    )
    keep = (_column_order(features.collect_schema().names(), channels) if columns is None
            else _selectable(columns, features))
    later_rows = transactions.select((pl.col("order_date") > today).sum())
    table, later = pl.collect_all([features.select(*keep, _AS_OF).sort("customer_id"), later_rows])
    if table.is_empty():  # no customer up to today: default_as_of says why (or finds rows without a customer)
        day = default_as_of(transactions, today)
        return FeaturesRead(table.drop(_AS_OF), day, later.item())
    return FeaturesRead(table.drop(_AS_OF), table[_AS_OF][0], later.item())


def rows_per_pass() -> int:
    if ROWS_PER_PASS is not None:
        return ROWS_PER_PASS
    from core.memory import memory_budget

    return max(MIN_ROWS_PER_PASS, memory_budget() // BYTES_PER_ROW)


def is_channel_feature(column: str) -> bool:
    """A feature that exists only when the transactions name channels (n_channels, a share, ...)."""
    return column in CHANNEL_FEATURES or column.startswith(SHARE_PREFIX)


def _selectable(columns: Sequence[str], features: pl.LazyFrame) -> list[str]:
    """The requested columns, less the channel features when there are none: a channel column with
    no value in it (an export's empty column) gives no channel, so no n_channels or shares."""
    names = features.collect_schema().names()
    return [c for c in columns if c in names or not is_channel_feature(c)]


def aggregation_passes(transactions: pl.LazyFrame) -> int:
    """How many passes the per-customer aggregation makes: as few as the memory budget
    allows, since each pass re-reads the file (a row count is a metadata read for
    Parquet, a fast line count for CSV)."""
    rows = transactions.select(pl.len()).collect().item()
    return max(1, -(-rows // rows_per_pass()))


def _per_customer(rows: pl.LazyFrame, channels: list[str], has_order_id: bool,
                  n_passes: int, extra: Sequence[pl.Expr] = (), orders_adjacent: bool = False) -> pl.LazyFrame:
    """The one group_by over the transactions, in `n_passes` passes over disjoint sets of
    customers (by a hash of customer_id) run one after another. Polars' streaming
    group_by holds its input until the end (pola-rs/polars#25607), so memory grows with
    the rows of one pass, not of the file; each customer is in one pass and every
    aggregation is per customer, so the result does not depend on the number of passes.
    `orders_adjacent`: orders counted at their first lines (customer_features)."""
    aggs = [*_aggregations(channels, has_order_id, orders_adjacent), *extra]
    if n_passes == 1:
        return rows.pipe(_row_columns, channels, has_order_id, orders_adjacent).group_by("customer_id").agg(aggs)
    bucket = pl.col("customer_id").hash(PASS_HASH_SEED) % n_passes
    return pl.concat(
        [rows.filter(bucket == i).pipe(_row_columns, channels, has_order_id, orders_adjacent)
         .group_by("customer_id").agg(aggs) for i in range(n_passes)],
        parallel=False,  # one pass at a time: that is what bounds the memory
    )


def _row_columns(lf: pl.LazyFrame, channels: list[str], has_order_id: bool,
                 orders_adjacent: bool = False) -> pl.LazyFrame:
    buy = pl.col("amount") > 0
    units = (pl.col("amount") * MONEY_UNITS).round().cast(pl.Int64)
    gross = units.clip(lower_bound=0)
    columns = {
        "_buy_date": pl.when(buy).then(pl.col("order_date")),  # null: not a purchase
        "_units": units,
        "_gross": gross,
    }
    if has_order_id:
        columns["_order_key"] = pl.when(buy).then(_order_key())
    lf = lf.with_columns(**columns)
    if has_order_id and orders_adjacent:  # a subset of the rows keeps the layout (core.order_layout)
        lf = lf.with_columns(_starts=_order_starts()["_starts"])
    if not channels:
        return lf
    # Channel as a small code. The last purchase day and its channel are packed into one
    # integer, so one max() finds the last channel (same-day ties: the first by name).
    code = pl.lit(None, dtype=pl.Int64)
    for i, channel in reversed(list(enumerate(channels))):
        code = pl.when(pl.col("channel") == channel).then(pl.lit(i, pl.Int64)).otherwise(code)
    width = len(channels) + 1  # code len(channels) stands for "no channel"
    lf = lf.with_columns(_channel=code)
    return lf.with_columns(
        _last_key=pl.when(buy).then(
            pl.col("order_date").cast(pl.Int64) * width
            + (len(channels) - pl.col("_channel").fill_null(len(channels)))),
        **{f"_cg{i}": pl.when(pl.col("_channel") == i).then(pl.col("_gross")).otherwise(0)
           for i in range(len(channels))},
    )


# customer_features_at counts orders at the line that starts them when the data allow it
# (checked; tests switch it off to run the exact path on the same data)
ORDERS_AT_FIRST_LINE = True


def _order_starts(customer: str = "customer_id") -> dict[str, pl.Expr]:
    """_starts: 1 for a purchase line that starts an order (the line before it is not a purchase
    line of the same order); _moves: 1 for a line that continues an order in another customer or
    day. When every order's purchase lines are adjacent in the file and share one customer and
    day, an order has exactly one start, on its only date: the starts then count each customer's
    distinct orders per period, without a group_by per customer and order. That is checked,
    not assumed (customer_features_at): no move, no purchase without an order id, and as many
    starts as distinct orders; otherwise the exact group_by runs (channels counts orders so too).
    `customer`: the column that tells customers apart (customer_id or its hash, _KeyedByHash)."""
    key = pl.col("_order_key")  # null on a line that is not a purchase
    continues = continues_order(key)
    moved = (pl.col(customer).ne_missing(pl.col(customer).shift(1))
             | pl.col("order_date").ne_missing(pl.col("order_date").shift(1)))
    # Booleans (summed to UInt32 counts, as the casts did): the group_by holds its input, a bit a row
    return {"_starts": key.is_not_null() & ~continues, "_moves": continues & moved}


def _order_key() -> pl.Expr:
    # Hashing keeps distinct-order counting cheap; a 64-bit collision between two
    # orders of one customer is too unlikely to matter (~1e-11 for 10^4 orders).
    # Purchase rows without an order_id count as one order per day.
    return pl.when(pl.col("order_id").is_not_null()).then(pl.col("order_id").hash()) \
        .otherwise(pl.col("order_date").cast(pl.UInt64))


def _aggregations(channels: list[str], has_order_id: bool, orders_adjacent: bool = False) -> list[pl.Expr]:
    # Plain reductions only: the streaming engine runs them in one pass (compound
    # expressions inside agg() fall back to a much slower grouped evaluation), and
    # projection pushdown drops the ones a caller does not select.
    aggs = [
        pl.len().alias("_rows"),
        pl.col("_buy_date").null_count().alias("_non_buys"),
        pl.col("_buy_date").min().alias("first_purchase"),
        pl.col("_buy_date").max().alias("last_purchase"),
        pl.col("_buy_date").n_unique().alias("_days"),
        pl.col("_units").sum().alias("monetary"),
        pl.col("_gross").sum().alias("gross_spend"),
    ]
    if channels:
        aggs.append(pl.col("_last_key").max())
        aggs += [pl.col(f"_cg{i}").sum() for i in range(len(channels))]
    if has_order_id:  # the starts are the orders when the lines sit order by order (_order_starts)
        aggs.append(pl.col("_starts").sum().alias("_started") if orders_adjacent
                    else pl.col("_order_key").n_unique().alias("_keys"))
    return aggs


def _counts(lf: pl.LazyFrame, channels: list[str]) -> pl.LazyFrame:
    # n_unique counts null as one value; a null (not a purchase) is present exactly when
    # the customer has a non-purchase row.
    has_null = (pl.col("_non_buys") > 0).cast(pl.Int64)
    schema = lf.collect_schema()
    if "_started" in schema:  # purchase lines that start an order (_aggregations)
        orders = pl.col("_started").cast(pl.Int64)
    elif "_keys" in schema:
        orders = pl.col("_keys").cast(pl.Int64) - has_null
    else:
        orders = (pl.col("_rows") - pl.col("_non_buys")).cast(pl.Int64)
    lf = lf.with_columns(frequency=pl.col("_days").cast(pl.Int64) - has_null, orders=orders)
    if not channels:
        return lf
    code = len(channels) - pl.col("_last_key") % (len(channels) + 1)
    last_channel = pl.lit(None, dtype=pl.String)
    for i in reversed(range(len(channels))):
        last_channel = pl.when(code == i).then(pl.lit(channels[i])).otherwise(last_channel)
    return lf.with_columns(last_channel=last_channel)


def _days_to(as_of: dt.date | pl.Expr, col: str) -> pl.Expr:
    return (_date(as_of) - pl.col(col)).dt.total_days()


def _date(as_of: dt.date | pl.Expr) -> pl.Expr:
    """The as-of date as an expression: a date, or a column found in the same read (read_features)."""
    return as_of if isinstance(as_of, pl.Expr) else pl.lit(as_of)


def _derived(
    lf: pl.LazyFrame, as_of: dt.date | pl.Expr, channels: list[str], customers: pl.LazyFrame | None,
) -> pl.LazyFrame:
    lf = lf.with_columns(
        _gross_units=pl.col("gross_spend"),
        monetary=pl.col("monetary") / MONEY_UNITS, gross_spend=pl.col("gross_spend") / MONEY_UNITS,
        returns_value=(pl.col("gross_spend") - pl.col("monetary")) / MONEY_UNITS,
    )
    gross = pl.col("gross_spend")
    has_purchase = pl.col("frequency") > 0
    lf = lf.with_columns(
        recency_days=_days_to(as_of, "last_purchase"),
        t_days=_days_to(as_of, "first_purchase"),
        aov=pl.when(pl.col("orders") > 0).then(gross / pl.col("orders")),
        mean_ipt_days=pl.when(pl.col("frequency") > 1).then(
            (pl.col("last_purchase") - pl.col("first_purchase")).dt.total_days()
            / (pl.col("frequency") - 1)),
        return_rate=pl.when(has_purchase).then(pl.col("returns_value") / gross),
    )
    lf = _with_tenure(lf, as_of, customers)
    if not channels:
        return lf
    lf = lf.with_columns(
        n_channels=pl.sum_horizontal(
            [pl.col(f"_cg{i}") > 0 for i in range(len(channels))]).cast(pl.Int64),
        **{f"{SHARE_PREFIX}{c}": pl.when(gross > 0).then(pl.col(f"_cg{i}") / pl.col("_gross_units"))
           for i, c in enumerate(channels)},
    )
    return lf.with_columns(multi_channel=pl.col("n_channels") >= 2)


def _with_tenure(lf: pl.LazyFrame, as_of: dt.date | pl.Expr, customers: pl.LazyFrame | None) -> pl.LazyFrame:
    start = pl.col("first_purchase")
    if customers is not None and "signup_date" in customers.collect_schema():
        signups = (
            customers.select("customer_id", "signup_date")
            .filter(pl.col("signup_date") <= as_of)
            .group_by("customer_id").agg(pl.col("signup_date").min())
        )
        lf = lf.join(signups, on="customer_id", how="left")
        start = pl.min_horizontal(start, pl.col("signup_date"))
    return lf.with_columns(tenure_days=_tenure_days(as_of, start))


def _tenure_days(as_of: dt.date | pl.Expr, start: pl.Expr) -> pl.Expr:
    return (_date(as_of) - start).dt.total_days()


def _with_activity(lf: pl.LazyFrame, days: int | None, multiple: float) -> pl.LazyFrame:
    if days is not None:
        threshold = pl.lit(float(days))
    else:
        typical = pl.col("mean_ipt_days").median().fill_null(NO_REPEAT_FALLBACK_DAYS / multiple)
        threshold = multiple * pl.col("mean_ipt_days").fill_null(typical)
    lf = lf.with_columns(inactivity_threshold_days=threshold)
    return lf.with_columns(
        active=(pl.col("recency_days") <= pl.col("inactivity_threshold_days")).fill_null(False))


def engagement_counts(touchpoints: pl.LazyFrame, as_of: dt.date, days: int) -> pl.LazyFrame:
    """Touchpoints per customer in the `days` days up to as_of inclusive (core.engines'
    Reducer.engagement counts the same on an engine)."""
    start = as_of - dt.timedelta(days=days - 1)
    return (
        touchpoints.select("customer_id", day=pl.col("timestamp").dt.date())
        .filter(pl.col("day").is_between(start, as_of))
        .group_by("customer_id").agg(engagement=pl.len().cast(pl.Int64))
    )


def latest_answers(survey: pl.LazyFrame, as_of: dt.date, answers: list[str]) -> pl.LazyFrame:
    """Each customer's latest answer to each of `answers` (nps, csat) on or before as_of.

    The latest is the answer with the latest response_date; among answers given the same
    day, or in a survey without dates, the LOWEST counts (the cautious reading). So the
    answer never depends on row order, which databases do not keep: core.engines'
    Reducer.latest_answers applies the same rule on an engine. A blank answer is skipped
    (that customer's latest non-blank one counts)."""
    dated = "response_date" in survey.collect_schema()
    if not dated:
        return survey.group_by("customer_id").agg(pl.col(name).min() for name in answers)
    survey = survey.filter(pl.col("response_date") <= as_of)
    # Per answer: sorted by date, a day's answers highest first, then the last per customer, a
    # plain reduction (a filter per group and column was ten times slower).
    latest = [survey.filter(pl.col(name).is_not_null()).sort("response_date", name, descending=[False, True])
              .group_by("customer_id").agg(pl.col(name).last()) for name in answers]
    return functools.reduce(lambda a, b: a.join(b, on="customer_id", how="full", coalesce=True), latest)


def _column_order(present: list[str], channels: list[str]) -> list[str]:
    documented = [c for c in FEATURES if c in present]
    shares = [f"{SHARE_PREFIX}{c}" for c in channels]
    # Keep the documented order, with channel shares right after last_channel.
    at = documented.index("last_channel") + 1 if "last_channel" in documented else len(documented)
    return documented[:at] + shares + documented[at:]


@dataclass(frozen=True)
class FeatureSnapshots:
    """customer_features at several dates from one read of the transactions, and who
    made a purchase in each (start, end] window (customer_id, bought)."""

    features: dict[dt.date, pl.DataFrame]
    purchased: dict[tuple[dt.date, dt.date], pl.DataFrame]
    # core.predict.summary's per-customer reductions at summary_at (customer_features_at)
    purchase_summary: pl.DataFrame | None = None


def customer_features_at(
    transactions: pl.LazyFrame,
    dates: Sequence[dt.date],
    *,
    customers: pl.LazyFrame | None = None,
    touchpoints: pl.LazyFrame | None = None,
    survey: pl.LazyFrame | None = None,
    inactivity_days: int | None = None,
    inactivity_multiple: float = INACTIVITY_MULTIPLE,
    engagement_days: int = ENGAGEMENT_DAYS,
    purchase_windows: Sequence[tuple[dt.date, dt.date]] = (),
    summary_at: dt.date | None = None,
    after_group_by: Callable[[], object] | None = None,
    orders_adjacent: bool = False,
    known_ids: pl.LazyFrame | None = None,
) -> FeatureSnapshots:
    """customer_features(as_of=d) for every d in `dates`, collected, from one read of the
    transactions (and of the touchpoints) instead of one per date.

    The dates cut time into periods (up to the first date, up to the second, ...); one
    group_by per customer and period makes _per_customer's aggregations, and a date's are
    the sums (min, max) over the periods up to it (every date's in one group_by per
    customer, _cumulative): exact, since a purchase day lies in one period. Distinct orders
    are not additive (an order's rows may span two days): each order is dated by its first
    purchase row and counted at every date from it on; when the data show every order's lines
    adjacent on one customer and day (_order_starts, checked), at the line that starts it, in
    the same group_by, else with a group_by per customer and order. Each date's table then
    equals customer_features at that date, the channels found up to that date included.
    `purchase_windows` adds, per (start, end], whether the customer made a purchase
    (positive amount) in it. `summary_at` (one of `dates`) adds purchase_summary: what
    core.predict.summary reduces per customer for the BTYD models as of that date, from the
    same group_by (its purchase rule, not the features': zero amounts are purchases; money
    summed exactly as core.exact does, so the periods' sums add up to the same figure).
    Rows without a customer id are left out here, as everywhere in the features.
    `after_group_by` is called once the per-customer-and-period group_by (the read's peak
    memory) has run, with the rest of the read still to come (predict churn starts its imports).
    `orders_adjacent`: the data checks found the file laid out order by order
    (core.order_layout.orders_adjacent), so the starts count orders without proving it again.
    `known_ids`: a table whose customer_id holds every customer id of the transactions (the
    customers table, when the data checks found no transactions id missing from it:
    core.validate.every_customer_known), read for the distinct ids instead of the transactions.
    """
    schema = _checked_schema(transactions, None, inactivity_days, inactivity_multiple)
    dates = sorted(set(dates))
    windows = list(dict.fromkeys(purchase_windows))
    last = max([*dates, *(end for _, end in windows)])
    has_order_id = "order_id" in schema
    # channels seen up to each date: a channel that first appears later is no column before
    first_seen = (
        transactions.filter(pl.col("order_date") <= dates[-1]).drop_nulls("channel")
        .group_by("channel").agg(pl.col("order_date").min()).collect()
        if "channel" in schema else pl.DataFrame(schema={"channel": pl.String, "order_date": pl.Date})
    )
    union = checked_channels(sorted(first_seen["channel"].to_list()))
    seen = dict(first_seen.iter_rows())
    rows = transactions.filter((pl.col("order_date") <= last) & pl.col("customer_id").is_not_null())

    def period(date: pl.Expr) -> pl.Expr:  # k: after dates[k-1], up to dates[k]; len(dates): after them all
        index = pl.lit(len(dates))
        for k in reversed(range(len(dates))):
            index = pl.when(date <= dates[k]).then(pl.lit(k)).otherwise(index)
        return index.cast(pl.Int32)

    buy = pl.col("amount") > 0
    flags = {f"_bought{w}": buy & pl.col("order_date").is_between(start, end, closed="right")
             for w, (start, end) in enumerate(windows)}
    aggs = [*_aggregations(union, False), *(pl.col(f).max() for f in flags)]
    if summary_at is not None:
        if summary_at not in dates:
            raise ValueError(f"summary_at {summary_at} is not one of the dates")
        aggs.append(pl.col("_apart").sum())
    check_orders = has_order_id and ORDERS_AT_FIRST_LINE and not orders_adjacent
    if has_order_id and ORDERS_AT_FIRST_LINE:
        aggs += [pl.col("_starts").sum(), *([pl.col("_moves").sum()] if check_orders else [])]

    def keyed_rows(keyed: _KeyedByHash) -> pl.LazyFrame:
        lf = keyed.rows(rows, period(pl.col("order_date"))).pipe(_row_columns, union, has_order_id).with_columns(**flags)
        if summary_at is not None:
            lf = lf.with_columns(_apart=_counted_apart())
        if has_order_id and ORDERS_AT_FIRST_LINE:
            lf = lf.with_columns(**_order_starts(keyed.customer))
        return lf

    # The two group_bys over the transactions run one after the other: each holds its
    # input (see _per_customer), and side by side they would hold both at once.
    keyed = _KeyedByHash(rows, len(dates) + 1, known_ids)
    lf = keyed_rows(keyed)
    per_period = keyed.group_by(lf, aggs, transactions)
    if per_period is None:  # some customer of the transactions was not among known_ids: their own ids
        keyed = _KeyedByHash(rows, len(dates) + 1)
        lf = keyed_rows(keyed)
        per_period = keyed.group_by(lf, aggs, transactions)
    if after_group_by is not None:
        after_group_by()
    # The second reads of the transactions, side by side after the group_by (the check's distinct
    # ids held beside the group_by's input raised the peak): the order check, mostly on one core,
    # and, when no row counts apart, the first day's spend of summary_at's purchase summary, whose
    # first purchase days are then the per-period table's (_first_days_from)
    k_summary = dates.index(summary_at) if summary_at is not None else None
    summary_apart = k_summary is not None and per_period.filter(pl.col("_period") <= k_summary)["_apart"].sum() > 0
    second = {}
    if check_orders:
        second["check"] = rows.filter(buy).select(pl.col("order_id").null_count().alias("missing"),
                                                  _order_key().n_unique().alias("orders"))
    if k_summary is not None and not summary_apart:
        second["first_days"] = _first_day_spend(rows, summary_at, _first_days_from(per_period, k_summary))
    second = dict(zip(second, pl.collect_all(list(second.values()))))
    if "check" in second:
        check = second["check"]
        if check["missing"].item() or per_period["_moves"].sum() or check["orders"].item() != per_period["_starts"].sum():
            per_period = per_period.drop("_starts")  # the lines of some order are not adjacent: the exact path
        per_period = per_period.drop("_moves")
    order_counts = None
    if has_order_id and "_starts" not in per_period.columns:
        # an order counts from its first purchase row's date on: _orders<k> orders up to dates[k]
        order_counts = (
            _in_passes(rows.filter(pl.col("amount") > 0).select("customer_id", "order_date", _order_key=_order_key()),
                       ["customer_id", "_order_key"], [pl.col("order_date").min().alias("_first")], transactions)
            .group_by("customer_id").agg((pl.col("_first") <= day).sum().alias(f"_orders{k}")
                                         for k, day in enumerate(dates)).collect())
    collected = []
    if touchpoints is not None:
        collected.append(_engagement_at(touchpoints, dates, engagement_days))
    if survey is not None:  # small: read once, each date's latest answers from memory
        keep = [c for c in ("customer_id", "response_date", "nps", "csat") if c in survey.collect_schema()]
        collected.append(survey.select(keep))
    if customers is not None and "signup_date" in customers.collect_schema():
        # the earliest signup up to a date is the earliest of all when that is up to the date
        collected.append(customers.group_by("customer_id").agg(_signup=pl.col("signup_date").min()))
    others = pl.collect_all(collected)
    engagement = others.pop(0) if touchpoints is not None else None
    answers = others.pop(0) if survey is not None else None
    signups = others.pop(0) if others else None

    asked = [c for c in ("nps", "csat") if answers is not None and c in answers.columns]
    latest = _latest_answers_at(answers, dates, asked) if asked else None
    cumulative = _cumulative(per_period, order_counts, len(dates), union, len(windows), engagement, signups, latest)
    features = {
        day: _snapshot_from(cumulative, has_order_id, k, day, union,
                            [c for c in union if seen[c] <= day], signups is not None, engagement is not None,
                            asked, inactivity_days, inactivity_multiple)
        for k, day in enumerate(dates)
    }
    purchased = {
        window: cumulative.select("customer_id", bought=pl.col(f"_bought{w}"))
        for w, window in enumerate(windows)
    }
    summary = None
    if k_summary is not None:
        if not summary_apart:
            summary = _purchase_summary_from(cumulative, k_summary)
            first_days = second["first_days"]
        else:  # zero amounts or finer than MONEY_UNITS: summary.py's own reductions (a second read)
            lf = lf.with_columns(**_summary_row_columns())
            summary = _purchase_summary(keyed.group_by(lf, _summary_aggregations(), transactions), k_summary)
            first_days = _first_day_spend(rows, summary_at, summary.lazy().select(
                "customer_id", order_date="first_purchase")).collect()
        summary = summary.join(first_days, on="customer_id", how="left", maintain_order="left")
        summary = summary.with_columns(first_spend=pl.col("_s_first_spend") / EXACT_SCALE).drop("_s_first_spend")

    return FeatureSnapshots(features, purchased, summary)


class _KeyedByHash:
    """group_by(customer_id, _period) keyed on one integer, _key: customer_id's 64-bit hash (less its
    lowest bits, _id) with the period packed in; the text is given back after the group_by by a join
    to the distinct ids. In a bare group_by of 10M rows that took 2.0 s, against 2.5 s with the text
    and the period as keys (with 390 MB more held) and 3.8 s after a Categorical cast (its global
    dictionary cost 3 s of CPU). The rows carry _key instead of the text (rows()): the group_by holds
    its input (see _per_customer), and so does the order starts' shift, which is not streamed. The
    distinct ids are a read of their own: 2.0 s at 20M rows from the transactions, 0.1 s from
    `known_ids` (customer_features_at), whose ids must then hold every id of the rows; when two of
    them share an _id (about 1 in 10^8 at a million customers) nothing is hashed: the text and the
    period are the keys."""

    def __init__(self, rows: pl.LazyFrame, slots: int, known_ids: pl.LazyFrame | None = None):
        self.slots = slots  # periods: _period is 0 .. slots - 1
        source = rows if known_ids is None else known_ids.filter(pl.col("customer_id").is_not_null())
        ids = source.select(pl.col("customer_id").unique()).with_columns(_id=customer_id_hash() // slots).collect()
        self.ids = ids if ids["_id"].n_unique() == ids.height else None
        self.known = known_ids is not None
        # the column that tells customers apart on a row: a change of _key is a change of customer
        # or of period, and a period changes only with the date (_order_starts' moves)
        self.customer = "customer_id" if self.ids is None else "_key"

    def rows(self, rows: pl.LazyFrame, period: pl.Expr) -> pl.LazyFrame:
        if self.ids is None:
            return rows.with_columns(_period=period)
        key = customer_id_hash() // self.slots * self.slots + period.cast(pl.UInt64)
        return rows.with_columns(_key=key).drop("customer_id")

    def group_by(self, lf: pl.LazyFrame, aggs: list[pl.Expr], transactions: pl.LazyFrame) -> pl.DataFrame | None:
        """rows(...)'s group_by(customer_id, _period).agg(aggs), collected, with customer_id as text;
        None when some row's customer is not among the known ids (known_ids broke its promise: the
        caller keys the rows again from their own ids)."""
        if self.ids is None:
            return _in_passes(lf, ["customer_id", "_period"], aggs, transactions).collect()
        grouped = _in_passes(lf, ["_key"], aggs, transactions, customer=pl.col("_key") // self.slots).collect()
        named = (grouped.lazy()
                 .select(_id=pl.col("_key") // self.slots, _period=(pl.col("_key") % self.slots).cast(pl.Int32),
                         *(c for c in grouped.columns if c != "_key"))
                 .join(self.ids.lazy(), on="_id", how="inner").drop("_id")
                 .select("customer_id", pl.exclude("customer_id")).collect())
        if self.known and named.height < grouped.height:
            return None
        return named


def customer_id_hash() -> pl.Expr:
    """customer_id's 64-bit hash (_KeyedByHash; tests make two ids share one)."""
    return pl.col("customer_id").hash(ID_HASH_SEED)


def _counted_apart() -> pl.Expr:
    """1 for a row the features and summary.py count differently: a zero amount (a purchase
    there, not here) or a purchase finer than 1/MONEY_UNITS (summed in millionths there). With
    none up to a date, the features' purchase days, first and last purchase and gross spend
    are summary.py's (summed per customer and period beside the features' sums)."""
    amount = pl.col("amount")
    finer = (amount * EXACT_SCALE).round() != (amount * MONEY_UNITS).round() * (EXACT_SCALE // MONEY_UNITS)
    return ((amount == 0) | ((amount > 0) & finer)).fill_null(False)  # Boolean: summed to a UInt32 count


def _purchase_summary_from(cumulative: pl.DataFrame, k: int) -> pl.DataFrame:
    """_purchase_summary's columns (but first_spend) from _cumulative's at dates[k], when no row counts apart."""
    return cumulative.lazy().filter(pl.col(f"frequency{k}") > 0).select(
        "customer_id", first_purchase=pl.col(f"first_purchase{k}"), last_purchase=pl.col(f"last_purchase{k}"),
        purchase_days=pl.col(f"frequency{k}").cast(pl.Int64),
        # the same integers summary.py sums (no purchase finer than MONEY_UNITS), the same division
        spend=(pl.col(f"gross_spend{k}") * (EXACT_SCALE // MONEY_UNITS)) / EXACT_SCALE,
    ).collect()


def _summary_row_columns() -> dict[str, pl.Expr]:
    # core.predict.summary's purchase rows: a non-negative amount (zero-value orders count)
    counted = pl.col("amount") >= 0
    return {"_s_date": pl.when(counted).then(pl.col("order_date")),
            "_s_units": pl.when(counted).then((pl.col("amount") * EXACT_SCALE).round().cast(pl.Int64))}


def _summary_aggregations() -> list[pl.Expr]:
    # per customer and period, plain reductions only (see _aggregations)
    day = pl.col("_s_date")
    return [day.min().alias("_s_first"), day.max().alias("_s_last"), day.n_unique().alias("_s_days"),
            day.null_count().alias("_s_nulls"), pl.col("_s_units").sum().alias("_s_spend")]


def _first_days_from(per_period: pl.DataFrame, k: int) -> pl.LazyFrame:
    """Each buyer's first purchase day up to dates[k] from the per-period table (customer_id,
    order_date): _purchase_summary_from's first_purchase, which holds when no row counts apart."""
    first = pl.col("first_purchase")
    return (per_period.lazy().filter(pl.col("_period") <= k, first.is_not_null())
            .group_by("customer_id").agg(order_date=first.min()))


def _first_day_spend(lf: pl.LazyFrame, summary_at: dt.date, firsts: pl.LazyFrame) -> pl.LazyFrame:
    """Each customer's spend units on their first purchase day up to summary_at (summary.py's
    rule): the rows on that day (`firsts`: customer_id, order_date, one row per customer), found by
    a join, then summed per customer over those few rows. A group_by of every row with a
    filter per group (the day's minimum) ran on Polars' slow grouped evaluation, twice the CPU.
    The units are rounded after the join, on the first days' rows only: at 20M rows the rounding
    of every row took about a quarter of the query's 1.3 s."""
    return (lf.filter(pl.col("amount") >= 0, pl.col("order_date") <= summary_at)
            .select("customer_id", "order_date", "amount")
            .join(firsts, on=["customer_id", "order_date"], how="inner")
            .with_columns(_s_units=_summary_row_columns()["_s_units"])
            .group_by("customer_id").agg(pl.col("_s_units").sum().alias("_s_first_spend")))


def _purchase_summary(per_period: pl.DataFrame, k: int) -> pl.DataFrame:
    """core.predict.summary._per_customer's table (first_purchase, last_purchase, purchase_days,
    spend; first_spend is joined by the caller) up to dates[k], from the per-period group_by: days add up (a day lies in
    one period; n_unique counts the non-purchase null once) and so do the integer spend units."""
    first = pl.col("_s_first")
    return (
        per_period.lazy().filter(pl.col("_period") <= k, first.is_not_null())
        .group_by("customer_id")
        .agg(first_purchase=first.min(), last_purchase=pl.col("_s_last").max(),
             purchase_days=(pl.col("_s_days").cast(pl.Int64) - (pl.col("_s_nulls") > 0).cast(pl.Int64)).sum(),
             spend=pl.col("_s_spend").sum() / EXACT_SCALE)
        .sort("customer_id").collect()
    )


def _in_passes(lf: pl.LazyFrame, by: list[str], aggs: list[pl.Expr], transactions: pl.LazyFrame,
               customer: pl.Expr | None = None) -> pl.LazyFrame:
    """group_by(by).agg(aggs) in passes over disjoint sets of customers (told apart by `customer`,
    default customer_id), as _per_customer."""
    n_passes = aggregation_passes(transactions)
    if n_passes == 1:
        return lf.group_by(by).agg(aggs)
    bucket = (pl.col("customer_id") if customer is None else customer).hash(PASS_HASH_SEED) % n_passes
    return pl.concat([lf.filter(bucket == i).group_by(by).agg(aggs) for i in range(n_passes)], parallel=False)


_SUMMED = ("_rows", "_non_buys", "monetary", "gross_spend")


def _cumulative(per_period: pl.DataFrame, order_counts: pl.DataFrame | None, n_dates: int, union: list[str],
                n_windows: int, engagement: pl.DataFrame | None = None,
                signups: pl.DataFrame | None = None, answers: pl.DataFrame | None = None) -> pl.DataFrame:
    """Every date's per-customer sums (min, max) over the periods up to it, as columns <name><k>, in one
    group_by of the per-period table (one per date was three group_bys, joins and text sorts); plus
    the order counts (_orders<k>), over all periods _bought<w>, and the engagement (_engagement<k>), earliest signup
    (_signup) and latest answers (<answer><k>) tables joined once. Sorted by customer_id, with _row its position."""
    # n_unique counts null as one value, once per period: a null is a row that is not a purchase
    days = pl.col("_days").cast(pl.Int64) - (pl.col("_non_buys") > 0).cast(pl.Int64)
    sums = {c: pl.col(c) for c in (*_SUMMED, *(f"_cg{i}" for i in range(len(union))))} | {"frequency": days}
    if "_starts" in per_period.columns:  # orders counted at their first line (_order_starts): they add up
        sums["_orders"] = pl.col("_starts")
    aggs = []
    for k in range(n_dates):
        upto = pl.col("_period") <= k  # a customer's periods up to the date (none: not yet a customer)
        aggs += [pl.when(upto).then(value).sum().alias(f"{name}{k}") for name, value in sums.items()]
        aggs += [pl.when(upto).then(pl.col("first_purchase")).min().alias(f"first_purchase{k}"),
                 pl.when(upto).then(pl.col("last_purchase")).max().alias(f"last_purchase{k}")]
        if union:
            aggs.append(pl.when(upto).then(pl.col("_last_key")).max().alias(f"_last_key{k}"))
    aggs += [(pl.col(f"_bought{w}").max()).alias(f"_bought{w}") for w in range(n_windows)]
    cumulative = per_period.lazy().group_by("customer_id").agg(aggs).sort("customer_id").collect()
    # the other tables joined to the ids alone, then set beside: a join onto the wide table
    # gathered every one of its columns again, once per table; the joins' order is set back by one
    # integer sort (keeping the left order in every join took twice as long)
    keys = cumulative.select("customer_id").with_row_index("_row").lazy()
    for table in (order_counts, engagement, signups, answers):
        if table is not None:
            keys = keys.join(table.lazy(), on="customer_id", how="left")
    return cumulative.hstack(keys.sort("_row").collect().drop("customer_id", "_row")).with_row_index("_row")


def _snapshot_from(cumulative: pl.DataFrame, has_orders: bool, k: int, day: dt.date, union: list[str],
                   channels: list[str], has_signups: bool, has_engagement: bool,
                   asked: list[str], inactivity_days: int | None,
                   inactivity_multiple: float) -> pl.DataFrame:
    """One date's _per_customer table (its columns of _cumulative), then customer_features' formulas."""
    lf = cumulative.lazy().filter(pl.col(f"_rows{k}") > 0).select(
        "_row", "customer_id", *(pl.col(f"{c}{k}").alias(c) for c in ("first_purchase", "last_purchase", *_SUMMED)),
        *(pl.col(f"_cg{i}{k}").alias(f"_cg{i}") for i in range(len(union))),
        frequency=pl.col(f"frequency{k}"), **({"_last_key": pl.col(f"_last_key{k}")} if union else {}),
        **({"_orders": pl.col(f"_orders{k}")} if has_orders else {}),
        **({"engagement": pl.col(f"_engagement{k}").fill_null(0)} if has_engagement else {}),
        **({"_signup": pl.col("_signup")} if has_signups else {}),
        **{name: pl.col(f"{name}{k}") for name in asked})
    if has_orders:
        orders = pl.col("_orders").fill_null(0).cast(pl.Int64)
    else:
        orders = (pl.col("_rows") - pl.col("_non_buys")).cast(pl.Int64)
    index = {c: union.index(c) for c in channels}  # column of each channel in the one pass
    extra = {f"_cg{j}": pl.col(f"_cg{index[c]}") for j, c in enumerate(channels)}
    if channels:  # decoded with the one pass's channel codes: the same channel name
        code = len(union) - pl.col("_last_key") % (len(union) + 1)
        last_channel = pl.lit(None, dtype=pl.String)
        for i in reversed(range(len(union))):
            last_channel = pl.when(code == i).then(pl.lit(union[i])).otherwise(last_channel)
        extra["last_channel"] = last_channel
    kept = [c for c in ("engagement", "_signup", *asked) if c in lf.collect_schema()]
    lf = lf.select("_row", "customer_id", "first_purchase", "last_purchase", "monetary", "gross_spend", "frequency",
                   *kept, orders=orders, **extra)
    lf = lf.pipe(_derived, day, channels, None)
    if has_signups:  # _with_tenure's rule with the signup joined once: the earliest one up to the date
        signup = pl.when(pl.col("_signup") <= day).then(pl.col("_signup"))
        lf = lf.with_columns(tenure_days=_tenure_days(day, pl.min_horizontal(pl.col("first_purchase"), signup)))
    lf = lf.pipe(_with_activity, inactivity_days, inactivity_multiple)
    # _row is the customer_id order: an integer sort instead of a text one
    return lf.sort("_row").select(_column_order(lf.collect_schema().names(), channels)).collect()


def _latest_answers_at(survey: pl.DataFrame, dates: list[dt.date], answers: list[str]) -> pl.DataFrame:
    """latest_answers at every date, as columns <answer><k>, with one sort per answer: the rows up to a
    date keep the sorted order, so each date's latest is the last of its rows by latest_answers' rule."""
    if "response_date" not in survey.columns:  # undated: the same answers whatever the date
        latest = latest_answers(survey.lazy(), dates[-1], answers)
        return latest.select("customer_id", *(pl.col(a).alias(f"{a}{k}") for k in range(len(dates))
                                              for a in answers)).collect()
    per_date = []
    for name in answers:
        ordered = survey.filter(pl.col(name).is_not_null()).sort("response_date", name, descending=[False, True])
        per_date += [ordered.lazy().filter(pl.col("response_date") <= day).group_by("customer_id")
                     .agg(pl.col(name).last().alias(f"{name}{k}")) for k, day in enumerate(dates)]
    return functools.reduce(lambda a, b: a.join(b, on="customer_id", how="full", coalesce=True), per_date).collect()


def _engagement_at(touchpoints: pl.LazyFrame, dates: list[dt.date], days: int) -> pl.LazyFrame:
    """engagement_counts for every date in one group_by: _engagement<k> per customer."""
    starts = [d - dt.timedelta(days=days - 1) for d in dates]
    day = pl.col("day")
    return (
        touchpoints.select("customer_id", day=pl.col("timestamp").dt.date())
        .filter(day.is_between(min(starts), max(dates)))
        .with_columns(**{f"_engagement{k}": day.is_between(s, d).cast(pl.Int64)
                         for k, (s, d) in enumerate(zip(starts, dates))})
        .group_by("customer_id").agg(pl.col(f"_engagement{k}").sum() for k in range(len(dates)))
    )


def features_from_aggregates(
    aggregated: pl.LazyFrame,
    as_of: dt.date,
    channels: Sequence[str],
    *,
    customers: pl.LazyFrame | None = None,
    touchpoints: pl.LazyFrame | None = None,
    survey: pl.LazyFrame | None = None,
    engine: Reducer | None = None,
    engagement_days: int = ENGAGEMENT_DAYS,
    inactivity_days: int | None = None,
    inactivity_multiple: float = INACTIVITY_MULTIPLE,
    keep: Sequence[str] = (),
) -> pl.LazyFrame:
    """customer_features from per-customer aggregates: customer_features' own last steps, and
    what a caller that reduced the transactions itself uses. The aggregates have the columns
    _per_customer makes (_rows, _non_buys, first_purchase, last_purchase, _days counting a
    non-purchase row as one null day, monetary and gross_spend in MONEY_UNITS, _last_key,
    _cg<i>, _keys counting non-purchase rows as one null key); the channels report derives
    them from its reduced tables (core.evaluate.channels) instead of a second pass over the
    transactions. `keep`: aggregate columns carried through after the features'."""
    channels = list(channels)
    features = (
        aggregated
        .pipe(_counts, channels)
        .pipe(_derived, as_of, channels, customers)
        .pipe(_with_activity, inactivity_days, inactivity_multiple)
    )
    if touchpoints is not None:  # on the engine too when it reaches the table (core.engines)
        counts = (engine.engagement(as_of, engagement_days) if engine is not None and engine.reads("touchpoints")
                  else engagement_counts(touchpoints, as_of, engagement_days))
        features = features.join(counts, on="customer_id", how="left").with_columns(pl.col("engagement").fill_null(0))
    if survey is not None:
        answers = [c for c in ("nps", "csat") if c in survey.collect_schema()]
        if answers:
            latest = (engine.latest_answers(as_of, answers) if engine is not None and engine.reads("survey")
                      else latest_answers(survey, as_of, answers))
            features = features.join(latest, on="customer_id", how="left")
    # Sorted by customer_id: row order (and so K-Means initialisation and output files)
    # must not depend on the hash order of the group_by.
    return features.select(*_column_order(features.collect_schema().names(), channels), *keep).sort("customer_id")
