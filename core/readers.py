"""Read a data file of any supported format into a raw LazyFrame (source headers).

CSV/TSV and NDJSON are scanned lazily. Formats Polars cannot scan (XLSX, JSON arrays,
CSV in a non-UTF-8 encoding) are read once into memory and handed on as a LazyFrame;
`loyalist data convert` (Parquet) is the fast path for those at scale.
"""

from __future__ import annotations

import codecs
import io
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from core.errors import InputError

FORMATS = {
    ".csv": "csv", ".tsv": "csv", ".txt": "csv", ".parquet": "parquet", ".pq": "parquet",
    ".json": "json", ".ndjson": "ndjson", ".jsonl": "ndjson", ".xlsx": "xlsx", ".xlsm": "xlsx",
}
DELIMITERS = (",", "\t", ";", "|")
SNIFF_BYTES = 1 << 16


@dataclass(frozen=True)
class ReadOptions:
    encoding: str | None = None  # forced encoding; detected when None
    delimiter: str | None = None  # forced delimiter; detected when None
    sheet: str | None = None  # XLSX sheet name; the first sheet when None


def file_format(path: Path) -> str | None:
    return FORMATS.get(path.suffix.lower())


def detect_encoding(head: bytes, path: Path) -> str:
    """UTF-8 (with or without BOM) or GB18030, judged on the first bytes of the file."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    for encoding in ("utf-8", "gb18030"):
        try:
            # A multi-byte character may be cut at the end of the sample.
            codecs.getincrementaldecoder(encoding)().decode(head, final=False)
            return encoding
        except UnicodeDecodeError:
            continue
    raise InputError(
        "text is neither UTF-8 nor GB18030",
        file=str(path),
        fix='set encoding = "latin-1" (or the file\'s real encoding) for this table in loyalist.toml',
    )


def detect_delimiter(first_line: str, path: Path) -> str:
    counts = {d: first_line.count(d) for d in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    if counts[best] == 0:
        return "\t" if path.suffix.lower() == ".tsv" else ","
    return best


def _decode(path: Path, encoding: str) -> str:
    try:
        return path.read_bytes().decode(encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        raise InputError(
            f"cannot be read as {encoding}: {exc}",
            file=str(path),
            fix="set encoding for this table in loyalist.toml to the file's real encoding",
        ) from None


def scan_file(path: Path, options: ReadOptions = ReadOptions()) -> pl.LazyFrame:
    """A raw LazyFrame of the file with its own headers; text formats read as strings."""
    fmt = file_format(path)
    if not path.is_file():
        raise InputError("file not found", file=str(path), fix="check the path in loyalist.toml")
    if path.stat().st_size == 0:
        raise InputError("the file is empty", file=str(path), fix="export the table again, with a header row")
    try:
        if fmt == "csv":
            return _scan_csv(path, options)
        if fmt == "parquet":
            return pl.scan_parquet(path)
        if fmt == "ndjson":
            return pl.scan_ndjson(path, infer_schema_length=None)
        if fmt == "json":
            text = path.read_text(encoding=options.encoding or "utf-8-sig").lstrip()
            if not text.startswith("["):
                return pl.read_ndjson(io.StringIO(text), infer_schema_length=None).lazy()
            return pl.read_json(io.StringIO(text), infer_schema_length=None).lazy()
        if fmt == "xlsx":
            kwargs = {"sheet_name": options.sheet} if options.sheet else {"sheet_id": 1}
            return pl.read_excel(path, engine="calamine", **kwargs).lazy()
    except InputError:
        raise
    except Exception as exc:  # a library's parse error, told in the analyst's terms
        raise InputError(
            f"cannot be read as {fmt}: {str(exc).splitlines()[0]}",
            file=str(path), fix="check that the file is complete and of the type its extension says",
        ) from None
    raise InputError(
        f"unsupported file type {path.suffix!r}",
        file=str(path), fix="use CSV, TSV, Parquet, JSON, NDJSON or XLSX",
    )


def _scan_csv(path: Path, options: ReadOptions) -> pl.LazyFrame:
    with path.open("rb") as handle:
        head = handle.read(SNIFF_BYTES)
    encoding = options.encoding or detect_encoding(head, path)
    utf8 = codecs.lookup(encoding).name in ("utf-8", "utf-8-sig")
    if utf8:
        first_line = head.decode("utf-8", errors="ignore").lstrip("\ufeff").splitlines()[0] if head.strip() else ""
    else:
        text = _decode(path, encoding)
        first_line = text.splitlines()[0] if text else ""
    if not first_line.strip():
        raise InputError("the file has no header row", file=str(path), fix="the first line must name the columns")
    sep = options.delimiter or detect_delimiter(first_line, path)
    if utf8:
        return pl.scan_csv(path, separator=sep, infer_schema=False, encoding="utf8")
    return pl.read_csv(io.BytesIO(text.encode("utf-8")), separator=sep, infer_schema=False).lazy()


def explain_read_error(exc: Exception, path: Path, options: ReadOptions = ReadOptions()) -> InputError:
    """Turn a Polars read failure into an error naming the file, the rows and a fix."""
    first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if file_format(path) == "csv" and "fields" in first_line:
        rows = ragged_rows(path, options)
        return InputError(
            "rows with a different number of fields than the header", file=str(path), rows=rows,
            fix="quote values that contain the delimiter, or remove the extra fields on these rows",
        )
    return InputError(f"cannot be read: {first_line}", file=str(path),
                      fix="check that the file is complete and of the type its extension says")


def ragged_rows(path: Path, options: ReadOptions, limit: int = 5) -> tuple[int, ...]:
    """Row numbers (header = 1) whose field count differs from the header's. Error path only."""
    import csv

    with path.open("rb") as handle:
        head = handle.read(SNIFF_BYTES)
    encoding = options.encoding or detect_encoding(head, path)
    with path.open(encoding=encoding, newline="") as handle:
        reader = csv.reader(handle, delimiter=options.delimiter or detect_delimiter(handle.readline(), path))
        handle.seek(0)
        width = len(next(reader, []))
        bad = [reader.line_num for row in reader if row and len(row) != width]
    return tuple(bad[:limit])
