"""Planted demand pattern: holiday peaks, a weekend lift and a trend (stream "festivals").

Extra orders copy the day's orders: each order placed on day d (campaign orders aside) is
repeated Poisson(m_d - 1) times that day by the same customer, so day d expects m_d times
the orders it had. A copy is
placed between the start of the day and the original, so nobody buys after leaving.
"""

from __future__ import annotations

import numpy as np

from core.demo.calendar import DAYS_PER_YEAR, Calendar
from core.demo.params import FESTIVAL_MULTIPLIERS, TREND_PER_YEAR, WEEKDAY_MULTIPLIERS
from core.demo.purchases import CAMPAIGN, FESTIVAL, Orders


def day_multipliers(cal: Calendar) -> np.ndarray:
    """m_d for every day of the calendar."""
    from core.forecast.holidays import BUILT_IN

    days = np.arange(cal.days)
    weekday = (np.datetime64(cal.start, "D") + days).astype("datetime64[D]").astype(np.int64)
    weekday = (weekday + 3) % 7  # 1970-01-01 was a Thursday; 0 = Monday
    m = (1.0 + TREND_PER_YEAR * days / DAYS_PER_YEAR) * np.asarray(WEEKDAY_MULTIPLIERS)[weekday]
    for holiday in BUILT_IN:
        factor = FESTIVAL_MULTIPLIERS.get(holiday.name)
        if factor is not None:
            for d in holiday.windows(cal.start, cal.end):
                m[cal.day_of(d)] *= factor
    return m


def festival_orders(rng: np.random.Generator, cal: Calendar, orders: Orders) -> Orders:
    day = np.minimum(np.floor(orders.t).astype(np.int64), cal.days - 1)
    # Campaign orders are not copied: a campaign's true increment stays what it planted.
    copies = np.where(orders.source == CAMPAIGN, 0, rng.poisson(day_multipliers(cal)[day] - 1.0))
    src = np.repeat(np.arange(len(orders.t)), copies)
    start = np.floor(orders.t[src])
    t = start + rng.random(len(src)) * (orders.t[src] - start)
    return Orders.of(orders.cust[src], t, FESTIVAL)
