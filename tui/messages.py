"""App-wide messages: what thread workers post back to the UI thread, and requests one
screen makes of the app.

Workers never touch widgets; they post one of these and the handler (on the UI thread)
hands the payload to widgets. Every worker message carries a `key` naming the inputs it
was computed from (the workspace, the chosen options...); a handler drops a message whose
key is no longer current, so a slow, stale run never overwrites a newer one.

Screen-private messages whose payload is not a Result (e.g. the Data screen's row
backend) may stay in their screen's module; anything another module posts or handles
belongs here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textual.message import Message

from core.result import Result


@dataclass(eq=False)
class ResultReady(Message):
    """An analysis finished in a worker."""

    key: Any  # identifies the inputs; compared by identity or == by the receiver
    task: str  # what was run, e.g. "segment", "profile", "compare", "migration"
    result: Result


@dataclass(eq=False)
class WorkFailed(Message):
    """A worker could not finish; `error` is one readable line (tui.state.describe_error)."""

    key: Any
    task: str
    error: str
    skippable: str | None = None  # the table whose invalid rows stopped it (tui.skip offers to skip them)


@dataclass(eq=False)
class OpenCustomer(Message):
    """Ask the app to open one customer's history (orders by channel, survey, scores).

    `scores` optionally carries the customer's row of the segmentation on screen (r/f/m
    scores, cluster, segment) so the history shows it; `segmentation` names it.
    """

    customer_id: str
    scores: dict[str, Any] | None = None
    segmentation: str | None = None
    as_of: dt.date | None = None  # orders after this date are left out (None: all)


@dataclass(eq=False)
class Exported(Message):
    """A file was written by the Export dialog (posted to the app)."""

    path: Path
    title: str  # the exported Result's title


@dataclass(eq=False)
class ResultPrepared(Message):
    """An analysis finished in a worker, which also made its display form
    (tui.widgets.result_view.prepare: formatted figures and cells, chart numbers), so the
    UI thread only mounts widgets."""

    key: Any
    task: str  # e.g. "report", "scale"
    prepared: Any  # tui.widgets.result_view.Prepared; its .result is the Result
