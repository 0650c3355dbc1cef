"""The per-customer reduction on DuckDB, PostgreSQL and Spark (core.engines, --engine) gives
the Polars path's figures on the sample: the per-customer table, RFM segments, K-Means input
and the channels report, ids and counts exactly and sums to 1e-9. Bad input on an engine is
one line with the fix, exit 2, and nothing written.

The reference is the Polars path (core.features), itself checked against hand counts in
tests/core/test_features.py; here each engine must agree with it on every customer.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from typer.testing import CliRunner

from commands.app import app
from core import engines, features
from core.database import DatabaseTable
from core.errors import InputError
from core.registry import run_analysis
from core.registry.catalog import ENGINE
from core.segments.run import customer_table
from core.workspace import Workspace
from tests.conftest import SAMPLE
from tests.core.test_database import (PASSWORD, _free_port, duckdb_folder, loaded_postgres,  # noqa: F401
                                      postgres, workspace_in)

AS_OF = dt.date(2025, 9, 30)
KINDS = ("segment.rfm", "segment.kmeans", "report.channels")


@pytest.fixture(scope="module")
def file_ws() -> Workspace:
    return Workspace.open(SAMPLE)


@pytest.fixture(scope="module")
def polars_results(file_ws):
    """The reference: every compared analysis on the Polars path, once per module."""
    return {kind: run_analysis(kind, file_ws, {"as_of": AS_OF, "engine": "polars"}) for kind in KINDS}


def full_features(ws: Workspace, engine: str) -> pl.DataFrame:
    """Every per-customer feature (channel mix, tenure from signups, engagement, NPS): K-Means' input.
    On an engine, engagement and the NPS and CSAT answers are reduced there too."""
    reducer = engines.reducer(ws, engine)
    if reducer is not None:
        assert all(reducer.reads(table) for table in ("touchpoints", "survey") if table in ws.sources)
    return customer_table(ws, AS_OF, engine=reducer)[0]


def assert_same_figures(ws: Workspace, engine: str, file_ws: Workspace, polars_results,
                        kinds: tuple[str, ...] = KINDS) -> None:
    reference = full_features(file_ws, "polars")
    on_engine = full_features(ws, engine)
    assert on_engine.height == reference.height > 1000
    assert on_engine["customer_id"].to_list() == reference["customer_id"].to_list()
    assert_frame_equal(on_engine, reference, check_exact=False, rel_tol=1e-12)
    for kind in kinds:
        result = run_analysis(kind, ws, {"as_of": AS_OF, "engine": engine})
        expected = polars_results[kind]
        assert result.params["engine"] == engine and f"computed on {engine}" in result.notes[-1]
        assert result.headline.keys() == expected.headline.keys(), kind
        for key, value in expected.headline.items():
            number = isinstance(value, float)
            assert result.headline[key] == (pytest.approx(value, rel=1e-9) if number else value), (kind, key)
        for name, table in expected.tables.items():
            assert_frame_equal(result.tables[name], table, check_exact=False, rel_tol=1e-9)


def test_the_registry_offers_every_engine_core_knows():
    assert ENGINE.choices == engines.ENGINES


# -- DuckDB ---------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["csv", "parquet"])
def test_duckdb_on_files_gives_the_polars_figures(form, tmp_path, file_ws, polars_results):
    pytest.importorskip("ibis")
    if form == "csv":
        ws = file_ws
    else:  # Parquet written by Polars' own writer, with the sample's types
        for table in file_ws.sources:
            file_ws.scan(table).collect().write_parquet(tmp_path / f"{table}.parquet")
        ws = Workspace.open(tmp_path)
        assert ws.sources["transactions"].format == "parquet"
    assert_same_figures(ws, "duckdb", file_ws, polars_results)


def test_a_duckdb_database_computes_on_duckdb_by_default(duckdb_folder, file_ws, polars_results):
    pytest.importorskip("ibis")
    ws = workspace_in(duckdb_folder, '[source]\nurl = "duckdb:///shop.duckdb"\n')
    assert engines.resolve(ws, None) == "duckdb" and engines.resolve(file_ws, None) == "polars"
    assert run_analysis("segment.rfm", ws, {"as_of": AS_OF}).params["engine"] == "duckdb"
    assert_same_figures(ws, "duckdb", file_ws, polars_results)


def test_a_mapped_table_and_a_query_reduce_on_the_engine(duckdb_folder, file_ws, polars_results):
    """sales.orders calls customer_id member_no: the mapping is applied on the engine."""
    pytest.importorskip("ibis")
    ws = workspace_in(duckdb_folder, """
