"""Segment summaries and profiles, shared by every segmentation.

`segment_summary` is the per-segment table every segmentation returns (its columns are
documented in SUMMARY_COLUMNS and are the stable JSON keys). `segment_profile` describes
the segments of any segmentation feature by feature, and `compare_segments` ranks the
features by how much two segments differ.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

import polars as pl

from core.errors import AnalysisError, InputError
from core.features import SHARE_PREFIX, feature_description
from core.result import Chart, Result

if TYPE_CHECKING:  # numpy is imported where a comparison needs it: RFM's start-up does without
    import numpy as np

SUMMARY_COLUMNS: dict[str, str] = {
    "segment": "segment name",
    "customers": "customers in the segment (0 for an empty segment)",
    "customer_share": "share of all segmented customers (0-1)",
    "revenue": "net revenue of the segment's customers (sum of monetary)",
    "revenue_share": "share of total net revenue (0-1); null if total revenue is not positive",
    "recency_mean": "mean recency_days (customers with no purchase left out)",
    "frequency_mean": "mean frequency (distinct purchase days)",
    "monetary_mean": "mean monetary (net spend)",
}

# Features left out of profiles: identifiers, dates and the per-customer threshold.
_NOT_PROFILED = {"customer_id", "inactivity_threshold_days"}


def segment_order(found: Sequence[str], order: Sequence[str] | None) -> list[str]:
    """`order` first (empty segments included), then any other segment found, sorted."""
    order = list(order or [])
    return order + sorted(set(found) - set(order))


def segment_summary(assigned: pl.DataFrame, order: Sequence[str] | None = None) -> pl.DataFrame:
    """Per-segment size, shares and mean R, F, M from a per-customer table.

    `assigned` needs segment, recency_days, frequency and monetary columns. Every segment in
    `order` gets a row, with 0 customers if empty.
    """
    names = segment_order(assigned["segment"].unique().drop_nulls().to_list(), order)
    total_customers = assigned.height
    total_revenue = float(assigned["monetary"].sum())
    stats = assigned.group_by("segment").agg(
        customers=pl.len().cast(pl.Int64),
        revenue=pl.col("monetary").sum(),
        recency_mean=pl.col("recency_days").mean(),
        frequency_mean=pl.col("frequency").mean(),
        monetary_mean=pl.col("monetary").mean(),
    )
    frame = pl.DataFrame({"segment": names}, schema={"segment": pl.String})
    return (
        frame.join(stats, on="segment", how="left", maintain_order="left")
        .with_columns(pl.col("customers").fill_null(0), pl.col("revenue").fill_null(0.0))
        .with_columns(
            customer_share=pl.col("customers") / total_customers if total_customers else pl.lit(None),
            revenue_share=pl.col("revenue") / total_revenue if total_revenue > 0
            else pl.lit(None, dtype=pl.Float64),
        )
        .select(list(SUMMARY_COLUMNS))
    )


def summary_charts(table: str = "segments") -> tuple[Chart, ...]:
    return (
        Chart("bar", "Customers by segment", table, x="segment", y="customers"),
        Chart("bar", "Share of revenue by segment", table, x="segment", y="revenue_share"),
    )


def profiled_features(features: pl.DataFrame) -> list[str]:
    """Numeric and boolean feature columns (booleans profile as shares)."""
    return [
        name for name, dtype in features.schema.items()
        if name not in _NOT_PROFILED and (dtype.is_numeric() or dtype == pl.Boolean)
    ]


def _joined(features: pl.DataFrame, segments: pl.DataFrame) -> pl.DataFrame:
    for table, frame, cols in (("features", features, ("customer_id",)),
                               ("segments", segments, ("customer_id", "segment"))):
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            raise InputError(f"{table} table lacks column(s) {', '.join(missing)}",
                             fix="pass a per-customer table with customer_id and segment")
    joined = features.join(segments.select("customer_id", "segment"), on="customer_id", how="inner")
    if joined.is_empty():
        raise AnalysisError("no customer is both in the features and in the segments")
    return joined


def segment_profile(
    features: pl.DataFrame,
    segments: pl.DataFrame,
    *,
    order: Sequence[str] | None = None,
    as_of: dt.date | None = None,
    top_channels: int = 3,
) -> Result:
    """Each segment's size, shares, mean/median of every feature, index and top channels.

    `segments` is a per-customer table with customer_id and segment (e.g. the
    "customers" table of any segmentation result). Index = 100 x segment mean / overall
    mean (100 = average; null where the overall mean is 0).
    """
    joined = _joined(features, segments)
    names = profiled_features(features)
    numeric = joined.with_columns(pl.col(c).cast(pl.Float64) for c in names)
    summary = segment_summary(joined, order)
    mix = _channel_mix(joined)
    if mix is not None:
        tops = (
            mix.filter(pl.col("share") > 0)
            .sort(["segment", "share", "channel"], descending=[False, True, False])
            .group_by("segment", maintain_order=True)
            .agg(top_channels=pl.format("{} {}%", pl.col("channel"),
                                        (pl.col("share") * 100).round(0).cast(pl.Int64))
                 .head(top_channels).str.join(", "))
        )
        summary = summary.join(tops, on="segment", how="left", maintain_order="left")
    overall = numeric.select(pl.col(names).mean()).row(0, named=True)
    long = (
        numeric.group_by("segment")
        .agg(*(pl.col(c).mean().alias(f"mean|{c}") for c in names),
             *(pl.col(c).median().alias(f"median|{c}") for c in names))
        .unpivot(index="segment", variable_name="key")
        .with_columns(pl.col("key").str.split_exact("|", 1).struct.rename_fields(["stat", "feature"]))
        .unnest("key")
        .pivot(on="stat", index=["segment", "feature"], values="value")
    )
    overall_frame = pl.DataFrame(
        {"feature": names, "overall_mean": [overall[c] for c in names]},
        schema={"feature": pl.String, "overall_mean": pl.Float64},
    )
    seg_rank = {s: i for i, s in enumerate(summary["segment"])}
    feat_rank = {f: i for i, f in enumerate(names)}
    long = (
        long.join(overall_frame, on="feature")
        .with_columns(index=pl.when(pl.col("overall_mean") != 0)
                      .then(100 * pl.col("mean") / pl.col("overall_mean")))
        .sort(pl.col("segment").replace_strict(seg_rank, return_dtype=pl.Int64),
              pl.col("feature").replace_strict(feat_rank, return_dtype=pl.Int64))
        .select("segment", "feature", "mean", "median", "overall_mean", "index")
    )
    wide = long.pivot(on="feature", index="segment", values="index")
    tables = {"segments": summary, "features": long, "index": wide}
    if mix is not None:
        tables["channels"] = mix
    return Result(
        name="segment.profile",
        title=f"Segment profiles ({joined.height:,} customers)",
        tables=tables,
        headline={"customer_count": joined.height,
                  "segment_count": int((summary["customers"] > 0).sum())},
        charts=(*summary_charts(),
                Chart("heatmap", "Feature index by segment (100 = average)", "features",
                      x="feature", y=("segment", "index"))),
        params={"as_of": as_of, "order": list(order or [])},
        kinds={"index/*": "number", "features/index": "number"},  # 100 = average, whatever the feature
        notes=("index = 100 x segment mean / overall mean; booleans are profiled as shares",
               *(("top channels: share of the segment's gross spend by channel",)
                 if mix is not None else ())),
    )


def _channel_mix(joined: pl.DataFrame) -> pl.DataFrame | None:
    """Share of each segment's gross spend by channel (long: segment, channel, share)."""
    shares = [c for c in joined.columns if c.startswith(SHARE_PREFIX)]
    if not shares or "gross_spend" not in joined.columns:
        if "last_channel" not in joined.columns:
            return None
        # Without spend shares, the channel of the last purchase stands in.
        counts = joined.drop_nulls("last_channel").group_by("segment", "last_channel").len()
        return (counts.with_columns(share=pl.col("len") / pl.col("len").sum().over("segment"))
                .select("segment", channel=pl.col("last_channel"), share=pl.col("share")))
    spend = joined.group_by("segment").agg(
        *((pl.col(c).fill_null(0) * pl.col("gross_spend")).sum().alias(c[len(SHARE_PREFIX):])
          for c in shares),
        _total=pl.col("gross_spend").sum(),
    )
    return (
        spend.unpivot(index=["segment", "_total"], variable_name="channel", value_name="spend")
        .with_columns(share=pl.when(pl.col("_total") > 0).then(pl.col("spend") / pl.col("_total")))
        .select("segment", "channel", "share")
        .sort("segment", "channel")
    )


