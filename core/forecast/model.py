"""The demand model: a regression with ARIMA errors on log(1 + y) by default, so holiday
and weekday effects are multipliers (core.forecast.demand picks the orders: weekly series
take a 52-week seasonal difference, daily ones a first difference with Fourier terms).

statsmodels' ARIMA estimates it by feasible GLS (Burg's method for the error's AR part,
then GLS for the regression on the differenced data, iterated): no numerical optimisation,
so hundreds of groups and backtest refits stay fast. Forecasts and intervals come from its
state-space form at those estimates (the intervals leave out the estimates' own uncertainty).

Regressors are yearly Fourier terms, day-of-week dummies and holiday windows
(core.forecast.design). Forecasts on the log scale are the median and the interval's
quantiles mapped back with exp(z) - 1, which keeps the interval's coverage.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from core.errors import AnalysisError

METHOD = "burg"
TRANSFORMS = ("log", "none")


@dataclass(frozen=True)
class Forecast:
    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray


class DemandModel:
    """fit(y, X) then forecast(X_future, alpha); learned state ends in `_`."""

    def __init__(self, order: tuple[int, int, int] = (1, 1, 0),
                 seasonal_order: tuple[int, int, int, int] = (0, 0, 0, 0), trend: str = "n",
                 transform: str = "log") -> None:
        if transform not in TRANSFORMS:
            raise ValueError(f"transform must be one of {TRANSFORMS}")
        self.order, self.seasonal_order, self.trend, self.transform = order, seasonal_order, trend, transform

    def _to_model(self, y: np.ndarray) -> np.ndarray:
        return np.log1p(np.maximum(y, 0.0)) if self.transform == "log" else y

    def _from_model(self, z: np.ndarray) -> np.ndarray:
        return np.expm1(z) if self.transform == "log" else z

    def fit(self, y: np.ndarray, X: np.ndarray | None = None, names: list[str] | None = None,
            intervals: bool = True) -> DemandModel:
        """`intervals=False` (backtest refits: point forecasts only) skips the regression's
        standard errors and keeps only what the mean forecast needs (5x faster; the
        forecast's interval bounds are then NaN)."""
        import pandas as pd
        from statsmodels.tsa.arima.model import ARIMA

        k = 0 if X is None else X.shape[1]
        self.exog_names_ = list(names) if names is not None else [f"x{j + 1}" for j in range(k)]
        # named columns, so statsmodels' parameter names are ours
        exog = pd.DataFrame(X, columns=self.exog_names_) if k else None
        model = ARIMA(self._to_model(np.asarray(y, dtype=np.float64)), exog=exog, order=self.order,
                      seasonal_order=self.seasonal_order, trend=self.trend)
        # Forecasts need the Kalman filter only: skipping the smoother saves a third of a fit.
        model.ssm.set_conserve_memory(memory_no_smoothing=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "differenced before GLS" is the design, not news
            try:
                self.result_ = model.fit(method=METHOD, gls=exog is not None, cov_type="none",
                                         low_memory=not intervals)
            except (np.linalg.LinAlgError, ValueError) as exc:
                raise AnalysisError(f"the demand model could not be fitted: {exc}") from None
        if not np.all(np.isfinite(np.asarray(self.result_.params))):
            raise AnalysisError("the demand model could not be fitted (non-finite estimates)")
        self.params_ = np.asarray(self.result_.params)
        self.names_ = list(self.result_.model.param_names)
        self.se_ = self._regression_se(self._to_model(np.asarray(y, dtype=np.float64)), X) if intervals and k else None
        details = getattr(self.result_, "fit_details", None)
        self.converged_ = bool(getattr(details, "converged", True)) if details is not None else True
        return self

    def forecast(self, steps: int, X_future: np.ndarray | None = None, alpha: float = 0.05) -> Forecast:
        import pandas as pd

        exog = pd.DataFrame(X_future, columns=self.exog_names_) if self.exog_names_ else None
        pred = self.result_.get_forecast(steps=steps, exog=exog)
        z = np.asarray(pred.predicted_mean)
        ci = np.asarray(pred.conf_int(alpha=alpha))
        mean, low, high = (self._from_model(v) for v in (z, ci[:, 0], ci[:, 1]))
        if self.transform == "log":  # demand is never below zero
            low = np.maximum(low, 0.0)
        return Forecast(mean, low, high)

    def _regression_se(self, z: np.ndarray, X: np.ndarray) -> np.ndarray:
        """Standard errors of the regression coefficients from the last GLS step: OLS of the
        differenced, AR-prewhitened series on the regressors treated the same way."""
        import statsmodels.api as sm

        d, (_, D, _, s) = self.order[1], self.seasonal_order
        z, X = z.copy(), X.copy()
        for _ in range(D):
            z, X = z[s:] - z[:-s], X[s:] - X[:-s]
        for _ in range(d):
            z, X = z[1:] - z[:-1], X[1:] - X[:-1]
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
