"""A workspace: the analyst's tables, how their columns map, and options.

A workspace is a folder whose files are named after the contract's tables
(`transactions.csv`, `customers.parquet`, ...), or a `loyalist.toml` that names files,
column mappings and read options:

    time_zone = "Asia/Shanghai"   # times with an offset (Z, +08:00) are converted to it
    [tables.transactions]
    file = "sales 2024.csv"
    encoding = "gb18030"          # detected when absent (core/sniff.py): UTF-8/16 (BOM or not), GB18030, cp1252
    delimiter = ";"               # detected when absent
    decimal = ","                 # detected per column when absent (12,50 or 12.50)
    thousands = ","               # settles 1,234 when no value in the column tells
    date_format = "%d/%m/%Y"      # for dates whose day/month order is ambiguous (codes checked)
    [tables.transactions.columns]
    customer_id = "CustID"        # canonical name = source header

Opening reads only headers and a small sample (to infer the mapping and date formats);
`scan(table)` returns a LazyFrame with canonical names and dtypes, collected later.
`Workspace.open(..., lazy=True)` (the CLI's analysis commands, and the app) chooses every
table's file but reads a table's headers and sample only when it is first used: a report on
the transactions neither pays for nor fails on a broken survey file. The app reads every
table in a worker once its first rows are shown. A table whose file cannot be read (title
lines above the header, a cover sheet) does not hide the others: `readable()` leaves it out
and keeps its error in `unreadable`, which an analysis that needs the table raises, one that
only uses it notes (core.invalid), and `data validate`, `data inspect` and the app show.

Which file a table is read from (`choose_source`): the file loyalist.toml names, else the
file named after the table. A Parquet made by `data convert` stands in for its source only
while core.converted says the source is unchanged; otherwise the source is read and the
workspace's `notices` say why (the CLI prints them on stderr).
"""

from __future__ import annotations

import fnmatch
import functools
import os
import threading
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import polars as pl

from core import contract as c
from core import converted, database, likert
from core.check_cache import JudgedFormats, file_key
from core.coerce import (DATE_CELL, EXCEL_TEXT, PLAIN_PREFIX, ParseOptions, answered, check_date_format, coerce,
                         coerce_extra, detect_date_format, excel_text, extra_is_numeric, labelled_answer,
                         needs_time_zone, plain_number, settled_by_whole_column, written_for_excel)
from core.config import CONFIG_NAME, read_config
from core.database import DatabaseTable
from core.errors import InputError, LoyalistError, MissingTableError, UnmappedColumnError
from core.mapping import infer_mapping
from core.numbers import NumberFormat, configured, detect_number_format, extra_number_format
from core.readers import ReadOptions, csv_head, explain_read_error, file_format, scan_file, text_format
from core.sniff import TextFormat

SAMPLE_ROWS = 1000
# Among several text files for one table, the first of these is read. A Parquet beside
# them is used only as choose_source allows (a current converted copy, or the newer file).
FORMAT_PREFERENCE = ("parquet", "ndjson", "csv", "json", "xlsx")
# [tables.<table>] keys that say what is checked, not how the file is read: a converted copy
# stays current when they change.
CHECK_ONLY_KEYS = frozenset({"ranges", "on_invalid"})


def bundled_sample() -> Path:
    """The sample workspace shipped in fixtures/sample (override with LOYALIST_SAMPLE)."""
    override = os.environ.get("LOYALIST_SAMPLE")
    if override:
        return Path(override)
    return Path(__file__).resolve().parent.parent / "fixtures" / "sample"


@dataclass(frozen=True)
class ColumnMapping:
    canonical: str  # contract name, or the source header for extra columns
    source: str  # header in the file
    kind: str  # contract kind (core.contract), "extra" for columns outside the contract
    dtype: str  # dtype after coercion
    how: str  # "loyalist.toml" | "name" | "synonym" | "extra"
    detail: str = ""  # e.g. the date format used
    number: NumberFormat | None = None  # how a text number column is written


@dataclass(frozen=True)
class SourceChoice:
    path: Path  # the file read
    why: str  # why this file, for `data inspect`
    origin: Path | None = None  # the source a converted copy in use was made from
    notice: str = ""  # a copy set aside for its newer source: said on stderr


