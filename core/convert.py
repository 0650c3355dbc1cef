"""Convert a workspace's tables to Parquet once, for fast repeated analysis.

Each table is streamed through the same coercion as `Workspace.scan`, so the Parquet
files hold canonical column names and dtypes and load with no parsing at all.
"""

from __future__ import annotations

import time
from pathlib import Path

import polars as pl

from core.errors import InputError
from core.export import safe_write
from core.result import Result
from core.validate import LOSSY_RULES, raise_for_errors, validate
from core.workspace import Workspace


def convert_to_parquet(ws: Workspace, out_dir: Path | None = None, *, force: bool = False) -> Result:
    out_dir = Path(out_dir) if out_dir else ws.root
    if not out_dir.is_dir():
        raise InputError("the folder does not exist", file=str(out_dir), fix="create it first")
    # never write a half-parsed copy; other errors (NPS 11) are copied as read and found again
    raise_for_errors([f for f in validate(ws, errors_only=True) if f.rule in LOSSY_RULES])
    rows = []
    for table, source in ws.sources.items():
        if source.format == "parquet" and out_dir == ws.root:
            continue
        target = out_dir / f"{table}.parquet"
        started = time.perf_counter()
        safe_write(target, lambda tmp, t=table: ws.scan(t).sink_parquet(tmp), force=force)
        seconds = time.perf_counter() - started
        read_started = time.perf_counter()
        height = pl.scan_parquet(target).select(pl.len()).collect().item()
        rows.append({"table": table, "source": source.path.name, "parquet": target.name, "rows": height,
                     "source_mb": source.path.stat().st_size / 1e6, "parquet_mb": target.stat().st_size / 1e6,
                     "write_seconds": seconds, "count_seconds": time.perf_counter() - read_started})
    summary = pl.DataFrame(rows, schema={"table": pl.String, "source": pl.String, "parquet": pl.String,
                                         "rows": pl.Int64, "source_mb": pl.Float64, "parquet_mb": pl.Float64,
                                         "write_seconds": pl.Float64, "count_seconds": pl.Float64})
    return Result(
        name="data.convert", title=f"Parquet copies of {ws.name}", tables={"converted": summary},
        headline={"tables": summary.height, "out": str(out_dir)},
        params={"workspace": str(ws.root), "out": str(out_dir)},
        notes=("Parquet files sit beside their sources and are used from now on (Parquet is preferred).",)
        if out_dir == ws.root else (),
    )