def compare_segments(
    features: pl.DataFrame,
    segments: pl.DataFrame,
    a: str,
    b: str,
    *,
    as_of: dt.date | None = None,
) -> Result:
    """Features ranked by how much segment `a` differs from segment `b`.

    The ranking uses the standardised mean difference (Cohen's d with the pooled standard
    deviation), so features on different scales compare fairly.
    """
    joined = _joined(features, segments)
    found = set(joined["segment"].unique().to_list())
    for name in (a, b):
        if name not in found:
            raise InputError(f"segment {name!r} has no customers here",
                             fix="choose one of: " + ", ".join(sorted(found)))
    if a == b:
        raise InputError("compare needs two different segments", fix="pass two segment names")
    names = profiled_features(features)
    group_a = joined.filter(pl.col("segment") == a)
    group_b = joined.filter(pl.col("segment") == b)
    if group_a.height < 2 or group_b.height < 2:
        raise AnalysisError("each segment needs at least 2 customers to compare spreads")
    rows = [_difference(c, group_a[c].cast(pl.Float64), group_b[c].cast(pl.Float64))
            for c in names]
    table = (
        pl.DataFrame(rows, schema=_DIFF_SCHEMA, orient="row")
        .sort(pl.col("std_difference").abs(), descending=True, nulls_last=True)
    )
    top = table.filter(pl.col("std_difference").abs() >= 0.2).head(3)
    notes = [
        f"{row['feature']}: {a} {'higher' if row['difference'] > 0 else 'lower'} than {b} "
        f"(d = {row['std_difference']:+.2f})"
        for row in top.iter_rows(named=True)
    ] or ["no feature differs by more than a small effect (|d| < 0.2)"]
    return Result(
        name="segment.compare",
        title=f"{a} vs {b}",
        tables={"differences": table},
        headline={"a": a, "b": b, "customers_a": group_a.height, "customers_b": group_b.height},
        charts=(Chart("bar", f"Standardised difference, {a} - {b}", "differences",
                      x="feature", y="std_difference"),),
        params={"a": a, "b": b, "as_of": as_of},
        notes=("std_difference is Cohen's d: (mean_a - mean_b) / pooled standard deviation; "
               "|d| of 0.2, 0.5, 0.8 are conventionally small, medium, large", *notes),
    )


