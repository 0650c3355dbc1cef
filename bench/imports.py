"""`python -m bench.imports`: where `segment rfm`'s fixed cost goes, beside bare Polars (issue 14).

At 1M transactions the aggregation itself is within noise of the bare-Polars floor
(bench.peers); what remains is fixed cost: start-up, imports, the checks, printing and
writing. This bench measures both halves in one run on the same workspace:

- `compare`: `loyalist segment rfm -w WS -o x.parquet --force` beside `bench.peers polars`
  (Parquet) and `polars-csv` (the CSV copy), alternating (A B A B ...) as bench.sidebyside
  does, wall and CPU medians and their ratios, and the load average before and after;
- `phases`: the same command run in a process that marks the end of each phase (interpreter,
  imports, command line, workspace, checks, features, scores, printing, writing, exit) with
  its wall and CPU time; median per phase over the runs.

Writes bench/results/imports.json. Run it at 1m (a 10m run adds nothing: there the fixed
cost is a few percent).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.measure import _env
from bench.sidebyside import CLI, alternate, same_answer
from bench.workspaces import default_root, ensure_csv, ensure_parquet, parse_size, workspace_info

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent

# Run inside the measured process: wraps the functions each phase ends in and prints, as
# the last line of stderr, [phase, wall seconds, CPU seconds] since the previous mark.
PHASES = r"""
import functools, json, os, resource, sys, time

def cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime

with open("/proc/self/stat") as fh:
    started_ticks = int(fh.read().rsplit(")", 1)[1].split()[19])
with open("/proc/stat") as fh:
    boot = float(fh.read().split("btime ")[1].split()[0])
marks = [("interpreter and site", time.time(), cpu())]
start = boot + started_ticks / os.sysconf("SC_CLK_TCK")

def mark(name):
    marks.append((name, time.time(), cpu()))

def ends(module, attr, before, after):
    function = getattr(module, attr)
    @functools.wraps(function)
    def wrapped(*args, **kwargs):
        mark(before)
        try:
            return function(*args, **kwargs)
        finally:
            mark(after)
    setattr(module, attr, wrapped)

import commands.launch as launch
mark("import commands.launch")
import commands.calls as calls, commands.direct as direct
ends(direct, "parse", "import the registry (commands.calls)", "command line read (commands.direct)")
run = calls.Call.run
def first_run(self, *args, **kwargs):
    mark("import commands.output (polars, rich, export, workspace)")
    import commands.output as output, core.registry.run as registry_run, core.segments.run as segments
    ends(registry_run, "check_tables", "open the workspace", "checks (cache)")
    ends(segments, "read_customer_table", "import the analysis", "features: plan and collect")
    ends(output, "print_result", "scores, segments, summaries", "print the tables (rich)")
    ends(output, "write_result", "between", "write x.parquet")
    return run(self, *args, **kwargs)
calls.Call.run = first_run
sys.argv = ["loyalist", *sys.argv[1:]]
try:
    launch.main()
except SystemExit as exit:
    code = exit.code
import atexit
def last():
    mark("exit")
    rows, previous = [], (start, 0.0)
    for name, wall, used in marks:
        rows.append([name, wall - previous[0], used - previous[1]])
        previous = (wall, used)
    print(json.dumps(rows), file=sys.stderr)
atexit.register(last)
"""


def phases(folder: Path, out: Path, repeat: int) -> list[dict]:
    """Median wall and CPU seconds of each phase of `segment rfm` over `repeat` runs."""
    runs = []
    for _ in range(repeat):
        done = subprocess.run([sys.executable, "-c", PHASES, "segment", "rfm", "-w", str(folder), "-o", str(out),
                               "--force"], cwd=ROOT, env=_env(), capture_output=True, text=True, check=True)
        runs.append(json.loads(done.stderr.strip().splitlines()[-1]))
    names = [row[0] for row in runs[0]]
    return [{"phase": name,
             "wall_ms": round(1000 * statistics.median(run[i][1] for run in runs), 1),
             "cpu_ms": round(1000 * statistics.median(run[i][2] for run in runs), 1)}
            for i, name in enumerate(names)]


def compare(folder: Path, csv: Path, out: Path, repeat: int, log) -> list[dict]:
    ours, floor = out / "loyalist.parquet", out / "polars.parquet"
    records = []
    for what, workspace, peer in (("rfm", folder, "polars"), ("rfm-csv", csv, "polars-csv")):
        load = os.getloadavg()
        log(f"  {what}: segment rfm beside bench.peers {peer}, {repeat} alternating runs")
        results = alternate({"loyalist": [*CLI, "segment", "rfm", "-w", str(workspace), "-o", str(ours), "--force"],
                             peer: [sys.executable, "-m", "bench.peers", peer, str(workspace), str(floor)]},
                            repeat, log)
        a, b = results["loyalist"], results[peer]
        records.append({
            "comparison": what, "peer": peer, "same_answer": same_answer(ours, floor),
            "loyalist_seconds": a["median"], "peer_seconds": b["median"],
            "loyalist_cpu_seconds": a["cpu_median"], "peer_cpu_seconds": b["cpu_median"],
            "ratio": a["median"] / b["median"] if a["median"] and b["median"] else None,
            "cpu_ratio": a["cpu_median"] / b["cpu_median"] if a["cpu_median"] and b["cpu_median"] else None,
            "loyalist_runs": a["runs"], "peer_runs": b["runs"],
            "load_average_before": list(load), "load_average_after": list(os.getloadavg())})
        log(f"    ratio {records[-1]['ratio']:.2f} wall, {records[-1]['cpu_ratio']:.2f} CPU")
    return records


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.imports", description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="1m", help="workspace size (default 1m)")
    parser.add_argument("--repeat", type=int, default=9, help="alternating runs of each contestant")
    parser.add_argument("--phase-runs", type=int, default=5, help="instrumented runs for the phase medians")
    parser.add_argument("--out", type=Path, default=default_root())
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path, default=BENCH / "results" / "imports.json")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    log = lambda text: print(text, file=sys.stderr, flush=True)  # noqa: E731
    folder = ensure_parquet(args.out, parse_size(args.size), args.seed, log=log)
    csv = ensure_csv(folder, log=log)
    out = Path(tempfile.mkdtemp(prefix="loyalist-imports-"))
    info = workspace_info(folder)
    log(f"{args.size}: {info['transactions']:,} transactions, {info['customers']:,} customers")
    records = compare(folder, csv, out, args.repeat, log)
    split = {"parquet": phases(folder, out / "phases.parquet", args.phase_runs),
             "csv": phases(csv, out / "phases.parquet", args.phase_runs)}
    for source, rows in split.items():
        log(f"  phases of segment rfm from {source} (median of {args.phase_runs} runs: wall ms / CPU ms)")
        for row in rows:
            log(f"    {row['phase']:<58} {row['wall_ms']:7.1f} {row['cpu_ms']:7.1f}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"size": args.size, **info, "cpus": os.cpu_count(), "comparisons": records,
                                     "phases": split}, indent=2) + "\n")
    log(f"wrote {args.json}")


if __name__ == "__main__":
    main()
