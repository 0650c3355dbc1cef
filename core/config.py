"""loyalist.toml: the one declaration of what it may hold, and a strict reading of it.

Every section and key the file may hold is declared here once, with its type and what it
is for; `read_config` refuses anything else (a misspelt key suggests the right one), so
a typo is an error the user sees, never a setting silently ignored. The README's
loyalist.toml example lists every key declared here (tests/core/test_config.py checks).

    [tables.<table>]          one per contract table (core.contract.TABLE_NAMES)
    file, encoding, delimiter, decimal, thousands, date_format, sheet, on_invalid
    [tables.<table>.columns]  canonical column = "header in the file"
    [tables.<table>.ranges]   column or pattern = [low, high]
    url, table, query         a table in a database (core.database)
    [source] url              the database the tables are in
    [segments.rfm_map]        segment = { r = [low, high], f = [low, high] }
    [[alerts]]                name, metric, segment, change, window, threshold (core.alerts)
    time_zone                 top level: the IANA zone times with an offset are shown in
    [[holidays]]              name, date | month_day, days: the demand forecast's own holidays
                              (core.forecast.holidays checks each entry)
"""

from __future__ import annotations

import difflib
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core import contract as c
from core.errors import InputError

CONFIG_NAME = "loyalist.toml"

TEXT, CHOICE, TEXT_TABLE, RANGES, TABLE = "text", "choice", "table of text", "ranges", "table"
NUMBER = "number"
ON_INVALID = ("error", "skip")


@dataclass(frozen=True)
class Key:
    name: str
    kind: str  # TEXT | CHOICE | TEXT_TABLE | RANGES | TABLE | NUMBER
    help: str
    choices: tuple[str, ...] = ()
    example: str = ""  # how the value is written, for the fix of a wrong type


TABLE_KEYS: dict[str, Key] = {k.name: k for k in (
    Key("file", TEXT, "the file holding the table (default: <table>.<ext> in the folder)",
        example='"sales 2024.csv"'),
    Key("encoding", TEXT, "text encoding (default: detected)", example='"gb18030"'),
    Key("delimiter", TEXT, "CSV field separator (default: detected)", example='";"'),
    Key("decimal", CHOICE, "decimal mark of amounts", choices=(".", ","), example='","'),
    Key("thousands", CHOICE, "thousands separator of amounts (settles 1,234 when no value tells)",
        choices=(",", ".", " ", "'", ""), example='","'),
    Key("date_format", TEXT, "strptime format of every date column", example='"%d/%m/%Y"'),
    Key("sheet", TEXT, "XLSX sheet name (default: the first sheet)", example='"Answers"'),
    Key("on_invalid", CHOICE, "rows that break an error rule: stop the analyses that read the table "
        '("error"), or leave them out and count them in the notes ("skip")', choices=ON_INVALID,
        example='"skip"'),
    Key("columns", TEXT_TABLE, "canonical column = header in the file",
        example='{ customer_id = "CustID" }'),
    Key("ranges", RANGES, "allowed answers of a score column or pattern: [low, high]",
        example='{ "loy_*" = [1, 7] }'),
    Key("url", TEXT, "the database holding this table, when not [source]'s (core.database)",
        example='"duckdb:///shop.duckdb"'),
    Key("table", TEXT, "the table in the database (default: the table's own name)", example='"sales.orders"'),
    Key("query", TEXT, "a SELECT giving the table, instead of a table name",
        example='"SELECT * FROM sales.orders WHERE shop = 3"'),
)}

# Keys at the top of the file, before any [section]
TOP_KEYS: dict[str, Key] = {k.name: k for k in (
    Key("time_zone", TEXT, "the time zone that times with an offset (or a zone) are converted to",
        example='"Europe/Berlin"'),
)}

SECTIONS: dict[str, dict[str, Key]] = {
    "source": {"url": Key("url", TEXT, "the database the tables are in: duckdb:///file.duckdb, sqlite:///file.db "
                          "or postgresql://user@host/db (no password: PGPASSWORD or ~/.pgpass)",
                          example='"postgresql://analyst@localhost/shop"')},
    "tables": {t: Key(t, TABLE, f"how the {t} table is read") for t in c.TABLE_NAMES},
    "segments": {"rfm_map": Key("rfm_map", TABLE, "the R x F segment map: name = { r = [lo, hi], "
                                "f = [lo, hi] }", example="{ Best = { r = [4, 5], f = [3, 5] } }")},
}


def read_config(path: Path) -> dict[str, Any]:
    """The parsed loyalist.toml after a strict check; InputError (exit 2) names the fix."""
    data = path.read_bytes()
    where = str(path)
    if b"\x00" in data:
        raise InputError("binary content, not a TOML text file", file=where,
                         fix=f"{CONFIG_NAME} must be plain text; write it again in a text editor")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text (byte 0x{data[exc.start]:02x} at position {exc.start})",
                         file=where, fix="save it as UTF-8 in your editor") from None
    try:
        config = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"not valid TOML: {exc}", file=where, fix="correct the line named above") from None
    check_config(config, where)
    return config


