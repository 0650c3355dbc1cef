"""`loyalist segment rfm|kmeans|quadrant|profile|migrate` through the real Typer app."""

from __future__ import annotations

import json

import polars as pl
import pytest
from typer.testing import CliRunner

from commands.app import app
from core.segments.profile import SUMMARY_COLUMNS
from core.segments.rfm import DEFAULT_RFM_MAP

runner = CliRunner()

TX = (
    "customer_id,order_date,amount,channel\n"
    "C1,2024-01-05,100,web\nC1,2024-02-05,50,store\nC1,2024-03-01,70,web\n"
    "C2,2024-01-10,20,store\nC3,2024-02-20,-15,web\nC4,2024-03-10,300,app\n"
    "C4,2024-03-20,30,app\nC5,2024-01-02,10,web\nC6,2024-04-15,80,web\n"
)


@pytest.fixture(scope="module")
def demo_ws(tmp_path_factory):
    from core.demo import write_workspace

    folder = tmp_path_factory.mktemp("demo")
    write_workspace(folder, customers=300, seed=3)
    return folder


def run(*args: str):
    return runner.invoke(app, ["segment", *args], env={"COLUMNS": "160"})


def test_rfm_json_has_documented_keys(demo_ws):
    result = run("rfm", "-w", str(demo_ws), "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["name"] == "segment.rfm"
    assert {"name", "title", "params", "notes", "segments", "customer_count"} <= set(data)
    assert "customers" not in data  # the per-customer table goes to --output
    segments = data["segments"]
    assert [s["segment"] for s in segments] == list(DEFAULT_RFM_MAP)
    assert set(segments[0]) == {*SUMMARY_COLUMNS, "rule"}
    assert sum(s["customers"] for s in segments) == data["customer_count"]
    assert sum(s["revenue_share"] for s in segments) == pytest.approx(1.0)
    assert data["params"]["as_of"] == "2025-12-31"


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_output_file_round_trips(demo_ws, tmp_path, suffix):
    out = tmp_path / f"customers.{suffix}"
    result = run("rfm", "-w", str(demo_ws), "--output", str(out), "--format", "json")
    assert result.exit_code == 0, result.output
    assert f"wrote {out}" in result.stderr.replace("\n", "")
    written = pl.read_csv(out) if suffix == "csv" else pl.read_parquet(out)
    summary = json.loads(result.stdout)["segments"]
    assert written.height == json.loads(result.stdout)["customer_count"]
    assert written["customer_id"].n_unique() == written.height
    assert {"customer_id", "recency_days", "frequency", "monetary", "r_score", "f_score",
            "m_score", "segment"} <= set(written.columns)
    counts = dict(written.group_by("segment").len().iter_rows())
    assert {s["segment"]: s["customers"] for s in summary if s["customers"]} == counts
    # The file is what core computed, value for value.
    from core.features import customer_features
    from core.segments.rfm import rfm_segments
    from core.workspace import Workspace

    ws = Workspace.open(demo_ws)
    features = customer_features(ws.scan("transactions"), customers=ws.scan("customers"),
                                 survey=ws.scan("survey")).collect()
    from core.registry.run import money_in_cents

    # money carries cents in every output (core.registry.run.money_in_cents)
    expected = money_in_cents(rfm_segments(features)).tables["customers"].sort("customer_id")
    got = written.sort("customer_id").select(expected.columns)
    assert got.cast(expected.schema).equals(expected)


def test_csv_format_prints_one_row_per_customer(make_workspace):
    folder = make_workspace({"transactions.csv": TX})
    result = run("rfm", "-w", str(folder), "--format", "csv", "--bins", "3")
    assert result.exit_code == 0, result.output
    table = pl.read_csv(result.stdout.encode())
    assert sorted(table["customer_id"]) == ["C1", "C2", "C3", "C4", "C5", "C6"]


def test_as_of_excludes_later_transactions(make_workspace):
    folder = make_workspace({"transactions.csv": TX})
    full = json.loads(run("rfm", "-w", str(folder), "--format", "json").stdout)
    early = run("rfm", "-w", str(folder), "--as-of", "2024-02-06", "--format", "csv")
    assert early.exit_code == 0, early.output
    table = pl.read_csv(early.stdout.encode())
    # C4 and C6 buy only later; C1's March purchase is not seen.
    assert sorted(table["customer_id"]) == ["C1", "C2", "C5"]
    c1 = table.filter(pl.col("customer_id") == "C1").row(0, named=True)
    assert (c1["recency_days"], c1["frequency"], c1["monetary"]) == (1, 2, 150.0)
    assert full["customer_count"] == 6 and full["params"]["as_of"] == "2024-04-15"


def test_rfm_map_from_loyalist_toml(make_workspace):
    toml = (
        "[segments.rfm_map]\n"
        'Best = { r = [4, 5], f = [3, 5] }\n'
        'Rest = { r = [1, 5], f = [1, 2] }\n'
        'Fading = { r = [1, 3], f = [3, 5] }\n'
    )
    folder = make_workspace({"transactions.csv": TX, "loyalist.toml": toml})
    result = run("rfm", "-w", str(folder), "--format", "json")
    assert result.exit_code == 0, result.output
    names = [s["segment"] for s in json.loads(result.stdout)["segments"]]
    assert names == ["Best", "Rest", "Fading"]
    bad = make_workspace({"transactions.csv": TX, "loyalist.toml":
                          '[segments.rfm_map]\nAll = { r = [1, 5], f = [1, 4] }\n'})
    result = run("rfm", "-w", str(bad))
    assert result.exit_code == 2 and "not covered: R1F5" in result.stderr


def test_kmeans_is_deterministic_and_lists_scores(demo_ws):
    first = run("kmeans", "-w", str(demo_ws), "--format", "csv", "--seed", "5")
    second = run("kmeans", "-w", str(demo_ws), "--format", "csv", "--seed", "5")
    assert first.exit_code == 0, first.output
    assert first.stdout == second.stdout
    data = json.loads(run("kmeans", "-w", str(demo_ws), "--format", "json", "--k-max", "5").stdout)
    assert [r["k"] for r in data["k_scores"]] == [2, 3, 4, 5]
    assert [s["cluster"] for s in data["segments"]] == list(range(1, data["k"] + 1))
    given = json.loads(run("kmeans", "-w", str(demo_ws), "--format", "json", "--k", "4",
                           "--features", "log:monetary,log:frequency").stdout)
    assert given["k"] == 4 and given["params"]["features"] == ["log:monetary", "log:frequency"]


def test_kmeans_on_an_export_whose_channel_column_is_empty(make_workspace):
    # a POS export with a channel column left blank: the default features leave channel count out
    # and say so; naming it says the channel column is empty (not an internal error)
    blank = "\n".join(line.rsplit(",", 1)[0] + "," for line in TX.strip().splitlines()[1:])
    folder = make_workspace({"transactions.csv": "customer_id,order_date,amount,channel\n" + blank + "\n"})
    result = run("kmeans", "-w", str(folder), "--format", "json", "--k", "2")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["params"]["features"] == ["log:recency_days", "log:frequency", "log:monetary"]
    assert any("no channel in the transactions" in note for note in data["notes"])
    named = run("kmeans", "-w", str(folder), "--k", "2", "--features", "log:monetary,n_channels")
    assert named.exit_code == 2 and "internal error" not in named.output
    assert "n_channels need channels, and no transaction has one" in named.output


def test_quadrant_needs_touchpoints(make_workspace, demo_ws):
    folder = make_workspace({"transactions.csv": TX})
    result = run("quadrant", "-w", str(folder))
    assert result.exit_code == 1 and "touchpoints" in result.stderr
    ok = run("quadrant", "-w", str(demo_ws), "--format", "json", "--frequency-split", "3")
    assert ok.exit_code == 0, ok.output
    data = json.loads(ok.stdout)
    assert data["frequency_split"] == 3
    assert [s["segment"] for s in data["segments"]] == [
        "Active loyal", "Passive loyal", "Chasers", "Lapsed"]


def test_profile_and_compare(demo_ws, tmp_path):
    result = run("profile", "-w", str(demo_ws), "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["name"] == "segment.profile"
    assert {"segments", "features", "index"} <= set(data)
    assert "top_channels" in data["segments"][0]
    compare = run("profile", "-w", str(demo_ws), "--compare", "Champions", "--compare",
                  "Hibernating", "--format", "json")
    assert compare.exit_code == 0, compare.output
    rows = json.loads(compare.stdout)["differences"]
    d = [abs(r["std_difference"]) for r in rows if r["std_difference"] is not None]
    assert d == sorted(d, reverse=True)
    one = run("profile", "-w", str(demo_ws), "--compare", "Champions")
    assert one.exit_code == 2 and "exactly two" in one.stderr


def test_profile_of_segments_file(demo_ws, tmp_path):
    out = tmp_path / "q.csv"
    assert run("quadrant", "-w", str(demo_ws), "--output", str(out)).exit_code == 0
    result = run("profile", "-w", str(demo_ws), "--segments", str(out), "--format", "json")
    assert result.exit_code == 0, result.output
    sizes = {s["segment"]: s["customers"] for s in json.loads(result.stdout)["segments"]}
    assert sizes == dict(pl.read_csv(out).group_by("segment").len().iter_rows())


def test_migrate_counts_add_up(demo_ws):
    result = run("migrate", "-w", str(demo_ws), "--from", "2025-06-30", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    head = data
    counts = data["counts"]
    assert sum(r["total"] for r in counts) == head["customers_after"]
    assert head["stayed"] + head["moved"] + head["new"] == head["customers_after"]
    assert sum(r["total"] for r in counts if r["from_segment"] != "(new)") == head["customers_before"]
    assert data["params"]["before"] == "2025-06-30" and data["params"]["after"] == "2025-12-31"
    backwards = run("migrate", "-w", str(demo_ws), "--from", "2026-01-30")
    assert backwards.exit_code == 2


def test_existing_output_is_refused_before_work(demo_ws, tmp_path):
    out = tmp_path / "exists.csv"
    out.write_text("keep me")
    result = run("rfm", "-w", str(demo_ws), "--output", str(out))
    assert result.exit_code == 2 and "already exists" in result.stderr
    assert result.stdout == "" and out.read_text() == "keep me"
