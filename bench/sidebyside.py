"""`python -m bench.sidebyside`: Loyalist's commands beside their peers, in one run.

Every figure Loyalist publishes about its speed is a ratio from here: a command as a user
runs it (a fresh `loyalist ...` process writing `--output`, start-up included) against a
peer doing the same work on the same file on this machine, run alternately (A B A B ...)
so both see the same machine load, medians compared. The peers are in bench/peers.py;
each one's output is checked against Loyalist's (same customers, scores and segments)
before its time counts.

Comparisons, per workspace size:
  help        `loyalist --help` beside `python -c "import typer"`
  command-help  `loyalist report channels --help` (one command's help) beside the same
  rfm         `segment rfm --output x.parquet` beside bare Polars (the floor), DuckDB, pandas
  rfm-csv     the same from a CSV copy beside bare Polars scanning that CSV once
  heavy       every report, `segment kmeans`, `predict clv` and `predict churn` (once each)
              beside the bare-Polars RFM floor run just before it: what an analysis costs
              above the floor

Each workspace is checked once (`loyalist data validate`, not timed) before the timed runs,
as an analyst's first command on it would: Loyalist's commands then find the checks (and the
order layout they count, core/order_layout.py) remembered, the state every command after the
first meets.

Writes bench/results/sidebyside.json; `python -m bench.publish` turns it into the
README's and bench/RESULTS.md's figures.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.measure import _env
from bench.summary import machine
from bench.workspaces import default_root, ensure_csv, ensure_parquet, parse_size, workspace_info

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
CLI = [sys.executable, "-m", "commands"]
COMMAND_HELP = "loyalist report channels --help"  # a command's own help: its group and options built
HEAVY = [("report channels", ["report", "channels"]), ("report attribution", ["report", "attribution"]),
         ("report campaign", ["report", "campaign"]), ("report program", ["report", "program"]),
         ("report experiment", ["report", "experiment"]), ("report nps", ["report", "nps"]),
         ("report cohorts", ["report", "cohorts"]), ("report kpi", ["report", "kpi"]),
         ("segment kmeans", ["segment", "kmeans"]), ("predict clv", ["predict", "clv"]),
         ("predict churn", ["predict", "churn"])]


# Runs one command and reports its wall time and its peak memory. A small launcher, not the
# benchmark itself, starts the command: Linux carries the starting process's resident size
# into a child's peak (exec keeps the larger of the two), so a child of this process, which
# has Polars loaded, would never show less than ~200 MB.
LAUNCHER = """
import json, os, resource, subprocess, sys, time
start = time.perf_counter()
code = subprocess.call(sys.argv[1:], stdout=subprocess.DEVNULL)
seconds = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"code": code, "seconds": seconds, "cpu": usage.ru_utime + usage.ru_stime,
                  "peak_kb": usage.ru_maxrss}))
