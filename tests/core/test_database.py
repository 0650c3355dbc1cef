"""Workspaces whose tables live in a database (core.database): DuckDB, SQLite and a real
PostgreSQL server give the same per-customer table, RFM segments and reports as the files.

The databases are loaded from the sample's CSV files by Polars' own reader (not Loyalist's),
with the types a database would hold: amounts as NUMERIC, dates as DATE, times as TIMESTAMP.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import socket
import sqlite3
import subprocess
import tempfile
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from core.errors import InputError
from core.features import customer_features
from core.registry import run_analysis
from core.workspace import Workspace
from tests.conftest import SAMPLE

AS_OF = dt.date(2025, 9, 30)
TABLES = ("transactions", "customers", "touchpoints", "survey", "campaigns", "experiments", "points")
# The analyses compared: per customer (exact), segments (exact), a report with sums (1e-9)
KINDS = ("segment.rfm", "report.channels", "report.nps")


def sample_frames() -> dict[str, pl.DataFrame]:
    return {t: pl.read_csv(SAMPLE / f"{t}.csv", try_parse_dates=True, infer_schema_length=None)
            for t in TABLES if (SAMPLE / f"{t}.csv").is_file()}


def workspace_in(folder: Path, config: str) -> Workspace:
    (folder / "loyalist.toml").write_text(config, encoding="utf-8")
    return Workspace.open(folder)


def assert_same_results(db_ws: Workspace, file_ws: Workspace) -> None:
    features = [customer_features(ws.scan("transactions"), as_of=AS_OF, customers=ws.scan("customers")).collect()
                for ws in (db_ws, file_ws)]
    assert features[0].height > 1000
    assert_frame_equal(*(f.sort("customer_id") for f in features), check_exact=False, rel_tol=1e-12)
    for kind in KINDS:
        results = [run_analysis(kind, ws, {"as_of": AS_OF}) for ws in (db_ws, file_ws)]
        db, files = (r.headline for r in results)
        assert db.keys() == files.keys(), kind
        for key, value in files.items():
            number = isinstance(value, float) and not isinstance(db[key], str)
            assert db[key] == (pytest.approx(value, rel=1e-9, nan_ok=True) if number else value), (kind, key)
        for name, table in results[1].tables.items():
            assert_frame_equal(results[0].tables[name], table, check_exact=False, rel_tol=1e-9)


@pytest.fixture(scope="module")
def file_ws() -> Workspace:
    return Workspace.open(SAMPLE)


@pytest.fixture(scope="module")
def duckdb_folder(tmp_path_factory) -> Path:
    duckdb = pytest.importorskip("duckdb")
    folder = tmp_path_factory.mktemp("duck")
    con = duckdb.connect(str(folder / "shop.duckdb"))
    for table, frame in sample_frames().items():
        con.register("frame", frame.to_arrow())
        con.execute(f"CREATE TABLE {table} AS SELECT * FROM frame")
        con.unregister("frame")
    con.execute("ALTER TABLE transactions ALTER amount TYPE DECIMAL(12, 2)")
    con.execute("CREATE SCHEMA sales")
    con.execute("CREATE TABLE sales.orders AS SELECT customer_id AS member_no, * EXCLUDE (customer_id) "
                "FROM transactions")
    con.close()
    return folder


def test_duckdb_workspace_gives_the_files_figures(duckdb_folder, file_ws):
    ws = workspace_in(duckdb_folder, '[source]\nurl = "duckdb:///shop.duckdb"\n')
    assert set(ws.sources) == set(file_ws.sources)
    assert ws.sources["transactions"].format == "database"
    assert_same_results(ws, file_ws)


def test_a_named_table_with_mapped_columns_and_a_query(duckdb_folder, file_ws):
    ws = workspace_in(duckdb_folder, """
