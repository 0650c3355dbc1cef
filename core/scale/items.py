"""Turn raw item columns into normalised items on 0–100, with 100 the most loyal.

Per item, in this order: the missing-data policy's imputation (impute_median fills gaps
with the raw median), the transform (log: ln(1 + x); winsorise: clip at the given
percentiles), the normalisation, then the direction (lower: 100 − value).

Normalisations, each onto 0–100:
- minmax: (x − min) / (max − min), with the item's fixed range when the spec gives one;
- percentile: mid-rank percentile, (average rank − 0.5) / n;
- zscore: (x − mean) / sd, mapped through the standard normal CDF so it can share a
  0–100 scale with the other items (a z of 0 is 50).
"""

from __future__ import annotations

import numpy as np
import polars as pl
from scipy import stats

from core.errors import AnalysisError, InputError
from core.scale.spec import ItemSpec, ScaleSpec


def check_columns(data: pl.DataFrame, spec: ScaleSpec) -> None:
    """Every item must be a numeric column of `data`, and customer_id must be there."""
    if "customer_id" not in data.columns:
        raise InputError("the item table has no customer_id column", column="customer_id",
                         fix="join the items to customer ids first")
    dupes = data.filter(pl.col("customer_id").is_duplicated())["customer_id"]
    if dupes.len():
        raise InputError(
            f"{dupes.n_unique()} customers appear more than once in the item table "
            f"(e.g. {dupes[0]!r})", column="customer_id",
            fix="keep one row per customer (e.g. each customer's latest survey answer)",
        )
    for item in spec.items:
        if item.column not in data.columns:
            raise InputError(
                f"item {item.column!r} of the scale spec is not a survey column or customer "
                "feature", file=spec.source, column=item.column,
                fix="available: " + ", ".join(c for c in data.columns if c != "customer_id"),
            )
        if not data.schema[item.column].is_numeric():
            raise InputError(
                f"item {item.column!r} is not numeric ({data.schema[item.column]})",
                file=spec.source, column=item.column,
                fix="use a numeric column or recode the answers as numbers",
            )


def normalise_items(data: pl.DataFrame, spec: ScaleSpec) -> pl.DataFrame:
    """customer_id and one 0–100 column per item (named as the item's column; null = missing)."""
    check_columns(data, spec)
    raw = data.select(
        "customer_id", *(pl.col(i.column).cast(pl.Float64).fill_nan(None) for i in spec.items)
    )
    if spec.missing == "impute_median":
        raw = raw.with_columns(pl.col(i.column).fill_null(pl.col(i.column).median())
                               for i in spec.items)
    return raw.select("customer_id", *(_normalised(raw[i.column], i) for i in spec.items))


def _normalised(x: pl.Series, item: ItemSpec) -> pl.Series:
    observed = x.drop_nulls()
    if observed.len() == 0:
        raise AnalysisError(f"item {item.column!r} has no values")
    x = _transformed(x, item)
    if item.normalise == "minmax":
        low, high = item.range or (x.min(), x.max())
        if item.range:
            outside = x.filter((x < low) | (x > high))
            if outside.len():
                raise InputError(
                    f"{outside.len()} values of item {item.column!r} fall outside its range "
                    f"[{low:g}, {high:g}] (e.g. {outside[0]:g})", column=item.column,
                    fix="correct the data or widen range in the spec",
                )
        if not high > low:
            raise AnalysisError(_constant(item))
        unit = (x - low) / (high - low)
    elif item.normalise == "percentile":
        n = x.drop_nulls().len()
        unit = (x.rank("average") - 0.5) / n
    else:  # zscore
        sd = x.std()
        if not sd or not sd > 0:
            raise AnalysisError(_constant(item))
        z = ((x - x.mean()) / sd).to_numpy()
        unit = pl.Series(stats.norm.cdf(z), dtype=pl.Float64)
    score = unit * 100.0
    if item.direction == "lower":
        score = 100.0 - score
    return score.alias(item.column)


def _transformed(x: pl.Series, item: ItemSpec) -> pl.Series:
    if item.transform == "log":
        negative = x.filter(x < 0)
        if negative.len():
            raise InputError(
                f"item {item.column!r} has {negative.len()} negative values (e.g. "
                f"{negative[0]:g}); log means ln(1 + x), for counts and money ≥ 0",
                column=item.column, fix='use transform = "winsorise" or "none" for it',
            )
        return x.log1p()
    if item.transform == "winsorise":
        low, high = item.winsorise
        # Linear interpolation, as numpy's default and R's type 7.
        lo_v, hi_v = np.nanquantile(x.to_numpy(allow_copy=True).astype(float), [low, high])
        return x.clip(lo_v, hi_v)
    return x


def _constant(item: ItemSpec) -> str:
    return (f"item {item.column!r} has the same value for every customer, so it cannot be "
            "normalised. Fix: leave it out of the scale")
