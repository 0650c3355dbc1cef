"""Alerts: rules in loyalist.toml checked against the data on each run.

    [[alerts]]
    name = "Champions slipping"      # optional; default: metric, segment and window
    metric = "active_customers"      # active_customers | revenue | orders | churn_risk
    segment = "Champions"            # optional: an RFM segment (segment rfm's map)
    change = "-15%"                  # fires when the figure moved this much against the window before
    window = "28d"                   # the window: days (28d) or weeks (4w)

    [[alerts]]
    metric = "churn_risk"
    threshold = 0.8                  # fires for customers whose P(churned) (BG/NBD) is at least this

A change rule compares the last `window` up to the as-of date with the window before it
(its `figure` against its `comparison`); orders count purchase days. For churn risk the
figure is the customers at or above the threshold, the comparison those in the segment.
"-15%" fires on a fall of 15% or more, "+15%" on a rise of 15% or more, "15%" on either.
Segment membership is taken on the day the current window starts, so customers who
slipped out of Champions during it are still counted (and named) as Champions; without a
segment every customer who bought in either window counts, newcomers included. The
customers behind a fired alert are its audience: for a fall of active customers those
active in the window before and not in this one; for revenue and orders those whose
figure fell (rose, for a rise); for churn risk those at or above the threshold.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core.config import ARRAYS
from core.errors import InputError

if TYPE_CHECKING:
    import polars as pl

    from core.result import Result
    from core.workspace import Workspace

KEYS = tuple(ARRAYS["alerts"])  # declared in core/config.py with the rest of loyalist.toml
METRICS = ARRAYS["alerts"]["metric"].choices
_CHANGE = re.compile(r"^\s*([+-]?)\s*(\d+(?:\.\d+)?)\s*%\s*$")
_WINDOW = re.compile(r"^\s*(\d+)\s*([dw])\s*$")


@dataclass(frozen=True)
class Rule:
    name: str
    metric: str
    segment: str | None = None
    change: float | None = None  # relative, e.g. -0.15
    direction: int = 0  # -1 a fall, +1 a rise, 0 either
    window_days: int = 28
    threshold: float | None = None

    def describe(self) -> str:
        if self.metric == "churn_risk":
            return f"churn risk >= {self.threshold:g}"
        sign = {-1: "a fall of", 1: "a rise of", 0: "a change of"}[self.direction]
        return f"{sign} {abs(self.change):.0%} or more over {self.window_days} days"


def parse_rules(raw: Any, where: str) -> list[Rule]:
    """The [[alerts]] of loyalist.toml as rules; InputError names the rule and the fix."""
    if not isinstance(raw, list) or not all(isinstance(r, dict) for r in raw):
        raise InputError("alerts must be a list of tables", file=where,
                         fix='write each alert as [[alerts]] followed by metric = "active_customers" ...')
    rules = [_rule(entry, i + 1, where) for i, entry in enumerate(raw)]
    _no_overlaps(rules, where)
    return rules


def _label(entry: dict[str, Any], number: int) -> str:
    name = entry.get("name")
    return f"alert {number} ({name!r})" if isinstance(name, str) else f"alert {number}"


def _rule(entry: dict[str, Any], number: int, where: str) -> Rule:
    label = _label(entry, number)
    for key in entry:
        if key not in KEYS:
            import difflib

            close = difflib.get_close_matches(key, KEYS, n=1, cutoff=0.6)
            raise InputError(f"{label}: unknown key {key!r}", file=where,
                             fix=(f"did you mean {close[0]!r}? " if close else "") + f"use {', '.join(KEYS)}")
    for key in ("name", "metric", "segment", "change", "window"):
        if key in entry and not isinstance(entry[key], str):
            raise InputError(f"{label}: {key} must be text, not {entry[key]!r}", file=where,
                             fix=f'write it in quotes, e.g. {key} = "{ {"change": "-15%", "window": "28d"}.get(key, "...")}"')
    metric = entry.get("metric")
    if metric not in METRICS:
        raise InputError(f"{label}: " + (f"unknown metric {metric!r}" if metric else "no metric"), file=where,
                         fix=f"use one of {', '.join(METRICS)}")
    name = entry.get("name") or " ".join(str(p) for p in (metric, entry.get("segment"), entry.get("window")) if p)
    window = _WINDOW.match(entry.get("window", "28d"))
    if window is None or int(window.group(1)) == 0:
        raise InputError(f"{label}: window {entry['window']!r} is not a number of days or weeks", file=where,
                         fix='write window = "28d" or "4w"')
    days = int(window.group(1)) * (7 if window.group(2) == "w" else 1)
    if metric == "churn_risk":
        threshold = entry.get("threshold")
        if isinstance(threshold, bool) or not isinstance(threshold, int | float) or not 0 < threshold < 1:
            raise InputError(f"{label}: churn_risk needs a threshold between 0 and 1, got {threshold!r}",
                             file=where, fix="write threshold = 0.8 (a probability of having churned)")
        if "change" in entry:
            raise InputError(f"{label}: churn_risk takes a threshold, not a change", file=where,
                             fix="remove the change line, or use metric active_customers, revenue or orders")
        return Rule(name, metric, entry.get("segment"), window_days=days, threshold=float(threshold))
    if "threshold" in entry:
        raise InputError(f"{label}: {metric} takes a change, not a threshold", file=where,
                         fix='write change = "-15%" (a fall of 15% against the window before)')
    change = _CHANGE.match(entry.get("change", ""))
    if change is None or float(change.group(2)) == 0:
        raise InputError(f"{label}: change {entry.get('change')!r} is not a percentage", file=where,
                         fix='write change = "-15%" (a fall), "+15%" (a rise) or "15%" (either)')
    direction = {"-": -1, "+": 1, "": 0}[change.group(1)]
    size = float(change.group(2)) / 100
    return Rule(name, metric, entry.get("segment"), (direction or 1) * size, direction, days)


def _no_overlaps(rules: list[Rule], where: str) -> None:
    """Two rules on the same metric, segment and window whose directions meet fire together
    and name the same customers: the user meant one of them."""
    for i, a in enumerate(rules):
        for j, b in enumerate(rules[i + 1:], start=i + 2):
            same = (a.metric, (a.segment or "").lower(), a.window_days) == \
                (b.metric, (b.segment or "").lower(), b.window_days)
            if a.name == b.name:
                raise InputError(f"alerts {i + 1} and {j} are both named {a.name!r}", file=where,
                                 fix="give each alert its own name")
            if same and (a.metric == "churn_risk" or a.direction == 0 or b.direction == 0
                         or a.direction == b.direction):
                raise InputError(f"alerts {i + 1} ({a.name!r}) and {j} ({b.name!r}) overlap: the same metric, "
                                 "segment and window", file=where,
                                 fix="keep one of them, or give them different segments or windows")


def rules_of(ws: Workspace) -> list[Rule]:
    raw = ws.options.get("alerts")
    return parse_rules(raw, str(ws.config_path)) if raw else []


def check_alerts(ws: Workspace, *, as_of: dt.date | None = None) -> Result:
    """Run every rule of the workspace's loyalist.toml; the alerts table and their audience."""
    import polars as pl

    from core.features import default_as_of
    from core.result import Result

    rules = rules_of(ws)
    tx = ws.scan("transactions")
    as_of = as_of or default_as_of(tx)
    rows, audiences = [], []
    for rule in rules:
        row, audience = evaluate(rule, ws, tx, as_of)
        rows.append(row)
        if row["fired"]:
            audiences.append(audience.select("customer_id", pl.lit(rule.name).alias("alert"),
                                             pl.col("segment").cast(pl.String), "previous", "current"))
    table = pl.DataFrame(rows, schema={k: getattr(pl, v) for k, v in ALERT_COLUMNS.items()})
    audience = (pl.concat(audiences) if audiences else
                pl.DataFrame(schema={"customer_id": pl.String, "alert": pl.String, "segment": pl.String,
                                     "previous": pl.Float64, "current": pl.Float64}))
    fired = int(table["fired"].sum())
    notes = ["A change compares the window up to the as-of date with the window before; segments are taken on "
             "the day the window starts. The audience lists the customers behind each fired alert "
             "(--output audience.csv writes it)."]
    if not rules:
        notes.insert(0, f"No [[alerts]] in {ws.config_path or ws.root / 'loyalist.toml'}: nothing to check. Add "
                     'one, e.g. [[alerts]] metric = "active_customers" segment = "Champions" change = "-15%" '
                     'window = "28d"')
    return Result(
        name="alerts.check",
        title=f"Alerts on {as_of}: {fired} of {len(rules)} fired",
        tables={"audience": audience.sort("alert", "customer_id"), "alerts": table},
        headline={"rules": len(rules), "fired": fired, "audience_customers": audience["customer_id"].n_unique()},
        params={"as_of": as_of},
        notes=tuple(notes),
    )


