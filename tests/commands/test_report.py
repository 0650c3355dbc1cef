"""`loyalist report ...` through the real Typer app: documented JSON keys, exit codes, files."""

import json
from pathlib import Path

import pytest
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_effectsize, proportions_ztest
from typer.testing import CliRunner

from commands.app import app
from tests.conftest import SAMPLE

runner = CliRunner()
TX = ("customer_id,order_date,amount,channel\n"
      "a,2024-01-10,100,web\nb,2024-01-12,50,store\nb,2024-02-20,70,web\nc,2024-01-15,30,store\n")
TOUCH = ("customer_id,timestamp,channel\n"
         "a,2024-01-05 10:00:00,email\na,2024-01-09 10:00:00,search\nb,2024-01-11 09:00:00,search\n"
         "c,2024-01-20 09:00:00,email\n")


def invoke(*args: str):
    return runner.invoke(app, ["report", *args], env={"COLUMNS": "200"})


def as_json(result):
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_channels_on_an_export_whose_channel_column_is_empty_names_the_column(make_workspace):
    blank = "".join(line.rsplit(",", 1)[0] + ",\n" for line in TX.splitlines()[1:])
    folder = make_workspace({"transactions.csv": "customer_id,order_date,amount,channel\n" + blank})
    result = invoke("channels", "-w", str(folder))
    assert result.exit_code == 2, result.output
    assert "column 'channel'" in result.output and "has a channel (the column is empty)" in result.output
    assert "fewer than two customers" not in result.output


def test_channels_on_returns_only_says_nobody_bought_not_that_the_channel_column_is_empty(make_workspace):
    returns = "customer_id,order_date,amount,channel\nC1,2024-03-01,-10,web\nC2,2024-03-02,-5,store\n" \
        "C3,2024-03-03,-3,app\n"
    result = invoke("channels", "-w", str(make_workspace({"transactions.csv": returns})))
    assert result.exit_code == 1, result.output
    assert "fewer than two customers with a purchase" in result.output and "column is empty" not in result.output


def test_attribution_json_has_the_documented_channel_list(make_workspace):
    folder = make_workspace({"transactions.csv": TX, "touchpoints.csv": TOUCH})
    data = as_json(invoke("attribution", "-w", str(folder), "--format", "json"))
    rows = {r["channel"]: r for r in data["channels"]}
    for row in rows.values():
        assert {"channel", "first_touch", "last_touch", "linear", "position_based", "markov",
                "removal_effect"} <= set(row)
    # Paths: a: email > search (converts), b: search (converts), c: email after its purchase (null).
    assert rows["email"]["first_touch"] == 1 and rows["search"]["last_touch"] == 2
    assert rows["search"]["removal_effect"] == pytest.approx(1.0)
    assert data["conversions"] == 2 and data["purchases_without_touchpoints"] == 2


def test_attribution_from_a_paths_file(make_workspace, tmp_path):
    folder = make_workspace({"transactions.csv": TX})  # no touchpoints needed with --paths
    paths = tmp_path / "paths.csv"
    paths.write_text("path,conversions,nulls\nA > B,1,0\nA,0,1\nB,1,0\n", encoding="utf-8")
    data = as_json(invoke("attribution", "-w", str(folder), "--paths", str(paths), "-f", "json"))
    markov = {r["channel"]: r["markov"] for r in data["channels"]}
    assert markov == pytest.approx({"A": 2 / 3, "B": 4 / 3})  # worked by hand in the core tests


def experiment_csv(counts):
    lines = ["customer_id,experiment,variant,converted,revenue"]
    for variant, (n, x) in counts.items():
        lines += [f"{variant}{i},exp,{variant},{'yes' if i < x else 'no'},{10.0 * (i < x) + i % 3}"
                  for i in range(n)]
    return "\n".join(lines) + "\n"


def test_experiment_json_keys_and_values(make_workspace):
    folder = make_workspace({"transactions.csv": TX,
                             "experiments.csv": experiment_csv({"control": (500, 50), "treatment": (520, 78)})})
    data = as_json(invoke("experiment", "-w", str(folder), "-f", "json"))
    assert [v["variant"] for v in data["variants"]] == ["control", "treatment"]
    comparison = data["comparisons"][0]
    assert {"variant", "baseline", "diff", "diff_ci", "relative_lift", "p_value", "srm_p_value"} <= set(comparison)
    _, p = proportions_ztest([78, 50], [520, 500])
    lo, hi = confint_proportions_2indep(78, 520, 50, 500, compare="diff", method="newcomb")
    assert comparison["p_value"] == pytest.approx(p)
    assert comparison["diff_ci"] == pytest.approx([lo, hi])
    assert comparison["baseline"] == "control"


