"""Data quality findings: what is wrong, where (table, column, rows), and how to fix it.

All rules for one table run as one lazy query (one pass over the file). Errors stop
analyses (Workspace.require); warnings are reported and counted, and no row is dropped
because of them: negative amounts stay in as returns, orphans stay in their table.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from pathlib import Path
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import polars as pl

from core import contract as c
from core import ledger, likert
from core.check_cache import CACHE_FILE, CheckCache, kind_of, kinds, level, source_key
from core.config import CONFIG_NAME
from core.coerce import EXCEL_TEXT, MIN_YEAR, is_missing_token, number_value
from core.errors import InputError, LoyalistError
from core.mapping import normalise_header
from core.order_layout import from_summary, layout_flags
from core.readers import explain_read_error
from core.result import Result
from core.workspace import (ColumnMapping, TableSource, Workspace, coercions, column_parse, plain_column,
                            plain_numbers)

if TYPE_CHECKING:
    from core.engines import Reducer

ERROR, WARNING = "error", "warning"
ROW = "__row"
MAX_ROWS_SHOWN = 5
MAX_EXAMPLES = 3  # values shown in an unparsable finding's message
VALUE = "__value"
# Day numbers of spreadsheets (1900 date system) from 1950 to 2099: a date column of them is a
# date column exported without its date format
SPREADSHEET_EPOCH = dt.date(1899, 12, 30)
SERIAL_DAYS = (18_264, 73_050)
UNIX_SECONDS = (946_684_800, 4_102_444_800)  # 2000 to 2100: a date column of them is Unix time
MAX_SPELLINGS_SHOWN = 5  # labels (or currencies) a spelling_variants (mixed_currencies) message lists
# Headers (as core.mapping.normalise_header reads them) of a column saying each row's currency
CURRENCY_HEADERS = frozenset({"currency", "currencycode", "ccy", "currencyiso", "币种", "货币", "货币代码", "币别"})
FIRST_ROWS = 1_000  # a column with a value in these is not empty (_unless_filled_early)
SPARSE = frozenset({"campaign_id", "promo_id"})  # tags most rows leave empty, and all may: no empty_column
# Labels the analyses group by as written, so 'Web' and 'web' would be two channels (spelling_variants).
# touch_type and the points' kind are not here: their analyses compare them lower-cased.
LABELS = frozenset({"channel", "category", "tier", "acquisition_channel", "region", "gender", "income_band",
                    "target", "experiment", "variant"})
NUMBER_KINDS = (c.MONEY, c.NUMBER, c.INTEGER)
# Errors a converted copy would lose information over (a value that did not parse is null
# in the copy). Out-of-range or duplicate values are copied as they are and still found
# when the copy is validated, so they must not stop `data convert` (core/convert.py).
LOSSY_RULES = frozenset({"unparsable", "missing_required_column"})
# about the table, not rows of it: no row can be left out to mend it
WHOLE_TABLE_RULES = frozenset({"missing_required_column", "empty_table", "mixed_currencies"})


@dataclass(frozen=True)
class Finding:
    severity: str
    table: str
    column: str
    rule: str
    count: int
    rows: tuple[int, ...]  # first offending rows as a spreadsheet numbers them (header = 1)
    message: str
    fix: str
    file: str = ""


@dataclass(frozen=True)
class _Rule:
    severity: str
    column: str
    rule: str
    flag: pl.Expr
    message: str
    fix: str
    # about the whole column: `flag` is then one value found without a value per row: a count
    # (empty_column: the table's rows, or 0; a finding only when it is the table's count), or, with
    # `tally`, unused
    whole_column: bool = False
    # the column's values as compared, counted per value by a group_by of their own, beside the
    # summary (spelling_variants, mixed_currencies: _spelling_findings and _currency_findings make
    # their findings from the counts). A group_by holds the distinct values alone; unique() in the
    # summary's select held about 350 MB at 20M rows, and more with every row.
    tally: pl.Expr | None = None
    # a rule about keys repeated across rows (duplicates): its rows are found by _repeated_rows,
    # which holds a hash per row instead of the text; `flag` stays the exact rule (valid_rows)
    key: tuple[str, ...] = ()


def validate(
    ws: Workspace,
    tables: Iterable[str] | None = None,
    *,
    as_of: dt.date | None = None,
    errors_only: bool = False,
    orphans: bool = True,
    engine: Reducer | None = None,
) -> list[Finding]:
    """Check the workspace's tables against the data contract and common data faults.
    `orphans`: count the ids not in the customers table (a warning, and a join of its own)."""
    return check(ws, tables, as_of=as_of, errors_only=errors_only, orphans=orphans, engine=engine).findings


@dataclass(frozen=True)
class Checks:
    findings: list[Finding]
    remembered: tuple[str, ...]  # tables whose findings came from the check cache (unchanged files)


def check(
    ws: Workspace,
    tables: Iterable[str] | None = None,
    *,
    as_of: dt.date | None = None,
    errors_only: bool = False,
    use_cache: bool = True,
    engine: Reducer | None = None,
    orphans: bool = True,
) -> Checks:
    """validate(), saying which tables' findings were remembered from an earlier check of the
    same unchanged file (core.check_cache) rather than checked again. With an `engine`
    (core.engines) the transactions are checked there by queries, never pulled here; for a
    file (not a database table) those findings are remembered too, under the engine's name."""
    names = [t for t in (tables or ws.sources) if t in ws.sources]
    cache = CheckCache(ws.root) if use_cache else None
    kind = kinds(errors_only, as_of)
    keys = {t: source_key(ws.sources[t]) for t in names} if cache else {}
    per_table: dict[str, list[Finding]] = {}
    remembered = []
    engine_key = None  # the engine's findings for the transactions are kept under it (a file's only)
    has_customers = "customers" in ws.sources and not ws.sources["customers"].missing_required
    queries: list[tuple[TableSource, list[_Rule], pl.LazyFrame]] = []
    for table in names:
        source = ws.sources[table]
        if source.missing_required:
            per_table[table] = [Finding(
                ERROR, table, column, "missing_required_column", 1, (),
                f"the {table} table has no {column!r} column",
                f"rename a column to {column}, or map it in loyalist.toml under [tables.{table}.columns]",
                source.where) for column in source.missing_required]
            continue
        if engine is not None and table == "transactions":
            from core.engines import checks_on_engine

            engine_key = keys.get(table)
            known = cache.get(engine_key, _on_engine(engine, kind)) if cache else None
            if known is not None:
                per_table[table] = known
                remembered.append(table)
                continue
            per_table[table] = engine.check(as_of, errors_only)
            # The rules on columns the engine does not read (a quantity that does not parse,
            # declared ranges) run here, on those columns only.
            raw = ws.scan_raw(table)
            # (a currency column is read here too: the engine's checks do not know it, and a sum over
            # several currencies means nothing there either)
            rest = [r for r in _rules(source, raw.collect_schema(), as_of) if not checks_on_engine(r.rule, r.column)
                    and (not r.whole_column or r.rule == "mixed_currencies")
                    and (not errors_only or r.severity == ERROR)]
            if rest or source.database is None:  # a file's totals row is found here too (_totals_row)
                queries.append((source, rest, _checked_frame(source, raw)))
            continue
        known = cache.get(keys[table], kind) if cache else None
        if known is not None:
            per_table[table] = known
            remembered.append(table)
            continue
        raw = ws.scan_raw(table)
        frame = _checked_frame(source, raw)
        rules = [r for r in _rules(source, raw.collect_schema(), as_of) if not errors_only or r.severity == ERROR]
        queries.append((source, _unless_filled_early(rules, source, raw), frame))
    orphaned: list[Finding] = []
    orphan_keys: dict[str, str | None] = {}
    pending: list[str] = []
    for table in (ORPHAN_TABLES if orphans and not errors_only else ()):
        if engine is not None and table == "transactions":  # counted on the engine
            if has_customers and table in names:
                orphan_keys[table] = _orphan_key(ws, keys, table) if cache else None
                known = cache.get(orphan_keys[table], _on_engine(engine, ("orphans",))) if cache else None
                if known is None:
                    known = engine.orphans(ws.scan("customers"))
                    if cache:
                        cache.put(orphan_keys[table], _on_engine(engine, ("orphans",))[0], known)
                orphaned += known
            continue
        orphan_keys[table] = _orphan_key(ws, keys, table) if cache else None
        known = cache.get(orphan_keys[table], "orphans") if cache else None
        if known is None:
            pending.append(table)
        else:
            orphaned += known
    unchecked = [t for t in names if t in pending]
    orphan_queries = _orphan_queries(ws, unchecked) if unchecked else []
    # the transactions' order layout is counted by the same read (core.order_layout), and what
    # tells a totals row under the purchases (_totals_row)
    summaries = [_summarise(frame, rules, layout_flags(frame.collect_schema().names())
                            if source.table == "transactions" and cache and engine is None else {},
                            _last_amount(frame) if source.table == "transactions" and source.database is None
                            else [])
                 for source, rules, frame in queries]
    tallies = {q: _tallies(frame, rules) for q, (_, rules, frame) in enumerate(queries)
               if any(r.tally is not None for r in rules)}
    try:
        # Without common subplans: shared with a tally, the checked frame was held whole (1.1 GB
        # at 204M rows against 0.1 GB); apart, a CSV is parsed once more by each table's tally.
        collected = pl.collect_all([*summaries, *tallies.values(), *(query for _, query in orphan_queries)],
                                   optimizations=pl.QueryOptFlags(comm_subplan_elim=False))
    except pl.exceptions.PolarsError as exc:
        raise _unreadable_table(exc, queries, summaries) from None
    counts = [summary.row(0, named=True) for summary in collected[:len(queries)]]
    for q, combinations in zip(tallies, collected[len(queries):len(queries) + len(tallies)]):
        for i, rule in enumerate(queries[q][1]):
            if rule.tally is not None:  # each value as compared (null too) and its rows: value, n
                counts[q][f"n{i}"] = combinations.group_by(value=f"v{i}").agg(n=pl.col("n").sum())
    repeated = {}  # the rules about repeated keys, one after another: each holds a hash per row
    for q, ((_, rules, frame), row) in enumerate(zip(queries, counts)):
        for i, rule in enumerate(rules):
            if rule.key and row["__n"]:
                found_rows = _repeated_rows(frame, rule.key, row["__n"])
                row[f"n{i}"], repeated[q, i] = found_rows.len(), found_rows.head(MAX_ROWS_SHOWN).to_list()
    # The first rows of each rule that fired, in a second query: counting alone streams in
    # constant memory, while collecting row numbers in the same pass held the whole table.
    fired = [(q, i) for q, ((_, rules, _), row) in enumerate(zip(queries, counts))
             for i in range(len(rules)) if row["__n"] and not rules[i].whole_column and not rules[i].key
             and row[f"n{i}"]]
    first_rows = pl.collect_all([_first_rows(queries[q][2], queries[q][1][i]) for q, i in fired])
    rows_of = {key: frame[ROW].to_list() for key, frame in zip(fired, first_rows)} | repeated
    examples = {key: frame[VALUE].unique(maintain_order=True).head(MAX_EXAMPLES).to_list()
                for key, frame in zip(fired, first_rows) if VALUE in frame.columns}
    whole_columns = _spelling_findings(queries, counts) | _currency_findings(queries, counts)
    totals_at_end = _totals_at_end(queries, counts)
    order_level = {**totals_at_end, **_on_first_lines_only(queries, counts)}
    for q, ((source, rules, _), row) in enumerate(zip(queries, counts)):
        on_engine = source.table in per_table  # checked there in part; an empty table it has said
        found = per_table.setdefault(source.table, [])
        if row["__n"] == 0:
            if not on_engine:
                found.append(Finding(ERROR, source.table, "", "empty_table", 0, (),
                                     f"the {source.table} table has a header but no rows",
                                     "export the table again with its data", source.where))
        else:
            offset = 2 if source.header_row else 1
            for i, rule in enumerate(rules):
                count = row[f"n{i}"]
                if rule.rule in ("spelling_variants", "mixed_currencies"):
                    found += whole_columns.get((q, i), [])
                    continue
                if rule.whole_column and count < row["__n"]:
                    continue
                if count:
                    rows = () if rule.whole_column else tuple(r + offset for r in rows_of[(q, i)])
                    message, fix = order_level.get((q, i), (rule.message, rule.fix))
                    if examples.get((q, i)):
                        message, fix = _with_examples(rule, examples[q, i], message, fix, source)
                    found.append(Finding(rule.severity, source.table, rule.column, rule.rule, count, rows,
                                         message, fix, source.where))
            if source.table == "transactions" and not any(key[0] == q for key in totals_at_end):
                found += _totals_row(source, row)
        if cache and not on_engine:
            cache.put(keys[source.table], kind_of(found, errors_only, as_of), found)
            if (layout := from_summary(row, queries[q][2])) is not None:
                cache.put_layout(keys[source.table], layout)
            if not errors_only:  # a full check holds the errors-only one too
                cache.put(keys[source.table], level(True, ""), [f for f in found if f.severity == ERROR])
    if engine_key is not None and "transactions" not in remembered:  # with the rules run here
        found = per_table["transactions"]
        cache.put(engine_key, _on_engine(engine, (kind_of(found, errors_only, as_of),))[0], found)
        if not errors_only:
            cache.put(engine_key, _on_engine(engine, (level(True, ""),))[0], [f for f in found if f.severity == ERROR])
    for (source, _), result in zip(orphan_queries, collected[len(queries) + len(tallies):]):
        summary = result.row(0, named=True)
        found = []
        if summary["n"]:
            offset = 2 if source.header_row else 1
            found = [dataclasses.replace(_orphan_finding(source.table, summary["ids"]), count=summary["n"],
                                         rows=tuple(r + offset for r in summary["rows"]), file=source.where)]
        orphaned += found
        if cache:
            cache.put(orphan_keys.get(source.table), "orphans", found)
    if cache:
        cache.save()
    findings = [f for table in names for f in per_table[table]] + orphaned
    order = {t: i for i, t in enumerate(c.TABLE_NAMES)}
    return Checks(sorted(findings, key=lambda f: (f.severity != ERROR, order[f.table])), tuple(remembered))


