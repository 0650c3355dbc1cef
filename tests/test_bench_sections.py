"""The newer benches' published sections (bench/sections.py, written by bench.publish): each
renderer reads its bench's real JSON layout (tests/data/bench/, copied from real runs), a
missing JSON never shows an old figure, a busy machine is flagged, and `--check` catches a
section edited by hand or left behind by a new run."""

import copy
import json
import re
import shutil
from pathlib import Path

import pytest

from bench import publish, sections

FIXTURES = Path(__file__).parent / "data" / "bench"
ROOT = Path(__file__).resolve().parents[1]


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def render(tmp_path: Path, name: str, data: dict) -> str:
    folder = tmp_path / "results"
    folder.mkdir(exist_ok=True)
    (folder / f"{name}.json").write_text(json.dumps(data), encoding="utf-8")
    return sections.block(name, folder)


def test_demand_shows_both_sides_wall_cpu_memory_agreement_and_the_target():
    text = sections.block("demand", FIXTURES)  # the 10M run on a busy machine
    assert "10,000,000 transactions" in text
    assert "| Loyalist: `predict demand` (core.forecast) | 14.0 | 7.37 | 706 |" in text
    assert "| peer: a bare statsmodels ARIMA script | 52.6 | 40.2 | 706 |" in text
    assert "0.27x (3.8x faster)" in text  # 14.0 s against 52.6 s
    assert "0.18x (5.4x faster)" in text  # 7.37 CPU s against 40.2
    assert "differ by 4.9e-09" in text
    assert "under 60 s: **met** (14.0 s wall)" in text
    assert "load average 7.95 on 2 cores" in text and "wall times are distorted" in text


def test_demand_over_budget_is_not_met_and_a_small_run_is_not_judged(tmp_path):
    slow = fixture("demand")
    slow["loyalist"]["seconds"] = 75.0
    assert "**not met** (75.0 s wall)" in render(tmp_path, "demand", slow)
    small = fixture("demand")
    small["rows"] = 200_000
    assert "**not judged** (measured at 200,000 rows" in render(tmp_path, "demand", small)


def test_pricing_without_load_or_cpu_says_so_instead_of_inventing_them(tmp_path):
    text = sections.block("pricing", FIXTURES)
    assert "20,000 transactions" in text
    assert "| Loyalist: `report pricing` (PPML) | 1.22 | not recorded | 184 |" in text
    assert "| Loyalist / peer | 1.1x |" in text  # 1.22 s against 1.14 s
    assert "agree to 1.9e-15" in text
    assert "**not judged** (measured at 20,000 rows" in text
    assert "load at the start was not recorded" in text
    big = fixture("pricing") | {"rows": 10_000_000, "loyalist_seconds": 25.0, "loyalist_cpu_seconds": 21.5}
    text = render(tmp_path, "pricing", big)
    assert "in under 20 s: **not met** (25.0 s wall)" in text
    assert "| 25.0 | 21.5 |" in text


def products_ok(rows=10_000_000, customers=750_000, products=20_000, rules_s=12.0, mlx_ratio=1.5) -> dict:
    """bench.products' layout for a run where every stage worked (the failed one is real)."""
    data = fixture("products")
    stage = data["scale"]["loyalist-item-item"]
    data["scale"].update(rows=rows, customers=customers, products=products)
    data["scale"]["loyalist-rules"] = {**stage, "stage": "loyalist-rules", "seconds": rules_s, "peak_mb": 2500.0,
                                       "detail": {"rules": 800, "baskets": 3_000_000}}
    data["mlxtend"] = {**data["mlxtend"], "loyalist_seconds": 2.0 * mlx_ratio, "mlxtend_seconds": 2.0,
                       "ratio": mlx_ratio, "loyalist_peak_mb": 300.0, "mlxtend_peak_mb": 900.0,
                       "within_target": mlx_ratio <= 2, "same_rules": True, "loyalist-rules_rules": 1234,
                       "mlxtend-rules_rules": 1234}
    data["mlxtend"].pop("error")
    return data


def test_products_a_failed_stage_is_shown_as_failed_and_nothing_is_compared():
    text = sections.block("products", FIXTURES)  # a real run where the rules stage crashed
    assert "| rules (pairs) | failed: exit 1: KeyError: 'baskets' |" in text
    assert "Beside mlxtend: not comparable in this run" in text
    assert "within 2x of mlxtend: **not judged** (no comparable run)" in text


