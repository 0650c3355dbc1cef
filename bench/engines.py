"""`python -m bench.engines`: the per-customer reduction on each engine, side by side.

`segment rfm` from the benchmark's Parquet workspace, as a user runs it (a fresh `loyalist`
process writing `--output`), with `--engine polars` (the default), `--engine duckdb` and
`--engine spark` (local mode), beside the bare-Polars RFM script of bench/peers.py (the
floor every Loyalist figure is measured against) and bench/peers.py's bare DuckDB script.
Contestants run alternately (A B C A B C ...) so they share the machine's load; medians of
wall time and the peak resident memory of each process and its children (Spark's JVM
included) are kept. Each engine's segments are checked against the Polars path's (same
customers, R, F, M, scores and segments) before its time counts.
Before the timed runs, an untimed `data validate --engine E` per engine fills the check cache,
as after an analyst's first command: the timed commands read each engine's findings from it
(core.check_cache), as bench.sidebyside's commands do on Polars.

    python -m bench.engines --sizes 10m            # the published run
    python -m bench.engines --sizes 100m --repeat 1  # 100 million transactions (see below)
    python -m bench.engines --sizes 1m --repeat 1  # a quick check that it works
    python -m bench.engines --sizes 200k --base 100k --repeat 1 --no-spark --out /tmp/check
        # the 100m path (copies written by DuckDB, the streaming peer) end to end in a minute

Sizes above --base (10m) are not generated in Python (the generator would take an hour at
100m): DuckDB writes them with one SQL statement, the base workspace's transactions and
customers repeated with a copy number before every customer and order id, so each copy is
a new set of customers with the generator's own distributions. The Parquet file is written
once and reused. The bare-Polars peer runs on the streaming engine from the same Parquet
file (an in-memory collect of 100m rows is not what anyone would run on a laptop).

100m on this 2-core machine, from the 10m workspace (20.4M rows; 15 min to generate if absent):
ten copies, 204M transactions and 7.4M customers, about 1.2 GB of Parquet (two copies took
233 MB and 27 s of CPU to write); each contestant about ten times its 10m time, so with
--repeat 1 roughly 10 minutes in all. DuckDB writes and reads within Loyalist's memory budget
(core.engines.duckdb_settings), spilling to the temporary folder.

Writes bench/results/engines.json ({"meta", "comparisons"} like bench.sidebyside's).
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

from bench.sidebyside import CLI, alternate, compare, run_sizes, same_answer
from bench.summary import machine
from bench.workspaces import MARKER, ROOT, Size, _count_rows, default_root, ensure_parquet, parse_size, workspace_info

BENCH = Path(__file__).resolve().parent
SPARK_UP_TO = 25_000_000  # transactions: the "10m" workspace (20M rows) and below; beyond, Spark local takes longer than the run is worth
REPLICATED = ("transactions", "customers")  # what segment rfm reads; the other tables are not copied
IDS = ("customer_id", "order_id")


def workspace(text: str, args: argparse.Namespace, log) -> Path:
    """The Parquet workspace of this size: generated up to --base, replicated in DuckDB above."""
    size, base = parse_size(text), parse_size(args.base)
    if size.customers <= base.customers:
        return ensure_parquet(args.out, size, args.seed, log=log)
    return ensure_replicated(args.out, size, ensure_parquet(args.out, base, args.seed, log=log), log)


def ensure_replicated(root: Path, size: Size, base: Path, log) -> Path:
    """`base`'s transactions and customers repeated in DuckDB until they reach `size`'s
    customers; ids get the copy as a prefix (R3-C000001), as bench.workspaces' shards do."""
    copies = max(2, round(size.customers / workspace_info(base)["customers"]))
    folder = root / f"tx-{size.label}-{base.name}-x{copies}"
    if (folder / MARKER).is_file():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    log(f"writing {copies} copies of {base.name} with DuckDB into {folder} (once) ...")
    started = time.perf_counter()
    code = (f"from bench.engines import replicate; replicate({str(base)!r}, {str(folder)!r}, {copies})")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    info = {**workspace_info(base), "label": size.label, "customers": workspace_info(base)["customers"] * copies,
            "transactions": _count_rows(folder / "transactions.parquet"), "copies_of": base.name, "copies": copies,
            "generate_seconds": round(time.perf_counter() - started, 1)}
    (folder / MARKER).write_text(json.dumps(info, indent=2) + "\n")
    log(f"  wrote {info['transactions']:,} transactions in {info['generate_seconds']:.0f} s")
    return folder


