"""Edits the Scale builder makes to a ScaleSpec, and the spec written back as TOML.

Every edit returns a new (frozen) ScaleSpec, so a worker computing on the old one is never
disturbed. `spec_text` writes what `core.scale.spec.parse_spec` reads back to the same spec
(tests check the round trip); comments of a hand-written file are not kept, which is why
the screen asks before it replaces a file.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from core.scale.spec import NORMALISE, TRANSFORM, WEIGHTS, ItemSpec, ScaleSpec, TierSpec

# Fixed answer ranges worth keeping for minmax, as `scale init` writes them.
KNOWN_RANGES = {"nps": (0.0, 10.0), "csat": (1.0, 5.0)}


def _next(options: Sequence[str], current: str) -> str:
    return options[(options.index(current) + 1) % len(options)] if current in options else options[0]


def _replace_item(spec: ScaleSpec, column: str, **changes: Any) -> ScaleSpec:
    items = tuple(dataclasses.replace(i, **changes) if i.column == column else i for i in spec.items)
    return dataclasses.replace(spec, items=items)


def item(spec: ScaleSpec, column: str) -> ItemSpec:
    return next(i for i in spec.items if i.column == column)


def add_item(spec: ScaleSpec, column: str, *, direction: str = "higher", transform: str = "none") -> ScaleSpec:
    if column in spec.columns:
        return spec
    new = ItemSpec(column=column, direction=direction, transform=transform,
                   range=KNOWN_RANGES.get(column.lower()),
                   weight=1.0 if spec.weights == "manual" else None)
    return dataclasses.replace(spec, items=(*spec.items, new))


def remove_item(spec: ScaleSpec, column: str) -> ScaleSpec:
    return dataclasses.replace(spec, items=tuple(i for i in spec.items if i.column != column))


def flip_direction(spec: ScaleSpec, column: str) -> ScaleSpec:
    current = item(spec, column).direction
    return _replace_item(spec, column, direction="lower" if current == "higher" else "higher")


def next_transform(spec: ScaleSpec, column: str) -> ScaleSpec:
    return _replace_item(spec, column, transform=_next(TRANSFORM, item(spec, column).transform))


def next_normalise(spec: ScaleSpec, column: str) -> ScaleSpec:
    """Cycle minmax → percentile → zscore; a fixed range applies to minmax only, so it comes
    back (for answers with a known range) when minmax does."""
    normalise = _next(NORMALISE, item(spec, column).normalise)
    bounds = KNOWN_RANGES.get(column.lower()) if normalise == "minmax" else None
    return _replace_item(spec, column, normalise=normalise, range=bounds)


def set_weight(spec: ScaleSpec, column: str, weight: float) -> ScaleSpec:
    """A typed weight: it applies to manual weighting, so the spec switches to it."""
    if not math.isfinite(weight) or weight < 0:
        raise ValueError("a weight is a number of 0 or more")
    items = tuple(dataclasses.replace(i, weight=weight if i.column == column else
                                      (1.0 if i.weight is None else i.weight)) for i in spec.items)
    return dataclasses.replace(spec, items=items, weights="manual")


def set_method(spec: ScaleSpec, method: str, delphi: Path | None = None) -> ScaleSpec:
    if method not in WEIGHTS:
        raise ValueError(f"unknown weighting {method!r}")
    return dataclasses.replace(spec, weights=method, delphi=delphi if delphi is not None else spec.delphi)


def set_settings(spec: ScaleSpec, *, name: str, missing: str, tier_method: str, cuts: Sequence[float],
                 names: Sequence[str], outcome_days: int, as_of: Any) -> ScaleSpec:
    """Scale-wide settings; cut points and names are checked as the spec file's are."""
    tiers = TierSpec(tier_method, tuple(float(c) for c in cuts), tuple(names))
    check_tiers(tiers)
    return dataclasses.replace(spec, name=name or spec.name, missing=missing, tiers=tiers,
                               outcome_days=outcome_days, as_of=as_of)


def check_tiers(tiers: TierSpec) -> None:
    low, high = (0, 100) if tiers.method == "fixed" else (0, 1)
    unit = "scores" if tiers.method == "fixed" else "shares"
    if not tiers.cuts:
        raise ValueError("give at least one cut point")
    if any(not low < c < high for c in tiers.cuts):
        raise ValueError(f"{tiers.method} cut points are {unit} strictly between {low} and {high}")
    if any(b <= a for a, b in zip(tiers.cuts, tiers.cuts[1:])):
        raise ValueError("cut points must increase")
    if len(tiers.names) != len(tiers.cuts) + 1:
        raise ValueError(f"{len(tiers.cuts)} cut points make {len(tiers.cuts) + 1} tiers, "
                         f"but {len(tiers.names)} names are given")
    if len(set(tiers.names)) != len(tiers.names):
        raise ValueError("tier names must differ")


# --- writing ------------------------------------------------------------------------------------


def _path_for(path: Path, base: Path) -> str:
    """A path as the spec file should hold it: relative to the spec's folder when inside it."""
    try:
        return path.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return str(path)


def _number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else float(value)


def spec_data(spec: ScaleSpec, base: Path) -> dict[str, Any]:
    scale: dict[str, Any] = {"name": spec.name}
    if spec.description:
        scale["description"] = spec.description
    scale["missing"] = spec.missing
    scale["weights"] = spec.weights
    if spec.delphi is not None:
        scale["delphi"] = _path_for(spec.delphi, base)
    scale["outcome_days"] = spec.outcome_days
    if spec.as_of is not None:
        scale["as_of"] = spec.as_of
    items = []
    for i in spec.items:
        entry: dict[str, Any] = {"column": i.column}
        if i.label:
            entry["label"] = i.label
        entry["direction"] = i.direction
        entry["transform"] = i.transform
        if i.transform == "winsorise":
            entry["winsorise"] = [float(p) for p in i.winsorise]
        entry["normalise"] = i.normalise
        if i.range is not None:
            entry["range"] = [_number(v) for v in i.range]
        if i.weight is not None:
            entry["weight"] = float(i.weight)
        items.append(entry)
    tiers = {"method": spec.tiers.method, "cuts": [_number(c) for c in spec.tiers.cuts],
             "names": list(spec.tiers.names)}
    return {"scale": scale, "items": items, "tiers": tiers}


def spec_text(spec: ScaleSpec, path: Path) -> str:
    """The spec as TOML for the file at `path` (relative paths are relative to its folder)."""
    header = ("# Loyalty scale spec, written by Loyalist's scale builder.\n"
              "# Check it:  loyalist scale check --spec THIS_FILE\n"
              "# Score:     loyalist scale score --spec THIS_FILE --output scores.csv\n\n")
    data = spec_data(spec, path.parent)
    lines = ["[scale]", *_pairs(data["scale"])]
    for entry in data["items"]:
        lines += ["", "[[items]]", *_pairs(entry)]
    lines += ["", "[tiers]", *_pairs(data["tiers"]), ""]
    return header + "\n".join(lines)


def _pairs(table: dict[str, Any]) -> list[str]:
    return [f"{key} = {_toml(value)}" for key, value in table.items()]


def _toml(value: Any) -> str:
    """A TOML value for the few types a spec holds (JSON string escapes are valid TOML)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)
