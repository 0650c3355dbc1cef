"""Rolling-origin backtest: refit at several origins, forecast what came next, and score the
model and a seasonal-naive baseline on the same points.

Metrics (Hyndman & Koehler 2006):
- MAPE = mean |y - f| / |y| over points with y != 0 (zero actuals are left out and counted);
- sMAPE = mean 2|y - f| / (|y| + |f|), a point with y = f = 0 scores 0;
- MASE = mean |y - f| / s, s = the in-sample mean |y_t - y_{t-m}| at that origin (m = 7
  days or 52 weeks), the seasonal-naive one-step error; MASE < 1 beats that naive forecast.

Interval coverage: the share of held-out actuals inside the model's prediction interval,
overall and by lead, with a Clopper-Pearson interval for that share. Points from one origin
are correlated (and origins overlap), so that binomial interval is narrower than the truth:
it says when coverage is clearly off, not that it is exactly right.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Union

import numpy as np


@dataclass(frozen=True)
class Scores:
    mape: float | None
    smape: float | None
    mase: float | None
    points: int
    zero_actuals: int


def mape(actual: np.ndarray, forecast: np.ndarray) -> float | None:
    nonzero = actual != 0
    if not nonzero.any():
        return None
    return float(np.mean(np.abs(actual[nonzero] - forecast[nonzero]) / np.abs(actual[nonzero])))


def smape(actual: np.ndarray, forecast: np.ndarray) -> float | None:
    if len(actual) == 0:
        return None
    denom = np.abs(actual) + np.abs(forecast)
    ratio = np.divide(2.0 * np.abs(actual - forecast), denom, out=np.zeros_like(denom, dtype=float),
                      where=denom > 0)
    return float(np.mean(ratio))


def mase(actual: np.ndarray, forecast: np.ndarray, scale: np.ndarray) -> float | None:
    ok = scale > 0
    if not ok.any():
        return None
    return float(np.mean(np.abs(actual[ok] - forecast[ok]) / scale[ok]))


def naive_scale(history: np.ndarray, m: int) -> float:
    """In-sample mean absolute seasonal difference, the MASE denominator (0: undefined)."""
    if len(history) <= m:
        return 0.0
    return float(np.mean(np.abs(history[m:] - history[:-m])))


def seasonal_naive(history: np.ndarray, steps: int, m: int) -> np.ndarray:
    """Each period repeats the same period one season (m periods) earlier."""
    last_season = history[-m:]
    return last_season[np.arange(steps) % m]


def score(actual: np.ndarray, forecast: np.ndarray, scale: np.ndarray) -> Scores:
    return Scores(mape(actual, forecast), smape(actual, forecast), mase(actual, forecast, scale),
                  len(actual), int(np.sum(actual == 0)))


def origins(n: int, horizon: int, count: int, min_train: int) -> list[int]:
    """Up to `count` origins (training lengths), each leaving at least `min_train` periods to
    fit on; earliest first. They are `horizon` apart where the history allows, so their
    forecasts do not overlap and reach further back (4 x 13 weeks: the last year, every
    season, not only the last quarter's), else closer, but at least horizon / count apart."""
    spare = (n - min_train) // max(count, 1)
    step = max(1, -(-horizon // max(count, 1)), min(horizon, spare))
    found = [n - k * step for k in range(count, 0, -1)]
    return [o for o in found if o >= min_train and o < n]


@dataclass(frozen=True)
class Coverage:
    covered: int
    points: int
    low: float  # Clopper-Pearson 95% interval of the share covered
    high: float

    @property
    def share(self) -> float:
        return self.covered / self.points


def coverage(actual: np.ndarray, low: np.ndarray, high: np.ndarray) -> Coverage | None:
    """How many actuals fell inside [low, high] (bounds included), with an exact binomial
    interval for the share; None without any interval."""
    from scipy.stats import binomtest

    known = np.isfinite(low) & np.isfinite(high)
    if not known.any():
        return None
    inside = int(np.sum((low[known] <= actual[known]) & (actual[known] <= high[known])))
    points = int(known.sum())
    ci = binomtest(inside, points).proportion_ci(0.95, method="exact")
    return Coverage(inside, points, float(ci.low), float(ci.high))


def width_ratio(actual: np.ndarray, forecast: np.ndarray, low: np.ndarray, high: np.ndarray,
                level: float) -> float | None:
    """Mean interval width over the width of the narrowest symmetric band around the forecasts
    that holds `level` of the actuals (twice that quantile of |actual - forecast|): about 1
    when the intervals are as wide as the errors need, 3 when three times too wide."""
    known = np.isfinite(low) & np.isfinite(high)
    need = 2.0 * float(np.quantile(np.abs(actual[known] - forecast[known]), level)) if known.any() else 0.0
    return float(np.mean(high[known] - low[known]) / need) if need > 0 else None


@dataclass(frozen=True)
class Backtest:
    origin: np.ndarray  # index of the first forecast period, per point
    lead: np.ndarray  # 1 = the period right after the origin
    actual: np.ndarray
    model: np.ndarray
    naive: np.ndarray
    scale: np.ndarray
    low: np.ndarray  # the model's prediction interval (NaN: the forecast gave none)
    high: np.ndarray

    @property
    def coverage(self) -> Coverage | None:
        return coverage(self.actual, self.low, self.high)

    @property
    def model_scores(self) -> Scores:
        return score(self.actual, self.model, self.scale)

    @property
    def naive_scores(self) -> Scores:
        return score(self.actual, self.naive, self.scale)


Prediction = Union[np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray]]  # point, or (point, low, high)


def backtest(y: np.ndarray, at: list[int], horizon: int, m: int,
             forecast: Callable[[int, int], Prediction]) -> Backtest:
    """Score `forecast(origin, steps)` (a model fitted on y[:origin]: point forecasts, or
    point forecasts with their interval) and seasonal naive against y[origin:origin + steps]
    at each origin."""
    keys = ("origin", "lead", "actual", "model", "naive", "scale", "low", "high")
    parts: dict[str, list[np.ndarray]] = {k: [] for k in keys}
    for o in at:
        steps = min(horizon, len(y) - o)
        history = y[:o]
        pred = forecast(o, steps)
        point, low, high = pred if isinstance(pred, tuple) else (pred, np.full(steps, np.nan), np.full(steps, np.nan))
        parts["origin"].append(np.full(steps, o))
        parts["lead"].append(np.arange(1, steps + 1))
        parts["actual"].append(y[o:o + steps])
        parts["model"].append(np.asarray(point, dtype=float))
        parts["low"].append(np.asarray(low, dtype=float))
        parts["high"].append(np.asarray(high, dtype=float))
        parts["naive"].append(seasonal_naive(history, steps, m))
        parts["scale"].append(np.full(steps, naive_scale(history, m)))
    return Backtest(**{k: np.concatenate(v) if v else np.empty(0) for k, v in parts.items()})