def _on_engine(engine: Reducer, kinds: tuple[str, ...]) -> tuple[str, ...]:
    """The check cache's kinds for findings an engine made (its examples are values, not rows)."""
    return tuple(f"{engine.engine}:{kind}" for kind in kinds)


def all_remembered(ws: Workspace, tables: Iterable[str] | None = None, *, as_of: dt.date | None = None,
                   errors_only: bool = False) -> bool:
    """Whether check() with these arguments (and no engine) would take every table's findings,
    and every orphan count, from the check cache: nothing would be read but each file's
    first 64 KiB. Reads the cache, writes nothing; the keys are check()'s own."""
    names = [t for t in (tables or ws.sources) if t in ws.sources]
    cache = CheckCache(ws.root)
    kind = kinds(errors_only, as_of)
    keys = {t: source_key(ws.sources[t]) for t in names}
    for table in names:  # a table missing a required column is not read: its findings need no cache
        if not ws.sources[table].missing_required and cache.get(keys[table], kind) is None:
            return False
    if errors_only or "customers" not in ws.sources or ws.sources["customers"].missing_required:
        return True  # no orphans are counted (as _orphan_queries)
    return all(cache.get(_orphan_key(ws, keys, table), "orphans") is not None
               for table in ORPHAN_TABLES if table in names and not ws.sources[table].missing_required)


