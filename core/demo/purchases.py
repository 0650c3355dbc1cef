"""Purchase timing (buy till you die), then order details: value, channel, category, returns."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.demo.calendar import DAYS_PER_YEAR, Calendar
from core.demo.params import (
    CATEGORY_PROBS,
    PARTIAL_RETURN_FRACTION,
    PARTIAL_RETURN_SHARE,
    PRODUCT_ZIPF_EXPONENT,
    PRODUCTS_PER_CATEGORY,
    PROGRAM,
    QUANTITY_EXTRA_MEAN,
    RETURN_DELAY_MEAN_EXTRA_DAYS,
    RETURN_DELAY_MIN_DAYS,
    RETURN_RATES,
)
from core.demo.people import Population

# Where an order came from (kept in the truth, not in the workspace).
FIRST, REPEAT, TRIGGERED, CAMPAIGN, FESTIVAL = range(5)


@dataclass
class Orders:
    """Positive orders as parallel arrays; `campaign` is an index into CAMPAIGNS or -1."""

    cust: np.ndarray
    t: np.ndarray
    source: np.ndarray
    campaign: np.ndarray

    @classmethod
    def of(cls, cust: np.ndarray, t: np.ndarray, source: int, campaign: int = -1) -> Orders:
        k = len(cust)
        return cls(cust.astype(np.int64), t.astype(np.float64),
                   np.full(k, source, dtype=np.int8), np.full(k, campaign, dtype=np.int16))

    @classmethod
    def concat(cls, parts: list[Orders]) -> Orders:
        return cls(*(np.concatenate([getattr(p, f) for p in parts])
                     for f in ("cust", "t", "source", "campaign")))


@dataclass
class Lifetimes:
    death_t: np.ndarray  # time of the last purchase before leaving; inf if alive at the end
    member: np.ndarray  # joined the programme (before leaving and before the end)


def btyd_orders(rng: np.random.Generator, cal: Calendar, pop: Population) -> tuple[Orders, Lifetimes]:
    """First purchases plus BG/NBD repeat purchases, with the programme's frequency lift."""
    n = pop.n
    horizon = float(cal.days)
    join = np.clip(pop.join_t, pop.first_t, horizon)
    w_first, w_join = cal.warp(pop.first_t), cal.warp(join)
    w_end = np.full(n, cal.cumulative[-1])
    daily = pop.rate / DAYS_PER_YEAR
    lifted = daily * (1.0 + PROGRAM.frequency_lift)

    n_pre = rng.poisson(daily * (w_join - w_first))
    n_post = rng.poisson(lifted * (w_end - w_join))
    cust = np.concatenate((np.repeat(np.arange(n), n_pre), np.repeat(np.arange(n), n_post)))
    lo = np.concatenate((np.repeat(w_first, n_pre), np.repeat(w_join, n_post)))
    hi = np.concatenate((np.repeat(w_join, n_pre), np.repeat(w_end, n_post)))
    t = cal.invert(lo + rng.random(len(cust)) * (hi - lo))

    # One argsort on a combined key (customer, then time) is much faster than lexsort.
    order = np.argsort(cust * 2.0 * horizon + t)
    cust, t = cust[order], t[order]
    counts = np.bincount(cust, minlength=n)
    first_pos = np.cumsum(counts) - counts
    rank = np.arange(len(cust)) - first_pos[cust]  # 0 for each customer's first repeat purchase

    # Leaves right after the K-th repeat purchase, K ~ Geometric(p) on 1, 2, ...
    k = rng.geometric(pop.dropout)
    keep = rank < k[cust]
    dies = counts >= k
    death_t = np.full(n, np.inf)
    death_t[dies] = t[(first_pos + k - 1)[dies]]

    member = (pop.join_t <= death_t) & (pop.join_t < horizon)
    repeats = Orders.of(cust[keep], t[keep], REPEAT)
    firsts = Orders.of(np.arange(n), pop.first_t, FIRST)
    return Orders.concat([firsts, repeats]), Lifetimes(death_t, member)


@dataclass
class OrderLines:
    """The final positive orders, sorted, with everything the transactions table shows."""

    cust: np.ndarray
    day: np.ndarray
    amount: np.ndarray
    channel: np.ndarray
    category: np.ndarray
    product: np.ndarray
    quantity: np.ndarray
    campaign: np.ndarray
    source: np.ndarray


def order_lines(rng: np.random.Generator, cal: Calendar, pop: Population,
                life: Lifetimes, orders: Orders) -> OrderLines:
    """Order value (Gamma-Gamma, programme spend lift), channel and category of each order."""
    order = np.argsort(orders.t)  # chronological (continuous times do not tie)
    cust, t = orders.cust[order], orders.t[order]
    m = len(cust)

    after_join = life.member[cust] & (t >= pop.join_t[cust])
    value = rng.gamma(pop.spend_p[cust], 1.0 / pop.spend_nu[cust])
    value *= np.where(after_join, 1.0 + PROGRAM.spend_lift, 1.0)
    amount = np.maximum(np.round(value, 2), 0.5)

    cum = np.cumsum(pop.channel_probs, axis=1)
    u = rng.random(m)
    channel = np.zeros(m, dtype=np.int64)
    for j in range(cum.shape[1] - 1):  # a loop over the 3 channel boundaries, not rows
        channel += u > np.ascontiguousarray(cum[:, j])[cust]

    category = rng.choice(len(CATEGORY_PROBS), size=m, p=CATEGORY_PROBS)
    popularity = 1.0 / np.arange(1, PRODUCTS_PER_CATEGORY + 1) ** PRODUCT_ZIPF_EXPONENT
    product = 1 + rng.choice(PRODUCTS_PER_CATEGORY, size=m, p=popularity / popularity.sum())
    quantity = 1 + rng.poisson(QUANTITY_EXTRA_MEAN, size=m)
    return OrderLines(cust, np.floor(t).astype(np.int64), amount, channel, category, product,
                      quantity, orders.campaign[order], orders.source[order])


@dataclass
class Returns:
    index: np.ndarray  # which order line was returned
    day: np.ndarray
    amount: np.ndarray  # negative
    quantity: np.ndarray  # negative


def draw_returns(rng: np.random.Generator, cal: Calendar, lines: OrderLines) -> Returns:
    returned = rng.random(len(lines.cust)) < np.asarray(RETURN_RATES)[lines.category]
    delay = RETURN_DELAY_MIN_DAYS + np.floor(
        rng.exponential(RETURN_DELAY_MEAN_EXTRA_DAYS, size=len(lines.cust))).astype(np.int64)
    day = lines.day + delay
    partial = rng.random(len(lines.cust)) < PARTIAL_RETURN_SHARE
    index = np.flatnonzero(returned & (day < cal.days))  # returns after the end are not seen yet
    share = np.where(partial[index], PARTIAL_RETURN_FRACTION, 1.0)
    amount = -np.round(lines.amount[index] * share, 2)
    quantity = -np.where(partial[index], np.maximum(lines.quantity[index] // 2, 1),
                         lines.quantity[index])
    return Returns(index, day[index], amount, quantity)