ALERT_COLUMNS = {"alert": "String", "metric": "String", "segment": "String", "rule": "String",
                 "window_start": "Date", "figure": "Float64", "comparison": "Float64",
                 "relative_change": "Float64", "fired": "Boolean", "customers": "Int64"}


def _segments(ws: Workspace, tx: pl.LazyFrame, day: dt.date) -> pl.DataFrame:
    from core.features import customer_features
    from core.segments.rfm import rfm_segments
    from core.segments.run import rfm_map

    features = customer_features(tx, as_of=day).collect()
    return rfm_segments(features, as_of=day, rfm_map=rfm_map(ws)).tables["customers"].select("customer_id", "segment")


def _in_segment(rule: Rule, ws: Workspace, tx: pl.LazyFrame, day: dt.date) -> pl.DataFrame:
    import polars as pl

    segments = _segments(ws, tx, day)
    if rule.segment is None:
        return segments
    names = sorted(segments["segment"].drop_nulls().unique().to_list())
    match = [n for n in names if n.lower() == rule.segment.lower()]
    if not match:
        raise InputError(f"alert {rule.name!r}: segment {rule.segment!r} is not an RFM segment of this data",
                         file=str(ws.config_path), fix=f"use one of {', '.join(names)}")
    return segments.filter(pl.col("segment") == match[0])