ORPHAN_TABLES = ("transactions", "points")  # tables whose customer ids must be in customers


def every_customer_known(ws: Workspace) -> bool:
    """Whether the checks found every customer id of the transactions file in the customers table:
    no orphan_customer finding is remembered for the two files as they are now, and the workspace
    reads customers whole (a view's valid rows may have lost an id). False when not known (a
    database table, files not checked since they changed). Reads the check cache only."""
    if not {"transactions", "customers"} <= set(ws.sources) or "customers" in ws.frames:
        return False
    keys = {t: source_key(ws.sources[t]) for t in ("transactions", "customers")}
    return CheckCache(ws.root).get(_orphan_key(ws, keys, "transactions"), "orphans") == []


def _orphan_finding(table: str, ids: list[str] = ()) -> Finding:
    """orphan_customer, with the first ids as written when known: a format apart ('799.0', 'C000799'
    against '799') is then plain to see."""
    such_as = f", such as {', '.join(repr(i) for i in ids)}" if ids else ""
    fix = "add these customers to the customers table, or check the id format (leading zeros, prefixes)"
    if ids and all(re.fullmatch(r"\d+\.0+", i) for i in ids):
        fix = (f"ids such as {ids[0]!r} were written with decimals (a spreadsheet's number format): export the "
               f"ids as text, or as whole numbers ({ids[0].split('.')[0]})")
    return Finding(WARNING, table, "customer_id", "orphan_customer", 0, (),
                   f"customer ids not found in the customers table (kept in the analysis){such_as}", fix)


def transaction_warnings(cols: set[str], as_of: dt.date | None) -> dict[str, Finding]:
    """The transactions' warning rules by name, as findings without counts: what an engine
    that checks them by its own queries (core.engines) says, in the same words."""
    said = {r.rule: Finding(r.severity, "transactions", r.column, r.rule, 0, (), r.message, r.fix)
            for r in _table_rules("transactions", cols, as_of) if r.severity == WARNING}
    return {**said, "orphan_customer": _orphan_finding("transactions")}


def _orphan_key(ws: Workspace, keys: dict[str, str | None], table: str) -> str | None:
    """A table's orphans depend on it and on customers: remembered only while neither file changed."""
    if table not in keys or "customers" not in ws.sources:
        return None
    own = keys[table]
    customers = keys["customers"] if "customers" in keys else source_key(ws.sources["customers"])
    return f"{own}+{customers}" if own and customers else None


def _unreadable_table(exc: Exception, queries, summaries) -> InputError:
    """Find which table could not be read and say where."""
    for (source, _, _), summary in zip(queries, summaries):
        try:
            summary.collect()
        except pl.exceptions.PolarsError as table_exc:
            return explain_read_error(table_exc, source.path, source.read)
    return InputError(f"a table could not be read: {exc}")


def raise_for_errors(findings: list[Finding]) -> None:
    errors = [f for f in findings if f.severity == ERROR]
    if errors:
        first = errors[0]
        others = len(errors) - 1
        more = (f" (and {others} more error{'s' if others > 1 else ''}: run `loyalist data validate`)"
                if others else "")
        counted = "" if first.rule in WHOLE_TABLE_RULES else f": {first.count:,} row{'s' * (first.count != 1)}"
        raise InputError(
            f"{first.message}{counted}{more}",
            file=first.file, column=first.column or None, rows=first.rows, fix=first.fix,
        )


def valid_rows(ws: Workspace, table: str) -> tuple[pl.LazyFrame, int]:
    """The table (canonical columns, as ws.scan gives it) without the rows that break an
    error rule, and how many rows were left out (counted in one pass)."""
    source = ws.sources[table]
    raw = ws.scan_raw(table)
    schema = raw.collect_schema()
    rules = [r for r in _rules(source, schema, None) if r.severity == ERROR and not r.whole_column]
    bad = pl.any_horizontal([r.flag.fill_null(False) for r in rules]) if rules else pl.lit(False)
    frame = raw.with_row_index(ROW).with_columns(**plain_numbers(source, schema)).select(
        pl.col(ROW), *_as_read(source, schema), *_plain_columns(source, schema),
        *coercions(source, schema, staged=True))
    totals = _last_amount(frame) if table == "transactions" and source.database is None else []
    counted = frame.select(bad.sum().alias("bad"), bad.last().alias("last_bad"), pl.len().alias("__n"),
                           *totals).collect().row(0, named=True)
    count = counted["bad"]
    if totals and sums_the_rows_above(counted["__n"], counted["__amount_last"], counted["__amount_sum"]):
        bad = bad | (pl.col(ROW) == counted["__n"] - 1)  # the totals row (_totals_row)
        count += not counted["last_bad"]
    return frame.filter(~bad).select([m.canonical for m in source.columns]), count