def replicate(base: str, folder: str, copies: int) -> None:
    """One COPY per table: the base table cross-joined with the copy numbers, streamed by
    DuckDB into zstd Parquet (memory stays flat however many rows it writes)."""
    import duckdb

    from core.engines import duckdb_settings

    con = duckdb.connect(config=duckdb_settings())  # Loyalist's memory budget, spilling to the temp folder
    con.execute("SET enable_progress_bar = false")
    for table in REPLICATED:
        source, target = Path(base) / f"{table}.parquet", Path(folder) / f"{table}.parquet"
        names = [row[0] for row in con.execute(f"DESCRIBE SELECT * FROM read_parquet('{source}')").fetchall()]
        columns = ", ".join(f"'R' || copy || '-' || \"{n}\" AS \"{n}\"" if n in IDS else f'"{n}"' for n in names)
        partial = target.with_suffix(".partial")
        con.execute(f"COPY (SELECT {columns} FROM range({int(copies)}) AS copies(copy), read_parquet('{source}')) "
                    f"TO '{partial}' (FORMAT parquet, COMPRESSION zstd)")
        partial.replace(target)  # a file of this name is always complete


def run_size(text: str, args: argparse.Namespace, records: list, log) -> None:
    folder = workspace(text, args, log)
    info = workspace_info(folder)
    out = Path(tempfile.mkdtemp(prefix="loyalist-engines-"))
    log(f"{text}: {info['transactions']:,} transactions, {info['customers']:,} customers")
    engines = ["polars", "duckdb"]
    if args.spark and info["transactions"] <= SPARK_UP_TO:
        engines.append("spark")
    outputs = {engine: out / f"loyalist-{engine}.parquet" for engine in engines}
    for engine in engines:  # each engine's checks remembered, as after a first command (not timed)
        subprocess.run([*CLI, "data", "validate", "-w", str(folder), "--engine", engine], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=False, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    peers = {name: out / f"{name}.parquet" for name in ("polars", "duckdb")}
    # bench.peers' scripts; above --base, bare Polars on its streaming engine (100m rows in memory
    # is not what anyone runs on a laptop)
    scripts = {"polars": "polars-streaming" if "copies" in info else "polars", "duckdb": "duckdb"}
    contestants = {
        **{f"loyalist --engine {engine}": [*CLI, "segment", "rfm", "-w", str(folder), "--engine", engine,
                                           "-o", str(path), "--force"] for engine, path in outputs.items()},
        **{f"bare {name}": [sys.executable, "-m", "bench.peers", scripts[name], str(folder), str(path)]
           for name, path in peers.items()},
    }
    log("  segment rfm from Parquet, per engine")
    results = alternate(contestants, args.repeat, log)
    reference = outputs["polars"]
    for engine, path in outputs.items():
        name = f"loyalist --engine {engine}"
        compare(records, "engine", text, info, results, name, "bare polars",
                note=f"the per-customer reduction on {engine}" + (" (the peer on Polars' streaming engine)"
                                                                   if "copies" in info else ""),
                agrees=same_answer(path, reference))
    compare(records, "engine", text, info, results, "loyalist --engine duckdb", "bare duckdb",
            note="beside a bare DuckDB script doing the same work", agrees=same_answer(outputs["duckdb"], peers["duckdb"]))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.engines", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10m", help="comma-separated transactions, e.g. 100k,10m,100m")
    parser.add_argument("--repeat", type=int, default=3, help="alternating runs of each contestant")
    parser.add_argument("--base", default="10m", help="sizes above this are its workspace repeated by DuckDB")
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
