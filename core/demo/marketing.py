"""Marketing touches, the orders they trigger, campaigns with holdouts, and experiments."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.demo.calendar import DAYS_PER_YEAR, Calendar
from core.demo.params import (
    CAMPAIGNS,
    EXPERIMENTS,
    TOUCH_CHANNELS,
    TOUCH_ENGAGEMENT_SLOPE,
    TOUCH_RATE_AFTER_DEATH,
    TRIGGER_DELAY_MEAN_DAYS,
    Campaign,
)
from core.demo.people import Population
from core.demo.purchases import CAMPAIGN, TRIGGERED, Lifetimes, Orders

TOUCH_CHANNEL_NAMES = tuple(c.name for c in TOUCH_CHANNELS)


@dataclass
class Touches:
    cust: np.ndarray
    t: np.ndarray
    channel: np.ndarray  # index into TOUCH_CHANNELS
    campaign: np.ndarray  # index into CAMPAIGNS or -1

    @classmethod
    def concat(cls, parts: list[Touches]) -> Touches:
        return cls(*(np.concatenate([getattr(p, f) for p in parts])
                     for f in ("cust", "t", "channel", "campaign")))


def _office_hours(t: np.ndarray) -> np.ndarray:
    """Move a time within its day into 07:00-23:00, when people read messages."""
    day = np.floor(t)
    return day + (7.0 + 16.0 * (t - day)) / 24.0


def always_on_touches(rng: np.random.Generator, cal: Calendar, pop: Population,
                      life: Lifetimes) -> tuple[Touches, Orders]:
    """Touches over the final year; live customers sometimes buy after one (channel effects)."""
    horizon = float(cal.days)
    begin = np.maximum(pop.first_t, float(cal.final_year_start))
    alive_end = np.clip(life.death_t, begin, horizon)
    alive_len = np.maximum(alive_end - begin, 0.0)
    dead_len = np.maximum(horizon - np.maximum(alive_end, begin), 0.0)
    engagement = np.exp(TOUCH_ENGAGEMENT_SLOPE * pop.loyalty)
    n = pop.n

    parts_c, parts_t, parts_ch, triggered = [], [], [], []
    for ch, spec in enumerate(TOUCH_CHANNELS):  # five channels, not rows
        daily = spec.touches_per_year / DAYS_PER_YEAR * engagement
        for start, length, factor, alive in ((begin, alive_len, 1.0, True),
                                             (alive_end, dead_len, TOUCH_RATE_AFTER_DEATH, False)):
            k = rng.poisson(daily * factor * length)
            cust = np.repeat(np.arange(n), k)
            t = _office_hours(start[cust] + rng.random(len(cust)) * length[cust])
            parts_c.append(cust)
            parts_t.append(t)
            parts_ch.append(np.full(len(cust), ch, dtype=np.int64))
            if alive and spec.purchase_prob > 0:
                hit = rng.random(len(cust)) < spec.purchase_prob
                when = t[hit] + rng.exponential(TRIGGER_DELAY_MEAN_DAYS, size=int(hit.sum()))
                seen = when < horizon
                triggered.append(Orders.of(cust[hit][seen], when[seen], TRIGGERED))

    cust = np.concatenate(parts_c)
    touches = Touches(cust, np.concatenate(parts_t), np.concatenate(parts_ch),
                      np.full(len(cust), -1, dtype=np.int64))
    return touches, Orders.concat(triggered)


@dataclass
class CampaignRun:
    spec: Campaign
    index: int
    start_day: int
    end_day: int  # inclusive
    targeted: np.ndarray  # customer indices
    treated: np.ndarray  # bool, per targeted customer
    incremental_orders: int


def run_campaigns(rng: np.random.Generator, cal: Calendar, pop: Population, life: Lifetimes,
                  orders: Orders) -> tuple[list[CampaignRun], Touches, Orders]:
    """Target, split off a holdout, contact the rest; live treated customers may buy extra."""
    runs, touches, extra = [], [], []
    channel_index = {name: i for i, name in enumerate(TOUCH_CHANNEL_NAMES)}
    starts = [cal.last_window(spec.start, spec.days) for spec in CAMPAIGNS]
    # In date order, so a win-back's "lapsed" rule sees the orders earlier campaigns caused.
    for idx in sorted(range(len(CAMPAIGNS)), key=starts.__getitem__):  # eight campaigns, not rows
        spec, start = CAMPAIGNS[idx], starts[idx]
        stop = start + spec.days  # exclusive, continuous
        targeted = np.flatnonzero(_eligible(spec.target, start, pop, life, [orders, *extra]))
        treated = rng.random(len(targeted)) >= spec.holdout_share
        cust = targeted[treated]
        t = _office_hours(start + rng.random(len(cust)) * min(2.0, spec.days))
        touches.append(Touches(cust, t, np.full(len(cust), channel_index[spec.channel], dtype=np.int64),
                               np.full(len(cust), idx, dtype=np.int64)))
        responds = (t <= life.death_t[cust]) & (rng.random(len(cust)) < spec.extra_order_prob)
        when = t[responds] + rng.random(int(responds.sum())) * (stop - t[responds])
        extra.append(Orders.of(cust[responds], np.minimum(when, stop - 1e-6), CAMPAIGN, idx))
        runs.append(CampaignRun(spec, idx, start, stop - 1, targeted, treated, int(responds.sum())))
    return sorted(runs, key=lambda run: run.index), Touches.concat(touches), Orders.concat(extra)


def _eligible(target: str, start: int, pop: Population, life: Lifetimes,
              orders: list[Orders]) -> np.ndarray:
    customer = pop.first_t < start
    if target == "all":
        return customer
    if target == "members":
        return customer & life.member & (pop.join_t < start)
    last = np.full(pop.n, -np.inf)  # time of each customer's last order before the start
    for part in orders:
        before = part.t < start
        np.maximum.at(last, part.cust[before], part.t[before])
    if target == "recent_365d":
        return customer & (last >= start - 365)
    if target == "lapsed_180d":
        return customer & (last < start - 180)
    raise ValueError(f"unknown campaign target {target!r}")


def tag_campaign_orders(runs: list[CampaignRun], n: int, cust: np.ndarray, day: np.ndarray,
                        campaign: np.ndarray) -> np.ndarray:
    """Every order a treated customer places in the window carries the campaign's id.

    That is how last-touch reporting claims revenue: it includes orders that would have
    happened anyway, which is why the holdout, not the tag, measures the lift.
    """
    campaign = campaign.copy()
    for run in runs:
        treated = np.zeros(n, dtype=bool)
        treated[run.targeted[run.treated]] = True
        inside = (day >= run.start_day) & (day <= run.end_day) & treated[cust] & (campaign < 0)
        campaign[inside] = run.index
    return campaign


@dataclass
class ExperimentUnits:
    experiment: np.ndarray  # index into EXPERIMENTS
    cust: np.ndarray
    variant: np.ndarray  # 0 or 1
    day: np.ndarray
    converted: np.ndarray
    revenue: np.ndarray


def run_experiments(rng: np.random.Generator, cal: Calendar, pop: Population) -> ExperimentUnits:
    """Experiments logged by the testing tool (not in transactions): 50/50 splits of every
    customer whose first purchase was before the exposure window."""
    parts = []
    for idx, spec in enumerate(EXPERIMENTS):  # two experiments
        start = cal.last_window(spec.start, spec.days)
        cust = np.flatnonzero(pop.first_t < start)
        variant = (rng.random(len(cust)) < 0.5).astype(np.int64)
        day = start + rng.integers(0, spec.days, size=len(cust))
        converted = rng.random(len(cust)) < np.asarray(spec.conversion)[variant]
        shape = spec.revenue_shape
        revenue = np.where(converted, np.round(rng.gamma(shape, spec.revenue_mean / shape,
                                                         size=len(cust)), 2), 0.0)
        parts.append((np.full(len(cust), idx), cust, variant, day, converted, revenue))
    return ExperimentUnits(*(np.concatenate(cols) for cols in zip(*parts)))