def findings_table(findings: list[Finding]) -> pl.DataFrame:
    schema = {"severity": pl.String, "table": pl.String, "column": pl.String, "rule": pl.String,
              "count": pl.Int64, "rows": pl.String, "message": pl.String, "fix": pl.String}
    return pl.DataFrame(
        [{"severity": f.severity, "table": f.table, "column": f.column, "rule": f.rule, "count": f.count,
          "rows": ", ".join(map(str, f.rows)), "message": f.message, "fix": f.fix} for f in findings],
        schema=schema,
    )


def validation_result(ws: Workspace, as_of: dt.date | None = None, engine: Reducer | None = None) -> Result:
    ws = ws.readable()  # a file that cannot be read is an error here; the other tables are still checked
    checks = check(ws, as_of=as_of, engine=engine)
    findings = [*map(unreadable_finding, ws.unreadable.items()), *checks.findings]
    errors = sum(f.severity == ERROR for f in findings)
    remembered = [ws.sources[t].shown_name for t in checks.remembered]
    notes = [f"{', '.join(remembered)}: findings remembered from an earlier check of the same unchanged "
             f"file{'s' if len(remembered) > 1 else ''} (size, time, content; {CACHE_FILE.as_posix()})"] \
        if remembered else []
    if engine is not None and "transactions" in ws.sources:
        notes.append(f"The transactions were checked on {engine.label}, by queries there; their findings "
                     "give example rows by their values rather than row numbers.")
    return Result(
        name="data.validate",
        title=f"Validation of {ws.name}",
        tables={"findings": findings_table(findings)},
        headline={"errors": errors, "warnings": len(findings) - errors, "tables": len(ws.sources) + len(ws.unreadable)},
        params={"workspace": str(ws.root), "as_of": as_of},
        notes=tuple(notes),
    )


def unreadable_finding(failed: tuple[str, LoyalistError]) -> Finding:
    """A table whose file could not be read (Workspace.unreadable), as an error finding."""
    table, error = failed
    if isinstance(error, InputError):
        where = f"{Path(error.file).name}: " if error.file else ""
        return Finding(ERROR, table, error.column or "", "unreadable_table", len(error.rows) or 1, error.rows,
                       f"{where}{error.message}", error.fix or "", error.file or "")
    return Finding(ERROR, table, "", "unreadable_table", 1, (), str(error), "", "")


# -- rules ---------------------------------------------------------------------


def _checked_frame(source: TableSource, raw: pl.LazyFrame) -> pl.LazyFrame:
    """Row number, each checked column as read (prefixed) and as coerced."""
    ranged = {column for column, *_ in source.ranges}  # extra columns with a declared range
    schema = raw.collect_schema()
    return raw.with_row_index(ROW).with_columns(**plain_numbers(source, schema)).select(
        pl.col(ROW),
        *_as_read(source, schema),
        *_plain_columns(source, schema),  # kept for the rules (not_finite reads them)
        *[e for e, m in zip(coercions(source, schema, staged=True), source.columns)
          if m.kind != "extra" or m.canonical in ranged or _text_number(m, schema)],
    )


def _as_read(source: TableSource, schema: pl.Schema) -> list[pl.Expr]:
    """The columns the rules read as written (src:<name>): the mapped ones, the extra columns read as
    numbers from text, whose values may not all be numbers, and a currency column."""
    currency = _currency_column(source)
    return [pl.col(m.source).alias(f"src:{m.canonical}") for m in source.columns
            if m.kind != "extra" or _text_number(m, schema) or m is currency]


def _currency_code(column: str) -> pl.Expr:
    """A currency column's codes (as read) as compared: trimmed, upper case, blank as none."""
    code = pl.col(f"src:{column}").cast(pl.String).str.strip_chars().str.to_uppercase()
    return pl.when(code != "").then(code)


def _currency_rule(currency: ColumnMapping) -> _Rule:
    # An error: no sum of the amounts means anything. The currencies named; those past the first
    # are counted, with their rows, by a second read (_currency_findings)
    return _Rule(ERROR, currency.canonical, "mixed_currencies", pl.lit(0), "", "", whole_column=True,
                 tally=_currency_code(currency.canonical))


def _currency_column(source: TableSource) -> ColumnMapping | None:
    """An extra column that says each row's currency (Currency, 币种), in a table whose rows are
    money (an order's amount, a campaign's spend): a customer's currency may be a preference, not
    what the acquisition cost is in."""
    if source.table == "customers" or not any(m.kind == c.MONEY for m in source.columns):
        return None
    return next((m for m in source.columns if m.kind == "extra" and normalise_header(m.source) in CURRENCY_HEADERS),
                None)


def _text_number(m: ColumnMapping, schema: pl.Schema) -> bool:
    """An extra column (a Likert item) read as numbers from text: judged numeric on its first rows, or
    its answers the labels of a scale (core.likert)."""
    return (m.kind == "extra" and schema[m.source] == pl.String
            and (m.detail == "number" or likert.scale_in(m.detail) is not None))


def _plain_columns(source: TableSource, schema: pl.Schema) -> list[pl.Expr]:
    return [pl.col(h) for m in source.columns if m.kind != "extra" and (h := plain_column(m, schema))]


def _present(source_col: str, dtype: pl.DataType, kind: str = c.TEXT) -> pl.Expr:
    raw = pl.col(source_col)
    if dtype.is_numeric() or dtype.is_temporal() or dtype == pl.Boolean:
        # Only text can be blank; casting 10 million dates to text to find out cost ~1 s.
        return raw.is_not_null()
    if kind in (c.MONEY, c.NUMBER, c.INTEGER):
        # N/A, -, 不适用 in a number column are answers left blank (core.coerce.MISSING_TOKENS)
        return raw.is_not_null() & ~is_missing_token(raw)
    return raw.is_not_null() & (raw.cast(pl.String).str.strip_chars() != "")