"""


def timed(cmd: list[str], timeout: float = 3600) -> dict:
    """Wall seconds and peak resident MB of one process (and its children)."""
    proc = subprocess.run([sys.executable, "-S", "-c", LAUNCHER, *cmd], cwd=ROOT, env=_env(),
                          capture_output=True, text=True, timeout=timeout)
    measured = json.loads(proc.stdout.strip().splitlines()[-1])
    ok = measured["code"] == 0
    tail = proc.stderr.strip().splitlines()[-1:] or [""]
    return {"ok": ok, "seconds": measured["seconds"], "cpu_seconds": measured["cpu"],
            "peak_mb": measured["peak_kb"] / 1024,
            "error": "" if ok else f"exit {measured['code']}: {tail[0][:300]}"}


def alternate(contestants: dict[str, list[str]], repeat: int, log) -> dict[str, dict]:
    """Run each contestant `repeat` times, interleaved; keep every time and the median."""
    runs: dict[str, list[dict]] = {name: [] for name in contestants}
    for _ in range(repeat):
        for name, cmd in contestants.items():
            runs[name].append(timed(cmd))
    out = {}
    for name, measured in runs.items():
        good = [m["seconds"] for m in measured if m["ok"]]
        cpu = [m["cpu_seconds"] for m in measured if m["ok"]]
        out[name] = {"ok": len(good) == len(measured), "runs": [round(s, 3) for s in good],
                     "median": statistics.median(good) if good else None,
                     # CPU time (user + system) is what a shared machine's load distorts least
                     "cpu_median": statistics.median(cpu) if cpu else None,
                     "peak_mb": max(m["peak_mb"] for m in measured),
                     "error": next((m["error"] for m in measured if not m["ok"]), "")}
        shown = (f"median {out[name]['median']:.2f} s, {out[name]['cpu_median']:.2f} s CPU" if good
                 else out[name]["error"])
        log(f"    {name:<28} {shown}")
    return out


def same_answer(ours: Path, theirs: Path) -> bool:
    """The peer's customers, R, F, M, scores and segments equal Loyalist's (money to the cent)."""
    import polars as pl

    if not (ours.is_file() and theirs.is_file()):
        return False
    columns = ["customer_id", "recency_days", "frequency", "monetary", "r_score", "f_score",
               "m_score", "segment"]
    a = pl.read_parquet(ours).select(columns).sort("customer_id")
    b = pl.read_parquet(theirs).select(columns).cast(dict(a.schema)).sort("customer_id")
    exact = [c for c in columns if c != "monetary"]
    return (a.height == b.height and a.select(exact).equals(b.select(exact))
            and bool(((a["monetary"] - b["monetary"]).abs() < 0.006).all()))


def compare(records: list, what: str, size: str, info: dict, results: dict[str, dict],
            ours: str, peer: str, note: str = "", agrees: bool | None = None) -> None:
    a, b = results[ours], results[peer]
    ratio = a["median"] / b["median"] if a["median"] and b["median"] else None
    cpu_ratio = a.get("cpu_median") / b["cpu_median"] if a.get("cpu_median") and b.get("cpu_median") else None
    records.append({"comparison": what, "size": size, "transactions": info["transactions"],
                    "customers": info["customers"], "loyalist": ours, "peer": peer,
                    "loyalist_seconds": a["median"], "peer_seconds": b["median"],
                    "loyalist_peak_mb": a["peak_mb"], "peer_peak_mb": b["peak_mb"],
                    "loyalist_runs": a["runs"], "peer_runs": b["runs"], "ratio": ratio,
                    "loyalist_cpu_seconds": a.get("cpu_median"), "peer_cpu_seconds": b.get("cpu_median"),
                    "cpu_ratio": cpu_ratio,
                    "same_answer": agrees, "ok": a["ok"] and b["ok"],
                    "error": a["error"] or b["error"], "note": note})


def run_size(text: str, args, records: list, log) -> None:
    folder = ensure_parquet(args.out, parse_size(text), args.seed, log=log)
    info = workspace_info(folder)
    out = Path(tempfile.mkdtemp(prefix="loyalist-sidebyside-"))
    log(f"{text}: {info['transactions']:,} transactions, {info['customers']:,} customers")
    csv = ensure_csv(folder, log=log)
    for workspace in (folder, csv):  # the checks remembered, as after a first command (not timed)
        subprocess.run([*CLI, "data", "validate", "-w", str(workspace)], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=False, cwd=ROOT, env=_env())
    if args.help:
        log("  --help")
        results = alternate({"loyalist --help": [*CLI, "--help"],
                             COMMAND_HELP: [*CLI, *COMMAND_HELP.split()[1:]],
                             "import typer": [sys.executable, "-c", "import typer"]}, args.repeat, log)
        compare(records, "help", text, info, results, "loyalist --help", "import typer")
        compare(records, "command-help", text, info, results, COMMAND_HELP, "import typer")
        args.help = False  # once per run: it does not depend on the workspace

    log("  segment rfm from Parquet, --output x.parquet")
    ours = out / "loyalist.parquet"
    peers = {name: out / f"{name}.parquet" for name in ("polars", "duckdb", "pandas")}
    results = alternate({
        "loyalist": [*CLI, "segment", "rfm", "-w", str(folder), "-o", str(ours), "--force"],
        **{name: [sys.executable, "-m", "bench.peers", name, str(folder), str(path)]
           for name, path in peers.items()}}, args.repeat, log)
    for name, path in peers.items():
        compare(records, "rfm", text, info, results, "loyalist", name,
                agrees=same_answer(ours, path))

    log("  segment rfm from CSV, --output x.parquet")
    results = alternate({
        "loyalist": [*CLI, "segment", "rfm", "-w", str(csv), "-o", str(ours), "--force"],
        "polars-csv": [sys.executable, "-m", "bench.peers", "polars-csv", str(csv),
                       str(peers["polars"])]}, args.repeat, log)
    compare(records, "rfm-csv", text, info, results, "loyalist", "polars-csv",
            agrees=same_answer(ours, peers["polars"]))

    if not args.heavy:
        return
    log("  the heavy analyses, once each, each beside a run of the RFM floor just before it")
    # The floor is run again before each analysis: over the minutes this section takes, a
    # shared machine's speed drifts by 15% and more, and a ratio against the floor measured
    # at the start would carry that drift.
    floor_command = [sys.executable, "-m", "bench.peers", "polars", str(folder), str(peers["polars"])]
    for name, command in HEAVY:
        target = out / f"{name.replace(' ', '-')}.parquet"
        results = alternate({"polars rfm": floor_command,
                             name: [*CLI, *command, "-w", str(folder), "-o", str(target), "--force"]}, 1, log)
        compare(records, "heavy", text, info, results, name, "polars rfm",
                note="above the bare-Polars RFM floor run just before it")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.sidebyside",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1m,10m", help="comma-separated, e.g. 1m,10m")
    parser.add_argument("--repeat", type=int, default=5, help="alternating runs of each contestant")
    parser.add_argument("--no-heavy", dest="heavy", action="store_false",
                        help="skip the reports and models")
    parser.add_argument("--no-help", dest="help", action="store_false", help="skip --help")
    parser.add_argument("--out", type=Path, default=default_root())
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path, default=BENCH / "results" / "sidebyside.json")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    log = lambda text: print(text, file=sys.stderr, flush=True)  # noqa: E731
    args.out.mkdir(parents=True, exist_ok=True)
    meta = machine()
    try:
        import duckdb

        meta["duckdb"] = duckdb.__version__
    except ImportError:
        pass
    run_sizes(args, meta, run_size, log)


def run_sizes(args, meta: dict, run_size, log) -> None:
    """Every size of --sizes through `run_size`, then the run (machine, timing, comparisons)
    into --json: one layout for bench.sidebyside and the benches built on it (bench.engines)."""
    started = time.perf_counter()
    records: list[dict] = []
    for text in [s.strip() for s in args.sizes.split(",") if s.strip()]:
        run_size(text, args, records, log)
    meta["bench_seconds"] = round(time.perf_counter() - started, 1)
    meta["load_average_end"] = list(os.getloadavg())
    meta["repeat"] = args.repeat
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"meta": meta, "comparisons": records}, indent=2) + "\n")
    log(f"wrote {args.json}")


if __name__ == "__main__":
    main()
