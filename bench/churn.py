"""`python -m bench.churn`: predict churn's three feature snapshots, read once against three times.

Each contestant is a fresh process on the same Parquet workspace; CPU seconds (user + system)
and peak resident MB are recorded, alternating `--repeat` times:

- `floor`: the bare-Polars RFM script (bench/peers.py), one group_by per customer;
- `three reads`: customer_features at the training, test and scoring dates, collected one
  after the other (what predict churn did before, labels aside);
- `one read`: core.features.customer_features_at for the three dates and both label windows
  (what predict churn does now); the same tables, checked in tests/core/test_predict_churn.py.

Writes bench/results/churn.json; ratios are CPU against the floor's CPU.

  python -m bench.churn --sizes 1m
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.heavy import write_run
from bench.sidebyside import timed
from bench.workspaces import default_root, ensure_parquet, parse_size, workspace_info

BENCH = Path(__file__).resolve().parent
HORIZON_DAYS = 90


def _stage(mode: str, folder: str) -> None:
    """Run inside a child process: the feature snapshots of predict churn's default dates."""
    import polars as pl

    from core.features import customer_features, customer_features_at
    from core.predict.churn import churn_dates
    from core.workspace import Workspace

    ws = Workspace.open(folder)
    tx = ws.scan("transactions")
    tables = {t: ws.scan_if(t) for t in ("customers", "touchpoints", "survey")}
    dates = churn_dates(tx.select(pl.col("order_date").max()).collect().item(), HORIZON_DAYS)
    days = [dates.train_as_of, dates.test_as_of, dates.as_of]
    if mode == "three":
        for day in days:
            customer_features(tx, as_of=day, **tables).collect()
    else:
        customer_features_at(tx, days, **tables, purchase_windows=[
            (dates.train_as_of, dates.train_label_end), (dates.test_as_of, dates.test_label_end)])


def run(sizes: list[str], repeat: int, root: Path, seed: int, log) -> list[dict]:
    records = []
    for text in sizes:
        folder = ensure_parquet(root, parse_size(text), seed, log=log)
        info = workspace_info(folder)
        out = Path(tempfile.mkdtemp(prefix="loyalist-churn-"))
        contestants = {
            "floor": [sys.executable, "-m", "bench.peers", "polars", str(folder), str(out / "floor.parquet")],
            "three reads": [sys.executable, "-m", "bench.churn", "--stage", "three", str(folder)],
            "one read": [sys.executable, "-m", "bench.churn", "--stage", "one", str(folder)],
        }
        measured = {name: [] for name in contestants}
        for _ in range(repeat):
            for name, command in contestants.items():
                measured[name].append(timed(command))
        floor_cpu = statistics.median(m["cpu_seconds"] for m in measured["floor"])
        for name, runs in measured.items():
            ok = all(m["ok"] for m in runs)
            cpu = statistics.median(m["cpu_seconds"] for m in runs)
            record = {"contestant": name, "size": text, "transactions": info["transactions"],
                      "customers": info["customers"], "ok": ok,
                      "error": next((m["error"] for m in runs if not m["ok"]), ""),
                      "cpu_seconds": round(cpu, 2), "cpu_runs": [round(m["cpu_seconds"], 2) for m in runs],
                      "peak_mb": round(max(m["peak_mb"] for m in runs)),
                      "cpu_ratio": round(cpu / floor_cpu, 2) if ok and floor_cpu else None}
            log(f"  {text} {name:<12} {cpu:6.2f} s CPU {record['peak_mb']:6d} MB  {record['cpu_ratio']}x")
            records.append(record)
    return records


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.churn", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1m", help="comma-separated, e.g. 1m,10m")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=default_root())
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path, default=BENCH / "results" / "churn.json")
    parser.add_argument("--stage", nargs=2, metavar=("MODE", "WORKSPACE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.stage:
        _stage(*args.stage)
        return
    log = lambda text: print(text, file=sys.stderr, flush=True)  # noqa: E731
    started = time.perf_counter()
    records = run([s.strip() for s in args.sizes.split(",") if s.strip()], args.repeat, args.out, args.seed, log)
    write_run(args.json, records, started, log)


if __name__ == "__main__":
    main()
