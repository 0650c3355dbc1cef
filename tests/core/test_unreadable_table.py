"""A table whose file cannot be read (a POS report's title lines above the header) does not
hide the rest of the workspace: analyses that only use it leave it out with a note, those
that need it stop with its error, and `data validate` and `data inspect` list it beside the
tables they could read."""

import json

import pytest
from typer.testing import CliRunner

from commands.app import app
from core.errors import InputError
from core.registry import run_analysis
from core.workspace import Workspace

runner = CliRunner()
TX = ("order_id,customer_id,order_date,amount,channel\nO1,C1,2024-01-05,10.00,web\nO2,C2,2024-01-26,20.00,store\n"
      "O3,C1,2024-02-07,-5.00,web\n")
SURVEY = "Survey export\nPrinted 2024-03-01\n\ncustomer_id,response_date,nps\nC1,2024-01-10,9\nC2,2024-01-11,3\n"


@pytest.fixture
def folder(make_workspace):
    return make_workspace({"transactions.csv": TX, "survey.csv": SURVEY})


def test_an_analysis_that_only_uses_the_table_runs_without_it(folder):
    result = run_analysis("report.kpi", Workspace.open(folder, lazy=True))
    note = next(n for n in result.notes if n.startswith("the survey table was left out"))
    assert "cannot be read" in note and "survey.csv" in note and "3 lines above its header" in note
    assert "nps" not in result.tables["kpis"]["kpi"].to_list()


def test_an_analysis_that_needs_the_table_stops_with_its_error(folder):
    with pytest.raises(InputError, match="3 lines above its header") as err:
        run_analysis("report.nps", Workspace.open(folder, lazy=True))
    assert err.value.file.endswith("survey.csv") and err.value.rows == (1, 2, 3)


def test_validate_lists_it_as_an_error_and_checks_the_rest(folder):
    done = runner.invoke(app, ["data", "validate", "-w", str(folder), "-f", "json"])
    assert done.exit_code == 2, done.output
    findings = json.loads(done.stdout)["findings"]
    rules = {(f["table"], f["rule"]) for f in findings}
    assert ("survey", "unreadable_table") in rules
    assert ("transactions", "negative_amount") in rules  # the readable table was still checked
    unreadable = next(f for f in findings if f["rule"] == "unreadable_table")
    assert unreadable["severity"] == "error" and "delete the first 3 lines" in unreadable["fix"]


def test_inspect_lists_it_with_its_error(folder):
    done = runner.invoke(app, ["data", "inspect", "-w", str(folder), "-f", "json"])
    assert done.exit_code == 2  # the rest is listed, and the error still stops a script
    assert "error:" in done.stderr and "3 lines above its header" in done.stderr
    shown = json.loads(done.stdout)
    assert shown["tables_unreadable"] == "survey" and shown["tables_found"] == 2
    assert "survey" not in shown["tables_absent"]
    survey = next(t for t in shown["tables"] if t["table"] == "survey")
    assert survey["file"] == "survey.csv" and "cannot be read" in survey["notes"]


def test_a_scale_whose_items_come_from_the_unreadable_survey_says_why(folder):
    (folder / "scale.toml").write_text('[scale]\nweights = "equal"\n[[items]]\ncolumn = "nps"\n'
                                       '[[items]]\ncolumn = "frequency"\n')
    with pytest.raises(InputError, match="3 lines above its header"):  # not "nps is not a survey column"
        run_analysis("scale.check", Workspace.open(folder, lazy=True), {"spec": str(folder / "scale.toml")})
