"""Validation results remembered per source, so a second command on unchanged files does
not check them again.

The data checks (core.validate) read every row of each table an analysis uses: at ten
million transactions that is seconds, repeated by every command. Their findings for one
table depend only on the file and how it is read, so they are kept in the workspace's
`.loyalist/checks.json` under a key made of:

- the file's path, size, modification time and first 64 KiB (as core.converted does for
  converted copies: an edit that keeps size and time stamp still shows in the first bytes);
- how it is read and checked: format, encoding and delimiter, the column mapping, date and
  number formats, declared ranges (the TableSource);
- the code of the checks themselves (a change to a rule re-checks everything);
- for warnings, the date that "after the as-of date" is judged against (none when judged
  against today and nothing was after it: UNDATED).

A changed key is a miss and the table is checked again. Full checks (with warnings: what
`data validate` and every analysis run) and errors-only checks (`data convert`) are kept
apart, so a cached entry always holds every finding of its kind; a full check writes the
errors-only entry too. An engine's findings (core.engines: examples by value, not row) are
kept apart again, under the engine's name. A cache file that cannot be read or is
not ours is ignored (and replaced on the next write); one that cannot be written is
skipped. Nothing here decides what is a finding: core.validate does, once per key.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.converted import HEAD_BYTES

if TYPE_CHECKING:
    from core.order_layout import OrderLayout
    from core.validate import Finding
    from core.workspace import TableSource

CACHE_FILE = Path(".loyalist") / "checks.json"  # inside the workspace folder
VERSION = 1
MAX_ENTRIES = 200  # the oldest go first: a workspace has six tables, a few as-of dates each
# The modules whose code decides the findings: hashed into every key.
RULE_MODULES = ("validate", "coerce", "contract", "numbers", "readers", "workspace", "check_cache", "order_layout",
                "likert", "engines")
ERRORS = "errors"  # errors-only checks; full checks are "all:<date warnings are judged against>"
LAYOUT = "orders"  # the transactions' order layout (core.order_layout), counted by the same read


def cache_path(root: Path) -> Path:
    return Path(root) / CACHE_FILE


@functools.cache
def _rules_version() -> str:
    core = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for name in RULE_MODULES:
        digest.update((core / f"{name}.py").read_bytes())
    return digest.hexdigest()


def file_key(path: Path, described: str) -> str | None:
    """The key of what is remembered about one file: the checking code, how the file is read
    (`described`), its size, time stamp and first 64 KiB; None when the file cannot be read."""
    try:
        stat = path.stat()
        with path.open("rb") as handle:
            head = hashlib.sha256(handle.read(HEAD_BYTES)).hexdigest()
    except OSError:
        return None
    parts = [_rules_version(), described, stat.st_size, stat.st_mtime_ns, head]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


def source_key(source: TableSource) -> str | None:
    """The key of one table's checks, or None when it cannot be had (a database table, a file
    that is gone): then the table is simply checked."""
    if source.database is not None:
        return None
    return file_key(source.path, repr((source.table, str(source.path.resolve()), source.format, source.read,
                                       source.parse, source.text, source.columns, source.ranges,
                                       source.missing_required, str(source.origin) if source.origin else None)))


class KeyedFile:
    """A workspace's JSON file of keyed entries, each stamped when written, the newest `limit`
    kept. One that cannot be read, or is not ours, reads as empty (`valid` drops damaged
    entries) and is replaced on the next write; one that cannot be written is skipped."""

    def __init__(self, path: Path, limit: int = MAX_ENTRIES, valid=lambda entry: True) -> None:
        self.path, self.limit = Path(path), limit
        self.entries: dict[str, dict[str, Any]] = {}
        try:
            saved = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError):  # none yet, or unreadable: start afresh
            return
        if isinstance(saved, dict) and saved.get("version") == VERSION and isinstance(saved.get("entries"), dict):
            self.entries = {k: v for k, v in saved["entries"].items() if isinstance(v, dict) and valid(v)}

    def write(self, new: dict[str, dict[str, Any]]) -> None:
        """Add these entries (stamped now) and write the file."""
        from core.errors import LoyalistError
        from core.export.safe import safe_write

        now = time.time()
        self.entries.update({key: {**entry, "written": now} for key, entry in new.items()})
        newest = sorted(self.entries.items(), key=lambda kv: kv[1].get("written", 0), reverse=True)
        text = json.dumps({"version": VERSION, "entries": dict(newest[:self.limit])}, ensure_ascii=False)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            safe_write(self.path, lambda tmp: tmp.write_text(text, encoding="utf-8"), force=True)
        except (OSError, LoyalistError):
            pass


def level(errors_only: bool, limit: str) -> str:
    return ERRORS if errors_only else f"all:{limit}"


# A full check judged against today that found no date after today holds on every later
# day too (no row can move into the future), so it is kept undated: a file is checked once,
# not once a day. One that found some is kept under its day, and checked again the next.
UNDATED = "all:undated"


def kinds(errors_only: bool, as_of: dt.date | None) -> tuple[str, ...]:
    """The kinds a check's findings may be kept under, looked up in this order."""
    if errors_only:
        return (ERRORS,)
    if as_of is not None:
        return (level(False, as_of.isoformat()),)
    return (level(False, dt.date.today().isoformat()), UNDATED)


