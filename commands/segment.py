"""`loyalist segment rfm|kmeans|quadrant|profile|migrate`: customer segments.

Each command reduces the workspace's transactions (with customers, touchpoints and survey
when present) to one row of features per customer as of --as-of (core.features), runs
one segmentation and prints its segments.

Output: `--format table` and `--format json` show the summary tables; the per-customer
table is left out of them (it can have a million rows). `--format csv` prints the
per-customer table and `--output FILE` writes it (.csv, .tsv, .parquet, .ndjson: one row
per customer with customer_id, the features used and the segment; .json, .xlsx, .html,
.md: every table). JSON keys are stable: name, title, params, headline, tables, notes;
tables.segments has one object per segment with segment (its name), customers,
customer_share, revenue, revenue_share, recency_mean, frequency_mean and monetary_mean
(plus rule for rfm, cluster for kmeans, top_channels for profile).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import polars as pl
import typer

from commands.options import FileFormat, FileFormatOpt, AsOfOpt, ForceOpt, FormatOpt, OutputFormat, OutputOpt, WorkspaceOpt, as_date
from commands.output import check_output, emit
from core.errors import InputError
from core.features import FEATURES
from core.result import Result

app = typer.Typer(no_args_is_help=True)

PER_CUSTOMER = "customers"
# Per-customer features K-Means can use (meanings: core.features.FEATURES).
_NUMERIC_FEATURES = [name for name in FEATURES if name not in {
    "customer_id", "first_purchase", "last_purchase", "last_channel", "multi_channel", "active",
    "inactivity_threshold_days"}]


class Method(str, Enum):
    rank = "rank"
    midrank = "midrank"


class Scheme(str, Enum):
    map = "map"
    levels = "levels"


class By(str, Enum):
    rfm = "rfm"
    kmeans = "kmeans"
    quadrant = "quadrant"


BinsOpt = Annotated[int, typer.Option(min=3, max=5, help="Score bins: 3, 4 or 5")]
MethodOpt = Annotated[Method, typer.Option(help="Quantile scoring: rank (equal bins, ties broken "
                                           "by the other RFM metrics) or midrank (ties share a score)")]
InactivityDaysOpt = Annotated[int | None, typer.Option(
    "--inactivity-days", min=1, help="Lapsed after this many days without a purchase "
    "(default: --inactivity-multiple x the customer's mean inter-purchase time)")]
InactivityMultipleOpt = Annotated[float, typer.Option(
    "--inactivity-multiple", min=0.1, help="Lapsed after this many mean inter-purchase times")]


OPTIONAL_TABLES = ("customers", "touchpoints", "survey")


def _features(workspace: Path | None, as_of: dt.date | None, *,
              tables: tuple[str, ...] = OPTIONAL_TABLES, columns: tuple[str, ...] | None = None,
              **options: Any):
    """(workspace, features DataFrame, as_of), using the optional `tables` the workspace has.

    `columns` keeps only those features, so the others are never computed.
    """
    from core.features import customer_features, default_as_of
    from core.workspace import Workspace

    ws = Workspace.open(workspace)
    ws.require("transactions", analysis="segmentation")
    tx = ws.scan("transactions")
    as_of = as_of or default_as_of(tx)
    lazy = customer_features(tx, as_of=as_of, **{t: ws.scan_if(t) for t in tables}, **options)
    if columns is not None:
        lazy = lazy.select(columns)
    return ws, lazy.collect(), as_of


def _rfm_map(ws) -> dict[str, Any] | None:
    section = ws.options.get("segments", {})
    return section.get("rfm_map") if isinstance(section, dict) else None


def _show(result: Result, fmt: OutputFormat, output: Path | None, force: bool,
          file_format: FileFormat | None = None, long_tables: tuple[str, ...] = (), ws=None) -> None:
    emit(result, fmt, output, force, file_format=file_format, hide=(PER_CUSTOMER,),
         hide_on_terminal=long_tables, workspace=ws)


@app.command("rfm")
def rfm(
    workspace: WorkspaceOpt = None,
    as_of: AsOfOpt = None,
    bins: BinsOpt = 5,
    method: MethodOpt = Method.rank,
    scheme: Annotated[Scheme, typer.Option(help="map: the 10-segment R x F map (editable in "
                                           "loyalist.toml, table segments.rfm_map); levels: high/mid/low value")] = Scheme.map,
    fmt: FormatOpt = OutputFormat.table,
    output: OutputOpt = None,
    force: ForceOpt = False,
    file_format: FileFormatOpt = None,
) -> None:
    """RFM scores by quantile and named segments (Champions, Loyal, ... Hibernating)."""
    check_output(output, force)
    from core.segments.rfm import RFM_FEATURES, rfm_segments

    # Only R, F and M: no optional tables and no channel pass, so nothing else is computed.
    ws, features, day = _features(workspace, as_date(as_of), tables=(), columns=RFM_FEATURES,
                                  channels=())
    _show(rfm_segments(features, bins=bins, method=method.value, scheme=scheme.value,
                       rfm_map=_rfm_map(ws), as_of=day), fmt, output, force, file_format, ws=ws)


@app.command("kmeans")
def kmeans(
    workspace: WorkspaceOpt = None,
    as_of: AsOfOpt = None,
    features: Annotated[str | None, typer.Option(
        "--features", help="Comma-separated features; log:NAME takes sign(x) log(1 + |x|). "
        "Features: " + ", ".join(_NUMERIC_FEATURES) + " "
        "(default: log:recency_days,log:frequency,log:monetary,n_channels)")] = None,
    k: Annotated[int | None, typer.Option("--k", min=2, max=50, help="Number of clusters "
                                          "(default: chosen by silhouette)")] = None,
    k_max: Annotated[int, typer.Option(min=2, max=50, help="Largest k tried when choosing k")] = 8,
    sample_size: Annotated[int, typer.Option(min=100, help="Customers sampled to choose k")] = 2000,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same clusters)")] = 0,
    minibatch_threshold: Annotated[int, typer.Option(
        min=1, help="Use MiniBatchKMeans above this many customers")] = 100_000,
    fmt: FormatOpt = OutputFormat.table,
    output: OutputOpt = None,
    force: ForceOpt = False,
    file_format: FileFormatOpt = None,
) -> None:
    """K-Means clusters on standardised features, numbered by value and named from their profiles."""
    check_output(output, force)
    from core.segments.clusters import DEFAULT_FEATURES, kmeans_segments

    use = [f.strip() for f in features.split(",") if f.strip()] if features else DEFAULT_FEATURES
    if not use:
        raise InputError("--features is empty", fix="list features, e.g. log:monetary,n_channels")
    ws, table, day = _features(workspace, as_date(as_of))
    result = kmeans_segments(table, use=use, k=k, k_range=(2, k_max), sample_size=sample_size,
                             seed=seed, minibatch_threshold=minibatch_threshold, as_of=day)
    _show(result, fmt, output, force, file_format, ws=ws)


@app.command("quadrant")
def quadrant(
    workspace: WorkspaceOpt = None,
    as_of: AsOfOpt = None,
    frequency_split: Annotated[float | None, typer.Option(
        help="High frequency means above this many purchase days (default: the median)")] = None,
    engagement_split: Annotated[float | None, typer.Option(
        help="High engagement means above this many touchpoints in 90 days (default: the median)")] = None,
    fmt: FormatOpt = OutputFormat.table,
    output: OutputOpt = None,
    force: ForceOpt = False,
    file_format: FileFormatOpt = None,
) -> None:
    """Loyalty quadrants: purchase frequency x engagement (active loyal, passive loyal, chasers, lapsed)."""
    check_output(output, force)
    from core.segments.quadrants import quadrant_segments

    _require_touchpoints(workspace)
    ws, table, day = _features(workspace, as_date(as_of))
    _show(quadrant_segments(table, frequency_split=frequency_split,
                            engagement_split=engagement_split, as_of=day), fmt, output, force, file_format, ws=ws)


def _require_touchpoints(workspace: Path | None) -> None:
    from core.workspace import Workspace

    Workspace.open(workspace).require("touchpoints", analysis="loyalty quadrants")


def _segment(by: By, features: pl.DataFrame, ws, day: dt.date, bins: int = 5,
             method: Method = Method.rank, k: int | None = None, seed: int = 0) -> Result:
    if by is By.rfm:
        from core.segments.rfm import rfm_segments

        return rfm_segments(features, bins=bins, method=method.value, rfm_map=_rfm_map(ws), as_of=day)
    if by is By.kmeans:
        from core.segments.clusters import kmeans_segments

        return kmeans_segments(features, k=k, seed=seed, as_of=day)
    from core.segments.quadrants import quadrant_segments

    return quadrant_segments(features, as_of=day)


@app.command("profile")
def profile(
    workspace: WorkspaceOpt = None,
    as_of: AsOfOpt = None,
    by: Annotated[By, typer.Option(help="The segmentation to profile")] = By.rfm,
    segments: Annotated[Path | None, typer.Option(
        "--segments", help="Profile these segments instead: a file with customer_id and segment "
        "columns (e.g. written by --output)")] = None,
    compare: Annotated[list[str] | None, typer.Option(
        "--compare", help="Give twice to compare two segments: --compare A --compare B")] = None,
    bins: BinsOpt = 5,
    k: Annotated[int | None, typer.Option("--k", min=2, max=50, help="Clusters for --by kmeans")] = None,
    inactivity_days: InactivityDaysOpt = None,
    inactivity_multiple: InactivityMultipleOpt = 3.0,
    fmt: FormatOpt = OutputFormat.table,
    output: OutputOpt = None,
    force: ForceOpt = False,
    file_format: FileFormatOpt = None,
) -> None:
    """Each segment's size, revenue share, feature means and medians, index (100 = average), channels."""
    check_output(output, force)
    from core.segments.profile import compare_segments, segment_profile

    if compare is not None and len(compare) != 2:
        raise InputError(f"--compare needs exactly two segments, got {len(compare)}",
                         fix='pass --compare "Champions" --compare "At Risk"')
    if by is By.quadrant and segments is None:
        _require_touchpoints(workspace)
    ws, features, day = _features(workspace, as_date(as_of), inactivity_days=inactivity_days,
                                  inactivity_multiple=inactivity_multiple)
    if segments is not None:
        assigned, order = _read_segments(segments), None
    else:
        segmentation = _segment(by, features, ws, day, bins=bins, k=k)
        assigned = segmentation.tables[PER_CUSTOMER]
        order = segmentation.tables["segments"]["segment"].to_list()
    if compare is not None:
        result = compare_segments(features, assigned, compare[0], compare[1], as_of=day)
    else:
        result = segment_profile(features, assigned, order=order, as_of=day)
    _show(result, fmt, output, force, file_format, ws=ws, long_tables=("features", "channels"))


