"""Flat files (CSV, TSV, Parquet, NDJSON) for one table, and JSON for whole results."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl

from core import __version__
from core.export.cells import for_spreadsheet, neutralise_headers
from core.export.document import Document
from core.result import Result, jsonable, jsonable_row

DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"  # what Excel and LibreOffice read as a date-time


def write_delimited(df: pl.DataFrame, path: Path, *, separator: str = ",", bom: bool = False) -> None:
    """CSV/TSV as spreadsheets should open it: cells and headers neutralised against formulas."""
    spreadsheet_safe(df).write_csv(path, separator=separator, include_bom=bom, datetime_format=DATETIME_FORMAT)


def delimited_text(df: pl.DataFrame, separator: str = ",") -> str:
    """The same CSV as text (`--format csv` on stdout, often redirected into a file Excel opens)."""
    return spreadsheet_safe(df).write_csv(separator=separator, datetime_format=DATETIME_FORMAT)


def spreadsheet_safe(df: pl.DataFrame) -> pl.DataFrame:
    return neutralise_headers(for_spreadsheet(df))


def write_parquet(df: pl.DataFrame, path: Path, result: Result | None = None, table: str | None = None) -> None:
    # Parquet keeps dtypes, so nothing is flattened; where the table came from rides along as metadata.
    meta = None
    if result is not None:
        meta = {"loyalist": json.dumps({**result_about(result), "table": table}, ensure_ascii=False)}
    df.write_parquet(path, metadata=meta)


def write_ndjson(df: pl.DataFrame, path: Path) -> None:
    df.write_ndjson(path)


def result_about(result: Result) -> dict[str, Any]:
    """result_document without the tables' rows: what a Parquet file's metadata carries.
    Built without touching the rows, so writing a 1M-row table costs no Python per row."""
    doc = {"name": result.name, "title": result.title,
           **{k: jsonable(v) for k, v in result.headline.items()},
           "notes": list(result.notes), "params": {k: jsonable(v) for k, v in result.params.items()}}
    return {**doc, "charts": _charts(result), "loyalist_version": __version__}


def _charts(result: Result) -> list[dict[str, Any]]:
    return [{"kind": c.kind, "title": c.title, "table": c.table, "x": c.x,
             "y": [c.y] if isinstance(c.y, str) else list(c.y), "series": c.series,
             **({"intervals": [list(i) for i in c.intervals]} if c.intervals else {}),
             **({"references": [list(r) for r in c.references]} if c.references else {})}
            for c in result.charts]


def result_document(result: Result) -> dict[str, Any]:
    """Result.to_dict() plus dtypes (so tables load back exactly), chart specs and the version.

    Keys: those of Result.to_dict() (name, title, each headline figure and each table as
    a list of row records, notes, params), plus schemas ({table: {column: Polars dtype}}), charts ([{kind, title, table, x, y, series}], plus intervals [[y, low, high]] and references [[axis, value, label]] when drawn),
    loyalist_version.
    """
    doc = result.to_dict()
    doc["schemas"] = {name: {col: str(dtype) for col, dtype in df.schema.items()}
                      for name, df in result.tables.items()}
    doc["charts"] = _charts(result)
    doc["loyalist_version"] = __version__
    return doc


def write_json(document: Document, path: Path) -> None:
    """One result: its document. A bundle: {title, source, created, loyalist_version, reports: [...]}."""
    if document.is_bundle:
        body: dict[str, Any] = {"title": document.title, "source": document.source, "created": document.created,
                                "loyalist_version": __version__,
                                "reports": [result_document(r) for r in document.results]}
    else:
        body = result_document(document.results[0])
    path.write_text(json.dumps(body, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def records_json(df: pl.DataFrame) -> str:
    """A bare table as a JSON list of row records (dates as ISO text, NaN as null)."""
    rows = [jsonable_row(r) for r in df.iter_rows(named=True)]
    return json.dumps(rows, ensure_ascii=False, indent=1) + "\n"
