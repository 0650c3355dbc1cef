"""Rotations of a factor loading matrix: varimax (orthogonal), oblimin and promax (oblique).

Oblique rotations let the factors correlate, as loyalty facets usually do; they return
the pattern loadings and the factor correlation matrix Φ (the structure matrix is
pattern · Φ). Oblimin is direct oblimin with γ = 0 (quartimin) by the gradient projection
algorithm of Bernaards & Jennrich (2005), as GPArotation and factor_analyzer compute it;
promax is Hendrickson & White (1964), power 4, on the Kaiser-normalised varimax solution,
as psych's "Promax" and factor_analyzer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.errors import AnalysisError, InputError
from core.scale.factor import varimax

ROTATIONS = ("varimax", "oblimin", "promax", "none")
OBLIQUE = ("oblimin", "promax")


@dataclass(frozen=True)
class Rotated:
    loadings: np.ndarray  # k × f pattern loadings
    phi: np.ndarray | None  # f × f factor correlations (None: orthogonal)


def rotate(loadings: np.ndarray, method: str) -> Rotated:
    """The loadings rotated by `method`, each factor's larger loadings positive."""
    if method not in ROTATIONS:
        raise InputError(f"unknown rotation {method!r}", fix="use " + ", ".join(ROTATIONS))
    if loadings.shape[1] < 2 or method == "none":
        return Rotated(np.array(loadings, float), None)
    if method == "varimax":
        return Rotated(varimax(loadings), None)
    pattern, phi = oblimin(loadings) if method == "oblimin" else promax(loadings)
    signs = np.where(pattern.sum(axis=0) < 0, -1.0, 1.0)
    return Rotated(pattern * signs, phi * np.outer(signs, signs))


def _quartimin(lam: np.ndarray) -> tuple[float, np.ndarray]:
    """Oblimin criterion with γ = 0 and its gradient: Σ over items of λ²ᵢⱼλ²ᵢₖ, j ≠ k."""
    off = np.dot(lam**2, 1 - np.eye(lam.shape[1]))
    return float(np.sum(lam**2 * off) / 4), lam * off


def oblimin(a: np.ndarray, tol: float = 1e-5, max_iter: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    """Gradient projection oblique rotation: (pattern loadings, Φ)."""
    t = np.eye(a.shape[1])
    lam = a @ np.linalg.inv(t).T
    f, g_lam = _quartimin(lam)
    g = -(lam.T @ g_lam @ np.linalg.inv(t)).T
    step = 1.0
    for _ in range(max_iter + 1):
        g_proj = g - t @ np.diag(np.sum(t * g, axis=0))
        s = np.sqrt(np.sum(g_proj**2))
        if s < tol:
            break
        step *= 2
        for _ in range(11):  # halve the step until the criterion falls enough
            x = t - step * g_proj
            t_new = x / np.sqrt(np.sum(x**2, axis=0))
            lam_new = a @ np.linalg.inv(t_new).T
            f_new, g_lam_new = _quartimin(lam_new)
            if f - f_new > 0.5 * s**2 * step:
                break
            step /= 2
        t, lam, f = t_new, lam_new, f_new
        g = -(lam.T @ g_lam_new @ np.linalg.inv(t)).T
    else:
        raise AnalysisError("the oblimin rotation did not converge; try promax or fewer factors")
    return lam, t.T @ t


def promax(a: np.ndarray, power: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """Promax: varimax, then a least-squares fit towards its loadings raised to `power`."""
    h = np.sqrt((a**2).sum(axis=1, keepdims=True))  # Kaiser normalisation
    x = varimax(a / h, normalize=False)
    target = x * np.abs(x) ** (power - 1)
    u = np.linalg.lstsq(x, target, rcond=None)[0]
    u = u @ np.diag(np.sqrt(np.diag(np.linalg.pinv(u.T @ u))))
    u_inv = np.linalg.inv(u)
    return (x @ u) * h, u_inv @ u_inv.T
