"""The data checks' warnings on an engine (core.engines Reducer.check): DuckDB, PostgreSQL
and Spark say what the Polars path says about the transactions (future dates, negative
amounts, duplicate orders, channels written more than one way, customer ids not in
customers), with the same counts, without pulling the table back; and an analysis run on an
engine counts them in its notes, as on Polars.

The reference is core.validate's Polars path on the same planted rows, and the planted
rows are counted by hand too: 3 rows dated 2031, 4 rows of a customer GHOST1 who is not in
customers, 10 rows repeating an (order_id, product_id) pair, 2 rows whose channel is 'Web'
where the sample writes 'web'.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from commands.app import app
from core import engines
from core.validate import WARNING, check
from core.workspace import Workspace
from tests.conftest import SAMPLE
from tests.core.test_database import PASSWORD, PG_TYPES, loaded_postgres, postgres, workspace_in  # noqa: F401

AS_OF = dt.date(2030, 1, 1)  # after every sample date: only the planted 2031 rows are later
TABLES = ("transactions", "customers")
WARNED = {"date_after_as_of", "negative_amount", "duplicate_order", "orphan_customer",
          "spelling_variants"}  # found on the engine
IN_POLARS = {"unparsable"}  # the quantity column the engine does not read: checked here, that column only


def planted(frame: pl.DataFrame) -> pl.DataFrame:
    """The sample's transactions (read as text) with bad rows added at the end."""
    return pl.concat([
        frame,
        frame.slice(0, 3).with_columns(order_date=pl.lit("2031-05-01")),  # future, and 3 repeated pairs
        frame.slice(10, 2).with_columns(channel=pl.lit("Web")),  # two repeated pairs, channel spelt apart
        frame.slice(100, 4).with_columns(customer_id=pl.lit("GHOST1")),  # orphans (and 4 repeated pairs)
        frame.slice(200, 1).with_columns(quantity=pl.lit("lots"), order_id=pl.lit("O-LOTS")),  # not a number
    ])


@pytest.fixture(scope="module")
def planted_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("planted")
    planted(pl.read_csv(SAMPLE / "transactions.csv", infer_schema=False)).write_csv(folder / "transactions.csv")
    (folder / "customers.csv").write_bytes((SAMPLE / "customers.csv").read_bytes())
    return folder


@pytest.fixture(scope="module")
def reference(planted_folder) -> dict:
    """The Polars path's transactions findings, by rule."""
    findings = check(Workspace.open(planted_folder), TABLES, as_of=AS_OF, use_cache=False).findings
    return {f.rule: f for f in findings if f.table == "transactions"}


def typed(folder: Path, table: str) -> pl.DataFrame:
    """A table with the types a database holds (dates as DATE, amounts as numbers)."""
    return pl.read_csv(folder / f"{table}.csv", try_parse_dates=True, infer_schema_length=None)


def assert_same_warnings(ws: Workspace, engine: str, reference: dict) -> None:
    reducer = engines.reducer(ws, engine)
    try:
        found = check(ws, TABLES, as_of=AS_OF, use_cache=False, engine=reducer).findings
    finally:
        reducer.close()
    on_engine = {f.rule: f for f in found if f.table == "transactions"}
    assert set(on_engine) == set(reference) == WARNED | IN_POLARS
    assert on_engine["unparsable"] == reference["unparsable"] or ws.sources["transactions"].database
    assert on_engine["unparsable"].count == 1 and on_engine["unparsable"].column == "quantity"
    for rule, expected in reference.items():
        if rule in IN_POLARS:
            continue
        got = on_engine[rule]
        assert (got.severity, got.column, got.count, got.fix) == (expected.severity, expected.column,
                                                                   expected.count, expected.fix), rule
        if rule == "spelling_variants":  # the labels and their rows are the examples, on both
            assert got.message == expected.message and got.rows == () and expected.rows
            continue
        # with example rows, as the Polars path shows example ids its own way (", such as 'GHOST1'")
        assert got.message.startswith(expected.message.split(", such as ")[0] + " (e.g. "), got.message
        assert got.severity == WARNING and got.file == ws.sources["transactions"].where


