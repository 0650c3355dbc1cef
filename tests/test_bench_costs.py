"""bench/RESULTS.md's stage tables (bench/costs.py, written by bench.publish) come from
`python -m bench`'s JSON only: real workspace counts, the machine and the load of the run,
"not measured yet" for what the JSON lacks, and `--check` catches a hand edit; outside the
generated sections the page quotes no timing of its own."""

import json
import re
import shutil
from pathlib import Path

from bench import costs, publish, sections
from bench.__main__ import stage_list
from bench.child import STAGES

ROOT = Path(__file__).resolve().parents[1]
LATEST = ROOT / "bench" / "results" / "latest.json"


def latest() -> dict:
    return json.loads(LATEST.read_text(encoding="utf-8"))


def render(tmp_path: Path, data: dict | None) -> dict[str, str]:
    folder = tmp_path / "results"
    folder.mkdir(parents=True, exist_ok=True)
    if data is not None:
        (folder / "latest.json").write_text(json.dumps(data), encoding="utf-8")
    return costs.blocks(folder)


def checkout(tmp_path: Path) -> Path:
    root = tmp_path / "checkout"
    shutil.copytree(ROOT / "bench" / "results", root / "bench" / "results")
    shutil.copy(ROOT / "README.md", root / "README.md")
    shutil.copy(ROOT / "bench" / "RESULTS.md", root / "bench" / "RESULTS.md")
    return root


def run_publish(root: Path, *flags: str) -> int:
    return publish.main([*flags, "--root", str(root), "--json", str(root / "bench" / "results" / "sidebyside.json")])


def test_tables_state_the_real_counts_not_the_size_name(tmp_path):
    data = latest()
    for record in data["results"]:
        if record["size"] == "1m":
            record["transactions"] = 1_705_615
    blocks = render(tmp_path, data)
    assert re.search(r"\| 1m +\| 1,705,615", blocks["bench-run"])
    assert "1m (1.7M tx, 74k cust)" in blocks["bench-stages"]
    assert "1.0M tx" not in blocks["bench-stages"]


def test_the_machine_date_and_load_of_the_run_and_a_busy_run_is_flagged(tmp_path):
    data = latest()
    for meta in (data["meta"], data["meta"]["updated"]["earlier"]):
        meta["load_average"][0] = 0.5
    text = render(tmp_path, data)["bench-run"]
    assert "2 cores" in text and data["meta"]["time"][:10] in text
    assert "load average 0.50 at the start" in text
    assert "Warning" not in text
    data["meta"]["load_average"][0] = 7.5  # the --update run (1mc), not the first
    assert "**Warning: the stages measured again started on a busy machine" in render(tmp_path, data)["bench-run"]
    del data["meta"]["updated"]
    assert "**Warning: the run started on a busy machine" in render(tmp_path, data)["bench-run"]


def test_what_the_json_lacks_is_not_measured_yet(tmp_path):
    data = latest()
    data["results"] = [r for r in data["results"]
                       if r.get("variant", "parquet") == "parquet" and r["stage"] != "tui"]
    blocks = render(tmp_path, data)
    assert blocks["bench-memory"] == "Not measured yet (run `python -m bench` --memory-limit 2g)."
    assert blocks["bench-csv"].startswith("Not measured yet")
    assert blocks["bench-tui"].startswith("Not measured yet")
    assert "2,065" not in "\n".join(blocks.values())  # the old memory-limit run's peak
    missing = render(tmp_path / "empty", None)
    assert set(missing.values()) == {"Not measured yet (run `python -m bench`)."}


def test_scale_end_to_end_is_the_sum_of_the_measured_parts(tmp_path):
    data = latest()
    scale = next(r for r in data["results"] if r["size"] == "1mc" and r["stage"] == "scale")
    scale["seconds"], scale["detail"]["table_seconds"] = 2.0, 4.5
    assert "end to end is 4.50 s + 2.00 s = 6.50 s" in render(tmp_path, data)["bench-stages"]


def test_a_json_of_another_layout_publishes_nothing(tmp_path):
    blocks = render(tmp_path, {"meta": {}})
    assert all("not in the layout" in text for text in blocks.values())


def test_check_catches_a_hand_edit_and_a_new_run(tmp_path):
    root = checkout(tmp_path)
    assert run_publish(root, "--check") == 0
    page = root / "bench" / "RESULTS.md"
    text = page.read_text(encoding="utf-8")
    start, end = sections.markers("bench-stages")
    inside = text.split(start, 1)[1].split(end, 1)[0]
    edited = re.sub(r"/ [\d,]+ MB", "/ 123,456 MB", inside, count=1)  # a typed figure
    assert edited != inside
    page.write_text(text.replace(inside, edited), encoding="utf-8")
    assert run_publish(root, "--check") == 1
    assert run_publish(root) == 0 and page.read_text(encoding="utf-8") == text
    data = latest()
    data["results"][0]["seconds"] = 9.99
    (root / "bench" / "results" / "latest.json").write_text(json.dumps(data), encoding="utf-8")
    assert run_publish(root, "--check") == 1


def generated_removed(text: str) -> str:
    for name in [*sections.RENDERERS, *costs.BLOCKS, "sidebyside"]:
        start, end = sections.markers(name)
        head, rest = text.split(start, 1)
        text = head + rest.split(end, 1)[1]
    return text


def test_no_speed_figure_is_typed_by_hand_in_the_results_page():
    """Outside the generated sections, bench/RESULTS.md quotes no seconds, memory or ratio."""
    text = generated_removed((ROOT / "bench" / "RESULTS.md").read_text(encoding="utf-8"))
    typed = re.findall(r"\d+(?:\.\d+)? ?(?:s|ms|MB|GB|minutes?)\b|\d+(?:\.\d+)?x\b|\d+ times faster", text)
    assert typed == []
    # and the check itself sees a typed figure
    assert re.findall(r"\d+(?:\.\d+)? ?(?:s|ms|MB|GB)\b", "RFM takes 0.19 s per million") == ["0.19 s"]


def test_churn_is_a_stage_and_the_model_stages_run_at_one_million_customers():
    assert stage_list("clustering,scale,clv,churn") == ["clustering", "scale", "clv", "churn"]
    assert "churn" in STAGES and "churn" in stage_list("all")
    make = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "--sizes 1mc --stages clustering,scale,clv,churn --update bench/results/latest.json" in make



def test_every_update_in_a_chain_is_listed_and_the_first_run_is_the_root(tmp_path):
    data = latest()
    root = {"time": "2026-01-02T10:00:00+0000", "load_average": [0.4], "commit": "a" * 40}
    middle = {"time": "2026-01-03T10:00:00+0000", "load_average": [0.5], "commit": "b" * 40,
              "updated": {"earlier": root, "measured_again": ["1mc churn"]}}
    data["meta"] = {**data["meta"], "time": "2026-01-04T10:00:00+0000", "commit": "c" * 40,
                    "load_average": [0.6], "updated": {"earlier": middle, "measured_again": ["1m tui"]}}
    text = render(tmp_path, data)["bench-run"]
    assert "commit aaaaaaaaaa; run on 2026-01-02" in text  # the first run, not the last update's
    assert "Measured again on 2026-01-03, load average 0.50 at the start" in text and "1mc churn." in text
    assert "Measured again on 2026-01-04, load average 0.60 at the start" in text and "1m tui." in text
    assert text.index("1mc churn") < text.index("1m tui")  # oldest first