[source]
url = "duckdb:///shop.duckdb"
[tables.transactions]
query = "SELECT * FROM sales.orders WHERE amount IS NOT NULL"
[tables.transactions.columns]
customer_id = "member_no"
""")
    rfm = run_analysis("segment.rfm", ws, {"as_of": AS_OF, "engine": "duckdb"})
    assert_frame_equal(rfm.tables["customers"], polars_results["segment.rfm"].tables["customers"])


def test_auto_picks_duckdb_only_for_files_larger_than_the_memory_budget(file_ws, monkeypatch):
    assert engines.resolve(file_ws, "auto") == "polars"
    monkeypatch.setattr(features, "ROWS_PER_PASS", 10_000)  # the sample's 46k rows: several passes
    assert engines.resolve(file_ws, "auto") == "duckdb"


# -- PostgreSQL (a real server, started by tests/core/test_database.py's fixture) ------------


def test_postgres_computes_on_the_server(loaded_postgres, tmp_path, monkeypatch, file_ws, polars_results):
    pytest.importorskip("ibis")
    monkeypatch.setenv("PGPASSWORD", PASSWORD)
    ws = workspace_in(tmp_path, f'[source]\nurl = "{loaded_postgres}"\n')
    assert engines.resolve(ws, None) == "postgres"
    assert_same_figures(ws, "postgres", file_ws, polars_results)


def test_postgres_wrong_password_on_the_engine_is_one_line_without_it(loaded_postgres, tmp_path, monkeypatch):
    pytest.importorskip("ibis")
    monkeypatch.setenv("PGPASSWORD", PASSWORD)
    ws = workspace_in(tmp_path, f'[source]\nurl = "{loaded_postgres}"\n[tables.transactions]\ntable = "transactions"\n')
    monkeypatch.setenv("PGPASSWORD", "wrong-" + PASSWORD)
    with pytest.raises(InputError) as err:
        engines.reducer(ws, "postgres").aggregates(AS_OF, [], True)
    text = str(err.value)
    assert "password authentication failed" in text and "\n" not in text and "wrong-" not in text
    assert "PGPASSWORD" in err.value.fix


def test_postgres_server_down_on_the_engine_is_a_clear_error(loaded_postgres, tmp_path, monkeypatch):
    pytest.importorskip("ibis")
    monkeypatch.setenv("PGPASSWORD", PASSWORD)
    ws = workspace_in(tmp_path, f'[source]\nurl = "{loaded_postgres}"\n[tables.transactions]\ntable = "transactions"\n')
    source = ws.sources["transactions"]
    elsewhere = f"postgresql://analyst:hunter2@127.0.0.1:{_free_port()}/postgres"
    gone = dataclasses.replace(source.database, database=dataclasses.replace(
        source.database.database, target=elsewhere, label=elsewhere.replace(":hunter2", "")))
    with pytest.raises(InputError) as err:
        engines.Reducer("postgres", dataclasses.replace(source, database=gone)).channels(AS_OF)
    assert err.value.message.startswith("postgres") and "server is running" in err.value.fix
    assert "hunter2" not in str(err.value)


# -- Spark in local mode -----------------------------------------------------------------


def test_spark_local_on_files_gives_the_polars_figures(spark, file_ws, polars_results):
    """K-Means' input is the full per-customer table compared first; segment kmeans itself
    is left to the faster engines (Spark starts a job per query)."""
    assert_same_figures(file_ws, "spark", file_ws, polars_results, kinds=("segment.rfm", "report.channels"))


def test_a_spark_local_workspace_reduces_on_spark_by_default(spark, tmp_path, file_ws, polars_results):
    """[source] url = "spark-local": tables are Spark SQL queries (here over Parquet files)."""
    data = tmp_path / "data"
    data.mkdir()
    for table in ("transactions", "customers"):
        file_ws.scan(table).collect().write_parquet(data / f"{table}.parquet")
    ws = workspace_in(tmp_path, f"""
