"""Generated benchmark workspaces, cached on disk by size and seed.

A size is a number of transactions ("100k", "1m", "10m", "100m") or, with a trailing "c",
of customers ("1mc"); the generator (core.demo) makes about TX_PER_CUSTOMER transactions
per customer. Each workspace is written once, in a child process (Linux carries a
parent's peak RSS into its children, which would inflate the measured peaks), and
marked complete with a small JSON file, so an interrupted run is regenerated.

Above SHARD_CUSTOMERS customers the generator's memory grows past a laptop's, so large
workspaces are generated in shards with different seeds and streamed into one Parquet
file per table, customer ids prefixed by the shard number.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The rate when the size names were chosen (750,000 customers -> 10,078,388 transactions).
# The generator makes about twice as many now ("1m" holds ~1.7M, "10m" ~20M transactions);
# kept, so a size keeps meaning the same customers (and cached workspaces stay valid):
# published tables state the real counts, from the workspace's marker file.
TX_PER_CUSTOMER = 13.44
# One process making 1,000,000 customers (about 27 million transactions now) peaked above
# 16 GB and was killed for memory on the 23.5 GB bench machine; 744,048 ("10m") fits.
SHARD_CUSTOMERS = 750_000
MARKER = "bench-workspace.json"
# Every table the demo writes; points (the loyalty ledger) only where the generator made one.
TABLES = ("transactions", "customers", "touchpoints", "survey", "campaigns", "experiments", "points")
_UNITS = {"": 1, "k": 1_000, "m": 1_000_000}


@dataclass(frozen=True)
class Size:
    label: str  # as given: "10m", "1mc"
    customers: int

    @property
    def nominal_transactions(self) -> int:
        return round(self.customers * TX_PER_CUSTOMER)


def parse_size(text: str) -> Size:
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([km]?)(c?)", text.strip().lower())
    if not match:
        raise ValueError(f"cannot read the size {text!r}: write e.g. 100k, 1m, 10m or 1mc")
    number = float(match[1]) * _UNITS[match[2]]
    customers = number if match[3] else number / TX_PER_CUSTOMER
    return Size(text.strip().lower(), max(10, round(customers)))


def default_root() -> Path:
    return Path(tempfile.gettempdir()) / "loyalist-bench"


def _child_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def ensure_parquet(root: Path, size: Size, seed: int, log=print) -> Path:
    """The Parquet workspace for `size`, generated if absent."""
    folder = root / f"tx-{size.label}-seed{seed}"
    if (folder / MARKER).is_file():
        return folder
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    log(f"generating {size.customers:,} customers into {folder} (once) ...")
    start = time.perf_counter()
    if size.customers <= SHARD_CUSTOMERS:
        code = ("from core.demo import write_workspace; "
                f"write_workspace({str(folder)!r}, customers={size.customers}, seed={seed}, "
                "fmt='parquet')")
        subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, env=_child_env())
    else:
        _generate_sharded(folder, size.customers, seed)
    rows = _count_rows(folder / "transactions.parquet")
    info = {"label": size.label, "customers": size.customers, "seed": seed,
            "transactions": rows, "generate_seconds": round(time.perf_counter() - start, 1)}
    (folder / MARKER).write_text(json.dumps(info, indent=2) + "\n")
    log(f"  generated {rows:,} transactions in {info['generate_seconds']:.0f} s")
    return folder


def _generate_sharded(folder: Path, customers: int, seed: int) -> None:
    shards = -(-customers // SHARD_CUSTOMERS)
    parts = folder / "shards"
    for i in range(shards):
        n = customers // shards + (i < customers % shards)
        code = ("from core.demo import write_workspace; "
                f"write_workspace({str(parts / str(i))!r}, customers={n}, seed={seed * 1000 + i}, "
                "fmt='parquet')")
        subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, env=_child_env())
    code = f"from bench.workspaces import merge_shards; merge_shards({str(folder)!r}, {shards})"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, env=_child_env())
    shutil.rmtree(parts)


def merge_shards(folder: str, shards: int) -> None:
    """Stream the shards' tables into one file each. Customer and order ids get the shard
    as a prefix; campaigns (the same calendar in every shard) come from the first shard,
    so every shard's touches and tagged orders point at them."""
    import polars as pl

    root = Path(folder)
    for table in TABLES:
        if not (root / "shards" / "0" / f"{table}.parquet").is_file():
            continue
        frames = []
        for i in range(1 if table == "campaigns" else shards):
            lf = pl.scan_parquet(root / "shards" / str(i) / f"{table}.parquet")
            ids = [c for c in ("customer_id", "order_id") if c in lf.collect_schema().names()]
            frames.append(lf.with_columns(pl.format(f"S{i}-{{}}", pl.col(c)).alias(c) for c in ids))
        pl.concat(frames).sink_parquet(root / f"{table}.parquet", compression="zstd",
                                       statistics=False)
    shutil.copy(root / "shards" / "0" / "delphi.csv", root / "delphi.csv")


