"""A seasonal counterfactual for promotions: what a day would have sold without the promotion.

Quasi-Poisson regression (log link) of a store-wide daily total on a smooth trend (cubic
B-splines with a knot every `knot_days`: the customer base's ramp-up and growth), day of the
week, calendar month (yearly seasonality, learned from the years that have the month) and one
effect per holiday of the calendar, fitted on the ordinary days of the whole history (no
promotion, no days after one). Effects multiply, as sales do: a month 20% above average is 20%
above in a small year and in a big one. Zero days are allowed (new members, early history).

Intervals of a window's total: the parameters' uncertainty (a Newey-West sandwich over day
lags, so autocorrelated and overdispersed days do not look like independent evidence) plus the
window's own noise, with the residuals' autocorrelation at the window's lags (positive only:
a negative estimate from one history is not trusted to shrink an interval).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class WindowSum:
    """A window's baseline total and the two parts of its variance."""

    baseline: float
    parameter_var: float
    noise_var: float


def weekday(dates: np.ndarray) -> np.ndarray:
    return (dates.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday: 0 = Monday


def month_of_year(dates: np.ndarray) -> np.ndarray:
    return dates.astype("datetime64[M]").astype(np.int64) % 12  # 0 = January


def design(dates: np.ndarray, holidays: dict[str, np.ndarray], knot_days: float) -> np.ndarray:
    """Trend B-splines (they sum to one: the constant), six weekday, eleven month and one column
    per holiday, for consecutive `dates`."""
    from scipy.interpolate import BSpline

    t = (dates - dates[0]).astype(np.int64).astype(float)
    inner = np.linspace(0.0, t[-1], max(2, round(t[-1] / knot_days) + 1))
    knots = np.r_[[inner[0]] * 3, inner, [inner[-1]] * 3]
    trend = BSpline.design_matrix(t, knots, 3).toarray()
    wd, month = weekday(dates), month_of_year(dates)
    return np.column_stack([trend]
                           + [(wd == d).astype(float) for d in range(1, 7)]
                           + [(month == m).astype(float) for m in range(1, 12)]
                           + [np.isin(dates, days).astype(float) for days in holidays.values()])


def poisson_fit(x: np.ndarray, y: np.ndarray, tol: float = 1e-10, max_iter: int = 100) -> np.ndarray:
    """Poisson (quasi-)maximum likelihood by iteratively reweighted least squares."""
    eta = np.log(np.full(len(y), max(float(y.mean()), 1e-9)))
    beta = np.zeros(x.shape[1])
    for _ in range(max_iter):
        mu = np.exp(eta)
        new = _weighted_ls(x, eta + (y - mu) / mu, mu)
        eta = np.clip(x @ new, -30.0, 30.0)  # a trend piece over zero days only tends to -inf
        if np.max(np.abs(new - beta)) < tol * (1 + np.max(np.abs(new))):
            return new
        beta = new
    return beta


def _weighted_ls(x: np.ndarray, z: np.ndarray, w: np.ndarray) -> np.ndarray:
    """argmin sum w (z - x b)^2: normal equations by Cholesky, least squares if x is short of rank."""
    from scipy.linalg import LinAlgError, cho_factor, cho_solve

    xtw = x.T * w
    try:
        return cho_solve(cho_factor(xtw @ x), xtw @ z)
    except LinAlgError:
        root = np.sqrt(w)
        return np.linalg.lstsq(x * root[:, None], z * root, rcond=None)[0]


def hac_sandwich(x: np.ndarray, resid: np.ndarray, mu: np.ndarray, day: np.ndarray, lags: int) -> np.ndarray:
    """Newey-West (Bartlett) covariance of Poisson QMLE coefficients, lags counted in days
    (rows need not be consecutive days)."""
    span = int(day.max() - day.min()) + 1
    scores = np.zeros((span, x.shape[1]))
    scores[day - day.min()] = x * resid[:, None]
    meat = scores.T @ scores
    for lag in range(1, lags + 1):
        gamma = scores[:-lag].T @ scores[lag:]
        meat += (1 - lag / (lags + 1)) * (gamma + gamma.T)
    bread = np.linalg.pinv(x.T @ (x * mu[:, None]))
    return bread @ meat @ bread


@dataclass
class SeasonalBaseline:
    """Fit on the `ordinary` days of a daily series; then `window(mask)` gives any window's
    baseline total. Estimator conventions: parameters here, learned state ends in `_`."""

    knot_days: float = 182.0
    lags: int = 14

    def fit(self, dates: np.ndarray, y: np.ndarray, ordinary: np.ndarray,
            holidays: dict[str, np.ndarray]) -> SeasonalBaseline:
        x = design(dates, holidays, self.knot_days)
        used = x[ordinary].any(axis=0)  # a holiday (or month) with no ordinary day has no effect to learn
        self.columns_ = used
        self.x_ = x[:, used]
        xf, yf = self.x_[ordinary], y[ordinary]
        self.beta_ = poisson_fit(xf, yf)
        self.mu_ = np.exp(np.clip(self.x_ @ self.beta_, -30.0, 30.0))
        resid = yf - self.mu_[ordinary]
        self.df_ = int(ordinary.sum() - np.linalg.matrix_rank(xf))
        pearson = resid / np.sqrt(self.mu_[ordinary])
        self.dispersion_ = float(pearson @ pearson) / max(self.df_, 1)
        day = np.flatnonzero(ordinary)
        self.cov_ = hac_sandwich(xf, resid, self.mu_[ordinary], day, self.lags)
        self.acf_ = _acf(pearson, day, self.lags)
        return self

    def window(self, mask: np.ndarray) -> WindowSum:
        mu = self.mu_[mask]
        grad = mu @ self.x_[mask]
        lag = np.abs(np.subtract.outer(np.flatnonzero(mask), np.flatnonzero(mask)))
        rho = np.where(lag == 0, 1.0, np.where(lag <= self.lags, self.acf_[np.minimum(lag, self.lags)], 0.0))
        scale = np.sqrt(mu)
        return WindowSum(float(mu.sum()), float(grad @ self.cov_ @ grad),
                         self.dispersion_ * float(scale @ rho @ scale))


def _acf(pearson: np.ndarray, day: np.ndarray, lags: int) -> np.ndarray:
    """Autocorrelation of the residuals at day lags 0..lags (pairs of fitted days only), with
    negative values set to zero."""
    span = int(day.max() - day.min()) + 1
    r = np.full(span, np.nan)
    r[day - day.min()] = pearson - pearson.mean()
    var = float(np.nanmean(r * r))
    out = np.ones(lags + 1)
    if not var > 0:  # a series the model fits exactly (all zeros): no noise to correlate
        return out
    for lag in range(1, lags + 1):
        prod = r[:-lag] * r[lag:]
        out[lag] = max(0.0, float(np.nanmean(prod)) / var) if np.isfinite(prod).any() else 0.0
    return out
