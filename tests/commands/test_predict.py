"""`loyalist predict clv|churn|drivers` through the real Typer app."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from commands.app import app

runner = CliRunner()
DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="module")
def demo_ws(tmp_path_factory):
    from core.demo import write_workspace

    folder = tmp_path_factory.mktemp("demo")
    write_workspace(folder, customers=600, seed=3)
    return folder


@pytest.fixture(scope="module")
def cdnow_ws(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cdnow")
    shutil.copy(DATA / "cdnow_sample_transactions.csv", folder / "transactions.csv")
    return folder


def run(*args: str):
    return runner.invoke(app, ["predict", *args], env={"COLUMNS": "160"})


def test_clv_json_reproduces_cdnow_under_the_usual_names(cdnow_ws):
    result = run("clv", "-w", str(cdnow_ws), "--calibration-end", "1997-09-30",
                 "--holdout-end", "1998-06-30", "--unit", "week", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {"name", "title", "params", "notes", "parameters"} <= set(data)
    h = data
    # Fader, Hardie & Lee (2005); Fader & Hardie's Gamma-Gamma note
    for name, value in {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}.items():
        assert h[name] == pytest.approx(value, abs=1e-3), name
    for name, value in {"p": 6.25, "q": 3.74, "gamma": 15.44}.items():
        assert h[name] == pytest.approx(value, abs=0.01), name
    assert h["log_likelihood"] == pytest.approx(-9582.4, abs=0.05)
    assert h["unit"] == "week" and h["holdout_length"] == 39
    assert "customers" not in data  # per-customer rows go to csv / --output
    assert [r["parameter"] for r in data["parameters"]] == [
        "r", "alpha", "a", "b", "p", "q", "gamma"]
    assert data["holdout"][-1]["calibration_frequency"] == "7+"


def test_clv_csv_is_one_row_per_customer_and_output_writes_it(cdnow_ws, tmp_path):
    out = tmp_path / "clv.parquet"
    result = run("clv", "-w", str(cdnow_ws), "--calibration-end", "1997-09-30",
                 "--format", "csv", "--output", str(out))
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 2357 + 1
    assert lines[0].startswith("customer_id,first_purchase,frequency,recency,T,")
    written = pl.read_parquet(out)
    assert written.height == 2357 and {"p_alive", "clv"} <= set(written.columns)


def test_clv_bad_dates_are_one_clear_line_with_exit_two(cdnow_ws):
    result = run("clv", "-w", str(cdnow_ws), "--calibration-end", "1997-09-30",
                 "--holdout-end", "1997-01-01")
    assert result.exit_code == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "holdout" in lines[0] and "Traceback" not in result.output
    assert run("clv", "-w", str(cdnow_ws), "--unit", "month").exit_code == 2


def test_clv_too_little_data_exits_one(tmp_path):
    (tmp_path / "transactions.csv").write_text(
        "customer_id,order_date,amount\nC1,2024-01-01,10\nC1,2024-02-01,10\nC2,2024-01-05,5\n")
    result = run("clv", "-w", str(tmp_path))
    assert result.exit_code == 1
    assert "at least 10 customers" in result.stderr


def test_churn_json_reports_dates_models_and_the_at_risk_list(demo_ws):
    result = run("churn", "-w", str(demo_ws), "--horizon", "90", "--top", "25",
                 "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    h = data
    assert h["train_label_end"] <= h["test_as_of"] < h["test_label_end"] <= h["as_of"]
    assert {m["model"] for m in data["models"]} == {"logistic", "boosting"}
    assert h["validation_auc_logistic"] > 0.7 and h["test_auc"] > 0.7
    assert "test_predictions" not in data  # per customer: --output writes it
    at_risk = data["at_risk"]
    assert len(at_risk) == 25 and at_risk[0]["rank"] == 1
    values = [row["value_at_risk"] for row in at_risk]
    assert values == sorted(values, reverse=True)
    assert {"risk_factor_1", "clv", "churn_probability"} <= set(at_risk[0])
    assert len(data["gains"]) == 10


def test_churn_refuses_a_test_date_that_overlaps_training(demo_ws):
    result = run("churn", "-w", str(demo_ws), "--test-date", "2025-06-01",
                 "--train-date", "2025-05-01", "--no-clv")
    assert result.exit_code == 2
    assert "overlap" in result.stderr


def test_drivers_json_finds_the_planted_drivers(demo_ws):
    result = run("drivers", "-w", str(demo_ws), "--outcome", "nps", "-p", "sat_*",
                 "--bootstrap", "100", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    drivers = [row["driver"] for row in data["drivers"]]
    assert set(drivers) == {"sat_product", "sat_service", "sat_price", "sat_delivery"}
    assert drivers[0] in {"sat_product", "sat_service"}
    assert data["summary"].startswith("Together the 4 drivers explain")
    shares = [row["share"] for row in data["drivers"]]
    assert sum(shares) == pytest.approx(100.0)


def test_drivers_table_prints_the_plain_language_summary(demo_ws):
    result = run("drivers", "-w", str(demo_ws), "-p", "sat_*", "--bootstrap", "50",
                 "--outcome", "retention", "--method", "shapley")
    assert result.exit_code == 0, result.output
    assert "Key drivers of retention" in result.stdout
    assert "of the explained variance in retention" in result.stdout


def test_drivers_unknown_outcome_is_exit_two(demo_ws):
    result = run("drivers", "-w", str(demo_ws), "--outcome", "happiness")
    assert result.exit_code == 2
    assert "happiness" in result.stderr


def test_per_customer_tables_are_written_by_output_not_printed(demo_ws, tmp_path):
    # As the README says: the JSON printout leaves them out, --output FILE.json has them.
    printed = run("churn", "-w", str(demo_ws), "--no-clv", "--format", "json")
    assert printed.exit_code == 0, printed.output
    assert "test_predictions" not in json.loads(printed.stdout)
    out = tmp_path / "churn.json"
    written = run("churn", "-w", str(demo_ws), "--no-clv", "--output", str(out))
    assert written.exit_code == 0, written.output
    data = json.loads(out.read_text())
    rows = data["tables"]["test_predictions"] if "tables" in data else data["test_predictions"]
    assert len(rows) == data.get("n_test", data.get("headline", {}).get("n_test"))
