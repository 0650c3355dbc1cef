"""The UI thread first: the app's other threads run at a lower CPU priority.

On two cores, the rest of a big table's rows and the tables list (Polars using every core,
from thread workers) left the UI thread waiting for a core while it drew the first rows:
its own work there is 40-75 ms of CPU, its stall 90-170 ms. A thread's nice value only
matters when threads compete for a core, so an idle machine runs the workers as fast as
before; they stay lowered for the session, so on a machine busy with other programs the
app's reports yield to those too. Linux only (threads are tasks with their own nice
value); elsewhere, nothing.
"""

from __future__ import annotations

import os
import threading

BACKGROUND_NICE = 5  # about a third of the UI thread's share of a core it competes for
TASKS = "/proc/self/task"


def yield_to_ui() -> None:
    """Lower every thread of this process but the main (UI) thread and Textual's own to BACKGROUND_NICE:
    the calling worker, the other workers and Polars' thread pool. Called by the thread
    workers that run while the screen is drawn; a thread started later is lowered by the
    next call. Raising a priority again needs privileges, so it is never lowered twice."""
    if not hasattr(os, "setpriority") or not os.path.isdir(TASKS):
        return
    # Textual's own threads (textual-output writes the frames, textual-input reads the keys)
    # serve the UI thread: they keep its priority.
    kept = {threading.main_thread().native_id} | {
        t.native_id for t in threading.enumerate() if t.name.startswith("textual-")}
    try:
        tasks = [int(name) for name in os.listdir(TASKS)]
    except OSError:
        return
    for task in tasks:
        if task in kept:
            continue
        try:
            if os.getpriority(os.PRIO_PROCESS, task) < BACKGROUND_NICE:
                os.setpriority(os.PRIO_PROCESS, task, BACKGROUND_NICE)
        except OSError:  # the thread has ended, or this system does not allow it
            pass
