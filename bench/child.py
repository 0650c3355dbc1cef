"""The child process of one measurement: `python -m bench.child STAGE WORKSPACE ARGS_JSON`.

Each stage is a function that prepares its inputs (untimed) and returns the work to time;
the work returns the rows it processed and any detail worth keeping. The last line
printed is the measurement as JSON (bench.measure.Measurement's fields).
"""

from __future__ import annotations

import gc
import hashlib
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

from bench.measure import peak_mb, reset_peak, rss_mb

Work = Callable[[], dict]
STAGES: dict[str, Callable[[Path, dict], Work]] = {}
REPORT_NAMES = ("channels", "attribution", "experiment", "campaign", "program", "nps",
                "cohorts", "kpi")


def stage(name: str):
    def register(fn: Callable[[Path, dict], Work]) -> Callable[[Path, dict], Work]:
        STAGES[name] = fn
        return fn
    return register


def cache_dir(folder: Path) -> Path:
    """Per-workspace inputs the later stages share (features), beside the workspace."""
    out = folder.with_name(folder.name + "-cache")
    out.mkdir(exist_ok=True)
    return out


def _rows(n: int | None, unit: str, **detail) -> dict:
    """n None: the workspace's transactions (the parent knows how many)."""
    return {"rows": None if n is None else int(n), "rows_unit": unit, "detail": detail}


def settle_checks(folder: Path, args: dict, kind: str) -> None:
    """Untimed, before a stage that checks as analysis `kind` does: with args["first_use"], forget
    what the checks found in the workspace (core.check_cache), so the stage pays for them as the
    first command on a new or changed file does; otherwise check now, so the stage reads the
    findings as every later command does (bench.sidebyside fills the cache so too)."""
    from core.check_cache import CACHE_FILE
    from core.registry import checked_for
    from core.workspace import Workspace

    if args.get("first_use"):
        (folder / CACHE_FILE).unlink(missing_ok=True)
    else:
        checked_for(kind, Workspace.open(folder))


@stage("scan")
def scan(folder: Path, args: dict) -> Work:
    """Open the workspace and load the canonical transactions table (every column)."""
    from core.workspace import Workspace

    def work() -> dict:
        table = Workspace.open(folder).scan("transactions").collect()
        return _rows(table.height, "transactions", columns=table.width,
                     in_memory_mb=round(table.estimated_size() / 2**20, 1))
    return work


@stage("features")
def features(folder: Path, args: dict) -> Work:
    """Every per-customer feature, with the customers, touchpoints and survey tables (as
    `segment kmeans` and `segment profile` compute them)."""
    from core.features import customer_features
    from core.registry import checked_for
    from core.workspace import Workspace

    settle_checks(folder, args, "segment.kmeans")

    def work() -> dict:
        ws = checked_for("segment.kmeans", Workspace.open(folder)).ws  # the data checks, as the command
        table = customer_features(ws.scan("transactions"), customers=ws.scan_if("customers"),
                                  touchpoints=ws.scan_if("touchpoints"),
                                  survey=ws.scan_if("survey")).collect()
        return _rows(None, "transactions", customers=table.height,
                     columns=table.width)
    return work


@stage("rfm")
def rfm(folder: Path, args: dict) -> Work:
    """`loyalist segment rfm`: data checks, R, F and M per customer, scores and segments."""
    from core.features import customer_features
    from core.registry import checked_for
    from core.segments.rfm import RFM_FEATURES, rfm_segments
    from core.workspace import Workspace

    settle_checks(folder, args, "segment.rfm")

    def work() -> dict:
        start = time.perf_counter()
        ws = checked_for("segment.rfm", Workspace.open(folder)).ws  # the full checks, as the command
        checked = time.perf_counter()
        table = customer_features(ws.scan("transactions"), channels=()).select(RFM_FEATURES).collect()
        mid = time.perf_counter()
        result = rfm_segments(table)
        end = time.perf_counter()
        return _rows(None, "transactions", customers=table.height,
                     checks_seconds=round(checked - start, 3),
                     features_seconds=round(mid - checked, 3), segments_seconds=round(end - mid, 3),
                     segments=result.tables["segments"].height)
    return work


