"""The app ends when its terminal goes away (tui.hangup), in a real pseudo-terminal: started
directly (the kernel's SIGHUP reaches the app) and under a parent that, like make, takes the
SIGHUP itself and waits for the app. Before, the second kept the app alive at 100% of a core.
Under make, up to a second passes before the app's check sees the hang-up, and the screen
refreshes meanwhile. Textual's writer thread died on the first write to the hung-up terminal, and
once its queue of 30 writes was full, the app blocked for good (tui.hangup.SurvivingOutput). The
third case widens that second to five, so that the queue fills on any machine."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import shutil
import signal
import struct
import sys
import termios
import time
from pathlib import Path

import pytest

from tui.hangup import HANGUP_EXIT

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "fixtures" / "sample"
DRAWN = b"Loyalist"  # in the header: the app has started and drawn its screen
SECONDS = 60  # generous deadlines for a loaded CI machine: a pass takes a few seconds

# A parent that acts as make does: it takes the hang-up's SIGHUP and waits for its child.
LIKE_MAKE = """
import signal, subprocess, sys
signal.signal(signal.SIGHUP, lambda *_: None)
app = subprocess.Popen(sys.argv[2:])
open(sys.argv[1], "w").write(str(app.pid))
sys.exit(app.wait())
"""
# The app, with its terminal checked every argv[1] seconds instead of every CHECK_SECONDS.
SLOW_CHECK = """
import runpy, sys
import tui.hangup
tui.hangup.CHECK_SECONDS = float(sys.argv[1])
sys.argv = ["commands", "tui", *sys.argv[2:]]
runpy.run_module("commands", run_name="__main__")
"""


def wait_for_output(master: int, wanted: bytes) -> None:
    seen, deadline = b"", time.monotonic() + SECONDS
    while wanted not in seen:
        left = deadline - time.monotonic()
        assert left > 0, f"the app drew no {wanted!r} in {SECONDS} s: {seen[-500:]!r}"
        if select.select([master], [], [], left)[0]:
            try:
                seen += os.read(master, 65536)
            except OSError:  # the app ended
                break
    assert wanted in seen


def ended_within(pid: int, seconds: float) -> bool:
    """Whether the process (not necessarily our child) ends within `seconds`: its pidfd turns readable."""
    try:
        pidfd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        return bool(select.select([pidfd], [], [], seconds)[0])
    finally:
        os.close(pidfd)


@pytest.mark.skipif(not hasattr(os, "pidfd_open"), reason="needs Linux's pidfd_open")
@pytest.mark.parametrize(("parent", "check_seconds"), [("none", None), ("like make", None), ("like make", 5)],
                         ids=["started directly", "like make", "like make, writes before the check"])
def test_the_app_ends_when_its_terminal_hangs_up(tmp_path: Path, parent: str, check_seconds: float | None) -> None:
    workspace = tmp_path / "ws"
    shutil.copytree(SAMPLE, workspace, ignore=shutil.ignore_patterns(".loyalist"))
    app = [sys.executable, "-m", "commands", "tui", str(workspace)]
    if check_seconds is not None:
        app = [sys.executable, "-c", SLOW_CHECK, str(check_seconds), str(workspace)]
    pid_file = tmp_path / "app.pid"
    command = app if parent == "none" else [sys.executable, "-c", LIKE_MAKE, str(pid_file), *app]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TERM": "xterm-256color"}
    env.pop("TEXTUAL", None)

    child, master = pty.fork()  # the child leads a new session whose terminal is the pty
    if child == 0:
        try:
            os.chdir(ROOT)
            os.execve(command[0], command, env)
        finally:
            os._exit(127)
    app_pid = child
    try:
        fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        wait_for_output(master, DRAWN)
        if parent != "none":
            app_pid = int(pid_file.read_text())
        os.close(master)  # the terminal goes away: the pty hangs up
        master = -1
        assert ended_within(app_pid, SECONDS), "the app outlived its terminal"
        _, status = os.waitpid(child, 0)
        # the app's own exit after it kept any unsaved work, not the SIGHUP's kill
        assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == HANGUP_EXIT, status
    finally:
        if master >= 0:
            os.close(master)
        for pid in {app_pid, child}:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            os.waitpid(child, os.WNOHANG)
        except ChildProcessError:
            pass
