"""The Data screen's checks of a big workspace, run in a child process at a lower priority.

The tables list (core.inspect.inspect_workspace: a pass over every table) and the data
checks (core.validate.validation_result: every rule over every row, findings cached in
`.loyalist/checks.json`) take seconds of Polars work and GBs of memory at ten million rows.
Run in a thread of the app they share its memory and its two cores with the UI thread, and
the UI stalled 300 ms and more while they ran (bench.tui_peer, cold check cache). In a
child process with a lower CPU priority (nice) the UI thread keeps its frames; the child
opens the same workspace, runs the same two functions and hands back their Results
(frozen dataclasses of Polars tables, pickled) or, per task, the error as the app words it.

A small workspace is checked in a thread as before: starting a child (Python, Polars and
the checks imported afresh) costs more than its checks. So is a big one whose findings are
all in the check cache (the files unchanged since their last check): the cache answers in
tens of milliseconds, where the child took 1.5 s to start before it could answer (`plan`).
The tables list's row counts and date ranges are remembered per file too, in
`.loyalist/tables.json` under the check cache's key of the file (core.check_cache.source_key:
path, size, time stamp, first 64 KiB, how it is read, the reading code): a CSV's are a
parse of every row (5.5 s for the 1.3 GB bench CSV), Parquet's a fraction of a second. So
a warm big workspace starts the child only for a text file whose counts are not remembered.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import os
import pickle
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.result import Result
    from core.workspace import Workspace

APART_BYTES = 64 << 20  # files of this many bytes in all are checked in a child process
NICE = 10  # the child's CPU priority below the app's (Unix; ignored elsewhere)
POLL_SECONDS = 0.2  # how often the waiting worker looks whether it was cancelled
TASKS = ("inspect", "validate")
PARSED_FORMATS = frozenset({"csv", "json", "ndjson", "xlsx"})  # every row parsed for the tables list
TABLES_FILE = Path(".loyalist") / "tables.json"  # each file's rows and date range, by its check key


def remembered_counts(ws: Workspace) -> tuple[dict[str, dict], dict[str, str | None]]:
    """The tables whose row count and date range are remembered for their unchanged file,
    and every table's key (None: a database table, a file gone; never remembered)."""
    from core.check_cache import KeyedFile, source_key

    counting = _counting_code()
    keys = {table: f"{key}:{counting}" if (key := source_key(source)) else None
            for table, source in ws.sources.items()}
    saved = KeyedFile(Path(ws.root) / TABLES_FILE).entries
    known = {}
    for table, key in keys.items():
        entry = saved.get(key) if key else None
        try:
            known[table] = {"rows": int(entry["rows"]),
                            **{k: dt.date.fromisoformat(entry[k]) if entry[k] else None
                               for k in ("first_date", "last_date")}}
        except (TypeError, KeyError, ValueError):  # none, or damaged: counted again
            continue
    return known, keys


def tables_list(ws: Workspace) -> Result:
    """core.inspect.inspect_workspace, with remembered counts for unchanged files; the counts
    it had to read are remembered (a workspace that cannot be written to goes without)."""
    from core.check_cache import KeyedFile
    from core.inspect import inspect_workspace

    known, keys = remembered_counts(ws)
    result = inspect_workspace(ws, known)
    counted = {keys[row["table"]]: {"rows": row["rows"],
                                    **{k: row[k].isoformat() if row[k] else None for k in ("first_date", "last_date")}}
               for row in result.tables["tables"].iter_rows(named=True)
               if row["table"] not in known and keys.get(row["table"])}
    if counted:  # read again just before: another process may have added its own
        KeyedFile(Path(ws.root) / TABLES_FILE).write(counted)
    return result


@functools.cache
def _counting_code() -> str:
    """core/inspect.py's code, hashed into each key beside the check cache's (which holds
    the reading code): a change to how tables are counted counts them again."""
    import core.inspect

    return hashlib.sha256(Path(core.inspect.__file__).read_bytes()).hexdigest()[:16]