def test_products_targets_are_judged_at_their_size_only(tmp_path):
    text = render(tmp_path, "products", products_ok())
    assert "| rules (pairs) | 12.0 | not recorded | 2,500 | **met**" in text
    assert "20k products under 30 s and 4 GB each: **met** (both stages)" in text
    assert "the same 1,234 rules" in text
    assert "within 2x of mlxtend: **met** (1.5x)" in text
    text = render(tmp_path, "products", products_ok(rules_s=31.0, mlx_ratio=2.5))
    assert "4 GB each: **not met**" in text and "within 2x of mlxtend: **not met** (2.5x)" in text
    text = render(tmp_path, "products", products_ok(rows=1_000_000))
    assert "4 GB each: **not judged** (measured below the target's size)" in text


def engines_at(size: str, transactions: int, engines=("polars", "duckdb", "spark"), spark_agrees=True) -> dict:
    data = fixture("engines")
    polars = next(r for r in data["comparisons"] if r["loyalist"] == "loyalist --engine polars")
    records = []
    for engine in engines:
        records.append({**copy.deepcopy(polars), "size": size, "transactions": transactions,
                        "loyalist": f"loyalist --engine {engine}",
                        "loyalist_seconds": {"polars": 8.0, "duckdb": 6.0, "spark": 30.0}[engine],
                        "same_answer": spark_agrees if engine == "spark" else True})
    data["comparisons"] = records
    return data


def test_engines_every_record_with_its_peer_and_what_was_measured():
    text = sections.block("engines", FIXTURES)  # a real 100k run, no Spark
    assert "170,624 transactions" in text
    assert "| 100k | `loyalist --engine duckdb` | 1.56 | 286 | bare duckdb | 0.20 | 91 | 7.9x | yes |" in text
    assert "CPU seconds: not recorded" in text
    assert "DuckDB and Polars at 10M: **not measured**" in text
    assert "Spark at 10M: **not measured**" in text


def test_engines_at_10m_compares_duckdb_with_polars_and_a_disagreeing_engine_does_not_count(tmp_path):
    text = render(tmp_path, "engines", engines_at("10m", 10_080_000))
    assert "DuckDB against Polars at 10m: 0.75x (1.3x faster)." in text  # 6 s against 8 s
    assert "DuckDB and Polars at 10M: **measured**" in text
    assert "DuckDB and Polars at 100M: **not measured**" in text
    assert "Spark at 10M: **measured**" in text
    text = render(tmp_path, "engines", engines_at("10m", 10_080_000, spark_agrees=False))
    assert "| **no** |" in text and "Spark at 10M: **not measured**" in text


def test_text_each_run_with_its_own_machine_and_the_budget_judged_at_100k(tmp_path):
    text = sections.block("text", FIXTURES)
    assert "200 comments (200 distinct)" in text
    assert "| Loyalist: `report comments` (start-up, sentiment, themes, topics) | 2.46 | 2.16 |" in text
    assert "| Loyalist / peer | 0.66x (1.5x faster) | 0.64x (1.6x faster) |" in text
    assert "**not judged** (this run has 200 comments)" in text
    data = fixture("text")
    big = copy.deepcopy(data["runs"]["200"]) | {"comments": 100_000, "distinct": 97_000, "loyalist_seconds": 61.0,
                                                "peer_seconds": None, "peer_cpu_seconds": None}
    data["runs"]["100000"] = big
    text = render(tmp_path, "text", data)
    assert "| peer: not run (`--no-peer`) | - | - | - |" in text
    assert "in under 60 s: **not met** (61.0 s wall)" in text
    assert text.index("--size 200`") < text.index("--size 100000`")


def test_points_wall_and_cpu_and_no_invented_memory():
    text = sections.block("points", FIXTURES)
    assert "500 customers (seed 7)" in text
    assert "| Loyalist: `report points` through the registry | 0.19 | 0.19 | not recorded |" in text
    assert "Target: none set" in text


@pytest.mark.parametrize("name", sorted(sections.RENDERERS))
def test_a_missing_json_says_not_measured_and_shows_no_figure(tmp_path, name):
    text = sections.block(name, tmp_path)
    assert text == f"Not measured yet (run `python -m bench.{name}`)."


def test_a_json_of_another_layout_publishes_nothing_from_it(tmp_path):
    text = render(tmp_path, "demand", {"comparisons": []})
    assert "not in the layout `python -m bench.demand` writes" in text
    assert not re.search(r"\d+(\.\d+)? s wall", text)