@dataclass(frozen=True)
class TableSource:
    table: str
    path: Path
    format: str
    read: ReadOptions
    parse: ParseOptions
    columns: tuple[ColumnMapping, ...]
    notes: tuple[str, ...] = ()
    missing_required: tuple[str, ...] = ()
    text: TextFormat | None = None  # how a CSV/TSV file is written (encoding, delimiter)
    # (column, low, high, where it was declared): allowed answers, checked by validation
    ranges: tuple[tuple[str, float, float, str], ...] = ()
    on_invalid: str = "error"  # loyalist.toml's on_invalid: "error" | "skip" (core.invalid)
    why: str = ""  # why this file was chosen (SourceChoice.why)
    notice: str = ""  # SourceChoice.notice
    origin: Path | None = None  # set when `path` is a current converted copy of this file
    options: dict[str, Any] = field(default_factory=dict, compare=False)  # [tables.<table>] as given
    database: DatabaseTable | None = None  # set when the table lives in a database (core.database)

    @property
    def header_row(self) -> bool:
        """Files whose first row is a header: row numbers then match a spreadsheet's.

        A converted copy keeps its source's rows in order, so its rows are numbered as the
        source's are: the row the analyst opens in the CSV."""
        return (file_format(self.origin) if self.origin else self.format) in ("csv", "xlsx")

    @property
    def rows_file(self) -> Path:
        """The file a finding's rows are in: the source of a converted copy, which the analyst edits."""
        return self.origin or self.path

    @property
    def where(self) -> str:
        """Where the table's rows are, as findings and notes name it: a file, or a database table."""
        return self.database.label if self.database else str(self.rows_file)

    @property
    def shown_name(self) -> str:
        return self.database.label if self.database else self.path.name

    @property
    def rows_name(self) -> str:
        """The name of where a finding's rows are (rows_file): what notes on rows name."""
        return self.database.label if self.database else self.rows_file.name


class TableSources(Mapping[str, TableSource]):
    """A workspace's tables: which exist is known when it opens (their files are chosen);
    each TableSource (headers, sample, mapping) is built when first asked for. Iterating
    the values builds them all, so whatever looks at every table still meets every problem.
    A table is built once even when the app's workers ask for it together (a lock per table:
    one table's slow read, a database's say, does not hold up another's)."""

    def __init__(self, pending: dict[str, Callable[[], TableSource]], notices: tuple[str, ...] = (),
                 built: dict[str, TableSource] | None = None,
                 locks: dict[str, threading.Lock] | None = None) -> None:
        self._pending = pending  # table -> builds its TableSource, in the contract's order
        self._built = {} if built is None else built  # shared with views of the same workspace
        self._locks = {t: threading.Lock() for t in pending} if locks is None else locks  # shared too
        self.notices = notices  # from choosing the files, so said without reading any

    def __getitem__(self, table: str) -> TableSource:
        if table not in self._pending:
            raise KeyError(table)
        if table not in self._built:
            with self._locks[table]:
                if table not in self._built:  # not built by another thread while this one waited
                    self._built[table] = self._pending[table]()
        return self._built[table]

    def __iter__(self) -> Iterator[str]:
        return iter(self._pending)

    def __len__(self) -> int:
        return len(self._pending)

    def __contains__(self, table: object) -> bool:
        return table in self._pending

    def without(self, tables: Collection[str]) -> TableSources:
        return TableSources({t: build for t, build in self._pending.items() if t not in tables},
                            self.notices, self._built, self._locks)


