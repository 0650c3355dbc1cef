"""Write tables and results to files, safely: temp file then rename, never a silent overwrite."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable
from pathlib import Path

import polars as pl

from core.errors import InputError
from core.result import Result

TABLE_FORMATS = {".csv": "csv", ".tsv": "tsv", ".parquet": "parquet", ".json": "json",
                 ".ndjson": "ndjson", ".xlsx": "xlsx"}


def safe_write(path: str | Path, write: Callable[[Path], None], *, force: bool = False) -> Path:
    """Write through `write(tmp_path)` and rename into place, so a reader never sees half a file."""
    path = Path(path).expanduser()
    if path.is_dir():
        raise InputError("is a folder, not a file name", file=str(path), fix="give a file name such as result.csv")
    if path.exists() and not force:
        raise InputError("already exists", file=str(path), fix="pass --force to overwrite it, or choose another name")
    if not path.parent.is_dir():
        raise InputError("the folder does not exist", file=str(path.parent), fix="create the folder first")
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    except PermissionError:
        raise InputError("cannot be written here (permission denied)", file=str(path),
                         fix="choose a folder you can write to") from None
    finally:
        tmp.unlink(missing_ok=True)
    return path


def table_format(path: Path) -> str:
    fmt = TABLE_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InputError(f"cannot write {path.suffix or 'files without an extension'}", file=str(path),
                         fix=f"use one of {', '.join(TABLE_FORMATS)}")
    return fmt


def write_table(df: pl.DataFrame, path: str | Path, *, force: bool = False) -> Path:
    """One table to CSV, TSV, Parquet, JSON (records), NDJSON or XLSX, chosen by extension."""
    path = Path(path)
    fmt = table_format(path)
    writers: dict[str, Callable[[Path], None]] = {
        "csv": lambda p: df.write_csv(p),
        "tsv": lambda p: df.write_csv(p, separator="\t"),
        "parquet": lambda p: df.write_parquet(p),
        "json": lambda p: p.write_text(json.dumps(Result("table", "", {"t": df}).to_dict()["tables"]["t"],
                                                   ensure_ascii=False, indent=1), encoding="utf-8"),
        "ndjson": lambda p: df.write_ndjson(p),
        "xlsx": lambda p: df.write_excel(p),
    }
    return safe_write(path, writers[fmt], force=force)


def write_result(result: Result, path: str | Path, *, force: bool = False) -> Path:
    """A whole result: .json keeps every table and figure, .xlsx one sheet a table, else the main table."""
    path = Path(path)
    fmt = table_format(path)
    if fmt == "json":
        text = json.dumps(result.to_dict(), ensure_ascii=False, indent=1)
        return safe_write(path, lambda p: p.write_text(text, encoding="utf-8"), force=force)
    if fmt == "xlsx":
        def write_xlsx(p: Path) -> None:
            import xlsxwriter

            with xlsxwriter.Workbook(p) as book:
                for name, df in result.tables.items():
                    df.write_excel(book, worksheet=name[:31], autofit=True)
        return safe_write(path, write_xlsx, force=force)
    return write_table(result.main_table, path, force=force)
