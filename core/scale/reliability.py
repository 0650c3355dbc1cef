"""Reliability of a set of items: the report analysts know from R's psych::alpha.

Alpha raw and standardised with a Feldt (or bootstrap) interval, Guttman's lambda 6,
average inter-item correlation, per item n / mean / sd / raw.r / std.r / r.cor / r.drop
and alpha if the item is dropped, reverse-keyed items flagged, McDonald's omega total
(one-factor minres) and odd–even split-half reliability.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

import numpy as np
import polars as pl
from scipy import stats

from core.errors import AnalysisError, InputError
from core.result import Result
from core.scale.covariance import (
    ItemMatrix, WeightedCov, fully_predicted, item_matrix, moments, smc,
)
from core.scale.factor import FactorFit, minres, omega_total

CI_METHODS = ("feldt", "bootstrap")


def alpha_from_cov(cov: np.ndarray) -> float:
    """Cronbach's alpha: k/(k−1) · (1 − Σ item variances / variance of the total)."""
    k = cov.shape[0]
    return k / (k - 1) * (1.0 - np.trace(cov) / cov.sum())


def standardised_alpha(r: np.ndarray) -> float:
    """Alpha of the standardised items: k·r̄ / (1 + (k−1)·r̄)."""
    k = r.shape[0]
    mean_r = (r.sum() - k) / (k * (k - 1))
    return k * mean_r / (1 + (k - 1) * mean_r)


def feldt_ci(alpha: float, n: int, k: int, level: float = 0.95) -> tuple[float, float]:
    """Feldt, Woodruff & Salih (1987) interval for alpha."""
    df1, df2 = n - 1, (n - 1) * (k - 1)
    tail = (1 - level) / 2
    lower = 1 - (1 - alpha) * stats.f.ppf(1 - tail, df1, df2)
    upper = 1 - (1 - alpha) * stats.f.ppf(tail, df1, df2)
    return float(lower), float(upper)


def bootstrap_ci(
    matrix: ItemMatrix, level: float = 0.95, n_boot: int = 1000, seed: int | None = 0
) -> tuple[float, float]:
    """Percentile bootstrap interval: customers resampled, alpha recomputed each time.

    Resampling is done with multinomial counts used as frequency weights, so pairwise
    deletion inside each resample behaves exactly as on the full data.
    """
    rng = np.random.default_rng(seed)
    n = matrix.n
    counts = rng.multinomial(n, np.full(n, 1.0 / n), size=n_boot)
    alphas = np.empty(n_boot)
    weighted_cov = WeightedCov(matrix.values)
    for b in range(n_boot):
        cov, n_pair = weighted_cov(counts[b].astype(float))
        alphas[b] = alpha_from_cov(cov) if np.all(n_pair >= 2) else np.nan
    alphas = alphas[np.isfinite(alphas)]
    if alphas.size < n_boot * 0.9:
        raise AnalysisError(
            "too many bootstrap resamples left an item pair without answers; "
            "use the Feldt interval on data this sparse"
        )
    tail = (1 - level) / 2
    low, high = np.quantile(alphas, [tail, 1 - tail])
    return float(low), float(high)


