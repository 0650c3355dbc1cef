"""Segmentations run on a workspace: per-customer features as of a date (core.features),
then one segmentation. What `loyalist segment ...`, recipes and the app's registry run
(core/registry/catalog/segment.py declares their options); tables were checked before.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from core.errors import InputError
from core.result import Result

if TYPE_CHECKING:
    from core.engines import Reducer
    from core.features import FeaturesRead

FEATURE_TABLES = ("customers", "touchpoints", "survey")
PER_CUSTOMER = "customers"


def customer_table(ws, as_of: dt.date | None, *, tables: Sequence[str] = FEATURE_TABLES,
                   columns: Sequence[str] | None = None, engine: Reducer | None = None,
                   **options: Any) -> tuple[pl.DataFrame, dt.date]:
    """(features, as_of) using the optional `tables` the workspace has; `columns` keeps only
    those features, so the others are never computed. With an `engine` (core.engines) the
    transactions are reduced there."""
    read = read_customer_table(ws, as_of, tables=tables, columns=columns, engine=engine, **options)
    return read.table, read.as_of


def read_customer_table(ws, as_of: dt.date | None, *, tables: Sequence[str] = FEATURE_TABLES,
                        columns: Sequence[str] | None = None, engine: Reducer | None = None,
                        **options: Any) -> FeaturesRead:
    """customer_table's features and as-of date, with the count of rows dated after today
    when the read counted them (core.features.read_features): `counted` puts it on the result.
    Orders are counted at their first lines when the checks found the file laid out so."""
    from core.features import read_features
    from core.order_layout import orders_adjacent

    return read_features(ws.scan("transactions"), as_of=as_of, columns=columns, engine=engine,
                         today=dt.date.today(), orders_adjacent=orders_adjacent(ws, engine),
                         **{t: ws.scan_if(t) for t in tables}, **options)


def counted(result: Result, read: FeaturesRead) -> Result:
    """The result with the read's count of rows dated after today, for run_analysis's note, so
    the transactions are not read again for it (core.features.AFTER_TODAY)."""
    if read.after_today is None:
        return result
    from core.features import AFTER_TODAY

    return result.with_params(**{AFTER_TODAY: read.after_today})


def rfm_map(ws) -> dict[str, Any] | None:
    """The R x F map of loyalist.toml's [segments.rfm_map], if it has one."""
    section = ws.options.get("segments", {})
    return section.get("rfm_map") if isinstance(section, dict) else None


def rfm(ws, *, as_of: dt.date | None = None, bins: int = 5, method: str = "rank", scheme: str = "map",
        engine: Reducer | None = None) -> Result:
    from core.segments.rfm import RFM_FEATURES, rfm_segments

    # Only R, F and M: no optional tables and no channel pass, so nothing else is computed.
    read = read_customer_table(ws, as_of, tables=(), columns=RFM_FEATURES, channels=(), engine=engine)
    return counted(rfm_segments(read.table, bins=bins, method=method, scheme=scheme, rfm_map=rfm_map(ws),
                                as_of=read.as_of), read)


def kmeans(ws, *, as_of: dt.date | None = None, features: Sequence[str] | None = None, k: int | None = None,
           k_max: int = 8, sample_size: int = 2000, seed: int = 0, minibatch_threshold: int = 100_000,
           engine: Reducer | None = None) -> Result:
    from core.segments.clusters import DEFAULT_FEATURES, kmeans_columns, kmeans_segments

    use = list(features or DEFAULT_FEATURES)
    has_channel = "channel" in ws.scan("transactions").collect_schema()
    read = read_customer_table(ws, as_of, columns=kmeans_columns(use, has_channel), engine=engine)
    return counted(kmeans_segments(read.table, use=use, k=k, k_range=(2, k_max), sample_size=sample_size,
                                   seed=seed, minibatch_threshold=minibatch_threshold, as_of=read.as_of), read)


def quadrant(ws, *, as_of: dt.date | None = None, frequency_split: float | None = None,
             engagement_split: float | None = None, engine: Reducer | None = None) -> Result:
    from core.segments.quadrants import quadrant_segments

    read = read_customer_table(ws, as_of, engine=engine)
    return counted(quadrant_segments(read.table, frequency_split=frequency_split,
                                     engagement_split=engagement_split, as_of=read.as_of), read)