@stage("pandas")
def pandas_rfm(folder: Path, args: dict) -> Work:
    """The same R, F, M and quintile scores the way most analysts write it today: pandas
    read_parquet and groupby (reading only the four columns needed, which favours pandas)."""
    import pandas as pd

    def work() -> dict:
        tx = pd.read_parquet(folder / "transactions.parquet",
                             columns=["customer_id", "order_date", "amount", "order_id"])
        as_of = tx["order_date"].max()
        buys = tx[tx["amount"] > 0]
        by = buys.groupby("customer_id")
        table = pd.DataFrame({"last": by["order_date"].max(),
                              "frequency": by["order_date"].nunique(),
                              "orders": by["order_id"].nunique()})
        table = table.join(tx.groupby("customer_id")["amount"].sum().rename("monetary"), how="outer")
        table["recency"] = (pd.Timestamp(as_of) - pd.to_datetime(table["last"])).dt.days
        for col, sign in (("recency", -1), ("frequency", 1), ("monetary", 1)):
            rank = (sign * table[col].fillna(-1e18 if sign > 0 else 1e18)).rank(method="first")
            table[col[0] + "_score"] = pd.qcut(rank, 5, labels=False) + 1
        return _rows(len(tx), "transactions", customers=len(table))
    return work


def _feature_table(folder: Path):
    """All features as `segment kmeans` computes them, cached for the per-customer stages."""
    import polars as pl

    # Keyed by the feature code, so a change to core/features.py is never measured stale.
    code = Path(__file__).resolve().parent.parent / "core" / "features.py"
    path = cache_dir(folder) / f"features-{hashlib.sha1(code.read_bytes()).hexdigest()[:10]}.parquet"
    if not path.is_file():
        from core.features import customer_features
        from core.workspace import Workspace

        ws = Workspace.open(folder)
        customer_features(ws.scan("transactions"), customers=ws.scan_if("customers"),
                          touchpoints=ws.scan_if("touchpoints"),
                          survey=ws.scan_if("survey")).collect().write_parquet(path)
    return pl.read_parquet(path)


@stage("clustering")
def clustering(folder: Path, args: dict) -> Work:
    """`loyalist segment kmeans` after the features: k by silhouette on a sample, then
    (Mini-Batch) K-Means on every customer."""
    from core.segments.clusters import kmeans_segments

    table = _feature_table(folder)
    kmeans_segments(table.head(1000), k=2)  # loads scikit-learn outside the timing

    def work() -> dict:
        result = kmeans_segments(table)
        return _rows(table.height, "customers", k=result.headline["k"],
                     algorithm=result.headline["algorithm"])
    return work


@stage("scale")
def scale(folder: Path, args: dict) -> Work:
    """`loyalist scale score` after the per-customer table: the spec `scale init` writes
    (13 survey items and 5 features, manual weights), weights, scores, tiers."""
    from core.scale import build
    from core.scale.data import scale_data
    from core.scale.run import init_text, spec_weights
    from core.scale.score import score
    from core.scale.spec import parse_spec
    from core.workspace import Workspace

    ws = Workspace.open(folder)
    spec = parse_spec(init_text(ws))
    started = time.perf_counter()
    data = scale_data(ws)
    data_seconds = time.perf_counter() - started

    def work() -> dict:
        weights = spec_weights(ws, spec, data)
        result = score(data.table, spec, build.weight_map(weights))
        return _rows(result.headline["customers"], "customers", items=len(spec.columns),
                     table_seconds=round(data_seconds, 3))
    return work