def test_the_planted_rows_are_what_the_polars_path_counts(reference):
    """The reference itself, against the hand count (the sample has no future dates, orphans
    or repeated pairs of its own)."""
    assert reference["date_after_as_of"].count == 3
    assert reference["orphan_customer"].count == 4
    assert reference["duplicate_order"].count == 2 * (3 + 2 + 4)  # each repeated pair: both rows
    sample = pl.read_csv(SAMPLE / "transactions.csv", infer_schema=False)
    web = planted(sample).filter(pl.col("channel") == "web").height
    assert reference["spelling_variants"].count == 2 and f"'web' ({web:,}), 'Web' (2)" in reference["spelling_variants"].message
    negative = sample.filter(pl.col("amount").cast(pl.Float64) < 0).height
    # the quantity "lots": after the header line and the sample's rows, the 10th planted row
    assert reference["unparsable"].count == 1 and reference["unparsable"].rows == (1 + sample.height + 10,)
    assert reference["negative_amount"].count == negative + planted(sample).tail(10).filter(
        pl.col("amount").cast(pl.Float64) < 0).height


def test_duckdb_on_the_files_gives_the_polars_warnings(planted_folder, reference):
    pytest.importorskip("ibis")
    assert_same_warnings(Workspace.open(planted_folder), "duckdb", reference)


def test_a_duckdb_database_gives_the_polars_warnings(planted_folder, reference, tmp_path):
    pytest.importorskip("ibis")
    duckdb = pytest.importorskip("duckdb")
    con = duckdb.connect(str(tmp_path / "shop.duckdb"))
    for table in TABLES:
        con.register("frame", typed(planted_folder, table).to_arrow())
        con.execute(f"CREATE TABLE {table} AS SELECT * FROM frame")
        con.unregister("frame")
    con.close()
    ws = workspace_in(tmp_path, '[source]\nurl = "duckdb:///shop.duckdb"\n')
    assert_same_warnings(ws, "duckdb", reference)
    from core.registry import run_analysis

    validated = run_analysis("data.validate", ws, {"as_of": AS_OF})  # a database is checked on its engine
    assert validated.params["engine"] == "duckdb" and "checked on duckdb" in validated.notes[-1]
    assert validated.headline["warnings"] == len(reference)


def test_postgres_gives_the_polars_warnings(loaded_postgres, planted_folder, reference, tmp_path, monkeypatch):
    """The planted transactions in their own schema; customers is the loaded sample's."""
    pytest.importorskip("ibis")
    import psycopg

    monkeypatch.setenv("PGPASSWORD", PASSWORD)
    frame = typed(planted_folder, "transactions")
    types = {n: PG_TYPES[d] for n, d in frame.schema.items()}
    with psycopg.connect(loaded_postgres) as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS planted")
        con.execute("DROP TABLE IF EXISTS planted.transactions")
        con.execute(f"CREATE TABLE planted.transactions ({', '.join(f'{n} {t}' for n, t in types.items())})")
        with con.cursor().copy("COPY planted.transactions FROM STDIN WITH (FORMAT csv, HEADER true)") as copy:
            copy.write(frame.write_csv())
    ws = workspace_in(tmp_path, f'[source]\nurl = "{loaded_postgres}"\n[tables.transactions]\n'
                                'table = "planted.transactions"\n')
    assert_same_warnings(ws, "postgres", reference)


def test_spark_on_the_files_gives_the_polars_warnings(spark, planted_folder, reference):
    assert_same_warnings(Workspace.open(planted_folder), "spark", reference)


def test_data_validate_with_an_engine_reports_the_same_counts(planted_folder):
    """`data validate --engine duckdb` as the analyst runs it: the same warnings and counts,
    and a note saying where the transactions were checked."""
    pytest.importorskip("ibis")
    runs = {}
    for engine in ("polars", "duckdb"):
        result = CliRunner().invoke(app, ["data", "validate", "-w", str(planted_folder), "--as-of", AS_OF.isoformat(),
                                          "--engine", engine, "--format", "json"])
        assert result.exit_code == 0, result.output
        runs[engine] = result.stdout
    import json

    counts = {engine: {(f["table"], f["rule"]): f["count"] for f in json.loads(text)["findings"]}
              for engine, text in runs.items()}
    assert counts["duckdb"] == counts["polars"] and counts["polars"][("transactions", "orphan_customer")] == 4
    assert "checked on duckdb" in runs["duckdb"] and "checked on" not in runs["polars"]