[source]
url = "spark-local"
[tables.transactions]
query = "SELECT * FROM parquet.`{data}/transactions.parquet`"
[tables.customers]
query = "SELECT * FROM parquet.`{data}/customers.parquet`"
""")
    assert set(ws.sources) == {"transactions", "customers"} and engines.resolve(ws, None) == "spark"
    tables = ("customers",)
    on_spark = customer_table(ws, AS_OF, tables=tables, engine=engines.reducer(ws, "spark"))[0]
    assert_frame_equal(on_spark, customer_table(file_ws, AS_OF, tables=tables)[0], check_exact=False, rel_tol=1e-12)
    rfm = run_analysis("segment.rfm", ws, {"as_of": AS_OF})
    assert rfm.params["engine"] == "spark"
    assert_frame_equal(rfm.tables["customers"], polars_results["segment.rfm"].tables["customers"])
    with pytest.raises(InputError) as err:
        _in_database(ws, engine="spark", table="no_such_table").aggregates(AS_OF, [], False)
    assert err.value.message.startswith("spark: ") and "check the table name" in err.value.fix


# -- bad input ---------------------------------------------------------------------------


def _in_database(ws: Workspace, engine: str = "duckdb", **changes) -> engines.Reducer:
    source = ws.sources["transactions"]
    return engines.Reducer(engine, dataclasses.replace(source, database=DatabaseTable(
        source.database.database, **changes)))


@pytest.mark.parametrize("changes, message, fix", [
    ({"table": "no_such_table"}, "duckdb: Catalog Error", "check the table name 'no_such_table'"),
    ({"query": "SELEC * FROM transactions"}, "duckdb: Parser Error", "run the query in the database's own client"),
])
def test_a_missing_table_or_a_query_error_on_the_engine_is_one_line(duckdb_folder, changes, message, fix):
    pytest.importorskip("ibis")
    ws = workspace_in(duckdb_folder, '[source]\nurl = "duckdb:///shop.duckdb"\n')
    with pytest.raises(InputError) as err:
        _in_database(ws, **changes).aggregates(AS_OF, [], False)
    assert err.value.message.startswith(message) and fix in err.value.fix
    assert "\n" not in str(err.value) and err.value.exit_code == 2


def test_a_column_type_the_contract_cannot_read_is_refused_naming_it(tmp_path):
    pytest.importorskip("ibis")
    duckdb = pytest.importorskip("duckdb")
    con = duckdb.connect(str(tmp_path / "shop.duckdb"))
    con.execute("CREATE TABLE transactions AS SELECT 'C1' AS customer_id, DATE '2025-01-02' AS order_date, "
                "10.5 AS amount, DATE '2025-01-03' AS paid")
    con.close()
    ws = workspace_in(tmp_path, '[source]\nurl = "duckdb:///shop.duckdb"\n[tables.transactions.columns]\n'
                                'amount = "paid"\n')
    with pytest.raises(InputError) as err:
        engines.reducer(ws, "duckdb").channels(AS_OF)
    assert err.value.column == "paid" and "not numbers" in err.value.message and "CAST" in err.value.fix


def test_a_value_the_engine_cannot_cast_exits_2_and_writes_nothing(sample_copy, tmp_path):
    """Polars reads "$1,234.50"; an engine's cast does not: exit 2 naming the file, never a null amount."""
    pytest.importorskip("ibis")
    path = sample_copy / "transactions.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    at = header.index("amount")
    row = lines[500].split(",")
    row[at] = '"$' + row[at] + '"'
    lines[500] = ",".join(row)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "segments.csv"
    result = CliRunner().invoke(app, ["segment", "rfm", "-w", str(sample_copy), "--engine", "duckdb",
                                      "--output", str(out)])
    assert result.exit_code == 2, result.output
    message = result.output.strip()
    assert "transactions.csv" in message and "duckdb:" in message and "data convert" in message
    assert len(message.splitlines()) == 1 and not out.exists()


