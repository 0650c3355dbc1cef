"""Converted copies: what a Parquet made by `data convert` was made from, and whether that holds.

`data convert` writes the record below into the Parquet file's own metadata, so it travels
with the file. A workspace uses the copy only while its source still has the same size,
modification time and first bytes, and the table's options in loyalist.toml are the
ones it was converted with; otherwise it reads the source again and says why. A copy that
silently outlives an edit to its source would give old numbers without a word.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

METADATA_KEY = "loyalist.converted_from"
HEAD_BYTES = 1 << 16  # hashed to catch an edit that kept the size and the time stamp


@dataclass(frozen=True)
class Verdict:
    current: bool  # the copy may be used in place of its source
    reason: str  # why, in words for `data inspect` and the stderr note


def fingerprint(source: Path, options: dict[str, Any]) -> dict[str, Any]:
    """What a copy records about its source: taken before the source is read."""
    stat = source.stat()
    return {"file": source.name, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns,
            "head_sha256": _head_hash(source), "options_sha256": options_hash(options)}


def metadata(source: Path, options: dict[str, Any]) -> dict[str, str]:
    """The Parquet key-value metadata that marks a file as a converted copy of `source`."""
    return {METADATA_KEY: json.dumps(fingerprint(source, options), sort_keys=True)}


SCALES_KEY = "loyalist.likert_scales"  # {column: scale}: Likert columns read from labels (core.likert)


def scales_metadata(scales: dict[str, str]) -> dict[str, str]:
    """The Parquet metadata that keeps, in a copy holding their points, which columns were Likert
    labels and of which scale (their range goes with it)."""
    return {SCALES_KEY: json.dumps(scales, sort_keys=True)} if scales else {}


def recorded_scales(copy: Path) -> dict[str, str]:
    import polars as pl

    try:
        scales = json.loads(pl.read_parquet_metadata(copy).get(SCALES_KEY) or "{}")
    except Exception:  # not ours, or unreadable: no scales
        return {}
    return {str(k): str(v) for k, v in scales.items()} if isinstance(scales, dict) else {}


def options_hash(options: dict[str, Any]) -> str:
    """The read options of a table (encoding, decimal, date_format, columns...), as a hash."""
    return hashlib.sha256(json.dumps(options, sort_keys=True, default=str).encode()).hexdigest()


def recorded(copy: Path) -> dict[str, Any] | None:
    """The record in a converted copy; None for a Parquet we did not make (or cannot read)."""
    import polars as pl

    try:
        text = pl.read_parquet_metadata(copy).get(METADATA_KEY)
        record = json.loads(text) if text else None
    except Exception:  # garbage or foreign file: not a copy of ours; reading it will say more
        return None
    return record if isinstance(record, dict) and "file" in record else None


def made_from(copy: Path, source: Path) -> bool:
    """True when `copy` is a converted copy of a file named like `source`."""
    record = recorded(copy)
    return record is not None and record["file"] == source.name


def check(copy: Path, source: Path, options: dict[str, Any]) -> Verdict:
    """Whether `copy` still stands for `source` read with `options`."""
    record = recorded(copy)
    if record is None:
        return Verdict(False, f"{copy.name} holds no record of what it was converted from")
    if record["file"] != source.name:
        return Verdict(False, f"{copy.name} was converted from {record['file']}, not {source.name}")
    stat = source.stat()
    if record.get("size") != stat.st_size:
        return Verdict(False, f"{source.name} changed after it was converted (its size differs)")
    if record.get("mtime_ns") != stat.st_mtime_ns:
        return Verdict(False, f"{source.name} changed after it was converted (it was modified since)")
    if record.get("head_sha256") != _head_hash(source):
        return Verdict(False, f"{source.name} changed after it was converted (its content differs)")
    if record.get("options_sha256") != options_hash(options):
        return Verdict(False, f"the options for this table in loyalist.toml changed after {source.name} "
                              "was converted")
    return Verdict(True, f"converted copy of {source.name}, which is unchanged since (size, time, content)")


def _head_hash(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.sha256(handle.read(HEAD_BYTES)).hexdigest()


def newer(a: Path, b: Path) -> bool:
    """True when `a` was modified after `b`."""
    return os.stat(a).st_mtime_ns > os.stat(b).st_mtime_ns
