"""Relative importance of correlated predictors in a linear regression, from correlations.

Everything works on the correlation matrix of the predictors (``rxx``) and their
correlations with the outcome (``rxy``), so a bootstrap replicate or a CV fold costs one
small matrix computation, whatever the number of rows.

- standardised coefficients: beta = rxx^-1 rxy;
- Johnson's (2000) relative weights: with rxx = Q diag(ev) Q' and L = Q diag(sqrt ev) Q'
  (the correlations of the predictors with their closest orthogonal counterparts),
  weights = (L o L) (L^-1 rxy)^2; they sum to R^2;
- Shapley decomposition of R^2 (LMG): each predictor's incremental R^2 averaged over
  all orders of entry, computed from the R^2 of every subset.
"""

from __future__ import annotations

from itertools import combinations
from math import factorial

import numpy as np

from core.errors import AnalysisError

MAX_SHAPLEY_PREDICTORS = 12


def standardized_coefficients(rxx: np.ndarray, rxy: np.ndarray) -> np.ndarray:
    return np.linalg.solve(rxx, rxy)


def r_squared(rxx: np.ndarray, rxy: np.ndarray) -> float:
    return float(rxy @ np.linalg.solve(rxx, rxy))


def relative_weights(rxx: np.ndarray, rxy: np.ndarray) -> np.ndarray:
    """Johnson's relative weights (raw epsilons, in R^2 units)."""
    ev, q = np.linalg.eigh(rxx)
    if ev.min() <= 0:
        raise AnalysisError(
            "the predictors are perfectly collinear; drop one of each redundant set"
        )
    lam = (q * np.sqrt(ev)) @ q.T
    beta = np.linalg.solve(lam, rxy)
    return (lam**2) @ (beta**2)


def _subset_r2(rxx: np.ndarray, rxy: np.ndarray) -> np.ndarray:
    """R^2 of every subset of predictors, indexed by bit mask (batched by subset size)."""
    p = len(rxy)
    r2 = np.zeros(1 << p)
    for k in range(1, p + 1):
        idx = np.array(list(combinations(range(p), k)))
        sub = rxx[idx[:, :, None], idx[:, None, :]]
        rhs = rxy[idx]
        r2[(1 << idx).sum(axis=1)] = np.einsum(
            "ij,ij->i", rhs, np.linalg.solve(sub, rhs[..., None])[..., 0]
        )
    return r2


def shapley_r2(rxx: np.ndarray, rxy: np.ndarray) -> np.ndarray:
    """Shapley values of R^2 (Lindeman, Merenda & Gold's LMG); they sum to R^2."""
    p = len(rxy)
    if p > MAX_SHAPLEY_PREDICTORS:
        raise AnalysisError(
            f"the Shapley decomposition needs 2^p regressions; {p} predictors are too many "
            f"(at most {MAX_SHAPLEY_PREDICTORS}); use relative weights instead"
        )
    r2 = _subset_r2(rxx, rxy)
    masks = np.arange(1 << p)
    sizes = np.array([bin(m).count("1") for m in masks])
    weight = np.array([factorial(s) * factorial(p - s - 1) / factorial(p) for s in range(p)])
    values = np.empty(p)
    for j in range(p):  # p passes, each vectorised over the 2^(p-1) subsets without j
        without = masks[(masks >> j) & 1 == 0]
        values[j] = (weight[sizes[without]] * (r2[without | (1 << j)] - r2[without])).sum()
    return values


METHODS = {"relative_weights": relative_weights, "shapley": shapley_r2}
