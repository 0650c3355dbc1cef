"""The regressors of the demand model for a run of periods: a linear trend (optional), yearly
Fourier terms, day-of-week dummies (daily series) and one column per holiday.

The trend column is years since the first period: after the model's difference (first or
52-week) it is a constant, the drift, and its coefficient is the growth per year (on the log
scale a multiplier per year). Without it a differenced model forecasts no growth.

A holiday column is 1 on each day of its window (daily), or the share of the window's days
that fall in the week (weekly), so a coefficient is the effect of the whole window.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
from core.forecast.holidays import Holiday, holiday_days

YEAR_DAYS = 365.25
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
EPOCH = dt.date(2000, 1, 3)  # a Monday: Fourier phases do not depend on where a series starts


def period_starts(first: dt.date, n: int, freq: str) -> list[dt.date]:
    step = 1 if freq == "day" else 7
    return [first + dt.timedelta(days=step * i) for i in range(n)]


def fourier(days: np.ndarray, k: int) -> tuple[np.ndarray, list[str]]:
    """sin/cos pairs of the yearly cycle at day numbers `days` (k pairs)."""
    cols, names = [], []
    for j in range(1, k + 1):
        angle = 2.0 * np.pi * j * days / YEAR_DAYS
        cols += [np.sin(angle), np.cos(angle)]
        names += [f"year_sin{j}", f"year_cos{j}"]
    return (np.column_stack(cols) if cols else np.empty((len(days), 0))), names


def regressors(periods: Sequence[dt.date], freq: str, *, fourier_terms: int,
               holidays: Sequence[Holiday], trend: bool = False) -> tuple[np.ndarray, list[str]]:
    """The design matrix (one row per period) and its column names."""
    periods = list(periods)
    start = np.array([(p - EPOCH).days for p in periods], dtype=np.float64)
    # A week's yearly phase is taken at its middle day.
    X, names = fourier(start + (3.0 if freq == "week" else 0.0), fourier_terms)
    parts = [X]
    if trend:
        parts.insert(0, ((start - start[0]) / YEAR_DAYS)[:, None])
        names = ["trend", *names]
    if freq == "day":
        weekday = np.array([p.weekday() for p in periods])
        parts.append(np.column_stack([(weekday == d).astype(float) for d in range(1, 7)]))
        names += [f"weekday_{WEEKDAYS[d]}" for d in range(1, 7)]
    if holidays:
        h, h_names = holiday_matrix(periods, freq, holidays)
        parts.append(h)
        names += h_names
    return np.column_stack(parts), names


def holiday_matrix(periods: list[dt.date], freq: str, holidays: Sequence[Holiday]) -> tuple[np.ndarray, list[str]]:
    span = 1 if freq == "day" else 7
    days = holiday_days(holidays, periods[0], periods[-1] + dt.timedelta(days=span - 1))
    index = {p: i for i, p in enumerate(periods)}
    out = np.zeros((len(periods), len(holidays)))
    length = {h.name: h.days for h in holidays}
    names = [h.name for h in holidays]
    col = {name: j for j, name in enumerate(names)}
    for name, day in days.iter_rows():  # a few dozen holiday days a year, not data rows
        start = day - dt.timedelta(days=(day - periods[0]).days % span)
        if start in index:
            out[index[start], col[name]] += 1.0 if freq == "day" else 1.0 / length[name]
    return out, [f"holiday_{n}" for n in names]


def usable_columns(X: np.ndarray, names: list[str], seasonal_lag: int = 0) -> list[int]:
    """Columns a fit on X can estimate: not all zero (after the model's seasonal difference:
    a holiday in the same week every year is part of the seasonality), and not a copy of an
    earlier column (two holidays always in the same week). Fourier and weekday columns stay."""
    keep: list[int] = []
    for j, name in enumerate(names):
        col = X[:, j]
        if name.startswith("holiday_"):
            seen = col[seasonal_lag:] - col[:-seasonal_lag] if seasonal_lag else col
            if not np.any(np.abs(seen) > 1e-12):
                continue
            if any(np.array_equal(col, X[:, i]) for i in keep):
                continue
        keep.append(j)
    return keep

