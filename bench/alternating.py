"""The harness bench.pricing and bench.promo share: Loyalist and a peer, each a fresh child
process on the same synthetic Parquet, alternated `repeat` times; medians and peaks.

A bench module using it defines `make_data(rows, path)`, `loyalist(path)` and `peer(path)`
(both return a JSON-able answer the bench compares) and calls `main(module, ...)`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent


def _child_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def _run(module: str, side: str, path: Path, result: Path) -> tuple[float, float, dict]:
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", module, "--child", side, "--data", str(path),
                             "--result", str(result)], cwd=ROOT, env=_child_env())
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"{side} failed with status {status}")
    return wall, usage.ru_maxrss / 1024, json.loads(result.read_text())


def main(bench: ModuleType, name: str, compare: Callable[[dict, dict], dict]) -> None:
    """Parse the bench's flags, run both sides alternately and write bench/results/NAME.json.
    `compare(loyalist_answer, peer_answer)` checks the answers agree (SystemExit if not) and
    returns the fields it adds to the JSON."""
    parser = argparse.ArgumentParser(description=bench.__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path(f"/tmp/loyalist-bench-{name}"))
    parser.add_argument("--json", type=Path, default=BENCH / "results" / f"{name}.json")
    parser.add_argument("--child", choices=("loyalist", "peer"))
    parser.add_argument("--make", type=int, help="(internal) write the synthetic data of this many rows")
    parser.add_argument("--data", type=Path)
    parser.add_argument("--result", type=Path)
    args = parser.parse_args()
    if args.child:
        answer = (bench.loyalist if args.child == "loyalist" else bench.peer)(args.data)
        args.result.write_text(json.dumps(answer))
        return
    if args.make:
        bench.make_data(args.make, args.data)
        return
    args.out.mkdir(parents=True, exist_ok=True)
    data = args.out / f"{name}_{args.rows}.parquet"
    if not data.exists():  # in a child: a child's peak memory starts from its parent's resident size
        subprocess.run([sys.executable, "-m", f"bench.{name}", "--make", str(args.rows), "--data", str(data)],
                       cwd=ROOT, env=_child_env(), check=True)
    from bench.summary import machine

    setting = machine()  # cores, load average and time at the start: bench.sections warns when busy
    times: dict[str, list[float]] = {"loyalist": [], "peer": []}
    memory: dict[str, float] = {"loyalist": 0.0, "peer": 0.0}
    answers = {}
    for _ in range(args.repeat):
        for side in ("loyalist", "peer"):
            wall, peak, answers[side] = _run(f"bench.{name}", side, data, args.out / f"{side}.json")
            times[side].append(wall)
            memory[side] = max(memory[side], peak)
    agreement = compare(answers["loyalist"], answers["peer"])
    report = {
        "rows": args.rows, "repeat": args.repeat, "machine": setting,
        "load_average_at_start": round(setting["load_average"][0], 2), "cpu_count": setting["cores"],
        "loyalist_seconds": statistics.median(times["loyalist"]), "peer_seconds": statistics.median(times["peer"]),
        "loyalist_peak_mb": round(memory["loyalist"], 1), "peer_peak_mb": round(memory["peer"], 1),
        "ratio": statistics.median(times["loyalist"]) / statistics.median(times["peer"]),
        **agreement, "times": times,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps({k: v for k, v in report.items() if k != "times"}, indent=2))
