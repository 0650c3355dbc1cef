"""Workspace tables that live in a database: DuckDB files, SQLite files, PostgreSQL and Spark.

loyalist.toml names the database once (`[source] url = ...`) or per table (`url`), and a
table by `table = "sales.orders"` or `query = "SELECT ..."`. A table becomes a LazyFrame
whose rows are pulled only when an analysis collects it, with the columns it reads and its
row limit pushed into the SQL; from there the same mapping, coercion and validation rules
apply as to a file (core.workspace).

Credentials never go in loyalist.toml and are never shown: PostgreSQL's come from libpq's
own places (PGPASSWORD, ~/.pgpass, PGSERVICE), and a password written in a URL anyway is
cut from every label and message.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import polars as pl

from core.errors import InputError

ENGINES = ("duckdb", "sqlite", "postgresql", "spark")
SPARK_LOCAL_URL = "spark-local"  # Spark in local mode on this machine; spark://host:7077 is a cluster
SAMPLE_ROWS = 1000  # rows pulled when a workspace opens, to judge types and formats
# A plain (optionally schema-qualified) name: anything else goes in `query`, so a name is never SQL.
TABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*){0,2}$")
EXTRA = "pip install 'loyalist[engines]'"


@dataclass(frozen=True)
class Database:
    engine: str  # one of ENGINES
    target: str  # what the driver connects to: a file path, or the URL for PostgreSQL
    label: str  # the URL without a password: the only form ever shown

    def __str__(self) -> str:
        return self.label


@dataclass(frozen=True)
class DatabaseTable:
    database: Database
    table: str | None = None
    query: str | None = None

    @property
    def sql(self) -> str:
        return self.query.strip().rstrip(";") if self.query else f"SELECT * FROM {self.table}"

    @property
    def label(self) -> str:
        """How findings name the table: the database, then the table or "(query)"."""
        return f"{self.database.label} {self.table or '(query)'}"


def parse_url(url: str, *, root: Path, where: str) -> Database:
    """A database URL from loyalist.toml. File databases are relative to the workspace folder
    (`duckdb:///shop.duckdb`) unless absolute (`duckdb:////data/shop.duckdb`), as SQLAlchemy reads them."""
    if url.strip().lower() == SPARK_LOCAL_URL or url.lower().startswith("spark://"):
        return Database("spark", url.strip(), _without_password(url.strip()))
    scheme = url.split(":", 1)[0].lower() if ":" in url else ""
    engine = {"postgres": "postgresql", "postgresql+psycopg": "postgresql"}.get(scheme, scheme)
    if engine not in ENGINES:
        raise InputError(f"unknown database URL scheme {scheme or url!r}", file=where, column="url",
                         fix='use duckdb:///file.duckdb, sqlite:///file.db, postgresql://user@host/db, '
                             'spark-local or spark://host:7077')
    if engine == "postgresql":
        return Database(engine, url, _without_password(url))
    path_text = url.split(":///", 1)[1] if ":///" in url else ""
    if not path_text:
        raise InputError(f"{url!r} names no file", file=where, column="url",
                         fix=f"write {engine}:///file.{'duckdb' if engine == 'duckdb' else 'db'} "
                             "(three slashes, then the path)")
    path = Path(path_text).expanduser()
    path = path if path.is_absolute() else root / path
    if not path.is_file():
        raise InputError("database file not found", file=str(path), column="url",
                         fix="check the path after the three slashes (relative to the workspace folder)")
    return Database(engine, str(path), f"{engine}:///{path_text}")


def table_source(options: dict[str, Any], url: str, *, root: Path, where: str, table: str) -> DatabaseTable:
    if "table" in options and "query" in options:
        raise InputError(f"[tables.{table}] has both table and query", file=where,
                         fix="keep one: table = \"schema.name\" or query = \"SELECT ...\"")
    name = options.get("table", table if "query" not in options else None)
    if name is not None and not TABLE_NAME.match(name):
        raise InputError(f"table {name!r} in [tables.{table}] is not a plain table name", file=where,
                         column="table", fix='write schema.name, or use query = "SELECT ... FROM ..."')
    return DatabaseTable(parse_url(url, root=root, where=where), name, options.get("query"))


def exists(source: DatabaseTable) -> bool:
    """Whether a table named after a contract table is in the database (for `[source]` alone).
    An unreachable server or a wrong password is an error, not a database without tables."""
    _reachable(source.database)
    try:
        sample(DatabaseTable(source.database, source.table), rows=0)
    except InputError:
        return False
    return True


@functools.lru_cache(maxsize=16)  # once per database and process; failures are not cached
def _reachable(db: Database) -> None:
    _read(DatabaseTable(db, query="SELECT 1 AS ok"), "SELECT 1 AS ok")


def sample(source: DatabaseTable, rows: int = SAMPLE_ROWS) -> pl.DataFrame:
    """The first rows: the schema and the values formats are judged on. A column empty in them
    (SQLite types values, not columns) is judged on its first values that are there."""
    first = _read(source, f"SELECT * FROM ({source.sql}) AS loyalist_sample LIMIT {int(rows)}")
    for name in [n for n, d in first.schema.items() if d == pl.Null] if rows else ():
        quoted = _quote(name, source.database.engine)
        found = _read(source, f"SELECT {quoted} FROM ({source.sql}) AS loyalist_sample "
                              f"WHERE {quoted} IS NOT NULL LIMIT {int(rows)}")[name]
        if found.dtype != pl.Null:
            values = found.extend(pl.Series([None] * max(first.height - found.len(), 0), dtype=found.dtype))
            first = first.with_columns(values.head(first.height).alias(name))
    return first


def count_rows(source: DatabaseTable) -> int:
    """The table's rows, counted by the database."""
    return int(_read(source, f"SELECT COUNT(*) AS n FROM ({source.sql}) AS loyalist_count")["n"][0])