@dataclass
class Workspace:
    root: Path
    sources: Mapping[str, TableSource]
    options: dict[str, Any] = field(default_factory=dict)
    config_path: Path | None = None
    skip_invalid: bool = False  # --skip-invalid: on_invalid = "skip" for every table
    # Tables as one analysis sees them (core.invalid): its valid rows only
    frames: dict[str, pl.LazyFrame] = field(default_factory=dict, repr=False)
    use_converted: bool = True
    # the folder's data files that no table reads (an export named orders_export.csv), largest first
    unread: tuple[str, ...] = ()
    # tables an analysis's view left out because they have errors (view(), core.invalid)
    left_out: tuple[str, ...] = ()
    # tables whose file could not be read, with the error that says why (readable())
    unreadable: dict[str, LoyalistError] = field(default_factory=dict)
    _raw: dict[str, pl.LazyFrame] = field(default_factory=dict, repr=False)
    _judged: dict[str, list[dict[str, Any]]] = field(default_factory=dict, repr=False)  # formats to remember

    @property
    def name(self) -> str:
        return self.root.name

    def remember_formats(self) -> None:
        """Write the formats judged on text files' first rows since the workspace opened, so
        the next command on the unchanged files reads them instead of judging again
        (core.check_cache.JudgedFormats); called when the tables are checked."""
        judged = dict(self._judged)  # a copy: the app's workers may build another table meanwhile
        if judged:
            JudgedFormats(self.root).put(judged)
            for key in judged:
                self._judged.pop(key, None)

    @property
    def notices(self) -> tuple[str, ...]:
        """Things the user must hear about before any result (a stale converted copy)."""
        if isinstance(self.sources, TableSources):
            return self.sources.notices
        return tuple(s.notice for s in self.sources.values() if s.notice)

    def sources_only(self) -> Workspace:
        """The same workspace read from the original files, converted copies set aside."""
        return Workspace.open(self.config_path or self.root, use_converted=False, lazy=True)

    @classmethod
    def open(cls, path: str | Path | None = None, *, use_converted: bool = True, lazy: bool = False) -> Workspace:
        """Open a folder or a loyalist.toml; None means the current folder or the sample.

        `lazy`: read each table's headers and sample when it is first used, not now."""
        root = resolve_root(path)
        config_path = root / CONFIG_NAME if root.is_dir() else root
        if root.is_file():
            root = root.parent
        config = read_config(config_path) if config_path.is_file() else {}
        tables_cfg = config.get("tables", {})
        time_zone = _time_zone(config.get("time_zone"), config_path)
        files = _discover(root)
        source_url = config.get("source", {}).get("url")
        ws = cls(root=root, sources={}, options={k: v for k, v in config.items() if k != "tables"},
                 config_path=config_path if config_path.is_file() else None, use_converted=use_converted)
        pending: dict[str, Callable[[], TableSource]] = {}
        notices: list[str] = []
        for table in c.TABLE_NAMES:
            cfg = tables_cfg.get(table, {})  # checked by read_config: known keys, right types
            # What a converted copy depends on: how the file is read, not what is checked afterwards.
            read_cfg = {k: v for k, v in cfg.items() if k not in CHECK_ONLY_KEYS}
            recorded = {**read_cfg, "time_zone": time_zone} if time_zone else read_cfg
            in_database = _database_table(table, cfg, source_url, root, config_path)
            if in_database is not None:
                choice = SourceChoice(Path(in_database.database.target), "a table in the database")
            else:
                choice = choose_source(table, root, files.get(table, []), recorded, use_converted=use_converted)
            if choice is not None:
                pending[table] = functools.partial(ws._build_source, table, choice, cfg, recorded, in_database)
                notices += [choice.notice] if choice.notice else []
        ws.sources = TableSources(pending, tuple(notices))
        ws.unread = _unread_files(root, tables_cfg)
        if not lazy:  # every table read now: the first bad one stops the opening
            tuple(ws.sources.values())
        if not ws.sources:
            named = (f' such as [tables.transactions] file = "{ws.unread[0]}" (the files here: '
                     f'{", ".join(ws.unread)})' if ws.unread else "")
            raise InputError(
                "no tables found", file=str(root),
                fix="name files after the tables (transactions.csv, customers.parquet, ...) "
                f"or list them in loyalist.toml{named}",
            )
        return ws

    # -- reading -----------------------------------------------------------------

    def has(self, table: str) -> bool:
        return table in self.sources

    def scan_raw(self, table: str) -> pl.LazyFrame:
        """The file as read, with its own headers (cached per workspace, not collected)."""
        if table not in self._raw:
            source = self.sources[table]
            self._raw[table] = (database.scan(source.database, database.sample(source.database).schema)
                                if source.database else scan_file(source.path, source.read))
        return self._raw[table]

    def readable(self, tables: Collection[str] | None = None) -> Workspace:
        """This workspace without the tables (of `tables`, default all) whose file cannot be
        read, each read now; their errors are kept in `unreadable`. Itself when all can be."""
        failed: dict[str, LoyalistError] = {}
        for table in (list(self.sources) if tables is None else [t for t in tables if t in self.sources]):
            try:
                self.sources[table]  # its headers and sample read now
            except LoyalistError as exc:
                failed[table] = exc
        if not failed:
            return self
        kept = (self.sources.without(failed) if isinstance(self.sources, TableSources)
                else {t: s for t, s in self.sources.items() if t not in failed})
        return replace(self, sources=kept, unreadable={**self.unreadable, **failed})

    def scan(self, table: str) -> pl.LazyFrame:
        """Canonical column names and dtypes; values that do not parse are null."""
        if table in self.unreadable:
            raise self.unreadable[table]
        if table not in self.sources:
            raise MissingTableError(table, "this analysis", str(self.root), self.unread)
        if table in self.frames:
            return self.frames[table]
        source = self.sources[table]
        if source.missing_required:
            raise UnmappedColumnError(
                f"required column {source.missing_required[0]!r} is missing",
                table=table, canonical=source.missing_required[0],
                file=str(source.path), column=source.missing_required[0],
                fix=f"rename the column, or map it in {CONFIG_NAME} under [tables.{table}.columns]",
            )
        raw = self.scan_raw(table)
        schema = raw.collect_schema()
        return raw.with_columns(**plain_numbers(source, schema)).select(coercions(source, schema, staged=True))

    def scan_if(self, table: str) -> pl.LazyFrame | None:
        return self.scan(table) if self.has(table) else None

    def on_invalid(self, table: str) -> str:
        """What rows breaking an error rule do in analyses: "error" or "skip" (core.invalid)."""
        return "skip" if self.skip_invalid else self.sources[table].on_invalid

    def view(self, *, left_out: set[str], frames: dict[str, pl.LazyFrame]) -> Workspace:
        """This workspace without some tables, and with others' valid rows only (core.invalid)."""
        kept = (self.sources.without(left_out) if isinstance(self.sources, TableSources)
                else {t: s for t, s in self.sources.items() if t not in left_out})
        return replace(self, sources=kept, frames={**self.frames, **frames},
                       left_out=tuple(sorted({*self.left_out, *left_out})))

    def require(self, *tables: str, analysis: str) -> None:
        """Stop before an analysis starts if a table is missing or has errors."""
        for table in tables:
            if table in self.unreadable:
                raise self.unreadable[table]
            if table not in self.sources:
                raise MissingTableError(table, analysis, str(self.root), self.unread)
        from core.validate import raise_for_errors, validate

        raise_for_errors(validate(self, tables=tables, errors_only=True))

    # -- building ----------------------------------------------------------------

    def _build_source(self, table: str, choice: SourceChoice, cfg: dict[str, Any], options: dict[str, Any],
                      in_database: DatabaseTable | None = None) -> TableSource:
        """How a table's file is read: its format, column mapping, date and number formats
        (judged on its headers and first rows), declared ranges."""
        path = choice.path
        checks = cfg  # ranges and on_invalid apply to a converted copy as to its source
        if choice.origin is not None:  # a converted copy: canonical names and dtypes, nothing to parse
            cfg = {}
        fmt = "database" if in_database else file_format(path)
        if fmt is None:
            raise InputError(f"unsupported file type {path.suffix!r}", file=str(path),
                             fix="use CSV, TSV, Parquet, JSON, NDJSON or XLSX")
        read = ReadOptions(encoding=cfg.get("encoding"), delimiter=cfg.get("delimiter"), sheet=cfg.get("sheet"))
        decimal = cfg.get("decimal", ".")
        if decimal not in (".", ","):
            raise InputError(f"decimal must be \".\" or \",\", not {decimal!r}", file=str(self.config_path),
                             fix=f'set decimal = "," or "." in [tables.{table}]')
        thousands = cfg.get("thousands")
        if thousands is not None and (thousands not in (",", ".", " ", "'", "") or thousands == cfg.get("decimal")):
            raise InputError(f"thousands must be \",\", \".\", \" \" or \"\" and differ from decimal, "
                             f"not {thousands!r}", file=str(self.config_path),
                             fix=f'set thousands = "," or "." in [tables.{table}]')
        numbers = configured(cfg.get("decimal"), thousands)
        time_zone = self.options.get("time_zone")
        date_format = cfg.get("date_format")
        if date_format is not None:
            date_format = check_date_format(str(date_format), file=str(self.config_path), table=table,
                                            time_zone=time_zone)
        parse = ParseOptions(decimal=numbers.decimal if numbers else ".",
                             thousands=numbers.thousands if numbers else None,
                             date_format=date_format, clean_text=fmt != "parquet", time_zone=time_zone)
        text = text_format(path, read) if path.is_file() and not in_database else None
        if text is not None:  # judged once; later reads use what was judged
            read = replace(read, encoding=text.encoding, delimiter=text.delimiter)
        if in_database:  # types and formats judged on the first rows; the rest pulled when collected
            first = database.sample(in_database)
            self._raw[table] = database.scan(in_database, first.schema)
        else:
            self._raw[table] = scan_file(path, read)
        schema = self._raw[table].collect_schema()
        where = in_database.label if in_database else str(path)
        headers = list(schema.names())
        explicit = dict(cfg.get("columns", {}))
        for canonical, header in explicit.items():
            if c.TABLES[table].column(canonical) is None:
                raise UnmappedColumnError(f"{canonical!r} is not a column of the {table} table",
                                          table=table, canonical=None, file=str(self.config_path),
                                          fix=f"use one of {', '.join(col.name for col in c.TABLES[table].columns)}")
            if header not in headers:
                raise UnmappedColumnError(f"column {header!r} named in {CONFIG_NAME} is not in the file",
                                          table=table, canonical=canonical, file=where, column=header,
                                          fix=f"the file's columns are: {', '.join(headers)}")
        matches, extras = infer_mapping(table, headers, explicit, file=where)
        # A text file's formats as judged last time, if neither the file nor how it is read changed
        judged = JudgedFormats(self.root) if text is not None and not in_database else None
        key = judged and file_key(path, repr((str(path.resolve()), table, fmt, read, parse, text, list(schema.items()), explicit,
                                                 matches, extras, numbers, time_zone)))
        remembered = judged and judged.get(key)
        if remembered:
            try:
                columns = [ColumnMapping(**{**m, "number": m["number"] and NumberFormat(**m["number"])})
                           for m in remembered]
            except (TypeError, KeyError):  # a damaged entry: judge again
                columns = []
            if columns:
                return self._table_source(table, choice, checks, options, in_database, path, fmt, read, parse,
                                          text, matches, columns)
        try:
            sample = (first.head(SAMPLE_ROWS) if in_database else
                      self._sample(table, fmt, path, text, schema, matches, extras) if headers else pl.DataFrame())
        except pl.exceptions.PolarsError as exc:
            raise explain_read_error(exc, path, read) from None
        columns = []
        for match in matches:
            kind = c.TABLES[table].column(match.canonical).kind
            detail = ""
            dtype = schema[match.source]
            if kind in (c.DATE, c.DATETIME) and dtype == pl.String:
                detail = parse.date_format or detect_date_format(
                    self._date_sample(table, fmt, sample, match.source), file=where, column=match.source,
                    time_zone=time_zone,
                    settle=None if in_database else settled_by_whole_column(self._raw[table], match.source, time_zone))
            elif isinstance(dtype, pl.Datetime) and dtype.time_zone and time_zone is None:
                raise needs_time_zone(f"times are stored with the time zone {dtype.time_zone}", where,
                                      match.source)
            elif (kind in (c.ID, c.TEXT) and dtype == pl.String and match.source in sample.columns
                  and written_for_excel(sample[match.source].to_list())):  # a text file's (not a Parquet's)
                detail = EXCEL_TEXT  # ="00123": the id is 00123
            number = None
            if kind in (c.MONEY, c.NUMBER, c.INTEGER) and schema[match.source] == pl.String:
                number = numbers or detect_number_format(
                    answered(sample[match.source].to_list()), file=where, column=match.source,
                    first_row=2 if fmt in ("csv", "xlsx") else 1)
            columns.append(ColumnMapping(match.canonical, match.source, kind, str(c.DTYPES[kind]),
                                         match.how, detail, number))
        shown = {m.number for m in columns if m.number and m.number.how == "detected"}
        table_format = shown.pop() if len(shown) == 1 else None
        for header in extras:
            values = sample[header].to_list() if header in sample.columns else []
            numeric = extra_is_numeric(header, schema[header], values)
            number = None
            if schema[header] == pl.String and not _looks_like_id(header):
                number = extra_number_format(answered(values), numbers, file=where, column=header,
                                             table=table_format)
                numeric = number is not None
            dtype = "Float64" if numeric and schema[header] == pl.String else str(schema[header])
            kind_of_values = "number" if numeric else ""
            if (schema[header] == pl.String and not numeric and not _looks_like_id(header)
                    and likert.could_be_labels(values)):
                # a Likert item's labels in the first rows: its scale is judged on all its answers
                scale = likert.scale_of(self._raw[table].select(pl.col(header).unique()).collect()[header].to_list())
                if scale is not None:
                    dtype, kind_of_values = "Float64", likert.detail(scale)
            columns.append(ColumnMapping(header, header, "extra", dtype, "extra", kind_of_values, number))
        if choice.origin is not None:  # a converted copy holds a Likert column's points; its record, the scale
            scales = converted.recorded_scales(path)
            columns = [replace(m, detail=likert.detail(scales[m.canonical]))
                       if m.kind == "extra" and m.canonical in scales else m for m in columns]
        columns = _share_number_format(columns)
        if key:  # written with the checks (remember_formats)
            self._judged[key] = [asdict(m) for m in columns]
        return self._table_source(table, choice, checks, options, in_database, path, fmt, read, parse, text,
                                  matches, columns)

    def _table_source(self, table: str, choice: SourceChoice, checks: dict[str, Any], options: dict[str, Any],
                      in_database: DatabaseTable | None, path: Path, fmt: str, read: ReadOptions,
                      parse: ParseOptions, text: TextFormat | None, matches: list,
                      columns: list[ColumnMapping]) -> TableSource:
        mapped = {m.canonical for m in matches}
        missing = tuple(col for col in c.TABLES[table].required if col not in mapped)
        ranges = self._ranges(table, checks.get("ranges", {}), columns)
        return TableSource(table, path, fmt, read, parse, tuple(columns), (), missing, text,
                           ranges=ranges, on_invalid=checks.get("on_invalid", "error"),
                           why=choice.why, notice=choice.notice, origin=choice.origin,
                           options=dict(options), database=in_database)

    def _sample(self, table: str, fmt: str, path: Path, text: TextFormat | None, schema: pl.Schema,
                matches: list, extras: list[str]) -> pl.DataFrame:
        """The first rows that date and number formats are judged on. A text file's come from
        its first bytes when they hold them (core.readers.csv_head), not from a scan of the
        file; a Parquet file's only for the text columns judged, so a typed file reads none."""
        if fmt == "parquet":
            kinds = {m.source: c.TABLES[table].column(m.canonical).kind for m in matches}
            judged = [name for name in [*kinds, *extras] if schema[name] == pl.String
                      and kinds.get(name, "extra") in (c.DATE, c.DATETIME, c.MONEY, c.NUMBER, c.INTEGER, "extra")]
            return self._raw[table].select(judged).head(SAMPLE_ROWS).collect() if judged else pl.DataFrame()
        if fmt == "csv" and text is not None and text.utf8:
            head = csv_head(path, text, SAMPLE_ROWS)
            if head is not None and head.columns == schema.names():
                return head
        return self._raw[table].head(SAMPLE_ROWS).collect()

    def _date_sample(self, table: str, fmt: str, sample: pl.DataFrame, column: str) -> list[str | None]:
        """The values a date format is judged on: the first rows, and for a spreadsheet (in memory
        anyway) also the text dates anywhere in a column of date cells, so both are read."""
        values = sample[column].to_list()
        if fmt == "xlsx":
            typed = self._raw[table].select(pl.col(column)).filter(~pl.col(column).str.contains(DATE_CELL))
            values += typed.head(SAMPLE_ROWS).collect()[column].to_list()
        return values

    def _ranges(self, table: str, declared: dict[str, list[float]],
                columns: list[ColumnMapping]) -> tuple[tuple[str, float, float, str], ...]:
        """Score ranges: the contract's (NPS 0-10, CSAT 1-5), then loyalist.toml's
        `[tables.<table>.ranges]` (a column or a pattern such as "loy_*"), which win."""
        numeric = [m.canonical for m in columns if m.kind in (c.MONEY, c.NUMBER, c.INTEGER) or m.detail == "number"
                   or likert.scale_in(m.detail)]
        ranges: dict[str, tuple[float, float, str]] = {}
        for name in numeric:
            column = c.TABLES[table].column(name)
            if column is not None and column.range is not None:
                ranges[name] = (*column.range, "the data contract")
        for m in columns:  # Likert labels: their scale's points
            if (scale := likert.scale_in(m.detail)) is not None:
                ranges[m.canonical] = (1.0, float(likert.points(scale)), f"its labels ({scale})")
        where = f"{CONFIG_NAME} [tables.{table}.ranges]"
        for pattern, (low, high) in declared.items():
            matched = [n for n in numeric if fnmatch.fnmatchcase(n, pattern)]
            if not matched:
                raise InputError(f"range {pattern!r} in [tables.{table}.ranges] matches no number column",
                                 file=str(self.config_path), column=pattern,
                                 fix=f"the {table} table's number columns are: {', '.join(numeric) or 'none'}")
            ranges.update({n: (float(low), float(high), where) for n in matched})
        return tuple((n, lo, hi, how) for n, (lo, hi, how) in ranges.items())


