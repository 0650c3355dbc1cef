"""Converted copies: used only while their source is unchanged; `--force` reconverts."""

import json
import os

import polars as pl
from typer.testing import CliRunner

from commands.app import app
from core.workspace import Workspace

runner = CliRunner()
# A POS export with comma thousands in quoted amounts: 12.50 + 1,000.00 + 7.25 = 1019.75
TX = ('Customer ID,Order Date,Amount\n'
      'C1,2024-03-01,12.50\nC2,2024-03-02,"1,000.00"\nC3,2024-03-03,7.25\n')
EDITED = TX + "C4,2024-03-04,80.25\n"  # the analyst adds an order: 1100.00


def revenue(folder) -> float:
    return Workspace.open(folder).scan("transactions").select(pl.col("amount").sum()).collect().item()


def convert(folder, *extra):
    result = runner.invoke(app, ["data", "convert", "-w", str(folder), "--format", "json", *extra])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def inspect(folder):
    result = runner.invoke(app, ["data", "inspect", "-w", str(folder), "--format", "json"])
    assert result.exit_code == 0, result.output
    return result, json.loads(result.stdout)["tables"][0]


def test_a_current_copy_is_used_and_says_so(make_workspace):
    folder = make_workspace({"transactions.csv": TX})
    assert convert(folder)["converted"][0]["status"] == "converted"
    result, table = inspect(folder)
    assert table["file"] == "transactions.parquet" and "converted copy of transactions.csv" in table["why"]
    assert "note:" not in result.stderr
    assert revenue(folder) == 1019.75


def test_editing_the_source_after_convert_reads_the_source_with_a_note(make_workspace):
    folder = make_workspace({"transactions.csv": TX})
    convert(folder)
    (folder / "transactions.csv").write_text(EDITED, encoding="utf-8")
    assert revenue(folder) == 1100.00  # the stale copy said 1019.75
    result, table = inspect(folder)
    assert table["file"] == "transactions.csv" and "changed after it was converted" in table["why"]
    assert "note:" in result.stderr and "transactions.parquet" in result.stderr
    assert "loyalist data convert" in result.stderr
    # Converting again replaces our own stale copy without --force, and it is used again.
    assert convert(folder)["converted"][0]["status"] == "reconverted: the source had changed"
    assert inspect(folder)[1]["file"] == "transactions.parquet"
    assert revenue(folder) == 1100.00


