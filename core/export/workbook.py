"""XLSX workbooks: a Summary sheet, then one sheet per table, finished for a reader.

Each table sheet has a styled, frozen header row with a filter, number formats from the
column-kind rule (core.export.columns), dates as real dates, and columns fitted to their
contents (East Asian characters count double). Text is neutralised against formulas.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
from pathlib import Path
from typing import Any

import polars as pl

from core import __version__
from core.errors import InputError
from core.export import columns as k
from core.export.cells import for_spreadsheet, neutralise_text
from core.export.display import format_value, label, parameter_rows, provenance
from core.export.document import Document
from core.result import jsonable

MAX_ROWS = 1_048_575  # Excel's row limit less the header row
MIN_WIDTH, MAX_WIDTH = 8, 60
NUMBER_FORMATS = {
    k.MONEY: "#,##0.00",
    k.PERCENT: "0.0%",
    k.POINTS: '0.0"%"',
    k.COUNT: "#,##0",
    k.ID: "0",
    k.DATE: "yyyy-mm-dd",
    k.DATETIME: "yyyy-mm-dd hh:mm:ss",
}
# East Asian wide characters (Hangul, CJK, kana, full-width forms): two columns each in Excel.
WIDE_CHARS = (r"[\u1100-\u115F\u2E80-\u303E\u3041-\u33FF\u3400-\u4DBF\u4E00-\u9FFF\uA000-\uA4CF"
              r"\uAC00-\uD7A3\uF900-\uFAFF\uFE30-\uFE4F\uFF00-\uFF60\uFFE0-\uFFE6]")
SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
HEADER_FILL = "#1F4E79"


def write_workbook(document: Document, path: Path) -> None:
    import xlsxwriter  # imported here: only workbook exports pay for it

    options = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False,
               "remove_timezone": True, "nan_inf_to_errors": True, "in_memory": True}
    # Built in memory and written in one go: on a full disk the write fails in plain Python
    # (a clear error from core.export.safe), not inside a half-closed zip file.
    buffer = io.BytesIO()
    with xlsxwriter.Workbook(buffer, options) as book:
        book.set_properties({"title": document.title, "comments": f"Made with Loyalist {__version__}"})
        styles = _Styles(book)
        sheets = sheet_names(document)
        contents = book.add_worksheet(sheets.pop(0)) if document.is_bundle else None
        summary = book.add_worksheet(sheets.pop(0))
        for (i, table), name in zip(_tables(document), sheets):
            _write_table(book.add_worksheet(name), document.results[i].tables[table], styles)
        sheet_of = dict(zip(_tables(document), sheets))
        _write_summary(summary, document, styles, sheet_of)
        if contents is not None:
            _write_contents(contents, document, styles, sheet_of, summary.name)
    path.write_bytes(buffer.getbuffer())


def _tables(document: Document) -> list[tuple[int, str]]:
    """(index of the result, table name) for every table, in order."""
    return [(i, table) for i, result in enumerate(document.results) for table in result.tables]


def sheet_names(document: Document) -> list[str]:
    """"Summary" (a bundle: "Contents", "Summary") then one name per table: valid in Excel
    (31 characters, no []:*?/\\), unique."""
    wanted = ["Contents", "Summary"] if document.is_bundle else ["Summary"]
    for i, table in _tables(document):
        short = document.results[i].name.rsplit(".", 1)[-1]
        wanted.append(f"{short} {table}" if document.is_bundle else table)
    used: set[str] = set()
    names = []
    for want in wanted:
        base = SHEET_FORBIDDEN.sub("_", want).strip("'").strip() or "table"
        if base.lower() == "history":  # reserved by Excel
            base = "history_"
        name, n = base[:31], 1
        while name.lower() in used:
            n += 1
            suffix = f" ({n})"
            name = base[:31 - len(suffix)] + suffix
        used.add(name.lower())
        names.append(name)
    return names


class _Styles:
    def __init__(self, book: Any) -> None:
        self.book = book
        self.header = book.add_format({"bold": True, "font_color": "#FFFFFF", "bg_color": HEADER_FILL,
                                       "text_wrap": True, "valign": "vcenter", "border": 1,
                                       "border_color": "#BFBFBF"})
        self.title = book.add_format({"bold": True, "font_size": 16, "font_color": HEADER_FILL})
        self.section = book.add_format({"bold": True, "font_size": 13, "font_color": HEADER_FILL,
                                        "bottom": 1, "bottom_color": HEADER_FILL})
        self.key = book.add_format({"font_color": "#595959", "valign": "top"})
        self.subhead = book.add_format({"bold": True})
        self.wrap = book.add_format({"text_wrap": True, "valign": "top"})
        self.muted = book.add_format({"italic": True, "font_color": "#7F7F7F"})
        self.link = book.add_format({"font_color": "#0563C1", "underline": 1})
        self._kinds: dict[str, Any] = {}

    def kind(self, kind: str) -> Any:
        if kind not in self._kinds:
            number = NUMBER_FORMATS.get(kind)
            self._kinds[kind] = self.book.add_format({"num_format": number} if number else {})
        return self._kinds[kind]


def _write_table(ws: Any, df: pl.DataFrame, styles: _Styles) -> None:
    if df.height > MAX_ROWS:
        raise InputError(f"a table has {df.height:,} rows, more than an Excel sheet holds",
                         fix="write it to .csv or .parquet instead")
    kinds = k.kinds(df)
    flat = _clean_numbers(for_spreadsheet(df))
    for col, name in enumerate(flat.columns):
        ws.write_string(0, col, neutralise_text(name), styles.header)
        if flat.height:
            ws.write_column(1, col, flat[name].to_list(), styles.kind(kinds[name]))
        ws.set_column(col, col, _fitted_width(flat, name, kinds[name]))
    ws.set_row(0, 30 if any(_text_width(n) + 2 > MAX_WIDTH for n in flat.columns) else None)
    ws.freeze_panes(1, 0)
    if flat.width:
        ws.autofilter(0, 0, max(flat.height, 1), flat.width - 1)


def _clean_numbers(df: pl.DataFrame) -> pl.DataFrame:
    # NaN and infinities have no cell value in Excel: they become empty cells.
    floats = [n for n, t in df.schema.items() if t.is_float()]
    return df.with_columns(
        pl.when(pl.col(n).is_finite()).then(pl.col(n)).alias(n) for n in floats
    ) if floats else df


def _fitted_width(df: pl.DataFrame, name: str, kind: str) -> float:
    header = _text_width(name) * 1.1  # bold
    col = df[name]
    if col.dtype == pl.String:
        data = df.select(
            (pl.col(name).str.len_chars() + pl.col(name).str.count_matches(WIDE_CHARS)).max()
        ).item() or 0
    elif kind in (k.DATE,):
        data = 10
    elif kind == k.DATETIME:
        data = 19
    elif kind == k.BOOLEAN:
        data = 5
    elif col.dtype.is_numeric():
        data = _number_width(col, kind)
    else:
        data = 12
    return float(min(MAX_WIDTH, max(MIN_WIDTH, min(header, 30), data) + 2))


def _number_width(col: pl.Series, kind: str) -> int:
    values = [v for v in (col.min(), col.max()) if v is not None and not (isinstance(v, float) and math.isnan(v))]
    if not values:
        return 4
    widths = []
    for v in values:
        if kind == k.MONEY:
            widths.append(len(f"{v:,.2f}"))
        elif kind in (k.PERCENT, k.POINTS):
            widths.append(len(f"{v * (100 if kind == k.PERCENT else 1):,.1f}%"))
        elif kind == k.COUNT:
            widths.append(len(f"{v:,}"))
        elif kind == k.ID:
            widths.append(len(str(v)))
        else:
            widths.append(min(len(repr(v)), 12))  # Excel's General shows at most 11 digits
    return max(widths)


def _text_width(text: str) -> int:
    return len(text) + len(re.findall(WIDE_CHARS, text))


def _write_summary(ws: Any, document: Document, styles: _Styles, sheet_of: dict[tuple[int, str], str]) -> None:
    ws.set_column(0, 0, 30)
    ws.set_column(1, 1, 60)
    ws.write_string(0, 0, neutralise_text(document.title), styles.title)
    made = f"Made with Loyalist {__version__} on {document.created}"
    ws.write_string(1, 0, made + (f" from {document.source}" if document.source else ""), styles.muted)
    row = 3
    for i, result in enumerate(document.results):
        if document.is_bundle:
            ws.merge_range(row, 0, row, 1, neutralise_text(result.title), styles.section)
            row += 1
        for key, value in provenance(result).items():
            row = _pair(ws, row, key, value, styles)
        row = _block(ws, row + 1, "Headline figures", styles)
        for key, value in result.headline.items():
            _cell_value(ws, row, 1, key, value, styles)
            ws.write_string(row, 0, neutralise_text(label(key)), styles.key)
            row += 1
        if result.notes:
            row = _block(ws, row + 1, "Notes", styles)
            for note in result.notes:
                ws.merge_range(row, 0, row, 1, neutralise_text(note), styles.wrap)
                ws.set_row(row, 15 * max(1, math.ceil(_text_width(note) / 95)))
                row += 1
        if result.params:
            row = _block(ws, row + 1, "Parameters", styles)
            for key, value in parameter_rows(result):
                row = _pair(ws, row, key, value, styles)
        row = _block(ws, row + 1, "Tables", styles)
        for table in result.tables:
            sheet = sheet_of[(i, table)]
            ws.write_url(row, 0, f"internal:'{sheet}'!A1", styles.link, string=sheet)
            ws.write_string(row, 1, f"{result.tables[table].height:,} rows", styles.key)
            row += 1
        row += 2


def _write_contents(ws: Any, document: Document, styles: _Styles, sheet_of: dict[tuple[int, str], str],
                    summary: str) -> None:
    """A bundle's first sheet: each section with its analysis, as-of date and workspace, and a
    link to every sheet of its tables."""
    ws.set_column(0, 0, 5)
    ws.set_column(1, 1, 40)
    ws.set_column(2, 4, 24)
    ws.set_column(5, 5, 34)
    ws.write_string(0, 0, neutralise_text(document.title), styles.title)
    ws.write_url(1, 0, f"internal:'{summary}'!A1", styles.link, string="Headline figures, notes and parameters "
                 "of every section: the Summary sheet")
    for col, head in enumerate(("#", "Section", "Analysis", "As of", "Workspace", "Sheets")):
        ws.write_string(3, col, head, styles.header)
    row = 4
    for i, result in enumerate(document.results):
        facts = provenance(result)
        ws.write_number(row, 0, i + 1)
        ws.write_string(row, 1, neutralise_text(result.title), styles.wrap)
        ws.write_string(row, 2, neutralise_text(result.name))
        ws.write_string(row, 3, neutralise_text(facts["As of"]), styles.wrap)
        ws.write_string(row, 4, neutralise_text(facts["Workspace"]), styles.wrap)
        tables = list(result.tables) or [None]
        for table in tables:
            if table is None:
                ws.write_string(row, 5, "no tables", styles.muted)
            else:
                sheet = sheet_of[(i, table)]
                ws.write_url(row, 5, f"internal:'{sheet}'!A1", styles.link, string=sheet)
            row += 1
    ws.freeze_panes(4, 0)


def _block(ws: Any, row: int, title: str, styles: _Styles) -> int:
    ws.write_string(row, 0, title, styles.subhead)
    return row + 1


def _pair(ws: Any, row: int, key: str, value: str, styles: _Styles) -> int:
    ws.write_string(row, 0, neutralise_text(key), styles.key)
    ws.write_string(row, 1, neutralise_text(value), styles.wrap)
    return row + 1


def _cell_value(ws: Any, row: int, col: int, key: str, value: Any, styles: _Styles) -> None:
    value = jsonable(value) if not isinstance(value, (dt.date, dt.datetime)) else value
    if isinstance(value, bool):
        ws.write_boolean(row, col, value)
    elif isinstance(value, (int, float)):
        ws.write_number(row, col, value, styles.kind(k.value_kind(key, value)))
    elif isinstance(value, dt.datetime):
        ws.write_datetime(row, col, value.replace(tzinfo=None), styles.kind(k.DATETIME))
    elif isinstance(value, dt.date):
        ws.write_datetime(row, col, value, styles.kind(k.DATE))
    elif value is None:
        ws.write_string(row, col, "—")
    else:  # text, and lists such as a confidence interval
        ws.write_string(row, col, neutralise_text(format_value(value, k.value_kind(key, value))))