def _database_table(table: str, cfg: dict[str, Any], source_url: str | None, root: Path,
                    config_path: Path) -> DatabaseTable | None:
    """The table's place in a database, when loyalist.toml puts it in one: its own `table` or
    `query` (with its `url` or [source]'s), or [source] alone and a table named after it."""
    if "file" in cfg:
        return None
    url = cfg.get("url", source_url)
    named = "table" in cfg or "query" in cfg
    if url is None:
        if named:
            raise InputError(f"[tables.{table}] names a database table but no database", file=str(config_path),
                             fix='add [source] url = "postgresql://user@host/db" (or duckdb:///file.duckdb), '
                                 f"or url = ... under [tables.{table}]")
        return None
    found = database.table_source(cfg, url, root=root, where=str(config_path), table=table)
    return found if named or database.exists(found) else None


def _looks_like_id(header: str) -> bool:
    return header.lower().endswith(("id", "_no", "code"))


def _share_number_format(columns: list[ColumnMapping]) -> list[ColumnMapping]:
    """Columns whose sample shows no separator follow the one convention the others show.

    In a file of `12,50` amounts a quantity column of `1`, `2` may hold `1.000` further on:
    that is a thousand, as the rest of the file writes numbers.
    """
    shown = {(m.number.decimal, m.number.thousands) for m in columns if m.number and m.number.how == "detected"}
    if len(shown) != 1:
        return columns
    decimal, thousands = shown.pop()
    follow = NumberFormat(decimal, thousands, "as the table's other columns")
    return [replace(m, number=follow) if m.number and m.number.how == "default" else m for m in columns]


