"""Typed values from files: float ids, time-zone offsets, XLSX date cells, date formats."""

import polars as pl
from typer.testing import CliRunner

from commands.app import app
from core.validate import validate
from core.workspace import Workspace

runner = CliRunner()


def test_float_customer_ids_in_parquet_are_refused_when_not_whole(make_workspace):
    # pandas writes an id column holding a missing value as float64: 1001.0, 1002.0, ...
    folder = make_workspace({})
    pl.DataFrame({"customer_id": [1001.0, 1002.0, 1001.5, 1003.0], "order_date": ["2024-01-02"] * 4,
                  "amount": [10.0, 20.0, 30.0, 40.0]}).write_parquet(folder / "transactions.parquet")
    ids = Workspace.open(folder).scan("transactions").collect()["customer_id"].to_list()
    assert ids == ["1001", "1002", None, "1003"]  # no "1001.0"; 1001.5 is never "1001"
    errors = [f for f in validate(Workspace.open(folder)) if f.severity == "error"]
    assert [(f.column, f.rows) for f in errors] == [("customer_id", (3,))]  # record 3
    result = runner.invoke(app, ["report", "kpi", "-w", str(folder)])
    assert result.exit_code == 2, result.output
    assert "customer_id" in result.stderr and "rows 3" in result.stderr and "not whole" in result.stderr


def test_whole_float_ids_join_their_text_twins(make_workspace):
    folder = make_workspace({"customers.csv": "customer_id,signup_date\n1001,2023-05-01\n1002,2023-06-01\n"})
    pl.DataFrame({"customer_id": [1001.0, 1002.0], "order_date": ["2024-01-02"] * 2,
                  "amount": [10.0, 20.0]}).write_parquet(folder / "transactions.parquet")
    findings = validate(Workspace.open(folder))
    assert not [f for f in findings if f.rule == "orphan_customer"]  # "1001" matches "1001"
