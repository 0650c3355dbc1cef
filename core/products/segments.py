"""Which segment each customer is in, for the per-segment product analyses.

`by` names a segmentation of core.segments (rfm, kmeans, quadrant), computed as of the
analysis date, or a column of the customers table (tier, region, acquisition_channel...).
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from core.errors import InputError

SEGMENTATIONS = ("rfm", "kmeans", "quadrant")


def customer_segments(ws, by: str, as_of: dt.date) -> pl.DataFrame:
    """customer_id and segment (text) of every customer the segmentation places."""
    if by in SEGMENTATIONS:
        from core.segments.run import PER_CUSTOMER, customer_table, segment_by

        if by == "quadrant" and not ws.has("touchpoints"):
            raise InputError("segments by quadrant need the touchpoints table",
                             fix="add touchpoints, or use --by rfm or a customers column")
        if by == "rfm":  # R, F and M only: nothing else is computed
            from core.segments.rfm import RFM_FEATURES

            features, day = customer_table(ws, as_of, tables=(), columns=RFM_FEATURES, channels=())
        else:
            features, day = customer_table(ws, as_of)
        assigned = segment_by(by, features, ws, day).tables[PER_CUSTOMER]
        return assigned.select(pl.col("customer_id").cast(pl.String), pl.col("segment").cast(pl.String))
    customers = ws.scan_if("customers")
    columns = customers.collect_schema().names() if customers is not None else []
    if by not in columns or by == "customer_id":
        offered = ", ".join([*SEGMENTATIONS, *(c for c in columns if c != "customer_id")])
        raise InputError(f"cannot segment by {by!r}: it is neither a segmentation nor a customers column",
                         fix=f"use --by with one of {offered}")
    return (customers.select(pl.col("customer_id").cast(pl.String), pl.col(by).cast(pl.String).alias("segment"))
            .drop_nulls().unique("customer_id", keep="first").collect())
