"""Factor-analytic building blocks on a correlation matrix.

Extraction is minimum residual (minres, as in R's psych::fa): the uniquenesses are
found with L-BFGS-B (bounds 0.005–1, start 1 − SMC) so the off-diagonal residuals of
R − ΛΛᵀ are as small as possible. Rotation is Kaiser-normalised varimax, as R's
stats::varimax.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import linalg, optimize, stats

from core.errors import AnalysisError
from core.scale.covariance import smc

_EPS = np.finfo(float).eps * 100


def _loadings_for(psi: np.ndarray, r: np.ndarray, n_factors: int) -> np.ndarray:
    reduced = r.copy()
    np.fill_diagonal(reduced, 1.0 - psi)
    values, vectors = linalg.eigh(reduced)
    values, vectors = values[::-1][:n_factors], vectors[:, ::-1][:, :n_factors]
    return vectors * np.sqrt(np.maximum(values, _EPS))


def _residual(psi: np.ndarray, r: np.ndarray, n_factors: int) -> float:
    loadings = _loadings_for(psi, r, n_factors)
    resid = r - loadings @ loadings.T
    np.fill_diagonal(resid, 0.0)
    return float(np.sum(resid**2))


@dataclass(frozen=True)
class FactorFit:
    loadings: np.ndarray  # k × f, unrotated, each column's sum made positive
    uniquenesses: np.ndarray
    heywood: bool  # a communality reached 1: the solution sits on its bound


def minres(r: np.ndarray, n_factors: int = 1) -> FactorFit:
    """Minimum-residual factor extraction from a correlation matrix."""
    k = r.shape[0]
    if n_factors < 1:
        raise AnalysisError("the number of factors must be at least 1")
    # Degrees of freedom of the model must not be negative for it to be identified.
    if ((k - n_factors) ** 2 - (k + n_factors)) < 0:
        raise AnalysisError(
            f"{n_factors} factor(s) cannot be identified from {k} items; "
            "use fewer factors or more items"
        )
    start = np.clip(1.0 - smc(r), 0.005, 1.0)
    res = optimize.minimize(
        _residual, start, args=(r, n_factors), method="L-BFGS-B",
        bounds=[(0.005, 1.0)] * k,
    )
    if not res.success:
        raise AnalysisError(f"the factor model did not converge ({res.message})")
    loadings = _loadings_for(res.x, r, n_factors)
    signs = np.where(loadings.sum(axis=0) < 0, -1.0, 1.0)
    loadings = loadings * signs
    communality = (loadings**2).sum(axis=1)
    return FactorFit(loadings, 1.0 - communality, bool(np.any(communality >= 0.995)))


def varimax(
    loadings: np.ndarray, normalize: bool = True, eps: float = 1e-5, max_iter: int = 1000
) -> np.ndarray:
    """Varimax rotation (Kaiser 1958) as in R's stats::varimax."""
    x = np.array(loadings, float)
    p, nc = x.shape
    if nc < 2:
        return x
    if normalize:
        sc = np.sqrt((x**2).sum(axis=1))
        x = x / sc[:, None]
    rot = np.eye(nc)
    d = 0.0
    for _ in range(max_iter):
        z = x @ rot
        b = x.T @ (z**3 - z @ np.diag((z**2).sum(axis=0)) / p)
        u, s, vt = np.linalg.svd(b)
        rot = u @ vt
        d_old, d = d, s.sum()
        if d < d_old * (1 + eps):
            break
    else:
        raise AnalysisError("the varimax rotation did not converge")
    z = x @ rot
    if normalize:
        z = z * sc[:, None]
    # Report each factor with its larger loadings positive.
    signs = np.where(z.sum(axis=0) < 0, -1.0, 1.0)
    return z * signs


def kmo(r: np.ndarray) -> tuple[float, np.ndarray]:
    """Kaiser–Meyer–Olkin sampling adequacy: overall and per item."""
    try:
        inv = np.linalg.inv(r)
    except np.linalg.LinAlgError as exc:
        raise AnalysisError(
            "the item correlation matrix is singular (an item is a copy or a sum of "
            "others); KMO needs it invertible. Fix: drop the redundant item"
        ) from exc
    d = np.sqrt(np.diag(inv))
    partial = -inv / np.outer(d, d)
    off = ~np.eye(r.shape[0], dtype=bool)
    r2 = np.where(off, r**2, 0.0)
    p2 = np.where(off, partial**2, 0.0)
    per_item = r2.sum(axis=0) / (r2.sum(axis=0) + p2.sum(axis=0))
    overall = r2.sum() / (r2.sum() + p2.sum())
    return float(overall), per_item


def bartlett(r: np.ndarray, n: int) -> tuple[float, int, float]:
    """Bartlett's test of sphericity: chi-square, degrees of freedom, p-value."""
    k = r.shape[0]
    sign, logdet = np.linalg.slogdet(r)
    if sign <= 0:
        raise AnalysisError(
            "the item correlation matrix is singular; Bartlett's test needs it "
            "positive definite. Fix: drop redundant items"
        )
    chi2 = -(n - 1 - (2 * k + 5) / 6) * logdet
    dof = k * (k - 1) // 2
    return float(chi2), dof, float(stats.chi2.sf(chi2, dof))


def eigenvalues(r: np.ndarray) -> np.ndarray:
    """Eigenvalues of the correlation matrix, largest first."""
    return np.sort(np.linalg.eigvalsh(r))[::-1]


def first_component(r: np.ndarray) -> np.ndarray:
    """Loadings on the first principal component of R (eigenvector × √eigenvalue)."""
    values, vectors = np.linalg.eigh(r)
    v = vectors[:, -1] * np.sqrt(max(values[-1], 0.0))
    return v if v.sum() >= 0 else -v


def omega_total(fit: FactorFit) -> float:
    """McDonald's omega total from a one-factor model: (Σλ)² / ((Σλ)² + Σψ)."""
    s = float(fit.loadings[:, 0].sum()) ** 2
    return s / (s + float(fit.uniquenesses.sum()))
