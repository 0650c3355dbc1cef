"""Migration between segments at two as-of dates: the transition matrix.

Rows are the segment before, columns the segment after; counts and row shares (the share
of a before-segment's customers that ended in each after-segment). Customers seen only at
the later date come from "(new)"; customers only at the earlier date go to "(gone)".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

import polars as pl

from core.errors import AnalysisError, InputError
from core.features import customer_features
from core.result import Chart, Result
from core.segments.profile import segment_order

NEW, GONE = "(new)", "(gone)"


def segment_migration(
    before: pl.DataFrame,
    after: pl.DataFrame,
    *,
    order: Sequence[str] | None = None,
    before_label: str = "before",
    after_label: str = "after",
) -> Result:
    """Result "segment.migration" from two per-customer tables (customer_id, segment).

    Tables: customers (customer_id, from_segment, to_segment), transitions (from_segment,
    to_segment, customers, row_share; every pair, zeros included), counts and shares (the
    matrix: one row per before-segment, one column per after-segment, plus total).
    """
    for label, frame in ((before_label, before), (after_label, after)):
        missing = [c for c in ("customer_id", "segment") if c not in frame.columns]
        if missing:
            raise InputError(f"the {label} table lacks {', '.join(missing)}",
                             fix="pass per-customer tables with customer_id and segment")
    moves = (
        before.select("customer_id", from_segment="segment")
        .join(after.select("customer_id", to_segment="segment"), on="customer_id",
              how="full", coalesce=True)
        .with_columns(pl.col("from_segment").fill_null(NEW), pl.col("to_segment").fill_null(GONE))
        .sort("customer_id")
    )
    names = segment_order(
        [s for s in moves["from_segment"].unique().to_list() + moves["to_segment"].unique().to_list()
         if s not in (NEW, GONE)], order)
    rows = names + ([NEW] if (moves["from_segment"] == NEW).any() else [])
    cols = names + ([GONE] if (moves["to_segment"] == GONE).any() else [])
    pairs = pl.DataFrame([(r, c) for r in rows for c in cols], orient="row",
                         schema={"from_segment": pl.String, "to_segment": pl.String})
    counts = moves.group_by("from_segment", "to_segment").agg(customers=pl.len().cast(pl.Int64))
    transitions = (
        pairs.join(counts, on=["from_segment", "to_segment"], how="left", maintain_order="left")
        .with_columns(pl.col("customers").fill_null(0))
        .with_columns(_row=pl.col("customers").sum().over("from_segment"))
        # An empty before-segment has no shares (null, not 0/0).
        .with_columns(row_share=pl.when(pl.col("_row") > 0).then(pl.col("customers") / pl.col("_row")))
        .drop("_row")
    )
    count_matrix = _matrix(transitions, "customers", cols).with_columns(
        total=pl.sum_horizontal(cols))
    share_matrix = _matrix(transitions, "row_share", cols)
    stayed = int(moves.filter(pl.col("from_segment") == pl.col("to_segment")).height)
    new = int((moves["from_segment"] == NEW).sum())
    gone = int((moves["to_segment"] == GONE).sum())
    notable = (transitions.filter((pl.col("from_segment") != pl.col("to_segment"))
                                  & (pl.col("customers") > 0)
                                  & ~pl.col("from_segment").is_in([NEW]))
               .sort("customers", descending=True).head(3))
    notes = [f"{r['customers']:,} moved from {r['from_segment']} to {r['to_segment']} "
             f"({r['row_share']:.0%} of {r['from_segment']})"
             for r in notable.iter_rows(named=True)]
    return Result(
        name="segment.migration",
        title=f"Segment migration, {before_label} to {after_label}",
        tables={"customers": moves, "transitions": transitions,
                "counts": count_matrix, "shares": share_matrix},
        headline={"customers_before": before.height, "customers_after": after.height,
                  "stayed": stayed, "moved": moves.height - stayed - new - gone,
                  "new": new, "gone": gone},
        charts=(Chart("heatmap", "Customers moving between segments", "transitions",
                      x="to_segment", y=("from_segment", "customers")),),
        params={"before": before_label, "after": after_label, "order": list(order or [])},
        notes=("row_share: share of the before-segment's customers in each after-segment; "
               f"{NEW} = no transaction by the earlier date, {GONE} = not in the later table",
               *notes),
    )


def _matrix(transitions: pl.DataFrame, values: str, cols: list[str]) -> pl.DataFrame:
    return (transitions.pivot(on="to_segment", index="from_segment", values=values,
                              maintain_order=True)
            .select("from_segment", *cols))


def migration_between(
    transactions: pl.LazyFrame,
    segment: Callable[..., Result],
    before: dt.date,
    after: dt.date,
    *,
    order: Sequence[str] | None = None,
    segment_options: dict[str, Any] | None = None,
    columns: Sequence[str] | None = None,
    **feature_options: Any,
) -> Result:
    """Features at two as-of dates, the same segmentation at each, and the migration.

    `segment` is a segmentation function such as rfm_segments (called as
    segment(features, as_of=date, **segment_options)); `feature_options` go to
    customer_features (customers, touchpoints, ...); `columns` keeps only those features
    (e.g. rfm.RFM_FEATURES), so the others are never computed. Both feature tables are
    collected together. The migration's order defaults to the order of the later segments table.
    """
    if before >= after:
        raise InputError(f"the first date ({before}) must be before the second ({after})",
                         fix="pass --from EARLIER --to LATER")
    plans = [customer_features(transactions, as_of=d, **feature_options) for d in (before, after)]
    if columns is not None:
        plans = [plan.select(columns) for plan in plans]
    frames = pl.collect_all(plans)
    if frames[0].is_empty():  # said with the date: the segmentation's own message cannot tell which
        first = transactions.select(pl.col("order_date").min()).collect().item()
        raise AnalysisError(f"no customer had bought by the first date, {before} (the transactions start "
                            f"{first}), so there is nothing to migrate from. Fix: pass a later --from")
    results = [segment(f, as_of=d, **(segment_options or {})) for f, d in zip(frames, (before, after))]
    if order is None:
        order = results[1].tables["segments"]["segment"].to_list()
    migration = segment_migration(
        results[0].tables["customers"], results[1].tables["customers"], order=order,
        before_label=before.isoformat(), after_label=after.isoformat())
    return Result(
        name=migration.name, title=migration.title, tables=migration.tables,
        headline=migration.headline, charts=migration.charts,
        params={**migration.params, "segmentation": results[1].name,
                **{k: v for k, v in results[1].params.items() if k != "as_of"}},
        notes=migration.notes,
    )
