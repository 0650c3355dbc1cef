"""Item matrices under a missing-data policy, and the covariances the reports rest on.

pairwise: every covariance uses the customers who answered both items (like R's
use="pairwise"); listwise: only customers who answered every item; impute_median:
each gap is filled with the item's median first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from core.errors import AnalysisError, InputError

MISSING_POLICIES: tuple[str, ...] = ("pairwise", "listwise", "impute_median")


@dataclass(frozen=True)
class ItemMatrix:
    """Item values as floats (NaN = missing) after the missing-data policy was applied."""

    items: tuple[str, ...]
    values: np.ndarray  # n × k
    policy: str
    ids: np.ndarray | None = None  # customer ids of the rows kept, when known

    @property
    def n(self) -> int:
        return self.values.shape[0]

    @property
    def k(self) -> int:
        return self.values.shape[1]


def numeric_columns(df: pl.DataFrame) -> list[str]:
    """Every numeric column except customer_id: the default item set."""
    return [c for c, t in df.schema.items() if t.is_numeric() and c != "customer_id"]


def item_matrix(
    df: pl.DataFrame, items: Sequence[str] | None = None, missing: str = "pairwise",
    *, min_items: int = 2,
) -> ItemMatrix:
    """Pull the item columns out of `df` as a float matrix under the missing-data policy."""
    if missing not in MISSING_POLICIES:
        raise InputError(
            f"unknown missing-data policy {missing!r}",
            fix="use one of " + ", ".join(MISSING_POLICIES),
        )
    items = list(items) if items is not None else numeric_columns(df)
    absent = [c for c in items if c not in df.columns]
    if absent:
        raise InputError(
            f"no column named {absent[0]!r} among the data's columns",
            column=absent[0], fix="available columns: " + ", ".join(df.columns),
        )
    if len(set(items)) != len(items):
        raise InputError("an item is named twice", fix="name each item once")
    not_numeric = [c for c in items if not df.schema[c].is_numeric()]
    if not_numeric:
        raise InputError(
            f"item {not_numeric[0]!r} is not numeric ({df.schema[not_numeric[0]]})",
            column=not_numeric[0], fix="choose numeric columns, or recode the answers as numbers",
        )
    if len(items) < min_items:
        raise InputError(
            f"a scale needs at least {min_items} items, got {len(items)}",
            fix="name more item columns",
        )
    values = (
        df.select(pl.col(items).cast(pl.Float64).fill_nan(None)).to_numpy().astype(float)
        if df.height else np.empty((0, len(items)))
    )
    ids = df["customer_id"].to_numpy() if "customer_id" in df.columns else None
    keep = ~np.isnan(values).all(axis=1)  # a row with no answers tells nothing
    if missing == "listwise":
        keep &= ~np.isnan(values).any(axis=1)
    values = values[keep]
    ids = ids[keep] if ids is not None else None
    if missing == "impute_median" and values.size:
        medians = np.nanmedian(values, axis=0)
        gaps = np.isnan(values)
        values = np.where(gaps, medians[None, :], values)
    if values.shape[0] < 3:
        raise AnalysisError(
            f"only {values.shape[0]} customers have usable answers under the {missing} "
            "policy; reliability needs at least 3"
        )
    return ItemMatrix(tuple(items), values, missing, ids)


def pairwise_moments(
    values: np.ndarray, weights: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Covariance and correlation (ddof 1) over pairwise-complete rows, and pair counts.

    As R's cov/cor(use="pairwise"): each entry uses the rows where both items are
    present, including the two standard deviations of a correlation. `weights` are
    frequency weights (bootstrap resampling counts). On complete data these equal
    np.cov and np.corrcoef.
    """
    present = ~np.isnan(values)
    m = present.astype(float)
    # Centre first: covariance is shift-invariant and sums of large raw values lose digits.
    centre = np.nanmean(values, axis=0) if values.size else 0.0
    x = np.where(present, values - centre, 0.0)
    w = np.ones(values.shape[0]) if weights is None else np.asarray(weights, float)
    wm = m * w[:, None]
    wx = x * w[:, None]
    n_pair = m.T @ wm  # rows where both present
    sum_x = wx.T @ m  # [i, j]: sum of item i over rows where j is present too
    sum_xx = (wx * x).T @ m
    sum_xy = wx.T @ x
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = (sum_xy - sum_x * sum_x.T / n_pair) / (n_pair - 1)
        var_given = (sum_xx - sum_x**2 / n_pair) / (n_pair - 1)  # var of i where j present
        corr = cov / np.sqrt(var_given * var_given.T)
    np.fill_diagonal(corr, 1.0)
    return cov, corr, n_pair


