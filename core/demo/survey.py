"""Survey answers driven by the latent loyalty factor and satisfaction drivers; the Delphi panel."""

from __future__ import annotations

import numpy as np
import polars as pl
from scipy.special import ndtri

from core.demo.calendar import Calendar
from core.demo.params import (
    CSAT_CUM_PROBS,
    CSAT_LOYALTY_EFFECT,
    DELPHI,
    DRIVER_CORRELATION,
    DRIVER_CUM_PROBS,
    DRIVER_EFFECTS_CSAT,
    DRIVER_EFFECTS_NPS,
    DRIVERS,
    ITEM_MISSING_RATE,
    KANO_FEATURES,
    LIKERT_CUM_PROBS,
    LIKERT_ITEMS,
    NPS_CUM_PROBS,
    NPS_LOYALTY_EFFECT,
    SURVEY,
)
from core.demo.people import Population

COMMENTS = {
    "promoter": ("Great service, will buy again", "Love the app", "Fast delivery, good quality",
                 "送货很快，质量很好", "会员活动很划算", "Staff in the store were very helpful"),
    "passive": ("OK, but prices could be lower", "还可以", "Delivery took a while",
                "Good products, website is slow", "一般般，价格有点贵"),
    "detractor": ("Delivery was late again", "客服态度不好", "Too expensive for the quality",
                  "Return process is a pain", "商品和描述不符"),
}


def _ordinal(latent: np.ndarray, cum_probs: tuple[float, ...], lowest: int) -> np.ndarray:
    """Cut a standard-normal latent at its quantiles: category k has the planted probabilities."""
    return lowest + np.searchsorted(ndtri(np.asarray(cum_probs)), latent)


def _residual_sd(weights: np.ndarray, corr: np.ndarray, extra: float) -> float:
    explained = float(weights @ corr @ weights) + extra**2
    return float(np.sqrt(1.0 - explained))


def survey_answers(rng: np.random.Generator, cal: Calendar, pop: Population) -> dict[str, np.ndarray]:
    """One wave: respondents, response day, Likert items, drivers, NPS, CSAT and comments."""
    start = cal.last_window(SURVEY.start, SURVEY.days)
    eligible = np.flatnonzero(pop.first_t < start)
    cust = eligible[rng.random(len(eligible)) < SURVEY.response_rate]
    m = len(cust)
    loyalty = pop.loyalty[cust]
    out: dict[str, np.ndarray] = {
        "cust": cust,
        "day": start + rng.integers(0, SURVEY.days, size=m),
    }

    for item in LIKERT_ITEMS:
        latent = item.loading * loyalty + np.sqrt(1 - item.loading**2) * rng.standard_normal(m)
        out[item.name] = _ordinal(latent, LIKERT_CUM_PROBS, 1).astype(np.float64)

    k = len(DRIVERS)
    corr = np.full((k, k), DRIVER_CORRELATION) + (1 - DRIVER_CORRELATION) * np.eye(k)
    drivers = rng.standard_normal((m, k)) @ np.linalg.cholesky(corr).T
    for j, name in enumerate(DRIVERS):
        out[name] = _ordinal(drivers[:, j], DRIVER_CUM_PROBS, 1).astype(np.float64)

    w_nps = np.asarray(DRIVER_EFFECTS_NPS)
    nps = drivers @ w_nps + NPS_LOYALTY_EFFECT * loyalty + _residual_sd(
        w_nps, corr, NPS_LOYALTY_EFFECT) * rng.standard_normal(m)
    out["nps"] = _ordinal(nps, NPS_CUM_PROBS, 0)
    w_csat = np.asarray(DRIVER_EFFECTS_CSAT)
    csat = drivers @ w_csat + CSAT_LOYALTY_EFFECT * loyalty + _residual_sd(
        w_csat, corr, CSAT_LOYALTY_EFFECT) * rng.standard_normal(m)
    out["csat"] = _ordinal(csat, CSAT_CUM_PROBS, 1)

    for name in [i.name for i in LIKERT_ITEMS] + list(DRIVERS):
        out[name][rng.random(m) < ITEM_MISSING_RATE] = np.nan
    out["comment"] = _comments(rng, out["nps"])
    return out


def _comments(rng: np.random.Generator, nps: np.ndarray) -> np.ndarray:
    group = np.where(nps >= 9, "promoter", np.where(nps >= 7, "passive", "detractor"))
    says = rng.random(len(nps)) < SURVEY.comment_rate
    pick = rng.random(len(nps))
    comment = np.full(len(nps), None, dtype=object)
    for name, bank in COMMENTS.items():  # three groups, not rows
        rows = says & (group == name)
        comment[rows] = np.asarray(bank, dtype=object)[(pick[rows] * len(bank)).astype(np.int64)]
    return comment


def kano_answers(rng: np.random.Generator, m: int) -> dict[str, np.ndarray]:
    """Kano answer words per feature for m respondents (planted class shares in params)."""
    from core.text.kano import ANSWERS, CLASSES, EVALUATION

    cells = {c: [(f, d) for f in range(5) for d in range(5) if EVALUATION[f][d] == c] for c in CLASSES}
    words = np.asarray(ANSWERS, dtype=object)
    out = {}
    for feature in KANO_FEATURES:  # four features, not rows
        cls = rng.choice(len(CLASSES), size=m, p=np.asarray(feature.shares) / sum(feature.shares))
        func, dysf = np.zeros(m, dtype=np.int64), np.zeros(m, dtype=np.int64)
        for k, c in enumerate(CLASSES):  # six classes
            rows = np.flatnonzero(cls == k)
            pick = np.asarray(cells[c])[rng.integers(len(cells[c]), size=len(rows))]
            func[rows], dysf[rows] = pick[:, 0], pick[:, 1]
        for side, codes in (("func", func), ("dysf", dysf)):
            answer = words[codes]
            answer[rng.random(m) < ITEM_MISSING_RATE] = None
            out[f"kano_{feature.name}_{side}"] = answer
    return out


def delphi_ratings(rng: np.random.Generator) -> pl.DataFrame:
    """Experts rate each loyalty item's importance; deviations shrink round by round."""
    e, k = DELPHI.experts, len(LIKERT_ITEMS)
    truth = np.asarray(DELPHI.importance)
    deviation = DELPHI.first_round_sd * rng.standard_normal((e, k))
    lo, hi = DELPHI.scale
    frames = []
    for rnd in range(1, DELPHI.rounds + 1):  # three rounds
        if rnd > 1:
            deviation = DELPHI.persistence * deviation + DELPHI.later_round_sd * rng.standard_normal((e, k))
        rating = np.clip(np.rint(truth + deviation), lo, hi).astype(np.int64)
        frames.append(pl.DataFrame({
            "expert": np.repeat([f"E{i + 1:02d}" for i in range(e)], k),
            "round": np.full(e * k, rnd),
            "item": np.tile([i.name for i in LIKERT_ITEMS], e),
            "rating": rating.ravel(),
        }))
    return pl.concat(frames)