_DIFF_SCHEMA = {
    "feature": pl.String, "mean_a": pl.Float64, "mean_b": pl.Float64,
    "median_a": pl.Float64, "median_b": pl.Float64, "difference": pl.Float64,
    "std_difference": pl.Float64, "description": pl.String,
}


def _difference(name: str, a: pl.Series, b: pl.Series) -> tuple:
    import numpy as np

    a, b = a.drop_nulls().drop_nans().to_numpy(), b.drop_nulls().drop_nans().to_numpy()
    try:
        description = feature_description(name)
    except KeyError:
        description = ""
    if len(a) < 2 or len(b) < 2:
        return (name, _mean(a), _mean(b), _median(a), _median(b), None, None, description)
    diff = float(a.mean() - b.mean())
    pooled = np.sqrt(((len(a) - 1) * a.var(ddof=1) + (len(b) - 1) * b.var(ddof=1))
                     / (len(a) + len(b) - 2))
    d = diff / pooled if pooled > 0 else (0.0 if diff == 0 else None)
    return (name, float(a.mean()), float(b.mean()), float(np.median(a)), float(np.median(b)),
            diff, d, description)


def _mean(x: np.ndarray) -> float | None:
    return float(x.mean()) if len(x) else None


def _median(x: np.ndarray) -> float | None:
    import numpy as np

    return float(np.median(x)) if len(x) else None
