"""Scoped validation and the on_invalid policy: one bad value must not stop unrelated work,
and rows left out are counted where the user sees them."""

import json

import polars as pl
import pytest
from typer.testing import CliRunner

from commands.app import app
from core.errors import InputError
from core.registry import run_analysis
from core.validate import validate
from core.workspace import Workspace

runner = CliRunner()
TX = ("customer_id,order_date,amount,channel\nC1,2024-01-05,10.00,web\nC2,2024-01-06,20.00,store\n"
      "C3,2024-01-07,30.00,web\nC4,2024-02-07,40.00,store\n")
# A survey-tool export where two answers were keyed on an 11-point-plus-one scale.
SURVEY = ("customer_id,response_date,nps,csat\nC1,2024-01-10,9,4\nC2,2024-01-10,11,5\nC3,2024-01-10,3,2\n"
          "C4,2024-02-10,11,3\nC1,2024-02-10,10,5\n")


def _ws(make_workspace, toml=None, **extra):
    files = {"transactions.csv": TX, "survey.csv": SURVEY, **extra}
    if toml:
        files["loyalist.toml"] = toml
    return make_workspace(files)


@pytest.mark.parametrize("kind", ["report.channels", "report.kpi"])
def test_bad_nps_does_not_stop_analyses_that_only_use_the_survey(make_workspace, kind):
    result = run_analysis(kind, Workspace.open(_ws(make_workspace)))
    note = next(n for n in result.notes if "survey table" in n)
    assert "left out" in note and "nps" in note and "2 rows (3, 5)" in note and "on_invalid" in note


def test_the_kpi_report_shows_no_nps_made_of_bad_answers(make_workspace):
    result = run_analysis("report.kpi", Workspace.open(_ws(make_workspace)))
    kpis = result.tables["kpis"]
    assert "nps" not in kpis["kpi"].to_list()  # 11 would have counted as a promoter
    # the last 30 days up to 2024-02-07 hold one order, of 40.00
    assert kpis.filter(pl.col("kpi") == "revenue")["current"].item() == pytest.approx(40.0)


def test_an_analysis_that_does_not_read_the_bad_table_has_no_note(make_workspace):
    result = run_analysis("segment.rfm", Workspace.open(_ws(make_workspace)))
    assert not [n for n in result.notes if "survey" in n]


def test_an_analysis_that_needs_the_bad_table_stops_naming_rows(make_workspace):
    with pytest.raises(InputError) as err:
        run_analysis("report.nps", Workspace.open(_ws(make_workspace)))
    assert "survey.csv" in str(err.value) and "rows 3, 5" in str(err.value)


def test_on_invalid_skip_leaves_out_the_rows_and_counts_them(make_workspace):
    folder = _ws(make_workspace, '[tables.survey]\non_invalid = "skip"\n')
    result = run_analysis("report.nps", Workspace.open(folder))
    # NPS of the three valid answers 9, 3, 10: (2 promoters - 1 detractor) / 3 = 33.3
    assert result.headline["nps"] == pytest.approx(100 / 3)
    note = next(n for n in result.notes if "left out as invalid" in n)
    assert note.startswith("2 rows of survey.csv") and "(3, 5)" in note


def test_notes_on_rows_of_a_converted_copy_name_the_file_the_rows_are_in(make_workspace):
    # after `data convert` the Parquet copy is read, but its rows are numbered as the CSV's:
    # the notes name the CSV, the file the analyst opens at those rows
    folder = _ws(make_workspace)
    converted = runner.invoke(app, ["data", "convert", "-w", str(folder)])
    assert converted.exit_code == 0, converted.output
    assert Workspace.open(folder).sources["survey"].path.suffix == ".parquet"
    note = next(n for n in run_analysis("report.channels", Workspace.open(folder)).notes if "survey table" in n)
    assert "(survey.csv)" in note and "(3, 5)" in note
    skipped = runner.invoke(app, ["report", "nps", "-w", str(folder), "--skip-invalid", "-f", "json"])
    assert skipped.exit_code == 0, skipped.output
    note = next(n for n in json.loads(skipped.stdout)["notes"] if "left out as invalid" in n)
    assert note.startswith("2 rows of survey.csv") and "(3, 5)" in note


