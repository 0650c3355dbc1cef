"""What a running worker is doing and for how long, on a status line, until it ends.

A screen starts a RunTicker when it starts a worker; the worker runs its work inside
`ticker.tracking()` (core.progress), so each step an analysis reports is shown, and a
cancelled worker stops at the next step. The worker only stores the latest step (one
attribute, read by the UI thread's timer): no message per step, no widget touched from
the thread. The line says the elapsed time twice a second, so a long run never looks stuck.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager

from textual.timer import Timer
from textual.widget import Widget
from textual.worker import get_current_worker

from core.progress import tracking

BAR = 12  # cells of the bar shown when a step knows its total
clock = time.monotonic  # the run's stopwatch (tests that take screenshots stop it)


class RunTicker:
    def __init__(self, owner: Widget, show: Callable[[str], None], title: str, hint: str = "escape cancels") -> None:
        self.owner, self.show, self.title, self.hint = owner, show, title, hint
        self.latest: tuple[str, int | None, int | None] = ("starting", None, None)
        self.started = clock()
        self.timer: Timer | None = None

    def start(self) -> RunTicker:
        self.started = clock()
        self.timer = self.owner.set_interval(0.5, self.refresh)
        self.refresh()
        return self

    def stop(self) -> float:
        """Stop updating the line; returns the seconds the run took."""
        if self.timer is not None:
            self.timer.stop()
            self.timer = None
        return clock() - self.started

    @property
    def running(self) -> bool:
        return self.timer is not None

    def tracking(self) -> AbstractContextManager[None]:
        """Call in the worker thread: steps are recorded here, and the worker's cancel stops the work."""
        worker = get_current_worker()
        return tracking(self.record, lambda: worker.is_cancelled)

    def record(self, what: str, done: int | None, total: int | None) -> None:
        self.latest = (what, done, total)  # one assignment: read whole by the UI thread

    def text(self) -> str:
        what, done, total = self.latest
        elapsed = clock() - self.started
        far = ""
        if total:
            filled = round(BAR * (done or 0) / total)
            far = f" {'█' * filled}{'░' * (BAR - filled)} {done}/{total}"
        return f"{self.title}: {what}…{far} · {elapsed:.0f} s · {self.hint}"

    def refresh(self) -> None:
        self.show(self.text())
