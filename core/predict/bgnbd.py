"""The BG/NBD model of repeat buying (Fader, Hardie & Lee 2005, "Counting Your Customers
the Easy Way").

While alive a customer buys as a Poisson process with rate lambda ~ Gamma(r, alpha);
after each purchase they drop out with probability p ~ Beta(a, b). Likelihood (their
eq. 6) per customer with x repeat purchases, last at t_x, observed for T:

    L = B(a, b+x)/B(a, b) * G(r+x) alpha^r / (G(r) (alpha+T)^(r+x))
        + [x > 0] B(a+1, b+x-1)/B(a, b) * G(r+x) alpha^r / (G(r) (alpha+t_x)^(r+x))

computed in logs (gammaln, betaln, logaddexp) with an analytic gradient.
"""

from __future__ import annotations

import numpy as np
from scipy.special import betaln, digamma, gammaln, hyp2f1

from core.errors import AnalysisError, InputError
from core.predict._mle import compress, dot, exploration_sample, fit_log_space, store_fit

NAMES = ("r", "alpha", "a", "b")


def _as_arrays(frequency, recency, T) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x, tx, big_t = (np.asarray(v, dtype=float) for v in (frequency, recency, T))
    if not (x.shape == tx.shape == big_t.shape) or x.ndim != 1:
        raise InputError("frequency, recency and T must be 1-d arrays of the same length")
    bad = (
        ~np.isfinite(x) | ~np.isfinite(tx) | ~np.isfinite(big_t)
        | (x < 0) | (tx < 0) | (tx > big_t) | ((x == 0) & (tx != 0)) | (x != np.round(x))
    )
    if bad.any():
        rows = np.flatnonzero(bad)[:5].tolist()
        raise InputError(
            "frequency must be a whole number >= 0 and 0 <= recency <= T "
            "(recency 0 when frequency is 0)", rows=rows,
            fix="build the inputs with core.predict.btyd_summary",
        )
    return x, tx, big_t


class _Histories:
    """Distinct (x, t_x, T) with counts; functions of x alone are computed per distinct x."""

    def __init__(self, x, tx, big_t, counts) -> None:
        self.tx, self.big_t, self.counts = tx, big_t, counts
        self.levels, self.level_of = np.unique(x, return_inverse=True)
        self.level_counts = np.bincount(self.level_of, weights=counts)
        self.repeat = x > 0
        self.x = x
        self.total = float(counts.sum())

    @classmethod
    def of(cls, x, tx, big_t) -> _Histories:
        (ux, utx, ut), counts, _ = compress(x, tx, big_t)
        return cls(ux, utx, ut, counts)

    def negative_log_likelihood(self, log_params: np.ndarray) -> tuple[float, np.ndarray]:
        r, alpha, a, b = np.exp(log_params)
        k, at = self.levels, self.level_of  # per distinct x, and each history's level
        # log of b + x - 1 is only used where x > 0, so b + x - 1 > 0 there
        log_b_x1 = np.log(np.where(k > 0, b + k - 1, 1.0))
        common_k = (
            gammaln(r + k) - gammaln(r) + r * np.log(alpha) + betaln(a, b + k) - betaln(a, b)
        )
        log_at = np.log(alpha + self.big_t)
        log_atx = np.log(alpha + self.tx)
        rx = r + self.x
        log_alive = -rx * log_at
        log_dropped = np.where(self.repeat, np.log(a) - log_b_x1[at] - rx * log_atx, -np.inf)
        mix = np.logaddexp(log_alive, log_dropped)
        w = np.exp(log_dropped - mix)  # share of the "dropped after last purchase" term
        v = 1.0 - w
        cw, cv = self.counts * w, self.counts * v
        ll = dot(common_k, self.level_counts) + dot(mix, self.counts)
        # gradient: pieces depending on x alone are summed per level first
        sum_w_level = np.bincount(at, weights=cw, minlength=len(k))
        n_k = self.level_counts
        d_r = (
            dot(digamma(r + k) - digamma(r) + np.log(alpha), n_k)
            - dot(cv, log_at) - dot(cw, log_atx)
        )
        d_alpha = r / alpha * self.total - dot(
            self.counts * rx, v / (alpha + self.big_t) + w / (alpha + self.tx)
        )
        d_a = dot(digamma(a + b) - digamma(a + b + k), n_k) + sum_w_level.sum() / a
        d_b = (
            dot(digamma(b + k) - digamma(a + b + k) - digamma(b) + digamma(a + b), n_k)
            - np.where(k > 0, sum_w_level / np.exp(log_b_x1), 0.0).sum()
        )
        # chain rule to log parameters: d/d(log t) = t * d/dt
        grad_log = np.array([d_r * r, d_alpha * alpha, d_a * a, d_b * b])
        return -float(ll), -grad_log


