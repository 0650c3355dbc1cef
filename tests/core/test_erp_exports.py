"""Two ways ERP and POS exports write values that a plain reader gets wrong without a word:
a return's amount with a trailing minus (SAP: `12.50-`), and ids written as Excel formulas
(`="00123"`) so that their leading zeros survive being opened in Excel."""

import json

import pytest
from typer.testing import CliRunner

from commands.app import app
from core.registry import run_analysis
from core.validate import validate
from core.workspace import Workspace

runner = CliRunner()


def test_a_trailing_minus_is_the_sign(make_workspace):
    tx = ("customer_id,order_date,amount\nC1,2024-01-05,\"1,234.50\"\nC1,2024-01-06,34.50-\n"
          "C2,2024-01-07,20.00\nC2,2024-01-08,\"1,000.00-\"\n")
    folder = make_workspace({"transactions.csv": tx})
    amounts = Workspace.open(folder).scan("transactions").collect()["amount"].to_list()
    assert amounts == [1234.5, -34.5, 20.0, -1000.0]
    result = run_analysis("segment.rfm", Workspace.open(folder, lazy=True), {"as_of": "2024-01-31"})
    monetary = dict(result.tables["customers"].select("customer_id", "monetary").iter_rows())
    assert monetary == {"C1": pytest.approx(1200.0), "C2": pytest.approx(-980.0)}  # 1,234.50 - 34.50; 20 - 1,000


@pytest.mark.parametrize("value", ["7-8", "abc-"])
def test_a_dash_that_is_no_sign_is_still_refused(make_workspace, value):
    folder = make_workspace({"transactions.csv": f"customer_id,order_date,amount\nC1,2024-01-05,{value}\n"
                                                 "C2,2024-01-06,3\n"})
    [finding] = validate(Workspace.open(folder))
    assert (finding.rule, finding.severity, finding.rows) == ("unparsable", "error", (2,))


def test_ids_written_for_excel_meet_the_customers_table(make_workspace):
    tx = ('order_id,customer_id,order_date,amount\nO1,="00123",2024-01-05,10\nO2,="00124",2024-01-06,20\n'
          'O3,="00123",2024-02-07,30\n')
    customers = "customer_id,signup_date,tier\n00123,2023-01-01,gold\n00124,2023-01-01,silver\n"
    folder = make_workspace({"transactions.csv": tx, "customers.csv": customers})
    ids = Workspace.open(folder).scan("transactions").collect()["customer_id"].to_list()
    assert ids == ["00123", "00124", "00123"]
    assert validate(Workspace.open(folder)) == []  # no orphans: every id is a customer's
    shown = json.loads(runner.invoke(app, ["data", "inspect", "-w", str(folder), "-f", "json"]).stdout)
    [id_column] = [c for c in shown["columns"] if c["table"] == "transactions" and c["column"] == "customer_id"]
    assert "Excel" in id_column["number_format"]


def test_an_id_column_that_only_looks_like_a_formula_now_and_then_is_read_as_written(make_workspace):
    tx = 'customer_id,order_date,amount\nC1,2024-01-05,10\n="C2",2024-01-06,20\n'
    ids = Workspace.open(make_workspace({"transactions.csv": tx})).scan("transactions").collect()["customer_id"]
    assert ids.to_list() == ["C1", '="C2"']  # not every value: no reading is guessed from one



def test_ids_written_for_excel_below_the_first_rows_are_a_counted_warning(make_workspace):
    # the first rows judge the column plain; a second export appended below wrote ="..."
    lines = [f"C{i:05d},2024-01-{1 + i % 28:02d},10" for i in range(1200)]
    lines[1100:1103] = [f'="C{i:05d}",2024-02-01,10' for i in range(3)]
    folder = make_workspace({"transactions.csv": "customer_id,order_date,amount\n" + "\n".join(lines) + "\n"})
    [finding] = [f for f in validate(Workspace.open(folder)) if f.column == "customer_id"]
    assert (finding.rule, finding.severity, finding.count, finding.rows) == (
        "excel_text_mixed", "warning", 3, (1102, 1103, 1104))
    assert 'written ="..."' in finding.message and "export it again" in finding.fix


def test_a_converted_copy_holds_the_ids_inside(make_workspace):
    tx = 'customer_id,order_date,amount\n="00123",2024-01-05,10\n="00124",2024-01-06,12.50-\n'
    folder = make_workspace({"transactions.csv": tx})
    done = runner.invoke(app, ["data", "convert", "-w", str(folder)])
    assert done.exit_code == 0, done.output
    copy = Workspace.open(folder)
    assert copy.sources["transactions"].origin is not None  # read from the Parquet copy
    read = copy.scan("transactions").collect()
    assert read["customer_id"].to_list() == ["00123", "00124"] and read["amount"].to_list() == [10.0, -12.5]


def test_an_engine_refuses_ids_written_for_excel_rather_than_misread_them(make_workspace):
    pytest.importorskip("ibis")
    tx = 'customer_id,order_date,amount\n="00123",2024-01-05,10\n="00124",2024-01-06,12\n'
    folder = make_workspace({"transactions.csv": tx})
    done = runner.invoke(app, ["segment", "rfm", "-w", str(folder), "--engine", "duckdb"])
    assert done.exit_code == 2
    assert "customer_id" in done.stderr and "for Excel" in done.stderr and "data convert" in done.stderr