# Lists of tables ([[alerts]], [[holidays]]): each entry's keys and their meaning (checked by the module
# named in check_config).
ARRAYS: dict[str, dict[str, Key]] = {
    "alerts": {k.name: k for k in (
        Key("name", TEXT, "what the alert is called (default: its metric, segment and window)",
            example='"Champions slipping"'),
        Key("metric", CHOICE, "what is watched", choices=("active_customers", "revenue", "orders", "churn_risk"),
            example='"active_customers"'),
        Key("segment", TEXT, "an RFM segment (segment rfm's map); empty: every customer", example='"Champions"'),
        Key("change", TEXT, "fires on this change against the window before: -15% a fall, +15% a rise, 15% either",
            example='"-15%"'),
        Key("window", TEXT, "days (28d) or weeks (4w) compared with the same length before", example='"28d"'),
        Key("threshold", NUMBER, "churn_risk: fires for customers whose P(churned) is at least this", example="0.8"),
    )},
    "holidays": {k.name: k for k in (
        Key("name", TEXT, "the holiday's name: letters, digits and _", example='"brand_day"'),
        Key("date", TEXT, "its day, or a list of days (dates without quotes)", example="2025-08-08"),
        Key("month_day", TEXT, "or the same day every year, MM-DD", example='"08-08"'),
        Key("days", NUMBER, "how many days from that day it lasts (1-60, default 1)", example="1"),
    )},
}


def _check_array(section: str, value: Any, where: str) -> None:
    """Each entry of a [[section]] list, checked by the module that uses it."""
    if section == "alerts":
        from core.alerts import parse_rules

        parse_rules(value, where)
        return
    from core.forecast.holidays import parse_holiday

    if not isinstance(value, list):
        raise InputError(f"holidays must be a list of [[holidays]] tables, not {_type(value)}", file=where,
                         fix='write [[holidays]] then name = "brand_day" and date = 2025-08-08 on their own lines')
    for i, entry in enumerate(value):
        parse_holiday(entry, where, i)


def check_config(config: dict[str, Any], where: str) -> None:
    for section, value in config.items():
        if section in ARRAYS:
            _check_array(section, value, where)
            continue
        if section in TOP_KEYS:
            if not isinstance(value, str):
                raise InputError(f"{section} must be text, not {_type(value)} ({value!r})", file=where,
                                 fix=f"write it in quotes at the top of the file: {section} = "
                                     f"{TOP_KEYS[section].example}")
            continue
        if section not in SECTIONS:
            raise _unknown(f"section [{section}]", section, {**SECTIONS, **TOP_KEYS, **ARRAYS}, where)
        _must_be_table(value, f"[{section}]", where, f"[{section}.{next(iter(SECTIONS[section]))}]")
        for name, entry in value.items():
            if name not in SECTIONS[section]:
                raise _unknown(f"{'table' if section == 'tables' else 'key'} {name!r} in [{section}]",
                               name, SECTIONS[section], where)
            key = SECTIONS[section][name]
            if key.kind == TEXT:
                if not isinstance(entry, str):
                    raise InputError(f"{name} in [{section}] must be text, not {_type(entry)} ({entry!r})",
                                     file=where, fix=f"write it in quotes: {name} = {key.example}")
                continue
            _must_be_table(entry, f"[{section}.{name}]", where, key.example
                           or f"[{section}.{name}] with one key = value per line")
            if section == "tables":
                _check_table(name, entry, where)


def _check_table(table: str, options: dict[str, Any], where: str) -> None:
    section = f"[tables.{table}]"
    for name, value in options.items():
        key = TABLE_KEYS.get(name)
        if key is None:
            raise _unknown(f"option {name!r} in {section}", name, TABLE_KEYS, where)
        if key.kind in (TEXT, CHOICE):
            if not isinstance(value, str):
                raise InputError(f"{name} in {section} must be text, not {_type(value)} ({value!r})",
                                 file=where, fix=f"write it in quotes: {name} = {key.example}")
            if key.kind == CHOICE and value not in key.choices:
                raise InputError(f"{name} in {section} must be {' or '.join(map(repr, key.choices))}, "
                                 f"not {value!r}", file=where,
                                 fix=f"set {name} = " + " or ".join(f'"{v}"' for v in key.choices))
        elif key.kind == TEXT_TABLE:
            _must_be_table(value, f"{name} in {section}", where, f"[tables.{table}.{name}] with lines "
                           f'such as customer_id = "CustID"')
            for canonical, header in value.items():
                if not isinstance(header, str):
                    raise InputError(f"{canonical} in [tables.{table}.{name}] must be a header in quotes, "
                                     f"not {_type(header)} ({header!r})", file=where,
                                     fix=f'write {canonical} = "Header in the file"')
        elif key.kind == RANGES:
            _must_be_table(value, f"{name} in {section}", where,
                           f'[tables.{table}.ranges] with lines such as "loy_*" = [1, 7]')
            for column, bounds in value.items():
                if not _is_range(bounds):
                    raise InputError(f"range of {column!r} in [tables.{table}.ranges] must be [low, high] "
                                     f"with low below high, not {bounds!r}", file=where,
                                     fix=f'write "{column}" = [1, 7]')


def _is_range(value: Any) -> bool:
    return (isinstance(value, list) and len(value) == 2
            and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
            and value[0] < value[1])


def _must_be_table(value: Any, what: str, where: str, example: str) -> None:
    if not isinstance(value, dict):
        raise InputError(f"{what} must be a table, not {_type(value)}", file=where, fix=f"write it as {example}")


def _unknown(what: str, name: str, known: dict[str, Any], where: str) -> InputError:
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    fix = f"did you mean {close[0]!r}? " if close else ""
    return InputError(f"unknown {what}", file=where, fix=f"{fix}use one of {', '.join(known)}")


def _type(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, str):
        return "text"
    return "a date" if hasattr(value, "isoformat") else type(value).__name__
