"""The one place that prints results: Rich tables on a terminal, JSON or CSV for scripts.

Results go to stdout; notes and diagnostics go to stderr so pipes stay clean. Every text
that comes from user data (values, column and table names, notes, file names) is shown
literally: it goes into Rich as `Text`, or through `literal` into markup, never as markup
itself, and control characters are replaced (core.export.display.printable).
"""

from __future__ import annotations

import errno
import json
import sys
from collections.abc import Collection, Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl
from rich.console import Console, ConsoleDimensions
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from commands.enums import FileFormat, OutputFormat
from core.export import check_target, write_result
from core.export import columns as k
from core.export.display import column_formatter, format_value, printable
from core.export.tables import delimited_text
from core.result import Result
from core.workspace import Workspace

if TYPE_CHECKING:  # the spinner's module loads only on a terminal (Console.status imports it)
    from rich.status import Status

MAX_ROWS = 40  # rows per table shown on a terminal; --output writes all of them
# Piped or redirected output (scripts, files) has no width: tables are drawn at their own
# width, up to this, instead of Rich's 80 columns (which wraps or crops a wide table).
PIPED_WIDTH = 1_000


class _Console(Console):
    def __init__(self, *args, piped_width: int | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.piped_width = piped_width

    def on_broken_pipe(self) -> None:
        # Rich exits with 1 on a closed pipe; the CLI treats `| head` as success (commands.app).
        self.quiet = True
        raise BrokenPipeError(errno.EPIPE, "Broken pipe")

    @property
    def size(self) -> ConsoleDimensions:
        """Rich's size, but piped_width wide when the output is not a terminal and neither
        COLUMNS nor an explicit width says otherwise."""
        if (self.piped_width and self._width is None and not self.is_terminal
                and not (self._environ.get("COLUMNS") or "").isdigit()):
            return ConsoleDimensions(self.piped_width, super().size.height)
        return super().size

    @size.setter
    def size(self, new_size: tuple[int, int]) -> None:
        Console.size.fset(self, new_size)


stdout = _Console(highlight=False, soft_wrap=False, piped_width=PIPED_WIDTH)
stderr = _Console(stderr=True, highlight=False, soft_wrap=True)
_busy: Status | None = None  # the spinner of the running command, if on a terminal


def literal(text: object) -> str:
    """User text for a markup string: markup escaped, control characters replaced."""
    return escape(printable(str(text)))


def start_busy(text: str) -> None:
    """A spinner on stderr while a command works; nothing when stderr is piped."""
    global _busy
    if stderr.is_terminal and _busy is None:
        _busy = stderr.status(text)
        _busy.start()


def stop_busy() -> None:
    """Stop the spinner before anything is printed."""
    global _busy
    if _busy is not None:
        _busy.stop()
        _busy = None


def emit(
    result: Result,
    fmt: OutputFormat,
    output: Path | None = None,
    force: bool = False,
    *,
    hide: Collection[str] = (),
    hide_on_terminal: Collection[str] = (),
    file_format: FileFormat | None = None,
    workspace: Workspace | None = None,
) -> None:
    """Print a result in the chosen format and, with --output, write all of it to a file.

    `hide` names big tables (one row per customer) left out of the table and JSON
    printouts; `hide_on_terminal` only out of the table printout. `--format csv` prints
    the main table and `--output` writes everything, hidden or not.
    """
    stop_busy()
    if workspace is not None:  # so an exported report says where its numbers came from
        result = result.with_params(workspace=str(workspace.root))
    hidden = set(hide) | (set(hide_on_terminal) if fmt is OutputFormat.table else set())
    shown = replace(result, tables={k: v for k, v in result.tables.items() if k not in hidden})
    if fmt is OutputFormat.json:
        sys.stdout.write(json.dumps(shown.to_dict(), ensure_ascii=False, indent=2) + "\n")
    elif fmt is OutputFormat.csv:
        sys.stdout.write(delimited_text(result.main_table))
    else:
        print_result(shown)
    if output is not None:
        path = write_result(result, output, force=force, fmt=file_format.value if file_format else None)
        stderr.print(f"wrote {literal(path)}")
    elif fmt is not OutputFormat.csv and hidden & set(result.tables):
        left_out = literal(", ".join(t for t in result.tables if t in hidden))
        stderr.print(f"[dim]not shown: {left_out} (--format csv prints the first table; --output FILE "
                     "writes it: .csv/.parquet the first table, .xlsx/.json/.html every table)[/dim]")


def check_output(output: Path | None, force: bool) -> None:
    """Fail on an unwritable --output before any work, not after it."""
    if output is not None:
        check_target(output, force=force)


def print_result(result: Result, console: Console = stdout) -> None:
    """The result as the other renderers show it: every figure formatted from its kind
    (core.export.columns: money with cents, shares as percentages)."""
    console.print(Text(printable(result.title), style="bold"))
    if result.headline:
        head = Table(show_header=False, box=None, pad_edge=False)
        head.add_column(style="dim")
        head.add_column(justify="right")
        for key, value in result.headline.items():
            head.add_row(Text(printable(key.replace("_", " "))),
                         Text(format_value(value, k.value_kind(key, value, result.kinds))))
        console.print(head)
    for name, df in result.tables.items():
        console.print(rich_table(df, title=name.replace("_", " "), declared=result.kinds, table=name))
        if df.height > MAX_ROWS:
            console.print(f"[dim]… {df.height - MAX_ROWS} more rows (use --output FILE for all)[/dim]")
    for note in result.notes:
        console.print(Text(f"note: {printable(note)}", style="dim"))


def rich_table(df: pl.DataFrame, title: str | None = None, max_rows: int = MAX_ROWS,
               declared: Mapping[str, str] | None = None, table: str | None = None) -> Table:
    shown = Table(title=Text(printable(title)) if title else None, title_justify="left",
                  title_style="bold cyan")
    head = df.head(max_rows)
    kinds = k.kinds(df, declared, table)
    formats = [column_formatter(head[c], kinds[c]) for c in df.columns]
    rows = [[show(v) for show, v in zip(formats, row)] for row in head.iter_rows()]
    for i, (name, dtype) in enumerate(df.schema.items()):
        # Short columns keep their width; long text wraps instead of squeezing them away.
        widest = max([len(name)] + [len(r[i]) for r in rows])
        shown.add_column(Text(printable(name)), justify="right" if dtype.is_numeric() else "left",
                         min_width=min(widest, 14), overflow="fold")
    for row in rows:
        shown.add_row(*map(Text, row))
    return shown