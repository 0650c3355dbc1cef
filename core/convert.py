"""Convert a workspace's tables to Parquet once, for fast repeated analysis.

Each table is streamed through the same coercion as `Workspace.scan`, so the Parquet
files hold canonical column names and dtypes and load with no parsing at all. Each copy
records what it was made from (core.converted), so the workspace uses it only while
that source is unchanged; a copy that is still current is left alone unless `force`.
A table with validation errors is not converted (and says why); the others still are.
Each copy written is checked once, so the next command finds it in the check cache
(core.check_cache) and starts without reading every row again.
"""

from __future__ import annotations

import time
from pathlib import Path

import polars as pl

from core import converted, likert
from core.errors import InputError
from core.export import safe_write
from core.result import Result
from core.validate import LOSSY_RULES, check, validate
from core.workspace import Workspace

SUMMARY_SCHEMA = {"table": pl.String, "source": pl.String, "parquet": pl.String, "status": pl.String,
                  "rows": pl.Int64, "source_mb": pl.Float64, "parquet_mb": pl.Float64,
                  "write_seconds": pl.Float64, "count_seconds": pl.Float64}


def convert_to_parquet(ws: Workspace, out_dir: Path | None = None, *, force: bool = False) -> Result:
    out_dir = Path(out_dir) if out_dir else ws.root
    if not out_dir.is_dir():
        raise InputError("the folder does not exist", file=str(out_dir), fix="create it first")
    beside = out_dir.resolve() == ws.root.resolve()
    # Always convert from the sources, never from a copy of them.
    originals = ws.sources_only() if any(s.format == "parquet" for s in ws.sources.values()) else ws
    rows, todo = [], []
    for table, source in originals.sources.items():
        used = ws.sources[table]
        if source.database is not None:
            rows.append(_row(table, source.path, "a table in a database: read where it is, not converted"))
        elif source.format == "parquet" and beside:
            rows.append(_row(table, source.path, "already Parquet: read as it is"))
        elif beside and used.format == "parquet" and not force:
            status = ("up to date: the copy matches its source" if used.origin
                      else f"kept: {used.why}") + " (--force converts again)"
            rows.append(_row(table, source.path, status, parquet=used.path))
        else:
            todo.append(table)
    # Never write a half-parsed copy: values that did not parse refuse their table alone. Other
    # errors (NPS 11) are copied as read and found again when the copy is validated.
    refused = {}
    for finding in validate(originals, tables=todo, errors_only=True) if todo else ():
        if finding.rule in LOSSY_RULES:
            refused.setdefault(finding.table, finding)
    for table, first in refused.items():
        rows_named = f": {', '.join(map(str, first.rows))}" if first.rows else ""
        rows.append(_row(table, originals.sources[table].path,
                         f"not converted: {first.message} ({first.count:,} row{'s' * (first.count != 1)}"
                         f"{rows_named}); "
                         "run `loyalist data validate`"))
    todo = [t for t in todo if t not in refused]
    for table in todo:
        source = originals.sources[table]
        target = out_dir / f"{table}.parquet"
        # A stale copy of this very source is ours to replace; anything else needs --force.
        ours = target.is_file() and converted.made_from(target, source.path)
        status = "reconverted: the source had changed" if ours and not force else (
            "reconverted (--force)" if target.exists() else "converted")
        record = converted.metadata(source.path, source.options)  # before reading, so an edit during it shows
        record |= converted.scales_metadata({m.canonical: scale for m in source.columns
                                             if (scale := likert.scale_in(m.detail)) is not None})
        started = time.perf_counter()
        safe_write(target, lambda tmp, t=table: originals.scan(t).sink_parquet(tmp, metadata=record),
                   force=force or ours)
        seconds = time.perf_counter() - started
        read_started = time.perf_counter()
        height = pl.scan_parquet(target).select(pl.len()).collect().item()
        rows.append(_row(table, source.path, status, parquet=target, rows=height, write_seconds=seconds,
                         count_seconds=time.perf_counter() - read_started))
    if beside and todo:
        _check_copies(ws, todo)
    summary = pl.DataFrame(rows, schema=SUMMARY_SCHEMA)
    return Result(
        name="data.convert", title=f"Parquet copies of {ws.name}", tables={"converted": summary},
        headline={"tables": len(todo), "up_to_date": sum(r["status"].startswith("up to date") for r in rows),
                  "refused": len(refused), "out": str(out_dir)},
        params={"workspace": str(ws.root), "out": str(out_dir), "force": force},
        notes=("Parquet copies sit beside their sources and are used while their source is unchanged; "
               "after an edit the source is read again (with a note) until you convert again.",)
        if beside else (),
    )


def _check_copies(ws: Workspace, tables: list[str]) -> None:
    """Check the copies just written (one pass over each Parquet, errors only, as every
    analysis checks), so the check cache holds them and the next command starts without."""
    fresh = Workspace.open(ws.config_path or ws.root)
    check(fresh, tables=[t for t in tables if fresh.has(t) and fresh.sources[t].origin], errors_only=True)


def _row(table: str, source: Path, status: str, *, parquet: Path | None = None, rows: int | None = None,
         write_seconds: float | None = None, count_seconds: float | None = None) -> dict:
    return {"table": table, "source": source.name, "parquet": parquet.name if parquet else None,
            "status": status, "rows": rows, "source_mb": source.stat().st_size / 1e6 if source.is_file() else None,
            "parquet_mb": parquet.stat().st_size / 1e6 if parquet and parquet.exists() else None,
            "write_seconds": write_seconds, "count_seconds": count_seconds}
