"""Read a data file of any supported format into a raw LazyFrame (source headers).

CSV/TSV and NDJSON are scanned lazily. Formats Polars cannot scan (XLSX, JSON arrays,
CSV in a non-UTF-8 encoding) are read once into memory and handed on as a LazyFrame;
`loyalist data convert` (Parquet) is the fast path for those at scale.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from core.errors import InputError
from core.sniff import TextFormat, detect_encoding, sniff_text

FORMATS = {
    ".csv": "csv", ".tsv": "csv", ".txt": "csv", ".parquet": "parquet", ".pq": "parquet",
    ".json": "json", ".ndjson": "ndjson", ".jsonl": "ndjson", ".xlsx": "xlsx", ".xlsm": "xlsx",
}


@dataclass(frozen=True)
class ReadOptions:
    encoding: str | None = None  # forced encoding; detected when None
    delimiter: str | None = None  # forced delimiter; detected when None
    sheet: str | None = None  # XLSX sheet name; the first sheet when None


def file_format(path: Path) -> str | None:
    return FORMATS.get(path.suffix.lower())


def text_format(path: Path, options: ReadOptions = ReadOptions()) -> TextFormat | None:
    """How a CSV/TSV file is written (encoding, delimiter, line end); None for other formats."""
    if file_format(path) != "csv":
        return None
    return sniff_text(path, options.encoding, options.delimiter)


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
            return _scan_parquet(path)
        if fmt == "ndjson":
            return pl.scan_ndjson(path, infer_schema_length=None)
        if fmt == "json":
            text = path.read_bytes().decode(options.encoding or detect_encoding(path)[0]).lstrip()
            if not text.startswith("["):
                return pl.read_ndjson(io.StringIO(text), infer_schema_length=None).lazy()
            return pl.read_json(io.StringIO(text), infer_schema_length=None).lazy()
        if fmt == "xlsx":
            kwargs = {"sheet_name": options.sheet} if options.sheet else {"sheet_id": 1}
            # Types judged on the whole column: a column of date cells with text dates further
            # down is read as text (both parsed later), not as dates with the text made null.
            frame = pl.read_excel(path, engine="calamine", infer_schema_length=None, **kwargs)
            if any(name.startswith(UNNAMED) for name in frame.columns):  # a title in the header row?
                _refuse_title_rows(path, kwargs)
            if frame.height == 0 and not options.sheet:
                _refuse_empty_first_sheet(path, frame.columns)
            if _maybe_renamed(frame.columns):  # Amount, Amount_1: read the header row as written
                _refuse_duplicate_headers(path, _xlsx_header(path, kwargs))
            return frame.lazy()
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


def _scan_parquet(path: Path) -> pl.LazyFrame:
    """Parquet, refused at once when its footer (schema) is unreadable: garbage or cut short."""
    frame = pl.scan_parquet(path)
    try:
        frame.collect_schema()
    except pl.exceptions.PolarsError as exc:
        raise InputError(
            f"is not a complete Parquet file ({str(exc).strip().splitlines()[0]})", file=str(path),
            fix="the file is cut short or not Parquet: copy or export it again "
            "(a copy made by `loyalist data convert` can be deleted and converted again)",
        ) from None
    return frame


def _scan_csv(path: Path, options: ReadOptions) -> pl.LazyFrame:
    text = sniff_text(path, options.encoding, options.delimiter)
    _refuse_duplicate_headers(path, _csv_header(path, text))
    if text.utf8:
        return pl.scan_csv(path, separator=text.delimiter, eol_char=text.eol, infer_schema=False,
                           encoding="utf8")
    data = _decode(path, text.encoding).encode("utf-8")
    return pl.read_csv(io.BytesIO(data), separator=text.delimiter, eol_char=text.eol, infer_schema=False).lazy()


HEAD_BYTES = 1 << 20  # a CSV's first rows are read from this many leading bytes when they hold them


def csv_head(path: Path, text: TextFormat, rows: int) -> pl.DataFrame | None:
    """The first `rows` rows of a UTF-8 CSV as _scan_csv reads them (all text), parsed from
    the file's first bytes instead of a scan, which costs a pass over the file's line ends.
    None when those bytes do not hold `rows` whole rows after the header, or do not parse:
    the caller reads them from the scan, which also raises the usual errors."""
    eol = text.eol.encode()
    with path.open("rb") as handle:
        data = handle.read(HEAD_BYTES)
        whole = not handle.read(1)
    if not whole:
        data = data[:data.rfind(eol) + 1]  # whole lines only; rows past `rows` are dropped anyway
    try:
        head = pl.read_csv(io.BytesIO(data), separator=text.delimiter, eol_char=text.eol, infer_schema=False,
                           encoding="utf8")
    except (pl.exceptions.PolarsError, ValueError):
        return None
    if not whole and head.height <= rows:  # the last line read may be cut inside a quoted value
        return None
    return head.head(rows)


def _csv_header(path: Path, text: TextFormat) -> list[str]:
    with path.open(encoding=text.encoding, errors="replace", newline="") as handle:
        return next(csv.reader(handle, delimiter=text.delimiter), [])


def _maybe_renamed(columns: list[str]) -> bool:
    """The reader names a second `Amount` column `Amount_1`."""
    names = set(columns)
    return any(name.rpartition("_")[0] in names for name in columns if name.rpartition("_")[2].isdigit())


UNNAMED = "__UNNAMED__"  # the spreadsheet reader's name for a column with a blank header cell


def _refuse_title_rows(path: Path, kwargs: dict) -> None:
    """A sheet whose table starts below a title (a report's name and date): its header is not the
    first row. Counted without the blank rows, which the reader skips, so no row numbers."""
    first = pl.read_excel(path, engine="calamine", has_header=False,
                          read_options={"n_rows": PREAMBLE_LINES + PREAMBLE_ROWS}, **kwargs)
    rows = [["" if v is None else str(v) for v in row] for row in first.iter_rows()]
    above = _title_lines(list(enumerate(rows, start=1)))
    if above:
        header = [v for v in rows[len(above)] if v]
        raise InputError(
            f"the sheet has title rows above its header ({rows[0][0]!r} ...); the header is the row "
            f"that starts {', '.join(header[:3])}", file=str(path),
            fix="delete the rows above the header in the spreadsheet, so that the header is its first row")


def _refuse_empty_first_sheet(path: Path, columns: list[str]) -> None:
    """A workbook whose first sheet is a cover or summary: the table is on another sheet."""
    import fastexcel  # polars' calamine reader

    sheets = fastexcel.read_excel(path).sheet_names
    if len(sheets) > 1:
        raise InputError(
            f"the first sheet, {sheets[0]!r}, has no rows under its first row ({', '.join(columns[:3])}); the "
            f"workbook's sheets are {', '.join(repr(s) for s in sheets)}", file=str(path),
            fix=f'name the sheet that holds the table in loyalist.toml: sheet = "{sheets[1]}" under '
                "the table's [tables.<name>]")


def _xlsx_header(path: Path, kwargs: dict) -> list[str]:
    first = pl.read_excel(path, engine="calamine", has_header=False, read_options={"n_rows": 1}, **kwargs)
    return [str(v) for v in first.row(0)] if first.height else []


def _refuse_duplicate_headers(path: Path, headers: list[str]) -> None:
    """Two columns named alike would be renamed (`Amount_1`) and one of them read silently."""
    seen: dict[str, int] = {}
    for position, header in enumerate(headers, start=1):
        name = header.strip()
        if not name:
            continue  # blank headers from trailing delimiters: columns of nothing
        if name in seen:
            raise InputError(
                f"two columns are named {name!r} (columns {seen[name]} and {position})",
                file=str(path), column=name,
                fix="rename one of them in the file, so each header says what its column holds",
            )
        seen[name] = position


def explain_read_error(exc: Exception, path: Path, options: ReadOptions = ReadOptions()) -> InputError:
    """Turn a Polars read failure into an error naming the file, the rows and a fix."""
    first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if file_format(path) == "csv" and "utf-8" in first_line.lower():
        return InputError(
            "the file starts as UTF-8 but holds text in another encoding further on",
            file=str(path), rows=first_non_utf8_row(path),
            fix='set encoding = "cp1252" (or the file\'s real encoding, e.g. "gb18030") for this '
            "table in loyalist.toml, or export it again as UTF-8",
        )
    if file_format(path) == "csv" and "fields" in first_line:
        above = lines_above_header(path, options)
        if above:
            return InputError(
                f"the file starts with {len(above)} line{'s' if len(above) > 1 else ''} above its header (a report "
                f"title?): line {above[-1] + 1} looks like the header, its fields as many as the rows below",
                file=str(path), rows=above,
                fix=f"delete the first {len(above)} line{'s' if len(above) > 1 else ''} of the file, so that the "
                    "header is its first line")
        rows = ragged_rows(path, options)
        return InputError(
            "rows with a different number of fields than the header", file=str(path), rows=rows,
            fix="quote values that contain the delimiter, or remove the extra fields on these rows",
        )
    return InputError(f"cannot be read: {first_line}", file=str(path),
                      fix="check that the file is complete and of the type its extension says")


def first_non_utf8_row(path: Path) -> tuple[int, ...]:
    """The line number (header = 1) of the first line that is not UTF-8. Error path only."""
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                return (number,)
    return ()


PREAMBLE_LINES = 20  # title lines a report export may put above its header, at most
PREAMBLE_ROWS = 50  # the rows below them that must agree on their field count


def lines_above_header(path: Path, options: ReadOptions) -> tuple[int, ...]:
    """The line numbers (1, 2, ...) of title lines above a CSV's header (_title_lines). Error path only."""
    text = sniff_text(path, options.encoding, options.delimiter)
    with path.open(encoding=text.encoding, errors="replace", newline="") as handle:
        reader = csv.reader(handle, delimiter=text.delimiter)
        numbered = []
        for row in reader:
            numbered.append((reader.line_num, row))
            if len(numbered) >= PREAMBLE_LINES + PREAMBLE_ROWS:
                break
    return _title_lines(numbered)


def _title_lines(numbered: list[tuple[int, list[str]]]) -> tuple[int, ...]:
    """The numbers of the lines above a table's header: lines with fewer filled fields than the first
    line that could be a header (every field a name, none a number: a data row with a trailing
    delimiter is no header) and starts up to PREAMBLE_ROWS rows of its field count (blank lines aside;
    a row's trailing fields may be empty)."""
    lines = []  # (number, fields (0 when blank), fields up to the last filled one, could be a header)
    for number, row in numbered:
        filled = [bool(v.strip()) for v in row]
        width = max((i + 1 for i, f in enumerate(filled) if f), default=0)
        named = width == len(row) and all(filled) and not any(map(_is_number, row))
        lines.append((number, len(row) if width else 0, width, named))
    for start in range(1, min(PREAMBLE_LINES, len(lines) - 1) + 1):
        _, fields, width, named = lines[start]
        below = [n for _, n, _, _ in lines[start:start + PREAMBLE_ROWS] if n]
        if (named and width > 1 and all(n == fields for n in below)
                and all(filled < width for _, _, filled, _ in lines[:start])):
            return tuple(number for number, *_ in lines[:start])
    return ()


def _is_number(text: str) -> bool:
    try:
        float(text.replace(",", "."))
    except ValueError:
        return False
    return True


def ragged_rows(path: Path, options: ReadOptions, limit: int = 5) -> tuple[int, ...]:
    """Row numbers (header = 1) whose field count differs from the header's. Error path only."""

    text = sniff_text(path, options.encoding, options.delimiter)
    with path.open(encoding=text.encoding, errors="replace", newline="") as handle:
        reader = csv.reader(handle, delimiter=text.delimiter)
        width = len(next(reader, []))
        bad = [reader.line_num for row in reader if row and len(row) != width]
    return tuple(bad[:limit])
