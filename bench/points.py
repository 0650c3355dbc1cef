"""`python -m bench.points [--customers N] [--seed S]`: report points beside a bare Polars peer.

Writes a demo workspace (Parquet) of N customers, then times, in this one run:
- loyalist: `report points` through the registry (balances, liability, rates, months, tiers,
  Kaplan-Meier, and the matched redeemer comparison), and
- peer: a bare Polars script doing the ledger part of the same work (signed points,
  per-customer balances and first dates, totals, flows by month and by tier),
so the ratio shows what the registry, validation and the matched comparison cost on top.
Results: bench/results/points.json.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "points.json"


def peer(folder: Path) -> dict:
    import polars as pl

    ledger = pl.scan_parquet(folder / "points.parquet")
    sign = (pl.when(pl.col("kind") == "earn").then(pl.col("points").abs())
            .when(pl.col("kind").is_in(["redeem", "expire"])).then(-pl.col("points").abs())
            .otherwise(pl.col("points")))
    rows = ledger.with_columns(sign.alias("s"))
    people = rows.group_by("customer_id").agg(
        pl.col("s").sum().alias("balance"), pl.col("date").filter(pl.col("s") > 0).min().alias("first"),
        pl.col("date").filter(pl.col("kind") == "redeem").min().alias("first_redeem"),
        pl.col("tier").last())
    months = rows.group_by(pl.col("date").dt.truncate("1mo")).agg(
        pl.col("s").filter(pl.col("s") > 0).sum().alias("issued"),
        pl.col("s").filter(pl.col("kind") == "redeem").sum().alias("redeemed"))
    tiers = people.group_by("tier").agg(pl.col("balance").clip(lower_bound=0).sum(), pl.len())
    people, months, tiers = pl.collect_all([people, months, tiers])
    return {"customers": people.height, "outstanding": float(people["balance"].clip(lower_bound=0).sum())}


def loyalist(folder: Path) -> dict:
    from core.registry import run_analysis
    from core.workspace import Workspace

    result = run_analysis("report.points", Workspace.open(folder), {})
    return {"customers": result.headline["customer_count"], "outstanding": result.headline["points_outstanding"]}


def timed(fn, folder: Path) -> tuple[float, float, dict]:
    """Wall and CPU seconds (this process's, Polars' threads included) of one side."""
    start, cpu = time.perf_counter(), time.process_time()
    out = fn(folder)
    return time.perf_counter() - start, time.process_time() - cpu, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path, default=RESULTS)
    args = parser.parse_args()
    from bench.summary import machine
    from core.demo import write_workspace

    meta = machine()  # the load average before the run starts

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_workspace(folder, args.customers, args.seed, fmt="parquet")
        peer_s, peer_cpu, peer_out = timed(peer, folder)
        ours_s, ours_cpu, ours_out = timed(loyalist, folder)
    if peer_out["outstanding"] != ours_out["outstanding"]:
        raise SystemExit(f"the two disagree: {peer_out} against {ours_out}")
    record = {"customers": args.customers, "seed": args.seed, "ledger_customers": ours_out["customers"],
              "loyalist_seconds": round(ours_s, 3), "peer_seconds": round(peer_s, 3),
              "loyalist_cpu_seconds": round(ours_cpu, 3), "peer_cpu_seconds": round(peer_cpu, 3),
              "ratio": round(ours_s / peer_s, 2) if peer_s else None, "machine": meta}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(record))


if __name__ == "__main__":
    main()