def coercions(source: TableSource, schema: pl.Schema, *, staged: bool = False) -> list[pl.Expr]:
    """Each column as its kind, named canonically. `staged`: the frame holds plain_numbers'
    columns (much faster for text numbers; see core.coerce.number_value)."""
    exprs = []
    scored = {name for name, *_ in source.ranges}  # scores: NPS, CSAT, declared ranges
    for m in source.columns:
        parse = column_parse(source, m)
        helper = plain_column(m, schema) if staged else None
        plain = pl.col(helper) if helper else None
        if m.kind == "extra" and schema[m.source] == pl.String and (scale := likert.scale_in(m.detail)) is not None:
            expr = likert.read_points(m.source, scale)
        elif m.kind == "extra":
            expr = coerce_extra(m.source, schema[m.source], m.detail == "number", parse, plain)
        else:
            expr = coerce(m.source, m.kind, schema[m.source], parse, m.detail or None, plain)
            if m.detail == EXCEL_TEXT:
                expr = excel_text(expr)
            if m.canonical in scored and schema[m.source] == pl.String:  # "10 - Extremely likely" is 10
                expr = pl.coalesce(expr, labelled_answer(pl.col(m.source)).cast(c.DTYPES[m.kind]))
        exprs.append(expr.alias(m.canonical))
    return exprs