def scan(source: DatabaseTable, schema: pl.Schema) -> pl.LazyFrame:
    """The table as a LazyFrame: nothing is pulled until it is collected, and then only the
    columns and rows asked for (the rest of the plan runs in Polars)."""
    from polars.io.plugins import register_io_source

    def pull(columns: list[str] | None, predicate: pl.Expr | None, n_rows: int | None,
             batch_size: int | None) -> Iterator[pl.DataFrame]:
        wanted = ", ".join(_quote(c, source.database.engine) for c in columns) if columns else "*"
        limit = f" LIMIT {int(n_rows)}" if n_rows is not None else ""
        frame = _read(source, f"SELECT {wanted} FROM ({source.sql}) AS loyalist_table{limit}")
        yield _as_judged(frame, schema, source).pipe(lambda f: f.filter(predicate) if predicate is not None else f)

    return register_io_source(pull, schema=schema, explain_name="database", explain_detail=source.label)


def _as_judged(frame: pl.DataFrame, schema: pl.Schema, source: DatabaseTable) -> pl.DataFrame:
    """The rows with the types judged on the first ones. A column whose later rows hold another
    type (SQLite keeps any value in any column) is refused, never cast to nulls."""
    for name, dtype in frame.schema.items():
        wanted = schema.get(name)
        if wanted is None or dtype == wanted or dtype == pl.Null:
            continue
        cast = frame[name].cast(wanted, strict=False)
        lost = (cast.is_null() & frame[name].is_not_null()).arg_true()
        if len(lost):
            raise InputError(f"column {name!r} holds {dtype} values after its first {SAMPLE_ROWS} rows of {wanted}",
                             file=source.label, column=name, rows=(lost + 1).head(5).to_list(),
                             fix="give the column one type in the database, or CAST it in a query = \"SELECT ...\"")
        frame = frame.with_columns(cast)
    return frame


def _read(source: DatabaseTable, sql: str) -> pl.DataFrame:
    db = source.database
    try:
        if db.engine == "spark":  # a Spark SQL query; rows come back through Arrow
            from core.engines import spark_session

            return pl.from_arrow(spark_session(db.target).sql(sql).toArrow())
        with _connect(db) as connection:
            return pl.read_database(sql, connection=connection, infer_schema_length=None)
    except InputError:
        raise
    except Exception as exc:  # the driver's message, on one line and without credentials
        raise InputError(f"{db.engine}: {_one_line(exc, db)}", file=source.label,
                         fix=_fix(exc, source)) from None


class _connect:
    """A read-only connection, closed afterwards (a DuckDB file stays usable by others)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.connection: Any = None

    def __enter__(self) -> Any:
        if self.db.engine == "duckdb":
            from core.engines import duckdb_settings

            duckdb = _driver("duckdb")
            self.connection = duckdb.connect(self.db.target, read_only=True)
            # set after connecting: a config at connect is refused while the engine (core.engines)
            # has the same file attached
            for name, value in duckdb_settings().items():
                self.connection.execute(f"SET {name} = '{value}'")
        elif self.db.engine == "sqlite":
            import sqlite3

            self.connection = sqlite3.connect(f"file:{self.db.target}?mode=ro", uri=True)
        else:
            psycopg = _driver("psycopg")
            self.connection = psycopg.connect(self.db.target, connect_timeout=10)
            self.connection.read_only = True
        return self.connection

    def __exit__(self, *exc: object) -> None:
        if self.connection is not None:
            self.connection.close()


def _driver(module: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise InputError(f"reading this database needs the {module} package, which is not installed",
                         fix=EXTRA) from None


def _quote(column: str, engine: str = "") -> str:
    if engine == "spark":
        return "`" + column.replace("`", "``") + "`"
    return '"' + column.replace('"', '""') + '"'


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}@{host}" if parts.username else host
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))


def _one_line(exc: Exception, db: Database) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    password = urlsplit(db.target).password if db.engine == "postgresql" else None
    if password:
        text = text.replace(password, "***")
    return text.replace(db.target, db.label)[:300]


def _fix(exc: Exception, source: DatabaseTable) -> str:
    text = str(exc).lower()
    if "password" in text or "authentication" in text:
        return "set PGPASSWORD or a ~/.pgpass line for this user (never the password in loyalist.toml)"
    if "connect" in text or "could not translate host" in text or "timeout" in text:
        return "check that the server is running and the host and port in the URL"
    if "does not exist" in text or "no such table" in text or "not found" in text or "cannot be found" in text:
        return (f"check the table name {source.table!r}, or name it with table = \"schema.name\""
                if source.table else "check the table names in the query")
    if source.query:
        return "run the query in the database's own client and correct it there"
    return "check the database URL and the table name in loyalist.toml"
