"""`loyalist report pricing` and `report promotions` through the real Typer app: JSON keys, exit codes."""

import json

from typer.testing import CliRunner

from commands.app import app
from tests.conftest import SAMPLE

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, ["report", *args], env={"COLUMNS": "200"})


def test_pricing_json_on_the_sample():
    result = invoke("pricing", "-w", str(SAMPLE), "-f", "json")  # the defaults: PPML, weekly
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    sports = next(r for r in data["categories"] if r["category"] == "sports")
    assert {"elasticity", "elasticity_ci", "best_price_change", "revenue_change", "price_dispersion",
            "reason"} <= set(sports)
    assert sports["elasticity_ci"][0] <= -2.5 <= sports["elasticity_ci"][1]
    assert data["most_elastic_category"] == "sports"
    assert {"products", "bands", "segments", "notes", "params"} <= set(data)
    assert data["params"]["period"] == "week" and data["estimator"] == "PPML"
    loglog = json.loads(invoke("pricing", "-w", str(SAMPLE), "--estimator", "loglog", "-f", "json").stdout)
    assert loglog["estimator"] == "log-log OLS" and loglog["params"]["estimator"] == "loglog"


def test_promotions_json_on_the_sample():
    result = invoke("promotions", "-w", str(SAMPLE), "--margin", "0.3", "-f", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    first = data["promotions"][0]
    assert first["promo_id"] == "PR01"
    assert {"sales_lift", "sales_lift_ci", "post_dip", "pull_forward_share", "net_lift", "discount_depth",
            "roi", "baseline_last_year", "overlap_days"} <= set(first)
    assert {m["metric"] for m in data["metrics"]} == {"sales", "orders", "units", "new_customers", "new_members"}
    assert data["overlap_days"] == 6


def test_bad_choice_is_a_usage_error_and_missing_columns_exit_one(make_workspace):
    assert invoke("pricing", "-w", str(SAMPLE), "--period", "year").exit_code == 2
    folder = make_workspace({"transactions.csv": "customer_id,order_date,amount\na,2024-01-10,100\n"})
    result = invoke("pricing", "-w", str(folder))
    assert result.exit_code == 1 and "product_id" in result.output
    result = invoke("promotions", "-w", str(folder))
    assert result.exit_code == 1 and "promo_id" in result.output
