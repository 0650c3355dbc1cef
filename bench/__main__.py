"""`make bench` / `python -m bench`: what each stage of Loyalist costs, by workspace size.

For each size (transactions: 100k, 1m, 10m, 100m; or customers: 1mc) a workspace is
generated once (core.demo, Parquet; cached in --out by size and seed) and every stage
runs in a fresh child process: wall time, peak resident memory (the stage's own: see
bench/measure.py) and rows per second. Stages:

  scan          open the workspace, load the canonical transactions (every column)
  features      every per-customer feature, with customers, touchpoints and survey
  rfm           `segment rfm`: data checks, R, F, M per customer, scores, segments
  pandas        the same R, F, M and scores with pandas groupby, from the same file
  clustering    `segment kmeans` on the per-customer features
  scale         `scale score` on the per-customer table (13 survey items + 5 features)
  report.NAME   each `report` with its defaults (channels ... kpi)
  clv           `predict clv`: BG/NBD + Gamma-Gamma fits and every customer's CLV
  churn         `predict churn`: features at three dates, two models, every customer scored
  csv           scan and rfm from a CSV copy, `data convert` to Parquet, rfm again
  tui           the app on the workspace: first screen, rows in the browser, paging
  startup       importing the CLI in a fresh interpreter (once per run)

--memory-limit 2g adds the larger-than-memory demonstration: the largest workspace's
transactions repeated --history times (same customers, a longer history), then rfm and
features under the limit (LOYALIST_MEMORY_LIMIT sizes the aggregation's passes),
and for contrast rfm in one pass and a plain load of every row under the same limit.

Results print as Markdown tables (sizes x stages, every measurement, growth with rows,
CSV against Parquet, targets) and go to --json (default: bench/results/latest.json).
--compare OLD.json adds a before/after table; --update OLD.json re-measures some stages
into an earlier run; --show OLD.json prints an earlier run. `python -m bench.publish`
writes bench/RESULTS.md's tables from bench/results/latest.json (bench/costs.py).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from bench import summary
from bench.child import REPORT_NAMES
from bench.measure import Measurement, run_child, warm_bytecode
from bench.workspaces import (
    converted_copy,
    default_root,
    ensure_csv,
    ensure_long_history,
    ensure_parquet,
    parse_size,
    workspace_info,
)

BENCH = Path(__file__).resolve().parent
CORE_STAGES = ("scan", "features", "rfm", "pandas", "clustering", "scale")
ALL_STAGES = ("startup", *CORE_STAGES, "reports", "clv", "churn", "csv", "tui")
# Stages worth repeating (best time of --repeat); the rest run once.
REPEATED = {"scan", "features", "rfm"}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n".join(__doc__.splitlines()[2:]))
    parser.add_argument("--sizes", default="100k,1m,10m",
                        help="comma-separated: 100k, 1m, 10m, 100m (transactions) or 1mc "
                             "(customers); default 100k,1m,10m")
    parser.add_argument("--stages", default="all",
                        help=f"comma-separated from {', '.join(ALL_STAGES)} (or report.NAME), "
                             "all or none; default all")
    parser.add_argument("--out", type=Path, default=default_root(),
                        help="folder for the generated workspaces (kept between runs)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs of scan, features and rfm; the best time is kept")
    parser.add_argument("--json", type=Path, default=BENCH / "results" / "latest.json",
                        help="write the results here")
    parser.add_argument("--compare", type=Path, default=None,
                        help="an earlier --json file to compare with")
    parser.add_argument("--update", type=Path, default=None,
                        help="an earlier --json file: keep its results, replacing those measured "
                             "again now (e.g. one stage after a fix), and write the whole to --json")
    parser.add_argument("--show", type=Path, default=None,
                        help="print the tables of an earlier --json file and stop")
    parser.add_argument("--memory-limit", default=None,
                        help="e.g. 2g: run the larger-than-memory demonstration")
    parser.add_argument("--history", type=int, default=10,
                        help="copies of the transactions in the memory-limit workspace")
    parser.add_argument("--tui-max", default="10m",
                        help="run the tui stage on sizes up to this one (it takes a while)")
    return parser.parse_args(argv)


def stage_list(text: str) -> list[str]:
    wanted = [s.strip() for s in text.split(",") if s.strip()]
    if wanted == ["none"]:  # e.g. only the memory-limit demonstration
        return []
    if wanted == ["all"]:
        wanted = list(ALL_STAGES)
    out = []
    for s in wanted:
        if s == "reports":
            out += [f"report.{r}" for r in REPORT_NAMES]
        elif s in ALL_STAGES or (s.startswith("report.") and s[7:] in REPORT_NAMES):
            out.append(s)
        else:
            raise SystemExit(f"unknown stage {s!r}: choose from {', '.join(ALL_STAGES)}")
    return out


def megabytes(text: str) -> float:
    text = text.strip().lower().rstrip("b")
    factor = {"g": 1024, "m": 1}.get(text[-1:], None)
    return float(text[:-1]) * factor if factor else float(text)


def _rate(record: dict) -> float | None:
    if not (record["ok"] and record["rows"] and record["seconds"]) or record["stage"] == "startup":
        return None
    if record["stage"] == "tui":  # rows into the browser, not the paging that follows
        return record["rows"] / record["detail"]["rows_seconds"]
    return record["rows"] / record["seconds"]


class Run:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.records: list[dict] = []

    def log(self, text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    def measure(self, stage: str, folder: Path, size: str, info: dict, *, variant: str = "parquet",
                repeat: int = 1, **kwargs) -> dict:
        runs = [run_child(stage, folder, **kwargs) for _ in range(max(1, repeat))]
        good = [m for m in runs if m.ok]
        best: Measurement = min(good, key=lambda m: m.seconds) if good else runs[-1]
        if good:
            best.peak_mb = max(m.peak_mb for m in good)
        record = {"size": size, "transactions": info["transactions"],
                  "customers": info["customers"], "variant": variant,
                  **{k: getattr(best, k) for k in ("stage", "ok", "seconds", "peak_mb", "start_mb",
                                                   "rows", "rows_unit", "detail", "error")},
                  "runs": len(runs)}
        if record["rows"] is None and record["rows_unit"] in ("transactions", "customers"):
            record["rows"] = info[record["rows_unit"]]
        record["rows_per_second"] = _rate(record)
        self.records.append(record)
        shown = (f"{record['seconds']:.2f} s, peak {record['peak_mb']:,.0f} MB"
                 if record["ok"] else f"failed: {record['error']}")
        self.log(f"  {summary.label(record):<34} {shown}")
        return record

    def size(self, text: str, stages: list[str], first: bool) -> None:
        size = parse_size(text)
        folder = ensure_parquet(self.args.out, size, self.args.seed, log=self.log)
        info = workspace_info(folder)
        self.log(f"{size.label}: {info['transactions']:,} transactions, "
                 f"{info['customers']:,} customers ({folder})")
        for stage in stages:
            if stage == "startup":
                if first:
                    self.measure("startup", folder, size.label, info, repeat=3)
            elif stage == "csv":
                self.csv(folder, size.label, info)
            elif stage == "tui":
                # by customers: the generator makes more transactions per customer than the
                # size names assume, so "10m" holds more than 10 million transactions
                if info["customers"] <= parse_size(self.args.tui_max).customers * 1.1:
                    self.measure("tui", folder, size.label, info)
            else:
                self.measure(stage, folder, size.label, info,
                             repeat=self.args.repeat if stage in REPEATED else 1)

    def csv(self, folder: Path, size: str, info: dict) -> None:
        csv = ensure_csv(folder, log=self.log)
        converted = converted_copy(csv)
        self.measure("scan", csv, size, info, variant="csv")
        self.measure("rfm", csv, size, info, variant="csv")
        self.measure("convert", csv, size, info, variant="csv", args={"out": str(converted)})
        (converted / "bench-workspace.json").write_text((folder / "bench-workspace.json").read_text())
        self.measure("rfm", converted, size, info, variant="converted")

    def memory_limit(self, largest: str) -> str:
        limit = megabytes(self.args.memory_limit)
        folder = ensure_parquet(self.args.out, parse_size(largest), self.args.seed, log=self.log)
        long = ensure_long_history(folder, self.args.history, log=self.log)
        info = workspace_info(long)
        size = f"{largest} x{self.args.history}"
        self.log(f"memory limit {limit:,.0f} MB: {info['transactions']:,} transactions, "
                 f"{info['customers']:,} customers ({long})")
        # Unlimited first: how much memory the whole table takes once loaded.
        self.measure("scan", long, size, info, variant="no limit")
        # The budget the passes are sized from: the limit, less the interpreter's share.
        budget = {"LOYALIST_MEMORY_LIMIT": f"{limit * 0.75:.0f}m"}
        # Each the first command on the file: the full data checks run first (core.check_cache)
        for stage in ("rfm", "features"):
            self.measure(stage, long, size, info, variant=f"streaming, limit {limit:,.0f} MB",
                         limit_mb=limit, env=budget, args={"first_use": True})
        # The same in one pass (as before core.features split the aggregation), then a
        # plain load of every row: both need more than the limit.
        self.measure("rfm", long, size, info, variant=f"one pass, limit {limit:,.0f} MB",
                     limit_mb=limit, args={"rows_per_pass": 10**12, "first_use": True})
        self.measure("scan", long, size, info, variant=f"limit {limit:,.0f} MB", limit_mb=limit)
        return size


def print_tables(records: list[dict], previous: list[dict] | None = None,
                 compare_name: str = "") -> tuple[list, list, list]:
    growth = summary.growth([r for r in records if r["variant"] in ("parquet", "csv")])
    targets = summary.targets(records)
    csv = summary.csv_speedups(records)
    print("\n## Sizes x stages (seconds / peak MB)\n\n" + summary.pivot_table(records))
    print("\n## Stages\n\n" + summary.results_table(records))
    print("\n## Growth with rows\n\n" + summary.growth_table(growth))
    if csv:
        print("\n## CSV against Parquet\n\n" + summary.csv_table(csv))
    if targets:
        print("\n## Targets\n\n" + summary.targets_table(targets))
    if previous is not None:
        print(f"\n## Compared with {compare_name}\n\n" + summary.compare_table(records, previous))
    return growth, targets, csv


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.show:
        print_tables(json.loads(args.show.read_text())["results"])
        return
    stages = stage_list(args.stages)
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    for s in sizes:
        parse_size(s)  # fail on a bad size before any work
    args.out.mkdir(parents=True, exist_ok=True)
    run = Run(args)
    started = time.perf_counter()
    meta = summary.machine()
    run.log(f"{meta.get('cpu', '?')}, {meta['cores']} cores, load {meta['load_average'][0]:.1f}")
    warm_bytecode()
    for i, text in enumerate(sizes):
        run.size(text, stages, first=i == 0)
    demo = None
    if args.memory_limit:
        largest = max(sizes, key=lambda s: parse_size(s).customers)
        demo = run.memory_limit(largest)
    if args.update:
        earlier = json.loads(args.update.read_text())
        meta["updated"] = {"earlier": earlier["meta"], "measured_again": [
            f"{r['size']} {summary.label(r)}" for r in run.records]}
        again = {(r["size"], summary.label(r)): r for r in run.records}
        kept = [again.pop((r["size"], summary.label(r)), r) for r in earlier["results"]
                if r["size"] != demo]  # a demonstration run again replaces the earlier one
        run.records = kept + list(again.values())  # replaced in place; new ones at the end
    meta["load_average_end"] = list(__import__("os").getloadavg())
    meta["bench_seconds"] = round(time.perf_counter() - started, 1)
    meta["args"] = {k: str(v) for k, v in vars(args).items()}
    previous = json.loads(args.compare.read_text())["results"] if args.compare else None
    growth, targets, csv = print_tables(run.records, previous, str(args.compare))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"meta": meta, "results": run.records, "growth": growth,
                                         "csv": csv, "targets": targets}, indent=2, default=str) + "\n")
        run.log(f"wrote {args.json} ({meta['bench_seconds']:.0f} s in all)")


if __name__ == "__main__":
    main()
