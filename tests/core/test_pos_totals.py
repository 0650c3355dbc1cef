"""A POS or spreadsheet report's totals row under its purchases (only the amount filled,
the sum of the rows above): named as such, with its row and how to leave it out, instead of
two bare "customer_id is empty" errors; left out, the revenue is the purchases' alone. A totals
row with its customer and date filled ("TOTAL", the day) was counted as a purchase, doubling the
revenue without a word: it is an error too, found by its amount."""

from typer.testing import CliRunner

from commands.app import app
from core import engines
from core.registry import run_analysis
from core.validate import validate
from core.workspace import Workspace

runner = CliRunner()
PURCHASES = [(f"C{i % 7}", f"2024-03-{1 + i % 28:02d}", round(10 + i * 1.37, 2)) for i in range(40)]
TOTAL = round(sum(amount for *_, amount in PURCHASES), 2)
HEADER = "Customer,Date,Amount,Till\n"


def report(last: str) -> str:
    return HEADER + "".join(f"{c},{d},{a:.2f},T1\n" for c, d, a in PURCHASES) + last


def test_a_totals_row_is_named_with_its_row_and_the_fix(make_workspace):
    folder = make_workspace({"transactions.csv": report(f",,{TOTAL:.2f},\n")})
    found = {f.column: f for f in validate(Workspace.open(folder)) if f.rule == "missing_value"}
    assert set(found) == {"customer_id", "order_date"}
    assert not [f for f in validate(Workspace.open(folder)) if f.rule == "totals_row"]  # said once
    for finding in found.values():
        assert finding.rows == (len(PURCHASES) + 2,)  # after the header and the purchases
        assert "on the last row of the file only" in finding.message
        assert f"whose amount ({TOTAL:,.2f}) is the sum of every row above it" in finding.message
        assert "totals row" in finding.message and "delete the totals row" in finding.fix
    result = runner.invoke(app, ["segment", "rfm", "-w", str(folder)], env={"COLUMNS": "300"})
    assert result.exit_code == 2 and "a report's totals row" in result.output


def test_left_out_the_totals_row_is_not_revenue(make_workspace):
    folder = make_workspace({"transactions.csv": report(f",,{TOTAL:.2f},\n"),
                             "loyalist.toml": '[tables.transactions]\non_invalid = "skip"\n'})
    result = run_analysis("segment.rfm", Workspace.open(folder, lazy=True), {"as_of": "2024-03-31"})
    assert abs(result.tables["customers"]["monetary"].sum() - TOTAL) < 0.01  # not twice the takings
    assert any("1 row of transactions.csv left out as invalid" in n for n in result.notes)


def test_a_last_row_that_is_no_sum_is_still_named_at_the_end(make_workspace):
    folder = make_workspace({"transactions.csv": report(",,12.00,\n")})
    [finding] = [f for f in validate(Workspace.open(folder)) if f.column == "customer_id"]
    assert "on the last row of the file only" in finding.message and "sum" not in finding.message


def test_an_empty_customer_in_the_middle_is_the_plain_error(make_workspace):
    rows = report("").splitlines(keepends=True)
    rows[10] = ",2024-03-09,5.00,T1\n"
    folder = make_workspace({"transactions.csv": "".join(rows)})
    [finding] = [f for f in validate(Workspace.open(folder)) if f.column == "customer_id"]
    assert finding.rows == (11,) and "totals" not in finding.message


def test_a_filled_in_totals_row_is_found_by_its_amount(make_workspace):
    folder = make_workspace({"transactions.csv": report(f"TOTAL,2024-03-31,{TOTAL:.2f},\n")})
    [finding] = [f for f in validate(Workspace.open(folder)) if f.severity == "error"]
    assert (finding.rule, finding.column, finding.rows) == ("totals_row", "amount", (len(PURCHASES) + 2,))
    assert f"({TOTAL:,.2f}) is the sum of every row above it" in finding.message
    assert "delete the totals row" in finding.fix
    result = runner.invoke(app, ["segment", "rfm", "-w", str(folder)], env={"COLUMNS": "300"})
    assert result.exit_code == 2 and "a report's totals row" in result.output


def test_a_filled_in_totals_row_is_found_with_an_engine_too(make_workspace):
    folder = make_workspace({"transactions.csv": report(f"TOTAL,2024-03-31,{TOTAL:.2f},\n")})
    ws = Workspace.open(folder)
    reducer = engines.reducer(ws, "duckdb")  # its queries do not see the file's order: read here
    try:
        found = [f for f in validate(ws, engine=reducer) if f.severity == "error"]
    finally:
        reducer.close()
    assert [(f.rule, f.rows) for f in found] == [("totals_row", (len(PURCHASES) + 2,))]


def test_left_out_a_filled_in_totals_row_is_not_revenue_or_a_customer(make_workspace):
    folder = make_workspace({"transactions.csv": report(f"TOTAL,2024-03-31,{TOTAL:.2f},\n"),
                             "loyalist.toml": '[tables.transactions]\non_invalid = "skip"\n'})
    result = run_analysis("segment.rfm", Workspace.open(folder, lazy=True), {"as_of": "2024-03-31"})
    customers = result.tables["customers"]
    assert abs(customers["monetary"].sum() - TOTAL) < 0.01 and "TOTAL" not in customers["customer_id"].to_list()
    assert any("1 row of transactions.csv left out as invalid" in n for n in result.notes)


def test_a_last_purchase_is_no_totals_row_unless_it_sums_many_rows(make_workspace):
    other = make_workspace({"transactions.csv": report("C1,2024-03-31,12.00,T1\n")})
    assert not [f for f in validate(Workspace.open(other)) if f.severity == "error"]
    # in a handful of rows, one purchase can equal the others' sum by chance
    few = HEADER + "C1,2024-03-01,3.00,T1\nC2,2024-03-02,4.50,T1\nC3,2024-03-03,7.50,T1\n"
    assert not [f for f in validate(Workspace.open(make_workspace({"transactions.csv": few})))
                if f.severity == "error"]
