"""`python -m bench.publish`: the speed figures in README.md and bench/RESULTS.md, generated.

Every published figure is a ratio from one `python -m bench.sidebyside` run on one
machine (bench/results/sidebyside.json), never typed by hand: this writes the text between
the `<!-- sidebyside:start -->` and `<!-- sidebyside:end -->` markers of both files, the
newer benches' sections (bench/sections.py) and, in bench/RESULTS.md, what each stage
costs from `python -m bench`'s bench/results/latest.json (bench/costs.py).
`--check` only compares, and fails when the files do not say what the JSON says
(tests/test_bench_publish.py runs it).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bench import costs, sections

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS_JSON = BENCH / "results" / "sidebyside.json"
START, END = "<!-- sidebyside:start -->", "<!-- sidebyside:end -->"

WHAT = {
    "help": "`loyalist --help`",
    "command-help": "`loyalist report channels --help`",
    "rfm": "`segment rfm --output x.parquet` from Parquet",
    "rfm-csv": "`segment rfm --output x.parquet` from CSV",
    "heavy": "",
}
# issue 14's targets: Loyalist's time at most this many times the peer's
TARGETS = {("help", "import typer"): 2.0, ("command-help", "import typer"): 2.0, ("rfm", "polars"): 1.3,
           ("rfm-csv", "polars-csv"): 1.5}
NO_SIZE = ("help", "command-help")  # the same at every workspace size
HEAVY_RATIO, HEAVY_PEAK_MB = 3.0, 2048  # every report and model at 10M: within 3x of the floor, under 2 GB

PEER = {
    "import typer": "`python -c \"import typer\"`",
    "polars": "a bare Polars script (the floor)",
    "duckdb": "DuckDB SQL",
    "pandas": "pandas",
    "polars-csv": "a bare Polars script over the CSV",
    "polars rfm": "the bare-Polars RFM floor",
}


def times(ratio: float) -> str:
    """2.1 -> "2.1x the peer's time"; 0.4 -> "0.40x (2.5x faster)"."""
    if ratio >= 1:
        return f"{ratio:.1f}x"
    return f"{ratio:.2f}x ({1 / ratio:.1f}x faster)"


def size_label(record: dict) -> str:
    return f"{record['transactions'] / 1e6:.1f}M tx, {record['customers'] / 1e3:,.0f}k customers"


def measured_on(meta: dict) -> str:
    return (f"{meta.get('cores')} cores ({meta.get('cpu', 'unknown CPU')}, "
            f"{meta.get('memory_gb', '?')} GB), Polars {meta.get('polars')}, "
            f"pandas {meta.get('pandas', '-')}, DuckDB {meta.get('duckdb', '-')}, "
            f"Python {meta.get('python')}, {meta.get('time', '')[:10]}, "
            f"load average {meta.get('load_average', [0])[0]:.1f} at the start; "
            f"{meta.get('repeat')} alternating runs each, medians")


def verdict(value: float, limit: float, shown: str) -> str:
    return f"{'met' if value <= limit else '**not met**'} (≤ {shown})"


def _usable(records: list[dict]) -> list[dict]:
    return [r for r in records if r["ok"] and r["ratio"] and r["same_answer"] is not False]


def readme_block(data: dict) -> str:
    """A short table for the README: the headline comparisons at the largest size measured."""
    records = _usable(data["comparisons"])
    lines = [
        f"Measured side by side by `python -m bench.sidebyside`: {measured_on(data['meta'])}. "
        "Each command is a fresh process writing its result to a file, start-up included, on a workspace "
        "checked once before (`data validate`, not timed: the checks are then remembered, as after a first "
        "command); "
        "each peer computes the same customers, scores and segments (checked). "
        "A ratio above 1 means Loyalist takes longer.",
        "",
        "| what | size | Loyalist | peer | Loyalist / peer | target |",
        "|---|---|---|---|---|---|",
    ]
    for r in records:
        if r["comparison"] == "heavy":
            continue
        size = "-" if r["comparison"] in NO_SIZE else size_label(r)
        lines.append(f"| {WHAT[r['comparison']]} | {size} | {r['loyalist_seconds']:.2f} s "
                     f"| {PEER.get(r['peer'], r['peer'])}: {r['peer_seconds']:.2f} s "
                     f"| {times(r['ratio'])} | {target(r)} |")
    heavy = [r for r in records if r["comparison"] == "heavy"]
    if heavy:
        largest = max(r["transactions"] for r in heavy)
        heavy = [r for r in heavy if r["transactions"] == largest]
        lines += ["", f"Each report and model beside the bare-Polars RFM floor at {size_label(heavy[0])}, "
                      "one run each, the floor run just before it:", "",
                  "| command | Loyalist | floor | peak memory | / floor | within 3x | under 2 GB |",
                  "|---|---|---|---|---|---|---|"]
        lines += [f"| `{r['loyalist']}` | {r['loyalist_seconds']:.1f} s | {r['peer_seconds']:.2f} s "
                  f"| {r['loyalist_peak_mb'] / 1024:.2f} GB "
                  f"| {times(r['ratio'])} | {verdict(r['ratio'], HEAVY_RATIO, f'{HEAVY_RATIO:g}x')} "
                  f"| {verdict(r['loyalist_peak_mb'], HEAVY_PEAK_MB, f'{HEAVY_PEAK_MB / 1024:g} GB')} |"
                  for r in heavy]
    failed = [r for r in data["comparisons"] if r not in records]
    if failed:
        lines += ["", "Not comparable in this run: " + "; ".join(
            f"{r['comparison']} {r['size']} vs {r['peer']} "
            f"({'different answer' if r['same_answer'] is False else r['error'] or 'failed'})"
            for r in failed) + "."]
    return "\n".join(lines)


def target(record: dict) -> str:
    limit = TARGETS.get((record["comparison"], record["peer"]))
    return "-" if limit is None else verdict(record["ratio"], limit, f"{limit:g}x")


def results_block(data: dict) -> str:
    """Every comparison with its runs and peak memory, for bench/RESULTS.md."""
    lines = [
        f"From `bench/results/sidebyside.json`: {measured_on(data['meta'])}; the run took "
        f"{data['meta'].get('bench_seconds', 0):.0f} s.",
        "",
        "| comparison | size | Loyalist | s | peak MB | peer | s | peak MB | ratio | same answer |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in data["comparisons"]:
        same = {True: "yes", False: "**no**", None: "-"}[r["same_answer"]]
        ratio = times(r["ratio"]) if r["ratio"] else f"failed: {r['error']}"
        ours = f"{r['loyalist_seconds']:.2f}" if r["loyalist_seconds"] else "-"
        theirs = f"{r['peer_seconds']:.2f}" if r["peer_seconds"] else "-"
        size = r["size"] if r["comparison"] in NO_SIZE else f"{r['size']} ({size_label(r)})"
        lines.append(f"| {r['comparison']} | {size} | {r['loyalist']} | {ours} "
                     f"| {r['loyalist_peak_mb']:,.0f} | {r['peer']} | {theirs} "
                     f"| {r['peer_peak_mb']:,.0f} | {ratio} | {same} |")
    return "\n".join(lines)


def replace_block(text: str, block: str, path: Path) -> str:
    if START not in text or END not in text:
        raise SystemExit(f"{path}: no {START} ... {END} markers to write between")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{block}\n{END}{tail}"


def targets(data: dict, root: Path = ROOT) -> dict[Path, str]:
    """Each file and the text it should have."""
    out = {}
    for path, block in ((root / "README.md", readme_block(data)),
                        (root / "bench" / "RESULTS.md", results_block(data))):
        out[path] = replace_block(path.read_text(encoding="utf-8"), block, path)
    results = root / "bench" / "RESULTS.md"  # and what each stage costs, from `python -m bench`
    out[results] = costs.apply(out[results], results, root / "bench" / "results")
    return sections.apply(out, root / "bench" / "results")  # the newer benches' sections


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.publish", description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, default=RESULTS_JSON)
    parser.add_argument("--check", action="store_true", help="fail if the files are out of date")
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout whose README.md and bench/ to write")
    args = parser.parse_args(argv)
    data = json.loads(args.json.read_text(encoding="utf-8"))
    stale = []
    for path, text in targets(data, args.root).items():
        if path.read_text(encoding="utf-8") != text:
            stale.append(path)
            if not args.check:
                path.write_text(text, encoding="utf-8")
    if args.check and stale:
        print("out of date with " + str(args.json) + ": " + ", ".join(map(str, stale))
              + " (run python -m bench.publish)", file=sys.stderr)
        return 1
    for path in stale:
        print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