def _rules(source: TableSource, schema: pl.Schema, as_of: dt.date | None) -> list[_Rule]:
    table = c.TABLES[source.table]
    rules: list[_Rule] = []
    for m in source.columns:
        if m.kind == "extra":
            rules += _extra_rules(source, m, schema)
            continue
        required = m.canonical in table.required
        src = f"src:{m.canonical}"
        if not required and m.canonical not in SPARSE:  # an export's column left empty: said once, not per row
            # every value null or "" (a quoted empty field): the largest text is then "", or none. A flag
            # per row (or a length per row) held hundreds of MB more at 10M rows of text read from a CSV.
            empty = (pl.col(src).max().fill_null("") == "" if schema[m.source] == pl.String
                     else pl.col(src).null_count() == pl.len())
            rules.append(_Rule(WARNING, m.canonical, "empty_column", pl.when(empty).then(pl.len()).otherwise(0),
                               f"{m.source!r} is empty in every row",
                               f"fill in {m.source}, or leave the column out: what needs {m.canonical} cannot "
                               "use it", whole_column=True))
        if m.canonical in LABELS:
            # the rows of each distinct label; the first rows of those that differ only in case are
            # read only when there are some (_spelling_findings)
            rules.append(_Rule(WARNING, m.canonical, "spelling_variants", pl.lit(0), "", "", whole_column=True,
                               tally=pl.col(m.canonical).cast(pl.String)))
        if (m.kind in (c.ID, c.TEXT) and schema[m.source] == pl.String and m.detail != EXCEL_TEXT
                and source.database is None):
            # the first rows judged the column plain (core.workspace): ="00123" further down, or now and
            # then, is read as written, and as an id it meets no 00123 in another table. A file's quirk:
            # not looked for in a database table, which an engine checks without reading it here
            rules.append(_Rule(WARNING, m.canonical, "excel_text_mixed", pl.col(src).str.starts_with('="'),
                               f'{m.source!r} values written ="..." (text for Excel) among plain ones, read as '
                               'written: ="00123" is not 00123 here',
                               f"write {m.source} one way through the file: export it again, or remove the = "
                               "and quotes around these values"))
        if required:
            rules.append(_Rule(ERROR, m.canonical, "missing_value", ~_present(src, schema[m.source], m.kind),
                               f"{m.canonical} is empty", f"fill in {m.source} on these rows or remove them"))
        if m.kind in (c.DATE, c.DATETIME):
            rules.append(_Rule(ERROR, m.canonical, "implausible_date", pl.col(m.canonical).dt.year() < MIN_YEAR,
                               f"dates in {m.source!r} before {MIN_YEAR} (a two-digit year read as four digits?)",
                               f'correct them, or set date_format in loyalist.toml ("%y" reads a two-digit year)'))
        absurd = None
        if m.kind in NUMBER_KINDS:
            helper = plain_column(m, schema)
            value = number_value(pl.col(src), schema[m.source], column_parse(source, m),
                                 pl.col(helper) if helper else None)
            absurd = value.is_not_null() & (~value.is_finite() | (value.abs() >= c.MAX_MAGNITUDE))
            rules.append(_Rule(
                ERROR, m.canonical, "not_finite", absurd,
                f"values in {m.source!r} that are NaN, infinite or beyond ±{c.MAX_MAGNITUDE:,.0f}",
                "correct these values, or leave them blank if they are unknown"))
        if schema[m.source] != c.DTYPES[m.kind]:
            hint = {c.DATE: "a date format (set date_format in loyalist.toml if needed)",
                    c.DATETIME: "a date-time format (set date_format in loyalist.toml if needed)",
                    c.MONEY: "an amount (set decimal = \",\" for 1 234,50)",
                    c.NUMBER: "a number", c.INTEGER: "a whole number", c.FLAG: "yes/no, true/false or 1/0"}
            message, fix = (f"values in {m.source!r} that do not parse as {m.kind}",
                            f"correct them to {hint.get(m.kind, 'text')}")
            if m.kind == c.ID and schema[m.source].is_float():  # see core.coerce: never truncated
                message, fix = (f"ids in {m.source!r} stored as numbers that are not whole (such as 1.5) "
                                "or too long to be exact",
                                "export the ids as text; a fraction cannot be dropped without merging ids")
            # A score's answer that does not parse (a label alone, "Extremely likely") is an answer
            # all the same: read as missing it would bias the score, so it stops the analyses
            scored = next((span for name, *span in source.ranges if name == m.canonical), None)
            if scored is not None:
                low, high = scored[0], scored[1]
                fix = (f"export the answers as numbers ({low:g}-{high:g}), not their labels; leave a non-answer "
                       "blank or N/A")
            rules.append(_Rule(
                ERROR if required or scored is not None else WARNING, m.canonical, "unparsable",
                _present(src, schema[m.source], m.kind) & pl.col(m.canonical).is_null()
                & (~absurd if absurd is not None else True),
                message + ("" if required or scored is not None else " (treated as missing)"), fix))
    if (currency := _currency_column(source)) is not None:
        rules.append(_currency_rule(currency))
    cols = {m.canonical for m in source.columns}
    rules += _table_rules(source.table, cols, as_of)
    rules += [_range_rule(source.table, *declared) for declared in source.ranges]
    return rules


def _extra_rules(source: TableSource, m: ColumnMapping, schema: pl.Schema) -> list[_Rule]:
    """An extra column read as numbers (judged so on its first rows) with a value further on that is
    none ('Agree' among 1-5 answers): a warning, as for an optional contract column, or an error when
    the column has a declared range, as for a score (see _rules)."""
    if not _text_number(m, schema):
        return []
    scored = any(name == m.canonical and how.startswith(CONFIG_NAME) for name, *_, how in source.ranges)
    present = _present(f"src:{m.canonical}", schema[m.source], c.NUMBER)
    scale = likert.scale_in(m.detail)
    what, fix = ((f"labels of its scale ({scale})", "correct them to the scale's labels; leave a non-answer "
                  "blank or N/A") if scale is not None else
                 ("number", "export the answers as numbers, not their labels; leave a non-answer blank or N/A"))
    return [_Rule(ERROR if scored else WARNING, m.canonical, "unparsable", present & pl.col(m.canonical).is_null(),
                  f"values in {m.source!r} that are not {what}" + ("" if scored else " (treated as missing)"), fix)]


def _unless_filled_early(rules: list[_Rule], source: TableSource, raw: pl.LazyFrame) -> list[_Rule]:
    """The rules less the empty-column ones of columns with a value in the first rows, which cannot
    be empty. The others read their whole column, which the summary then holds (it is not
    streamed): at 10M rows of a CSV, seven text columns no other rule reads took 2 s and 0.8 GB."""
    whole = {r.column for r in rules if r.rule == "empty_column"}
    if not whole:
        return rules
    named = {m.canonical: m.source for m in source.columns if m.canonical in whole}
    try:
        first = raw.select(named.values()).head(FIRST_ROWS).collect()
    except pl.exceptions.PolarsError:  # unreadable: the summary's read says where (_unreadable_table)
        return rules
    filled = {c for c, name in named.items() if (first[name].cast(pl.String).fill_null("") != "").any()}
    return [r for r in rules if not (r.rule == "empty_column" and r.column in filled)]


