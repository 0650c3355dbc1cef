"""tui.priority.yield_to_ui: every thread but the UI (main) thread and Textual's own runs at a lower CPU
priority, Polars' pool included, so the screen is drawn first when they compete for a core.
Run in a fresh process: the priorities of this test run's own threads are left alone."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import json, os, threading
import polars as pl
from tui.priority import BACKGROUND_NICE, yield_to_ui

pl.DataFrame({"a": range(100_000)}).lazy().select(pl.col("a").sum()).collect()  # starts Polars' pool
seen = {}
release = threading.Event()
# as Textual names its frame writer; a daemon, so an error below ends the script instead of hanging it
writer = threading.Thread(target=release.wait, name="textual-output", daemon=True)
writer.start()
def worker():
    yield_to_ui()
    seen["worker"] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
thread = threading.Thread(target=worker)
thread.start(); thread.join()
main = threading.main_thread().native_id
kept = (main, writer.native_id)
def nice(task):
    try:
        return os.getpriority(os.PRIO_PROCESS, task)
    except ProcessLookupError:  # the joined worker's task can still be listed, then end
        return None
others = [n for t in os.listdir("/proc/self/task") if int(t) not in kept and (n := nice(int(t))) is not None]
print(json.dumps({"main": os.getpriority(os.PRIO_PROCESS, main), "worker": seen["worker"],
                  "writer": os.getpriority(os.PRIO_PROCESS, writer.native_id),
                  "others": others, "background": BACKGROUND_NICE}))
release.set(); writer.join()
"""


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="thread priorities are Linux tasks'")
def test_workers_and_polars_threads_yield_to_the_ui_thread() -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    start = os.getpriority(os.PRIO_PROCESS, 0)  # the child started at this process's nice value
    assert seen["main"] == start  # the UI thread keeps its priority
    assert seen["writer"] == start  # and so do Textual's own threads, which write its frames
    assert seen["worker"] >= seen["background"]
    assert seen["others"] and all(nice >= seen["background"] for nice in seen["others"])  # Polars' pool too