def evaluate(rule: Rule, ws: Workspace, tx: pl.LazyFrame, as_of: dt.date) -> tuple[dict[str, Any], pl.DataFrame]:
    """One rule's row of the alerts table, and the customers behind it."""
    import polars as pl

    start = as_of - dt.timedelta(days=rule.window_days - 1)
    if rule.metric == "churn_risk":
        return _churn(rule, ws, tx, as_of)
    before = start - dt.timedelta(days=rule.window_days)
    day = pl.col("order_date")
    recent = tx.filter(day >= before, day <= as_of)
    if rule.metric == "revenue":
        rows = recent.select("customer_id", "order_date", pl.col("amount").alias("_v"))
    else:  # active customers and orders count purchase days
        rows = (recent.filter(pl.col("amount") > 0).group_by("customer_id", "order_date")
                .agg(pl.lit(1.0).alias("_v")))
    per_customer = rows.group_by("customer_id").agg(
        pl.col("_v").filter(day < start).sum().alias("previous"),
        pl.col("_v").filter(day >= start).sum().alias("current")).collect()
    if rule.segment is None:  # every customer who bought in either window, newcomers included
        people = per_customer.with_columns(pl.lit(None, pl.String).alias("segment"))
    else:
        members = _in_segment(rule, ws, tx, start - dt.timedelta(days=1))
        people = members.join(per_customer, on="customer_id", how="left")
    people = people.with_columns(pl.col("previous", "current").fill_null(0.0))
    if rule.metric == "active_customers":
        previous, current = float((people["previous"] > 0).sum()), float((people["current"] > 0).sum())
    else:
        previous, current = round(float(people["previous"].sum()), 2), round(float(people["current"].sum()), 2)
    relative = current / previous - 1 if previous > 0 else None
    fired = relative is not None and (
        relative <= rule.change if rule.direction < 0 else
        relative >= rule.change if rule.direction > 0 else abs(relative) >= abs(rule.change))
    falling = relative is not None and relative < 0
    if rule.metric == "active_customers":
        behind = ((pl.col("previous") > 0) & (pl.col("current") == 0)) if falling else \
            ((pl.col("current") > 0) & (pl.col("previous") == 0))
    else:
        behind = pl.col("current") < pl.col("previous") if falling else pl.col("current") > pl.col("previous")
    audience = people.filter(behind) if fired else people.clear()
    return ({"alert": rule.name, "metric": rule.metric, "segment": rule.segment, "rule": rule.describe(),
             "window_start": start, "figure": current, "comparison": previous, "relative_change": relative,
             "fired": fired, "customers": audience.height}, audience)


def _churn(rule: Rule, ws: Workspace, tx: pl.LazyFrame, as_of: dt.date) -> tuple[dict[str, Any], pl.DataFrame]:
    import polars as pl

    from core.predict.clv import clv_analysis

    members = _in_segment(rule, ws, tx, as_of)
    if rule.segment is None:
        members = members.with_columns(pl.lit(None, pl.String).alias("segment"))
    fitted = clv_analysis(tx, calibration_end=as_of, unit="day").tables["customers"]
    risk = (members.join(fitted.select("customer_id", (1 - pl.col("p_alive")).alias("current")), on="customer_id")
            .with_columns(pl.lit(None, pl.Float64).alias("previous")))
    audience = risk.filter(pl.col("current") >= rule.threshold)
    return ({"alert": rule.name, "metric": rule.metric, "segment": rule.segment, "rule": rule.describe(),
             "window_start": None, "figure": float(audience.height), "comparison": float(risk.height),
             "relative_change": None, "fired": audience.height > 0, "customers": audience.height}, audience)
