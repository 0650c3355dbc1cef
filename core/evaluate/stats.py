"""Small, vectorised test statistics the evaluation reports share.

Every function takes numbers or numpy arrays (one entry per comparison) and returns
arrays, so a report with several variants or groups calls each function once.
Definitions follow /work/shared/DOMAIN.md; tests check them against statsmodels/scipy.
"""

from __future__ import annotations

import numpy as np
# scipy.special, not scipy.stats: the same functions (scipy.stats calls them), and importing
# scipy.stats costs about 0.7 s of CPU in every report that compares groups.
from scipy import special

from core.errors import InputError


def z_critical(confidence: float) -> float:
    """Two-sided normal critical value, e.g. 1.96 for 0.95."""
    return float(special.ndtri(0.5 + confidence / 2))


def two_proportion_ztest(x1, n1, x2, n2):
    """Pooled two-proportion z-test of p1 == p2: (z, two-sided p-value)."""
    x1, n1, x2, n2 = (np.asarray(a, dtype=float) for a in (x1, n1, x2, n2))
    pooled = (x1 + x2) / (n1 + n2)
    se = np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (x1 / n1 - x2 / n2) / se
    return z, 2 * special.ndtr(-np.abs(z))


def diff_ci_wald(x1, n1, x2, n2, confidence: float):
    """Unpooled (Wald) interval for p1 - p2: (low, high). Too narrow with small counts:
    with no conversion in an arm that arm adds no variance at all."""
    x1, n1, x2, n2 = (np.asarray(a, dtype=float) for a in (x1, n1, x2, n2))
    p1, p2 = x1 / n1, x2 / n2
    half = z_critical(confidence) * np.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    return p1 - p2 - half, p1 - p2 + half


def wilson_ci(x, n, confidence: float):
    """Wilson score interval for one proportion x / n: (low, high)."""
    x, n = np.asarray(x, dtype=float), np.asarray(n, dtype=float)
    z = z_critical(confidence)
    p = x / n
    centre = (x + z**2 / 2) / (n + z**2)
    half = z * np.sqrt(n) / (n + z**2) * np.sqrt(p * (1 - p) + z**2 / (4 * n))
    return centre - half, centre + half


def diff_ci_newcombe(x1, n1, x2, n2, confidence: float):
    """Newcombe's hybrid score interval for p1 - p2 (his method 10): the two Wilson
    intervals combined. Keeps its coverage with small counts and zero events."""
    x1, n1, x2, n2 = (np.asarray(a, dtype=float) for a in (x1, n1, x2, n2))
    p1, p2 = x1 / n1, x2 / n2
    (l1, u1), (l2, u2) = wilson_ci(x1, n1, confidence), wilson_ci(x2, n2, confidence)
    diff = p1 - p2
    return diff - np.hypot(p1 - l1, u2 - p2), diff + np.hypot(u1 - p1, p2 - l2)


def diff_ci_agresti_caffo(x1, n1, x2, n2, confidence: float):
    """Agresti & Caffo (2000): the Wald interval after one success and one failure are
    added to each arm."""
    x1, n1, x2, n2 = (np.asarray(a, dtype=float) for a in (x1, n1, x2, n2))
    return diff_ci_wald(x1 + 1, n1 + 2, x2 + 1, n2 + 2, confidence)


DIFF_INTERVALS = {
    "newcombe": diff_ci_newcombe, "wald": diff_ci_wald, "agresti-caffo": diff_ci_agresti_caffo,
}


def diff_ci(x1, n1, x2, n2, confidence: float, method: str = "newcombe"):
    """Interval for a difference of two proportions p1 - p2 by the named method."""
    try:
        interval = DIFF_INTERVALS[method]
    except KeyError:
        raise InputError(f"unknown interval method {method!r}",
                         fix="use " + ", ".join(DIFF_INTERVALS)) from None
    return interval(x1, n1, x2, n2, confidence)


def interval_name(method: str) -> str:
    """How a difference-of-proportions interval method reads in a note."""
    return {"newcombe": "Newcombe's hybrid score", "wald": "Wald (unpooled)",
            "agresti-caffo": "Agresti-Caffo"}[method]


def ratio_ci_log(x1, n1, x2, n2, confidence: float):
    """Interval for p1 / p2 from the log ratio (Katz); relative lift is the ratio - 1."""
    x1, n1, x2, n2 = (np.asarray(a, dtype=float) for a in (x1, n1, x2, n2))
    with np.errstate(divide="ignore", invalid="ignore"):  # zero counts give inf/nan: unknown
        log_ratio = np.log((x1 / n1) / (x2 / n2))
        half = z_critical(confidence) * np.sqrt(1 / x1 - 1 / n1 + 1 / x2 - 1 / n2)
        return np.exp(log_ratio - half), np.exp(log_ratio + half)


