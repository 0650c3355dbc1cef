"""Tables made safe and flat for files that spreadsheets open (CSV, TSV, XLSX).

Formula neutralisation (OWASP's "CSV injection" advice): a text cell that begins with
`=`, `+`, `-`, `@`, a tab or a carriage return could be run as a formula by Excel,
LibreOffice or Google Sheets, so it gets a leading apostrophe (`'=HYPERLINK(...)`).
Text that is a plain number (`-5`, `+3.25`, `-1,234.5`, `-12%`) is left as it is: a
spreadsheet reads it as that number, which is harmless. Numeric columns are never
touched. Column names get the same rule: a pivot table whose columns are data values
(channel overlap, segment migration) would otherwise carry a `=HYPERLINK(...)` header.
"""

from __future__ import annotations

import polars as pl

FORMULA_START = r"^[=+\-@\t\r]"
PLAIN_NUMBER = r"^[+-]?(\d[\d,]*(\.\d*)?|\.\d+)([eE][+-]?\d+)?%?$"


def neutralise_formulas(df: pl.DataFrame) -> pl.DataFrame:
    text = [name for name, dtype in df.schema.items() if dtype == pl.String]
    if not text:
        return df
    return df.with_columns(
        pl.when(pl.col(c).str.contains(FORMULA_START) & ~pl.col(c).str.contains(PLAIN_NUMBER))
        .then(pl.lit("'") + pl.col(c))
        .otherwise(pl.col(c))
        .alias(c)
        for c in text
    )


def neutralise_text(value: str) -> str:
    """The same rule for one string (sheet titles, headline values)."""
    frame = neutralise_formulas(pl.DataFrame({"v": [value]}, schema={"v": pl.String}))
    return frame.item()


def neutralise_headers(df: pl.DataFrame) -> pl.DataFrame:
    """Formula-looking column names get the leading apostrophe too (CSV/TSV header rows)."""
    renamed = {name: neutralise_text(name) for name in df.columns}
    taken = set(df.columns)
    for old, new in renamed.items():
        while new != old and new in taken:  # never two columns of one name
            new = "'" + new
        renamed[old] = new
        taken.add(new)
    return df.rename({old: new for old, new in renamed.items() if old != new})


def flatten(df: pl.DataFrame) -> pl.DataFrame:
    """Columns a flat file cannot hold become text (lists, structs) or plain numbers."""
    exprs = []
    for name, dtype in df.schema.items():
        col = pl.col(name)
        if isinstance(dtype, (pl.List, pl.Array, pl.Struct)):
            exprs.append(_json_text(col, dtype).alias(name))
        elif isinstance(dtype, (pl.Categorical, pl.Enum)) or dtype in (pl.Time, pl.Null, pl.Object, pl.Binary):
            exprs.append(col.cast(pl.String) if dtype != pl.Object else col.map_elements(str, pl.String))
        elif isinstance(dtype, pl.Duration):
            exprs.append(col.dt.total_microseconds().cast(pl.Float64) / 1e6)  # seconds, as in JSON
    return df.with_columns(exprs) if exprs else df


def _json_text(col: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    wrapped = col if isinstance(dtype, pl.Struct) else pl.struct(col.alias("v"))
    text = wrapped.struct.json_encode()
    if not isinstance(dtype, pl.Struct):  # the wrapper gives {"v":[...]}; keep the list only
        text = text.str.strip_prefix('{"v":').str.strip_suffix("}")
    return pl.when(col.is_not_null()).then(text)


def for_spreadsheet(df: pl.DataFrame) -> pl.DataFrame:
    """Cells flattened and neutralised (headers are left to the writer: see neutralise_headers)."""
    return neutralise_formulas(flatten(df))
