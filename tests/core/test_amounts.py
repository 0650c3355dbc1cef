"""NaN, infinity and 1e308 in number columns: validation errors naming the rows, exit 2."""

import datetime as dt
import math

import polars as pl
import pytest
from typer.testing import CliRunner

from commands.app import app
from core.validate import validate
from core.workspace import Workspace

runner = CliRunner()
# What a spreadsheet formula gone wrong or a placeholder leaves in a POS export.
POS = ("customer_id,order_date,amount\nC1,2024-01-05,10.50\nC2,2024-01-06,NaN\nC3,2024-01-07,inf\n"
       "C4,2024-01-08,1e308\nC5,2024-01-08,-Infinity\nC6,2024-01-09,7.25\n")


def test_non_finite_and_absurd_amounts_are_errors_with_rows(make_workspace):
    found = validate(Workspace.open(make_workspace({"transactions.csv": POS})), as_of=dt.date(2024, 12, 31))
    errors = [f for f in found if f.severity == "error"]
    assert [(f.column, f.rule, f.count, f.rows) for f in errors] == [("amount", "not_finite", 4, (3, 4, 5, 6))]
    assert "NaN" in errors[0].message and errors[0].file.endswith("transactions.csv")


def test_parquet_nan_and_inf_are_errors_too(make_workspace):
    folder = make_workspace({})
    pl.DataFrame({"customer_id": ["C1", "C2", "C3"], "order_date": [dt.date(2024, 1, 5)] * 3,
                  "amount": [10.0, math.nan, math.inf]}).write_parquet(folder / "transactions.parquet")
    found = {f.rule: f for f in validate(Workspace.open(folder))}
    assert found["not_finite"].rows == (2, 3)  # record numbers


@pytest.mark.parametrize("command", [["report", "kpi"], ["segment", "rfm"], ["predict", "clv"]])
def test_analyses_stop_with_exit_two_naming_rows(make_workspace, command):
    result = runner.invoke(app, [*command, "-w", str(make_workspace({"transactions.csv": POS}))])
    assert result.exit_code == 2, result.output
    assert "rows 3, 4, 5, 6" in result.stderr and "amount" in result.stderr
    assert "internal error" not in result.output and "conversion" not in result.output


def test_nps_nan_and_inf_are_errors_not_a_crash(make_workspace):
    folder = make_workspace({
        "transactions.csv": "customer_id,order_date,amount\nC1,2024-01-05,10\nC2,2024-01-06,20\n",
        "survey.csv": "customer_id,nps\nC1,9\nC2,NaN\nC1,inf\nC2,1e308\n",
    })
    found = {(f.column, f.rule): f for f in validate(Workspace.open(folder))}
    assert found[("nps", "not_finite")].rows == (3, 4, 5)
    assert ("nps", "unparsable") not in found  # one finding per bad value, not two
    result = runner.invoke(app, ["report", "nps", "-w", str(folder)])
    assert result.exit_code == 2 and "rows 3, 4, 5" in result.stderr, result.output


def test_comma_decimal_amounts_are_judged_in_their_own_convention(make_workspace):
    # a German till export: 1.234,50 is a thousand, not a 1.2345 or a 123450 typo
    text = ('customer_id;order_date;amount\nC1;2024-01-05;"1.234,50"\nC2;2024-01-06;"7,25"\n'
            'C3;2024-01-07;"1.000.000.000.000,00"\n')
    found = validate(Workspace.open(make_workspace({"transactions.csv": text})), as_of=dt.date(2024, 12, 31))
    assert [(f.rule, f.rows) for f in found if f.severity == "error"] == [("not_finite", (4,))]


def test_markup_in_an_amount_is_an_error_with_its_row_not_its_tag_digits(make_workspace):
    # A web-shop export with a formatted cell: the tag's 1 must not become part of the amount
    # (dropping non-digits would read "<h1>12,50</h1>" as 112,501).
    text = 'customer_id;order_date;amount\nC1;2024-01-05;"7,25"\nC2;2024-01-06;"<h1>12,50</h1>"\nC3;2024-01-07;"3,00"\n'
    ws = Workspace.open(make_workspace({"transactions.csv": text}))
    errors = [f for f in validate(ws, as_of=dt.date(2024, 12, 31)) if f.severity == "error"]
    assert [(f.column, f.rows) for f in errors] == [("amount", (3,))]
    amounts = ws.scan("transactions").select("amount").collect()["amount"].to_list()
    assert amounts[0] == 7.25 and amounts[2] == 3.0 and amounts[1] != 112.501
