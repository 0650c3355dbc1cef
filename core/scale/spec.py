"""The loyalty scale spec: a TOML file naming items, directions, transforms, weights, tiers.

Parsing is strict: an unknown key or an impossible value is an error that names the
key and the line it is on (tomllib gives no line numbers, so the keys are located in
the source text). Every problem in the file is reported at once.
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.errors import InputError

MISSING = ("pairwise", "listwise", "impute_median")
NORMALISE = ("minmax", "percentile", "zscore")
TRANSFORM = ("none", "log", "winsorise")
DIRECTION = ("higher", "lower")
WEIGHTS = ("manual", "equal", "delphi", "pca", "factor", "regression")
TIER_METHOD = ("fixed", "quantile")

SCALE_KEYS = ("name", "description", "missing", "normalise", "weights", "delphi",
              "outcome_days", "as_of")
ITEM_KEYS = ("column", "label", "direction", "transform", "winsorise", "normalise",
             "range", "weight")
TIER_KEYS = ("method", "cuts", "names")
TOP_KEYS = ("scale", "items", "tiers")


@dataclass(frozen=True)
class ItemSpec:
    column: str
    label: str | None = None
    direction: str = "higher"  # "lower": a smaller value is more loyal (e.g. recency)
    transform: str = "none"
    winsorise: tuple[float, float] = (0.01, 0.99)  # percentiles, as shares
    normalise: str = "minmax"
    range: tuple[float, float] | None = None  # fixed bounds for minmax, e.g. NPS (0, 10)
    weight: float | None = None

    @property
    def name(self) -> str:
        return self.label or self.column


@dataclass(frozen=True)
class TierSpec:
    method: str = "fixed"  # fixed: cuts are scores 0–100; quantile: cuts are shares 0–1
    cuts: tuple[float, ...] = (40.0, 70.0)
    names: tuple[str, ...] = ("Low", "Medium", "High")


@dataclass(frozen=True)
class ScaleSpec:
    items: tuple[ItemSpec, ...]
    name: str = "Loyalty scale"
    description: str = ""
    missing: str = "pairwise"
    weights: str = "manual"
    delphi: Path | None = None
    outcome_days: int = 90
    as_of: dt.date | None = None
    tiers: TierSpec = field(default_factory=TierSpec)
    source: str | None = None

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(i.column for i in self.items)

    def manual_weights(self) -> dict[str, float]:
        """The weights written in the file (1 where none is given)."""
        return {i.column: 1.0 if i.weight is None else i.weight for i in self.items}


@dataclass(frozen=True)
class SpecProblem:
    line: int | None
    key: str
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line else "(no line)"
        return f"{where}: {self.key}: {self.message}"


class SpecError(InputError):
    """One or more problems in a scale spec, each with its key and line."""

    def __init__(self, problems: Sequence[SpecProblem], file: str | None = None) -> None:
        self.problems = tuple(sorted(problems, key=lambda p: p.line or 0))
        super().__init__(
            "; ".join(map(str, self.problems)),
            file=file,
            fix="correct the keys named above (`loyalist scale init` writes a commented example)",
        )


# --- locating keys in the source text ------------------------------------------------

_ARRAY_HEADER = re.compile(r"^\s*\[\[\s*([^\]]+?)\s*\]\]")
_TABLE_HEADER = re.compile(r"^\s*\[\s*([^\]\[]+?)\s*\]")
_KEY = re.compile(r"""^\s*((?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*'))*)\s*=""")


def _clean_key(raw: str) -> tuple[str, ...]:
    return tuple(p.strip().strip("\"'") for p in raw.split("."))


class _Locator:
    """Maps (table path, key) to the 1-based line where the key is written."""

    def __init__(self, text: str) -> None:
        self.keys: dict[tuple, int] = {}
        self.tables: dict[tuple, int] = {}
        counts: dict[tuple, int] = {}
        context: tuple = ()
        in_multiline = False
        for number, line in enumerate(text.splitlines(), start=1):
            stripped = line
            if in_multiline:
                if '"""' in line or "'''" in line:
                    in_multiline = False
                continue
            if m := _ARRAY_HEADER.match(stripped):
                name = _clean_key(m.group(1))
                index = counts.get(name, 0)
                counts[name] = index + 1
                context = (*name, index)
                self.tables[context] = number
            elif m := _TABLE_HEADER.match(stripped):
                context = _clean_key(m.group(1))
                self.tables[context] = number
            elif m := _KEY.match(stripped):
                path = (*context, *_clean_key(m.group(1)))
                self.keys.setdefault(path, number)
                if line.count('"""') == 1 or line.count("'''") == 1:
                    in_multiline = True

    def line(self, *path: Any) -> int | None:
        """The line of a key, else of the nearest enclosing table that has one."""
        path = tuple(path)
        while path:
            if path in self.keys:
                return self.keys[path]
            if path in self.tables:
                return self.tables[path]
            path = path[:-1]
        return None


# --- parsing -------------------------------------------------------------------------

def load_spec(path: str | Path) -> ScaleSpec:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError("no such scale spec", file=str(path),
                         fix="give the path of a .toml spec, or run `loyalist scale init`") from None
    except UnicodeDecodeError:
        raise InputError("the spec is not UTF-8 text", file=str(path),
                         fix="save it as UTF-8") from None
    return parse_spec(text, source=str(path))


def parse_spec(text: str, source: str | None = None) -> ScaleSpec:
    """Parse and check a spec; raise SpecError listing every problem with its line."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError([SpecProblem(_toml_error_line(exc), "(syntax)", str(exc))],
                        file=source) from None
    return _Checker(raw, _Locator(text), source).spec()


def _toml_error_line(exc: tomllib.TOMLDecodeError) -> int | None:
    m = re.search(r"line (\d+)", str(exc))
    return int(m.group(1)) if m else None


class _Checker:
    def __init__(self, raw: Mapping[str, Any], where: _Locator, source: str | None) -> None:
        self.raw, self.where, self.source = raw, where, source
        self.problems: list[SpecProblem] = []

    def problem(self, path: tuple, message: str) -> None:
        self.problems.append(SpecProblem(self.where.line(*path), _show(path), message))

    def unknown_keys(self, table: Mapping[str, Any], allowed: Sequence[str], path: tuple) -> None:
        for key in table:
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else \
                    "; allowed: " + ", ".join(allowed)
                self.problem((*path, key), f"unknown key {key!r}{hint}")

    def choice(self, table: Mapping, key: str, options: Sequence[str], default: str,
               path: tuple) -> str:
        value = table.get(key, default)
        if not isinstance(value, str) or value not in options:
            self.problem((*path, key), f"{value!r} is not one of: " + ", ".join(options))
            return default
        return value

    def text(self, table: Mapping, key: str, default: str | None, path: tuple) -> str | None:
        value = table.get(key, default)
        if value is not None and not isinstance(value, str):
            self.problem((*path, key), f"must be text in quotes, got {value!r}")
            return default
        return value

    def number(self, value: Any, path: tuple) -> float | None:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            self.problem(path, f"must be a number, got {value!r}")
            return None
        return float(value)

    def pair(self, value: Any, path: tuple) -> tuple[float, float] | None:
        if not isinstance(value, list) or len(value) != 2:
            self.problem(path, f"must be a list of two numbers [low, high], got {value!r}")
            return None
        low, high = (self.number(v, path) for v in value)
        if low is None or high is None:
            return None
        if not low < high:
            self.problem(path, f"the low value {low:g} must be below the high value {high:g}")
            return None
        return low, high

    def spec(self) -> ScaleSpec:
        self.unknown_keys(self.raw, TOP_KEYS, ())
        scale = self.table("scale")
        tiers = self.tier_spec(self.table("tiers"))
        missing = self.choice(scale, "missing", MISSING, "pairwise", ("scale",))
        normalise = self.choice(scale, "normalise", NORMALISE, "minmax", ("scale",))
        weights = self.choice(scale, "weights", WEIGHTS, "manual", ("scale",))
        self.unknown_keys(scale, SCALE_KEYS, ("scale",))
        items = self.item_specs(normalise, weights)
        delphi = self.text(scale, "delphi", None, ("scale",))
        if weights == "delphi" and not delphi:
            self.problem(("scale", "weights"),
                         'weights = "delphi" needs delphi = "FILE" (expert, round, item, rating)')
        days = scale.get("outcome_days", 90)
        if isinstance(days, bool) or not isinstance(days, int) or days < 1:
            self.problem(("scale", "outcome_days"), f"must be a whole number of days ≥ 1, got {days!r}")
            days = 90
        as_of = self.date(scale.get("as_of"), ("scale", "as_of"))
        name = self.text(scale, "name", "Loyalty scale", ("scale",)) or "Loyalty scale"
        description = self.text(scale, "description", "", ("scale",)) or ""
        if self.problems:
            raise SpecError(self.problems, file=self.source)
        base = Path(self.source).parent if self.source else Path(".")
        return ScaleSpec(
            items=tuple(items),
            name=name, description=description,
            missing=missing, weights=weights,
            delphi=(base / delphi) if delphi else None,
            outcome_days=days, as_of=as_of, tiers=tiers, source=self.source,
        )

    def table(self, key: str) -> Mapping[str, Any]:
        value = self.raw.get(key, {})
        if not isinstance(value, dict):
            self.problem((key,), f"must be a table [{key}]")
            return {}
        return value

    def date(self, value: Any, path: tuple) -> dt.date | None:
        if value is None or (isinstance(value, dt.date) and not isinstance(value, dt.datetime)):
            return value
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                pass
        self.problem(path, f"must be a date like 2024-06-30, got {value!r}")
        return None

    def item_specs(self, normalise_default: str, weights: str) -> list[ItemSpec]:
        # Weights written next to derived weights (pca, delphi...) are kept and reported
        # as unused by the weights step, so switching methods needs no edits here.
        raw_items = self.raw.get("items")
        if not isinstance(raw_items, list) or not all(isinstance(i, dict) for i in raw_items):
            self.problem(("items",), "the spec needs [[items]] tables, one per item")
            return []
        if len(raw_items) < 2:
            self.problem(("items",), f"a scale needs at least 2 items, found {len(raw_items)}")
        items, seen = [], {}
        for index, item in enumerate(raw_items):
            path = ("items", index)
            self.unknown_keys(item, ITEM_KEYS, path)
            column = item.get("column")
            if not isinstance(column, str) or not column.strip():
                self.problem(path, f"[[items]] #{index + 1} needs column = \"NAME\" "
                                   "(a survey column or a customer feature)")
                continue
            if column in seen:
                self.problem((*path, "column"), f"{column!r} is already item #{seen[column] + 1}")
            seen[column] = index
            transform = self.choice(item, "transform", TRANSFORM, "none", path)
            winsor = (0.01, 0.99)
            if "winsorise" in item:
                if transform != "winsorise":
                    self.problem((*path, "winsorise"),
                                 'percentiles are given but transform is not "winsorise"')
                pair = self.pair(item["winsorise"], (*path, "winsorise"))
                if pair and not (0 <= pair[0] and pair[1] <= 1):
                    self.problem((*path, "winsorise"),
                                 f"percentiles must be shares between 0 and 1, got {list(pair)}")
                elif pair:
                    winsor = pair
            norm = self.choice(item, "normalise", NORMALISE, normalise_default, path)
            bounds = None
            if "range" in item:
                bounds = self.pair(item["range"], (*path, "range"))
                if bounds and norm != "minmax":
                    self.problem((*path, "range"), 'a fixed range applies to normalise = "minmax" only')
            weight = None
            if "weight" in item:
                weight = self.number(item["weight"], (*path, "weight"))
                if weight is not None and weight < 0:
                    self.problem((*path, "weight"), f"weights cannot be negative, got {weight:g}; "
                                 'to reverse an item use direction = "lower"')
            items.append(ItemSpec(
                column=column, label=self.text(item, "label", None, path),
                direction=self.choice(item, "direction", DIRECTION, "higher", path),
                transform=transform, winsorise=winsor, normalise=norm, range=bounds,
                weight=weight,
            ))
        if weights == "manual" and items and all(i.weight == 0 for i in items):
            self.problem(("items",), "every weight is 0; at least one must be positive")
        return items

    def tier_spec(self, tiers: Mapping[str, Any]) -> TierSpec:
        path = ("tiers",)
        self.unknown_keys(tiers, TIER_KEYS, path)
        method = self.choice(tiers, "method", TIER_METHOD, "fixed", path)
        default = TierSpec() if method == "fixed" else TierSpec("quantile", (1 / 3, 2 / 3))
        cuts_raw = tiers.get("cuts", list(default.cuts))
        cuts: list[float] = []
        if not isinstance(cuts_raw, list) or not cuts_raw:
            self.problem((*path, "cuts"), f"must be a list of cut points, got {cuts_raw!r}")
        else:
            cuts = [c for c in (self.number(v, (*path, "cuts")) for v in cuts_raw) if c is not None]
            low, high, unit = (0, 100, "scores") if method == "fixed" else (0, 1, "shares")
            if any(not low < c < high for c in cuts):
                self.problem((*path, "cuts"),
                             f"{method} cut points are {unit} strictly between {low} and {high}, "
                             f"got {cuts_raw}")
            if any(b <= a for a, b in zip(cuts, cuts[1:])):
                self.problem((*path, "cuts"), f"cut points must increase, got {cuts_raw}")
        names_raw = tiers.get("names")
        if names_raw is None:
            names = _default_names(len(cuts) + 1)
        elif not isinstance(names_raw, list) or not all(isinstance(n, str) and n for n in names_raw):
            self.problem((*path, "names"), f"must be a list of tier names, got {names_raw!r}")
            names = _default_names(len(cuts) + 1)
        else:
            names = list(names_raw)
            if len(names) != len(cuts) + 1:
                self.problem((*path, "names"),
                             f"{len(cuts)} cut points make {len(cuts) + 1} tiers, "
                             f"but {len(names)} names are given")
            if len(set(names)) != len(names):
                self.problem((*path, "names"), "tier names must differ")
        return TierSpec(method, tuple(cuts), tuple(names))


def _default_names(count: int) -> tuple[str, ...]:
    known = {2: ("Low", "High"), 3: ("Low", "Medium", "High"),
             4: ("Low", "Developing", "Loyal", "Champion")}
    return known.get(count, tuple(f"Tier {i + 1}" for i in range(count)))


def _show(path: tuple) -> str:
    """How a key path reads to the user: scale.missing, items[2].direction."""
    parts: list[str] = []
    for p in path:
        if isinstance(p, int):
            parts[-1] = f"{parts[-1]}[{p + 1}]"
        else:
            parts.append(str(p))
    return ".".join(parts) or "(top level)"


# --- a commented starting spec ------------------------------------------------------

# Features where a smaller value means a more loyal customer.
LOWER_IS_LOYAL = ("recency", "churn", "days_since", "inter_purchase", "ces", "effort",
                   "complaint", "return")
# Skewed money and count features are better logged before they are normalised.
SKEWED = ("monetary", "frequency", "clv", "spend", "revenue", "orders", "aov", "value")
_NOT_ITEMS = ("customer_id", "response_date", "first_purchase", "last_purchase", "age",
              "signup_date", "member_since")


def init_spec(columns: Iterable[str], *, name: str = "Loyalty index",
              also_available: Sequence[str] = (), ranges: Mapping[str, tuple[float, float]] | None = None) -> str:
    """A commented starting spec (TOML text) with one item per candidate column;
    `also_available` columns are listed in a comment for the analyst to add. `ranges`: the answers'
    known ranges (the survey's: contract, loyalist.toml, Likert labels), written as each item's range;
    by default NPS 0-10 and CSAT 1-5."""
    ranges = {"nps": (0, 10), "csat": (1, 5)} if ranges is None else ranges
    columns = [c for c in columns if c not in _NOT_ITEMS]
    lines = [
        "# Loyalty scale spec for Loyalist.",
        "# Check it:  loyalist scale check --spec THIS_FILE",
        "# Score:     loyalist scale score --spec THIS_FILE --output scores.csv",
        "# Validate:  loyalist scale validate --spec THIS_FILE",
        "",
        "[scale]",
        f"name = {_quote(name)}",
        'missing = "pairwise"        # pairwise | listwise | impute_median',
        'normalise = "minmax"        # default for every item: minmax | percentile | zscore',
        'weights = "manual"          # manual | equal | delphi | pca | factor | regression',
        '# delphi = "delphi.csv"     # with weights = "delphi": columns expert, round, item, rating',
        "outcome_days = 90           # validity and regression weights: bought again within N days",
        "# as_of = 2024-06-30        # score as of this date (default: the last transaction)",
        "",
        "# One [[items]] table per item: a survey column or a customer feature.",
        '#   direction = "higher" (a bigger value is more loyal) or "lower" (reversed)',
        '#   transform = "none" | "log" (ln(1 + x), for counts and money) | "winsorise"',
        "#   winsorise = [0.01, 0.99]  percentiles to clip at, with transform = \"winsorise\"",
        "#   range = [0, 10]           fixed min and max for minmax (else the data's own)",
        "#   weight = 1.0              manual weight; weights are normalised to sum to 1",
    ]
    if also_available:
        lines.append("# Other columns you can use as items: " + ", ".join(also_available))
    if not columns:
        columns = ["nps", "csat"]
    for column in columns:
        low = column.lower()
        direction = "lower" if any(w in low for w in LOWER_IS_LOYAL) else "higher"
        transform = "log" if any(w in low for w in SKEWED) else "none"
        lines += ["", "[[items]]", f"column = {_quote(column)}",
                  f'direction = "{direction}"', f'transform = "{transform}"']
        if column in ranges:
            lines.append(f"range = [{ranges[column][0]:g}, {ranges[column][1]:g}]")
        lines.append("weight = 1.0")
    lines += [
        "",
        "[tiers]",
        'method = "fixed"            # fixed: cuts are scores 0–100 | quantile: cuts are shares 0–1',
        "cuts = [40, 70]",
        'names = ["Low", "Medium", "High"]',
        "",
    ]
    return "\n".join(lines)


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
