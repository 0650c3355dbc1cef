"""The demand model: a regression with ARIMA errors on log(1 + y) by default, so holiday
and weekday effects are multipliers (core.forecast.demand picks the orders: weekly series
take a 52-week seasonal difference, daily ones a first difference with Fourier terms).

statsmodels' feasible-GLS estimator (the one its ARIMA calls with method="burg": Burg's
method for the error's AR part, then GLS for the regression on the differenced data,
iterated) estimates it: no numerical optimisation. Forecasts and intervals are the errors'
AR recursion and psi weights at those estimates, equal to ARIMA's state-space forecast
(tests check it) without building a state-space model per fit: with a thousand fits for
200 categories and their backtests, building and filtering those models was most of the
time (the intervals leave out the estimates' own uncertainty).

Regressors are yearly Fourier terms, day-of-week dummies and holiday windows
(core.forecast.design). Forecasts on the log scale are the median and the interval's
quantiles mapped back with exp(z) - 1, which keeps the interval's coverage.

Interval widths: `widths="model"` takes the h-step variance from the psi weights, which
is right when the error model is. `widths="empirical"` takes it from the fitted model's
own h-step errors over its training history: the same recursion run from every earlier
period, its forecasts compared with what followed (empirical prediction intervals, Williams
& Goodman 1971; Lee & Scholtes 2014). The weekly default needs them: an AR(1) on 52-week
changes that trend upwards (a growing customer base) reads the growth as persistence, phi
near 0.9, and its psi weights make the 13-week variance several times what its forecasts
actually miss by (core.forecast.demand's backtest).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from core.errors import AnalysisError

METHOD = "burg"  # AR errors
MA_METHOD = "innovations_mle"  # MA errors: no closed-form estimator
TRANSFORMS = ("log", "none")
WIDTHS = ("model", "empirical")
# Empirical widths need this many in-sample errors at a lead; past the last such lead the
# variance grows as the model's psi weights say, from that lead's empirical variance.
MIN_ERRORS = 13


@dataclass(frozen=True)
class Forecast:
    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray


class DemandModel:
    """fit(y, X) then forecast(X_future, alpha); learned state ends in `_`."""

    def __init__(self, order: tuple[int, int, int] = (1, 1, 0),
                 seasonal_order: tuple[int, int, int, int] = (0, 0, 0, 0), transform: str = "log",
                 widths: str = "model") -> None:
        if transform not in TRANSFORMS:
            raise ValueError(f"transform must be one of {TRANSFORMS}")
        if widths not in WIDTHS:
            raise ValueError(f"widths must be one of {WIDTHS}")
        if order[2] > 1 or seasonal_order[0] or seasonal_order[2]:
            raise ValueError("only ARMA(p, 1) errors with (seasonal) differences: order (p, d, 0) or "
                             "(p, d, 1), seasonal (0, D, 0, s)")
        self.order, self.seasonal_order, self.transform = order, seasonal_order, transform
        self.widths = widths

    def _to_model(self, y: np.ndarray) -> np.ndarray:
        return np.log1p(np.maximum(y, 0.0)) if self.transform == "log" else y

    def _from_model(self, z: np.ndarray) -> np.ndarray:
        return np.expm1(z) if self.transform == "log" else z

    def fit(self, y: np.ndarray, X: np.ndarray | None = None, names: list[str] | None = None,
            intervals: bool = True) -> DemandModel:
        """The estimates statsmodels' `ARIMA(...).fit(method=..., gls=True)` makes (its own
        feasible-GLS estimator, called without building the state-space model it would then
        filter): Burg for AR errors, innovations MLE for an MA(1). `intervals=False` (backtest
        refits: point forecasts only) skips the regression's standard errors."""
        from statsmodels.tsa.arima.estimators.burg import burg
        from statsmodels.tsa.arima.estimators.gls import gls
        from statsmodels.tsa.arima.estimators.innovations import innovations_mle
        from statsmodels.tsa.statespace.tools import diff

        k = 0 if X is None else X.shape[1]
        self.exog_names_ = list(names) if names is not None else [f"x{j + 1}" for j in range(k)]
        z = self._to_model(np.asarray(y, dtype=np.float64))
        p, d, q = self.order
        _, D, _, s = self.seasonal_order
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "differenced before GLS" is the design, not news
            try:
                if k:
                    est, details = gls(z, exog=np.asarray(X, dtype=np.float64), order=self.order,
                                       seasonal_order=self.seasonal_order, include_constant=False,
                                       arma_estimator=MA_METHOD if q else METHOD)
                else:  # what ARIMA does without regressors: difference, then estimate the ARMA
                    w = diff(z, k_diff=d, k_seasonal_diff=D, seasonal_periods=s)
                    est, details = (innovations_mle(w, order=(p, 0, q), demean=False) if q else
                                    burg(w, ar_order=p, demean=False))
            except (np.linalg.LinAlgError, ValueError) as exc:
                raise AnalysisError(f"the demand model could not be fitted: {exc}") from None
        beta = np.asarray(est.exog_params, dtype=np.float64) if k else np.empty(0)
        phi = np.asarray(est.ar_params, dtype=np.float64) if p else np.empty(0)
        theta = np.asarray(est.ma_params, dtype=np.float64) if q else np.empty(0)
        self.params_ = np.r_[beta, phi, theta, est.sigma2]
        self.names_ = [*self.exog_names_, *(f"ar.L{i}" for i in range(1, p + 1)),
                       *(f"ma.L{i}" for i in range(1, q + 1)), "sigma2"]
        if not np.all(np.isfinite(self.params_)) or est.sigma2 <= 0:
            raise AnalysisError("the demand model could not be fitted (non-finite estimates)")
        if p and not est.is_stationary:  # ARIMA's enforce_stationarity
            raise AnalysisError("the demand model could not be fitted (non-stationary AR estimate)")
        self.beta_, self.phi_, self.theta_, self.sigma2_ = beta, phi, theta, float(est.sigma2)
        # the regression's errors on the model scale: what the forecast continues
        self.errors_ = z - (np.asarray(X, dtype=np.float64) @ beta if k else 0.0)
        self.aic_ = self._aic()
        self.se_ = self._regression_se(z, X) if intervals and k else None
        self.converged_ = bool(getattr(details, "converged", True) is not False) if k else True
        return self

    def _differenced_errors(self) -> np.ndarray:
        """The regression's errors after the model's differences: the ARMA series."""
        from statsmodels.tsa.statespace.tools import diff

        _, D, _, s = self.seasonal_order
        return diff(self.errors_, k_diff=self.order[1], k_seasonal_diff=D, seasonal_periods=s)

    def _aic(self) -> float:
        """Akaike's criterion as statsmodels' ARIMA states it for this fit: the exact Gaussian
        log-likelihood of the differenced errors at the estimates (innovations algorithm; the
        state-space filter's, its diffuse start aside), two per estimated parameter."""
        from statsmodels.tsa.innovations.arma_innovations import arma_loglike

        llf = arma_loglike(self._differenced_errors(), self.phi_, self.theta_, self.sigma2_)
        return float(-2.0 * llf + 2.0 * len(self.params_))

    def _polynomial(self) -> np.ndarray:
        """Coefficients a_0 = 1, a_1, ... of (1 - phi(L)) (1 - L)^d (1 - L^s)^D: the errors
        follow sum_k a_k n_{t-k} = e_t, e_t white noise with variance sigma2."""
        a = np.r_[1.0, -self.phi_]
        for _ in range(self.order[1]):
            a = np.convolve(a, [1.0, -1.0])
        _, D, _, s = self.seasonal_order
        for _ in range(D):
            a = np.convolve(a, np.r_[1.0, np.zeros(s - 1), -1.0])
        return a

    def forecast(self, steps: int, X_future: np.ndarray | None = None, alpha: float = 0.05) -> Forecast:
        """The conditional mean and interval of the next `steps` periods at the estimates:
        the errors' recursion run forward, and the forecast-error variance sigma2 * sum of
        squared psi weights. An MA(1) error adds its forecast of the next period, theta times
        the last innovation, and the innovations algorithm gives that exactly (with the small
        extra variance of a last innovation estimated from a finite history). It is the Kalman
        filter's forecast (statsmodels' get_forecast) once the history is longer than the
        polynomial, which every fitted series is (tests check it against statsmodels)."""
        from scipy.stats import norm

        a = self._polynomial()
        lags = len(a) - 1
        if len(self.errors_) < lags:
            raise AnalysisError(f"the demand model needs at least {lags} periods to forecast")
        ma = np.zeros(steps)  # the MA polynomial 1 + theta_1 L + ... , cut to `steps`
        ma[0] = 1.0
        ma[1:1 + self.theta_.size] = self.theta_[:max(steps - 1, 0)]
        shock, extra = np.zeros(steps), 0.0
        if self.theta_.size:
            from statsmodels.tsa.innovations.arma_innovations import arma_innovations

            # a zero appended: its innovation is minus the one-step forecast of the ARMA series;
            # less the AR part (the recursion below adds it), the rest is the MA term's
            w = self._differenced_errors()
            u, v = arma_innovations(np.r_[w, 0.0], ar_params=self.phi_, ma_params=self.theta_,
                                    sigma2=self.sigma2_)
            ar_part = float(np.dot(self.phi_, w[::-1][:self.phi_.size]))
            # v: the innovations' variances in units of sigma2 (1 once the last shock is pinned down)
            shock[0], extra = -float(u[-1]) - ar_part, self.sigma2_ * max(float(v[-1]) - 1.0, 0.0)
        n = np.r_[self.errors_[len(self.errors_) - lags:], np.zeros(steps)]
        psi, carry = np.zeros(steps), np.zeros(steps)  # carry: the weights of 1 / a(L)
        for h in range(steps):  # `steps` periods (at most a few hundred), not data rows
            n[lags + h] = (-np.dot(a[1:], n[lags + h - 1::-1][:lags]) if lags else 0.0) + shock[h]
            k = min(h, lags)
            psi[h] = ma[h] - np.dot(a[1:k + 1], psi[h - 1::-1][:k]) if h else 1.0
            carry[h] = -np.dot(a[1:k + 1], carry[h - 1::-1][:k]) if h else 1.0
        z = n[lags:]
        if self.beta_.size:
            z = z + np.asarray(X_future, dtype=np.float64)[:steps] @ self.beta_
        variance = self.sigma2_ * np.cumsum(psi ** 2) + extra * carry ** 2
        if self.widths == "empirical":
            variance = self._empirical_variance(variance)
        half = float(norm.ppf(1.0 - alpha / 2.0)) * np.sqrt(variance)
        mean, low, high = (self._from_model(v) for v in (z, z - half, z + half))
        if self.transform == "log":  # demand is never below zero
            low = np.maximum(low, 0.0)
        return Forecast(mean, low, high)

    def insample_errors(self, steps: int) -> np.ndarray:
        """The h-step errors of the fitted model over its own history on the model scale: row
        i is the forecast made after period i + lags (every earlier period known, at the final
        estimates), column h its error h + 1 periods ahead; NaN past the history's end. The
        same recursion as `forecast`, run from all those origins at once (a loop over leads)."""
        a = self._polynomial()
        lags, n = len(a) - 1, self.errors_
        starts = np.arange(lags, len(n))  # each origin's first forecast period
        shock = 0.0
        if self.theta_.size:
            # The MA term's part of the one-step forecast: the innovations algorithm's exact
            # forecast of the ARMA series (the series less its innovation; theta times the last
            # innovation only once the history is long), less the AR part the recursion adds.
            from statsmodels.tsa.innovations.arma_innovations import arma_innovations

            w = self._differenced_errors()
            u, _ = arma_innovations(w, ar_params=self.phi_, ma_params=self.theta_, sigma2=self.sigma2_)
            j = starts - (len(n) - len(w))  # w[j] is n at the origin's first forecast period
            shock = (w[j] - u[j]) - sum(f * w[j - i] for i, f in enumerate(self.phi_, start=1))
        path = np.empty((len(starts), lags + steps))
        path[:, :lags] = n[starts[:, None] + np.arange(-lags, 0)]
        for h in range(steps):  # leads, not rows
            path[:, lags + h] = (-path[:, lags + h - 1::-1][:, :lags] @ a[1:] if lags else 0.0) + (
                shock if h == 0 else 0.0)
        target = starts[:, None] + np.arange(steps)
        actual = np.where(target < len(n), n[np.minimum(target, len(n) - 1)], np.nan)
        return actual - path[:, lags:]

    def _empirical_variance(self, model_variance: np.ndarray) -> np.ndarray:
        """Per lead, the mean squared in-sample h-step error; past the last lead with
        MIN_ERRORS of them, that lead's variance grown as the model's variance grows."""
        steps = len(model_variance)
        errors = self.insample_errors(steps)
        counts = np.sum(np.isfinite(errors), axis=0)
        enough = np.flatnonzero(counts >= MIN_ERRORS)
        if not enough.size:
            return model_variance  # too short a history to measure: the model's own widths
        last = int(enough[-1])
        with np.errstate(invalid="ignore"):
            empirical = np.nanmean(errors[:, :last + 1] ** 2, axis=0)
        grown = empirical[-1] * model_variance[last + 1:] / model_variance[last]
        return np.r_[empirical, grown]

    def _regression_se(self, z: np.ndarray, X: np.ndarray) -> np.ndarray:
        """Standard errors of the regression coefficients from the last GLS step: OLS of the
        differenced, prewhitened series on the regressors treated the same way."""
        import statsmodels.api as sm

        d, (_, D, _, s) = self.order[1], self.seasonal_order
        z, X = z.copy(), X.copy()
        for _ in range(D):
            z, X = z[s:] - z[:-s], X[s:] - X[:-s]
        for _ in range(d):
            z, X = z[1:] - z[:-1], X[1:] - X[:-1]
        if self.theta_.size:  # whitened by the innovations algorithm, as statsmodels' GLS step does
            from statsmodels.tsa.innovations.arma_innovations import arma_innovations

            white, _ = arma_innovations(np.column_stack([z, X]), ar_params=self.phi_, ma_params=self.theta_,
                                        normalize=True)
            zw, Xw = white[:, 0], white[:, 1:]
        else:
            phi = [self.params_[self.names_.index(f"ar.L{i}")] for i in range(1, self.order[0] + 1)]
            p = len(phi)
            zw = z[p:] - sum(f * z[p - i - 1:len(z) - i - 1] for i, f in enumerate(phi))
            Xw = X[p:] - sum(f * X[p - i - 1:len(X) - i - 1] for i, f in enumerate(phi))
        fit = sm.OLS(zw, Xw).fit()
        return np.asarray(fit.bse)

    def effects(self, names: list[str], alpha: float = 0.05) -> list[tuple[str, float, float, float]]:
        """(regressor, estimate, low, high) of each named regressor; on the log scale as
        multipliers exp(b), else additive. Needs a fit with intervals."""
        from scipy.stats import norm

        if self.se_ is None:
            return []
        z = float(norm.ppf(1.0 - alpha / 2.0))
        out = []
        for j, name in enumerate(self.exog_names_):
            if name not in names:
                continue
            est = self.params_[self.names_.index(name)]
            lo, hi = est - z * self.se_[j], est + z * self.se_[j]
            if self.transform == "log":
                est, lo, hi = np.exp(est), np.exp(lo), np.exp(hi)
            out.append((name, float(est), float(lo), float(hi)))
        return out
