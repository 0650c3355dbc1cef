"""The generator's clock: continuous time in days since the start, with seasonality.

A Poisson process with a seasonal rate is sampled by warping time: in 'seasonal time'
(the cumulative intensity) it is homogeneous, so counts are Poisson in the warped length
and event times are uniform there, mapped back with `invert`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import polars as pl

from core.demo.params import SEASONALITY, YEARS

DAYS_PER_YEAR = 365.0


@dataclass(frozen=True)
class Calendar:
    start: date
    end: date
    days: int  # number of calendar days, end inclusive
    multiplier: np.ndarray  # seasonal multiplier of each day
    cumulative: np.ndarray  # days + 1 values: cumulative multiplier up to each day boundary

    @classmethod
    def ending(cls, end: date) -> Calendar:
        start = end - timedelta(days=YEARS * 365)
        days = (end - start).days + 1
        months = (np.datetime64(start, "D") + np.arange(days)).astype("datetime64[M]")
        month_of_year = months.astype(np.int64) % 12
        multiplier = np.asarray(SEASONALITY, dtype=np.float64)[month_of_year]
        cumulative = np.concatenate(([0.0], np.cumsum(multiplier)))
        return cls(start, end, days, multiplier, cumulative)

    @property
    def final_year_start(self) -> int:
        """Day index of the first day of the final 365 days (1 January for a 31 December end)."""
        return self.days - 365

    def day_of(self, d: date) -> int:
        return (d - self.start).days

    def last_window(self, month_day: tuple[int, int], days: int) -> int:
        """Day index of the latest (month, day) whose `days`-long window ends by the end date."""
        month, day = month_day
        for year in (self.end.year, self.end.year - 1):
            start = date(year, month, day)
            if start + timedelta(days=days - 1) <= self.end:
                return self.day_of(start)
        raise ValueError(f"no window starting {month_day} fits before {self.end}")

    def warp(self, t: np.ndarray) -> np.ndarray:
        """Cumulative seasonal intensity at continuous time t (days since start)."""
        t = np.clip(t, 0.0, float(self.days))
        day = np.minimum(t.astype(np.int64), self.days - 1)
        return self.cumulative[day] + (t - day) * self.multiplier[day]

    def invert(self, u: np.ndarray) -> np.ndarray:
        """Continuous time whose cumulative intensity is u (inverse of warp)."""
        day = np.searchsorted(self.cumulative, u, side="right") - 1
        day = np.clip(day, 0, self.days - 1)
        return day + (u - self.cumulative[day]) / self.multiplier[day]

    def dates(self, day: np.ndarray) -> pl.Series:
        """Day indices as a Polars Date series."""
        return pl.Series(np.datetime64(self.start, "D") + np.asarray(day, dtype=np.int64))

    def datetimes(self, t: np.ndarray) -> pl.Series:
        """Continuous times as a Polars Datetime series with whole seconds."""
        seconds = np.floor(np.asarray(t) * 86400.0).astype(np.int64)
        base = np.datetime64(self.start, "us")
        return pl.Series(base + (seconds * 1_000_000).astype("timedelta64[us]"))
