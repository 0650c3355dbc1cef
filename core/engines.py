"""The per-customer reduction on an engine: DuckDB, PostgreSQL or Spark (`--engine`).

Transactions are reduced to one row per customer by one `group_by`; on a laptop Polars does
it (core.features), and that stays the default. With `--engine duckdb|postgres|spark` the
same `group_by` runs where the data is and only the per-customer table comes back; every
formula after it (recency, T, AOV, shares, activity...) is core.features' own, in Polars, on
that small table, so the figures cannot drift apart.

The reduction is written once, as an Ibis expression (`_aggregates`), which Ibis compiles to
each engine's SQL. The engine reads the table itself: a DuckDB or PostgreSQL table or query
from loyalist.toml, or a Parquet or plain CSV file (Spark and DuckDB). The workspace's
column mapping and the contract's types apply there too: columns are renamed and cast on
the engine, and a value the engine cannot cast is an error (exit 2), never a null.

Which engine (`resolve`): polars for files and the database's own engine for a database
table, unless `--engine` says otherwise; `auto` picks DuckDB for files larger than the
memory budget (core.memory). Ibis, DuckDB, psycopg and PySpark come with the `engines`
extra and are imported only when an engine runs.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import itertools
import os
import shutil
import threading
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

import polars as pl

from core import contract as c
from core.coerce import EXCEL_TEXT, MIN_YEAR
from core.errors import AnalysisError, InputError

if TYPE_CHECKING:
    from core.validate import Finding
    from core.workspace import TableSource, Workspace

ENGINES = ("polars", "duckdb", "postgres", "spark", "auto")
ON_ENGINE = ("duckdb", "postgres", "spark")
OWN_ENGINE = {"duckdb": "duckdb", "postgresql": "postgres", "spark": "spark"}  # a database source's engine
FILE_ENGINES = ("duckdb", "spark")  # engines that read Parquet and CSV files themselves
EXTRA = "pip install 'loyalist[engines]'"
# The columns the reduction reads; the rest of the table never leaves the engine.
COLUMNS = ("customer_id", "order_date", "amount", "order_id", "channel")
# The other tables reduced on the engine when it reaches them (reducer), and the columns read.
OTHER_TABLES = {"touchpoints": ("customer_id", "timestamp"), "survey": ("customer_id", "response_date", "nps", "csat")}
CHECKED = (*COLUMNS, "product_id")  # and what the data checks read (core.validate)
# core.validate's rules Reducer.check runs on the engine; the rest (on columns it does not
# read) stay in Polars, reading those columns only.
ENGINE_RULES = frozenset({"missing_value", "date_after_as_of", "negative_amount", "duplicate_order",
                          "orphan_customer", "empty_table", "implausible_date"})
ISO_DATE, ISO_TIME = "%Y-%m-%d", "%Y-%m-%d %H:%M:%S"
DAY_KEY = "day:"  # order key of a purchase without an order_id: one order per day
# Spark in local mode: one JVM, few shuffle partitions (a laptop's cores, not a cluster's)
SPARK_LOCAL = "local[2]"
SPARK_PARTITIONS = "4"
SPARK_ENV = "LOYALIST_SPARK_MASTER"  # e.g. spark://host:7077 to run on a cluster


def resolve(ws: Workspace, requested: str | None) -> str:
    """The engine the per-customer reduction runs on, checked against where the data is."""
    source = ws.sources.get("transactions")
    if source is None:
        return "polars"
    own = OWN_ENGINE.get(source.database.database.engine) if source.database else None
    if requested is None:
        return own or "polars"
    if requested == "auto":
        return own or ("duckdb" if _larger_than_memory(ws) and _installed("duckdb") else "polars")
    if requested == "polars":
        return requested
    if requested not in ON_ENGINE:
        raise InputError(f"unknown engine {requested!r}", fix=f"use one of {', '.join(ENGINES)}")
    where = source.where
    if source.database is not None:
        if requested != own:
            engine = source.database.database.engine
            raise InputError(f"--engine {requested} cannot compute on a {engine} table: the reduction runs "
                             "where the data is", file=where,
                             fix=f"use --engine {own or 'polars'} (the table's own engine) or --engine polars")
        return requested
    if requested not in FILE_ENGINES:
        raise InputError(f"--engine {requested} computes on tables in {requested}, and transactions is a file",
                         file=where, fix="use --engine duckdb or spark for files, or name a PostgreSQL table "
                         "in loyalist.toml ([source] url = ...)")
    if source.format not in ("parquet", "csv"):
        raise InputError(f"--engine {requested} reads Parquet and CSV files, not {source.format}", file=where,
                         fix="run `loyalist data convert` (it writes a Parquet copy the engine reads), "
                         "or use --engine polars")
    return requested


def checks_on_engine(rule: str, column: str) -> bool:
    """Whether Reducer.check runs this core.validate rule (a value of a column the engine
    reads that does not parse or is not finite stops the engine's query instead)."""
    return (rule in ENGINE_RULES or (column in CHECKED and rule in ("not_finite", "unparsable"))
            or (column == "channel" and rule == "spelling_variants"))


def reducer(ws: Workspace, engine: str) -> Reducer | None:
    """The reduction on `engine` for this workspace's transactions; None for Polars."""
    if engine == "polars":
        return None
    if "transactions" in ws.frames:  # core.invalid left rows out: only Polars holds that view
        raise InputError(f"--engine {engine} cannot leave out the invalid transactions rows",
                         file=ws.sources["transactions"].where,
                         fix="correct those rows (loyalist data validate names them) or use --engine polars")
    source = ws.sources["transactions"]
    others = {name: ws.sources[name] for name in OTHER_TABLES
              if name in ws.sources and name not in ws.frames and _reachable(source, ws.sources[name], engine)}
    return Reducer(engine, source, others)


def _reachable(transactions: TableSource, other: TableSource, engine: str) -> bool:
    """Whether the engine reaching the transactions reads `other` too: a table of the same
    database, or a file it reads (Parquet, or UTF-8 CSV) beside transactions read from files.
    Tables it cannot reach are read into Polars, as without --engine."""
    if other.missing_required:
        return False
    if transactions.database is not None or other.database is not None:
        return (transactions.database is not None and other.database is not None
                and other.database.database == transactions.database.database)
    encoding = (other.text.encoding if other.text else "utf-8").lower().replace("_", "-")
    return other.format == "parquet" or (other.format == "csv" and encoding in ("utf-8", "utf-8-sig", "ascii")
                                         and engine in FILE_ENGINES)


def _larger_than_memory(ws: Workspace) -> bool:
    from core.features import aggregation_passes

    return aggregation_passes(ws.scan_raw("transactions")) > 1


def _installed(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


class Reducer:
    """The transactions table on one engine, and the few questions core.features asks of it."""

    def __init__(self, engine: str, source: TableSource, others: dict[str, TableSource] | None = None) -> None:
        self.engine = engine
        self.source = source
        self.others = dict(others or {})  # touchpoints and survey, where the engine reaches them
        self._other_tables: dict[str, Any] = {}
        self._lock = threading.RLock()
        self._table: Any = None
        self._checked: Any = None
        self._raw_ibis: Any = None
        self._connection: Any = None
        self._views: list[str] = []  # Spark's temporary views of files, dropped on close
        self._last: dict[dt.date, tuple[dt.date | None, int]] = {}  # asked twice per run

    @property
    def label(self) -> str:
        return f"{self.engine} ({self.source.where})"

    @property
    def columns(self) -> set[str]:
        return {m.canonical for m in self.source.columns if m.canonical in COLUMNS}

    # -- what core.features asks -------------------------------------------------------

    def last_date(self, today: dt.date) -> tuple[dt.date | None, int]:
        """(the last order date up to today, how many rows are dated after today)."""
        if today not in self._last:
            t = self.table()
            date = t.order_date
            last, later = self._run(t.aggregate(last=date.max(where=date <= today),
                                                later=(date > today).ifelse(1, 0).sum())).row(0)
            self._last[today] = (last, int(later or 0))
        return self._last[today]

    def channels(self, as_of: dt.date) -> list[str]:
        t = self.table()
        found = self._run(t.filter(t.order_date <= as_of, t.channel.notnull()).select("channel").distinct())
        return sorted(found["channel"].to_list())

    def aggregates(self, as_of: dt.date, channels: list[str], has_order_id: bool,
                   columns: list[str] | None = None) -> pl.DataFrame:
        """The per-customer aggregates core.features' `_per_customer` makes (or those of them
        in `columns`), computed on the engine."""
        schema = aggregate_schema(channels, has_order_id)
        wanted = [name for name in schema if columns is None or name in columns or name == "customer_id"]
        frame = self._run(_aggregates(self.table(), as_of, channels, wanted))
        return _as_polars_aggregates(frame, wanted)

    def scan_aggregates(self, as_of: dt.date, channels: list[str], has_order_id: bool) -> pl.LazyFrame:
        """The aggregates as a LazyFrame: computed on the engine when collected, only those the
        plan reads (RFM needs no distinct order count, the most expensive one)."""
        from polars.io.plugins import register_io_source

        def pull(columns: list[str] | None, predicate: pl.Expr | None, n_rows: int | None,
                 batch_size: int | None) -> Iterator[pl.DataFrame]:
            frame = self.aggregates(as_of, channels, has_order_id, columns)
            frame = frame.filter(predicate) if predicate is not None else frame
            yield frame.head(n_rows) if n_rows is not None else frame

        return register_io_source(pull, schema=aggregate_schema(channels, has_order_id),
                                  explain_name="engine", explain_detail=self.label)

    def channel_parts(self, as_of: dt.date, has_order_id: bool) -> dict[str, pl.DataFrame]:
        """core.evaluate.channels.channel_parts' tables, reduced on the engine: per channel,
        per channel and customer, per customer and purchase day, and the first date."""
        import ibis

        t = self.table()
        tx = t.filter(t.order_date <= as_of)
        named = tx.filter(tx.channel.notnull())
        buy = named.amount > 0
        per_channel = {"revenue": named.amount.sum(), "_gross": buy.ifelse(named.amount, 0.0).sum()}
        if has_order_id:  # distinct order ids of purchases, a missing one counted once as Polars does
            per_channel["_ids"] = buy.ifelse(named.order_id, ibis.null("string")).nunique()
            per_channel["_no_id"] = (buy & named.order_id.isnull()).ifelse(1, 0).max()
        buys = named.filter(buy)
        frames = {
            "per_channel": self._run(named.group_by("channel").aggregate(**per_channel)),
            "pairs": self._run(buys.group_by("channel", "customer_id").aggregate(
                _days=buys.order_date.nunique(), _lines=buys.count(), _first=buys.order_date.min())),
            "purchases": self._run(buys.group_by("customer_id", "order_date").aggregate(value=buys.amount.sum())),
            "first_date": self._run(tx.aggregate(order_date=tx.order_date.min())),
        }
        orders = [(pl.col("_ids") + pl.col("_no_id")).cast(pl.Int64).alias("orders")] if has_order_id else []
        frames["per_channel"] = frames["per_channel"].select(
            "channel", pl.col("revenue", "_gross").cast(pl.Float64), *orders)
        frames["pairs"] = frames["pairs"].with_columns(pl.col("_days", "_lines").cast(pl.UInt32))
        return frames

    def retention(self, as_of: dt.date, days: int) -> pl.DataFrame:
        """core.evaluate.value.customer_table's retention flags on the engine: per customer,
        bought in the earlier window (in_base) and in both (retained)."""
        from core.evaluate.value import retention_windows

        t = self.table()
        later, earlier = retention_windows(as_of, days)
        buys = t.filter(t.amount > 0, t.order_date <= as_of, t.order_date > earlier)
        flags = self._run(buys.group_by("customer_id").aggregate(
            in_base=(buys.order_date <= later).ifelse(1, 0).max(),
            _later=(buys.order_date > later).ifelse(1, 0).max()))
        return flags.select("customer_id", (pl.col("in_base") == 1).alias("in_base"),
                            ((pl.col("in_base") == 1) & (pl.col("_later") == 1)).alias("retained"))

    def cohort_parts(self, period: str, as_of: dt.date | None) -> tuple[pl.DataFrame, pl.LazyFrame]:
        """core.evaluate.cohorts.customer_periods on the engine: one row per customer and
        month (or week from Monday 1970-01-05) with its revenue and first purchase day."""
        import ibis

        t = self.table()
        tx = t.filter(t.order_date.notnull(), *([t.order_date <= as_of] if as_of is not None else []))
        date = tx.order_date
        number = (date.year().cast("int64") * 12 + date.month().cast("int64") - 1 if period == "month"
                  else (date.delta(ibis.date(1970, 1, 5), unit="day") / 7).floor().cast("int64"))
        per = self._run(tx.mutate(_p=number).group_by("customer_id", "_p").aggregate(
            revenue=tx.amount.sum(), _first_buy=(tx.amount > 0).ifelse(date, ibis.null("date")).min()))
        last = self._run(tx.aggregate(last_seen=date.max()))
        return per.with_columns(pl.col("_p").cast(pl.Int64), pl.col("revenue").cast(pl.Float64)), last.lazy()

    def buyers(self, as_of: dt.date, horizon_days: int) -> pl.DataFrame:
        """core.predict.churn.churn_labels on the engine: who bought in (as_of, as_of + N]."""
        t = self.table()
        end = as_of + dt.timedelta(days=horizon_days)
        bought = self._run(t.filter(t.order_date > as_of, t.order_date <= end, t.amount > 0)
                           .select("customer_id").distinct())
        return bought.with_columns(_bought=pl.lit(True))

    def last_purchase(self) -> dt.date | None:
        """The last date with a purchase (a non-negative amount): core.predict.summary.last_order_date."""
        t = self.table()
        return self._run(t.filter(t.amount >= 0).aggregate(last=t.order_date.max())).item()

    def btyd_parts(self, calibration_end: dt.date, holdout_end: dt.date | None) -> tuple[pl.DataFrame,
                                                                                          pl.DataFrame | None]:
        """core.predict.summary's per-customer reductions on the engine: first and last purchase
        day, purchase days, spend and the first day's spend up to `calibration_end`, and the
        purchase days and spend in the holdout; sums are whole millionths (core.exact), so the
        engine adds the same integers Polars does."""
        from core.exact import SCALE

        t = self.table()
        purchases = t.filter(t.amount >= 0, t.order_date.notnull())
        units = (purchases.amount * SCALE).round().cast("int64")
        purchases = purchases.select("customer_id", "order_date", units=units)
        before = purchases.filter(purchases.order_date <= calibration_end)
        per_customer = before.group_by("customer_id").aggregate(
            first_purchase=before.order_date.min(), last_purchase=before.order_date.max(),
            purchase_days=before.order_date.nunique(), spend=before.units.sum())
        firsts = per_customer.select("customer_id", "first_purchase")
        first_day = before.join(firsts, [before.customer_id == firsts.customer_id,
                                         before.order_date == firsts.first_purchase])
        first_day = first_day.group_by("customer_id").aggregate(first_spend=first_day.units.sum())
        calibration = self._run(per_customer.join(first_day, "customer_id"))
        holdout = None
        if holdout_end is not None:
            later = purchases.filter(purchases.order_date > calibration_end, purchases.order_date <= holdout_end)
            holdout = self._run(later.group_by("customer_id").aggregate(
                holdout_frequency=later.order_date.nunique(), holdout_spend=later.units.sum()))
            holdout = holdout.with_columns(pl.col("holdout_frequency").cast(pl.Int64),
                                           pl.col("holdout_spend").cast(pl.Int64) / SCALE)
        calibration = calibration.select(
            "customer_id", "first_purchase", "last_purchase", pl.col("purchase_days").cast(pl.Int64),
            pl.col("spend").cast(pl.Int64) / SCALE, pl.col("first_spend").cast(pl.Int64) / SCALE)
        return calibration, holdout

    # -- touchpoints and survey, where the engine reaches them (reducer) -------------------

    def reads(self, table: str) -> bool:
        """Whether `table` is reduced on the engine (else core.features reads it in Polars)."""
        return table in self.others

    def leave_to_polars(self, tables: Iterable[str]) -> None:
        """Tables only Polars holds as the analysis reads them (core.invalid left rows out)."""
        for table in tables:
            self.others.pop(table, None)

    def engagement(self, as_of: dt.date, days: int) -> pl.LazyFrame:
        """core.features.engagement_counts on the engine: touchpoints per customer in the
        `days` days up to as_of inclusive."""
        def reduce() -> pl.DataFrame:
            t = self._other("touchpoints")
            start = as_of - dt.timedelta(days=days - 1)
            touches = t.filter(t.timestamp >= start, t.timestamp <= as_of)
            counts = self._run(touches.group_by("customer_id").aggregate(engagement=touches.count()),
                               self.others["touchpoints"])
            return counts.with_columns(pl.col("engagement").cast(pl.Int64))

        return _lazy(reduce, pl.Schema({"customer_id": pl.String, "engagement": pl.Int64}), self.label)

    def latest_answers(self, as_of: dt.date, answers: list[str]) -> pl.LazyFrame:
        """core.features.latest_answers on the engine: per customer and answer column, the
        answer of the latest response_date up to as_of, the lowest of the same day's."""
        def reduce() -> pl.DataFrame:
            survey = self.others["survey"]
            t = self._other("survey")
            dated = "response_date" in t.columns
            if dated:
                t = t.filter(t.response_date <= as_of)
            latest = None
            for name in answers:
                given = t.filter(t[name].notnull())
                if dated:  # only the answers of each customer's latest day with one
                    days = given.group_by("customer_id").aggregate(_day=given.response_date.max())
                    given = given.join(days, [given.customer_id == days.customer_id,
                                              given.response_date == days._day]).select("customer_id", name)
                answer = self._run(given.group_by("customer_id").aggregate(given[name].min().name(name)), survey)
                answer = answer.with_columns(pl.col(name).cast(pl.Int64))
                latest = answer if latest is None else latest.join(answer, on="customer_id", how="full",
                                                                   coalesce=True)
            return latest

        schema = pl.Schema({"customer_id": pl.String, **{name: pl.Int64 for name in answers}})
        return _lazy(reduce, schema, self.label)

    def _other(self, table: str) -> Any:
        if table not in self._other_tables:
            source = self.others[table]
            names = tuple(n for n in OTHER_TABLES[table] if n in {m.canonical for m in source.columns})
            self._other_tables[table] = self._guarded(lambda: _canonical(self._read(source), source, names), source)
        return self._other_tables[table]

    def check(self, as_of: dt.date | None = None, errors_only: bool = False) -> list[Finding]:
        """core.validate's rules for the transactions as queries on the engine, with a few
        offending rows pulled back as examples: the errors (empty required values, non-finite
        amounts, dates before 1900, an empty table) and, unless `errors_only`, the warnings
        (dates after `as_of` or today, negative amounts, duplicate orders, channels written more
        than one way); orphans() counts the customer ids not in the customers table. Counts are
        the Polars path's; a row number means nothing in a database table, so examples name the
        rows by their values instead. A value that does not parse stops the run with the
        engine's error."""
        from core.validate import ERROR, MAX_ROWS_SHOWN, Finding, transaction_warnings

        where = self.source.where
        if self.source.missing_required:  # as core.validate says it; nothing to query
            return [Finding(ERROR, "transactions", column, "missing_required_column", 1, (),
                            f"the transactions table has no {column!r} column",
                            f"rename a column to {column}, or map it in loyalist.toml under "
                            "[tables.transactions.columns]", where) for column in self.source.missing_required]
        t = self.table() if errors_only else self.checked_table()
        header = {m.canonical: m.source for m in self.source.columns}
        rules = {name: (ERROR, name, "missing_value", t[name].isnull(), f"{name} is empty",
                        f"fill in {header[name]} on these rows or remove them")
                 for name in ("customer_id", "order_date", "amount")}
        rules["absurd amount"] = (
            ERROR, "amount", "not_finite",
            t.amount.isnan() | t.amount.isinf() | (t.amount.abs() >= c.MAX_MAGNITUDE),
            f"values in {header['amount']!r} that are NaN, infinite or beyond ±{c.MAX_MAGNITUDE:,.0f}",
            "correct these values, or leave them blank if they are unknown")
        # a database's own dates, or a date_format that read '13/01/24' as the year 24
        rules["implausible date"] = (
            ERROR, "order_date", "implausible_date", t.order_date < dt.date(MIN_YEAR, 1, 1),
            f"dates in {header['order_date']!r} before {MIN_YEAR} (a two-digit year read as four digits?)",
            'correct them, or set date_format in loyalist.toml ("%y" reads a two-digit year)')
        said = {} if errors_only else transaction_warnings(set(t.columns), as_of)
        flags = {"date_after_as_of": t.order_date > (as_of or dt.date.today()), "negative_amount": t.amount < 0}
        for rule, flag in flags.items():
            if rule in said:
                w = said[rule]
                rules[rule] = (w.severity, w.column, rule, flag, w.message, w.fix)
        counts = self._run(t.aggregate(rows=t.count(), **{f"n{i}": rule[3].ifelse(1, 0).sum()
                                                          for i, rule in enumerate(rules.values())}))
        found = counts.row(0, named=True)
        if not found["rows"]:
            return [Finding(ERROR, "transactions", "", "empty_table", 0, (),
                            "the transactions table has a header but no rows", "export the table again with its data",
                            where)]
        findings = []
        for i, (severity, column, rule, flag, message, fix) in enumerate(rules.values()):
            count = int(found[f"n{i}"] or 0)
            if count:
                examples = self._run(t.filter(flag.fill_null(False)).select(*COLUMNS[:3])
                                     .order_by(COLUMNS[:3]).limit(MAX_ROWS_SHOWN))
                findings.append(Finding(severity, "transactions", column, rule, count, (),
                                        f"{message} (e.g. {_examples(examples)})", fix, where))
        if "duplicate_order" in said:
            findings += self._duplicates(t, said["duplicate_order"])
        if not errors_only and "channel" in t.columns:
            findings += self._spellings(t)
        return findings

    def _spellings(self, t: Any) -> list[Finding]:
        """Channel labels that differ only in case ('Web', 'web'): the engine counts each label's rows,
        the labels are compared here (core.validate's words; examples are the labels, not rows)."""
        import ibis

        from core.validate import ranked_values, spelling_finding

        tally = self._run(t.group_by(value=t.channel).aggregate(n=ibis._.count()))
        ranked = ranked_values(tally.with_columns(pl.col("n").cast(pl.UInt32)), lambda label: label.str.to_lowercase())
        return [spelling_finding("transactions", "channel", ranked, (), self.source.where)] if ranked.height else []

    def _duplicates(self, t: Any, said: Any) -> list[Finding]:
        """Rows whose order id (and product, when there is one) appears more than once: each
        key counted on the engine, only the repeated ones' total and first few back."""
        import ibis

        from core.validate import MAX_ROWS_SHOWN

        key = ["order_id", "product_id"] if "product_id" in t.columns else ["order_id"]
        groups = t.filter(t.order_id.notnull()).group_by(key).aggregate(rows=ibis._.count())
        repeated = groups.filter(groups.rows > 1)
        count = int(self._run(repeated.aggregate(n=repeated.rows.sum())).item() or 0)
        if not count:
            return []
        examples = self._run(repeated.order_by(key).limit(MAX_ROWS_SHOWN))
        return [dataclasses.replace(said, count=count, rows=(), file=self.source.where,
                                    message=f"{said.message} (e.g. {_examples(examples)})")]

    def orphans(self, customers: pl.LazyFrame) -> list[Finding]:
        """Rows whose customer is not in the customers table (`customers`, its ids): the engine
        gives one row per customer and its row count (the per-customer table, not the rows); the
        customers table may be anywhere, so the ids are compared here."""
        import ibis

        from core.validate import MAX_ROWS_SHOWN, transaction_warnings

        t = self.checked_table()
        said = transaction_warnings(set(t.columns), None)["orphan_customer"]

        per_customer = self._run(t.filter(t.customer_id.notnull()).group_by("customer_id")
                                 .aggregate(rows=ibis._.count()))
        known = customers.select("customer_id").unique().collect()
        orphans = per_customer.join(known, on="customer_id", how="anti").sort("customer_id")
        if orphans.is_empty():
            return []
        examples = orphans.head(MAX_ROWS_SHOWN).select("customer_id", pl.col("rows").cast(pl.Int64))
        return [dataclasses.replace(said, count=int(orphans["rows"].sum()), rows=(), file=self.source.where,
                                    message=f"{said.message} (e.g. {_examples(examples)})")]

    def close(self) -> None:
        """Let go of the connection (a DuckDB file stays usable by others); Spark's session stays."""
        try:
            for view in self._views:
                spark_session().catalog.dropTempView(view)
            if self._connection is not None and self.engine != "spark":
                self._connection.disconnect()
        except Exception:  # closing what failed to open: nothing to tell
            pass
        self._connection = self._table = self._checked = self._raw_ibis = None
        self._views, self._other_tables = [], {}

    # -- the engine --------------------------------------------------------------------

    def table(self) -> Any:
        """The transactions as an Ibis table with canonical names and types (made once)."""
        if self._table is None:
            self._table = self._guarded(lambda: _canonical(self._raw(), self.source))
        return self._table

    def checked_table(self) -> Any:
        """The table with the columns the data checks read too (product_id, for duplicates)."""
        if self._checked is None:
            self._checked = self._guarded(lambda: _canonical(self._raw(), self.source, CHECKED))
        return self._checked

    def _raw(self) -> Any:
        if self._raw_ibis is None:
            self._raw_ibis = self._guarded(self._raw_table)
        return self._raw_ibis

    def _raw_table(self) -> Any:
        return self._read(self.source)

    def _connect(self) -> Any:
        """The one connection every table is read through, made for where the transactions are."""
        if self._connection is None:
            ibis = _ibis()
            db = self.source.database.database if self.source.database is not None else None
            if self.engine == "spark":
                self._connection = ibis.pyspark.connect(spark_session(db.target if db else None))
            elif self.engine == "duckdb":
                self._connection = duckdb_connect()
                if db is not None:
                    # The file attached read-only to an in-memory database (so it is never
                    # written and stays usable by others), the tables or queries read there.
                    self._connection.raw_sql(f"ATTACH {_sql_text(db.target)} AS loyalist_source (READ_ONLY)")
                    self._connection.raw_sql("USE loyalist_source")
            else:
                self._connection = ibis.postgres.connect(**_postgres_arguments(db.target))
                self._connection.raw_sql("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
        return self._connection

    def _read(self, source: TableSource) -> Any:
        """One table (the transactions, or another reducer() found reachable) as the engine reads it."""
        connection = self._connect()
        if source.database is not None:
            sql = source.database.sql
            if self.engine == "spark":
                return connection.sql(sql)
            if self.engine == "duckdb":
                return _duckdb_table(connection, sql)
            from core.database import sample

            # Read only; the query's schema from its first rows (read-only too), so Ibis need
            # not create a view to learn it.
            return connection.sql(sql, schema=_ibis().Schema.from_polars(sample(source.database).schema))
        path = str(source.path)
        if self.engine == "duckdb":
            if source.format == "parquet":
                return _duckdb_table(connection, f"SELECT * FROM read_parquet({_sql_text(path)})")
            delimiter = _csv_options(source, "delim")["delim"]
            return _duckdb_table(connection, f"SELECT * FROM read_csv({_sql_text(path)}, all_varchar = true, "
                                 f"header = true, delim = {_sql_text(delimiter)})")
        reader = spark_session().read
        frame = (reader.parquet(path) if source.format == "parquet"
                 else reader.csv(path, header=True, inferSchema=False, **_csv_options(source, "sep")))
        view = f"loyalist_{source.table}_{next(_VIEWS)}"
        frame.createOrReplaceTempView(view)
        self._views.append(view)
        return connection.table(view)

    def _run(self, expr: Any, source: TableSource | None = None) -> pl.DataFrame:
        return self._guarded(expr.to_polars, source)

    def _guarded(self, work: Any, source: TableSource | None = None) -> Any:
        """Run engine work, one query at a time (Polars collects the engine's tables on
        several threads, and a connection takes one query at a time); the engine's error
        becomes one line with a fix, without credentials."""
        with self._lock:
            try:
                return work()
            except (InputError, AnalysisError):
                raise
            except Exception as exc:
                raise self._error(exc, source or self.source) from None

    def _error(self, exc: Exception, source: TableSource) -> InputError:
        from core.database import _fix, _one_line

        if source.database is not None:
            return InputError(f"{self.engine}: {_one_line(exc, source.database.database)}", file=source.where,
                              fix=_fix(exc, source.database))
        text = " ".join(str(exc).split())[:300] or type(exc).__name__
        if self.engine == "spark" and ("java" in text.lower() or "gateway" in text.lower()):
            return InputError(f"spark: {text}", fix=JAVA_FIX)
        return InputError(f"{self.engine}: {text}", file=source.where,
                          fix="run `loyalist data convert` (a Parquet copy with clean types) and try again, "
                          "or use --engine polars")


_VIEWS = itertools.count(1)
DUCKDB_TEMP = "loyalist-duckdb"  # under the system's temporary folder (TMPDIR)


def duckdb_settings() -> dict[str, str]:
    """DuckDB's memory limit from Loyalist's memory budget (core.memory: LOYALIST_MEMORY_LIMIT,
    else half the free memory), not DuckDB's default of 80% of RAM, and where it spills
    what does not fit: the system's temporary folder, never the analyst's workspace."""
    import tempfile
    from pathlib import Path

    from core.memory import memory_budget

    return {"memory_limit": f"{max(memory_budget() // 2**20, 1)}MiB",
            "temp_directory": str(Path(tempfile.gettempdir()) / DUCKDB_TEMP)}


def duckdb_connect() -> Any:
    """An in-memory DuckDB under Loyalist's memory budget (duckdb_settings), through Ibis."""
    return _ibis().duckdb.connect(**duckdb_settings())


def _duckdb_table(connection: Any, sql: str) -> Any:
    """The Ibis table of a DuckDB query, its schema read with DuckDB's own relation API:
    Ibis 12.0 learns it through the deprecated fetch_arrow_table (a DeprecationWarning on
    DuckDB 1.5 and later; fixed in Ibis after 12.0, ibis-project/ibis#12001)."""
    from ibis.backends.sql.datatypes import DuckDBType

    relation = connection.con.sql(sql)
    schema = _ibis().schema({name: DuckDBType.from_string(str(kind))
                             for name, kind in zip(relation.columns, relation.types, strict=True)})
    return connection.sql(sql, schema=schema)
JAVA_FIX = "Spark needs Java 17: install openjdk-17-jre-headless (apt) or set JAVA_HOME"


def _lazy(reduce: Any, schema: pl.Schema, label: str) -> pl.LazyFrame:
    """A per-customer table reduced on the engine when (and only if) the plan collects it."""
    from polars.io.plugins import register_io_source

    def pull(columns: list[str] | None, predicate: pl.Expr | None, n_rows: int | None,
             batch_size: int | None) -> Iterator[pl.DataFrame]:
        frame = reduce()
        frame = frame.select(columns) if columns is not None else frame
        frame = frame.filter(predicate) if predicate is not None else frame
        yield frame.head(n_rows) if n_rows is not None else frame

    return register_io_source(pull, schema=schema, explain_name="engine", explain_detail=label)


def _ibis() -> Any:
    try:
        import ibis
    except ImportError:
        raise InputError("--engine needs the ibis-framework package, which is not installed", fix=EXTRA) from None
    return ibis


@functools.lru_cache(maxsize=1)  # one JVM per process: starting Spark takes seconds
def spark_session(url: str | None = None) -> Any:
    """A Spark session: local mode on this machine, or the cluster a spark:// URL (from
    loyalist.toml) or LOYALIST_SPARK_MASTER names."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise InputError("--engine spark needs the pyspark package, which is not installed", fix=EXTRA) from None
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        raise InputError("--engine spark needs Java, which is not installed", fix=JAVA_FIX)
    session = (SparkSession.builder.appName("loyalist")
            .master(url if url and url.startswith("spark://") else os.environ.get(SPARK_ENV, SPARK_LOCAL))
            .config("spark.sql.shuffle.partitions", SPARK_PARTITIONS)
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.ansi.enabled", "true")  # a value that does not cast is an error, not a null
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")  # no progress bars on our stderr
            .config("spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile={_quiet_logging()}")
            .config("spark.sql.execution.arrow.pyspark.enabled", "true")
            .getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    return session


# Spark's own log lines (its default profile logs WARN) would mix with Loyalist's messages on
# stderr; errors still reach the user, as one line through Reducer._error.
LOG4J2 = """status = error
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %p %c{1}: %m%n
rootLogger.level = error
rootLogger.appenderRef.stderr.ref = console
"""


def _quiet_logging() -> str:
    import tempfile
    from pathlib import Path

    path = Path(tempfile.gettempdir()) / "loyalist-spark-log4j2.properties"
    if not path.is_file() or path.read_text() != LOG4J2:
        path.write_text(LOG4J2)
    return str(path)


def _postgres_arguments(url: str) -> dict[str, Any]:
    """Ibis' PostgreSQL connect arguments from the URL; a password not in it comes from libpq
    (PGPASSWORD, ~/.pgpass) as for every other read."""
    from urllib.parse import unquote, urlsplit

    parts = urlsplit(url)
    arguments = {"host": parts.hostname, "port": parts.port, "user": parts.username and unquote(parts.username),
                 "password": parts.password and unquote(parts.password),
                 "database": unquote(parts.path.lstrip("/")) or None}
    return {k: v for k, v in arguments.items() if v is not None}


def _examples(rows: pl.DataFrame) -> str:
    """A few offending rows as the analyst finds them in the database: id, date, amount."""
    return "; ".join(", ".join(f"{k} {v}" for k, v in row.items()) for row in rows.iter_rows(named=True))


def _sql_text(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _csv_options(source: TableSource, delimiter_key: str) -> dict[str, Any]:
    """How the engine reads a CSV: the delimiter judged on opening; only UTF-8 text."""
    text = source.text
    encoding = (text.encoding if text else "utf-8").lower().replace("_", "-")
    if encoding not in ("utf-8", "utf-8-sig", "ascii"):
        raise InputError(f"--engine reads UTF-8 CSV files, and this one is {encoding}", file=source.where,
                         fix="run `loyalist data convert` (it writes a Parquet copy the engine reads), "
                         "or use --engine polars")
    return {delimiter_key: text.delimiter if text else ","}


# -- the reduction, written once ---------------------------------------------------------


def _canonical(t: Any, source: TableSource, names: tuple[str, ...] = COLUMNS) -> Any:
    """The columns the reduction reads (`names`), renamed and cast as the contract says (on the engine)."""
    columns = {}
    for m in source.columns:
        if m.canonical not in names:
            continue
        column = t[m.source]
        dtype = column.type()
        if m.kind in (c.ID, c.TEXT):
            columns[m.canonical] = _text(column, dtype, m, source)
        elif m.kind in (c.DATE, c.DATETIME):  # a time's day: all the reductions read of it
            columns[m.canonical] = _date(column, dtype, m, source)
        else:
            columns[m.canonical] = _number(column, dtype, m, source)
    return t.select(**columns)


def _refuse(m: Any, source: TableSource, what: str, fix: str) -> InputError:
    return InputError(f"column {m.source!r} ({m.canonical}) {what}", file=source.where, column=m.source, fix=fix)


QUERY_FIX = "CAST it in a query = \"SELECT ...\" in loyalist.toml, or use --engine polars"


def _text(column: Any, dtype: Any, m: Any, source: TableSource) -> Any:
    if dtype.is_floating():  # 1001.0 or 1001.5: core.coerce decides which is an id; the engine does not
        raise _refuse(m, source, f"holds {dtype} numbers, not ids the engine can read as text", QUERY_FIX)
    if not (dtype.is_string() or dtype.is_integer()):
        raise _refuse(m, source, f"holds {dtype} values, not text", QUERY_FIX)
    if m.detail == EXCEL_TEXT:  # ="00123": read as written there, no id would meet the customers' 00123
        raise _refuse(m, source, 'is written ="..." for Excel, which the engine would read as written',
                      "run `loyalist data convert` (its Parquet copy holds the text inside) and try again, "
                      "or use --engine polars")
    text = column.cast("string")
    if dtype.is_string() and not source.parse.clean_text:
        return text
    text = text.strip()
    return (text == "").ifelse(None, text)


def _blank_is_null(column: Any) -> Any:
    text = column.strip()
    return (text == "").ifelse(None, text)


def _date(column: Any, dtype: Any, m: Any, source: TableSource) -> Any:
    if dtype.is_date():
        return column
    if dtype.is_timestamp():
        if dtype.timezone is not None:
            raise _refuse(m, source, f"holds times in the time zone {dtype.timezone}", "give the local day in a "
                          "query: CAST(order_date AT TIME ZONE 'Asia/Shanghai' AS DATE), or use --engine polars")
        return column.date()
    if dtype.is_string() and m.detail in ("", ISO_DATE):
        return _blank_is_null(column).cast("date")  # strict: a value that is no date stops the run
    if dtype.is_string() and m.detail == ISO_TIME:
        return _blank_is_null(column).cast("timestamp").date()
    if dtype.is_string():
        raise _refuse(m, source, f"holds dates written {m.detail!r}; the engine reads ISO dates (2024-06-30)",
                      "run `loyalist data convert` (it writes a Parquet copy with real dates), or use --engine polars")
    raise _refuse(m, source, f"holds {dtype} values, not dates", QUERY_FIX)


def _number(column: Any, dtype: Any, m: Any, source: TableSource) -> Any:
    if dtype.is_numeric() and not dtype.is_boolean():
        return column.cast("float64")
    if not dtype.is_string():
        raise _refuse(m, source, f"holds {dtype} values, not numbers", QUERY_FIX)
    text = _blank_is_null(column)
    number = m.number
    if number is not None:  # the convention judged on opening: 1,234.50 or 1.234,50
        if number.thousands:
            text = text.replace(number.thousands, "")
        if number.decimal != ".":
            text = text.replace(number.decimal, ".")
    return text.cast("float64")  # strict: "$12" or "12 EUR" stops the run (exit 2), never a null


def aggregate_schema(channels: list[str], has_order_id: bool) -> pl.Schema:
    """The columns and types of core.features' per-customer group_by."""
    return pl.Schema({
        "customer_id": pl.String, "_rows": pl.UInt32, "_non_buys": pl.UInt32,
        "first_purchase": pl.Date, "last_purchase": pl.Date, "_days": pl.UInt32,
        "monetary": pl.Int64, "gross_spend": pl.Int64,
        **({"_last_key": pl.Int64} if channels else {}),
        **{f"_cg{i}": pl.Int64 for i in range(len(channels))},
        **({"_keys": pl.UInt32} if has_order_id else {}),
    })


def _aggregates(t: Any, as_of: dt.date, channels: list[str], wanted: list[str]) -> Any:
    """core.features' group_by as one Ibis expression (the `wanted` columns of
    aggregate_schema). Sums are of whole money units (MONEY_UNITS per currency unit), so
    every engine adds exactly the same integers."""
    import ibis

    from core.features import MONEY_UNITS

    rows = t.filter(t.order_date <= as_of, t.customer_id.notnull())
    buy = rows.amount > 0
    units = (rows.amount * MONEY_UNITS).round().cast("int64")
    gross = (units > 0).ifelse(units, 0)
    buy_date = buy.ifelse(rows.order_date, ibis.null("date"))
    n = len(channels)

    def last_key() -> Any:
        # The last purchase day and its channel packed in one integer, as core.features does.
        code = ibis.cases(*((rows.channel == name, i) for i, name in enumerate(channels)), else_=n)
        day = rows.order_date.delta(ibis.date(1970, 1, 1), unit="day")
        return buy.ifelse(day * (n + 1) + (n - code), ibis.null("int64")).max()

    def order_keys() -> Any:
        key = ibis.coalesce(rows.order_id, ibis.literal(DAY_KEY) + rows.order_date.cast("string"))
        return buy.ifelse(key, ibis.null("string")).nunique()  # without the null n_unique counts

    made = {
        "_rows": rows.count,
        "_non_buys": lambda: buy_date.isnull().ifelse(1, 0).sum(),  # PostgreSQL casts no boolean to a number
        "first_purchase": buy_date.min,
        "last_purchase": buy_date.max,
        "_buy_days": buy_date.nunique,  # without the null core.features' n_unique counts
        "monetary": units.sum,
        "gross_spend": gross.sum,
        "_last_key": last_key,
        "_buy_keys": order_keys,
        **{f"_cg{i}": (lambda name=name: (rows.channel == name).ifelse(gross, 0).sum())
           for i, name in enumerate(channels)},
    }
    needed = {"_rows"}  # at least one aggregate, so the group_by has rows to give
    for name in wanted:
        needed |= {"_days": {"_buy_days", "_non_buys"}, "_keys": {"_buy_keys", "_non_buys"},
                   "customer_id": set()}.get(name, {name})
    return rows.group_by("customer_id").aggregate(**{name: made[name]() for name in made if name in needed})


def _as_polars_aggregates(frame: pl.DataFrame, wanted: list[str]) -> pl.DataFrame:
    """The engine's aggregates with the names and types core.features' own group_by gives."""
    schema = aggregate_schema([], False)
    has_null = (pl.col("_non_buys") > 0).cast(pl.UInt32)
    derived = {"_days": (pl.col("_buy_days").cast(pl.UInt32) + has_null).alias("_days"),
               "_keys": (pl.col("_buy_keys").cast(pl.UInt32) + has_null).alias("_keys")}
    return frame.select(derived[name] if name in derived else pl.col(name).cast(schema.get(name, pl.Int64))
                        for name in wanted)