@pytest.mark.parametrize("engine, fix", [("postgres", "--engine duckdb or spark"), ("spark", "--engine duckdb")])
def test_an_engine_that_cannot_reach_the_data_is_refused_with_the_one_that_can(duckdb_folder, file_ws, engine, fix):
    ws = workspace_in(duckdb_folder, '[source]\nurl = "duckdb:///shop.duckdb"\n') if engine == "spark" else file_ws
    with pytest.raises(InputError) as err:
        run_analysis("segment.rfm", ws, {"engine": engine})
    assert fix in err.value.fix and err.value.exit_code == 2


def test_spark_without_java_says_how_to_install_it(monkeypatch):
    pytest.importorskip("pyspark")
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.delenv("JAVA_HOME", raising=False)
    engines.spark_session.cache_clear()
    try:
        with pytest.raises(InputError) as err:
            engines.spark_session()
    finally:
        engines.spark_session.cache_clear()
    assert "openjdk-17-jre-headless" in err.value.fix


def test_data_inspect_shows_the_engine_the_table_or_query_rows_and_mapping(duckdb_folder, file_ws):
    from core.inspect import inspect_workspace

    ws = workspace_in(duckdb_folder, """
[source]
url = "duckdb:///shop.duckdb"
[tables.transactions]
table = "sales.orders"
[tables.transactions.columns]
customer_id = "member_no"
[tables.customers]
query = '''SELECT *
  FROM customers'''
""")
    inspected = inspect_workspace(ws)
    tables = {row["table"]: row for row in inspected.tables["tables"].iter_rows(named=True)}
    rows = pl.read_csv(SAMPLE / "transactions.csv", infer_schema=False).height
    assert inspected.headline["engine"] == "duckdb"
    assert tables["transactions"]["engine"] == "duckdb" and tables["transactions"]["table_or_query"] == "sales.orders"
    assert tables["transactions"]["rows"] == rows
    assert tables["customers"]["table_or_query"] == "SELECT * FROM customers"
    mapping = inspected.tables["columns"].filter(pl.col("table") == "transactions", pl.col("column") == "customer_id")
    assert mapping["source_header"].to_list() == ["member_no"]
    assert inspect_workspace(file_ws).headline["engine"] == "polars"


def test_validation_runs_as_queries_on_the_engine_with_example_rows(tmp_path, monkeypatch):
    """Empty required values and absurd amounts are found by the engine, not by pulling the
    table: the analysis stops (exit 2) naming the rule, the count and example rows."""
    pytest.importorskip("ibis")
    duckdb = pytest.importorskip("duckdb")
    con = duckdb.connect(str(tmp_path / "shop.duckdb"))
    con.execute("CREATE TABLE transactions AS SELECT 'C' || (i % 50) AS customer_id, "
                "DATE '2025-01-01' + (i % 300)::INT AS order_date, 10.0 + i AS amount FROM range(1000) t(i)")
    con.execute("UPDATE transactions SET amount = NULL WHERE customer_id = 'C7'")
    con.close()
    ws = workspace_in(tmp_path, '[source]\nurl = "duckdb:///shop.duckdb"\n')
    import core.validate

    checked = core.validate.validate

    def on_the_engine(ws, tables, engine=None, **options):  # the transactions are never checked in Polars
        if "transactions" in tables and engine is None:
            pytest.fail(f"{tables} in Polars")
        return checked(ws, tables, engine=engine, **options)

    import core.invalid

    monkeypatch.setattr(core.invalid, "validate", on_the_engine)
    monkeypatch.setattr(core.validate, "_checked_frame", lambda *a: pytest.fail("transactions read in Polars"))
    with pytest.raises(InputError) as err:
        run_analysis("segment.rfm", ws, {"engine": "duckdb"})
    assert "amount is empty (e.g. customer_id C7" in err.value.message and ": 20 rows" in err.value.message
    assert err.value.file == "duckdb:///shop.duckdb transactions" and err.value.exit_code == 2
    skip = workspace_in(tmp_path, '[source]\nurl = "duckdb:///shop.duckdb"\n[tables.transactions]\non_invalid = "skip"\n')
    with pytest.raises(InputError, match="cannot leave out") as err:
        run_analysis("segment.rfm", skip, {"engine": "duckdb"})
    assert "--engine polars" in err.value.fix


