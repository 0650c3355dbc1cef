"""The app ends, keeping unsaved work, when its terminal goes away.

Closing a terminal window or killing tmux hangs the terminal up. The kernel tells only the
session's leader (SIGHUP): the app when it was started directly, but make when it was started
with `make tui`, and make waits for the app. So the app handles SIGHUP and also looks at its
terminal every second: left alone, Textual's input thread read the hung-up terminal's end of
file again and again, and the app spun a core for as long as the machine ran.

The driver's output survives the hang-up too (surviving_driver): Textual's writer thread died on
the first write to the hung-up terminal (EIO), and once its queue of 30 writes was full, the
next screen refresh blocked the event loop for good, with the check and the SIGHUP handler in it.
"""

from __future__ import annotations

import os
import sys
import termios
from typing import IO, Any

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


class SurvivingOutput:
    """The terminal's output file, whose writes and flushes after a hang-up are dropped instead of
    raising: nobody can see them, and a raise ended the writer thread that Textual writes through."""

    def __init__(self, file: IO[str]) -> None:
        self._file = file
        self.lost = False  # a write failed: the terminal is gone

    def write(self, text: str) -> int:
        if not self.lost:
            try:
                return self._file.write(text)
            except OSError:
                self.lost = True
        return len(text)

    def flush(self) -> None:
        if not self.lost:
            try:
                self._file.flush()
            except OSError:
                self.lost = True

    def __getattr__(self, name: str) -> Any:  # fileno, isatty, encoding: the file's own
        return getattr(self._file, name)


def surviving_driver(driver_class: type) -> type:
    """`driver_class` with its output in a SurvivingOutput, when it is Textual's Linux driver (the
    one with a writer thread on a terminal; the headless driver of tests writes nowhere)."""
    from textual.drivers.linux_driver import LinuxDriver

    if not issubclass(driver_class, LinuxDriver):
        return driver_class

    class SurvivingDriver(driver_class):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            # LinuxDriver hands self._file to its WriterThread when the app starts
            self._file = SurvivingOutput(self._file)

    return SurvivingDriver
