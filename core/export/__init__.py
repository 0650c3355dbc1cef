"""Export results to files people open without Loyalist, written safely.

Formats, chosen by the file's extension or by `fmt`:
- whole results (every table, headline figures, charts, notes, parameters) and bundles
  of several results: .html (self-contained report), .xlsx (Summary sheet + one sheet
  per table), .json, .md;
- one table (the result's first, or the one named by `table`): .csv, .tsv, .parquet,
  .ndjson.
Every write goes to a temporary file that is renamed into place (core.export.safe), and
an existing file is replaced only with `force`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import polars as pl

from core.errors import InputError
from core.export import tables
from core.export.document import Document
from core.export.safe import check_target, safe_write
from core.result import Result

FORMATS = {".csv": "csv", ".tsv": "tsv", ".parquet": "parquet", ".pq": "parquet", ".json": "json",
           ".ndjson": "ndjson", ".jsonl": "ndjson", ".md": "md", ".markdown": "md", ".xlsx": "xlsx",
           ".html": "html", ".htm": "html"}
TABLE_FORMATS = ("csv", "tsv", "parquet", "ndjson")  # one table per file
DOCUMENT_FORMATS = ("html", "xlsx", "json", "md")  # whole results and bundles

__all__ = ["DOCUMENT_FORMATS", "FORMATS", "TABLE_FORMATS", "Document", "bundle_format", "check_target",
           "export_format", "safe_write", "write_bundle", "write_result", "write_table"]


def export_format(path: str | Path, fmt: str | None = None) -> str:
    """The format to write: `fmt` when given, else the one the extension names."""
    names = sorted(set(FORMATS.values()))
    if fmt is not None:
        fmt = fmt.lower().lstrip(".")
        fmt = {"markdown": "md", "htm": "html", "jsonl": "ndjson", "pq": "parquet"}.get(fmt, fmt)
        if fmt not in names:
            raise InputError(f"unknown export format {fmt!r}", fix=f"use one of {', '.join(names)}")
        return fmt
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        what = f"files ending in {suffix}" if suffix else "a file name without an extension"
        raise InputError(f"cannot tell which format to write for {what}", file=str(path),
                         fix=f"end the name with one of {', '.join(sorted(FORMATS))}, or choose a format")
    return FORMATS[suffix]


def write_result(result: Result, path: str | Path, *, force: bool = False, fmt: str | None = None,
                 table: str | None = None, bom: bool = False, max_rows: int | None = None) -> Path:
    """Write a result; single-table formats take its first table, or the one named `table`.

    bom: start CSV/TSV with a UTF-8 byte-order mark, so Excel reads non-ASCII text right.
    max_rows: rows per table in the HTML and Markdown reports (default 500 and 1000).
    """
    fmt = export_format(path, fmt)
    if fmt in TABLE_FORMATS:
        name = _table_name(result, table)
        return _write_one_table(result.tables[name], Path(path), fmt, force, bom, result, name)
    return _write_document(Document.of(result), Path(path), fmt, force, max_rows)


def write_bundle(results: Sequence[Result], path: str | Path, *, title: str | None = None,
                 source: str | None = None, force: bool = False, fmt: str | None = None,
                 max_rows: int | None = None) -> Path:
    """Several results in one file: one HTML report, one workbook, one JSON or Markdown file."""
    fmt = bundle_format(path, fmt)
    document = Document(title or "Loyalist report", tuple(results), source, bundle=True)
    return _write_document(document, Path(path), fmt, force, max_rows)


def bundle_format(path: str | Path, fmt: str | None = None) -> str:
    """The format for a bundle, refusing the one-table formats (call it before running reports)."""
    fmt = export_format(path, fmt)
    if fmt not in DOCUMENT_FORMATS:
        raise InputError(f"a bundle of several reports cannot be written as {fmt}", file=str(path),
                         fix=f"use {', '.join('.' + f for f in DOCUMENT_FORMATS)}")
    return fmt


def write_table(df: pl.DataFrame, path: str | Path, *, force: bool = False, fmt: str | None = None,
                bom: bool = False) -> Path:
    """One table in any format (JSON: a list of row records)."""
    path = Path(path)
    fmt = export_format(path, fmt)
    if fmt in TABLE_FORMATS:
        return _write_one_table(df, path, fmt, force, bom)
    if fmt == "json":
        text = tables.records_json(df)
        return safe_write(path, lambda p: p.write_text(text, encoding="utf-8"), force=force)
    name = path.stem or "table"
    return _write_document(Document.of(Result(name, name, {name: df})), path, fmt, force, None)


def _table_name(result: Result, table: str | None) -> str:
    if table is None:
        return next(iter(result.tables))
    if table not in result.tables:
        raise InputError(f"{result.name} has no table {table!r}",
                         fix=f"choose one of {', '.join(result.tables)}")
    return table


def _write_one_table(df: pl.DataFrame, path: Path, fmt: str, force: bool, bom: bool,
                     result: Result | None = None, name: str | None = None) -> Path:
    writers: dict[str, Callable[[Path], None]] = {
        "csv": lambda p: tables.write_delimited(df, p, bom=bom),
        "tsv": lambda p: tables.write_delimited(df, p, separator="\t", bom=bom),
        "parquet": lambda p: tables.write_parquet(df, p, result, name),
        "ndjson": lambda p: tables.write_ndjson(df, p),
    }
    return safe_write(path, writers[fmt], force=force)


def _write_document(document: Document, path: Path, fmt: str, force: bool, max_rows: int | None) -> Path:
    # Imported here: charts, HTML and workbooks are not needed by the CLI's table outputs,
    # and every command imports this package at start-up.
    from core.export import html, markdown, workbook

    writers: dict[str, Callable[[Path], None]] = {
        "html": lambda p: html.write_html(document, p, max_rows or html.MAX_ROWS),
        "md": lambda p: markdown.write_markdown(document, p, max_rows or markdown.MAX_ROWS),
        "xlsx": lambda p: workbook.write_workbook(document, p),
        "json": lambda p: tables.write_json(document, p),
    }
    return safe_write(path, writers[fmt], force=force)
