"""`loyalist data inspect|validate` through the real Typer app."""

import json

from typer.testing import CliRunner

from commands.app import app

runner = CliRunner()
TX = "客户ID,订单日期,金额\nC1,2024-01-05,10\nC2,2024-01-06,-3\n"


def test_inspect_shows_mapping_as_json(make_workspace):
    folder = make_workspace({"transactions.csv": TX})
    result = runner.invoke(app, ["data", "inspect", "-w", str(folder), "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["tables"][0]["rows"] == 2
    assert data["tables"][0]["first_date"] == "2024-01-05"
    mapping = {r["column"]: r["source_header"] for r in data["columns"]}
    assert mapping == {"customer_id": "客户ID", "order_date": "订单日期", "amount": "金额"}


def test_inspect_table_shows_headers(make_workspace):
    folder = make_workspace({"transactions.csv": TX})
    result = runner.invoke(app, ["data", "inspect", "-w", str(folder)], env={"COLUMNS": "160"})
    assert result.exit_code == 0
    assert "订单日期" in result.stdout and "order_date" in result.stdout


def test_validate_exit_code_two_on_errors(make_workspace):
    folder = make_workspace({"transactions.csv": "customer_id,order_date,amount\nC1,soon,1\n"})
    result = runner.invoke(app, ["data", "validate", "-w", str(folder), "--format", "csv"])
    assert result.exit_code == 2
    assert "unparsable" in result.stdout and "order_date" in result.stdout


def test_validate_clean_workspace_exits_zero_with_warnings(make_workspace):
    folder = make_workspace({"transactions.csv": TX})
    result = runner.invoke(app, ["data", "validate", "-w", str(folder), "--format", "json"])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert (data["errors"], data["warnings"], data["tables"]) == (0, 1, 1)


def test_bad_workspace_is_one_clear_line_with_exit_two(tmp_path):
    result = runner.invoke(app, ["data", "inspect", "-w", str(tmp_path / "nowhere")])
    assert result.exit_code == 2
    lines = [l for l in result.stderr.splitlines() if l.strip()]
    assert len(lines) == 1 and "workspace not found" in lines[0] and "Traceback" not in result.output


def test_output_writes_and_refuses_to_overwrite(make_workspace, tmp_path):
    folder = make_workspace({"transactions.csv": TX})
    out = tmp_path / "findings.csv"
    args = ["data", "validate", "-w", str(folder), "--output", str(out)]
    assert runner.invoke(app, args).exit_code == 0
    first = out.read_bytes()
    assert b"negative_amount" in first
    again = runner.invoke(app, args)
    assert again.exit_code == 2 and "already exists" in again.stderr and "--force" in again.stderr
    assert out.read_bytes() == first  # untouched
    assert runner.invoke(app, args + ["--force"]).exit_code == 0


def test_convert_writes_parquet_that_loads_the_same(make_workspace):
    from core.workspace import Workspace

    folder = make_workspace({"transactions.csv": TX + "C3,20240107,\"¥1,000\"\n"})
    before = Workspace.open(folder).scan("transactions").collect()
    result = runner.invoke(app, ["data", "convert", "-w", str(folder)])
    assert result.exit_code == 0, result.output
    ws = Workspace.open(folder)
    assert ws.sources["transactions"].format == "parquet"
    assert ws.scan("transactions").collect().equals(before)
    again = runner.invoke(app, ["data", "convert", "-w", str(folder)])
    assert again.exit_code == 0  # already Parquet: nothing to overwrite


def test_output_format_flag_overrides_the_extension(make_workspace, tmp_path):
    folder = make_workspace({"transactions.csv": TX})
    out = tmp_path / "findings.txt"
    result = runner.invoke(app, ["data", "validate", "-w", str(folder), "-o", str(out), "--output-format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text(encoding="utf-8"))["warnings"] == 1