def test_experiment_interval_flag(make_workspace):
    folder = make_workspace({"transactions.csv": TX,
                             "experiments.csv": experiment_csv({"control": (40, 0), "treatment": (45, 3)})})
    data = as_json(invoke("experiment", "-w", str(folder), "-f", "json", "--interval", "agresti-caffo"))
    lo, hi = confint_proportions_2indep(3, 45, 0, 40, compare="diff", method="agresti-caffo")
    assert data["comparisons"][0]["diff_ci"] == pytest.approx([lo, hi])
    bad = invoke("experiment", "-w", str(folder), "--interval", "exact")
    assert bad.exit_code == 2 and "newcombe" in bad.output


def test_experiment_plan_needs_no_workspace():
    data = as_json(invoke("experiment", "--plan", "--baseline", "0.1", "--lift", "0.2", "-f", "json"))
    n = NormalIndPower().solve_power(effect_size=proportion_effectsize(0.12, 0.1), alpha=0.05, power=0.8)
    assert data["units_control"] == int(-(-n // 1))
    assert data["sample_sizes"] and data["power_curve"]
    missing = invoke("experiment", "--plan", "--baseline", "0.1")
    assert missing.exit_code == 2 and "--lift" in missing.output


def test_bad_split_is_a_usage_error(make_workspace):
    folder = make_workspace({"transactions.csv": TX,
                             "experiments.csv": experiment_csv({"control": (20, 2), "treatment": (20, 3)})})
    result = invoke("experiment", "-w", str(folder), "--split", "control:50")
    assert result.exit_code == 2 and "planned split" in result.output


def test_missing_table_is_one_clear_line_with_exit_one(make_workspace):
    folder = make_workspace({"transactions.csv": TX})
    result = invoke("nps", "-w", str(folder))
    assert result.exit_code == 1
    assert "nps report needs the 'survey' table" in result.output
    assert "Traceback" not in result.output


def test_csv_prints_the_main_table_and_output_writes_a_file(make_workspace, tmp_path):
    folder = make_workspace({"transactions.csv": TX})
    result = invoke("cohorts", "-w", str(folder), "-f", "csv")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == "cohort,customers,m0,m1"
    target = tmp_path / "kpi.xlsx"
    result = invoke("kpi", "-w", str(folder), "--days", "60", "-o", str(target))
    assert result.exit_code == 0, result.output
    assert target.is_file() and "revenue" in result.stdout


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    if (SAMPLE / "transactions.csv").exists() or (SAMPLE / "transactions.parquet").exists():
        return SAMPLE
    from core.demo import write_workspace

    root = tmp_path_factory.mktemp("sample")
    write_workspace(root)
    return root


@pytest.mark.parametrize("name, keys", [
    ("channels", {"channels", "single_vs_multi", "overlap", "radar", "multi_channel_share"}),
    ("attribution", {"channels", "value", "paths", "conversions"}),
    ("experiment", {"variants", "comparisons", "srm", "significant"}),
    ("campaign", {"campaigns", "windows", "incremental_revenue"}),
    ("program", {"members_vs_non_members", "lift", "balance", "participation_rate"}),
    ("nps", {"nps", "nps_ci", "segments", "monthly", "distribution", "scores"}),
    ("cohorts", {"customer_retention", "revenue_retention", "cohorts", "retention_m1"}),
    ("kpi", {"kpis", "revenue", "clv"}),
])
def test_every_report_on_the_sample_as_json(sample, name, keys):
    data = as_json(invoke(name, "-w", str(sample), "-f", "json"))
    assert keys <= set(data)
    assert data["name"] == f"report.{name}" and isinstance(data["notes"], list)


def test_an_exported_report_names_its_workspace(tmp_path):
    from core.workspace import bundled_sample

    out = tmp_path / "nps.json"
    result = runner.invoke(app, ["report", "nps", "-w", str(bundled_sample()), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text(encoding="utf-8"))["params"]["workspace"] == str(bundled_sample())
