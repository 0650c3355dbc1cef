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
- for warnings, the date that "after the as-of date" is judged against.

A changed key is a miss and the table is checked again. Errors-only checks (what every
analysis runs) and full checks (`data validate`, with warnings) are kept apart, so a
cached entry always holds every finding of its kind. A cache file that cannot be read or is
not ours is ignored (and replaced on the next write); one that cannot be written is
skipped. Nothing here decides what is a finding: core.validate does, once per key.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.converted import HEAD_BYTES

if TYPE_CHECKING:
    from core.validate import Finding
    from core.workspace import TableSource

CACHE_FILE = Path(".loyalist") / "checks.json"  # inside the workspace folder
VERSION = 1
MAX_ENTRIES = 200  # the oldest go first: a workspace has six tables, a few as-of dates each
# The modules whose code decides the findings: hashed into every key.
RULE_MODULES = ("validate", "coerce", "contract", "numbers", "readers", "workspace", "check_cache")
ERRORS = "errors"  # errors-only checks; full checks are "all:<date warnings are judged against>"


def cache_path(root: Path) -> Path:
    return Path(root) / CACHE_FILE


@functools.cache
def _rules_version() -> str:
    core = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for name in RULE_MODULES:
        digest.update((core / f"{name}.py").read_bytes())
    return digest.hexdigest()


def source_key(source: TableSource) -> str | None:
    """The key of one table's checks, or None when it cannot be had (a database table, a file
    that is gone): then the table is simply checked."""
    if source.database is not None:
        return None
    try:
        stat = source.path.stat()
        with source.path.open("rb") as handle:
            head = hashlib.sha256(handle.read(HEAD_BYTES)).hexdigest()
    except OSError:
        return None
    described = repr((source.table, str(source.path.resolve()), source.format, source.read, source.parse,
                      source.text, source.columns, source.ranges, source.missing_required,
                      str(source.origin) if source.origin else None))
    parts = [_rules_version(), described, stat.st_size, stat.st_mtime_ns, head]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


def level(errors_only: bool, limit: str) -> str:
    return ERRORS if errors_only else f"all:{limit}"


class CheckCache:
    """The checks file of one workspace: read once, written once after new checks."""

    def __init__(self, root: Path) -> None:
        self.path = cache_path(root)
        self.entries: dict[str, dict[str, Any]] = {}
        self.changed = False
        try:
            saved = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError):  # none yet, or unreadable: start afresh
            return
        if isinstance(saved, dict) and saved.get("version") == VERSION and isinstance(saved.get("entries"), dict):
            self.entries = {k: v for k, v in saved["entries"].items()
                            if isinstance(v, dict) and isinstance(v.get("findings"), list)}

    def get(self, key: str | None, kind: str) -> list[Finding] | None:
        """The findings kept under this key, or None (not kept, or not readable as findings)."""
        if key is None:
            return None
        entry = self.entries.get(f"{key}:{kind}")
        if entry is None:
            return None
        try:
            return [_finding(item) for item in entry["findings"]]
        except (TypeError, KeyError, ValueError):  # a damaged entry: check again
            return None

    def put(self, key: str | None, kind: str, findings: list[Finding]) -> None:
        if key is None:
            return
        self.entries[f"{key}:{kind}"] = {"written": time.time(),
                                         "findings": [dataclasses.asdict(f) for f in findings]}
        self.changed = True

    def save(self) -> None:
        """Write the file if anything was added; a workspace that cannot be written to (a
        read-only folder) just goes without."""
        if not self.changed:
            return
        from core.errors import LoyalistError
        from core.export.safe import safe_write

        newest = sorted(self.entries.items(), key=lambda kv: kv[1].get("written", 0), reverse=True)
        text = json.dumps({"version": VERSION, "entries": dict(newest[:MAX_ENTRIES])}, ensure_ascii=False)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            safe_write(self.path, lambda tmp: tmp.write_text(text, encoding="utf-8"), force=True)
        except (OSError, LoyalistError):
            pass
        self.changed = False


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


def formats_key(path: Path, described: str) -> str | None:
    """The key of a file's judged formats: its path, size, time stamp and first 64 KiB, how it
    is read (`described`) and the code that judges; None when the file cannot be read."""
    try:
        stat = path.stat()
        with path.open("rb") as handle:
            head = hashlib.sha256(handle.read(HEAD_BYTES)).hexdigest()
    except OSError:
        return None
    parts = [_rules_version(), described, str(path.resolve()), stat.st_size, stat.st_mtime_ns, head]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


class JudgedFormats:
    """The formats file of one workspace: each entry is a table's column mappings as judged."""

    def __init__(self, root: Path) -> None:
        self.path = Path(root) / FORMATS_FILE
        self.entries: dict[str, dict[str, Any]] = {}
        try:
            saved = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError):
            return
        if isinstance(saved, dict) and saved.get("version") == VERSION and isinstance(saved.get("entries"), dict):
            self.entries = {k: v for k, v in saved["entries"].items()
                            if isinstance(v, dict) and isinstance(v.get("columns"), list)}

    def get(self, key: str | None) -> list[dict[str, Any]] | None:
        entry = self.entries.get(key) if key is not None else None
        return entry["columns"] if entry is not None else None

    def put(self, judged: dict[str, list[dict[str, Any]]]) -> None:
        """Remember these (key: columns) and write the file (a read-only workspace goes without)."""
        if not judged:
            return
        from core.errors import LoyalistError
        from core.export.safe import safe_write

        for key, columns in judged.items():
            self.entries[key] = {"written": time.time(), "columns": columns}
        newest = sorted(self.entries.items(), key=lambda kv: kv[1].get("written", 0), reverse=True)
        text = json.dumps({"version": VERSION, "entries": dict(newest[:MAX_ENTRIES])}, ensure_ascii=False)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            safe_write(self.path, lambda tmp: tmp.write_text(text, encoding="utf-8"), force=True)
        except (OSError, LoyalistError):
            pass
