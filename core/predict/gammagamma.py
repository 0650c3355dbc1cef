"""The Gamma-Gamma model of spend per transaction (Fader & Hardie, "The Gamma-Gamma
Model of Monetary Value", 2013; Colombo & Jiang 1999).

Each transaction's value z ~ Gamma(p, nu) around a customer's mean p/nu, with
nu ~ Gamma(q, gamma) across customers. For x repeat transactions with mean zbar:

    f(zbar | x) = G(px+q) / (G(px) G(q)) * gamma^q x^(px) zbar^(px-1) / (gamma + x zbar)^(px+q)

Only customers with at least one repeat purchase and positive mean spend are used.
The model assumes spend is independent of purchase frequency; ``frequency_spend_check``
measures that.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import digamma, gammaln
from scipy.stats import pearsonr

from core.errors import AnalysisError, InputError
from core.predict._mle import dot, exploration_sample, fit_log_space, store_fit

NAMES = ("p", "q", "gamma")


class _Spends:
    """Repeat buyers' (x, mean spend); per-row logs computed once, functions of x per level."""

    def __init__(self, x: np.ndarray, m: np.ndarray) -> None:
        self.x, self.m = x, m
        self.levels, self.level_of = np.unique(x, return_inverse=True)
        self.level_counts = np.bincount(self.level_of).astype(float)
        self.n = float(len(x))
        self.sum_x_log_xm = dot(x, np.log(m) + np.log(x))
        self.sum_log_m = float(np.log(m).sum())

    def negative_log_likelihood(self, log_params: np.ndarray) -> tuple[float, np.ndarray]:
        p, q, g = np.exp(log_params)
        k, n_k = self.levels, self.level_counts
        log_total = np.log(g + self.x * self.m)
        pkq = p * k + q
        ll = (
            dot(gammaln(pkq) - gammaln(p * k), n_k) - self.n * (gammaln(q) - q * np.log(g))
            + p * self.sum_x_log_xm - self.sum_log_m
            - dot(p * self.x + q, log_total)
        )
        d_p = dot(k * (digamma(pkq) - digamma(p * k)), n_k) + self.sum_x_log_xm - dot(
            self.x, log_total
        )
        d_q = dot(digamma(pkq), n_k) - self.n * (digamma(q) - np.log(g)) - log_total.sum()
        d_g = self.n * q / g - ((p * self.x + q) / (g + self.x * self.m)).sum()
        return -float(ll), -np.array([d_p * p, d_q * q, d_g * g])


def _repeat_buyers(frequency, monetary_value) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(frequency, float)
    m = np.asarray(monetary_value, float)
    if x.shape != m.shape or x.ndim != 1:
        raise InputError("frequency and monetary_value must be 1-d arrays of the same length")
    keep = (x > 0) & (m > 0) & np.isfinite(m)
    return x[keep], m[keep]


class GammaGammaModel:
    """Gamma-Gamma spend model; learned ``params_`` (p, q, gamma), ``se_``, ``cov_``,
    ``log_likelihood_``, ``n_customers_`` (repeat buyers used), ``fit_``."""

    def __init__(self, n_starts: int = 4, random_state: int = 0) -> None:
        self.n_starts = n_starts
        self.random_state = random_state

    def fit(self, frequency, monetary_value) -> GammaGammaModel:
        x, m = _repeat_buyers(frequency, monetary_value)
        if len(x) < 10:
            raise AnalysisError(
                f"the Gamma-Gamma spend model needs at least 10 customers with a repeat "
                f"purchase; there are {len(x)}"
            )
        rng = np.random.default_rng(self.random_state)
        # Start near the method of moments for one transaction: mean spend = p gamma/(q-1).
        guess = np.log([1.0, 2.0, np.mean(m)])
        starts = [guess, np.log([5.0, 3.0, np.mean(m)])]
        starts += [guess + rng.normal(0, 1, 3) for _ in range(max(self.n_starts - 2, 0))]
        rows = exploration_sample(len(x), self.random_state)
        fit = fit_log_space(
            _Spends(x, m).negative_log_likelihood,
            NAMES, starts[: max(self.n_starts, 1)], model="Gamma-Gamma", n_obs=float(len(x)),
            explore=None if rows is None else (
                _Spends(x[rows], m[rows]).negative_log_likelihood, len(rows)
            ),
            hint="e.g. mean spend barely differs between customers",
        )
        store_fit(self, fit, n_customers=len(x))
        if self.params_["q"] <= 1:
            raise AnalysisError(
                f"the Gamma-Gamma fit gives q = {self.params_['q']:.3f} <= 1, so expected spend "
                "is infinite: spend is too heavy-tailed for this model (check for outliers)"
            )
        return self

    def population_mean_spend(self) -> float:
        p, q, g = (self.params_[k] for k in NAMES)
        return p * g / (q - 1)

    def expected_spend(self, frequency, monetary_value) -> np.ndarray:
        """E[spend per transaction | x, zbar]; the population mean for x == 0 (eq. 5)."""
        if not hasattr(self, "params_"):
            raise AnalysisError("the Gamma-Gamma model is not fitted yet")
        p, q, g = (self.params_[k] for k in NAMES)
        x = np.asarray(frequency, float)
        m = np.where(x > 0, np.asarray(monetary_value, float), 0.0)
        return (g + x * m) * p / (p * x + q - 1)


@dataclass(frozen=True)
class SpendCheck:
    correlation: float
    p_value: float
    n: int
    ok: bool  # False when spend and frequency look related (|r| >= threshold and p < .05)


def frequency_spend_check(frequency, monetary_value, threshold: float = 0.3) -> SpendCheck:
    """Pearson correlation of repeat frequency and mean spend among repeat buyers.

    Gamma-Gamma assumes they are independent; a clear correlation makes CLV biased.
    """
    x, m = _repeat_buyers(frequency, monetary_value)
    if len(x) < 3 or np.ptp(x) == 0 or np.ptp(m) == 0:
        return SpendCheck(float("nan"), float("nan"), len(x), True)
    r, pval = pearsonr(x, m)
    return SpendCheck(float(r), float(pval), len(x), not (abs(r) >= threshold and pval < 0.05))