@pytest.mark.parametrize(("load", "warned"), [(3.1, True), (2.9, False)])
def test_a_run_started_above_1_5_load_per_core_is_flagged(tmp_path, load, warned):
    data = fixture("points")
    data["machine"]["load_average"][0] = load
    text = render(tmp_path, "points", data)
    assert ("wall times are distorted" in text) is warned
    assert f"load average {load:.2f} at the start" in text


def checkout(tmp_path: Path) -> Path:
    """A copy of this checkout's README.md, bench/RESULTS.md and bench/results/sidebyside.json,
    with the fixtures as the newer benches' JSON."""
    root = tmp_path / "checkout"
    (root / "bench" / "results").mkdir(parents=True)
    shutil.copy(ROOT / "README.md", root / "README.md")
    shutil.copy(ROOT / "bench" / "RESULTS.md", root / "bench" / "RESULTS.md")
    shutil.copy(ROOT / "bench" / "results" / "sidebyside.json", root / "bench" / "results" / "sidebyside.json")
    for path in FIXTURES.glob("*.json"):
        shutil.copy(path, root / "bench" / "results" / path.name)
    return root


def run_publish(root: Path, *flags: str) -> int:
    return publish.main([*flags, "--root", str(root), "--json", str(root / "bench" / "results" / "sidebyside.json")])


def test_publish_writes_every_section_and_check_catches_a_hand_edit(tmp_path):
    root = checkout(tmp_path)
    assert run_publish(root, "--check") == 1  # the fixtures are not what the checkout publishes
    assert run_publish(root) == 0
    assert run_publish(root, "--check") == 0
    readme = (root / "README.md").read_text(encoding="utf-8")
    for name in sections.RENDERERS:
        start, end = sections.markers(name)
        assert sections.block(name, root / "bench" / "results") in readme.split(start, 1)[1].split(end, 1)[0]
    (root / "README.md").write_text(readme.replace("| 14.0 | 7.37 | 706 |", "| 9.0 | 7.37 | 706 |"),
                                    encoding="utf-8")
    assert run_publish(root, "--check") == 1


def test_check_fails_when_a_new_run_changes_the_json_and_when_a_json_goes_away(tmp_path):
    root = checkout(tmp_path)
    assert run_publish(root) == 0
    results = root / "bench" / "results"
    data = json.loads((results / "pricing.json").read_text())
    (results / "pricing.json").write_text(json.dumps(data | {"loyalist_seconds": 3.0}))
    assert run_publish(root, "--check") == 1
    assert run_publish(root) == 0
    (results / "pricing.json").unlink()
    assert run_publish(root, "--check") == 1
    assert run_publish(root) == 0
    assert "Not measured yet (run `python -m bench.pricing`)." in (root / "bench" / "RESULTS.md").read_text()


def test_no_speed_figure_is_typed_by_hand_in_the_readme():
    """Outside the generated sections, the README quotes no timing or ratio of its own."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in [*sections.RENDERERS, "sidebyside"]:
        start, end = sections.markers(name)
        head, rest = text.split(start, 1)
        text = head + rest.split(end, 1)[1]
    typed = re.findall(r"\d+(?:\.\d+)? ?s wall|\d+(?:\.\d+)? CPU seconds|\d+(?:\.\d+)?x faster|"
                       r"\d+ times faster|Loyalist \d+(?:\.\d+)? ?s\b", text)
    assert typed == []


def test_promo_shows_both_sides_and_their_agreement():
    text = sections.block("promo", FIXTURES)  # the 10M run on a busy machine
    assert "10,000,000 transactions, medians of 3 alternating runs" in text
    assert "| Loyalist: `report promotions` (seasonal baseline) | 34.2 | not recorded | 1,363 |" in text
    assert "| peer: a bare Polars + statsmodels GLM script | 52.5 | not recorded | 1,384 |" in text
    assert "the sales lifts agree to 7.6e-09" in text
    assert "load average 8.19 on 2 cores" in text


def test_tui_peer_shows_the_stall_and_the_ui_threads_own_work_or_says_it_was_not_recorded(tmp_path):
    text = sections.block("tui_peer", FIXTURES)  # a run from before the UI thread's CPU was recorded
    assert "| parquet | 0.34 s | 0.26 s | 1.4x | **met** (within 1.5x) |" in text
    assert "| 169 ms | not recorded |" in text
    newer = fixture("tui_peer")
    newer["records"][1]["app"]["max_ui_cpu_ms"] = 61.4
    assert "| 129 ms | 61 ms |" in render(tmp_path, "tui_peer", newer)
