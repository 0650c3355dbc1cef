"""An analysis command line read without Typer, when it is plainly valid (issue 14).

`loyalist segment rfm -w WS -o out.parquet --force` is most of what scripts run. Typer
builds the whole command (every option's type resolved, click's parser and contexts)
before the first row is read: with its import, about a tenth of `segment rfm` at a million
rows. `parse` reads such a line itself, but only when every word is one it is sure of:

- GROUP COMMAND of a registry analysis whose command has no Extra (commands.calls.Extra:
  those add flags or behaviour only the Typer command knows), then options only;
- `--flag value`, `--flag=value` or a short `-w value`; a flag at most once (but an option
  given once per value, --compare A --compare B);
- a value Typer would take as it is: a number of digits within the option's bounds, one of
  the choices, a date as YYYY-MM-DD, text or a path not starting with "-"; a default the
  option's own type already has.

Anything else (`--help`, `--debug`, a typo, a value out of bounds, a repeated flag, a
short flag with its value attached) returns None and the line goes to Typer, which
answers exactly as before, with its own messages. So the values handed to
commands.calls.run_command are the ones Typer would hand over; tests/commands/test_direct.py
compares the two for every such command.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

from commands.enums import FileFormat, OutputFormat
from core.registry import (BOOL, CHOICE, DATE, FLOAT, INT, LIST, PAIRS, PATH, TABLE, TEXT, Analysis, Option, analyses,
                           groups)

# The command groups with a module of their own (commands/NAME.py, commands.app.MODULES): it
# adds what the registry cannot say. A group without one is all registry. Of the groups with
# one, these make all their commands with commands.analysis.add_analysis_commands, and the
# kinds they give an Extra are left to Typer.
GROUP_MODULES = ("data", "segment", "scale", "report", "predict", "export")
PLAIN_MODULES = ("segment", "report", "predict")
WITH_EXTRA = frozenset({"report.experiment"})  # commands/report.py; tests check this list is complete

_DIGITS = re.compile(r"0|[1-9]\d{0,17}")  # no sign, no leading zero, no "1_000": those are Typer's to read
_DECIMAL = re.compile(r"(0|[1-9]\d{0,17})(\.\d{1,18})?")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")

# flag -> (name, kind): the options every analysis command shares (commands.options)
SHARED_FLAGS: dict[str, tuple[str, Any]] = {
    "--workspace": ("workspace", Path), "-w": ("workspace", Path),
    "--skip-invalid": ("skip_invalid", True),
    "--format": ("fmt", OutputFormat), "-f": ("fmt", OutputFormat),
    "--output": ("output", Path), "-o": ("output", Path),
    "--force": ("force", True),
    "--output-format": ("file_format", FileFormat),
    "--pseudonymise": ("pseudonymise", True), "--pseudonymize": ("pseudonymise", True),
    "--min-count": ("min_count", "min_count"),
}
SHARED_DEFAULTS = {"workspace": None, "skip_invalid": False, "fmt": OutputFormat.table, "output": None,
                   "force": False, "file_format": None, "pseudonymise": False, "min_count": 10}
_PLAIN_TYPES = {INT: int, FLOAT: float, CHOICE: str, TEXT: str, PAIRS: str, LIST: str, PATH: Path, TABLE: Path,
                DATE: dt.datetime}


def command(args: list[str]) -> Analysis | None:
    """The analysis `GROUP COMMAND` names, if its command can be read here."""
    if len(args) < 2:
        return None
    group = next((g for g in groups() if g.name == args[0] and not g.single), None)
    if group is None or (group.name in GROUP_MODULES and group.name not in PLAIN_MODULES):
        return None
    return next((a for a in analyses(group.name) if a.cli_name == args[1] and a.kind not in WITH_EXTRA), None)


def parse(args: list[str]) -> tuple[Analysis, dict[str, Any]] | None:
    """The analysis and the values Typer would give its command (commands.calls.run_command),
    or None: Typer reads this line."""
    analysis = command(args)
    if analysis is None:
        return None
    flags = dict(SHARED_FLAGS)
    repeated: set[str] = set()
    values: dict[str, Any] = dict(SHARED_DEFAULTS)
    for option in analysis.options:
        if not option.cli:
            continue
        if option.type == BOOL:
            dashed = option.name.replace("_", "-")
            for spelling in option.flags or (f"--{dashed}/--no-{dashed}",):  # Typer's own spelling
                on, _, off = spelling.partition("/")
                flags[on] = (option.name, True)
                if off:
                    flags[off] = (option.name, False)
            values[option.name] = bool(option.default)
            continue
        if option.type not in _PLAIN_TYPES:
            return None
        for flag in option.flags or (option.flag,):
            flags[flag] = (option.name, option)
        if option.repeat:  # given once per value
            repeated.add(option.name)
            values[option.name] = option.default  # not given: Typer's None
            continue
        if option.required:
            values.pop(option.name, None)
        elif option.default is None or _has_type(option, option.default):
            values[option.name] = option.default
        else:
            return None
    given: set[str] = set()
    words = iter(args[2:])
    for word in words:
        if not word.startswith("-") or word == "--":
            return None
        flag, equals, attached = word.partition("=") if word.startswith("--") else (word, "", "")
        if flag not in flags:
            return None
        name, kind = flags[flag]
        if name in given and name not in repeated:
            return None
        given.add(name)
        if isinstance(kind, bool):
            if equals:
                return None
            values[name] = kind
            continue
        text = attached if equals else next(words, None)
        value = _value(kind, text)
        if value is None:
            return None
        if name in repeated:
            values[name] = [*(values[name] or ()), value]
        else:
            values[name] = value
    if any(o.required and o.name not in values for o in analysis.options if o.cli):
        return None
    return analysis, values


def _value(kind: Any, text: str | None) -> Any:
    """What Typer makes of `text` for this kind of option; None: leave it to Typer."""
    if not text or text.startswith("-"):
        return None
    if kind is Path:
        return Path(text)
    if kind in (OutputFormat, FileFormat):
        return kind(text) if text in {m.value for m in kind} else None
    if kind == "min_count":
        return int(text) if _DIGITS.fullmatch(text) and int(text) >= 1 else None
    option: Option = kind
    if option.type == INT:
        return _bounded(option, int(text)) if _DIGITS.fullmatch(text) else None
    if option.type == FLOAT:
        return _bounded(option, float(text)) if _DECIMAL.fullmatch(text) else None
    if option.type == CHOICE:
        return text if text in option.choices else None
    if option.type == DATE:
        if not _DAY.fullmatch(text):
            return None
        try:
            return dt.datetime.strptime(text, "%Y-%m-%d")
        except ValueError:
            return None
    if option.type in (PATH, TABLE):
        return Path(text)
    return text  # TEXT, PAIRS, LIST given once


def _bounded(option: Option, number: float) -> float | None:
    if option.low is not None and number < option.low:
        return None
    if option.high is not None and number > option.high:
        return None
    return number


def _has_type(option: Option, value: Any) -> bool:
    """A default Typer hands over as it is (commands.lean_parse._has_type)."""
    if option.type == CHOICE:
        return value in option.choices
    if option.type == DATE:
        return False
    wanted = _PLAIN_TYPES[option.type]
    return type(value) is wanted if wanted in (int, float) else isinstance(value, wanted)