def plain_column(m: ColumnMapping, schema: pl.Schema) -> str | None:
    """The helper column plain_numbers adds for this column, if any: text number columns."""
    number = m.kind in (c.MONEY, c.NUMBER, c.INTEGER) or (m.kind == "extra" and m.detail == "number")
    return PLAIN_PREFIX + m.source if number and schema[m.source] == pl.String else None


def plain_numbers(source: TableSource, schema: pl.Schema) -> dict[str, pl.Expr]:
    """The helper columns (name -> expression) that make coercions(staged=True) fast: each
    text number column's plain cast, computed once (core.coerce.plain_number)."""
    helpers = {}
    for m in source.columns:
        helper = plain_column(m, schema)
        if helper:
            helpers[helper] = plain_number(pl.col(m.source), column_parse(source, m))
    return helpers


def column_parse(source: TableSource, m: ColumnMapping) -> ParseOptions:
    """The parse options of one column: the table's, with the number convention judged for it."""
    if m.number is None:
        return source.parse
    return replace(source.parse, decimal=m.number.decimal, thousands=m.number.thousands)


def resolve_root(path: str | Path | None) -> Path:
    if path is not None:
        root = Path(path).expanduser()
        if not root.exists():
            raise InputError("workspace not found", file=str(root),
                             fix="give a folder of data files or a loyalist.toml")
        return root
    cwd = Path.cwd()
    if (cwd / CONFIG_NAME).is_file() or any(_discover(cwd)):
        return cwd
    return bundled_sample()