def segment_by(by: str, features: pl.DataFrame, ws, day: dt.date, *, bins: int = 5, method: str = "rank",
               k: int | None = None, seed: int = 0) -> Result:
    """One segmentation of ready features: rfm, kmeans or quadrant."""
    if by == "rfm":
        from core.segments.rfm import rfm_segments

        return rfm_segments(features, bins=bins, method=method, rfm_map=rfm_map(ws), as_of=day)
    if by == "kmeans":
        from core.segments.clusters import kmeans_segments

        return kmeans_segments(features, k=k, seed=seed, as_of=day)
    from core.segments.quadrants import quadrant_segments

    return quadrant_segments(features, as_of=day)


def profile(ws, *, as_of: dt.date | None = None, by: str = "rfm", segments: Path | None = None,
            compare: Sequence[str] | None = None, bins: int = 5, k: int | None = None,
            inactivity_days: int | None = None, inactivity_multiple: float = 3.0,
            engine: Reducer | None = None) -> Result:
    """Profiles of a segmentation (or of the segments in a file); with `compare`, two of them side by side."""
    from core.segments.profile import compare_segments, segment_profile

    if compare is not None and len(compare) != 2:
        raise InputError(f"compare needs exactly two segments, got {len(compare)}",
                         fix='pass --compare "Champions" --compare "At Risk" (in a recipe: compare = ["A", "B"])')
    read = read_customer_table(ws, as_of, inactivity_days=inactivity_days,
                               inactivity_multiple=inactivity_multiple, engine=engine)
    features, day = read.table, read.as_of
    if segments is not None:
        assigned, order = read_segments(segments), None
    else:
        segmentation = segment_by(by, features, ws, day, bins=bins, k=k)
        assigned = segmentation.tables[PER_CUSTOMER]
        order = segmentation.tables["segments"]["segment"].to_list()
    if compare is not None:
        return counted(compare_segments(features, assigned, compare[0], compare[1], as_of=day), read)
    return counted(segment_profile(features, assigned, order=order, as_of=day), read)


def read_segments(path: Path) -> pl.DataFrame:
    """customer_id and segment from a per-customer file (as `--output` writes it)."""
    if not path.is_file():
        raise InputError("file not found", file=str(path), fix="give the file --output wrote")
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        frame = pl.read_parquet(path)
    elif suffix in (".csv", ".tsv"):
        frame = pl.read_csv(path, separator="\t" if suffix == ".tsv" else ",",
                            schema_overrides={"customer_id": pl.String, "segment": pl.String})
    else:
        raise InputError(f"cannot read {suffix or 'a file without extension'} here", file=str(path),
                         fix="use a .csv, .tsv or .parquet file")
    missing = [c for c in ("customer_id", "segment") if c not in frame.columns]
    if missing:
        raise InputError(f"lacks column(s) {', '.join(missing)}", file=str(path),
                         fix="give a per-customer file with customer_id and segment columns")
    return frame.select(pl.col("customer_id").cast(pl.String), pl.col("segment").cast(pl.String))


def migrate(ws, *, as_of: dt.date | None = None, from_date: dt.date | None = None, by: str = "rfm",
            bins: int = 5, method: str = "rank", k: int | None = None, seed: int = 0) -> Result:
    """Segments at two dates (from_date, default 180 days before as_of) and the moves between them."""
    from core.features import default_as_of
    from core.segments.migration import migration_between

    tx = ws.scan("transactions")
    after = as_of or default_as_of(tx)
    before = from_date or after - dt.timedelta(days=180)

    def segment(features: pl.DataFrame, as_of: dt.date) -> Result:
        return segment_by(by, features, ws, as_of, bins=bins, method=method, k=k, seed=seed)

    if by == "rfm":
        from core.segments.rfm import RFM_FEATURES

        options: dict[str, Any] = {"columns": RFM_FEATURES, "channels": ()}
    else:
        options = {t: ws.scan_if(t) for t in FEATURE_TABLES}
    result = migration_between(tx, segment, before, after, **options)
    if by == "kmeans":
        result = dataclasses.replace(result, notes=(
            *result.notes, "clusters are fitted separately at each date; names describe each date's centres"))
    return result