def _unreadable(frame: pl.LazyFrame) -> pl.LazyFrame:
    """A table with `frame`'s columns whose rows cannot be pulled: collecting it fails."""
    from polars.io.plugins import register_io_source

    def pull(*_):
        pytest.fail("the transactions were pulled into Polars")
        yield

    return register_io_source(pull, schema=frame.collect_schema())


def test_the_channels_report_on_an_engine_pulls_no_transactions_row_into_polars(file_ws, polars_results):
    """Its per-channel, per-customer-and-channel, per-customer-and-day and retention tables
    come from the engine: the transactions LazyFrame it is given is never collected."""
    pytest.importorskip("ibis")
    from core.evaluate.channels import channels
    from core.registry.run import money_in_cents

    tables = {t: file_ws.scan(t) for t in ("customers", "touchpoints", "survey", "campaigns")}
    engine = engines.reducer(file_ws, "duckdb")
    try:
        result = money_in_cents(channels(_unreadable(file_ws.scan("transactions")), **tables, as_of=AS_OF,
                                          engine=engine))
    finally:
        engine.close()
    for name, table in polars_results["report.channels"].tables.items():
        assert_frame_equal(result.tables[name], table, check_exact=False, rel_tol=1e-9)


@pytest.mark.parametrize("options", [{}, {"calibration_end": dt.date(2025, 3, 31), "holdout_end": AS_OF}])
def test_predict_clv_on_duckdb_fits_the_polars_summary_without_pulling_rows(file_ws, options):
    """BG/NBD and Gamma-Gamma fitted on the engine's per-customer summary: the same customers,
    parameters and values as the Polars path, and the transactions never collected here."""
    pytest.importorskip("ibis")
    from core.predict.clv import clv_analysis
    from core.registry.run import money_in_cents

    expected = run_analysis("predict.clv", file_ws, options)
    engine = engines.reducer(file_ws, "duckdb")
    try:
        result = money_in_cents(clv_analysis(_unreadable(file_ws.scan("transactions")), **options, engine=engine))
    finally:
        engine.close()
    assert result.headline == expected.headline
    for name, table in expected.tables.items():
        assert_frame_equal(result.tables[name], table, check_exact=False, rel_tol=1e-9)


def test_predict_clv_on_postgres_gives_the_polars_figures(loaded_postgres, tmp_path, monkeypatch, file_ws):
    pytest.importorskip("ibis")
    monkeypatch.setenv("PGPASSWORD", PASSWORD)
    ws = workspace_in(tmp_path, f'[source]\nurl = "{loaded_postgres}"\n')
    result = run_analysis("predict.clv", ws, {"calibration_end": AS_OF})
    expected = run_analysis("predict.clv", file_ws, {"calibration_end": AS_OF})
    assert result.params["engine"] == "postgres"
    assert result.headline == pytest.approx(expected.headline, rel=1e-9)
    assert_frame_equal(result.main_table, expected.main_table, check_exact=False, rel_tol=1e-9)


def test_predict_churn_on_duckdb_gives_the_polars_models_without_pulling_rows(file_ws, monkeypatch):
    """Features at three dates, labels, the last date and the CLV summary all reduced on the
    engine: the same training sets, so the same models, AUCs and at-risk list."""
    pytest.importorskip("ibis")
    expected = run_analysis("predict.churn", file_ws, {})
    ws = Workspace.open(SAMPLE)
    scan = ws.scan
    monkeypatch.setattr(ws, "scan", lambda table: _unreadable(scan(table)) if table == "transactions" else scan(table))
    result = run_analysis("predict.churn", ws, {"engine": "duckdb"})
    assert result.params["engine"] == "duckdb"
    assert result.headline == expected.headline
    for name, table in expected.tables.items():
        assert_frame_equal(result.tables[name], table, check_exact=False, rel_tol=1e-9)


