"""An analysis's options: declared once with type, default, bounds and help, and checked
the same way whether they come from the command line, a recipe or the app's form.

Types (the `type` of an Option):
- INT, FLOAT: numbers, within `low`..`high` when given (inclusive);
- BOOL: true or false; TEXT: free text; DATE: a day (a date, or text YYYY-MM-DD);
- CHOICE: one of `choices`;
- LIST: names (a list, or text "a, b, c"); PAIRS: name=number pairs (a mapping, or text
  "control=50, treatment=50");
- PATH: a file the analysis reads itself; TABLE: a table file (CSV, Parquet, XLSX...) the
  registry reads into a LazyFrame before the analysis runs.

An option whose default is None is optional: None (empty in a form) lets the analysis
decide, e.g. k chosen by silhouette. `required=True` means there is no default to fall
back on. Nothing here imports Polars: declaring options costs nothing.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import InputError

INT, FLOAT, BOOL, TEXT, DATE, CHOICE, LIST, PAIRS, PATH, TABLE = (
    "int", "float", "bool", "text", "date", "choice", "list", "pairs", "path", "table")
TYPES = (INT, FLOAT, BOOL, TEXT, DATE, CHOICE, LIST, PAIRS, PATH, TABLE)

_WHAT = {INT: "a whole number", FLOAT: "a number", BOOL: "true or false", TEXT: "text",
         DATE: "a date (YYYY-MM-DD)", LIST: "a list of names", PAIRS: "name=number pairs",
         PATH: "a file path", TABLE: "a table file (CSV, Parquet, XLSX...)"}
_EXAMPLE = {INT: "5", FLOAT: "0.5", BOOL: "true", TEXT: '"..."', DATE: "2024-06-30",
            LIST: '["a", "b"]', PAIRS: "{ control = 50, treatment = 50 }", PATH: '"file.toml"',
            TABLE: '"table.csv"'}


class OptionError(InputError):
    """A value an option cannot take; `option` names it so callers can add where it came from."""

    def __init__(self, option: Option, message: str, fix: str) -> None:
        self.option = option
        super().__init__(message, fix=fix)


@dataclass(frozen=True)
class Option:
    name: str  # the keyword argument of the analysis function, and the key in a recipe
    type: str  # one of TYPES
    default: Any = None
    help: str = ""  # one line: what it does and what empty means
    title: str = ""  # the app's label (default: from the name, "window_days" -> "Window days")
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    required: bool = False  # no default: the user must give it
    flags: tuple[str, ...] = ()  # CLI spellings when not --name-with-dashes: main flag first, then
    #                              aliases ("--experiment", "-e"); a bool's "--clv/--no-clv"
    repeat: bool = False  # LIST on the CLI: the flag once per value (--compare A --compare B)
    cli: bool = True  # offered on the command line
    form: bool = True  # offered in the app's option form
    sample: str | None = None  # an example value as TOML, for `export init` and fixes (default: by type)

    def __post_init__(self) -> None:
        if self.type not in TYPES:
            raise ValueError(f"option {self.name}: type must be one of {TYPES}, got {self.type!r}")
        if (self.type == CHOICE) != bool(self.choices):
            raise ValueError(f"option {self.name}: choices go with type CHOICE, and only with it")
        if self.required and self.default is not None:
            raise ValueError(f"option {self.name}: a required option has no default")
        if self.default is not None:
            try:
                self.convert(self.default)
            except OptionError as exc:  # a default its own checks refuse is a declaration bug
                raise ValueError(f"option {self.name}: its default {exc.message}") from None

    # -- naming -------------------------------------------------------------------------

    @property
    def optional(self) -> bool:
        """None is a value the analysis understands (it then decides)."""
        return self.default is None and not self.required

    @property
    def label(self) -> str:
        return self.title or self.name.replace("_", " ").capitalize()

    @property
    def flag(self) -> str:
        """The main CLI flag, e.g. --window (a bool's --clv, without its --no-clv)."""
        long = next((f for f in self.flags if f.startswith("--")), "--" + self.name.replace("_", "-"))
        return long.split("/")[0]

    @property
    def keys(self) -> tuple[str, ...]:
        """The names a recipe may use: the option's name and its long flags' (`as_of` for --as-of)."""
        names = [self.name]
        for flag in self.flags:
            for part in flag.split("/"):
                if part.startswith("--") and not part.startswith("--no-"):
                    names.append(key_of(part))
        return tuple(dict.fromkeys(names))

    def what(self) -> str:
        if self.type == CHOICE:
            return "one of " + ", ".join(self.choices)
        return _WHAT[self.type]

    def described(self) -> str:
        """The help where a default is spelled out: "...; empty: X" reads "... (default: X)"."""
        return re.sub(r"; empty: (.*)$", r" (default: \1)", self.help)

    def example(self) -> str:
        if self.sample is not None:
            return self.sample
        if self.default is not None:
            return toml_literal(self.default)
        if self.type == CHOICE:
            return toml_literal(self.choices[0])
        if self.type in (INT, FLOAT) and self.low is not None:
            return toml_literal(int(self.low) if self.type == INT else float(self.low))
        return _EXAMPLE[self.type]

    # -- checking -----------------------------------------------------------------------

    def fail(self, message: str, fix: str | None = None) -> OptionError:
        return OptionError(self, message, fix or f"give {self.name} as {self.what()}, e.g. "
                           f"{self.name} = {self.example()}")

    def range(self) -> str:
        if self.low is not None and self.high is not None:
            return f"from {self.low:g} to {self.high:g}"
        return f"of at least {self.low:g}" if self.low is not None else f"of at most {self.high:g}"

    def convert(self, value: Any) -> Any:
        """The value checked and in its canonical form (None stays None); OptionError if it cannot be."""
        if value is None:
            return None
        kind = self.type
        if kind == INT:
            if isinstance(value, bool) or not isinstance(value, int):
                if not (isinstance(value, float) and value.is_integer()):
                    raise self.fail(f"{self.name} must be {self.what()}, got {value!r}")
                value = int(value)
            return self._bounded(value)
        if kind == FLOAT:
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise self.fail(f"{self.name} must be {self.what()}, got {value!r}")
            return self._bounded(float(value))
        if kind == BOOL:
            if not isinstance(value, bool):
                raise self.fail(f"{self.name} must be {self.what()}, got {value!r}")
            return value
        if kind == DATE:
            return self._date(value)
        if kind in (TEXT, CHOICE):
            if not isinstance(value, str):
                raise self.fail(f"{self.name} must be {'text' if kind == TEXT else self.what()}, got {value!r}")
            if kind == CHOICE and value not in self.choices:
                raise self.fail(f"{self.name} must be {self.what()}, got {value!r}")
            return value
        if kind == LIST:
            return self._list(value)
        if kind == PAIRS:
            return self._pairs(value)
        if kind == TABLE and hasattr(value, "collect"):  # a table already read (a LazyFrame)
            return value
        if isinstance(value, (str, os.PathLike)) and str(value).strip():
            return Path(value).expanduser()
        raise self.fail(f"{self.name} must be {self.what()}, got {value!r}")

    def _bounded(self, value: int | float) -> int | float:
        if self.low is None and self.high is None:
            return value
        fix = f"give {self.name} a value {self.range()}"
        if self.low is not None and value < self.low:
            raise self.fail(f"{self.name} must be at least {self.low:g}, got {value:g}", fix)
        if self.high is not None and value > self.high:
            raise self.fail(f"{self.name} must be at most {self.high:g}, got {value:g}", fix)
        return value

    def _date(self, value: Any) -> dt.date:
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value.strip())
            except ValueError:
                pass
        raise self.fail(f"{self.name} must be {self.what()}, got {value!r}")

    def _list(self, value: Any) -> tuple[str, ...] | None:
        if isinstance(value, str):
            items = [part.strip() for part in value.split(",")]
        elif isinstance(value, (list, tuple)) and all(isinstance(v, (str, int, float)) and not isinstance(v, bool)
                                                      for v in value):
            items = [str(v).strip() for v in value]
        else:
            raise self.fail(f"{self.name} must be {self.what()}, got {value!r}")
        items = [item for item in items if item]
        return tuple(items) or None

    def _pairs(self, value: Any) -> dict[str, float] | None:
        if isinstance(value, str):
            pairs: dict[str, Any] = {}
            for part in (p.strip() for p in value.split(",")):
                if not part:
                    continue
                name, sep, number = part.partition("=")
                try:
                    pairs[name.strip()] = float(number) if sep and name.strip() else None
                except ValueError:
                    pairs[name.strip()] = None
                if pairs[name.strip()] is None:
                    raise self.fail(f"cannot read the {self.label.lower()} {value!r}",
                                    "give name=number pairs, e.g. control=50,treatment=50 "
                                    f"(in a recipe: {self.name} = {{ control = 50, treatment = 50 }})")
            value = pairs
        if not isinstance(value, Mapping) or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in value.values()):
            raise self.fail(f"{self.name} must be {self.what()}, got {value!r}")
        return {str(k): float(v) for k, v in value.items()} or None


def key_of(flag: str) -> str:
    """A CLI flag as a recipe key: --as-of -> as_of."""
    return flag.lstrip("-").replace("-", "_")


def toml_literal(value: Any) -> str:
    """A value as TOML writes it (dates bare, text quoted, lists and tables inline)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"TOML has no literal for {value!r}")
        return repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value == dt.datetime.combine(value.date(), dt.time()) else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_literal(v) for v in value) + "]"
    if isinstance(value, Mapping):
        items = ", ".join(f"{_toml_key(str(k))} = {toml_literal(v)}" for k, v in value.items())
        return "{ " + items + " }" if items else "{}"
    raise ValueError(f"TOML has no literal for {type(value).__name__}")


def _toml_string(text: str) -> str:
    out = []
    for ch in text:
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _toml_key(key: str) -> str:
    bare = key and all(ch.isascii() and (ch.isalnum() or ch in "-_") for ch in key)
    return key if bare else _toml_string(key)
