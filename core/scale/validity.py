"""Validity of a scale: item correlations, exploratory factor analysis, criterion validity.

EFA: KMO (overall and per item), Bartlett's test of sphericity, eigenvalues of the
correlation matrix, minres loadings rotated by varimax, oblimin or promax (see
core.scale.factor and core.scale.rotation; the oblique ones with the factor
correlations) and the variance each factor explains. Criterion validity: does the score as of a date
predict behaviour after it? AUC and the outcome rate by score decile.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import polars as pl
from scipy import stats

from core.errors import AnalysisError, InputError
from core.result import Chart, Result
from core.scale.covariance import item_matrix, moments
from core.scale.factor import bartlett, eigenvalues, kmo, minres
from core.scale.rotation import ROTATIONS, rotate


def correlation_table(items: Sequence[str], r: np.ndarray) -> pl.DataFrame:
    """item, then one column per item: the inter-item correlation matrix."""
    return pl.DataFrame({"item": list(items),
                         **{name: r[:, j] for j, name in enumerate(items)}})


def efa(data: pl.DataFrame, items: Sequence[str] | None = None, *,
        missing: str = "pairwise", n_factors: int | None = None, rotation: str = "varimax") -> Result:
    """Exploratory factor analysis of the item columns.

    n_factors defaults to the number of eigenvalues above 1 (Kaiser), at least 1.
    Tables: "correlations", "eigenvalues" (factor, eigenvalue, proportion, cumulative),
    "loadings" (item, factor_1..f rotated by `rotation` when f > 1 (pattern loadings for
    the oblique oblimin and promax), communality, uniqueness, kmo), "variance" (factor,
    ss_loadings, proportion, cumulative) and, oblique, "factor_correlations" (factor,
    factor_1..f) and "structure" (item, factor_1..f: item-factor correlations). Headline:
    kmo, bartlett_chi2, bartlett_df, bartlett_p, n, k, n_factors, rotation.
    """
    if rotation not in ROTATIONS:
        raise InputError(f"unknown rotation {rotation!r}", fix="use " + ", ".join(ROTATIONS))
    matrix = item_matrix(data, items, missing, min_items=3)
    _, r = moments(matrix)
    k = matrix.k
    eig = eigenvalues(r)
    overall_kmo, item_kmo = kmo(r)
    chi2, dof, p = bartlett(r, matrix.n)
    if n_factors is None:
        n_factors = max(1, int((eig > 1).sum()))
    fit = minres(r, n_factors)
    rotated = rotate(fit.loadings, rotation if n_factors > 1 else "none")
    loadings, phi = rotated.loadings, rotated.phi
    # h² = diag(P Φ Pᵀ): the same for every rotation, a plain sum of squares when orthogonal.
    communality = (loadings**2).sum(axis=1) if phi is None else ((loadings @ phi) * loadings).sum(axis=1)
    ss = (loadings**2).sum(axis=0)
    factor_names = [f"factor_{j + 1}" for j in range(n_factors)]
    notes, oblique_tables = [], {}
    if phi is not None:
        off = np.abs(phi[np.triu_indices(n_factors, 1)])
        notes.append(f"{rotation.capitalize()} (oblique) rotation: the factors correlate (|r| up to "
                     f"{off.max():.2f}, factor_correlations); loadings are pattern coefficients, the "
                     "structure table has item-factor correlations, and correlated factors' variance overlaps.")
        structure = loadings @ phi
        oblique_tables = {
            "factor_correlations": pl.DataFrame({"factor": factor_names,
                                                 **{name: phi[:, j] for j, name in enumerate(factor_names)}}),
            "structure": pl.DataFrame({"item": list(matrix.items),
                                       **{name: structure[:, j] for j, name in enumerate(factor_names)}}),
        }
    if fit.heywood:
        notes.append("An item's communality reached 1 (a Heywood case): the solution is at "
                     "its bound; try fewer factors or drop the item.")
    if overall_kmo < 0.6:
        notes.append(f"KMO = {overall_kmo:.2f} is below 0.6: the items share too little "
                     "for factor analysis to be meaningful.")
    low = [name for name, val in zip(matrix.items, loadings.max(axis=1)) if abs(val) < 0.3]
    if low:
        notes.append("Items loading below 0.3 on every factor: " + ", ".join(low) + ".")
    return Result(
        name="scale.efa", title="Exploratory factor analysis",
        tables={
            "loadings": pl.DataFrame({
                "item": list(matrix.items),
                **{name: loadings[:, j] for j, name in enumerate(factor_names)},
                "communality": communality, "uniqueness": 1 - communality, "kmo": item_kmo,
            }),
            "eigenvalues": pl.DataFrame({
                "factor": np.arange(1, k + 1), "eigenvalue": eig,
                "proportion": eig / k, "cumulative": np.cumsum(eig) / k,
            }),
            "variance": pl.DataFrame({
                "factor": factor_names, "ss_loadings": ss, "proportion": ss / k,
                "cumulative": np.cumsum(ss) / k,
            }),
            **oblique_tables,
            "correlations": correlation_table(matrix.items, r),
        },
        headline={"kmo": overall_kmo, "bartlett_chi2": chi2, "bartlett_df": dof,
                  "bartlett_p": p, "n": matrix.n, "k": k, "n_factors": n_factors,
                  "rotation": rotation if n_factors > 1 else "none"},
        charts=(Chart("line", "Scree plot", "eigenvalues", "factor", "eigenvalue"),
                Chart("heatmap", "Inter-item correlations", "correlations", "item",
                      tuple(matrix.items))),
        params={"items": list(matrix.items), "missing": missing, "n_factors": n_factors,
                "extraction": "minres", "rotation": rotation if n_factors > 1 else "none"},
        notes=tuple(notes),
    )


# --- criterion validity --------------------------------------------------------------

def later_activity(transactions: pl.LazyFrame, as_of: dt.date, days: int) -> pl.LazyFrame:
    """customer_id, active: did each customer known by `as_of` buy within `days` after it?

    Known = at least one transaction on or before as_of (inclusive). Active = a purchase
    (amount > 0; returns do not count) dated after as_of and at most as_of + days.
    """
    if days < 1:
        raise InputError(f"the outcome window must be at least 1 day, got {days}",
                         fix="e.g. 90")
    end = as_of + dt.timedelta(days=days)
    return (
        transactions
        .filter(pl.col("order_date") <= end)
        .group_by("customer_id")
        .agg(
            known=(pl.col("order_date") <= as_of).any(),
            active=((pl.col("order_date") > as_of) & (pl.col("amount") > 0)).any(),
        )
        .filter(pl.col("known"))
        .select("customer_id", "active")
    )


def auc(scores: np.ndarray, outcome: np.ndarray) -> float:
    """Area under the ROC curve via the Mann–Whitney statistic (ties count one half)."""
    positives = int(outcome.sum())
    negatives = outcome.size - positives
    if positives == 0 or negatives == 0:
        raise AnalysisError("the outcome is the same for every customer; AUC needs both "
                            "customers who did and who did not")
    ranks = stats.rankdata(scores)
    return float((ranks[outcome].sum() - positives * (positives + 1) / 2)
                 / (positives * negatives))


def criterion_validity(scores: pl.DataFrame, outcome: pl.DataFrame, *,
                       score_column: str = "score", outcome_column: str = "active",
                       deciles: int = 10) -> Result:
    """How well the score predicts a later binary outcome.

    `scores`: customer_id + score; `outcome`: customer_id + a boolean/0–1 flag. Customers
    in both with a score are used. Tables: "deciles" (decile 1 = lowest scores, customers,
    min_score, max_score, rate, lift). Headline: auc, base_rate, customers, top_rate,
    bottom_rate.
    """
    for frame, col, what in ((scores, score_column, "scores"), (outcome, outcome_column, "outcome")):
        if col not in frame.columns or "customer_id" not in frame.columns:
            raise InputError(f"the {what} table needs customer_id and {col!r}", column=col,
                             fix=f"columns found: {', '.join(frame.columns)}")
    joined = (
        scores.select("customer_id", pl.col(score_column).cast(pl.Float64).alias("score"))
        .join(outcome.select("customer_id",
                             pl.col(outcome_column).cast(pl.Float64).alias("outcome")),
              on="customer_id", how="inner")
        .drop_nulls()
        .sort("score", "customer_id")
    )
    n = joined.height
    if n < deciles * 2:
        raise AnalysisError(f"only {n} customers have both a score and an outcome; "
                            f"criterion validity needs at least {deciles * 2}")
    y = joined["outcome"].to_numpy()
    if not np.isin(y, (0.0, 1.0)).all():
        raise InputError("the outcome must be a yes/no flag (true/false or 0/1)",
                         column=outcome_column, fix="derive it with later_activity()")
    value = auc(joined["score"].to_numpy(), y.astype(bool))
    base = float(y.mean())
    table = (
        joined.with_columns(decile=(pl.int_range(pl.len()) * deciles // pl.len() + 1))
        .group_by("decile")
        .agg(customers=pl.len(), min_score=pl.col("score").min(),
             max_score=pl.col("score").max(), rate=pl.col("outcome").mean())
        .sort("decile")
        .with_columns(lift=pl.col("rate") / base if base > 0 else pl.lit(None, pl.Float64))
    )
    notes = []
    if value < 0.5:
        notes.append(f"AUC {value:.3f} is below 0.5: a higher score goes with LESS of the "
                     "outcome. Check item directions.")
    return Result(
        name="scale.criterion", title="Criterion validity",
        tables={"deciles": table},
        headline={"auc": value, "base_rate": base, "customers": n,
                  "top_rate": table["rate"][-1], "bottom_rate": table["rate"][0]},
        charts=(Chart("bar", "Outcome rate by score decile", "deciles", "decile", "rate"),),
        params={"deciles": deciles, "outcome": outcome_column},
        notes=tuple(notes),
    )
