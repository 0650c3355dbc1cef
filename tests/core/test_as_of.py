"""The default as-of date: one typo dated 2999-12-31 must not move every analysis."""

import datetime as dt
import json

import polars as pl
from typer.testing import CliRunner

from commands.app import app
from core.features import default_as_of
from core.registry import run_analysis
from core.workspace import Workspace

runner = CliRunner()
# A till export where one order was keyed 31/12/2999 instead of 31/12/2023.
TILL = ("customer_id,order_date,amount\nC1,2024-01-05,10\nC2,2024-03-06,20\nC3,2999-12-31,5\n"
        "C1,2024-02-01,7\nC2,2999-12-31,4\n")


def test_default_as_of_ignores_dates_after_today():
    tx = pl.LazyFrame({"order_date": [dt.date(2024, 1, 5), dt.date(2024, 3, 6), dt.date(2999, 12, 31)]})
    assert default_as_of(tx) == dt.date(2024, 3, 6)
    assert default_as_of(tx, today=dt.date(2024, 2, 1)) == dt.date(2024, 1, 5)


def test_an_analysis_says_how_many_rows_it_ignored(make_workspace):
    ws = Workspace.open(make_workspace({"transactions.csv": TILL}))
    result = run_analysis("segment.rfm", ws)
    assert result.params["as_of"] == dt.date(2024, 3, 6)
    assert any("2 transactions dated after today were ignored" in n for n in result.notes), result.notes
    # the customers behind the bad rows are scored on their real orders only
    assert result.tables["customers"].filter(pl.col("customer_id") == "C2")["monetary"].item() == 20


def test_no_note_when_the_as_of_date_is_given(make_workspace):
    ws = Workspace.open(make_workspace({"transactions.csv": TILL}))
    result = run_analysis("segment.rfm", ws, {"as_of": dt.date(2024, 2, 1)})
    assert not any("after today" in n for n in result.notes)


def test_cli_json_carries_the_note(make_workspace):
    result = runner.invoke(app, ["report", "kpi", "-w", str(make_workspace({"transactions.csv": TILL})),
                                 "-f", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["params"]["end"] == "2024-03-06"
    assert any("2 transactions dated after today" in n for n in data["notes"])
