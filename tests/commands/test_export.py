"""`loyalist export run|kinds|init` through Typer, with the app's error handling."""

import json
import xml.etree.ElementTree as ET

import pytest
import typer
from typer.testing import CliRunner

from commands import export
from commands.app import LoyalistGroup

openpyxl = pytest.importorskip("openpyxl")

runner = CliRunner()
TX = "customer_id,order_date,amount\nC1,2024-01-05,10\nC2,2024-02-06,-3\nC1,2024-03-01,12\n"

# Mounted as the lead mounts it in commands/app.py, so errors become one line and an exit code.
app = typer.Typer(cls=LoyalistGroup, pretty_exceptions_enable=False)
app.add_typer(export.app, name="export")


@app.callback()
def _root(debug: bool = typer.Option(False, "--debug")) -> None:
    """test root"""


def recipe(tmp_path, body, workspace=None):
    head = f'title = "Monthly 月报"\nworkspace = "{workspace}"\n' if workspace else 'title = "Monthly 月报"\n'
    path = tmp_path / "monthly.toml"
    path.write_text(head + body, encoding="utf-8")
    return path


REPORTS = '[[report]]\nkind = "data.inspect"\n[[report]]\nkind = "data.validate"\ntitle = "Quality"\n'


def test_run_writes_one_html_report(tmp_path, make_workspace):
    folder = make_workspace({"transactions.csv": TX})
    out = tmp_path / "monthly.html"
    result = runner.invoke(app, ["export", "run", str(recipe(tmp_path, REPORTS, folder)), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "wrote" in result.stderr and "2 reports" in result.stderr
    root = ET.fromstring(out.read_text(encoding="utf-8")[len("<!DOCTYPE html>"):])
    assert root.find(".//h1").text == "Monthly 月报"
    assert [h.text for h in root.iterfind(".//section/h2")] == [f"Workspace {folder.name}", "Quality"]


def test_run_writes_one_workbook_and_as_of_reaches_the_reports(tmp_path, make_workspace):
    folder = make_workspace({"transactions.csv": TX})
    out = tmp_path / "monthly.xlsx"
    args = ["export", "run", str(recipe(tmp_path, REPORTS)), "-w", str(folder), "-o", str(out), "--as-of", "2024-02-29"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["Contents", "Summary", "inspect tables", "inspect columns", "validate findings"]
    rules = [r[3] for r in book["validate findings"].iter_rows(min_row=2, values_only=True)]
    assert "date_after_as_of" in rules


def test_format_flag_overrides_the_extension(tmp_path, make_workspace):
    folder = make_workspace({"transactions.csv": TX})
    out = tmp_path / "monthly.out"
    args = ["export", "run", str(recipe(tmp_path, REPORTS, folder)), "-o", str(out), "--format", "json"]
    assert runner.invoke(app, args).exit_code == 0
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert [r["name"] for r in doc["reports"]] == ["data.inspect", "data.validate"]


def test_output_from_the_recipe_and_overwrite_protection(tmp_path, make_workspace):
    folder = make_workspace({"transactions.csv": TX})
    path = tmp_path / "monthly.toml"
    path.write_text(f'output = "report.md"\nworkspace = "{folder}"\n' + REPORTS, encoding="utf-8")
    assert runner.invoke(app, ["export", "run", str(path)]).exit_code == 0
    written = tmp_path / "report.md"
    before = written.read_bytes()
    again = runner.invoke(app, ["export", "run", str(path)])
    assert again.exit_code == 2 and "already exists" in again.stderr and "--force" in again.stderr
    assert written.read_bytes() == before
    assert runner.invoke(app, ["export", "run", str(path), "--force"]).exit_code == 0


@pytest.mark.parametrize(("output", "message"), [
    ("nowhere/monthly.html", "folder does not exist"),
    ("monthly.csv", "cannot be written as csv"),
])
def test_bad_outputs_fail_before_any_report_runs(tmp_path, output, message):
    # The workspace does not exist either: the output error must come first.
    path = recipe(tmp_path, REPORTS, tmp_path / "no-workspace")
    result = runner.invoke(app, ["export", "run", str(path), "-o", str(tmp_path / output)])
    assert result.exit_code == 2 and message in result.stderr
    assert "Traceback" not in result.output


def test_no_output_anywhere_is_a_clear_error(tmp_path):
    result = runner.invoke(app, ["export", "run", str(recipe(tmp_path, REPORTS))])
    assert result.exit_code == 2 and "no output file" in result.stderr


def test_a_bad_recipe_is_one_clear_line(tmp_path):
    path = recipe(tmp_path, '[[report]]\nkind = "segment.nope"\n')
    result = runner.invoke(app, ["export", "run", str(path), "-o", str(tmp_path / "x.html")])
    assert result.exit_code == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "unknown kind 'segment.nope'" in lines[0]


def test_keep_going_writes_the_rest_and_exits_one(tmp_path, make_workspace, add_analysis):
    from core.errors import AnalysisError
    from core.registry import Analysis

    def broken(ws):
        raise AnalysisError("too few customers")

    add_analysis(Analysis("test.broken", "Broken", "always fails", run=broken, needs=()))
    folder = make_workspace({"transactions.csv": TX})
    path = recipe(tmp_path, '[[report]]\nkind = "test.broken"\n' + REPORTS, folder)
    out = tmp_path / "m.html"
    stopped = runner.invoke(app, ["export", "run", str(path), "-o", str(out)])
    assert stopped.exit_code == 1 and "report 1 (test.broken): too few customers" in stopped.stderr
    assert not out.exists()
    kept = runner.invoke(app, ["export", "run", str(path), "-o", str(out), "--keep-going"])
    assert kept.exit_code == 1 and "failed: report 1 (test.broken)" in kept.stderr
    text = out.read_text(encoding="utf-8")
    assert "could not be produced: too few customers" in text and "Quality" in text


def test_kinds_lists_every_analysis_with_its_defaults():
    from core.registry import analyses

    result = runner.invoke(app, ["export", "kinds"], env={"COLUMNS": "250"})
    assert result.exit_code == 0
    for analysis in analyses():
        assert analysis.kind in result.stdout
    assert "bins = 5" in result.stdout and "spec (required)" in result.stdout


def test_a_recipe_output_outside_its_folder_is_refused_unless_given(tmp_path, make_workspace):
    folder = make_workspace({"transactions.csv": TX})
    recipes = tmp_path / "recipes"
    recipes.mkdir()
    victim = tmp_path / "victim.html"
    victim.write_text("keep me", encoding="utf-8")
    path = recipes / "monthly.toml"
    path.write_text(f'output = "../victim.html"\nworkspace = "{folder}"\n' + REPORTS, encoding="utf-8")
    refused = runner.invoke(app, ["export", "run", str(path), "--force"])
    assert refused.exit_code == 2 and "outside the recipe's folder" in refused.stderr
    assert "--output" in refused.stderr and victim.read_text(encoding="utf-8") == "keep me"
    given = runner.invoke(app, ["export", "run", str(path), "--output", str(victim), "--force"])
    assert given.exit_code == 0, given.output
    assert victim.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