def ensure_csv(parquet: Path, log=print) -> Path:
    """A CSV copy of the transactions (the table every stage reads) beside the Parquet one."""
    folder = parquet.with_name(parquet.name + "-csv")
    if (folder / MARKER).is_file():
        return folder
    folder.mkdir(exist_ok=True)
    log(f"writing a CSV copy of the transactions into {folder} (once) ...")
    code = ("import polars as pl; "
            f"pl.scan_parquet({str(parquet / 'transactions.parquet')!r}).sink_csv("
            f"{str(folder / 'transactions.csv')!r}, float_precision=2, "
            "datetime_format='%Y-%m-%d %H:%M:%S')")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, env=_child_env())
    shutil.copy(parquet / MARKER, folder / MARKER)
    return folder


def converted_copy(csv_folder: Path) -> Path:
    """Where `loyalist data convert` writes the Parquet copy of the CSV workspace."""
    out = csv_folder.with_name(csv_folder.name + "-converted")
    out.mkdir(exist_ok=True)
    return out


def _count_rows(path: Path) -> int:
    code = f"import polars as pl; print(pl.scan_parquet({str(path)!r}).select(pl.len()).collect().item())"
    out = subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, env=_child_env(),
                         capture_output=True, text=True)
    return int(out.stdout.strip())


def workspace_info(folder: Path) -> dict:
    return json.loads((folder / MARKER).read_text())


HISTORY_SHIFT_DAYS = 1096  # the generator's three years: each copy sits before the last


def ensure_long_history(parquet: Path, copies: int, log=print) -> Path:
    """The same customers with `copies` times the history: the transactions repeated, each
    copy moved three years earlier (order ids made unique); other tables linked. Its rows
    grow while its customers do not, the shape of a bigger-than-memory transaction log."""
    folder = parquet.with_name(f"{parquet.name}-history{copies}")
    if (folder / MARKER).is_file():
        return folder
    folder.mkdir(exist_ok=True)
    log(f"writing {copies} copies of the transactions into {folder} (once) ...")
    code = f"from bench.workspaces import write_history; write_history({str(parquet)!r}, {str(folder)!r}, {copies})"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, env=_child_env())
    rows = _count_rows(folder / "transactions.parquet")
    info = {**workspace_info(parquet), "transactions": rows, "history_copies": copies}
    (folder / MARKER).write_text(json.dumps(info, indent=2) + "\n")
    return folder


def write_history(parquet: str, folder: str, copies: int) -> None:
    import datetime as dt

    import polars as pl

    source, out = Path(parquet), Path(folder)
    tx = pl.scan_parquet(source / "transactions.parquet")
    frames = [tx.with_columns(pl.col("order_date") - dt.timedelta(days=HISTORY_SHIFT_DAYS * i),
                              pl.col("order_id") + f"-{i}")
              for i in range(copies)]
    pl.concat(frames).sink_parquet(out / "transactions.parquet", compression="zstd",
                                   statistics=False)
    for table in TABLES[1:]:
        link = out / f"{table}.parquet"
        if not link.exists() and (source / f"{table}.parquet").is_file():
            link.symlink_to(source / f"{table}.parquet")