@pytest.mark.parametrize("options", [{}, {"period": "week", "as_of": AS_OF, "since": dt.date(2024, 1, 1)}])
def test_report_cohorts_on_duckdb_gives_the_polars_matrices_without_pulling_rows(file_ws, monkeypatch, options):
    """One row per customer and period comes back from the engine; cohorts, active customers
    and revenue per period are the Polars path's."""
    pytest.importorskip("ibis")
    expected = run_analysis("report.cohorts", file_ws, options)
    ws = Workspace.open(SAMPLE)
    scan = ws.scan
    monkeypatch.setattr(ws, "scan", lambda table: _unreadable(scan(table)) if table == "transactions" else scan(table))
    result = run_analysis("report.cohorts", ws, {**options, "engine": "duckdb"})
    assert result.headline == pytest.approx(expected.headline, rel=1e-12)
    for name, table in expected.tables.items():
        assert_frame_equal(result.tables[name], table, check_exact=False, rel_tol=1e-9)


# -- DuckDB's memory and the Ibis layer's warnings -----------------------------------------


def _setting(connection, name: str) -> str:
    return connection.execute(f"SELECT current_setting('{name}')").fetchone()[0]


def test_duckdb_runs_under_the_memory_budget_and_spills_to_the_temporary_folder(
        file_ws, duckdb_folder, tmp_path, monkeypatch):
    """Not DuckDB's default (80% of RAM, spilling into the working folder): LOYALIST_MEMORY_LIMIT,
    on the engine's connection and on the one that reads a DuckDB file into Polars."""
    pytest.importorskip("ibis")
    import tempfile

    from core.database import _connect

    monkeypatch.setenv("LOYALIST_MEMORY_LIMIT", "300m")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    engine = engines.reducer(file_ws, "duckdb")
    try:
        engine.last_date(AS_OF)
        native = engine._connection.con
        assert _setting(native, "memory_limit") == "300.0 MiB"
        assert _setting(native, "temp_directory") == str(tmp_path / engines.DUCKDB_TEMP)
    finally:
        engine.close()
    ws = workspace_in(duckdb_folder, '[source]\nurl = "duckdb:///shop.duckdb"\n')
    with _connect(ws.sources["transactions"].database.database) as connection:
        assert _setting(connection, "memory_limit") == "300.0 MiB"


def test_duckdb_through_ibis_warns_of_no_deprecated_call(file_ws, duckdb_folder):
    """Ibis 12.0 learns a table's schema through DuckDB's deprecated fetch_arrow_table;
    Loyalist hands it the schema instead, so an analyst sees no DeprecationWarning."""
    pytest.importorskip("ibis")
    import warnings

    ws = workspace_in(duckdb_folder, '[source]\nurl = "duckdb:///shop.duckdb"\n')
    for workspace in (file_ws, ws):
        engine = engines.reducer(workspace, "duckdb")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                assert engine.last_date(AS_OF)[0] == AS_OF
        finally:
            engine.close()


# -- touchpoints and survey on the engine ------------------------------------------------


def test_touchpoints_and_survey_reduce_on_the_engine_without_being_read_into_polars(file_ws):
    """Engagement (touches in the last 90 days) and the latest NPS and CSAT answers come back
    per customer from DuckDB: none of the three tables handed to core.features is collected."""
    pytest.importorskip("ibis")
    tables = {t: _unreadable(file_ws.scan(t)) for t in ("transactions", "touchpoints", "survey")}
    engine = engines.reducer(file_ws, "duckdb")
    try:
        on_engine = features.customer_features(tables.pop("transactions"), as_of=AS_OF, engine=engine,
                                               customers=file_ws.scan("customers"), **tables).collect()
    finally:
        engine.close()
    reference = full_features(file_ws, "polars")
    assert reference["engagement"].sum() > 1000 and reference["nps"].count() > 500
    assert_frame_equal(on_engine, reference, check_exact=False, rel_tol=1e-12)


