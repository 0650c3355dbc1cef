"""The customer population: latent types, BTYD parameters, channels, loyalty, programme intent."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import gammaincinv, ndtr

from core.demo.calendar import Calendar
from core.demo.params import (
    CHANNEL_POPULARITY,
    FIRST_PURCHASE_LAG_MEAN_DAYS,
    FIRST_PURCHASE_SAME_DAY,
    LOYALTY_BEHAVIOUR_RHO,
    MULTI,
    PROGRAM,
    PURCHASE_CHANNELS,
    TYPES,
)


@dataclass
class Population:
    type_idx: np.ndarray  # index into TYPES
    multichannel: np.ndarray  # planted channel repertoire of 2+ channels
    channel_probs: np.ndarray  # (n, 4) chance of each purchase channel per order
    signup_day: np.ndarray
    first_t: np.ndarray  # continuous time of the first purchase
    rate: np.ndarray  # lambda, purchases per year while alive (before any programme lift)
    dropout: np.ndarray  # p, chance of leaving after each repeat purchase
    spend_nu: np.ndarray  # Gamma-Gamma rate nu (mean order value = spend_p / nu)
    spend_p: np.ndarray  # Gamma-Gamma shape of this customer's type
    loyalty: np.ndarray  # latent loyalty factor, standardised over the population
    join_t: np.ndarray  # intended programme join time (inf: never)

    @property
    def n(self) -> int:
        return len(self.type_idx)


def _per_type(field: str) -> np.ndarray:
    return np.array([getattr(t, field) for t in TYPES], dtype=np.float64)


def draw_population(rng: np.random.Generator, n: int, cal: Calendar) -> Population:
    shares = _per_type("share")
    type_idx = rng.choice(len(TYPES), size=n, p=shares / shares.sum()).astype(np.int64)

    recent = np.array([t.signup_days_before_end[0] for t in TYPES])[type_idx]
    oldest = np.array([t.signup_days_before_end[1] for t in TYPES])[type_idx]
    days_before_end = rng.integers(recent, oldest + 1)
    signup_day = np.clip(cal.days - 1 - days_before_end, 0, cal.days - 1)
    lag = np.where(rng.random(n) < FIRST_PURCHASE_SAME_DAY, 0,
                   rng.geometric(1.0 / FIRST_PURCHASE_LAG_MEAN_DAYS, size=n))
    first_day = np.minimum(signup_day + lag, cal.days - 1)
    first_t = first_day + rng.random(n)

    multichannel = rng.random(n) < MULTI.share
    channel_probs = _channel_probs(rng, multichannel)

    # Gaussian copula: the rate keeps its exact Gamma(r, alpha) marginal within each
    # (type, channel group) while its normal score also feeds the loyalty factor.
    rate_score = rng.standard_normal(n)
    r = _per_type("r")[type_idx]
    alpha = _per_type("alpha")[type_idx] / np.where(multichannel, MULTI.rate_multiplier, 1.0)
    rate = gammaincinv(r, ndtr(rate_score)) / alpha

    a = _per_type("a")[type_idx]
    b = _per_type("b")[type_idx] * np.where(multichannel, MULTI.dropout_b_multiplier, 1.0)
    dropout = rng.beta(a, b)

    gamma = _per_type("spend_gamma")[type_idx] * np.where(multichannel, MULTI.spend_multiplier, 1.0)
    spend_nu = rng.gamma(_per_type("spend_q")[type_idx], 1.0 / gamma)
    spend_p = _per_type("spend_p")[type_idx]

    loyalty = _loyalty(rng, type_idx, rate_score)

    join_prob = _per_type("join_prob")[type_idx] + np.where(
        multichannel, PROGRAM.multichannel_join_bonus, 0.0)
    intends = rng.random(n) < join_prob
    delay = np.where(rng.random(n) < PROGRAM.join_at_first_purchase, 0.0,
                     rng.exponential(PROGRAM.join_delay_mean_days, size=n))
    join_t = np.where(intends, first_t + delay, np.inf)

    return Population(type_idx, multichannel, channel_probs, signup_day, first_t, rate,
                      dropout, spend_nu, spend_p, loyalty, join_t)


def _channel_probs(rng: np.random.Generator, multichannel: np.ndarray) -> np.ndarray:
    """Per-customer purchase-channel mix: one channel, or a Dirichlet mix over 2-4 channels."""
    n, k = len(multichannel), len(PURCHASE_CHANNELS)
    popularity = np.asarray(CHANNEL_POPULARITY)
    # Channels in a random popularity-weighted order (Gumbel top-k); the first m are used.
    keys = np.log(popularity)[None, :] + rng.gumbel(size=(n, k))
    rank = np.argsort(np.argsort(-keys, axis=1), axis=1)
    size = np.where(multichannel,
                    2 + rng.choice(3, size=n, p=MULTI.repertoire_size_probs), 1)
    used = rank < size[:, None]
    weights = rng.gamma(MULTI.dirichlet_concentration, size=(n, k)) * used
    return weights / weights.sum(axis=1, keepdims=True)


def _loyalty(rng: np.random.Generator, type_idx: np.ndarray, rate_score: np.ndarray) -> np.ndarray:
    """Latent loyalty: a type mean plus a part shared with the purchase rate, standardised."""
    means = _per_type("loyalty_mean")
    shares = _per_type("share") / _per_type("share").sum()
    rho = LOYALTY_BEHAVIOUR_RHO
    raw = means[type_idx] + rho * rate_score + np.sqrt(1 - rho**2) * rng.standard_normal(len(type_idx))
    # Standardise with the population moments, not the sample's, so loadings stay exact.
    mu = float(shares @ means)
    sd = float(np.sqrt(1.0 + shares @ (means - mu) ** 2))
    return (raw - mu) / sd