def test_amounts_in_several_currencies_stop_on_an_engine_too(make_workspace):
    tx = "customer_id,order_date,amount,currency\n" + "".join(
        f"C{i},2024-01-0{1 + i % 5},10,{'EUR' if i % 4 == 0 else 'USD'}\n" for i in range(20))
    folder = make_workspace({"transactions.csv": tx})
    result = CliRunner().invoke(app, ["segment", "rfm", "-w", str(folder), "--engine", "duckdb"], env={"COLUMNS": "300"})
    assert result.exit_code == 2, result.output
    assert "amounts in 2 currencies" in result.output and "'USD' (15 rows), 'EUR' (5 rows)" in result.output


def warnings_note(notes: list[str]) -> str:
    [note] = [n for n in notes if n.startswith("The data checks warn about transactions")]
    return note


@pytest.mark.parametrize("engine", ["polars", "duckdb"])
def test_an_analysis_on_an_engine_counts_the_transactions_warnings_in_its_notes(planted_folder, engine):
    """`segment rfm --engine duckdb` says what `--engine polars` says: a CLI user who never ran
    `data validate --engine` hears of the channel spelt two ways and the repeated orders."""
    if engine != "polars":
        pytest.importorskip("ibis")
    import json

    result = CliRunner().invoke(app, ["segment", "rfm", "-w", str(planted_folder), "--as-of", AS_OF.isoformat(),
                                      "--engine", engine, "--format", "json"])
    assert result.exit_code == 0, result.output
    note = warnings_note(json.loads(result.stdout)["notes"])
    assert "channel values written more than one way, which analyses count apart: 'web' (" in note
    assert "'Web' (2): 2 rows" in note
    assert "18 rows" in note  # the repeated (order_id, product_id) pairs
    assert "dates after" not in note  # the analysis says those itself, against its as-of date


@pytest.mark.parametrize("engine", ["polars", "duckdb"])
def test_a_date_before_1900_stops_an_analysis_on_an_engine_too(make_workspace, engine):
    """'0024-01-13' read as the year 24 (an export's two-digit year padded, or a database's own
    date): every recency would be about two thousand years long."""
    if engine != "polars":
        pytest.importorskip("ibis")
    tx = "customer_id,order_date,amount\n" + "".join(f"C{i},2024-01-{1 + i % 9:02d},10\n" for i in range(20))
    folder = make_workspace({"transactions.csv": tx + "C3,0024-01-13,12\n"})
    result = CliRunner().invoke(app, ["segment", "rfm", "-w", str(folder), "--engine", engine], env={"COLUMNS": "300"})
    assert result.exit_code == 2, result.output
    assert "before 1900" in result.output and "%y" in result.output


def test_an_engines_checks_of_a_file_are_remembered_until_it_changes(planted_folder, tmp_path, monkeypatch):
    """As on Polars (core.check_cache): `data validate --engine duckdb` checks the file once; the
    analyses after it take the findings, the orphans too, from the check cache, with the same
    notes, and a change to the file checks it again."""
    pytest.importorskip("ibis")
    import json
    import shutil

    folder = tmp_path / "ws"
    shutil.copytree(planted_folder, folder, ignore=shutil.ignore_patterns(".loyalist"))
    runs = []
    for method in ("check", "orphans"):
        original = getattr(engines.Reducer, method)

        def counted(self, *args, _original=original, _method=method, **kwargs):
            runs.append(_method)
            return _original(self, *args, **kwargs)
        monkeypatch.setattr(engines.Reducer, method, counted)

    def rfm_notes() -> list[str]:
        result = CliRunner().invoke(app, ["segment", "rfm", "-w", str(folder), "--engine", "duckdb", "--format", "json"])
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)["notes"]

    validated = CliRunner().invoke(app, ["data", "validate", "-w", str(folder), "--engine", "duckdb"])
    assert validated.exit_code == 0, validated.output
    assert runs == ["check", "orphans"]
    first = rfm_notes()
    assert runs == ["check", "orphans"]  # remembered: the engine was not asked again
    assert "'Web' (2): 2 rows" in warnings_note(first)
    assert rfm_notes() == first
    with (folder / "transactions.csv").open("a", encoding="utf-8") as file:
        file.write("O-NEW,C000001,2025-06-01,9.99,web,home,HOM-001,1,,\n")
    rfm_notes()
    assert runs == ["check", "orphans", "check"]  # the changed file is checked again
