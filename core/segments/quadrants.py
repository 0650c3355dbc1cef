"""Behavioural loyalty quadrants: purchase frequency x engagement.

High frequency and high engagement: active loyal; high frequency, low engagement:
passive loyal; low frequency, high engagement: chasers (engaged but seldom buying); low
and low: lapsed. "High" means strictly above the split point, so a heavy tie at the
median (e.g. most customers bought once, or had no touchpoint) lands on the low side.
Split points default to the medians and can be set.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from core.errors import AnalysisError, InputError
from core.result import Chart, Result
from core.segments.profile import segment_summary, summary_charts

QUADRANTS = ("Active loyal", "Passive loyal", "Chasers", "Lapsed")


def quadrant_segments(
    features: pl.DataFrame,
    *,
    frequency_split: float | None = None,
    engagement_split: float | None = None,
    frequency: str = "frequency",
    engagement: str = "engagement",
    as_of: dt.date | None = None,
) -> Result:
    """Result "segment.quadrant": tables customers, segments (SUMMARY_COLUMNS) and splits."""
    for column in (frequency, engagement):
        if column not in features.columns:
            hint = ("the engagement feature needs the touchpoints table"
                    if column == "engagement" else f"{column} is not a feature column")
            raise AnalysisError(f"loyalty quadrants need the {column!r} column: {hint}")
        if not (features.schema[column].is_numeric() or features.schema[column] == pl.Boolean):
            raise InputError(f"{column!r} is not numeric", column=column,
                             fix="choose a numeric feature")
    if features.is_empty():
        raise AnalysisError("no customers to place in quadrants")
    splits = {}
    for axis, column, given in (("frequency", frequency, frequency_split),
                                ("engagement", engagement, engagement_split)):
        value = given if given is not None else features[column].cast(pl.Float64).median()
        if value is None:
            raise AnalysisError(f"{column} has no values to split on")
        splits[axis] = float(value)
    high_f = pl.col(frequency) > splits["frequency"]
    high_e = pl.col(engagement) > splits["engagement"]
    keep = list(dict.fromkeys(["customer_id", frequency, engagement,
                               "recency_days", "frequency", "monetary"]))
    assigned = features.select(keep).with_columns(
        segment=pl.when(high_f & high_e).then(pl.lit(QUADRANTS[0]))
        .when(high_f).then(pl.lit(QUADRANTS[1]))
        .when(high_e).then(pl.lit(QUADRANTS[2]))
        .otherwise(pl.lit(QUADRANTS[3]))
    )
    summary = segment_summary(assigned, QUADRANTS)
    split_table = pl.DataFrame({
        "axis": ["frequency", "engagement"],
        "column": [frequency, engagement],
        "split": [splits["frequency"], splits["engagement"]],
        "source": ["given" if frequency_split is not None else "median",
                   "given" if engagement_split is not None else "median"],
        "rule": [f"high if {frequency} > {splits['frequency']:g}",
                 f"high if {engagement} > {splits['engagement']:g}"],
    })
    empty = summary.filter(pl.col("customers") == 0)["segment"].to_list()
    notes = [f"high frequency: {frequency} > {splits['frequency']:g}; high engagement: "
             f"{engagement} > {splits['engagement']:g} (split points: "
             + ("given" if frequency_split is not None else "median") + " / "
             + ("given" if engagement_split is not None else "median") + ")"]
    if empty:
        notes.append("empty: " + ", ".join(empty) + "; move the split points to fill them")
    return Result(
        name="segment.quadrant",
        title=f"Loyalty quadrants ({assigned.height:,} customers"
              + (f", as of {as_of.isoformat()})" if as_of else ")"),
        tables={"customers": assigned, "segments": summary, "splits": split_table},
        headline={"customer_count": assigned.height,
                  "frequency_split": splits["frequency"],
                  "engagement_split": splits["engagement"],
                  **{q.lower().replace(" ", "_") + "_share": s
                     for q, s in zip(summary["segment"], summary["customer_share"])}},
        charts=quadrant_charts(frequency, engagement, splits["frequency"], splits["engagement"]),
        params={"as_of": as_of, "frequency": frequency, "engagement": engagement,
                "frequency_split": frequency_split, "engagement_split": engagement_split},
        notes=tuple(notes),
    )


def quadrant_charts(frequency: str, engagement: str, frequency_split: float,
                    engagement_split: float) -> tuple[Chart, ...]:
    """The segment sizes, and every customer placed by the two axes, coloured by quadrant,
    with the split points drawn as reference lines."""
    return (*summary_charts(),
            Chart("scatter", "Customers by frequency and engagement, coloured by quadrant", "customers",
                  x=frequency, y=engagement, series="segment",
                  references=(("x", frequency_split, f"split {frequency_split:g}"),
                              ("y", engagement_split, f"split {engagement_split:g}"))))
