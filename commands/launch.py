"""`loyalist`'s entry point: a plainly valid analysis command (commands.direct) runs without
Typer; everything else (help, usage errors, the other commands) goes to the Typer app
(commands.app.main), exactly as before. Both end the same way: a known error is one clear
line on stderr and its exit code, a bug is one line (the traceback with --debug or
LOYALIST_DEBUG=1), a closed pipe is not a failure."""

from __future__ import annotations

import os
import sys
from typing import Any

from commands import heap
from commands.enums import ExitCode


def main() -> None:
    heap.start()  # no garbage collection while starting up (commands.heap)
    from commands.direct import parse

    direct = parse(sys.argv[1:])
    if direct is None:
        from commands.app import main as typer_main

        typer_main()
        return
    try:
        code = run_direct(*direct)
    finally:  # output still buffered after an error exit may meet a closed pipe too
        flush_stdout()
        heap.end()
    sys.exit(code)  # as Typer ends, with 0 too


def run_direct(analysis: Any, values: dict[str, Any]) -> int:
    """Run one analysis command as the Typer command would (commands.analysis.invoke and
    commands.app.LoyalistGroup.invoke); its exit code."""
    from commands.calls import Extra, run_command

    heap.ready()  # the command's work begins
    with heap.importing():  # Polars, Rich and the exporters: nothing to collect while they load
        from commands.output import start_busy, stop_busy
    try:
        start_busy(f"loyalist {analysis.group} {analysis.cli_name}: working…")
        run_command(analysis, Extra(), values)
        sys.stdout.flush()  # a closed pipe shows here, not as noise at interpreter exit
        return ExitCode.OK
    except BrokenPipeError:  # `loyalist ... | head` stopped reading: that is not a failure
        silence_stdout()
        return ExitCode.OK
    except KeyboardInterrupt:  # as Typer answers it
        return 130
    except Exception as exc:
        if debugging():
            raise  # the spinner is stopped below, before the traceback is printed
        return say_failure(exc)
    finally:
        stop_busy()


def say_failure(exc: Exception) -> int:
    """One line on stderr for an error that ends a command; its exit code."""
    from commands.output import literal, stderr, stop_busy
    from core.errors import LoyalistError

    stop_busy()
    if isinstance(exc, LoyalistError):
        stderr.print(f"[bold red]error:[/bold red] {literal(exc)}", highlight=False)
        return exc.exit_code
    stderr.print(f"[bold red]internal error:[/bold red] {type(exc).__name__}: {literal(exc)} "
                 "(run with --debug for the traceback)", highlight=False)
    return ExitCode.ANALYSIS_FAILED


def debugging() -> bool:
    return os.environ.get("LOYALIST_DEBUG") == "1"


def silence_stdout() -> None:
    """Point stdout at /dev/null so nothing more is written to the closed pipe (Python docs,
    "Note on SIGPIPE")."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # not a real file (tests capture stdout)
        pass


def flush_stdout() -> None:
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        silence_stdout()
    except (OSError, ValueError):
        pass