class WeightedCov:
    """Pairwise covariance under many weight vectors (bootstrap), with the masks and
    centring done once."""

    def __init__(self, values: np.ndarray) -> None:
        present = ~np.isnan(values)
        self.m = present.astype(float)
        self.x = np.where(present, values - np.nanmean(values, axis=0), 0.0)

    def __call__(self, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        wx = self.x * w[:, None]
        n_pair = self.m.T @ (self.m * w[:, None])
        sum_x = wx.T @ self.m
        with np.errstate(invalid="ignore", divide="ignore"):
            cov = (wx.T @ self.x - sum_x * sum_x.T / n_pair) / (n_pair - 1)
        return cov, n_pair


def check_pairs(n_pair: np.ndarray, items: Sequence[str]) -> None:
    """Each pair of items must be answered together by at least 3 customers."""
    low = np.argwhere(n_pair < 3)
    if low.size:
        i, j = low[0]
        raise AnalysisError(
            f"items {items[i]!r} and {items[j]!r} are answered together by only "
            f"{int(n_pair[i, j])} customers; their covariance cannot be estimated"
        )


def moments(matrix: ItemMatrix) -> tuple[np.ndarray, np.ndarray]:
    """Item covariance and correlation matrices under the matrix's policy."""
    cov, corr, n_pair = pairwise_moments(matrix.values)
    check_pairs(n_pair, matrix.items)
    flat = np.flatnonzero(~(np.diag(cov) > 0))
    if flat.size or not np.all(np.isfinite(corr)):
        name = matrix.items[flat[0]] if flat.size else "an item"
        raise AnalysisError(
            f"item {name!r} has the same value for every customer (at least among those "
            "who answered another item too); it carries no information. "
            "Fix: leave it out of the scale"
        )
    return cov, corr


# Above this condition number R⁻¹ is noise (an item copies or sums others).
SINGULAR_CONDITION = 1e10


def is_singular(r: np.ndarray) -> bool:
    return not np.all(np.isfinite(r)) or np.linalg.cond(r) > SINGULAR_CONDITION


def smc(r: np.ndarray) -> np.ndarray:
    """Squared multiple correlation of each item with the others: 1 - 1/diag(R⁻¹).

    When R is singular, R⁻¹ does not exist (or is rounding noise), so each item's R² is
    found by projecting it on the others (the least-squares fit, unique even then): an
    item that copies or sums others gets 1, as it should."""
    if not is_singular(r):
        return 1.0 - 1.0 / np.diag(np.linalg.inv(r))
    k = r.shape[0]
    out = np.empty(k)
    for i in range(k):  # k is the number of items: a few dozen at most
        others = np.arange(k) != i
        rho = r[others, i]
        out[i] = rho @ np.linalg.pinv(r[np.ix_(others, others)], hermitian=True) @ rho
    return np.clip(out, 0.0, 1.0)


def fully_predicted(r: np.ndarray, tol: float = 1e-6) -> list[int]:
    """Indices of items the others predict exactly (R² = 1): copies and sums of others."""
    return [i for i, v in enumerate(smc(r)) if v > 1 - tol] if is_singular(r) else []
