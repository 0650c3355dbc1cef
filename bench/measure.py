"""Run one stage in a fresh child process and read its wall time and peak memory.

The child imports what the stage needs and prepares its inputs (untimed), resets the
kernel's peak-RSS counter (writing 5 to /proc/self/clear_refs), runs the stage (timed)
and reads the peak back (VmHWM), so the figure is the stage's own: interpreter, imports
and inputs included, earlier work excluded. Where the counter cannot be reset the peak
is ru_maxrss, which then also covers the preparation.

A memory limit is enforced the way an out-of-memory killer would: the parent polls the
child's resident memory every POLL_SECONDS and kills it above the limit; the child's own
VmHWM then says whether it stayed under the limit between polls. (RLIMIT_AS is no good
here: Polars and glibc reserve gigabytes of address space they never touch.)
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
POLL_SECONDS = 0.01


def _status_kb(key: str, pid: str = "self") -> int | None:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def reset_peak() -> bool:
    """Start a new peak-RSS count for this process (Linux 4.0+)."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def rss_mb() -> float:
    kb = _status_kb("VmRSS")
    return kb / 1024 if kb is not None else float("nan")


def peak_mb(reset_worked: bool) -> float:
    kb = _status_kb("VmHWM") if reset_worked else None
    if kb is None:
        kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return kb / 1024


@dataclass
class Measurement:
    stage: str
    ok: bool
    seconds: float | None = None
    peak_mb: float | None = None
    start_mb: float | None = None  # resident at the start of the timed part
    rows: int | None = None
    rows_unit: str = ""
    detail: dict = field(default_factory=dict)
    error: str = ""

    @property
    def rows_per_second(self) -> float | None:
        if not self.ok or not self.rows or not self.seconds:
            return None
        return self.rows / self.seconds


def run_child(stage: str, workspace: Path, *, env: dict[str, str] | None = None,
              limit_mb: float | None = None, timeout: float = 1800,
              args: dict | None = None) -> Measurement:
    """Run bench.child for `stage` on `workspace`; a failure is returned, not raised."""
    cmd = [sys.executable, "-m", "bench.child", stage, str(workspace), json.dumps(args or {})]
    child_env = _env(env)
    # Files, not pipes: a chatty child can never block on a full pipe while watched.
    with tempfile.TemporaryFile("w+") as out_file, tempfile.TemporaryFile("w+") as err_file:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=child_env, stdout=out_file, stderr=err_file,
                                text=True, start_new_session=True)
        killed_at = _watch(proc, limit_mb, timeout)
        if proc.poll() is None:  # still running at the deadline
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            return Measurement(stage, False, error=f"timed out after {timeout:.0f} s")
        out_file.seek(0)
        err_file.seek(0)
        out, err = out_file.read(), err_file.read()
    if killed_at is not None:
        return Measurement(stage, False, peak_mb=killed_at,
                           error=f"killed: resident memory passed the {limit_mb:.0f} MB limit")
    lines = [line for line in out.strip().splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (err.strip().splitlines() or ["no output"])[-1]
        return Measurement(stage, False, error=f"exit {proc.returncode}: {tail[:300]}")
    return Measurement(**json.loads(lines[-1]))


def _env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), **(extra or {})}
    # Imports as a user's installed copy does them: from cached bytecode (kept outside the
    # repository), even where the environment says not to write any.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.setdefault("PYTHONPYCACHEPREFIX", str(Path(tempfile.gettempdir()) / "loyalist-bench-pycache"))
    return env


def warm_bytecode() -> None:
    """Compile everything the stages import once, so no stage pays for compiling."""
    code = ("import commands.app, tui.app, core.evaluate, core.predict.clv, core.scale.run, "
            "core.segments.clusters, core.convert, sklearn.cluster, sklearn.metrics, pandas")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=_env(), check=True)


def _watch(proc: subprocess.Popen, limit_mb: float | None, timeout: float) -> float | None:
    """Wait for the child; with a limit, kill it when its RSS passes the limit and return
    the RSS seen then."""
    deadline = time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < deadline:
        kb = _status_kb("VmRSS", str(proc.pid)) if limit_mb is not None else None
        if kb is not None and kb / 1024 > limit_mb:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            return kb / 1024
        time.sleep(POLL_SECONDS)
    return None