class BetaGeoModel:
    """BG/NBD fitted by maximum likelihood from several starting points.

    Learned: ``params_`` (dict r, alpha, a, b), ``se_``, ``cov_``, ``log_likelihood_``,
    ``n_customers_``, ``fit_`` (the MLEFit with convergence details).
    """

    def __init__(self, n_starts: int = 4, random_state: int = 0) -> None:
        self.n_starts = n_starts
        self.random_state = random_state

    def fit(self, frequency, recency, T, *, histories=None) -> BetaGeoModel:
        """``histories``: compress(frequency, recency, T) if the caller has it already."""
        x, tx, big_t = _as_arrays(frequency, recency, T)
        if len(x) < 10 or (x > 0).sum() < 2:
            raise AnalysisError(
                f"BG/NBD needs at least 10 customers, some with repeat purchases; got {len(x)} "
                f"customers, {(x > 0).sum()} with a repeat purchase"
            )
        (ux, utx, ut), counts, _ = histories or compress(x, tx, big_t)
        fit = fit_log_space(
            _Histories(ux, utx, ut, counts).negative_log_likelihood,
            NAMES, self._starts(x, big_t), model="BG/NBD", n_obs=float(len(x)),
            explore=self._explore(x, tx, big_t),
            hint="e.g. nobody seems to drop out, or purchase rates barely differ",
        )
        store_fit(self, fit, n_customers=len(x))
        return self

    def _explore(self, x, tx, big_t):
        rows = exploration_sample(len(x), self.random_state)
        if rows is None:
            return None
        return _Histories.of(x[rows], tx[rows], big_t[rows]).negative_log_likelihood, len(rows)

    def _starts(self, x: np.ndarray, big_t: np.ndarray) -> list[np.ndarray]:
        # A moment-style guess (alpha scaled to the observation window) plus random jitter.
        rate = max(x.mean() / max(big_t.mean(), 1e-9), 1e-6)
        guess = np.log([1.0, 1.0 / rate, 1.0, 1.0])
        rng = np.random.default_rng(self.random_state)
        jitter = rng.normal(0.0, 1.0, size=(max(self.n_starts - 2, 0), 4))
        return [guess, np.zeros(4), *(guess + j for j in jitter)][: max(self.n_starts, 1)]

    def _check_fitted(self) -> tuple[float, float, float, float]:
        if not hasattr(self, "params_"):
            raise AnalysisError("the BG/NBD model is not fitted yet")
        p = self.params_
        return p["r"], p["alpha"], p["a"], p["b"]

    def p_alive(self, frequency, recency, T) -> np.ndarray:
        """P(still alive at T | x, t_x, T): eq. 5 of FHL's note on P(alive)."""
        self._check_fitted()
        return self._alive(*_as_arrays(frequency, recency, T))

    def _alive(self, x, tx, big_t) -> np.ndarray:
        r, alpha, a, b = self._check_fitted()
        rep = x > 0
        log_odds = np.full_like(x, -np.inf)
        log_odds[rep] = (
            np.log(a) - np.log(b + x[rep] - 1)
            + (r + x[rep]) * (np.log(alpha + big_t[rep]) - np.log(alpha + tx[rep]))
        )
        return np.exp(-np.logaddexp(0.0, log_odds))

    def expected_purchases(self, t, frequency, recency, T, *, distinct: bool = False) -> np.ndarray:
        """E[purchases in (T, T + t] | x, t_x, T]: FHL (2005) eq. 10.

        Computed once per distinct history unless ``distinct`` says the rows already are.
        """
        self._check_fitted()
        x, tx, big_t = _as_arrays(frequency, recency, T)
        t = np.broadcast_to(np.asarray(t, float), x.shape)
        if distinct:
            return self._expected(t, x, tx, big_t)
        (ux, utx, ut, utt), _, inverse = compress(x, tx, big_t, t)
        return self._expected(utt, ux, utx, ut)[inverse]

    def _expected(self, utt, ux, utx, ut) -> np.ndarray:
        with np.errstate(over="ignore", invalid="ignore"):
            value = self._expected_scale(ux, utx, ut) * self._expected_term(utt, ux, ut)
        self._check_finite(value)
        return value

    def _expected_scale(self, ux, utx, ut) -> np.ndarray:
        """The factor of eq. 10 that does not depend on t: (a+b+x-1)/(a-1) P(alive)."""
        _, _, a, b = self._check_fitted()
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            return (a + b + ux - 1) / (a - 1) * self._alive(ux, utx, ut)

    def _expected_term(self, utt, ux, ut) -> np.ndarray:
        """The factor of eq. 10 that depends on t, a function of (x, T) alone (not t_x):
        1 - ((alpha+T)/(alpha+T+t))^(r+x) 2F1(r+x, b+x; a+b+x-1; z)."""
        r, alpha, a, b = self._check_fitted()
        z = utt / (alpha + ut + utt)
        # By Euler's transformation (1-z)^(a-1) 2F1(a+b-1-r, a-1; a+b+x-1; z): the same
        # number without the huge hypergeometric value and tiny power that overflow for
        # frequent buyers.
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            return 1.0 - (1.0 - z) ** (a - 1) * hyp2f1(a + b - 1 - r, a - 1, a + b + ux - 1, z)

    def _check_finite(self, value: np.ndarray) -> None:
        bad = ~np.isfinite(value)
        if bad.any():
            raise AnalysisError(
                f"BG/NBD expected purchases are not finite for {int(bad.sum())} distinct "
                f"purchase histories (fitted a = {self.params_['a']:.4g}; a = 1 exactly is a "
                "singular case); refit on more data"
            )

    def expected_purchases_new(self, t) -> np.ndarray:
        """E[X(t)]: expected purchases in (0, t] for a customer just acquired (eq. 9)."""
        r, alpha, a, b = self._check_fitted()
        t = np.asarray(t, float)
        return (a + b - 1) / (a - 1) * (
            1.0 - (alpha / (alpha + t)) ** r * hyp2f1(r, b, a + b - 1, t / (alpha + t))
        )
