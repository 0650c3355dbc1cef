"""RFM scores by quantile and the named segments built on them.

Scores run 1..bins, bins = best (for recency: the most recent). Two scoring methods:

- "rank" (default): customers are put in a strict order by the metric, ties broken by
  the other two RFM metrics (better first ranks higher) and finally by customer_id, and
  that order is cut into `bins` equal groups. Every score holds n/bins customers (+-1),
  so no bin is empty or lopsided even when most customers share a value (e.g. one
  purchase); customers with the same value can get adjacent scores.
- "midrank": tied values share a score: score = floor(bins x (midrank - 0.5) / n) + 1,
  with midrank the average rank of the tied group. Faithful to the values, but heavy
  ties leave bins empty or lopsided.

Customers with no purchase (only returns) have no recency; they rank below every buyer.
The R x F map is defined on 1-5 scores; with 3 or 4 bins a score is placed on the 5-point
scale at the midpoint of its quantile range (3 bins: 1, 3, 5; 4 bins: 1, 2, 4, 5).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import polars as pl

from core.errors import AnalysisError, InputError
from core.result import Chart, Result
from core.segments.profile import segment_summary, summary_charts

METHODS: dict[str, str] = {
    "rank": "strict rank (ties broken by the other RFM metrics, then customer_id) cut into "
            "equal-sized bins",
    "midrank": "tied values share the score of their average rank; bins may be uneven",
}
BINS = (3, 4, 5)
SCHEMES = ("map", "levels")

# The widely used 10-segment R x F map (DOMAIN.md); ranges inclusive, on 1-5 scores.
DEFAULT_RFM_MAP: dict[str, dict[str, tuple[int, int]]] = {
    "Champions": {"r": (5, 5), "f": (4, 5)},
    "Loyal": {"r": (3, 4), "f": (4, 5)},
    "Potential Loyalists": {"r": (4, 5), "f": (2, 3)},
    "New": {"r": (5, 5), "f": (1, 1)},
    "Promising": {"r": (4, 4), "f": (1, 1)},
    "Need Attention": {"r": (3, 3), "f": (3, 3)},
    "About to Sleep": {"r": (3, 3), "f": (1, 2)},
    "At Risk": {"r": (1, 2), "f": (3, 4)},
    "Can't Lose Them": {"r": (1, 2), "f": (5, 5)},
    "Hibernating": {"r": (1, 2), "f": (1, 2)},
}
LEVELS = ("High value", "Mid value", "Low value")
# Features the RFM scores use: select just these from customer_features and projection
# pushdown skips every other aggregation.
RFM_FEATURES = ("customer_id", "recency_days", "frequency", "monetary")
# Above this many (R, F, M) code combinations the sort keys no longer pack into an int64.
_PACK_LIMIT = 2**62
NO_PURCHASE_RECENCY = 2**62 - 1  # ranks a customer without a purchase below every buyer

RfmMap = dict[str, dict[str, tuple[int, int]]]


def parse_rfm_map(raw: Mapping[str, Any]) -> RfmMap:
    """Validate an R x F map, e.g. loyalist.toml's [segments.rfm_map] table.

    Each entry is `Name = { r = [lo, hi], f = [lo, hi] }` (an int or "lo-hi" also works),
    on 1-5 scores; together the entries must cover every (R, F) pair exactly once. The
    map replaces the default as a whole.
    """
    # No square brackets in messages: the CLI prints them through Rich markup.
    where = "loyalist.toml, table segments.rfm_map"
    if not raw:
        raise InputError("the RFM map is empty", file=where,
                         fix='add entries like Champions = { r = [5, 5], f = [4, 5] }')
    parsed: RfmMap = {}
    for name, spec in raw.items():
        if not isinstance(spec, Mapping) or set(spec) != {"r", "f"}:
            raise InputError(f"entry {name!r} must have exactly the keys r and f", file=where,
                             fix=f'write {name} = {{ r = [lo, hi], f = [lo, hi] }}')
        parsed[str(name)] = {k: _score_range(spec[k], str(name), k, where) for k in ("r", "f")}
    owners: dict[tuple[int, int], list[str]] = {(r, f): [] for r in range(1, 6) for f in range(1, 6)}
    for name, spec in parsed.items():
        for r in range(spec["r"][0], spec["r"][1] + 1):
            for f in range(spec["f"][0], spec["f"][1] + 1):
                owners[(r, f)].append(name)
    gaps = [f"R{r}F{f}" for (r, f), names in owners.items() if not names]
    overlaps = [f"R{r}F{f} ({' and '.join(n)})" for (r, f), n in owners.items() if len(n) > 1]
    if gaps or overlaps:
        problems = (["not covered: " + ", ".join(gaps)] if gaps else []) + \
                   (["covered twice: " + ", ".join(overlaps)] if overlaps else [])
        raise InputError("the RFM map must give every (R, F) pair exactly one segment; "
                         + "; ".join(problems), file=where, fix="adjust the r and f ranges")
    return parsed


def _score_range(value: Any, name: str, key: str, where: str) -> tuple[int, int]:
    try:
        if isinstance(value, bool):
            raise ValueError
        if isinstance(value, int):
            lo = hi = value
        elif isinstance(value, str):
            parts = value.split("-")
            lo, hi = int(parts[0]), int(parts[-1])
            if len(parts) > 2:
                raise ValueError
        else:
            lo, hi = (int(v) for v in value)
    except (TypeError, ValueError):
        raise InputError(f"{name}.{key} = {value!r} is not a score or a range", file=where,
                         fix=f"write {key} = [lo, hi] with scores from 1 to 5") from None
    if not 1 <= lo <= hi <= 5:
        raise InputError(f"{name}.{key} = {value!r} is outside 1-5 or reversed", file=where,
                         fix=f"write {key} = [lo, hi] with 1 <= lo <= hi <= 5")
    return lo, hi


def rule_text(spec: Mapping[str, tuple[int, int]]) -> str:
    """'R5 F4-5' style description of a map entry."""
    def part(letter: str, lo: int, hi: int) -> str:
        return f"{letter}{lo}" if lo == hi else f"{letter}{lo}-{hi}"
    return f"{part('R', *spec['r'])} {part('F', *spec['f'])}"


def rfm_scores(features: pl.DataFrame, *, bins: int = 5, method: str = "rank") -> pl.DataFrame:
    """customer_id, recency_days, frequency, monetary and r_score, f_score, m_score (Int8)."""
    if bins not in BINS:
        raise InputError(f"bins must be one of {', '.join(map(str, BINS))}, not {bins}",
                         fix="pass --bins 3, 4 or 5")
    if method not in METHODS:
        raise InputError(f"unknown scoring method {method!r}",
                         fix="use one of: " + ", ".join(METHODS))
    missing = [c for c in RFM_FEATURES if c not in features.columns]
    if missing:
        raise InputError(f"features lack {', '.join(missing)}",
                         fix="compute them with core.features.customer_features")
    if features.is_empty():
        raise AnalysisError("no customers to score: no transactions on or before the as-of date")
    base = features.select(RFM_FEATURES)
    if not base["customer_id"].is_sorted():  # customer_features output already is
        base = base.sort("customer_id")
    # "Goodness" keys, larger = better: recency is negated; no purchase is the worst recency.
    good = base.select(
        pl.col("customer_id"),
        r=-pl.col("recency_days").fill_null(NO_PURCHASE_RECENCY),
        f=pl.col("frequency"),
        m=pl.col("monetary"),
    )
    keys = {"r_score": ["r", "f", "m"], "f_score": ["f", "m", "r"], "m_score": ["m", "f", "r"]}
    scores = _rank_scores(good, keys, bins) if method == "rank" else _midrank_scores(good, keys, bins)
    return base.with_columns(scores)


def _rank_scores(good: pl.DataFrame, keys: dict[str, list[str]], bins: int) -> list[pl.Series]:
    n = good.height
    # Each metric as a 0-based dense code; three codes pack into one int64 sort key, and
    # ranking one integer column is several times faster than a three-column sort with
    # heavy ties. Full ties keep row order, which is customer_id order (an ordinal rank
    # numbers equal values in the order they occur). Polars throughout: no numpy import.
    codes = good.select((pl.col(c).rank("dense") - 1).cast(pl.Int64) for c in ("r", "f", "m"))
    sizes = {c: int(codes[c].max()) + 1 for c in codes.columns}
    ranks = []
    for name, (a, b, c) in keys.items():
        if sizes[a] * sizes[b] * sizes[c] < _PACK_LIMIT:
            rank = ((pl.col(a) * sizes[b] + pl.col(b)) * sizes[c] + pl.col(c)).rank("ordinal") - 1
        else:  # too many distinct values to pack: a stable sort on the three codes
            rank = pl.arg_sort_by([a, b, c], maintain_order=True).arg_sort()
        ranks.append((rank.cast(pl.Int64) * bins // n + 1).cast(pl.Int8).alias(name))
    return codes.select(ranks).get_columns()


def _midrank_scores(good: pl.DataFrame, keys: dict[str, list[str]], bins: int) -> list[pl.Series]:
    n = good.height
    return good.select(((bins * (pl.col(k[0]).rank("average") - 0.5) / n).floor().cast(pl.Int8) + 1).alias(name)
                       for name, k in keys.items()).get_columns()


def to_five_point(score: pl.Expr, bins: int) -> pl.Expr:
    """A 1..bins score placed on the 1-5 scale at the midpoint of its quantile range."""
    if bins == 5:
        return score
    return ((score.cast(pl.Float64) - 0.5) * 5 / bins).floor().cast(pl.Int8) + 1


def _map_lookup(rfm_map: RfmMap) -> pl.DataFrame:
    rows = [(r, f, name) for name, spec in rfm_map.items()
            for r in range(spec["r"][0], spec["r"][1] + 1)
            for f in range(spec["f"][0], spec["f"][1] + 1)]
    return pl.DataFrame(rows, schema={"_r5": pl.Int8, "_f5": pl.Int8, "segment": pl.String},
                        orient="row")


def _level(bins: int) -> pl.Expr:
    # Thirds of the range of r + f + m (3 .. 3*bins), in integers to avoid float edges.
    total = pl.col("r_score").cast(pl.Int64) + pl.col("f_score") + pl.col("m_score")
    return (pl.when(total >= 2 * bins + 1).then(pl.lit(LEVELS[0]))
            .when(total >= bins + 2).then(pl.lit(LEVELS[1]))
            .otherwise(pl.lit(LEVELS[2])))


def rfm_segments(
    features: pl.DataFrame,
    *,
    bins: int = 5,
    method: str = "rank",
    scheme: str = "map",
    rfm_map: Mapping[str, Any] | None = None,
    as_of: dt.date | None = None,
) -> Result:
    """RFM scores and segments: the 10-segment R x F map (scheme="map") or 3 value levels.

    Result "segment.rfm" with tables customers (customer_id, recency_days, frequency,
    monetary, r_score, f_score, m_score, rfm_code, segment), segments (SUMMARY_COLUMNS plus
    rule), grid (r_score x f_score counts and segment) and score_ranges (metric, score,
    customers, min, max).
    """
    if scheme not in SCHEMES:
        raise InputError(f"unknown RFM scheme {scheme!r}", fix="use map or levels")
    parsed = parse_rfm_map(rfm_map) if rfm_map is not None else DEFAULT_RFM_MAP
    # Scores are one digit (bins <= 5), so "543" is 5*100 + 4*10 + 3 as text (cheaper than pl.format).
    scored = rfm_scores(features, bins=bins, method=method).with_columns(
        rfm_code=(pl.col("r_score").cast(pl.Int32) * 100 + pl.col("f_score").cast(pl.Int32) * 10
                  + pl.col("m_score").cast(pl.Int32)).cast(pl.String))
    if scheme == "map":
        scored = (
            scored.with_columns(_r5=to_five_point(pl.col("r_score"), bins),
                                _f5=to_five_point(pl.col("f_score"), bins))
            .join(_map_lookup(parsed), on=["_r5", "_f5"], how="left", maintain_order="left")
            .drop("_r5", "_f5")
        )
        order = list(parsed)
        rules = {name: rule_text(spec) for name, spec in parsed.items()}
    else:
        scored = scored.with_columns(segment=_level(bins))
        order = list(LEVELS)
        rules = dict(zip(LEVELS, (f"R+F+M >= {2 * bins + 1}",
                                  f"R+F+M {bins + 2}-{2 * bins}", f"R+F+M <= {bins + 1}")))
    summary = segment_summary(scored, order).with_columns(
        rule=pl.col("segment").replace_strict(rules, default=None, return_dtype=pl.String))
    no_purchase = int(features["recency_days"].null_count())
    largest = summary.sort("customers", descending=True).row(0, named=True)
    notes = [f"scores: {METHODS[method]}; {bins} = best (most recent, most frequent, "
             "highest spend)"]
    if scheme == "map" and bins != 5:
        notes.append(f"the R x F map is on 1-5 scores; {bins}-bin scores are placed at the "
                     "midpoint of their quantile range")
    if no_purchase:
        notes.append(f"{no_purchase:,} customer(s) with only returns (no purchase) rank below "
                     "every buyer")
    if scored.height < bins:
        notes.append(f"only {scored.height} customers for {bins} bins: some scores are empty")
    return Result(
        name="segment.rfm",
        title=f"RFM segments ({scored.height:,} customers"
              + (f", as of {as_of.isoformat()})" if as_of else ")"),
        tables={
            "customers": scored,
            "segments": summary,
            "grid": _grid(scored, bins, parsed if scheme == "map" else None),
            "score_ranges": _score_ranges(scored, bins),
        },
        headline={
            "customer_count": scored.height,
            "revenue": float(scored["monetary"].sum()),
            "segment_count": int((summary["customers"] > 0).sum()),
            "largest_segment": largest["segment"],
            "largest_segment_share": largest["customer_share"],
        },
        charts=(*summary_charts(),
                Chart("heatmap", "Customers by R and F score", "grid",
                      x="f_score", y=("r_score", "customers"))),
        params={"as_of": as_of, "bins": bins, "method": method, "scheme": scheme,
                "rfm_map": {n: rule_text(s) for n, s in parsed.items()}
                if scheme == "map" else None},
        notes=tuple(notes),
    )


def _grid(scored: pl.DataFrame, bins: int, rfm_map: RfmMap | None) -> pl.DataFrame:
    """Customers in every (R, F) cell, with the map's segment for that cell."""
    cells = pl.DataFrame(
        [(r, f) for r in range(bins, 0, -1) for f in range(1, bins + 1)],
        schema={"r_score": pl.Int8, "f_score": pl.Int8}, orient="row",
    )
    counts = scored.group_by("r_score", "f_score").agg(customers=pl.len().cast(pl.Int64))
    grid = (cells.join(counts, on=["r_score", "f_score"], how="left", maintain_order="left")
            .with_columns(pl.col("customers").fill_null(0)))
    if rfm_map is None:
        return grid
    return (
        grid.with_columns(_r5=to_five_point(pl.col("r_score"), bins),
                          _f5=to_five_point(pl.col("f_score"), bins))
        .join(_map_lookup(rfm_map), on=["_r5", "_f5"], how="left", maintain_order="left")
        .drop("_r5", "_f5")
    )


def _score_ranges(scored: pl.DataFrame, bins: int) -> pl.DataFrame:
    """Which values each score covers, so ties split across scores are visible."""
    parts = []
    for metric, score in (("recency_days", "r_score"), ("frequency", "f_score"),
                          ("monetary", "m_score")):
        cells = pl.DataFrame({"score": list(range(1, bins + 1))}, schema={"score": pl.Int8})
        stats = scored.group_by(pl.col(score).alias("score")).agg(
            customers=pl.len().cast(pl.Int64),
            min=pl.col(metric).cast(pl.Float64).min(),
            max=pl.col(metric).cast(pl.Float64).max(),
        )
        parts.append(
            cells.join(stats, on="score", how="left", maintain_order="left")
            .with_columns(pl.col("customers").fill_null(0), metric=pl.lit(metric))
            .select("metric", "score", "customers", "min", "max")
        )
    return pl.concat(parts)
