"""`python -m bench.channels`: CPU seconds and peak memory of `report channels` beside the
bare-Polars RFM floor (issue 14's target: within 3x, under 2 GB).

The same measurement as bench.heavy (a fresh `loyalist report channels` process writing
`--output`, the floor run first in the same run). Writes bench/results/channels.json.

  python -m bench.channels                # at 1M transactions
  python -m bench.channels --sizes 10m    # the target size (under the machine's bench lock)
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from bench.heavy import run, write_run
from bench.workspaces import default_root

BENCH = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.channels", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1m", help="comma-separated, e.g. 1m,10m")
    parser.add_argument("--out", type=Path, default=default_root())
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path, default=BENCH / "results" / "channels.json")
    args = parser.parse_args(argv)
    log = lambda text: print(text, file=sys.stderr, flush=True)  # noqa: E731
    started = time.perf_counter()
    records = run([s.strip() for s in args.sizes.split(",") if s.strip()], {"report channels"}, args.out,
                  args.seed, log)
    for record in records:
        record["within_target"] = bool(record["ok"] and record["cpu_ratio"] is not None
                                       and record["cpu_ratio"] <= 3 and record["peak_mb"] < 2048)
    write_run(args.json, records, started, log)


if __name__ == "__main__":
    main()
