"""`python -m bench.heavy`: CPU seconds and peak memory of each heavy analysis beside the floor.

Runs the bare-Polars RFM floor (bench/peers.py) and then every report, `segment kmeans`,
`predict clv` and `predict churn` once each on the same Parquet workspace, each as a fresh
`loyalist ...` process writing `--output`, and records CPU seconds (user + system of the
process, what a shared machine's load distorts least), wall seconds and peak resident MB.
The ratio is CPU against the floor's CPU. Writes bench/results/heavy.json.

  python -m bench.heavy --sizes 1m            # every heavy analysis at 1M
  python -m bench.heavy --sizes 10m --only "report channels,predict churn"
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from bench.sidebyside import CLI, HEAVY, timed
from bench.summary import machine
from bench.workspaces import default_root, ensure_parquet, parse_size, workspace_info

BENCH = Path(__file__).resolve().parent


def write_run(path: Path, records: list[dict], started: float, log) -> None:
    """The run's records with the machine and its duration into `path` ({"meta", "records"}),
    the layout bench.heavy, bench.attrib and bench.churn share."""
    meta = {**machine(), "bench_seconds": round(time.perf_counter() - started, 1)}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"meta": meta, "records": records}, indent=2) + "\n")
    log(f"wrote {path}")


def run(sizes: list[str], only: set[str] | None, root: Path, seed: int, log) -> list[dict]:
    records = []
    for text in sizes:
        folder = ensure_parquet(root, parse_size(text), seed, log=log)
        info = workspace_info(folder)
        out = Path(tempfile.mkdtemp(prefix="loyalist-heavy-"))
        log(f"{text}: {info['transactions']:,} transactions, {info['customers']:,} customers")
        floor = timed([sys.executable, "-m", "bench.peers", "polars", str(folder),
                       str(out / "floor.parquet")])
        log(f"  {'polars rfm (floor)':<22} {floor['cpu_seconds']:6.1f} s CPU {floor['peak_mb']:6.0f} MB")
        for name, command in HEAVY:
            if only and name not in only:
                continue
            target = out / f"{name.replace(' ', '-')}.parquet"
            m = timed([*CLI, *command, "-w", str(folder), "-o", str(target), "--force"])
            ratio = m["cpu_seconds"] / floor["cpu_seconds"] if m["ok"] else None
            shown = f"{ratio:4.1f}x" if ratio else m["error"]
            log(f"  {name:<22} {m['cpu_seconds']:6.1f} s CPU {m['peak_mb']:6.0f} MB  {shown}")
            records.append({"analysis": name, "size": text, "transactions": info["transactions"],
                            "customers": info["customers"], "ok": m["ok"], "error": m["error"],
                            "cpu_seconds": round(m["cpu_seconds"], 2), "seconds": round(m["seconds"], 2),
                            "peak_mb": round(m["peak_mb"]), "floor_cpu_seconds": round(floor["cpu_seconds"], 2),
                            "floor_peak_mb": round(floor["peak_mb"]),
                            "cpu_ratio": round(ratio, 2) if ratio else None})
    return records


def _parser(prog: str, description: str, json_name: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=description.splitlines()[0])
    parser.add_argument("--sizes", default="1m", help="comma-separated, e.g. 1m,10m")
    parser.add_argument("--out", type=Path, default=default_root())
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path, default=BENCH / "results" / json_name)
    return parser


def _log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _sizes(text: str) -> list[str]:
    return [s.strip() for s in text.split(",") if s.strip()]


def main(argv: list[str] | None = None) -> None:
    parser = _parser("python -m bench.heavy", __doc__, "heavy.json")
    parser.add_argument("--only", default="", help="comma-separated analyses, e.g. 'predict churn'")
    args = parser.parse_args(argv)
    only = {s.strip() for s in args.only.split(",") if s.strip()} or None
    started = time.perf_counter()
    records = run(_sizes(args.sizes), only, args.out, args.seed, _log)
    write_run(args.json, records, started, _log)


def targeted_main(name: str, description: str, analyses: tuple[str, ...], argv: list[str] | None) -> None:
    """`python -m bench.NAME`: this measurement for a few analyses, each record marked
    `within_target` (issue 14: within 3x the floor's CPU, under 2 GB), into NAME.json."""
    args = _parser(f"python -m bench.{name}", description, f"{name}.json").parse_args(argv)
    started = time.perf_counter()
    records = run(_sizes(args.sizes), set(analyses), args.out, args.seed, _log)
    for record in records:
        record["within_target"] = bool(record["ok"] and record["cpu_ratio"] is not None
                                       and record["cpu_ratio"] <= 3 and record["peak_mb"] < 2048)
    write_run(args.json, records, started, _log)


if __name__ == "__main__":
    main()