def test_stopping_errors_count_rows_as_written_and_whole_table_ones_count_none(make_workspace):
    one_bad = _ws(make_workspace, **{"transactions.csv": TX + "C5,2024-02-08,NaN,web\n"})
    with pytest.raises(InputError) as err:
        run_analysis("segment.rfm", Workspace.open(one_bad))
    assert ": 1 row" in str(err.value) and "1 rows" not in str(err.value)
    header_only = _ws(make_workspace, **{"transactions.csv": TX.splitlines()[0] + "\n"})
    with pytest.raises(InputError) as err:
        run_analysis("segment.rfm", Workspace.open(header_only))
    assert "header but no rows. Fix:" in str(err.value) and "0 rows" not in str(err.value)


def test_skip_does_not_apply_to_tables_without_the_setting(make_workspace):
    bad_tx = TX + "C5,2024-02-08,NaN,web\n"
    folder = _ws(make_workspace, '[tables.survey]\non_invalid = "skip"\n', **{"transactions.csv": bad_tx})
    with pytest.raises(InputError, match="rows 6"):  # the KPI report needs transactions
        run_analysis("report.kpi", Workspace.open(folder))


def test_cli_skip_invalid_and_exports_carry_the_note(make_workspace, tmp_path):
    folder = _ws(make_workspace, **{"transactions.csv": TX + "C5,2024-02-08,1e308,web\n"})
    stopped = runner.invoke(app, ["segment", "rfm", "-w", str(folder)])
    assert stopped.exit_code == 2 and "rows 6" in stopped.stderr
    out = tmp_path / "rfm.json"
    result = runner.invoke(app, ["segment", "rfm", "-w", str(folder), "--skip-invalid", "-o", str(out), "-f", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text(encoding="utf-8"))
    assert any(n.startswith("1 row of transactions.csv left out as invalid") for n in data["notes"])
    scored = tmp_path / "rfm.csv"
    assert runner.invoke(app, ["segment", "rfm", "-w", str(folder), "--skip-invalid", "-o", str(scored)]).exit_code == 0
    assert sorted(pl.read_csv(scored)["customer_id"].to_list()) == ["C1", "C2", "C3", "C4"]  # C5's 1e308 left out
    md = tmp_path / "rfm.md"
    runner.invoke(app, ["segment", "rfm", "-w", str(folder), "--skip-invalid", "-o", str(md)])
    assert "left out as invalid" in md.read_text(encoding="utf-8")


def test_data_convert_copies_tables_with_bad_nps_but_not_half_parsed_ones(make_workspace):
    folder = _ws(make_workspace)
    result = runner.invoke(app, ["data", "convert", "-w", str(folder)])
    assert result.exit_code == 0, result.output
    # the copy holds the answers as given, and validation still finds them there
    assert pl.read_parquet(folder / "survey.parquet")["nps"].to_list() == [9, 11, 3, 11, 10]
    found = [f for f in validate(Workspace.open(folder)) if f.rule == "out_of_range"]
    # named in the CSV the analyst edits, by its rows (header = row 1)
    assert [(f.table, f.file.endswith("survey.csv"), f.rows) for f in found] == [("survey", True, (3, 5))]
    bad = _ws(make_workspace, **{"transactions.csv": TX + "C5,2024-02-08,twelve,web\n"})
    refused = runner.invoke(app, ["data", "convert", "-w", str(bad), "--format", "json"])
    status = {r["table"]: r["status"] for r in json.loads(refused.stdout)["converted"]}
    assert refused.exit_code == 2 and "(1 row: 6)" in status["transactions"]
    assert not (bad / "transactions.parquet").exists()


def test_rows_that_stop_an_analysis_name_the_table_that_could_skip_them(make_workspace):
    from core.invalid import InvalidRowsError

    with pytest.raises(InvalidRowsError) as err:
        run_analysis("report.nps", Workspace.open(_ws(make_workspace)))
    assert err.value.table == "survey" and err.value.rows == (3, 5) and err.value.column == "nps"


def test_checked_for_reads_the_tables_as_the_analysis_does(make_workspace):
    from core.registry import checked_for

    folder = _ws(make_workspace, '[tables.survey]\non_invalid = "skip"\n')
    checked = checked_for("report.nps", Workspace.open(folder))
    assert checked.skipped == 2 and checked.read == ("survey", "transactions")
    assert checked.ws.scan("survey").collect()["nps"].to_list() == [9, 3, 10]  # the valid answers
    left_out = checked_for("report.kpi", Workspace.open(_ws(make_workspace)))  # error policy, survey only used
    assert "survey" not in left_out.read and "left out" in left_out.notes[0]
