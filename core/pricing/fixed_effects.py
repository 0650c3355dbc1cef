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


def weighted_demean(values: np.ndarray, weights: np.ndarray, a: np.ndarray, b: np.ndarray,
                    tolerance: float = TOLERANCE) -> np.ndarray:
    """demean with weighted means: the residual of a weighted least-squares fit on both sets of
    dummies."""
    out = np.array(values, dtype=np.float64, copy=True)
    na, nb = a.max() + 1, b.max() + 1
    weight_a = np.bincount(a, weights=weights, minlength=na)
    weight_b = np.bincount(b, weights=weights, minlength=nb)
    scale = max(float(np.abs(values).max()), 1.0)
    for _ in range(MAX_SWEEPS):
        before = out.copy()
        for codes, total, n in ((a, weight_a, na), (b, weight_b, nb)):
            for j in range(out.shape[1]):
                out[:, j] -= (np.bincount(codes, weights=weights * out[:, j], minlength=n) / total)[codes]
        if np.abs(out - before).max() <= tolerance * scale:
            break
    return out


def poisson_slope(y: np.ndarray, x: np.ndarray, product: np.ndarray, period: np.ndarray,
                  errors: str = "cluster", max_iterations: int = 100) -> tuple[Slope, np.ndarray]:
    """Poisson pseudo-maximum likelihood (PPML, Santos Silva & Tenreyro 2006) of y (counts, zeros
    kept) on x with product and period fixed effects: log E[y] = b x + product + period.

    IRLS where each step's weighted least squares on the dummies is a weighted within-transformation
    (as ppmlhdfe does), so no dummy matrix is built. The slope and its robust errors are those of
    statsmodels' GLM Poisson with every dummy: cluster by product with G/(G-1) x (N-1)/(N-K), or
    HC1 with N/(N-K) (statsmodels' GLM "HC1" applies no such factor: it is HC0 there), sum
    (x~ (y - mu))^2 over the weighted bread (sum mu x~^2)^2; t intervals with G-1 or N-K degrees
    of freedom, as statsmodels gives with use_t. Products or periods whose units are all zero
    carry no information (their effect runs to minus infinity) and must be left out by the
    caller. Returns the slope and mu."""
    mean_y = np.bincount(product, weights=y) / np.bincount(product)
    mu = np.maximum((y + mean_y[product]) / 2, 1e-3)  # a start every unit can reach
    eta = np.log(mu)
    beta, deviance = 0.0, np.inf
    for _ in range(max_iterations):
        z = eta + (y - mu) / mu
        demeaned = weighted_demean(np.column_stack((z, x)), mu, product, period)
        zt, xt = demeaned[:, 0], demeaned[:, 1]
        beta = float((mu * xt) @ zt) / float((mu * xt) @ xt)
        eta = z - (zt - beta * xt)  # fitted: z minus its weighted residual
        mu = np.exp(eta)
        positive = y > 0
        new = 2 * float(np.sum(y[positive] * np.log(y[positive] / mu[positive])) - np.sum(y - mu))
        if abs(new - deviance) <= 1e-10 * (abs(new) + 0.1):
            deviance = new
            break
        deviance = new
    # Errors at the converged fit: x~ weighted-demeaned with the final mu.
    xt = weighted_demean(x[:, None], mu, product, period)[:, 0]
    bread = float((mu * xt) @ xt)
    score = xt * (y - mu)
    n, k = len(y), rank_of_effects(product, period) + 1
    if errors == "cluster":
        g = int(product.max()) + 1
        per = np.bincount(product, weights=score, minlength=g)
        var = g / (g - 1) * (n - 1) / (n - k) * float(per @ per) / bread**2
        df = g - 1
    else:
        var = n / (n - k) * float(score @ score) / bread**2
        df = n - k
    return Slope(beta, float(np.sqrt(var)), df, n, k), mu