def item_table(matrix: ItemMatrix, cov: np.ndarray, r: np.ndarray) -> pl.DataFrame:
    """Per item statistics in psych::alpha's terms (NaN from collinear items -> null)."""
    k = cov.shape[0]
    col, var, total = cov.sum(axis=0), np.diag(cov), cov.sum()
    r_smc = r.copy()
    np.fill_diagonal(r_smc, smc(r))
    keep = ~np.eye(k, dtype=bool)
    n = (~np.isnan(matrix.values)).sum(axis=0).astype(np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        if k > 2:
            drop_raw = np.array([alpha_from_cov(cov[np.ix_(m, m)]) for m in keep])
            drop_std = np.array([standardised_alpha(r[np.ix_(m, m)]) for m in keep])
        else:  # one item left: alpha is undefined
            drop_raw = drop_std = np.full(k, np.nan)
        r_drop = (col - var) / np.sqrt(var * (total - 2 * col + var))
        columns = {
            "item": list(matrix.items),
            "n": n,
            "mean": np.nanmean(matrix.values, axis=0),
            "sd": np.sqrt(var),
            "raw_r": col / np.sqrt(var * total),
            "std_r": r.sum(axis=0) / np.sqrt(r.sum()),
            "r_cor": r_smc.sum(axis=0) / np.sqrt(r_smc.sum()),
            "r_drop": r_drop,
            "alpha_if_deleted": drop_raw,
            "std_alpha_if_deleted": drop_std,
            "reverse_keyed": _clearly_negative(r_drop, n),
        }
    return pl.DataFrame(columns).fill_nan(None)


def _clearly_negative(r: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Negative and significantly so (one-sided t-test at 5%): an item with no relation to
    the scale (pure noise) hovers around 0 and is not reverse-keyed, just useless."""
    with np.errstate(divide="ignore", invalid="ignore"):
        t = r * np.sqrt((n - 2) / np.maximum(1 - r**2, 1e-12))
    return (r < 0) & (stats.t.cdf(t, np.maximum(n - 2, 1)) < 0.05)


def split_half(cov: np.ndarray) -> tuple[float, float]:
    """Odd–even split: correlation of the two half totals and its Spearman–Brown step-up."""
    k = cov.shape[0]
    odd, even = np.arange(0, k, 2), np.arange(1, k, 2)
    c_ab = cov[np.ix_(odd, even)].sum()
    r = c_ab / np.sqrt(cov[np.ix_(odd, odd)].sum() * cov[np.ix_(even, even)].sum())
    return float(r), float(2 * r / (1 + r))


def reliability(
    data: pl.DataFrame,
    items: Sequence[str] | None = None,
    *,
    missing: str = "pairwise",
    ci: str = "feldt",
    level: float = 0.95,
    n_boot: int = 1000,
    seed: int | None = 0,
    directions: Mapping[str, str] | None = None,
) -> Result:
    """Reliability report for the item columns of `data` (default: every numeric column).

    Tables: "items" (item, n, mean, sd, raw_r, std_r, r_cor, r_drop, alpha_if_deleted,
    std_alpha_if_deleted, reverse_keyed, flag). Headline: alpha, alpha_ci (low, high),
    std_alpha, g6, average_r, median_r, n, n_complete, k, omega_total, omega_reversed
    (items omega counted reversed), split_half_r, split_half_sb, missing, ci_method, level. `directions` (item -> "higher"/"lower")
    lets the reverse-keyed advice name the spec change to make.
    """
    if ci not in CI_METHODS:
        raise InputError(f"unknown interval method {ci!r}", fix="use feldt or bootstrap")
    if not 0 < level < 1:
        raise InputError(f"confidence level {level} is not between 0 and 1", fix="e.g. 0.95")
    matrix = item_matrix(data, items, missing)
    cov, r = moments(matrix)
    k, n = matrix.k, matrix.n
    alpha = alpha_from_cov(cov)
    interval = (
        feldt_ci(alpha, n, k, level) if ci == "feldt"
        else bootstrap_ci(matrix, level, n_boot, seed)
    )
    off = r[np.triu_indices(k, 1)]
    table = item_table(matrix, cov, r).with_columns(
        flag=pl.when(pl.col("reverse_keyed")).then(pl.lit("reverse-keyed"))
        .when((pl.col("alpha_if_deleted") > alpha + 0.01) | (pl.col("r_drop") < 0))
        .then(pl.lit("alpha rises if dropped"))
        .otherwise(pl.lit(""))
    )
    notes = list(_item_notes(table, alpha, directions))
    if copies := fully_predicted(r):
        listed = ", ".join(repr(matrix.items[i]) for i in copies)
        notes.append(
            f"The item correlation matrix is singular: {listed} are predicted exactly by the other "
            "items (copies or sums of them). Guttman's lambda 6 counts them as fully predicted "
            "(squared multiple correlations by projection). Fix: drop the redundant items."
        )

    omega, flipped = None, []
    try:
        omega, flipped = omega_keyed(minres(r, 1), matrix.items)
    except AnalysisError as exc:
        notes.append(f"Omega total not reported: {exc}")
    if flipped:
        listed = ", ".join(repr(i) for i in flipped)
        notes.append(
            f"Omega total counts {listed} reversed (negative loading on the common factor), as "
            "psych::omega does; alpha and the item table use the items as given."
        )
    sh_r, sh_sb = split_half(cov)
    complete = int((~np.isnan(matrix.values).any(axis=1)).sum())
    if missing == "pairwise" and complete < n:
        notes.append(
            f"Pairwise deletion: {n} customers answered at least one item, {complete} "
            "answered all; each covariance uses the customers who answered both items."
        )
    return Result(
        name="scale.reliability",
        title="Scale reliability",
        tables={"items": table},
        headline={
            "alpha": alpha, "alpha_ci": interval, "std_alpha": standardised_alpha(r),
            "g6": 1 - (k - smc(r).sum()) / r.sum(),
            "average_r": float(off.mean()), "median_r": float(np.median(off)),
            "n": n, "n_complete": complete, "k": k, "omega_total": omega, "omega_reversed": flipped,
            "split_half_r": sh_r, "split_half_sb": sh_sb,
            "missing": missing, "ci_method": ci, "level": level,
        },
        params={"items": list(matrix.items), "missing": missing, "ci": ci, "level": level,
                "n_boot": n_boot if ci == "bootstrap" else None},
        notes=tuple(notes),
    )


def omega_keyed(fit: FactorFit, items: Sequence[str]) -> tuple[float, list[str]]:
    """Omega total with reverse-keyed items flipped, and the items flipped.

    Reversing an item negates its loading and leaves its uniqueness, so flipping the items
    that load against the factor (its sign set by the majority of the loadings) is omega
    of the items keyed alike, as psych::omega computes it by default.
    """
    loadings = fit.loadings[:, 0]  # minres makes their sum positive
    flipped = [item for item, loading in zip(items, loadings) if loading < 0]
    return omega_total(replace(fit, loadings=np.abs(fit.loadings))), flipped


def _item_notes(table: pl.DataFrame, alpha: float, directions: Mapping[str, str] | None):
    for row in table.iter_rows(named=True):
        if row["reverse_keyed"]:
            if directions and row["item"] in directions:
                flip = "lower" if directions[row["item"]] == "higher" else "higher"
                fix = f'set direction = "{flip}" for this item in the spec'
            else:
                fix = "reverse it (max + min − value; direction = \"lower\" in a spec)"
            yield (
                f"Item {row['item']!r} correlates negatively with the rest of the scale "
                f"(r.drop = {row['r_drop']:.2f}): it looks reverse-keyed. Fix: {fix}, "
                "and check again."
            )
        elif row["alpha_if_deleted"] is not None and row["alpha_if_deleted"] > alpha + 0.01:
            yield (
                f"Dropping item {row['item']!r} would raise alpha from {alpha:.3f} to "
                f"{row['alpha_if_deleted']:.3f}: it measures something else."
            )
        elif (row["r_drop"] or 0) < 0:
            # With two items there is no alpha once one is dropped; say what is known.
            yield (
                f"Item {row['item']!r} barely relates to the rest of the scale "
                f"(r.drop = {row['r_drop']:.2f}): it measures something else."
            )