def test_an_edit_keeping_size_and_time_is_caught_by_the_content(make_workspace):
    folder = make_workspace({"transactions.csv": TX})
    source = folder / "transactions.csv"
    convert(folder)
    stat = source.stat()
    source.write_text(TX.replace("7.25", "9.25"), encoding="utf-8")  # same length
    os.utime(source, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # a tool that keeps the time stamp
    assert revenue(folder) == 1021.75
    assert "content differs" in inspect(folder)[1]["why"]


def test_force_reconverts_a_current_copy(make_workspace):
    folder = make_workspace({"transactions.csv": TX})
    convert(folder)
    again = convert(folder)
    assert again["tables"] == 0 and again["up_to_date"] == 1
    assert again["converted"][0]["status"].startswith("up to date")
    forced = convert(folder, "--force")
    assert forced["tables"] == 1 and forced["converted"][0]["rows"] == 3  # it said "tables 0"
    assert forced["converted"][0]["status"] == "reconverted (--force)"


def test_changed_options_in_loyalist_toml_make_the_copy_stale(make_workspace):
    text = "customer_id,order_date,amount\nC1,03/04/2024,5\nC2,13/04/2024,5\n"
    config = '[tables.transactions]\nfile = "sales 2024.csv"\ndate_format = "%d/%m/%Y"\n'
    folder = make_workspace({"sales 2024.csv": text, "loyalist.toml": config})
    convert(folder)
    ws = Workspace.open(folder)
    assert ws.sources["transactions"].path.name == "transactions.parquet"  # the copy of the named file
    (folder / "loyalist.toml").write_text(config.replace("%d/%m/%Y", "%m/%d/%Y"), encoding="utf-8")
    ws = Workspace.open(folder)
    assert ws.sources["transactions"].path.name == "sales 2024.csv"
    assert "options for this table in loyalist.toml changed" in ws.notices[0]
    dates = ws.scan("transactions").select(pl.col("order_date").dt.month()).collect().to_series()
    assert dates.to_list() == [3, None]  # month first now: 13/04 is not a date (validation says so)


def test_a_copy_of_a_mapped_file_is_read_without_the_mapping(make_workspace):
    config = '[tables.transactions]\nfile = "pos.csv"\n[tables.transactions.columns]\ncustomer_id = "Kunde"\n'
    folder = make_workspace({"pos.csv": "Kunde,order_date,amount\nK1,2024-01-02,3\nK2,2024-01-03,4\n",
                             "loyalist.toml": config})
    convert(folder)
    ws = Workspace.open(folder)
    assert ws.sources["transactions"].origin.name == "pos.csv"
    assert ws.scan("transactions").collect()["customer_id"].to_list() == ["K1", "K2"]


def test_a_foreign_parquet_older_than_its_csv_is_set_aside(make_workspace):
    folder = make_workspace({})
    pl.DataFrame({"customer_id": ["C1"], "order_date": ["2024-03-01"], "amount": [1.0]}).write_parquet(
        folder / "transactions.parquet")
    old = folder / "transactions.parquet"
    os.utime(old, ns=(0, 1_000_000_000))
    (folder / "transactions.csv").write_text(TX, encoding="utf-8")
    ws = Workspace.open(folder)
    assert ws.sources["transactions"].path.name == "transactions.csv"
    assert "older transactions.parquet" in ws.notices[0]
    assert revenue(folder) == 1019.75


def test_garbage_and_truncated_parquet_are_clear_errors(make_workspace):
    whole = make_workspace({"transactions.csv": TX})
    convert(whole)
    data = (whole / "transactions.parquet").read_bytes()
    cases = {"truncated": data[: len(data) // 2], "garbage": b"PAR1" + b"\x00not parquet" * 50}
    for name, content in cases.items():
        folder = make_workspace({})
        (folder / "transactions.parquet").write_bytes(content)
        result = runner.invoke(app, ["report", "kpi", "-w", str(folder)])
        assert result.exit_code == 2, (name, result.output)
        assert "internal error" not in result.stderr
        assert "transactions.parquet" in result.stderr and "not a complete Parquet file" in result.stderr
        assert "export it again" in result.stderr


def test_rows_named_through_a_copy_are_the_csv_rows(make_workspace):
    from core.validate import validate

    folder = make_workspace({"transactions.csv": TX.replace("7.25", "-7.25")})  # a return on CSV row 4
    convert(folder)
    ws = Workspace.open(folder)
    assert ws.sources["transactions"].origin is not None
    negative = [f for f in validate(ws) if f.rule == "negative_amount"]
    assert [f.rows for f in negative] == [(4,)]  # header = row 1, as the spreadsheet shows it


def test_a_table_with_values_that_do_not_parse_is_not_converted_and_does_not_stop_the_others(make_workspace):
    survey = "customer_id,response_date,nps\nC1,2024-03-05,9\nC2,2024-03-06,11\n"  # NPS 11: copied as read
    bad = TX + "C5,2024-02-08,twelve\n"  # an amount that does not parse, on row 5
    folder = make_workspace({"transactions.csv": bad, "survey.csv": survey})
    result = runner.invoke(app, ["data", "convert", "-w", str(folder), "--format", "json"])
    assert result.exit_code == 2, result.output
    status = {r["table"]: r["status"] for r in json.loads(result.stdout)["converted"]}
    assert status["survey"] == "converted" and (folder / "survey.parquet").is_file()
    assert status["transactions"].startswith("not converted: values in 'Amount' that do not parse as money, "
                                             "such as 'twelve' (1 row: 5)")
    assert not (folder / "transactions.parquet").exists()


def test_a_copy_of_another_file_never_stands_in_for_this_one(make_workspace):
    config = '[tables.transactions]\nfile = "sales 2023.csv"\n'
    folder = make_workspace({"sales 2023.csv": TX, "loyalist.toml": config})
    convert(folder)
    (folder / "loyalist.toml").unlink()  # the analyst now names the file after the table
    (folder / "transactions.csv").write_text(EDITED, encoding="utf-8")
    os.utime(folder / "transactions.csv", ns=(0, 1_000_000_000))  # older than the copy
    ws = Workspace.open(folder)
    assert ws.sources["transactions"].path.name == "transactions.csv"
    assert "converted from sales 2023.csv" in ws.notices[0]
    assert revenue(folder) == 1100.00
