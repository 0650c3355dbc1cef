"""What a workspace holds: tables, files, row counts, date ranges and the column mapping.

Also how each file was read: its encoding and delimiter (and why), the decimal and
thousands convention of its text number columns and the date formats of its text dates.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from core import contract as c
from core import likert
from core.coerce import EXCEL_TEXT
from core.engines import resolve
from core.errors import LoyalistError
from core.privacy import CUSTOMER_ID, workspace_personal_data
from core.result import Result
from core.workspace import TableSource, Workspace

DATE_COLUMN = {"transactions": "order_date", "touchpoints": "timestamp", "survey": "response_date",
               "customers": "signup_date", "campaigns": "start_date", "experiments": "exposure_date",
               "points": "date"}


def read_as(source: TableSource) -> dict[str, str]:
    """How a table's file was read, in words: encoding, delimiter, numbers, dates."""
    text = source.text
    delimiter = {"\t": "tab", " ": "space"}.get(text.delimiter, text.delimiter) if text else ""
    numbers = sorted({m.number.describe() for m in source.columns
                      if m.number and m.number.how in ("detected", "loyalist.toml")})
    numbers = numbers or sorted({m.number.describe() for m in source.columns if m.number})
    dates = sorted({m.detail for m in source.columns if m.kind in (c.DATE, c.DATETIME) and m.detail})
    return {
        "encoding": text.describe() if text else "",
        "delimiter": f"{delimiter} ({text.delimiter_how})" if text else "",
        "numbers": numbers[0] if len(numbers) == 1 else ("per column: " + "; ".join(numbers) if numbers else ""),
        "date_format": " ; ".join(dates),
    }


def table_counts(ws: Workspace, tables: list[str]) -> dict[str, dict]:
    """Each table's rows, first_date and last_date (None without a date column), in one
    pass over the tables: for a CSV, a parse of every row."""
    queries = []
    for table in tables:
        source = ws.sources[table]
        date_col = DATE_COLUMN[table]
        if source.missing_required or date_col not in {m.canonical for m in source.columns}:
            queries.append(ws.scan_raw(table).select(
                pl.len().alias("rows"), pl.lit(None, pl.Date).alias("first_date"),
                pl.lit(None, pl.Date).alias("last_date")))
        else:
            day = pl.col(date_col).dt.date() if date_col == "timestamp" else pl.col(date_col)
            queries.append(ws.scan(table).select(
                pl.len().alias("rows"), day.min().alias("first_date"), day.max().alias("last_date")))
    return {t: frame.row(0, named=True) for t, frame in zip(tables, pl.collect_all(queries))}


UNREADABLE = "cannot be read: "  # a table's note when its file could not be read (Workspace.readable)


def inspect_workspace(ws: Workspace, known: dict[str, dict] | None = None) -> Result:
    """The workspace's tables and columns. `known`: tables whose table_counts() are already
    known (tui.checks remembers them per unchanged file); those tables are not read. A table
    whose file cannot be read is listed with its error as its note."""
    ws = ws.readable()
    tables = list(ws.sources)
    known = {t: v for t, v in (known or {}).items() if t in ws.sources}
    counts = {**table_counts(ws, [t for t in tables if t not in known]), **known}
    database_rows = _database_rows(ws)
    personal = workspace_personal_data(ws)  # names, emails, phones...: what --pseudonymise drops
    overview = pl.DataFrame([
        {"table": t, "file": ws.sources[t].shown_name, "why": ws.sources[t].why, "format": ws.sources[t].format,
         "engine": _engine(ws, t), "table_or_query": _table_or_query(ws.sources[t]),
         "rows": database_rows.get(t, counts[t]["rows"]), "columns": len(ws.sources[t].columns),
         "first_date": counts[t]["first_date"], "last_date": counts[t]["last_date"],
         **read_as(ws.sources[t]),
         "missing_required": ", ".join(ws.sources[t].missing_required),
         "notes": "; ".join((ws.sources[t].notice, *ws.sources[t].notes) if ws.sources[t].notice
                            else ws.sources[t].notes)}
        for t in tables
    ] + [{"table": t, "file": _file_name(ws, error), "notes": f"{UNREADABLE}{error}"}
         for t, error in ws.unreadable.items()],
        schema_overrides={"first_date": pl.Date, "last_date": pl.Date})
    columns = pl.DataFrame(
        [{"table": t, "column": m.canonical, "source_header": m.source, "dtype": m.dtype,
          "mapped_by": m.how, "required": m.canonical in c.TABLES[t].required,
          "date_format": m.detail if m.kind in (c.DATE, c.DATETIME) else "",
          "number_format": (m.number.describe() if m.number else
                            f"Likert labels: {scale}" if (scale := likert.scale_in(m.detail)) else
                            'written ="..." for Excel: the text inside' if m.detail == EXCEL_TEXT else ""),
          "personal_data": personal.get((t, m.canonical), "")}
         for t in tables for m in ws.sources[t].columns],
        schema={"table": pl.String, "column": pl.String, "source_header": pl.String, "dtype": pl.String,
                "mapped_by": pl.String, "required": pl.Boolean, "date_format": pl.String,
                "number_format": pl.String, "personal_data": pl.String},
    )
    absent = [t for t in c.TABLE_NAMES if t not in ws.sources and t not in ws.unreadable]
    return Result(
        name="data.inspect",
        title=f"Workspace {ws.name}",
        tables={"tables": overview, "columns": columns},
        headline={"workspace": str(ws.root), "tables_found": len(tables) + len(ws.unreadable), "engine": resolve(ws, None),
                  "tables_absent": ", ".join(absent) or "none",
                  **({"tables_unreadable": ", ".join(ws.unreadable)} if ws.unreadable else {}),
                  "personal_data_columns": sum(not k[1] == CUSTOMER_ID for k in personal)},
        notes=(*_personal_note(personal),
               *([f"files no table reads: {', '.join(ws.unread)}. A table under another file name is named in "
                  'loyalist.toml: [tables.<table>] file = "..."'] if ws.unread and absent else [])),
        params={"workspace": str(ws.root), "config": str(ws.config_path) if ws.config_path else None},
    )


def _file_name(ws: Workspace, error: LoyalistError) -> str | None:
    """The unreadable file's name as the tables list shows files: relative to the workspace."""
    file = getattr(error, "file", None)
    if not file:
        return None
    path = Path(file)
    return str(path.relative_to(ws.root)) if path.is_relative_to(ws.root) else file


def _engine(ws: Workspace, table: str) -> str:
    """Where the table's rows are read: Polars for files, else the database's engine; for
    transactions, where the per-customer reduction runs by default (core.engines)."""
    source = ws.sources[table]
    if table == "transactions":
        return resolve(ws, None)
    return source.database.database.engine if source.database else "polars"


def _table_or_query(source: TableSource) -> str:
    if source.database is None:
        return ""
    return source.database.table or " ".join(source.database.query.split())


def _database_rows(ws: Workspace) -> dict[str, int]:
    """Row counts of database tables, counted by the database (nothing pulled but the count)."""
    from core.database import count_rows

    return {t: count_rows(s.database) for t, s in ws.sources.items() if s.database is not None}


def _personal_note(personal: dict[tuple[str, str], str]) -> tuple[str, ...]:
    direct = [f"{t}.{c}" for t, c in personal if c != CUSTOMER_ID]
    if not direct:
        return ()
    return (f"{len(direct)} column{'s look' if len(direct) != 1 else ' looks'} like personal data ({', '.join(direct)}; see personal_data): "
            "--pseudonymise leaves them out of exports and hashes customer ids.",)
