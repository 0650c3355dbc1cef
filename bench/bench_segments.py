"""Benchmark (not a test): per-customer features + RFM segments from Parquet.

Times core.features.customer_features + core.segments.rfm.rfm_segments on a generated
workspace (core.demo.write_workspace, Parquet) and, for comparison, the same R, F, M and
quantile scores computed with pandas groupby from the same files. Each measurement runs
in a fresh child process, so its peak memory (ru_maxrss, interpreter and imports
included) is its own.

    .venv/bin/python bench/bench_segments.py [--customers 1000000] [--data DIR] [--repeat 3]

Budget (DESIGN.md): 10 million transactions from Parquet to features and RFM segments in
under 3 s and under 2 GB peak memory on a 2-core laptop-class machine. The workspace is
generated once into --data (default: a folder in the system temp dir) and reused.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUDGET_SECONDS, BUDGET_GB = 3.0, 2.0


def _peak_gb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # KiB on Linux


def run_polars(folder: Path, tables: str) -> dict:
    """tables: "rfm" (the four RFM features, as `loyalist segment rfm` computes them),
    "transactions" (every feature) or "all" (every feature, with customers and survey)."""
    from core.features import customer_features
    from core.segments.rfm import RFM_FEATURES, rfm_segments
    from core.workspace import Workspace

    start = time.perf_counter()
    ws = Workspace.open(folder)
    extra = {"customers": ws.scan_if("customers"), "survey": ws.scan_if("survey")} \
        if tables == "all" else {}
    if tables == "rfm":
        extra["channels"] = ()  # as the command does: no channel features, no channel pass
    lazy = customer_features(ws.scan("transactions"), **extra)
    features = (lazy.select(RFM_FEATURES) if tables == "rfm" else lazy).collect()
    mid = time.perf_counter()
    result = rfm_segments(features)
    end = time.perf_counter()
    return {"seconds": end - start, "features_seconds": mid - start, "rfm_seconds": end - mid,
            "customers": features.height, "columns": features.width,
            "segments": result.tables["segments"]["customers"].to_list(), "peak_gb": _peak_gb()}


def run_pandas(folder: Path) -> dict:
    import pandas as pd

    start = time.perf_counter()
    tx = pd.read_parquet(folder / "transactions.parquet",
                         columns=["customer_id", "order_date", "amount", "order_id"])
    as_of = tx["order_date"].max()
    buys = tx[tx["amount"] > 0]
    by = buys.groupby("customer_id")
    rfm = pd.DataFrame({
        "last": by["order_date"].max(),
        "frequency": by["order_date"].nunique(),
        "orders": by["order_id"].nunique(),
    })
    rfm = rfm.join(tx.groupby("customer_id")["amount"].sum().rename("monetary"), how="outer")
    rfm["recency"] = (pd.Timestamp(as_of) - pd.to_datetime(rfm["last"])).dt.days
    for col, sign in (("recency", -1), ("frequency", 1), ("monetary", 1)):
        rank = (sign * rfm[col].fillna(-1e18 if sign > 0 else 1e18)).rank(method="first")
        rfm[col[0] + "_score"] = pd.qcut(rank, 5, labels=False) + 1
    end = time.perf_counter()
    return {"seconds": end - start, "customers": len(rfm), "peak_gb": _peak_gb()}


def child(kind: str, folder: Path, tables: str) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", kind, "--data", str(folder), "--tables", tables],
        check=True, capture_output=True, text=True, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def ensure_workspace(folder: Path, customers: int) -> Path:
    if (folder / "transactions.parquet").is_file():
        return folder
    print(f"generating {customers:,} customers into {folder} (once) ...", flush=True)
    start = time.perf_counter()
    # In a child process: Linux carries a parent's peak RSS into the children it forks,
    # which would inflate the measured peaks.
    code = ("from core.demo import write_workspace; "
            f"write_workspace({str(folder)!r}, customers={customers}, seed=7, fmt='parquet')")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT,
                   env={**os.environ, "PYTHONPATH": str(ROOT)})
    print(f"  generated in {time.perf_counter() - start:.0f} s", flush=True)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--tables", choices=("rfm", "transactions", "all"), default="rfm")
    parser.add_argument("--variants", default="rfm,all,extra,pandas",
                        help="comma-separated: rfm, all, extra, pandas")
    parser.add_argument("--child", choices=("polars", "pandas"), default=None)
    args = parser.parse_args()
    folder = args.data or Path(tempfile.gettempdir()) / f"loyalist-bench/ws-{args.customers}"
    if args.child:
        sys.path.insert(0, str(ROOT))
        report = run_polars(folder, args.tables) if args.child == "polars" else run_pandas(folder)
        print(json.dumps(report))
        return
    ensure_workspace(folder, args.customers)
    print(f"workspace {folder}; {os.cpu_count()} cores; best of {args.repeat}", flush=True)
    variants = {
        "rfm": ("polars: R, F, M features + RFM (as `segment rfm` runs)", "polars", "rfm"),
        "all": ("polars: all features + RFM", "polars", "transactions"),
        "extra": ("polars: all features with customers, survey + RFM", "polars", "all"),
        "pandas": ("pandas: groupby R, F, M + qcut", "pandas", "transactions"),
    }
    for key in args.variants.split(","):
        label, kind, tables = variants[key]
        runs = [child(kind, folder, tables) for _ in range(args.repeat)]
        best = min(runs, key=lambda r: r["seconds"])
        peak = max(r["peak_gb"] for r in runs)
        detail = (f" (features {best['features_seconds']:.2f} s, RFM {best['rfm_seconds']:.2f} s,"
                  f" {best['columns']} columns)" if kind == "polars" else "")
        print(f"{label}: {best['seconds']:.2f} s{detail}, peak {peak:.2f} GB, "
              f"{best['customers']:,} customers", flush=True)
        if key == "rfm":
            ok = best["seconds"] < BUDGET_SECONDS and peak < BUDGET_GB
            print(f"  budget {BUDGET_SECONDS:.0f} s / {BUDGET_GB:.0f} GB: {'met' if ok else 'NOT met'}")
    # Counted last: importing polars here would add to the children's measured peaks.
    import polars as pl

    rows = pl.scan_parquet(folder / "transactions.parquet").select(pl.len()).collect().item()
    print(f"{rows:,} transactions")


if __name__ == "__main__":
    main()