def test_tables_the_engine_cannot_reach_stay_in_polars(duckdb_folder, tmp_path, file_ws):
    """A survey file beside a DuckDB database, or a Latin-1 CSV, is read into Polars as
    without --engine; a table of the same database is reduced there."""
    pytest.importorskip("ibis")
    ws = workspace_in(duckdb_folder, '[source]\nurl = "duckdb:///shop.duckdb"\n')
    assert engines.reducer(ws, "duckdb").reads("survey")
    (tmp_path / "transactions.csv").write_bytes((SAMPLE / "transactions.csv").read_bytes())
    (tmp_path / "survey.csv").write_bytes("customer_id,nps\nC000001,9\nJosé,7\n".encode("latin-1"))
    latin = Workspace.open(tmp_path)
    assert not engines.reducer(latin, "duckdb").reads("survey")


SURVEY_WITH_TIES = """customer_id,response_date,nps,csat
A,2025-05-01,3,
A,2025-03-01,9,5
A,2025-05-01,7,2
A,2025-10-15,0,1
B,2025-04-01,8,4
B,2025-04-01,10,4
B,2025-02-01,,3
C,2025-06-01,,
"""
# By hand: the answer of the latest response_date up to 2025-09-30, the lowest of that day's;
# a blank answer skipped. Without dates every answer ties, so the lowest of all counts.
LATEST = {"dated": {"A": (3, 2), "B": (8, 4), "C": (None, None)},
          "undated": {"A": (0, 1), "B": (8, 3), "C": (None, None)}}


@pytest.mark.parametrize("engine", ["polars", "duckdb", "spark"])
@pytest.mark.parametrize("dates", ["dated", "undated"])
def test_the_latest_survey_answer_is_the_latest_days_lowest_on_every_engine(engine, dates, tmp_path, request):
    """Survey answers given the same day tie: the lowest counts, whatever the file's row order,
    which SQL engines do not keep. Polars and each engine apply the same rule."""
    if engine != "polars":
        pytest.importorskip("ibis")
    if engine == "spark":
        request.getfixturevalue("spark")
    survey = SURVEY_WITH_TIES if dates == "dated" else "\n".join(
        ",".join(field for i, field in enumerate(line.split(",")) if i != 1) for line in SURVEY_WITH_TIES.splitlines())
    (tmp_path / "survey.csv").write_text(survey, encoding="utf-8")
    (tmp_path / "transactions.csv").write_text("customer_id,order_date,amount\nA,2025-01-02,10\n", encoding="utf-8")
    ws = Workspace.open(tmp_path)
    customers = pl.LazyFrame({"customer_id": ["A", "B", "C"]})
    reducer = engines.reducer(ws, engine)
    try:
        latest = (features.latest_answers(ws.scan("survey"), AS_OF, ["nps", "csat"]) if reducer is None
                  else reducer.latest_answers(AS_OF, ["nps", "csat"]))
        table = customers.join(latest, on="customer_id", how="left").sort("customer_id").collect()
    finally:
        if reducer is not None:
            reducer.close()
    assert {row[0]: row[1:] for row in table.iter_rows()} == LATEST[dates]
    assert table.schema["nps"] == pl.Int64


def test_a_survey_with_rows_left_out_as_invalid_is_read_in_polars(sample_copy, monkeypatch):
    """on_invalid = "skip" leaves a survey row out, a view only Polars holds: the engine must
    not read the whole table, so the skipped answer never reaches the features."""
    pytest.importorskip("ibis")
    survey = pl.read_csv(sample_copy / "survey.csv", infer_schema_length=0)
    who = survey["customer_id"][0]
    survey.with_columns(nps=pl.when(pl.col("customer_id") == who).then(pl.lit("15")).otherwise("nps")) \
        .write_csv(sample_copy / "survey.csv")
    (sample_copy / "loyalist.toml").write_text('[tables.survey]\non_invalid = "skip"\n', encoding="utf-8")
    ws = Workspace.open(sample_copy)
    monkeypatch.setattr(engines.Reducer, "latest_answers", lambda *a: pytest.fail("the survey was read on the engine"))
    result = run_analysis("segment.quadrant", ws, {"as_of": AS_OF, "engine": "duckdb"})
    assert any("1 row of survey.csv left out" in note for note in result.notes)
    assert result.params["engine"] == "duckdb"