def _discover(root: Path) -> dict[str, list[Path]]:
    """Top-level files named after a table, in FORMAT_PREFERENCE order."""
    found: dict[str, list[Path]] = {}
    for path in sorted(root.iterdir()) if root.is_dir() else ():
        fmt = file_format(path)
        if fmt and path.is_file() and path.stem.lower() in c.TABLES:
            found.setdefault(path.stem.lower(), []).append(path)
    return {table: sorted(paths, key=lambda p: FORMAT_PREFERENCE.index(file_format(p)))
            for table, paths in found.items()}


def _unread_files(root: Path, tables_cfg: dict[str, dict[str, Any]]) -> tuple[str, ...]:
    """Top-level data files no table reads (not named after one, nor named by a `file =`), largest
    first: where a table the workspace lacks may be, under an export's own name."""
    named = {(root / str(cfg["file"])).resolve() for cfg in tables_cfg.values() if "file" in cfg}
    unread = [path for path in (root.iterdir() if root.is_dir() else ())
              if file_format(path) and path.is_file() and not path.name.startswith(".")
              and path.stem.lower() not in c.TABLES and path.resolve() not in named]
    return tuple(p.name for p in sorted(unread, key=lambda p: (-p.stat().st_size, p.name)))


REFRESH = "run `loyalist data convert` to refresh the copy"


