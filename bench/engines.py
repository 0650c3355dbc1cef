"""`python -m bench.engines`: the per-customer reduction on each engine, side by side.

`segment rfm` from the benchmark's Parquet workspace, as a user runs it (a fresh `loyalist`
process writing `--output`), with `--engine polars` (the default), `--engine duckdb` and
`--engine spark` (local mode), beside the bare-Polars RFM script of bench/peers.py (the
floor every Loyalist figure is measured against) and bench/peers.py's bare DuckDB script.
Contestants run alternately (A B C A B C ...) so they share the machine's load; medians of
wall time and the peak resident memory of each process and its children (Spark's JVM
included) are kept. Each engine's segments are checked against the Polars path's (same
customers, R, F, M, scores and segments) before its time counts.

    python -m bench.engines --sizes 10m            # the published run (and 100m for DuckDB)
    python -m bench.engines --sizes 100k --repeat 1  # a quick check that it works

Writes bench/results/engines.json ({"meta", "comparisons"} like bench.sidebyside's).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from bench.sidebyside import CLI, alternate, compare, run_sizes, same_answer
from bench.summary import machine
from bench.workspaces import default_root, ensure_parquet, parse_size, workspace_info

BENCH = Path(__file__).resolve().parent
SPARK_UP_TO = 10_000_000  # transactions: Spark local mode beyond this takes longer than the run is worth


def run_size(text: str, args: argparse.Namespace, records: list, log) -> None:
    folder = ensure_parquet(args.out, parse_size(text), args.seed, log=log)
    info = workspace_info(folder)
    out = Path(tempfile.mkdtemp(prefix="loyalist-engines-"))
    log(f"{text}: {info['transactions']:,} transactions, {info['customers']:,} customers")
    engines = ["polars", "duckdb"]
    if args.spark and info["transactions"] <= SPARK_UP_TO:
        engines.append("spark")
    outputs = {engine: out / f"loyalist-{engine}.parquet" for engine in engines}
    peers = {name: out / f"{name}.parquet" for name in ("polars", "duckdb")}
    contestants = {
        **{f"loyalist --engine {engine}": [*CLI, "segment", "rfm", "-w", str(folder), "--engine", engine,
                                           "-o", str(path), "--force"] for engine, path in outputs.items()},
        **{f"bare {name}": [sys.executable, "-m", "bench.peers", name, str(folder), str(path)]
           for name, path in peers.items()},
    }
    log("  segment rfm from Parquet, per engine")
    results = alternate(contestants, args.repeat, log)
    reference = outputs["polars"]
    for engine, path in outputs.items():
        name = f"loyalist --engine {engine}"
        compare(records, "engine", text, info, results, name, "bare polars",
                note=f"the per-customer reduction on {engine}", agrees=same_answer(path, reference))
    compare(records, "engine", text, info, results, "loyalist --engine duckdb", "bare duckdb",
            note="beside a bare DuckDB script doing the same work", agrees=same_answer(outputs["duckdb"], peers["duckdb"]))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.engines", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10m", help="comma-separated transactions, e.g. 100k,10m,100m")
    parser.add_argument("--repeat", type=int, default=3, help="alternating runs of each contestant")
    parser.add_argument("--no-spark", dest="spark", action="store_false", help="skip Spark local mode")
    parser.add_argument("--out", type=Path, default=default_root())
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path, default=BENCH / "results" / "engines.json")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    log = lambda text: print(text, file=sys.stderr, flush=True)  # noqa: E731
    args.out.mkdir(parents=True, exist_ok=True)
    meta = machine()
    for module in ("duckdb", "ibis", "pyspark"):
        try:
            meta[module] = __import__(module).__version__
        except ImportError:
            pass
    run_sizes(args, meta, run_size, log)


if __name__ == "__main__":
    main()
