"""How much memory an analysis may plan for: the budget that sizes the aggregation passes.

`LOYALIST_MEMORY_LIMIT` (e.g. "2g", "512m") sets it; otherwise it is half the memory
the system reports available when the command starts (the other half is left to Polars'
own buffers, the interpreter and whatever else the laptop runs).
"""

from __future__ import annotations

import os

from core.errors import InputError

ENV = "LOYALIST_MEMORY_LIMIT"
SHARE_OF_AVAILABLE = 0.5
FALLBACK_BYTES = 4 * 2**30  # where the system does not say (not Linux, no /proc)
_UNITS = {"k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}


def parse_bytes(text: str) -> int:
    """'2g', '512M', '1.5GB', '1000000' -> bytes."""
    raw = text.strip().lower().removesuffix("b").removesuffix("i")
    unit = _UNITS.get(raw[-1:], 1)
    number = raw[:-1] if raw[-1:] in _UNITS else raw
    try:
        value = float(number) * unit
    except ValueError:
        value = -1
    if value <= 0:
        raise InputError(f"{ENV}={text!r} is not an amount of memory",
                         fix=f'write e.g. {ENV}=2g or {ENV}=512m')
    return int(value)


def available_bytes() -> int | None:
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def memory_budget() -> int:
    """Bytes an analysis plans to hold at its peak."""
    if os.environ.get(ENV, "").strip():
        return parse_bytes(os.environ[ENV])
    available = available_bytes()
    return int(available * SHARE_OF_AVAILABLE) if available else FALLBACK_BYTES
