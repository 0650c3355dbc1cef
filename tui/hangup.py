"""The app ends, keeping unsaved work, when its terminal goes away.

Closing a terminal window or killing tmux hangs the terminal up. The kernel tells only the
session's leader (SIGHUP): the app when it was started directly, but make when it was started
with `make tui`, and make waits for the app. So the app handles SIGHUP and also looks at its
terminal every second: left alone, Textual's input thread read the hung-up terminal's end of
file again and again, and the app spun a core for as long as the machine ran.
"""

from __future__ import annotations

import os
import sys
import termios

CHECK_SECONDS = 1.0
HANGUP_EXIT = 129  # 128 + SIGHUP, as a shell reports a process the hang-up ended


def watched_terminal() -> int | None:
    """The app's terminal (stdin's descriptor) when there is one to watch, else None."""
    try:
        fd = sys.__stdin__.fileno()
    except (AttributeError, ValueError, OSError):
        return None
    return fd if os.isatty(fd) else None


def hung_up(fd: int) -> bool:
    """A hung-up terminal refuses even to tell its settings (EIO)."""
    try:
        termios.tcgetattr(fd)
    except termios.error:
        return True
    return False
