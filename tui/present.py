"""Shape core Results into the frames the Data screen shows (selection and labels only).

No analysis happens here: these pick rows and columns out of `data.inspect` and
`data.validate` Results so the widgets can render them as they are.
"""

from __future__ import annotations

import polars as pl
from rich.text import Text

from core.result import Result

# The file goes last: at 80 columns it is the one cut off (the browser caption names it).
TABLE_LABELS = {"table": "table", "rows": "rows", "first_date": "from", "last_date": "to",
                "issues": "issues", "file": "file"}
MAPPING_LABELS = {"column": "column", "source_header": "source header", "dtype": "dtype",
                  "mapped_by": "mapped by", "required": "required", "date_format": "date format",
                  "number_format": "number format"}


def plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def issue_text(errors: int, warnings: int) -> str:
    parts = [plural(errors, "error")] if errors else []
    parts += [plural(warnings, "warning")] if warnings else []
    return ", ".join(parts) or "ok"


def issue_counts(findings: pl.DataFrame) -> dict[str, tuple[int, int]]:
    """(errors, warnings) per table with findings: a Polars query, run by the checks' worker
    (tui.screens.data.Validated) rather than the UI thread."""
    errors = dict(findings.filter(pl.col("severity") == "error")["table"].value_counts().iter_rows())
    warnings = dict(findings.filter(pl.col("severity") == "warning")["table"].value_counts().iter_rows())
    return {t: (errors.get(t, 0), warnings.get(t, 0)) for t in errors.keys() | warnings.keys()}


def tables_overview(inspected: Result, counts: dict[str, tuple[int, int]] | None) -> pl.DataFrame:
    """One row per table; `issues` reads "checking…" until validation has run (`counts`:
    issue_counts). Built from the inspected columns as they are, without a Polars query: the
    UI thread runs it, and a query waits for Polars' threads, busy with the rest of the rows
    (20-30 ms of stall with a CSV)."""
    tables = inspected.tables["tables"]
    issues = ["checking…" if counts is None else issue_text(*counts.get(t, (0, 0))) for t in tables["table"].to_list()]
    return pl.DataFrame([pl.Series("issues", issues, dtype=pl.String) if c == "issues" else tables[c]
                         for c in TABLE_LABELS])


def mapping_for(inspected: Result, table: str) -> pl.DataFrame:
    """The mapping tab's rows for `table` (a Polars query: tui.screens.data.Inspected runs it
    for every table in the checks' worker)."""
    columns = inspected.tables["columns"]
    return columns.filter(pl.col("table") == table).select(list(MAPPING_LABELS))


def read_as(info: dict) -> str:
    """How the file was read, short: its encoding, and the decimal comma when it has one."""
    parts = [str(info.get("encoding") or "").split(" (")[0]]
    if 'decimal ","' in str(info.get("numbers") or ""):
        parts.append('decimal ","')
    return ", ".join(p for p in parts if p)


def table_row(inspected: Result, table: str) -> dict:
    rows = inspected.tables["tables"].filter(pl.col("table") == table)
    return rows.row(0, named=True) if rows.height else {}


def alerts_text(result: Result) -> Text:
    """One line per fired alert of `loyalist alerts`: its figure, comparison and audience."""
    from core.export.display import printable

    h = result.headline
    text = Text(f"Alerts: {h['fired']} of {plural(h['rules'], 'rule')} fired")
    for row in result.tables["alerts"].filter(pl.col("fired")).iter_rows(named=True):
        change = f" ({row['relative_change']:+.1%})" if row["relative_change"] is not None else ""
        text.append(f"\n  {printable(row['alert'])}: {row['figure']:,.0f} against {row['comparison']:,.0f}"
                    f"{change}, {plural(row['customers'], 'customer')} (loyalist alerts --output FILE)")
    return text
