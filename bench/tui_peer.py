"""`python -m bench.tui_peer`: the app's first transaction rows beside a minimal Textual app.

The peer is the least an app can do to show a table's first rows: a Textual App whose
only widget is a DataTable, filled from `pl.scan_parquet(path).head(PAGE)` (scan_csv for
a CSV) collected in a thread worker. The Loyalist side is LoyalistApp on the same
workspace, its Data screen showing the transactions. Both are timed the same way,
headless (App.run_test) in a fresh child process each: from constructing the App (its
modules already imported) to the first frame drawn after the table holds rows. The
two alternate, RUNS times each; the ratio is of the medians.

For the app, each run also records when the data checks' findings were shown
(checks_seconds), when the tables list was (tables_seconds), how many child processes the
checks started (children: none when the check cache held every finding of a Parquet
workspace) and the longest stall of the UI thread (the largest gap between ticks of a
10 ms timer) from start until both were shown (and when it began), and the most CPU time
the UI thread spent between two ticks (max_ui_cpu_ms, and when: cpu_at_seconds; on a busy
machine the stall also holds the waits for a core, this does not): the checks run after
the first rows, in a thread or (big files) a child process (tui.checks), and must not
hold up input. One more app run per
format sets the workspace's check cache aside (restored after it), so the checks run afresh
as after an upgrade; its stall counts in max_ui_stall_ms and the run is kept as app.cold.

  python -m bench.tui_peer                      # 10m workspace, Parquet and its CSV copy
  python -m bench.tui_peer --size 100k --runs 1 # a quick check that the bench works

Writes bench/results/tui_peer.json: {"meta": machine() at the start (load_average_end
added), "records": [one per format:
{format, size, transactions, page, runs, app: {median seconds, every run, cold}, peer: {...},
ratio}]}.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.measure import _env
from bench.tui import spy_frames

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
PAGE = 1_000  # rows the peer shows: the app's first page (tui.screens.data.FIRST_ROWS)
SIZE = (160, 45)
TICK = 0.01
POLL = 0.005
TIMEOUT = 600
TARGET = 1.5  # issue 14: the app's first rows within 1.5x of the peer


# -- the child: one run of one side --------------------------------------------------------

def peer_app(path: Path):
    import polars as pl
    from textual import work
    from textual.app import App
    from textual.widgets import DataTable

    class Peer(App):
        def compose(self):
            yield DataTable()

        def on_mount(self) -> None:
            self.load()

        @work(thread=True)
        def load(self) -> None:
            scan = pl.scan_csv(path) if path.suffix == ".csv" else pl.scan_parquet(path)
            frame = scan.head(PAGE).collect()
            self.call_from_thread(self.show, frame)

        def show(self, frame) -> None:
            table = self.query_one(DataTable)
            table.add_columns(*frame.columns)
            table.add_rows(frame.rows())
            table.focus()

    return Peer()


def transactions_file(folder: Path) -> Path:
    for name in ("transactions.parquet", "transactions.csv"):
        if (folder / name).exists():
            return folder / name
    raise SystemExit(f"{folder} has no transactions.parquet or transactions.csv")


async def _first_rows(app, rows_table, done=lambda: True, marks=None) -> dict:
    """Seconds from starting `app` to its first frame after `rows_table()` holds rows;
    then waits for `done()` (the app's checks) and reports the longest UI stall until then,
    and when each of `marks` (name: test) first held: "<name>_seconds"."""
    marks = marks or {}
    marked: dict[str, float] = {}
    frames = spy_frames(app)
    ticks: list[float] = []
    busy: list[float] = []  # the UI thread's CPU time at each tick
    start = time.perf_counter()
    async with app.run_test(size=SIZE):
        app.set_interval(TICK, lambda: (ticks.append(time.perf_counter()), busy.append(time.thread_time())))
        rows_at = frame_at = done_at = None
        while time.perf_counter() - start < TIMEOUT:
            await asyncio.sleep(POLL)
            now = time.perf_counter()
            marked.update({name: now for name, test in marks.items() if name not in marked and test()})
            if rows_at is None:
                table = rows_table()
                if table is not None and table.row_count:
                    rows_at = now
            if rows_at is not None and frame_at is None and frames and frames[-1] >= rows_at:
                frame_at = frames[-1]
            if frame_at is not None and done_at is None and done():
                done_at = now
                break
        if frame_at is None:
            raise RuntimeError(f"no rows drawn after {TIMEOUT} s")
        stall, stall_at = max(((b - a, a) for a, b in zip(ticks, ticks[1:])), default=(0.0, start))
        # the UI thread's own CPU time between two ticks: the work that held it, without the
        # waits for a core that a busy machine adds to the stall
        work, work_at = max(((b - a, t) for a, b, t in zip(busy, busy[1:], ticks)), default=(0.0, start))
        return {"rows_seconds": round(rows_at - start, 3), "seconds": round(frame_at - start, 3),
                "done_seconds": round((done_at or float("nan")) - start, 3),
                "max_ui_stall_ms": round(stall * 1000, 1),
                "stall_at_seconds": round(stall_at - start, 3),  # when the longest stall began
                "max_ui_cpu_ms": round(work * 1000, 1), "cpu_at_seconds": round(work_at - start, 3),
                **{f"{name}_seconds": round(marked.get(name, float("nan")) - start, 3) for name in marks}}


def child(side: str, folder: Path) -> dict:
    if side == "app-cold":  # every check runs afresh (in the app's child process too)
        return without_check_cache(folder, lambda: child("app", folder))
    if side == "peer":
        app = peer_app(transactions_file(folder))
        from textual.widgets import DataTable

        return asyncio.run(_first_rows(app, lambda: app.query_one(DataTable)))
    from tui.app import LoyalistApp
    from tui.screens.data import DataScreen
    from tui.widgets.sheet import LazySheet

    LoyalistApp.remember_state = False  # a table remembered from an earlier run would be shown instead
    app = LoyalistApp(folder)

    def rows_table():
        screen = app.screen
        if not isinstance(screen, DataScreen) or screen.current_table != "transactions":
            return None
        return screen.query_one("#browser", LazySheet).table

    def shown() -> bool:  # the checks' findings
        return isinstance(app.screen, DataScreen) and app.screen.findings is not None

    def listed() -> bool:  # the tables list: row counts and date ranges
        return isinstance(app.screen, DataScreen) and app.screen.inspected is not None

    started = []  # child processes of the checks (tui.checks), 0 when the check cache answered
    real_popen = subprocess.Popen

    def counted_popen(*args, **kwargs):
        started.append(args[0] if args else kwargs.get("args"))
        return real_popen(*args, **kwargs)

    subprocess.Popen = counted_popen
    out = asyncio.run(_first_rows(app, rows_table, lambda: shown() and listed(),
                                  marks={"checks": shown, "tables": listed}))
    out.pop("done_seconds")
    out["children"] = len(started)
    return out


def without_check_cache(folder: Path, run):
    """`run()` with the workspace's check cache and remembered table counts (tui.checks) set
    aside, then put back as they were: the cache the other benches' commands rely on is
    left as this run found it."""
    from core.check_cache import cache_path
    from tui.checks import TABLES_FILE

    kept = []
    for cache in (cache_path(folder), folder / TABLES_FILE):
        aside = cache.with_name(cache.name + ".bench-kept")
        if cache.exists():
            cache.replace(aside)
        kept.append((aside, cache))
    try:
        return run()
    finally:
        for aside, cache in kept:
            if aside.exists():
                aside.replace(cache)


# -- the parent: alternate runs, medians, ratio ------------------------------------------

def run_child(side: str, folder: Path) -> dict:
    # the environment of the other benches: cached bytecode, as an installed app imports
    # (else a PYTHONDONTWRITEBYTECODE shell makes the app compile its late imports on the UI thread)
    done = subprocess.run([sys.executable, "-m", "bench.tui_peer", "--child", side, str(folder)],
                          capture_output=True, text=True, cwd=ROOT, env=_env())
    if done.returncode:
        raise SystemExit(f"{side} on {folder} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def compare(folder: Path, runs: int, log, cold: bool = True) -> dict:
    sides: dict[str, list[dict]] = {"app": [], "peer": []}
    for i in range(runs):
        for side in ("peer", "app") if i % 2 else ("app", "peer"):
            m = run_child(side, folder)
            sides[side].append(m)
            log(f"  {side:<4} run {i + 1}: rows drawn {m['seconds']:.2f} s, stall {m['max_ui_stall_ms']:.0f} ms "
                f"(UI thread's CPU {m['max_ui_cpu_ms']:.0f} ms)"
                + (f", checks shown {m['checks_seconds']:.1f} s, tables {m['tables_seconds']:.1f} s, "
                   f"{m['children']} child" if "checks_seconds" in m else ""))
    summary = {side: {"seconds": statistics.median(m["seconds"] for m in ms),
                      "max_ui_stall_ms": max(m["max_ui_stall_ms"] for m in ms),
                      "max_ui_cpu_ms": max(m["max_ui_cpu_ms"] for m in ms), "runs": ms}
               for side, ms in sides.items()}
    summary["app"]["checks_seconds"] = statistics.median(m["checks_seconds"] for m in sides["app"])
    summary["app"]["tables_seconds"] = statistics.median(m["tables_seconds"] for m in sides["app"])
    if cold:  # the checks run afresh (as after an upgrade): their longest stall, apart from the median
        m = run_child("app-cold", folder)
        log(f"  app  cold checks: rows drawn {m['seconds']:.2f} s, stall {m['max_ui_stall_ms']:.0f} ms "
            f"at {m['stall_at_seconds']:.1f} s, checks shown {m['checks_seconds']:.1f} s, tables {m['tables_seconds']:.1f} s")
        summary["app"]["cold"] = m
        summary["app"]["max_ui_stall_ms"] = max(summary["app"]["max_ui_stall_ms"], m["max_ui_stall_ms"])
        summary["app"]["max_ui_cpu_ms"] = max(summary["app"]["max_ui_cpu_ms"], m["max_ui_cpu_ms"])
    summary["ratio"] = round(summary["app"]["seconds"] / summary["peer"]["seconds"], 2)
    return summary


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.tui_peer", description=__doc__.splitlines()[0])
    parser.add_argument("--child", nargs=2, metavar=("SIDE", "FOLDER"), help=argparse.SUPPRESS)
    parser.add_argument("--size", default="10m", help="the bench workspace, e.g. 100k, 1m, 10m")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-cold", dest="cold", action="store_false",
                        help="skip the app's run with the check cache set aside")
    parser.add_argument("--formats", default="parquet,csv", help="parquet, csv or both")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path, default=BENCH / "results" / "tui_peer.json")
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child[0], Path(args.child[1]))))
        return

    from bench.summary import machine
    from bench.workspaces import default_root, ensure_csv, ensure_parquet, parse_size, workspace_info

    log = lambda text: print(text, file=sys.stderr, flush=True)  # noqa: E731
    meta = machine()  # the load average at the start, as the other benches
    subprocess.run([sys.executable, "-m", "compileall", "-q", "core", "commands", "tui", "bench"],
                   cwd=ROOT, env=_env(), check=True)  # compiled once, so no measured run compiles
    parquet = ensure_parquet(default_root(), parse_size(args.size), args.seed, log=log)
    info = workspace_info(parquet)
    records = []
    for fmt in [f.strip() for f in args.formats.split(",") if f.strip()]:
        folder = parquet if fmt == "parquet" else ensure_csv(parquet, log=log)
        log(f"{args.size} {fmt}: {info['transactions']:,} transactions ({folder})")
        summary = compare(folder, args.runs, log, args.cold)
        log(f"  app {summary['app']['seconds']:.2f} s, peer {summary['peer']['seconds']:.2f} s: "
            f"{summary['ratio']}x (target {TARGET}x)")
        records.append({"format": fmt, "size": args.size, "transactions": info["transactions"],
                        "page": PAGE, "runs": args.runs, "target_ratio": TARGET, **summary})
    args.json.parent.mkdir(parents=True, exist_ok=True)
    meta["load_average_end"] = list(os.getloadavg())
    args.json.write_text(json.dumps({"meta": meta, "records": records}, indent=2) + "\n")
    log(f"wrote {args.json}")


if __name__ == "__main__":
    main()
