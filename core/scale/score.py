"""0–100 loyalty scores, tiers, the score distribution and the tier profile.

score = Σ wᵢ·itemᵢ over the normalised items (each 0–100, weights summing to 1).
Missing data follow the spec's policy: pairwise scores each customer on the items they
have, with the weights renormalised over those; listwise leaves customers with a gap
unscored (null score and tier); impute_median filled the gaps before normalising.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import polars as pl

from core.errors import AnalysisError
from core.result import Chart, Result
from core.scale.items import normalise_items
from core.scale.spec import ScaleSpec
from core.scale.weights import normalise_weights, weighted_score

BIN_WIDTH = 5
# Behaviour shown per tier beside the items, when the table has it (core.features names).
PROFILE_FEATURES = ("recency_days", "frequency", "monetary", "aov", "tenure_days", "engagement")


def tier_thresholds(scores: pl.Series, spec: ScaleSpec) -> list[float]:
    """Cut points on the score scale: the fixed ones, or the score quantiles."""
    if spec.tiers.method == "fixed":
        return list(spec.tiers.cuts)
    observed = scores.drop_nulls()
    if observed.len() == 0:
        raise AnalysisError("no customer has a score, so quantile tiers cannot be cut")
    return [float(observed.quantile(q, "linear")) for q in spec.tiers.cuts]


CUT_TOLERANCE = 1e-9


def assign_tiers(scores: pl.Series, thresholds: list[float], names: tuple[str, ...]) -> pl.Series:
    """A score equal to a cut point goes to the higher tier."""
    if any(b <= a for a, b in zip(thresholds, thresholds[1:])):
        # Quantile cuts collapse when many customers share a score.
        raise AnalysisError(
            f"tier cut points {[round(t, 2) for t in thresholds]} are not increasing "
            "(many customers share a score); use fixed cut points or fewer tiers"
        )
    values = scores.to_numpy(allow_copy=True).astype(float)
    # Weighted means land a hair below a cut they equal (49.99999999999999 for 50):
    # compare at a tolerance far below any score difference that matters.
    cuts = np.asarray(thresholds, float) - CUT_TOLERANCE
    index = np.searchsorted(cuts, values, side="right")
    labels = np.asarray(names, dtype=object)[np.minimum(index, len(names) - 1)]
    return pl.Series("tier", labels, dtype=pl.String).set(pl.Series(np.isnan(values)), None)


def score(data: pl.DataFrame, spec: ScaleSpec,
          weights: Mapping[str, float] | None = None) -> Result:
    """Score every customer of `data` (customer_id + raw item columns + any features).

    `weights` default to the spec's manual weights (or equal ones); derived weights
    (delphi, pca, ...) come from core.scale.weights. Tables: "scores" (customer_id,
    one 0–100 column per item, score, tier), "tiers" (tier, low, high, customers,
    share, mean_score, then mean_<column> of each raw item and of PROFILE_FEATURES present),
    "distribution"
    (bin_start, bin_end, customers), "weights" (item, weight).
    """
    normalised = normalise_items(data, spec)
    items = list(spec.columns)
    if weights is None:
        weights = ({i: 1.0 for i in items} if spec.weights == "equal"
                   else spec.manual_weights())
    absent = [i for i in items if i not in weights]
    if absent:
        raise AnalysisError(f"no weight for item {absent[0]!r}")
    w = normalise_weights({i: weights[i] for i in items})
    x = normalised.select(items).to_numpy().astype(float)
    values = weighted_score(x, np.array([w[i] for i in items]))
    if spec.missing == "listwise":
        values = np.where(np.isnan(x).any(axis=1), np.nan, values)
    scores_col = pl.Series("score", values, dtype=pl.Float64).fill_nan(None)
    thresholds = tier_thresholds(scores_col, spec)
    tiers = assign_tiers(scores_col, thresholds, spec.tiers.names).alias("tier")
    scores = normalised.with_columns(scores_col, tiers)

    unscored = scores["score"].null_count()
    notes = []
    if unscored:
        why = ("a missing item (listwise policy)" if spec.missing == "listwise"
               else "no answered item")
        notes.append(f"{unscored} customers have no score because of {why}.")
    return Result(
        name="scale.score",
        title=f"{spec.name}: scores and tiers",
        tables={
            "scores": scores,
            "tiers": tier_table(scores, data, spec, thresholds),
            "distribution": distribution(scores["score"]),
            "weights": pl.DataFrame({"item": items, "weight": [w[i] for i in items]}),
        },
        headline={
            "customers": scores.height, "scored": scores.height - unscored,
            "mean_score": scores["score"].mean(), "median_score": scores["score"].median(),
            "tier_cuts": thresholds,
        },
        charts=(
            Chart("histogram", "Score distribution (customers per 5 points)", "distribution", "bin_start", "customers"),
            Chart("bar", "Customers per tier", "tiers", "tier", "customers"),
        ),
        params={"spec": spec.source, "missing": spec.missing, "weights": w,
                "tier_method": spec.tiers.method},
        notes=tuple(notes),
    )


def distribution(scores: pl.Series) -> pl.DataFrame:
    """Customers per score bin of BIN_WIDTH points (the last bin includes 100)."""
    starts = np.arange(0, 100, BIN_WIDTH)
    observed = scores.drop_nulls().to_numpy()
    index = np.clip((observed // BIN_WIDTH).astype(int), 0, len(starts) - 1)
    counts = np.bincount(index, minlength=len(starts))
    return pl.DataFrame({"bin_start": starts, "bin_end": starts + BIN_WIDTH,
                         "customers": counts.astype(np.int64)})


def tier_table(scores: pl.DataFrame, data: pl.DataFrame, spec: ScaleSpec,
               thresholds: list[float]) -> pl.DataFrame:
    """Customers and mean raw items and behaviour per tier, tiers from lowest to highest."""
    names = list(spec.tiers.names)
    bounds = [0.0, *thresholds, 100.0]
    numeric = {c for c, t in data.schema.items() if t.is_numeric()}
    features = list(dict.fromkeys(
        c for c in (*spec.columns, *PROFILE_FEATURES) if c in numeric and c not in ("score", "tier")))
    joined = scores.select("customer_id", "score", "tier").join(
        data.select("customer_id", *features), on="customer_id", how="left",
    ).filter(pl.col("tier").is_not_null())
    total = joined.height
    profile = joined.group_by("tier").agg(
        customers=pl.len(), mean_score=pl.col("score").mean(),
        **{f"mean_{c}": pl.col(c).mean() for c in features},
    )
    frame = pl.DataFrame({"tier": names, "low": bounds[:-1], "high": bounds[1:],
                          "order": list(range(len(names)))})
    return (
        frame.join(profile, on="tier", how="left")
        .with_columns(pl.col("customers").fill_null(0))
        .with_columns(share=pl.col("customers") / max(total, 1))
        .sort("order").drop("order")
        .select("tier", "low", "high", "customers", "share", "mean_score",
                *(f"mean_{c}" for c in features))
    )