def _read_segments(path: Path) -> pl.DataFrame:
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


@app.command("migrate")
def migrate(
    workspace: WorkspaceOpt = None,
    as_of: AsOfOpt = None,
    from_date: Annotated[dt.datetime | None, typer.Option(
        "--from", formats=["%Y-%m-%d"],
        help="The earlier date (YYYY-MM-DD) (default: 180 days before --as-of)")] = None,
    by: Annotated[By, typer.Option(help="The segmentation to compare between the dates")] = By.rfm,
    bins: BinsOpt = 5,
    method: MethodOpt = Method.rank,
    k: Annotated[int | None, typer.Option("--k", min=2, max=50, help="Clusters for --by kmeans")] = None,
    seed: Annotated[int, typer.Option(help="Random seed for --by kmeans")] = 0,
    fmt: FormatOpt = OutputFormat.table,
    output: OutputOpt = None,
    force: ForceOpt = False,
    file_format: FileFormatOpt = None,
) -> None:
    """Segments at two dates and the transition matrix (counts and row shares) between them."""
    check_output(output, force)
    from core.features import default_as_of
    from core.segments.migration import migration_between
    from core.workspace import Workspace

    ws = Workspace.open(workspace)
    ws.require("transactions", *(("touchpoints",) if by is By.quadrant else ()),
               analysis="segment migration")
    tx = ws.scan("transactions")
    after = as_date(as_of) or default_as_of(tx)
    before = as_date(from_date) or after - dt.timedelta(days=180)

    def segment(features: pl.DataFrame, as_of: dt.date) -> Result:
        return _segment(by, features, ws, as_of, bins=bins, method=method, k=k, seed=seed)

    if by is By.rfm:
        from core.segments.rfm import RFM_FEATURES

        options: dict[str, Any] = {"columns": RFM_FEATURES, "channels": ()}
    else:
        options = {t: ws.scan_if(t) for t in OPTIONAL_TABLES}
    result = migration_between(tx, segment, before, after, **options)
    if by is By.kmeans:
        result = dataclasses.replace(result, notes=(
            *result.notes, "clusters are fitted separately at each date; names describe each "
            "date's centres"))
    _show(result, fmt, output, force, file_format, ws=ws, long_tables=("transitions",))
