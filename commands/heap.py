"""The command-line process's garbage collector around start-up (issue 14).

Start-up makes tens of thousands of objects that live until the process exits (modules,
classes, Typer's commands, Polars' and Rich's tables of names). Collecting while they are
made frees nothing and cost about 20 ms of `segment rfm`; at exit the interpreter's last
collection walks them all once more (about 50 ms). So the process that `main` runs:

- collects nothing while it starts (`start`, then `importing` around a command's imports);
- once a command's work begins (`ready`), freezes what start-up made (later collections
  never walk it again: it lives until exit anyway) and collects as usual from there;
- at exit (`end`) freezes the rest, so the last collection has nothing to walk.

Only a process that `main` started is managed: in-process callers (tests through Typer's
CliRunner, the app) keep Python's defaults, so nothing of theirs is frozen.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

_managed = False


def start() -> None:
    """The command line starts: no collection until a command's work begins."""
    global _managed
    _managed = True
    gc.disable()


def ready() -> None:
    """A command's work begins: what start-up made is frozen, collection resumes."""
    if _managed and not gc.isenabled():
        gc.freeze()
        gc.enable()


@contextmanager
def importing() -> Iterator[None]:
    """No collection while a command imports its modules (Polars, Rich, the exporters)."""
    if not _managed:
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        ready()


def end() -> None:
    """The process exits: what is left is frozen, so the last collection skips it."""
    if _managed:
        gc.freeze()
