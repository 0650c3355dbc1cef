"""`loyalist scale init|check|score|validate` through the real Typer app."""

import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from commands.app import app
from tests.core.test_scale_run import write_workspace

runner = CliRunner()
DATA = Path(__file__).resolve().parent.parent / "data"


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    return write_workspace(tmp_path_factory.mktemp("scale_cli"))


@pytest.fixture
def spec_file(tmp_path) -> Path:
    path = tmp_path / "scale.toml"
    path.write_text(
        "[scale]\noutcome_days = 60\n"
        + "".join(f'[[items]]\ncolumn = "{c}"\n' for c in ("loy_recommend", "loy_trust", "loy_first_choice"))
        + '[[items]]\ncolumn = "loy_switch"\ndirection = "lower"\n'
        + '[[items]]\ncolumn = "nps"\nrange = [0, 10]\nweight = 2\n'
        + '[tiers]\ncuts = [40, 70]\nnames = ["Low", "Medium", "High"]\n',
        encoding="utf-8")
    return path


def test_check_data_file_json_has_the_documented_keys():
    result = runner.invoke(app, ["scale", "check", "--data", str(DATA / "bfi.csv"),
                                 "--items", "A1,A2,A3,A4,A5", "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert {"alpha", "alpha_ci", "std_alpha", "n", "items"} <= set(report)
    assert len(report["alpha_ci"]) == 2 and report["alpha_ci"][0] < report["alpha"] < report["alpha_ci"][1]
    assert report["n"] == 2800
    rows = {row["item"]: row for row in report["items"]}
    assert set(rows) == {"A1", "A2", "A3", "A4", "A5"}
    assert {"item", "r_drop", "alpha_if_deleted"} <= set(rows["A2"])
    # A1 is worded negatively in bfi: the report says so.
    assert rows["A1"]["reverse_keyed"] and rows["A1"]["r_drop"] < 0


def test_check_data_file_policies_match_published_values():
    args = ["scale", "check", "--data", str(DATA / "cronbach_wide_missing.csv"), "--format", "json"]
    pairwise = json.loads(runner.invoke(app, args + ["--missing", "pairwise"]).stdout)
    listwise = json.loads(runner.invoke(app, args + ["--missing", "listwise"]).stdout)
    # pingouin's documented values, checked by its authors against R's psych::alpha.
    assert pairwise["alpha"] == pytest.approx(0.732660835214447)
    assert [round(v, 3) for v in pairwise["alpha_ci"]] == [0.435, 0.909]
    assert listwise["alpha"] == pytest.approx(0.8016949152542373)
    assert listwise["n"] < pairwise["n"] == 12


def test_check_defaults_to_every_numeric_column(tmp_path):
    path = tmp_path / "items.csv"
    pl.read_csv(DATA / "bfi.csv").select("A2", "A3", "A4").with_columns(note=pl.lit("x")).write_csv(path)
    report = json.loads(runner.invoke(app, ["scale", "check", "--data", str(path), "-f", "json"]).stdout)
    assert [r["item"] for r in report["items"]] == ["A2", "A3", "A4"]


def test_check_unknown_item_is_exit_two_naming_the_column():
    result = runner.invoke(app, ["scale", "check", "--data", str(DATA / "bfi.csv"), "--items", "A1,Z9"])
    assert result.exit_code == 2 and "'Z9'" in result.stderr


def test_check_needs_a_spec_or_data():
    result = runner.invoke(app, ["scale", "check"])
    assert result.exit_code == 2 and "--data" in result.stderr


def test_check_with_a_spec_on_the_workspace(workspace, spec_file):
    result = runner.invoke(app, ["scale", "check", "-w", str(workspace), "--spec", str(spec_file),
                                 "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["k"] == 5 and report["method"] == "manual"
    weights = {r["item"]: r["weight"] for r in report["weights"]}
    assert weights["nps"] == pytest.approx(2 / 6)
    assert len(report["sensitivity"]) == 10


def test_spec_errors_name_the_line(workspace, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[scale]\nmissing = "often"\n[[items]]\ncolumn = "nps"\n[[items]]\ncolumn = "loy_trust"\n',
                   encoding="utf-8")
    result = runner.invoke(app, ["scale", "check", "-w", str(workspace), "--spec", str(bad)])
    assert result.exit_code == 2
    assert "line 2" in result.stderr and "scale.missing" in result.stderr and "Traceback" not in result.output


def test_init_writes_a_spec_that_check_accepts(workspace, tmp_path):
    spec = tmp_path / "new.toml"
    result = runner.invoke(app, ["scale", "init", "-w", str(workspace), "--spec", str(spec)])
    assert result.exit_code == 0, result.output
    assert "loy_recommend" in spec.read_text(encoding="utf-8")
    again = runner.invoke(app, ["scale", "init", "-w", str(workspace), "--spec", str(spec)])
    assert again.exit_code == 2 and "--force" in again.stderr
    checked = runner.invoke(app, ["scale", "check", "-w", str(workspace), "--spec", str(spec), "-f", "json"])
    assert checked.exit_code == 0, checked.output


def test_score_writes_customer_items_score_and_tier(workspace, spec_file, tmp_path):
    out = tmp_path / "scores.csv"
    result = runner.invoke(app, ["scale", "score", "-w", str(workspace), "--spec", str(spec_file),
                                 "--output", str(out)], env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    scores = pl.read_csv(out)
    assert scores.columns == ["customer_id", "loy_recommend", "loy_trust", "loy_first_choice",
                              "loy_switch", "nps", "score", "tier"]
    assert set(scores["tier"].drop_nulls()) <= {"Low", "Medium", "High"}
    assert "tiers" in result.stdout and "Medium" in result.stdout


def test_score_csv_goes_to_stdout(workspace, spec_file):
    result = runner.invoke(app, ["scale", "score", "-w", str(workspace), "--spec", str(spec_file), "-f", "csv"])
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0].endswith("score,tier")


def test_validate_reports_factor_analysis_and_criterion_validity(workspace, spec_file):
    result = runner.invoke(app, ["scale", "validate", "-w", str(workspace), "--spec", str(spec_file),
                                 "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert {"kmo", "bartlett_chi2", "auc", "base_rate"} <= set(report)
    assert {"loadings", "eigenvalues", "correlations", "deciles"} <= set(report)
    assert report["auc"] > 0.6


def test_validate_with_an_oblique_rotation(workspace, spec_file):
    result = runner.invoke(app, ["scale", "validate", "-w", str(workspace), "--spec", str(spec_file),
                                 "--factors", "2", "--rotation", "promax", "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["rotation"] == "promax" and {"factor_correlations", "structure"} <= set(report)
    bad = runner.invoke(app, ["scale", "validate", "-w", str(workspace), "--spec", str(spec_file),
                              "--rotation", "quartimax"])
    assert bad.exit_code == 2 and "oblimin" in bad.output


def test_validate_data_file_runs_efa_kmo_and_bartlett_like_factor_analyzer(tmp_path):
    fa = pytest.importorskip("factor_analyzer")
    items = "A1,A2,A3,A4,A5,C1,C2,C3,C4,C5"
    complete = pl.read_csv(DATA / "bfi.csv").drop_nulls(items.split(","))
    complete.write_csv(path := tmp_path / "bfi_complete.csv")
    result = runner.invoke(app, ["scale", "validate", "--data", str(path), "--items", items,
                                 "--factors", "2", "--rotation", "oblimin", "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    frame = complete.select(items.split(",")).to_pandas()
    _, overall = fa.calculate_kmo(frame)
    chi2, p = fa.calculate_bartlett_sphericity(frame)
    assert report["kmo"] == pytest.approx(overall, abs=1e-10)
    assert report["bartlett_chi2"] == pytest.approx(chi2, rel=1e-10)
    assert report["rotation"] == "oblimin" and report["factor_correlations"]
    assert report["n_factors"] == 2 and len(report["loadings"]) == 10
    missing = runner.invoke(app, ["scale", "validate"])
    assert missing.exit_code == 2 and "--data" in missing.output
