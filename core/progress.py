"""Progress and cancellation for long work, with no UI in core.

A caller that can show progress (the app's thread workers) wraps the work in
`tracking(report, is_cancelled)`; long analyses call `step("what", done, total)` at safe
points, between whole pieces of work. Each step tells the caller what is being done and,
if the caller has cancelled, raises Cancelled there, so a cancelled run stops at the next
step instead of running to the end unseen, and nothing after that step is computed or
written. Without a tracker (the CLI, tests, recipes) `step` does nothing.

The tracker lives in a context variable: each worker thread has its own, and no analysis
signature changes to carry it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


class Cancelled(Exception):
    """The caller cancelled the work; raised at the next step (not a LoyalistError: nothing failed)."""


@dataclass(frozen=True)
class Tracker:
    report: Callable[[str, int | None, int | None], None]  # (what, done, total): total None when unknown
    is_cancelled: Callable[[], bool]


_tracker: ContextVar[Tracker | None] = ContextVar("loyalist_progress", default=None)


@contextmanager
def tracking(report: Callable[[str, int | None, int | None], None],
             is_cancelled: Callable[[], bool] = lambda: False) -> Iterator[None]:
    token = _tracker.set(Tracker(report, is_cancelled))
    try:
        yield
    finally:
        _tracker.reset(token)


def step(what: str, done: int | None = None, total: int | None = None) -> None:
    """Say what comes next (and how far, when the total is known); raise Cancelled if the
    caller has cancelled."""
    tracker = _tracker.get()
    if tracker is None:
        return
    if tracker.is_cancelled():
        raise Cancelled(what)
    tracker.report(what, done, total)