def converted_copy_path(root: Path, table: str) -> Path:
    """Where `data convert` puts a table's copy when it writes beside the sources."""
    return root / f"{table}.parquet"


def choose_source(table: str, root: Path, candidates: list[Path], cfg: dict[str, Any], *,
                  use_converted: bool = True) -> SourceChoice | None:
    """The file a table is read from, and why; None when the workspace has no such table."""
    if "file" in cfg:
        named = root / str(cfg["file"])
        copy = converted_copy_path(root, table)
        if (not use_converted or file_format(named) == "parquet" or not named.is_file()
                or not copy.is_file() or not converted.made_from(copy, named)):
            return SourceChoice(named, f"named in {CONFIG_NAME}")
        return _copy_or_source(copy, named, cfg)
    if not candidates:
        return None
    copies = [p for p in candidates if file_format(p) == "parquet"]
    texts = [p for p in candidates if file_format(p) != "parquet"]
    if not copies or not texts:
        others = candidates[1:]
        why = f"preferred over {', '.join(p.name for p in others)}" if others else "the only file for this table"
        return SourceChoice(candidates[0], why)
    copy, text = copies[0], texts[0]
    if not use_converted:
        return SourceChoice(text, f"the source of {copy.name} (converted copies set aside)")
    record = converted.recorded(copy)
    origin = next((p for p in texts if record and record["file"] == p.name), None)
    if origin is not None:
        return _copy_or_source(copy, origin, cfg)
    if record is not None:  # our copy, but of another file (a `file =` since removed, say)
        reason = f"{copy.name} was converted from {record['file']}, not from {text.name}"
        return SourceChoice(text, f"{reason}; {copy.name} set aside",
                            notice=f"reading {text.name}: {reason}. Fix: {REFRESH}")
    # A Parquet we did not make, beside a text file: the one written last is the current one.
    if converted.newer(text, copy):
        return SourceChoice(text, f"{text.name} is newer than {copy.name}",
                            notice=f"reading {text.name}, not the older {copy.name} beside it")
    return SourceChoice(copy, f"{copy.name} is newer than {text.name}")


def _copy_or_source(copy: Path, source: Path, cfg: dict[str, Any]) -> SourceChoice:
    verdict = converted.check(copy, source, cfg)
    if verdict.current:
        return SourceChoice(copy, verdict.reason, origin=source)
    return SourceChoice(source, f"{verdict.reason}; {copy.name} set aside",
                        notice=f"reading {source.name}, not {copy.name}: {verdict.reason}. Fix: {REFRESH}")


def _time_zone(name: Any, config_path: Path) -> str | None:
    """The workspace's time zone (top-level `time_zone` in loyalist.toml), checked to exist."""
    if name is None:
        return None
    from zoneinfo import ZoneInfo

    try:
        ZoneInfo(str(name))
    except (ValueError, KeyError, OSError):  # ZoneInfoNotFoundError is a KeyError
        raise InputError(f"time_zone {name!r} is not a known time zone", file=str(config_path),
                         fix='use an IANA name such as "Europe/Berlin", "Asia/Shanghai" or "UTC"') from None
    return str(name)