def _table_rules(table: str, cols: set[str], as_of: dt.date | None) -> list[_Rule]:
    rules: list[_Rule] = []
    limit = as_of or dt.date.today()
    after = "the as-of date " + as_of.isoformat() if as_of else "today"
    date_col = {"transactions": "order_date", "touchpoints": "timestamp", "survey": "response_date",
                "points": "date"}.get(table)
    if date_col in cols:
        value = pl.col(date_col).dt.date() if date_col == "timestamp" else pl.col(date_col)
        rules.append(_Rule(WARNING, date_col, "date_after_as_of", value > limit,
                           f"dates after {after} (left out of analyses as of that date)",
                           "check the dates, or pass a later --as-of"))
    if table == "transactions":
        rules.append(_Rule(WARNING, "amount", "negative_amount", pl.col("amount") < 0,
                           "negative amounts (kept as returns)",
                           "nothing to do if these are returns; otherwise correct the sign"))
        if "order_id" in cols:
            key = ["order_id", "product_id"] if "product_id" in cols else ["order_id"]
            rules.append(_Rule(WARNING, "order_id", "duplicate_order",
                               pl.col("order_id").is_not_null() & pl.struct(key).is_duplicated(),
                               "order ids that appear more than once" + (" for the same product" if len(key) > 1 else ""),
                               "remove duplicated rows, or add product_id if rows are order lines", key=tuple(key)))
    if table == "customers":
        rules.append(_Rule(ERROR, "customer_id", "duplicate_customer",
                           pl.col("customer_id").is_not_null() & pl.col("customer_id").is_duplicated(),
                           "customer ids that appear more than once",
                           "keep one row per customer in the customers table", key=("customer_id",)))
    if table == "campaigns":
        rules.append(_Rule(ERROR, "campaign_id", "duplicate_campaign",
                           pl.col("campaign_id").is_not_null() & pl.col("campaign_id").is_duplicated(),
                           "campaign ids that appear more than once", "keep one row per campaign"))
        if {"start_date", "end_date"} <= cols:
            rules.append(_Rule(WARNING, "end_date", "end_before_start", pl.col("end_date") < pl.col("start_date"),
                               "campaigns that end before they start", "swap or correct the dates"))
    if table == "experiments":
        rules.append(_Rule(WARNING, "customer_id", "duplicate_assignment",
                           pl.struct("customer_id", "experiment").is_duplicated(),
                           "customers assigned more than once to the same experiment",
                           "keep one assignment per customer and experiment"))
    if table == "points":
        rules += _ledger_rules()
    return rules


def _ledger_rules() -> list[_Rule]:
    """A kind that is not earn, redeem, expire or adjust; redemptions the balance does not cover
    or that come before any points were earned (core.ledger: the kind gives the sign)."""
    kind = ledger.kind_of()
    present = pl.col("kind").is_not_null() & (pl.col("kind").cast(pl.String).str.strip_chars() != "")
    order = ["date", ROW]
    balance = ledger.running(ledger.signed_points(kind), order)
    earned_before = ledger.running(pl.when(ledger.signed_points(kind) > 0).then(pl.col("points").abs()), order) \
        - pl.when(ledger.signed_points(kind) > 0).then(pl.col("points").abs()).otherwise(0)
    redeem = kind == ledger.REDEEM
    return [
        _Rule(ERROR, "kind", "unknown_points_kind", present & kind.is_null(),
              "points kinds that are not earn, redeem, expire or adjust",
              "use earn, redeem, expire or adjust (or 获得, 兑换, 过期, 调整) in the kind column"),
        _Rule(WARNING, "points", "redeemed_before_earning", redeem & (earned_before <= 0),
              "redemptions before the customer had earned any points (kept: the balance goes negative)",
              "check these customers' earlier points are in the ledger, or their dates"),
        _Rule(WARNING, "points", "redemption_exceeds_balance", redeem & (earned_before > 0) & (balance < 0),
              "redemptions larger than the customer's balance at the time (kept: the balance goes negative)",
              "check the points of these rows and the earlier earnings of these customers"),
    ]


def _range_rule(table: str, column: str, low: float, high: float, declared_in: str) -> _Rule:
    span = f"{low:g}–{high:g}"
    fix = (f"correct these answers to {span}, or declare the scale's range in loyalist.toml: "
           f'[tables.{table}.ranges] {column} = [low, high]') if declared_in == "the data contract" \
        else f"correct these answers to {span}, or the range declared in {declared_in}"
    value = pl.col(column)
    return _Rule(ERROR, column, "out_of_range", value.is_finite() & ~value.is_between(low, high),
                 f"answers in {column!r} outside {span} (declared in {declared_in})", fix)


def _tallies(frame: pl.LazyFrame, rules: list[_Rule]) -> pl.LazyFrame:
    """The rows of each combination of the tallied rules' values (v<i>, n): one read for a table's
    label columns, which hold few distinct values each."""
    return frame.group_by(**{f"v{i}": rule.tally for i, rule in enumerate(rules) if rule.tally is not None}).agg(
        n=pl.len())


def _summarise(frame: pl.LazyFrame, rules: list[_Rule], flags: dict[str, pl.Expr],
               extra: list[pl.Expr]) -> pl.LazyFrame:
    """One row: the rows (__n), each rule's count (n<i>), the sum of each of `flags`, row flags
    set before the sums (core.order_layout.layout_flags), and `extra`'s one-row aggregations."""
    return frame.with_columns(**flags).select(pl.len().alias("__n"),
                        *((rule.flag if rule.whole_column and rule.tally is None else pl.lit(0, pl.UInt32)
                           if rule.key or rule.tally is not None
                           else rule.flag.fill_null(False).sum()).alias(f"n{i}")
                          for i, rule in enumerate(rules)), *(pl.col(name).sum() for name in flags), *extra)


# Held per row while looking for repeated keys: the key's 64-bit hash and the row number, with
# is_duplicated's table: about 38 bytes at 20M order lines, 55 at 200M, so 64 to plan with (the
# text keys held 225 bytes a row: 5.3 GB at 20M order lines)
REPEATED_BYTES_PER_ROW = 64
KEY_HASH_SEED = 20_261_207


def _key_hash(key: tuple[str, ...]) -> pl.Expr:
    """A key's 64-bit hash (tests make every key share one)."""
    return pl.struct(key).hash(KEY_HASH_SEED)


