"""Editing a table's column mapping: what each contract column could be read from, what a
choice would read, and writing the choice into loyalist.toml without losing the rest.

The editor works from the files, not from an opened Workspace: a mapping that is
ambiguous (two headers that could both be customer_id) stops the workspace from opening,
and that is exactly when the analyst needs it. `draft_mapping` reads the table's file
(the source, never a converted copy) and its first rows; `preview` says how many of those
rows' values a header would not parse as the column's kind, read as the workspace reads them
(a date order the first rows leave open settled by the whole column, labelled scores such as
"10 - Extremely likely"); `proposed_config` edits the
file's text with tomlkit, so comments, key order and every other key stay as written;
`write_config` replaces the file atomically, and only if nobody changed it meanwhile.
"""

from __future__ import annotations

import difflib
import fnmatch
import os
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from core import contract as c
from core.coerce import (ParseOptions, coerce, detect_date_format, is_missing_token, labelled_answer,
                         settled_by_whole_column)
from core.config import CONFIG_NAME, check_config, read_config
from core.errors import InputError
from core.mapping import normalise_header, synonym_headers
from core.numbers import detect_number_format
from core.readers import ReadOptions, explain_read_error, scan_file
from core.workspace import _discover, choose_source

SAMPLE_ROWS = 200  # rows a preview is judged on: enough to catch a wrong column, fast to parse
SHOWN_VALUES = 3  # sample values shown beside a header

# ColumnChoice.how
FROM_CONFIG, BY_NAME, BY_SYNONYM, AMBIGUOUS, UNMAPPED = "loyalist.toml", "name", "synonym", "ambiguous", ""


@dataclass(frozen=True)
class ColumnChoice:
    column: str  # the contract's column
    kind: str  # its kind (core.contract)
    required: bool
    header: str | None  # the file's header it is read from now; None: none (or two could be)
    how: str  # FROM_CONFIG | BY_NAME | BY_SYNONYM | AMBIGUOUS | UNMAPPED
    candidates: tuple[str, ...]  # headers whose name suggests the column first, then the rest


@dataclass(frozen=True)
class Preview:
    header: str | None
    values: int  # sample values given (not blank, not a missing token such as N/A)
    failed: int  # of those, how many would not parse as the column's kind
    examples: tuple[str, ...] = ()  # a few that would not parse
    problem: str = ""  # why the whole column would not read (e.g. no date format fits)


@dataclass(frozen=True)
class MappingDraft:
    table: str
    file: Path
    config_path: Path  # loyalist.toml beside the files (it may not exist yet)
    headers: tuple[str, ...]
    choices: tuple[ColumnChoice, ...]
    options: dict[str, Any] = field(compare=False)  # [tables.<table>] as written
    sample: pl.DataFrame = field(compare=False, repr=False)
    read: ReadOptions = field(default_factory=ReadOptions, compare=False)  # how the file is read
    time_zone: str | None = None  # loyalist.toml's

    @property
    def needs_attention(self) -> bool:
        """A required column without a header, or a column two headers could be."""
        return any(ch.how == AMBIGUOUS or (ch.required and ch.header is None) for ch in self.choices)

    def current(self) -> dict[str, str | None]:
        return {ch.column: ch.header for ch in self.choices}

    def values(self, header: str) -> list[str]:
        """A few distinct values of a header, as text, for the analyst to recognise it."""
        text = self.sample[header].cast(pl.String).str.strip_chars()
        return text.filter(text.is_not_null() & (text != "")).unique(maintain_order=True).head(SHOWN_VALUES).to_list()


def config_path_of(root: Path) -> Path:
    return root if root.is_file() else root / CONFIG_NAME


def mappable_tables(root: Path) -> list[str]:
    """The contract tables this workspace has a file for, in contract order."""
    folder = root.parent if root.is_file() else root
    config_path = config_path_of(root)
    tables_cfg = read_config(config_path).get("tables", {}) if config_path.is_file() else {}
    found = _discover(folder)
    return [t for t in c.TABLE_NAMES if t in found or "file" in tables_cfg.get(t, {})]


