"""OLS of y on one regressor x with two sets of fixed effects (product and period), by
within-transformation (Frisch-Waugh-Lovell): y and x are demeaned by both factors with
alternating projections, so a panel of thousands of products needs no dummy matrix. The slope,
the residuals and therefore the robust standard errors are exactly those of the OLS with
every dummy; the degrees of freedom count the dummies (their rank, from the connected
components of the product-period graph), as statsmodels does for the full design.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

TOLERANCE = 1e-13
MAX_SWEEPS = 10_000


@dataclass(frozen=True)
class Slope:
    estimate: float
    se: float
    df: int  # degrees of freedom of the t interval
    n: int  # observations
    params: int  # columns of the full design (its rank): slope + fixed effects


def demean(values: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Columns of `values` with the means of factors a and b swept out (alternating projections)."""
    out = np.array(values, dtype=np.float64, copy=True)
    na, nb = a.max() + 1, b.max() + 1
    count_a, count_b = np.bincount(a, minlength=na), np.bincount(b, minlength=nb)
    scale = max(float(np.abs(out).max()), 1.0)
    for _ in range(MAX_SWEEPS):  # converges in a few dozen sweeps on retail panels
        before = out.copy()
        for codes, counts, n in ((a, count_a, na), (b, count_b, nb)):
            for j in range(out.shape[1]):
                out[:, j] -= (np.bincount(codes, weights=out[:, j], minlength=n) / counts)[codes]
        if np.abs(out - before).max() <= TOLERANCE * scale:
            break
    return out


def rank_of_effects(a: np.ndarray, b: np.ndarray) -> int:
    """Rank of [constant, dummies of a, dummies of b]: levels of a + levels of b - components."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    na, nb = a.max() + 1, b.max() + 1
    graph = coo_matrix((np.ones(len(a)), (a, na + b)), shape=(na + nb, na + nb))
    components, _ = connected_components(graph, directed=False)
    return int(na + nb - components)


def two_way_slope(y: np.ndarray, x: np.ndarray, product: np.ndarray, period: np.ndarray,
                  errors: str = "cluster") -> tuple[Slope, np.ndarray, np.ndarray]:
    """The slope with cluster-by-product (or HC1) errors, and the demeaned x and residuals.

    Cluster: G/(G-1) x (N-1)/(N-K) x sum over products of (sum x~ e)^2 / (sum x~^2)^2, t with G-1
    degrees of freedom; HC1: N/(N-K) x sum x~^2 e^2 / (sum x~^2)^2, t with N-K.
    """
    both = demean(np.column_stack((y, x)), product, period)
    return demeaned_slope(both[:, 0], both[:, 1], product, period, errors)


def demeaned_slope(yt: np.ndarray, xt: np.ndarray, product: np.ndarray, period: np.ndarray,
                   errors: str = "cluster") -> tuple[Slope, np.ndarray, np.ndarray]:
    """two_way_slope on y and x already demeaned by both factors (x~ must not be all zero)."""
    sxx = float(xt @ xt)
    beta = float(xt @ yt) / sxx
    resid = yt - beta * xt
    n, k = len(yt), rank_of_effects(product, period) + 1
    if errors == "cluster":
        g = int(product.max()) + 1
        score = np.bincount(product, weights=xt * resid, minlength=g)
        var = g / (g - 1) * (n - 1) / (n - k) * float(score @ score) / sxx**2
        df = g - 1
    else:
        var = n / (n - k) * float((xt * resid) @ (xt * resid)) / sxx**2
        df = n - k
    return Slope(beta, float(np.sqrt(var)), df, n, k), xt, resid