def _report_stage(name: str) -> None:
    @stage(f"report.{name}")
    def report(folder: Path, args: dict) -> Work:
        from core.registry import run_analysis
        from core.workspace import Workspace

        settle_checks(folder, args, f"report.{name}")

        def work() -> dict:
            ws = Workspace.open(folder)
            result = run_analysis(f"report.{name}", ws)
            return _rows(None, "transactions",
                         tables={k: v.height for k, v in result.tables.items()})
        return work
    report.__doc__ = (f"`loyalist report {name}` with its defaults, its data checks read from the cache "
                      "(settle_checks), as every command after the first.")


for _name in REPORT_NAMES:
    _report_stage(_name)


@stage("clv")
def clv(folder: Path, args: dict) -> Work:
    """`loyalist predict clv`: the BG/NBD summary per customer, BG/NBD and Gamma-Gamma fits
    (4 starting points each) and every customer's CLV."""
    import core.predict.clv as clv_module
    from core.workspace import Workspace

    summary_time: list[float] = []
    summarise = clv_module.btyd_summary

    def timed_summary(*a, **k):  # the bench's own stopwatch around one call
        start = time.perf_counter()
        out = summarise(*a, **k)
        summary_time.append(time.perf_counter() - start)
        return out

    clv_module.btyd_summary = timed_summary

    def work() -> dict:
        start = time.perf_counter()
        ws = Workspace.open(folder)
        ws.require("transactions", analysis="CLV")
        result = clv_module.clv_analysis(ws.scan("transactions"))
        total = time.perf_counter() - start
        return _rows(result.tables["customers"].height, "customers",
                     summary_seconds=round(summary_time[0], 3),
                     fit_seconds=round(total - summary_time[0], 3))
    return work


@stage("churn")
def churn(folder: Path, args: dict) -> Work:
    """`loyalist predict churn` with its defaults: features at three dates, the logistic and
    boosting models trained, the chosen one tested, every customer scored, value at risk; its data
    checks read from the cache (settle_checks), as every command after the first."""
    from core.registry import run_analysis
    from core.workspace import Workspace

    settle_checks(folder, args, "predict.churn")

    def work() -> dict:
        result = run_analysis("predict.churn", Workspace.open(folder))
        # None: the workspace's customers (the parent knows how many)
        return _rows(None, "customers", model=result.headline["model"],
                     scored=result.headline["n_scored"])
    return work


@stage("convert")
def convert(folder: Path, args: dict) -> Work:
    """`loyalist data convert --out DIR`: check the CSV workspace, write Parquet copies."""
    from core.convert import convert_to_parquet
    from core.workspace import Workspace

    out = Path(args["out"])

    def work() -> dict:
        result = convert_to_parquet(Workspace.open(folder), out, force=True)
        table = result.tables["converted"]
        return _rows(int(table["rows"].sum()), "rows",
                     source_mb=round(float(table["source_mb"].sum()), 1),
                     parquet_mb=round(float(table["parquet_mb"].sum()), 1))
    return work


@stage("startup")
def startup(folder: Path, args: dict) -> Work:
    """Import the CLI and the modules of `segment rfm` (the fixed cost of every command)."""
    def work() -> dict:
        import commands.app  # noqa: F401
        import core.features  # noqa: F401
        import core.segments.rfm  # noqa: F401
        import core.workspace  # noqa: F401
        return _rows(1, "runs")
    return work


def main() -> None:
    name, folder, args = sys.argv[1], Path(sys.argv[2]), json.loads(sys.argv[3])
    if name == "tui":
        from bench.tui import tui_stage as prepare
    else:
        prepare = STAGES[name]
    if "rows_per_pass" in args:  # e.g. one pass, to show what the passes save
        import core.features

        core.features.ROWS_PER_PASS = args["rows_per_pass"]
    work = prepare(folder, args)
    gc.collect()
    reset_worked = reset_peak()
    start_mb = rss_mb()
    start = time.perf_counter()
    out = work()
    seconds = time.perf_counter() - start
    print(json.dumps({"stage": name, "ok": True, "seconds": seconds,
                      "peak_mb": peak_mb(reset_worked), "start_mb": start_mb, **out}))


if __name__ == "__main__":
    main()