def draft_mapping(root: Path, table: str) -> MappingDraft:
    """The table's headers, first rows and how each contract column is read now."""
    folder = root.parent if root.is_file() else root
    config_path = config_path_of(root)
    config = read_config(config_path) if config_path.is_file() else {}
    cfg = config.get("tables", {}).get(table, {})
    if {"url", "query", "table"} & set(cfg) or "source" in config:
        raise InputError(f"the {table} table is read from a database", file=str(config_path),
                         fix=f"edit [tables.{table}.columns] in {CONFIG_NAME} by hand")
    choice = choose_source(table, folder, _discover(folder).get(table, []), cfg, use_converted=False)
    if choice is None:
        raise InputError(f"no file for the {table} table", file=str(folder),
                         fix=f"add a {table}.csv (or .parquet/.xlsx) file, or name it in {CONFIG_NAME}")
    read = ReadOptions(encoding=cfg.get("encoding"), delimiter=cfg.get("delimiter"), sheet=cfg.get("sheet"))
    try:
        sample = scan_file(choice.path, read).head(SAMPLE_ROWS).collect()
    except pl.exceptions.PolarsError as exc:
        raise explain_read_error(exc, choice.path, read) from None
    headers = list(sample.columns)
    return MappingDraft(table, choice.path, config_path, tuple(headers),
                        _choices(table, headers, dict(cfg.get("columns", {}))), dict(cfg), sample, read,
                        config.get("time_zone"))


def _choices(table: str, headers: list[str], explicit: dict[str, str]) -> tuple[ColumnChoice, ...]:
    """Each contract column's header as core.mapping.infer_mapping would choose it, except that
    two candidates are shown as AMBIGUOUS instead of stopping everything."""
    free = [h for h in headers if h not in explicit.values()]
    choices = []
    for column in c.TABLES[table].columns:
        named = synonym_headers(column.name, headers)
        candidates = tuple(named + [h for h in headers if h not in named])
        if column.name in explicit and explicit[column.name] in headers:
            header, how = explicit[column.name], FROM_CONFIG
        else:
            matching = synonym_headers(column.name, free)
            exact = [h for h in matching if normalise_header(h) == normalise_header(column.name)]
            if exact:
                header, how = exact[0], BY_NAME
            elif len(matching) == 1:
                header, how = matching[0], BY_SYNONYM
            else:
                header, how = None, AMBIGUOUS if matching else UNMAPPED
            if header is not None:
                free.remove(header)
        choices.append(ColumnChoice(column.name, column.kind, column.required, header, how, candidates))
    return tuple(choices)


def preview(draft: MappingDraft, column: str, header: str | None) -> Preview:
    """How the first rows' values of `header` would read as `column`: how many would not parse,
    as the workspace would read them (core.workspace: table_source, coercions). A date order the
    first rows leave open is settled by one scan of the whole column, as the workspace does."""
    if header is None:
        return Preview(None, 0, 0)
    kind = c.TABLES[draft.table].column(column).kind
    values = draft.sample[header]
    given = values.to_frame("v").select(
        pl.col("v").is_not_null() & ~is_missing_token(pl.col("v").cast(pl.String).str.strip_chars())
        & (pl.col("v").cast(pl.String).str.strip_chars() != "")).to_series()
    texts = values.cast(pl.String).to_list()
    decimal = draft.options.get("decimal", ".")
    options = ParseOptions(decimal=decimal, thousands=draft.options.get("thousands"),
                           date_format=draft.options.get("date_format"))
    date_format, problem = None, ""
    try:
        if kind in (c.DATE, c.DATETIME) and values.dtype == pl.String and not options.date_format:
            def settle(day_first: str, month_first: str) -> str | None:  # the file is opened only if asked
                whole = scan_file(draft.file, draft.read)
                return settled_by_whole_column(whole, header, draft.time_zone)(day_first, month_first)

            date_format = detect_date_format([t for t, g in zip(texts, given) if g], file=str(draft.file),
                                             column=header, time_zone=draft.time_zone, settle=settle)
        elif kind in (c.MONEY, c.NUMBER, c.INTEGER) and values.dtype == pl.String and "decimal" not in draft.options:
            number = detect_number_format([t if g else None for t, g in zip(texts, given)], file=str(draft.file),
                                          column=header)
            options = ParseOptions(decimal=number.decimal, thousands=number.thousands)
    except InputError as exc:
        problem = exc.message
    read = coerce(header, kind, values.dtype, options, date_format)
    if values.dtype == pl.String and _scored(draft, column):  # "10 - Extremely likely" is 10
        read = pl.coalesce(read, labelled_answer(pl.col(header)).cast(c.DTYPES[kind]))
    parsed = draft.sample.select(read.alias("p")).to_series()
    bad = given & parsed.is_null()
    examples = values.filter(bad).cast(pl.String).unique(maintain_order=True).head(SHOWN_VALUES).to_list()
    return Preview(header, int(given.sum()), int(bad.sum()), tuple(examples), problem)


def _scored(draft: MappingDraft, column: str) -> bool:
    """A score column (the contract's NPS and CSAT, or a declared range's): its labelled answers are read."""
    declared = draft.options.get("ranges", {})
    return (c.TABLES[draft.table].column(column).range is not None
            or any(fnmatch.fnmatchcase(column, pattern) for pattern in declared))