def _repeated_rows(frame: pl.LazyFrame, key: tuple[str, ...], rows: int) -> pl.Series:
    """The row numbers (sorted) of the rows whose key (not empty) another row repeats. First the
    rows whose key's hash repeats, in passes over disjoint sets of hashes sized from the memory
    budget (each pass re-reads the file); then the text keys of those few rows, compared exactly,
    so a hash two keys share by chance never counts."""
    from core.memory import memory_budget

    passes = max(1, -(-rows * REPEATED_BYTES_PER_ROW // memory_budget()))
    hashed = frame.filter(pl.col(key[0]).is_not_null()).select(ROW, _h=_key_hash(key))
    candidates = pl.concat([hashed.filter(pl.col("_h") % passes == k).filter(pl.col("_h").is_duplicated())
                            .select(ROW).collect() for k in range(passes)])
    if candidates.is_empty():
        return candidates[ROW]
    return (frame.filter(pl.col(ROW).is_in(candidates[ROW].implode())).filter(pl.struct(key).is_duplicated())
            .select(ROW).collect()[ROW].sort())


def _spelling_findings(queries: list[tuple[TableSource, list[_Rule], pl.LazyFrame]],
                       counts: list[dict]) -> dict[tuple[int, int], list[Finding]]:
    """spelling_variants' findings, keyed (query, rule): for each label column written more than one
    way ('Web', 'web'), the rows not in each label's most common spelling, and their first rows.
    Read only for the columns whose distinct labels differ only in case (_spelt_apart)."""
    fired = [(q, i) for q, ((_, rules, _), row) in enumerate(zip(queries, counts))
             for i, rule in enumerate(rules) if rule.rule == "spelling_variants" and _spelt_apart(row[f"n{i}"])]
    tallied = _tallied(queries, counts, fired, lambda label: label.str.to_lowercase())
    return {(q, i): [spelling_finding(queries[q][0].table, queries[q][1][i].column, table, rows, queries[q][0].where)]
            for (q, i), (table, rows) in tallied.items()}


def spelling_finding(table: str, column: str, ranked: pl.DataFrame, rows: tuple[int, ...], where: str) -> Finding:
    """The spelling_variants warning from ranked_values(tally, lower case): `rows` are the first
    rows not in their label's most common spelling (none from an engine, core.engines)."""
    groups = [", ".join(f"{value!r} ({n:,})" for value, n in zip(g["value"], g["n"]))
              for _, g in ranked.group_by("_group", maintain_order=True)]
    if len(groups) > MAX_SPELLINGS_SHOWN:
        groups[MAX_SPELLINGS_SHOWN:] = [f"and {len(groups) - MAX_SPELLINGS_SHOWN:,} more"]
    return Finding(
        WARNING, table, column, "spelling_variants", int(ranked.filter("_other")["n"].sum()), rows,
        f"{column} values written more than one way, which analyses count apart: {'; '.join(groups)}",
        f"write each {column} one way in the file (rows shown are those not in the most common spelling)",
        where)


def ranked_values(tally: pl.DataFrame, group: Callable[[pl.Expr], pl.Expr]) -> pl.DataFrame:
    """A column's values and their rows (value, n), kept to the groups `group` makes of them that
    hold more than one, most rows first in each group; _other: not its group's most common value."""
    return (tally.drop_nulls().with_columns(_group=group(pl.col("value"))).filter(pl.len().over("_group") > 1)
            .sort(["_group", "n", "value"], descending=[False, True, False])
            .with_columns(_other=pl.int_range(pl.len()).over("_group") > 0))


def _tallied(queries: list[tuple[TableSource, list[_Rule], pl.LazyFrame]], counts: list[dict],
             keys: list[tuple[int, int]], group: Callable[[pl.Expr], pl.Expr],
             ) -> dict[tuple[int, int], tuple[pl.DataFrame, tuple[int, ...]]]:
    """For the tallied rules (_Rule.tally) that fired, keyed (query, rule): the rows of each value
    (value, n) among the groups `group` makes of them that hold more than one, most rows first in
    each group (_other: not its most common value), and the first rows of the _other values,
    numbered as validation shows them: a second read, on these rules' error or warning path only."""
    if not keys:
        return {}
    ranked = [ranked_values(counts[q][f"n{i}"], group) for q, i in keys]
    first_rows = pl.collect_all([
        queries[q][2].filter(queries[q][1][i].tally.is_in(table.filter("_other")["value"].implode()))
        .select(ROW).head(MAX_ROWS_SHOWN) for (q, i), table in zip(keys, ranked)])
    offsets = [2 if queries[q][0].header_row else 1 for q, _ in keys]
    return {key: (table, tuple(r + offset for r in rows[ROW].to_list()))
            for key, table, rows, offset in zip(keys, ranked, first_rows, offsets)}


def _on_first_lines_only(queries: list[tuple[TableSource, list[_Rule], pl.LazyFrame]],
                         counts: list[dict]) -> dict[tuple[int, int], tuple[str, str]]:
    """The message and fix of the transactions' missing_value findings whose empty rows are all an
    order's later lines (the line above is of the same order; its first line has the value): an order
    export (Shopify's) that writes the order's customer, date and total on its first line only.
    Read on that error path only."""
    fired = [(q, i) for q, ((source, rules, _), row) in enumerate(zip(queries, counts))
             if source.table == "transactions" and "order_id" in {m.canonical for m in source.columns}
             for i, rule in enumerate(rules) if rule.rule == "missing_value" and row.get(f"n{i}")]
    if not fired:
        return {}
    order = pl.col("order_id")
    later_lines = [queries[q][2].select(
        (rule.flag & order.is_not_null() & (order == order.shift())).sum().alias("later"))
        for q, i in fired for rule in [queries[q][1][i]]]
    said = {}
    for (q, i), later in zip(fired, pl.collect_all(later_lines)):
        count, source = counts[q][f"n{i}"], queries[q][0]
        if later["later"].item() == count:
            rule = queries[q][1][i]
            name = next(m.source for m in source.columns if m.canonical == rule.column)
            said[q, i] = (
                f"{rule.column} only on the first line of each order, none on its later lines (an order "
                "export's layout, as Shopify's)",
                f"keep each order's first line, which carries the order's {name}: run with --skip-invalid (or "
                'set on_invalid = "skip" under [tables.transactions]), and the later lines are left out and '
                "counted; analyses by product then see each order's first line only")
    return said


MAX_TOTALS_ROWS = 3  # a report's summary lines at its end: a total, perhaps tax and a grand total
# A last row whose amount is the sum of the rows above it is a totals row when there are at least
# these rows above: in a handful of rows, one purchase may equal the others' sum by chance.
MIN_ROWS_UNDER_TOTALS = 10
TOTALS_FIX = ("delete the totals row from the file, or run with --skip-invalid (or set on_invalid = \"skip\" "
              "under [tables.transactions]) to leave it out and count it")


def _last_amount(frame: pl.LazyFrame) -> list[pl.Expr]:
    """The last row's amount and the sum of all (one-row aggregations that stream), for _totals_row;
    a file's only: a database table's rows have no order to have a last one."""
    if not frame.collect_schema().get("amount", pl.Null).is_numeric():
        return []
    return [pl.col("amount").last().alias("__amount_last"), pl.col("amount").sum().alias("__amount_sum")]


def sums_the_rows_above(rows: int, last: float | None, total: float | None) -> bool:
    """Whether the last of `rows` rows, with amount `last` (the amounts summing to `total`), holds
    the sum of every row above it: a report's totals row under its purchases."""
    return (rows > MIN_ROWS_UNDER_TOTALS and last is not None and total is not None and last != 0
            and abs(2 * last - total) < 0.005 + 1e-9 * abs(total))


def _totals_row(source: TableSource, row: dict) -> list[Finding]:
    """The transactions' totals_row error: the last row's amount is the sum of every row above it,
    its customer and date filled (a totals row missing either is said by _totals_at_end)."""
    last, total = row.get("__amount_last"), row.get("__amount_sum")
    if not sums_the_rows_above(row["__n"], last, total):
        return []
    line = row["__n"] - 1 + (2 if source.header_row else 1)
    return [Finding(ERROR, "transactions", "amount", "totals_row", 1, (line,),
                    f"the last row's amount ({last:,.2f}) is the sum of every row above it: a report's "
                    "totals row, not a purchase", TOTALS_FIX, source.where)]


def _totals_at_end(queries: list[tuple[TableSource, list[_Rule], pl.LazyFrame]],
                   counts: list[dict]) -> dict[tuple[int, int], tuple[str, str]]:
    """The message and fix of the transactions' missing customer_id or order_date when the rows
    are only the file's last few: a POS or spreadsheet report's totals row under the purchases
    (only the amount filled, often the sum of the rows above, which is said when it is).
    Read on that error path only."""
    fired = [(q, i) for q, ((source, rules, _), row) in enumerate(zip(queries, counts))
             if source.table == "transactions" and row["__n"] > 1
             for i, rule in enumerate(rules) if rule.rule == "missing_value"
             and rule.column in ("customer_id", "order_date") and 0 < (row.get(f"n{i}") or 0) <= MAX_TOTALS_ROWS]
    if not fired:
        return {}
    reads = []
    for q, i in fired:
        flagged, rows = queries[q][1][i].flag.fill_null(False), counts[q]["__n"]
        amount = pl.col("amount")
        reads.append(queries[q][2].select(
            (flagged & (pl.col(ROW) >= rows - counts[q][f"n{i}"])).sum().alias("at_end"),
            amount.filter(flagged).max().alias("largest"), amount.filter(~flagged).sum().alias("above")))
    said = {}
    for (q, i), read in zip(fired, pl.collect_all(reads)):
        at_end, largest, above = read.row(0)
        count, column = counts[q][f"n{i}"], queries[q][1][i].column
        if at_end != count:
            continue
        where = "the last row" if count == 1 else f"the last {count} rows"
        total = largest is not None and above and abs(largest - above) < 0.005 + 1e-9 * abs(above)
        said[q, i] = (
            f"{column} is empty on {where} of the file only"
            + (f", whose amount ({largest:,.2f}) is the sum of every row above it" if total else "")
            + ": a report's totals row, not a purchase", TOTALS_FIX)
    return said


def _currency_findings(queries: list[tuple[TableSource, list[_Rule], pl.LazyFrame]],
                       counts: list[dict]) -> dict[tuple[int, int], list[Finding]]:
    """mixed_currencies' findings, keyed (query, rule): a table whose rows are in several currencies,
    which every sum would add as one; counted are the rows not in the most common currency."""
    fired = [(q, i) for q, ((_, rules, _), row) in enumerate(zip(queries, counts))
             for i, rule in enumerate(rules) if rule.rule == "mixed_currencies"
             and row[f"n{i}"]["value"].drop_nulls().len() > 1]
    tallied = _tallied(queries, counts, fired, lambda _: pl.lit(0))  # one group: every currency
    found = {}
    for (q, i), (tally, rows) in tallied.items():
        source, rule = queries[q][0], queries[q][1][i]
        listed = ", ".join(f"{code!r} ({n:,} row{'s' * (n != 1)})"
                           for code, n in tally.head(MAX_SPELLINGS_SHOWN).select("value", "n").iter_rows())
        more = f" and {tally.height - MAX_SPELLINGS_SHOWN:,} more" if tally.height > MAX_SPELLINGS_SHOWN else ""
        found[q, i] = [Finding(
            ERROR, source.table, rule.column, "mixed_currencies", int(tally.filter("_other")["n"].sum()), rows,
            f"amounts in {tally.height} currencies, which every sum would add as one: {listed}{more}",
            "convert the amounts to one currency before loading, or keep one currency's rows in the file (rows "
            "shown are those not in the most common currency)", source.where)]
    return found


def _spelt_apart(tally: pl.DataFrame) -> bool:
    """Whether two of a column's distinct labels (a tally's values) differ only in case."""
    spelt = tally["value"].drop_nulls()
    return spelt.str.to_lowercase().n_unique() < spelt.len()


def _first_rows(frame: pl.LazyFrame, rule: _Rule) -> pl.LazyFrame:
    """The first rows a rule flags; for values that do not parse, the values too (_with_examples)."""
    value = [pl.col(f"src:{rule.column}").cast(pl.String).alias(VALUE)] if rule.rule == "unparsable" else []
    return frame.filter(rule.flag.fill_null(False)).select(ROW, *value).head(MAX_ROWS_SHOWN)


def _with_examples(rule: _Rule, values: list[str], message: str, fix: str,
                   source: TableSource) -> tuple[str, str]:
    """An unparsable finding's message with the values as written (what is wrong is then plain to see),
    and for a date column of whole numbers such as 44927 the spreadsheet's day numbers they are."""
    message = f"{message}, such as {', '.join(repr(v) for v in values)}"
    kind, header = next(((m.kind, m.source) for m in source.columns if m.canonical == rule.column), (None, None))
    if values == [header]:
        return message, ("these rows repeat the header (files joined one after the other?): delete them, or "
                         "join the files again without their headers")
    if kind not in (c.DATE, c.DATETIME) or not all(v.strip().isdigit() for v in values):
        return message, fix
    number = int(values[0])
    if all(SERIAL_DAYS[0] <= int(v) <= SERIAL_DAYS[1] for v in values):
        day = SPREADSHEET_EPOCH + dt.timedelta(days=number)
        fix = (f"these are a spreadsheet's day numbers ({number} is {day.isoformat()}), not dates: format the "
               "column as dates in the spreadsheet before exporting it, or read the workbook itself (.xlsx)")
    for unit, scale in (("seconds", 1), ("milliseconds", 1000)):
        if all(UNIX_SECONDS[0] * scale <= int(v) <= UNIX_SECONDS[1] * scale for v in values):
            when = dt.datetime(1970, 1, 1) + dt.timedelta(seconds=number / scale)
            fix = (f"these are Unix times in {unit} ({number} is {when:%Y-%m-%d %H:%M:%S} UTC), not dates: "
                   "export the column as dates and times (such as 2024-01-05 14:30:00)")
    return message, fix


def _orphan_queries(ws: Workspace, names: list[str]) -> list[tuple[TableSource, pl.LazyFrame]]:
    """Rows of transactions and points whose customer is not in the customers table."""
    if "customers" not in ws.sources or ws.sources["customers"].missing_required:
        return []
    known = ws.scan("customers").select("customer_id").unique()
    queries = []
    for table in ORPHAN_TABLES:
        if table not in names or ws.sources[table].missing_required:
            continue
        orphans = (
            ws.scan(table).with_row_index(ROW)
            .join(known, on="customer_id", how="anti")
            .filter(pl.col("customer_id").is_not_null())
        )
        queries.append((ws.sources[table], orphans.select(
            pl.len().alias("n"), pl.col(ROW).head(MAX_ROWS_SHOWN).implode().alias("rows"),
            pl.col("customer_id").head(50).unique(maintain_order=True).head(MAX_EXAMPLES).implode().alias("ids"))))
    return queries