def checked_apart(ws: Workspace) -> bool:
    """Whether the workspace's checks are worth a child process: its files are big. Tables
    in a database are checked in the app (the child would open its connection again)."""
    total = 0
    for source in ws.sources.values():
        if source.database is not None:
            return False
        try:
            total += source.path.stat().st_size
        except OSError:
            return False
    return total >= APART_BYTES


def plan(ws: Workspace) -> tuple[str, ...]:
    """The tasks a big workspace's child must run: "validate" unless every table's findings
    are in the check cache (a cheap look: each file's size, time and first 64 KiB), and
    "inspect" when the checks need the child anyway or its text files are big and their
    counts not remembered (tables_list)."""
    from core.validate import all_remembered

    try:
        remembered = all_remembered(ws)
    except Exception:  # noqa: BLE001 - whatever the look met, the child's checks will say it
        remembered = False
    if not remembered:
        return TASKS
    known, _ = remembered_counts(ws)
    parsed = 0
    for table, source in ws.sources.items():
        if source.format in PARSED_FORMATS and table not in known:
            try:
                parsed += source.path.stat().st_size
            except OSError:
                return ("inspect",)
    return ("inspect",) if parsed and parsed >= APART_BYTES else ()


def run_apart(ws: Workspace, cancelled: Callable[[], bool],
              tasks: tuple[str, ...] = TASKS) -> Iterator[tuple[str, str, Any]]:
    """(task, "ok", Result) or (task, "error", the error described) for each of `tasks` as
    the child finishes it; nothing more once `cancelled()` turns true (the child is stopped)."""
    target = Path(ws.config_path or ws.root).resolve()
    code = str(Path(__file__).resolve().parent.parent)  # where tui/ is, whatever the working folder
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, (code, os.environ.get("PYTHONPATH"))))}
    errors = tempfile.TemporaryFile()  # a file, not a pipe: a chatty child cannot block on it
    child = subprocess.Popen([sys.executable, "-m", "tui.checks", str(target), *tasks], stdout=subprocess.PIPE,
                             stderr=errors, env=env)
    done = threading.Event()

    def stop_when_cancelled() -> None:
        while not done.wait(POLL_SECONDS):
            if cancelled():
                child.kill()
                return

    threading.Thread(target=stop_when_cancelled, daemon=True).start()
    answered = []
    try:
        while len(answered) < len(tasks):
            try:
                task, status, value = pickle.load(child.stdout)  # noqa: S301 - our own child's
            except (EOFError, pickle.UnpicklingError):
                break
            answered.append(task)
            yield task, status, value
    finally:
        done.set()
        if child.poll() is None:
            child.kill()
        child.wait()
        child.stdout.close()
    if len(answered) < len(tasks) and not cancelled():
        errors.seek(0)
        last = errors.read().decode("utf-8", "replace").strip().splitlines()[-1:]
        problem = f"the checks stopped: {last[0] if last else f'exit code {child.returncode}'}"
        for task in tasks:
            if task not in answered:
                yield task, "error", problem
    errors.close()


def check_here(ws: Workspace, tasks: tuple[str, ...] = TASKS) -> Iterator[tuple[str, str, Any]]:
    """The tasks run in this process (the child's side), each answer as it is ready."""
    from core.validate import validation_result

    for task, run in (("inspect", tables_list), ("validate", validation_result)):
        if task not in tasks:
            continue
        try:
            yield task, "ok", run(ws)
        except Exception as exc:  # noqa: BLE001 - told to the app as its own worker would
            from tui.state import describe_error

            yield task, "error", describe_error(exc)


def main(target: str, tasks: tuple[str, ...] = TASKS) -> None:
    if hasattr(os, "nice"):
        os.nice(NICE)
    from core.workspace import Workspace

    try:
        ws = Workspace.open(target, lazy=True)
        answers = check_here(ws, tasks)
    except Exception as exc:  # noqa: BLE001
        from tui.state import describe_error

        problem = describe_error(exc)
        answers = [(task, "error", problem) for task in tasks]
    for answer in answers:
        pickle.dump(answer, sys.stdout.buffer)
        sys.stdout.buffer.flush()


if __name__ == "__main__":
    main(sys.argv[1], tuple(sys.argv[2:]) or TASKS)