def columns_to_write(draft: MappingDraft, chosen: dict[str, str | None]) -> dict[str, str]:
    """The [tables.<table>.columns] entries for `chosen` (contract column -> header or None).

    A column keeps an entry it had; a new entry is written only where the choice differs from
    what the headers' names would give, so a plain file keeps a short loyalist.toml. Refuses a
    header chosen twice and a required column left without one."""
    by_column = {ch.column: ch for ch in draft.choices}
    used: dict[str, str] = {}
    for column, header in chosen.items():
        if header is None:
            continue
        if header not in draft.headers:
            raise InputError(f"{header!r} is not a column of the file", file=str(draft.file), column=header,
                             fix=f"choose one of {', '.join(draft.headers)}")
        if header in used:
            raise InputError(f"{header!r} is chosen for both {used[header]} and {column}", file=str(draft.file),
                             column=header, fix="choose another column for one of them")
        used[header] = column
    missing = [ch.column for ch in draft.choices if ch.required and chosen.get(ch.column) is None]
    if missing:
        raise InputError(f"the {draft.table} table needs a column for {', '.join(missing)}", file=str(draft.file),
                         fix=f"choose the file's column that holds {missing[0]}")
    written = {}
    for column, header in chosen.items():
        before = by_column[column]
        if header is not None and (before.how == FROM_CONFIG or header != before.header or before.how == AMBIGUOUS):
            written[column] = header
    return written


def proposed_config(config_path: Path, table: str, columns: dict[str, str]) -> tuple[str, str]:
    """(the file's text now, its text with [tables.<table>.columns] set to `columns`).

    Only that table's column entries change: comments, blank lines and other keys stay as
    written. The new text is checked as read_config would check it."""
    import tomlkit

    def set_columns(entry) -> None:  # noqa: ANN001 (a tomlkit table)
        current = entry.get("columns")
        if current is None:
            if not columns:
                return
            entry["columns"] = tomlkit.table()
            current = entry["columns"]
        for key in [k for k in current if k not in columns]:
            del current[key]
        for key, header in columns.items():
            if current.get(key) != header:
                current[key] = header
        if not columns:
            del entry["columns"]

    return _edited(config_path, table, set_columns, super_table=True)


def proposed_on_invalid(config_path: Path, table: str, policy: str = "skip") -> tuple[str, str]:
    """(the file's text now, its text with `on_invalid = policy` under [tables.<table>]): the
    app's "Skip invalid rows" key, edited as proposed_config edits, so the rest stays as written."""

    def set_policy(entry) -> None:  # noqa: ANN001 (a tomlkit table)
        if entry.get("on_invalid") != policy:
            entry["on_invalid"] = policy

    return _edited(config_path, table, set_policy, super_table=False)


def _edited(config_path: Path, table: str, change, *, super_table: bool) -> tuple[str, str]:  # noqa: ANN001
    """(the file's text now, its text after `change` edits [tables.<table>]), made with tomlkit
    so comments and other keys stay, and checked as read_config would check it. A table the
    file lacks is added (`super_table`: written only as its sub-tables' headers)."""
    import tomlkit

    old = config_path.read_bytes().decode("utf-8-sig") if config_path.is_file() else ""
    doc = tomlkit.parse(old)
    tables = doc.get("tables")
    if tables is None:
        tables = tomlkit.table(is_super_table=True)
        doc["tables"] = tables
    entry = tables.get(table)
    if entry is None:
        entry = tomlkit.table(is_super_table=super_table)
        tables[table] = entry
    change(entry)
    new = tomlkit.dumps(doc)
    check_config(tomllib.loads(new), str(config_path))
    return old, new


def config_diff(config_path: Path, old: str, new: str) -> str:
    """A unified diff of the file's change, for the analyst to read before it is written."""
    return "".join(difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                        fromfile=f"{config_path.name} (now)", tofile=f"{config_path.name} (new)"))


def write_config(config_path: Path, expected: str, new: str, reader: str = "the mapping editor") -> None:
    """Write `new` in one step (a temporary file renamed over the old), only if the file still
    holds `expected`: a change made meanwhile (in an editor) is never overwritten unseen."""
    now = config_path.read_bytes().decode("utf-8-sig") if config_path.is_file() else ""
    if now != expected:
        raise InputError(f"{config_path.name} changed since {reader} read it", file=str(config_path),
                         fix=f"open {reader} again to see the file as it is now")
    bom = config_path.is_file() and config_path.read_bytes().startswith(b"\xef\xbb\xbf")
    fd, temp = tempfile.mkstemp(prefix=f".{config_path.name}.", dir=config_path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(("\ufeff" if bom else "").encode() + new.encode("utf-8"))
            out.flush()
            os.fsync(out.fileno())
        if config_path.is_file():
            os.chmod(temp, config_path.stat().st_mode & 0o777)
        os.replace(temp, config_path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
