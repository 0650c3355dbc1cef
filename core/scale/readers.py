"""Read a stand-alone table (items to check, Delphi ratings) with numbers typed as numbers.

Outside a workspace there is no contract to coerce by, so a text column whose every
non-empty value is a number becomes Float64; everything else stays text.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from core.readers import scan_file


def read_table(path: str | Path) -> pl.DataFrame:
    frame = scan_file(Path(path)).collect()
    casts = []
    for name, dtype in frame.schema.items():
        if dtype != pl.String or name == "customer_id":
            continue
        text = pl.col(name).str.strip_chars()
        present = frame.select((text.is_not_null() & (text != "")).sum()).item()
        number = pl.when(text == "").then(None).otherwise(text).cast(pl.Float64, strict=False)
        parsed = frame.select(number.is_not_null().sum()).item()
        if present and parsed == present:
            casts.append(number.alias(name))
    return frame.with_columns(casts) if casts else frame
