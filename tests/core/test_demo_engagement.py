"""The sample's message funnel (sent -> delivered -> open -> click) and its contact fatigue.

References: the planted parameters (core/demo/params.py ENGAGEMENT, fixtures/README.md),
estimated on a 20,000-customer draw (seed 11) with Polars' own rolling windows and
statsmodels' Wilson intervals; the window count against a brute-force loop.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from statsmodels.stats.proportion import proportion_confint

import core.demo as demo
from core.demo import build, params
from core.demo.engagement import messages_in_window

E = params.ENGAGEMENT


@pytest.fixture(scope="module")
def messages():
    tp = build(20_000, seed=11).tables["touchpoints"]
    return (tp.filter(pl.col("channel").is_in(["email", "push"])).sort("customer_id", "timestamp")
            .with_columns(k=pl.len().rolling(index_column="timestamp", period=f"{int(E.window_days)}d")
                          .over("customer_id")))


def _within(hits: int, n: int, planted: float) -> None:
    low, high = proportion_confint(hits, n, alpha=0.001, method="wilson")
    assert low <= planted <= high, (hits, n, planted)


def test_window_count_matches_a_brute_force_loop():
    rng = np.random.default_rng(0)
    cust, t = rng.integers(0, 20, 400), rng.random(400) * 200
    expected = [int(((cust == c) & (t > x - 30) & (t <= x)).sum()) for c, x in zip(cust, t)]
    assert messages_in_window(cust, t, 30.0).tolist() == expected


def test_rows_keep_the_furthest_stage_and_other_channels_their_type(messages):
    assert set(messages["touch_type"].unique()) == set(params.FUNNEL_STAGES)
    tp = build(300, seed=3).tables["touchpoints"]
    others = tp.filter(~pl.col("channel").is_in(["email", "push"]))
    assert set(zip(others["channel"], others["touch_type"])) <= {
        ("social", "click"), ("paid_search", "click"), ("display", "impression")}


@pytest.mark.parametrize("funnel", E.funnels, ids=lambda f: f.channel)
def test_planted_funnel_rates_are_recovered_below_the_threshold(messages, funnel):
    mine = messages.filter(pl.col("channel") == funnel.channel)
    stage = pl.col("touch_type")
    delivered = mine.filter(stage != "sent")
    _within(delivered.height, mine.height, funnel.delivered)
    fresh = delivered.filter(pl.col("k") <= E.fatigue_threshold)
    opened = fresh.filter(stage.is_in(["open", "click"]))
    _within(opened.height, fresh.height, funnel.open)
    _within(opened.filter(stage == "click").height, opened.height, funnel.click)


def test_opening_falls_past_the_planted_threshold(messages):
    email = messages.filter(pl.col("channel") == "email", pl.col("touch_type") != "sent")
    rate = (email.group_by("k").agg(n=pl.len(), hits=pl.col("touch_type").is_in(["open", "click"]).sum())
            .sort("k"))
    by_k = {row["k"]: row for row in rate.iter_rows(named=True)}
    funnel = E.funnels[0]
    for k in range(1, E.fatigue_threshold + 3):
        planted = funnel.open * E.fatigue_decay ** max(k - E.fatigue_threshold, 0)
        _within(by_k[k]["hits"], by_k[k]["n"], planted)


def test_the_funnel_moves_no_other_draw(monkeypatch):
    with_funnel = build(300, seed=3).tables
    monkeypatch.setattr(demo, "funnel_stages", lambda rng, touches: np.full(len(touches.cust), None, dtype=object))
    without = build(300, seed=3).tables
    for name, frame in with_funnel.items():
        if name == "touchpoints":
            assert frame.drop("touch_type").equals(without[name].drop("touch_type"))
        else:
            assert frame.equals(without[name]), name