[source]
url = "duckdb:///shop.duckdb"
[tables.transactions]
table = "sales.orders"
[tables.transactions.columns]
customer_id = "member_no"
[tables.customers]
query = "SELECT * FROM customers WHERE customer_id IS NOT NULL"
""")
    mapping = {m.canonical: m.source for m in ws.sources["transactions"].columns}
    assert mapping["customer_id"] == "member_no"
    assert ws.sources["transactions"].where.endswith("sales.orders")
    rfm = [run_analysis("segment.rfm", w, {"as_of": AS_OF}).main_table for w in (ws, file_ws)]
    assert_frame_equal(*rfm)


def test_only_the_columns_and_rows_asked_for_are_pulled(duckdb_folder):
    ws = workspace_in(duckdb_folder, '[source]\nurl = "duckdb:///shop.duckdb"\n')
    plan = ws.scan_raw("transactions").select("customer_id").head(5).explain()
    assert "database" in plan
    assert ws.scan("transactions").select("amount").head(3).collect()["amount"].dtype == pl.Float64


def test_validation_names_the_database_table_and_its_rows(duckdb_folder, tmp_path):
    duckdb = pytest.importorskip("duckdb")
    folder = tmp_path / "bad"
    folder.mkdir()
    shutil.copy(duckdb_folder / "shop.duckdb", folder / "shop.duckdb")
    con = duckdb.connect(str(folder / "shop.duckdb"))
    con.execute("UPDATE survey SET nps = 11 WHERE rowid IN (SELECT rowid FROM survey LIMIT 2)")
    con.close()
    ws = workspace_in(folder, '[source]\nurl = "duckdb:///shop.duckdb"\n')
    from core.validate import validate

    findings = [f for f in validate(ws, tables=("survey",)) if f.column == "nps" and f.count == 2]
    assert findings and findings[0].file == "duckdb:///shop.duckdb survey"
    with pytest.raises(InputError):
        ws.require("survey", analysis="report.nps")


def test_sqlite_workspace_gives_the_files_figures(tmp_path, file_ws):
    con = sqlite3.connect(tmp_path / "shop.db")
    for table, frame in sample_frames().items():
        columns = ", ".join(f'"{c}"' for c in frame.columns)
        con.execute(f"CREATE TABLE {table} ({columns})")
        # SQLite keeps dates as ISO text and whole amounts as integers: coercion reads both
        rows = frame.with_columns(pl.col(pl.Date, pl.Datetime).cast(pl.String)).rows()
        con.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * len(frame.columns))})", rows)
    con.commit()
    con.close()
    ws = workspace_in(tmp_path, '[source]\nurl = "sqlite:///shop.db"\n')
    assert_same_results(ws, file_ws)


@pytest.mark.parametrize("config, message, fix", [
    ('[source]\nurl = "mysql://x@y/z"\n', "unknown database URL scheme", "duckdb:///"),
    ('[source]\nurl = "duckdb:///nowhere.duckdb"\n', "database file not found", "three slashes"),
    ('[tables.transactions]\ntable = "orders"\n', "names a database table but no database", "[source] url"),
    ('[source]\nurl = "duckdb:///shop.duckdb"\n[tables.transactions]\ntable = "orders; DROP TABLE x"\n',
     "not a plain table name", "query ="),
    ('[source]\nurl = "duckdb:///shop.duckdb"\n[tables.transactions]\ntable = "no_such_table"\n',
     "duckdb:", "check the table name"),
    ('[source]\nurl = "duckdb:///shop.duckdb"\n[tables.transactions]\nquery = "SELEC * FROM transactions"\n',
     "duckdb:", "run the query"),
    ('[source]\nurl = 5\n', "url in [source] must be text", "url ="),
])
def test_bad_database_settings_are_clear_errors(duckdb_folder, tmp_path, config, message, fix):
    folder = tmp_path / "ws"
    folder.mkdir()
    shutil.copy(duckdb_folder / "shop.duckdb", folder / "shop.duckdb")
    with pytest.raises(InputError) as err:
        workspace_in(folder, config)
    assert message in err.value.message and fix in (err.value.fix or "")


# -- a real PostgreSQL server -------------------------------------------------------

PASSWORD = "s3cret-pw"


def _postgres_bin() -> Path | None:
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return versions[-1].parent if versions else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def postgres():
    """A throwaway server on a loopback port, password auth, removed afterwards."""
    pytest.importorskip("psycopg", reason="PostgreSQL tests need psycopg (pip install 'loyalist[engines]')")
    bin_dir = _postgres_bin()
    if bin_dir is None:
        pytest.skip("PostgreSQL is not installed (.ci/run installs Debian's postgresql)")
    data = Path(tempfile.mkdtemp(prefix="loyalist-pg-"))
    # initdb refuses to run as root: the server then runs as the postgres user
    as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    (data / "pw").write_text(PASSWORD)
    if as_user:
        shutil.chown(data, "postgres")
        shutil.chown(data / "pw", "postgres")
    port = _free_port()
    cluster = data / "db"
    subprocess.run([*as_user, bin_dir / "initdb", "-D", cluster, "-U", "analyst", "--pwfile", data / "pw",
                    "--auth=scram-sha-256", "-E", "UTF8"], check=True, capture_output=True)
    subprocess.run([*as_user, bin_dir / "pg_ctl", "-D", cluster, "-w", "-l", data / "log", "-o",
                    f"-p {port} -k {data} -h 127.0.0.1", "start"], check=True, capture_output=True)
    url = f"postgresql://analyst@127.0.0.1:{port}/postgres"
    try:
        yield url
    finally:
        subprocess.run([*as_user, bin_dir / "pg_ctl", "-D", cluster, "-m", "immediate", "stop"],
                       capture_output=True)
        shutil.rmtree(data, ignore_errors=True)


PG_TYPES = {pl.Int64: "BIGINT", pl.Float64: "DOUBLE PRECISION", pl.String: "TEXT", pl.Date: "DATE",
            pl.Boolean: "BOOLEAN"}


@pytest.fixture(scope="module")
def loaded_postgres(postgres):
    import psycopg

    with psycopg.connect(postgres, password=PASSWORD) as con:
        for table, frame in sample_frames().items():
            types = {n: "TIMESTAMP" if isinstance(d, pl.Datetime) else PG_TYPES[d] for n, d in frame.schema.items()}
            if table == "transactions":
                types["amount"] = "NUMERIC(12, 2)"
            con.execute(f"CREATE TABLE {table} ({', '.join(f'{n} {t}' for n, t in types.items())})")
            with con.cursor().copy(f"COPY {table} FROM STDIN WITH (FORMAT csv, HEADER true)") as copy:
                copy.write(frame.write_csv())
    return postgres


def test_postgres_workspace_gives_the_files_figures(loaded_postgres, tmp_path, monkeypatch, file_ws):
    monkeypatch.setenv("PGPASSWORD", PASSWORD)  # credentials from libpq's own places, never the file
    ws = workspace_in(tmp_path, f'[source]\nurl = "{loaded_postgres}"\n')
    assert ws.sources["transactions"].where == f"{loaded_postgres} transactions"
    assert_same_results(ws, file_ws)


def test_postgres_wrong_password_is_one_clear_line_without_it(loaded_postgres, tmp_path, monkeypatch):
    monkeypatch.setenv("PGPASSWORD", "wrong-pw")
    url = loaded_postgres.replace("analyst@", f"analyst:{PASSWORD}x@")  # a password in the URL anyway
    with pytest.raises(InputError) as err:
        workspace_in(tmp_path, f'[source]\nurl = "{url}"\n[tables.transactions]\ntable = "transactions"\n')
    text = f"{err.value.message} {err.value.file} {err.value.fix}"
    assert "password authentication failed" in text and "\n" not in err.value.message
    assert PASSWORD not in text and "PGPASSWORD" in err.value.fix


@pytest.mark.parametrize("tables", ["", '[tables.transactions]\ntable = "transactions"\n'])
def test_postgres_server_down_is_a_clear_error(tmp_path, tables):
    """Not "no tables found": the server that could not be reached is named, without the password."""
    pytest.importorskip("psycopg")
    url = f"postgresql://analyst:hunter2@127.0.0.1:{_free_port()}/postgres"
    with pytest.raises(InputError) as err:
        workspace_in(tmp_path, f'[source]\nurl = "{url}"\n{tables}')
    assert err.value.message.startswith("postgresql:") and "server is running" in err.value.fix
    assert "hunter2" not in str(err.value) and "analyst@127.0.0.1" in str(err.value)


def test_sqlite_column_changing_type_after_the_first_rows_is_refused(tmp_path):
    """SQLite keeps any value in any column: text amounts after 1,000 numbers are named, never nulls."""
    con = sqlite3.connect(tmp_path / "shop.db")
    con.execute("CREATE TABLE transactions (customer_id, order_date, amount)")
    rows = [(f"C{i}", "2025-01-02", 10.5) for i in range(1500)] + [("C9", "2025-01-03", "12,50 EUR")]
    con.executemany("INSERT INTO transactions VALUES (?, ?, ?)", rows)
    con.commit()
    con.close()
    ws = workspace_in(tmp_path, '[source]\nurl = "sqlite:///shop.db"\n')
    with pytest.raises(InputError) as err:
        ws.scan("transactions").select(pl.col("amount").sum()).collect()
    assert "'amount'" in err.value.message and err.value.rows == (1501,)