def kind_of(findings: list[Finding], errors_only: bool, as_of: dt.date | None) -> str:
    """The kind new findings are kept under (kinds())."""
    if not errors_only and as_of is None and not any(f.rule == "date_after_as_of" for f in findings):
        return UNDATED
    return kinds(errors_only, as_of)[0]


class CheckCache:
    """The checks file of one workspace: read once, written once after new checks."""

    def __init__(self, root: Path) -> None:
        self.file = KeyedFile(cache_path(root), valid=lambda entry: isinstance(entry.get("findings"), list)
                              or isinstance(entry.get("layout"), dict))
        self.new: dict[str, dict[str, Any]] = {}

    def get(self, key: str | None, kind: str | tuple[str, ...]) -> list[Finding] | None:
        """The findings kept under this key (and the first of these kinds kept), or None (not
        kept, or not readable as findings)."""
        entry = next((e for k in ((kind,) if isinstance(kind, str) else kind) if (e := self._entry(key, k))), None)
        if entry is None:
            return None
        try:
            return [_finding(item) for item in entry["findings"]]
        except (TypeError, KeyError, ValueError):  # a damaged entry: check again
            return None

    def put(self, key: str | None, kind: str, findings: list[Finding]) -> None:
        if key is None:
            return
        self.new[f"{key}:{kind}"] = {"findings": [dataclasses.asdict(f) for f in findings]}

    def layout(self, key: str | None) -> OrderLayout | None:
        """The order layout the checks counted under this key, or None (not counted, or damaged)."""
        from core.order_layout import OrderLayout

        entry = self._entry(key, LAYOUT)
        return OrderLayout.from_entry(entry.get("layout")) if entry is not None else None

    def put_layout(self, key: str | None, layout: OrderLayout) -> None:
        if key is not None:
            self.new[f"{key}:{LAYOUT}"] = {"layout": layout.as_entry()}

    def _entry(self, key: str | None, kind: str) -> dict[str, Any] | None:
        """What is kept under this key and kind: added in this run, else read from the file."""
        if key is None:
            return None
        return self.new.get(f"{key}:{kind}") or self.file.entries.get(f"{key}:{kind}")

    def save(self) -> None:
        """Write the file if anything was added."""
        if self.new:
            self.file.write(self.new)
            self.new = {}


def _finding(item: dict[str, Any]) -> Finding:
    from core.validate import Finding

    values = {f.name: item[f.name] for f in dataclasses.fields(Finding)}
    values["rows"] = tuple(int(r) for r in values["rows"])
    values["count"] = int(values["count"])
    return Finding(**values)


# -- judged formats ----------------------------------------------------------------
# A text file's date and number formats are judged on its first rows each time a command
# opens it (core.workspace): for a CSV that is its first MiB read and parsed and dozens of
# trial parses, about 30 ms of every command. The judgement depends only on the file and how
# it is read, so it is remembered beside the checks, under the same kind of key. It is
# written when the tables are checked (core.invalid), so only a command that writes the
# checks writes it: opening a workspace to look at it (data inspect, the app) writes nothing.
FORMATS_FILE = Path(".loyalist") / "formats.json"


class JudgedFormats:
    """The formats file of one workspace: each entry is a table's column mappings as judged,
    under file_key of the file and how it is read."""

    def __init__(self, root: Path) -> None:
        self.file = KeyedFile(Path(root) / FORMATS_FILE, valid=lambda entry: isinstance(entry.get("columns"), list))

    def get(self, key: str | None) -> list[dict[str, Any]] | None:
        entry = self.file.entries.get(key) if key is not None else None
        return entry["columns"] if entry is not None else None

    def put(self, judged: dict[str, list[dict[str, Any]]]) -> None:
        """Remember these (key: columns) and write the file."""
        if judged:
            self.file.write({key: {"columns": columns} for key, columns in judged.items()})