def welch(mean1, var1, n1, mean2, var2, n2, confidence: float):
    """Welch's t-test of mean1 == mean2 from summary statistics (sample variances, ddof=1).

    Returns (diff, ci_low, ci_high, t, df, two-sided p-value).
    """
    m1, v1, n1, m2, v2, n2 = (np.asarray(a, dtype=float) for a in (mean1, var1, n1, mean2, var2, n2))
    a, b = v1 / n1, v2 / n2
    se = np.sqrt(a + b)
    diff = m1 - m2
    with np.errstate(divide="ignore", invalid="ignore"):
        df = (a + b) ** 2 / (a**2 / (n1 - 1) + b**2 / (n2 - 1))
        t = diff / se
    half = special.stdtrit(df, 0.5 + confidence / 2) * se
    return diff, diff - half, diff + half, t, df, 2 * special.stdtr(df, -np.abs(t))


def holm(p_values) -> np.ndarray:
    """Holm step-down adjusted p-values (family-wise error control)."""
    p = np.asarray(p_values, dtype=float)
    m = p.size
    if m == 0:
        return p
    order = np.argsort(p)
    stepped = np.maximum.accumulate((m - np.arange(m)) * p[order])
    adjusted = np.empty(m)
    adjusted[order] = np.minimum(stepped, 1.0)
    return adjusted


def chisquare_gof(observed, expected_shares):
    """Chi-square goodness of fit of counts against planned shares: (statistic, p-value)."""
    obs = np.asarray(observed, dtype=float)
    shares = np.asarray(expected_shares, dtype=float)
    expected = obs.sum() * shares / shares.sum()
    stat = float(((obs - expected) ** 2 / expected).sum())
    # scipy.stats gives NaN for zero degrees of freedom, chdtrc 0
    return stat, float(special.chdtrc(obs.size - 1, stat)) if obs.size > 1 else float("nan")


def nps_se(promoter_share, detractor_share, n):
    """Standard error of NPS in points: 100 * sqrt((p + d - (p - d)^2) / n)."""
    p, d, n = (np.asarray(a, dtype=float) for a in (promoter_share, detractor_share, n))
    return 100 * np.sqrt((p + d - (p - d) ** 2) / n)


# Prior precision of the standardised effect (effect / sd) in the anytime-valid test's
# normal mixture: 100 puts the prior sd at 0.1 sd, the size of typical A/B effects.
SEQUENTIAL_PHI = 100.0


def anytime_valid_t(mean1, var1, n1, mean2, var2, n2, confidence: float,
                    phi: float = SEQUENTIAL_PHI):
    """Anytime-valid t-test of mean1 == mean2 (Lindon, Ham, Tingley & Bojinov 2024,
    "Anytime-valid linear models and regression adjusted causal inference").

    The linear model y = b0 + b1·[arm 1] + e with a normal mixture (precision `phi`) on
    b1/σ gives a Bayes factor BF from the ordinary t statistic; p = min(1, 1/BF) and the
    confidence sequence hold at every sample size at once, so an analyst may look as
    often as they like and stop when p is small. Inputs are summary statistics (sample
    variances, ddof=1); the residual variance is pooled, as the linear model assumes.
    Returns (diff, ci_low, ci_high, p-value).
    """
    m1, v1, n1, m2, v2, n2 = (np.asarray(a, dtype=float) for a in (mean1, var1, n1, mean2, var2, n2))
    n = n1 + n2
    nu = n - 3  # residual degrees of freedom less one, as in the paper
    diff = m1 - m2
    alpha = 1 - confidence
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        sigma2 = ((n1 - 1) * np.nan_to_num(v1) + (n2 - 1) * np.nan_to_num(v2)) / (n - 2)
        z2 = 1 / (1 / n1 + 1 / n2)  # (σ / se)², the effective sample size
        se = np.sqrt(sigma2 / z2)
        t2 = diff**2 / (se**2)
        r = phi / (phi + z2)
        log_bf = 0.5 * np.log(r) + 0.5 * (nu + 1) * (np.log1p(t2 / nu) - np.log1p(r * t2 / nu))
        p = np.minimum(1.0, np.exp(-log_bf))
        c = (np.log(r) + 2 * np.log(alpha)) / (nu + 1)  # log of (r α²)^(1/(ν+1))
        spread = nu * -np.expm1(c) / np.maximum(0.0, np.exp(c) - r)
        radius = se * np.sqrt(spread)
    bad = ~(nu > 0) | ~(sigma2 > 0)
    p, radius = np.where(bad, np.nan, p), np.where(bad, np.nan, radius)
    return diff, diff - radius, diff + radius, p
