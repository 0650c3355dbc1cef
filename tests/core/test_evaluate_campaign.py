"""Campaign report: windows by hand, holdout lift against statsmodels, a planted lift matched."""

import datetime as dt
import sys

import numpy as np
import polars as pl
import pytest
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW, ttest_ind

from core.errors import AnalysisError, MissingTableError
from core.evaluate.campaign import campaign

D = dt.date
CAMPAIGNS = pl.LazyFrame({
    "campaign_id": ["C1", "C2"], "name": ["Spring", "Late"], "channel": ["email", "push"],
    "start_date": [D(2024, 3, 10), D(2024, 4, 25)], "end_date": [D(2024, 3, 19), D(2024, 5, 10)],
    "spend": [100.0, 50.0],
})


def transactions():
    return pl.LazyFrame({
        "customer_id": ["a", "b", "a", "c", "b", "d", "a", "c"],
        "order_date": [D(2024, 3, 1), D(2024, 3, 9), D(2024, 3, 10), D(2024, 3, 15), D(2024, 3, 19),
                       D(2024, 3, 25), D(2024, 3, 30), D(2024, 4, 28)],
        "amount": [10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0],
    })


def test_windows_worked_by_hand_and_pre_post_without_a_comparison():
    customers = pl.LazyFrame({"customer_id": ["a", "b", "c", "d"],
                              "member_since": [D(2024, 3, 5), D(2024, 3, 12), D(2024, 3, 18), None]})
    result = campaign(CAMPAIGNS, transactions(), customers=customers, as_of=D(2024, 4, 30))
    windows = {(r["campaign_id"], r["window"]): r for r in result.tables["windows"].iter_rows(named=True)}
    # C1 runs 10 days: before Feb 29 - Mar 9, after Mar 20 - Mar 29.
    assert windows[("C1", "before")]["revenue"] == 30 and windows[("C1", "before")]["start"] == D(2024, 2, 29)
    assert windows[("C1", "during")]["revenue"] == 120 and windows[("C1", "during")]["orders"] == 3
    assert windows[("C1", "after")]["revenue"] == 60
    assert windows[("C1", "during")]["new_members"] == 2 and windows[("C1", "before")]["new_members"] == 1
    assert windows[("C1", "during")]["new_customers"] == 1  # c's first purchase
    # C2 began before the as-of date and is cut there: during Apr 25-30, no after window yet.
    assert windows[("C2", "during")]["days"] == 6 and ("C2", "after") not in windows
    row = result.tables["campaigns"].filter(pl.col("campaign_id") == "C1").row(0, named=True)
    assert row["method"] == "pre-post"
    assert row["incremental_revenue"] == pytest.approx((120 / 10 - 30 / 10) * 10)
    assert row["roi"] == pytest.approx((90 - 100) / 100)
    assert row["new_members_during"] == 2


def holdout_data(seed=0, n=400):
    rng = np.random.default_rng(seed)
    ids = [f"u{i}" for i in range(n)]
    treated = rng.random(n) < 0.8
    buys = rng.random(n) < np.where(treated, 0.5, 0.35)
    amount = np.round(rng.gamma(2.0, 30.0, n), 2)
    days = rng.integers(0, 10, n)  # inside the campaign, Mar 10 - Mar 19
    experiments = pl.LazyFrame({"customer_id": ids, "experiment": "C1",
                                "variant": np.where(treated, "treatment", "holdout")})
    tx = pl.LazyFrame({
        "customer_id": [i for i, b in zip(ids, buys) if b],
        "order_date": [D(2024, 3, 10) + dt.timedelta(days=int(d)) for d, b in zip(days, buys) if b],
        "amount": amount[buys],
    })
    outcome = np.where(buys, amount, 0.0)
    return experiments, tx, outcome[treated], outcome[~treated]


def test_holdout_lift_matches_statsmodels():
    experiments, tx, t, h = holdout_data()
    result = campaign(CAMPAIGNS, tx, experiments, campaign_id="C1", as_of=D(2024, 3, 31))
    row = result.tables["campaigns"].row(0, named=True)
    _, p, _ = ttest_ind(t, h, usevar="unequal")
    lo, hi = CompareMeans(DescrStatsW(t), DescrStatsW(h)).tconfint_diff(usevar="unequal")
    assert row["method"] == "holdout" and (row["treated"], row["comparison"]) == (t.size, h.size)
    assert row["incremental_revenue"] == pytest.approx((t.mean() - h.mean()) * t.size)
    assert (row["incremental_ci_low"], row["incremental_ci_high"]) == pytest.approx((lo * t.size, hi * t.size))
    assert row["p_value"] == pytest.approx(p, rel=1e-9)
    assert row["roi"] == pytest.approx((row["incremental_revenue"] - 100) / 100)
    assert result.tables["campaigns"].height == 1


def test_touched_customers_against_matched_ones_find_a_planted_lift():
    rng = np.random.default_rng(2)
    n = 1200
    ids = np.array([f"u{i}" for i in range(n)])
    rate = rng.gamma(2.0, 1 / 60, n)
    # A year of history, then the campaign touches a random half; each touched customer
    # buys one extra 50.00 order during it.
    counts = rng.poisson(rate * 400)
    cust = np.repeat(np.arange(n), counts)
    day = rng.integers(0, 400, cust.size)
    touched = rng.random(n) < 0.5
    extra = np.flatnonzero(touched)
    start = D(2023, 1, 1)
    tx = pl.DataFrame({
        "customer_id": np.concatenate([ids[cust], ids[extra], ids]),
        "order_date": [start + dt.timedelta(days=int(d)) for d in day]
        + [D(2024, 1, 25)] * extra.size + [start] * n,
        "amount": np.concatenate([np.round(rng.gamma(2.0, 30.0, cust.size), 2), np.full(extra.size, 50.0),
                                  np.full(n, 10.0)]),
    }).lazy()
    touchpoints = pl.LazyFrame({"customer_id": ids[touched], "timestamp": dt.datetime(2024, 1, 20, 9),
                                "channel": "email", "campaign_id": "C9"})
    campaigns = pl.LazyFrame({"campaign_id": ["C9"], "start_date": [D(2024, 1, 20)],
                              "end_date": [D(2024, 1, 29)], "spend": [500.0]})
    result = campaign(campaigns, tx, touchpoints=touchpoints, as_of=D(2024, 2, 4))
    row = result.tables["campaigns"].row(0, named=True)
    assert row["method"] == "matched" and row["treated"] == touched.sum()
    planted = 50.0 * touched.sum()
    assert row["incremental_ci_low"] < planted < row["incremental_ci_high"]
    assert row["incremental_revenue"] == pytest.approx(planted, rel=0.35)


def test_clear_errors():
    with pytest.raises(MissingTableError, match="campaigns"):
        campaign(None, transactions(), workspace="shop")
    with pytest.raises(AnalysisError, match="start_date"):
        campaign(CAMPAIGNS.drop("start_date"), transactions())
    with pytest.raises(AnalysisError, match="campaign 'C7'"):
        campaign(CAMPAIGNS, transactions(), campaign_id="C7")


def test_an_order_of_several_lines_counts_once():
    lines = pl.LazyFrame({
        "order_id": ["o1", "o1", "o1", "o2", "o2-R"],
        "customer_id": ["a", "a", "a", "b", "b"],
        "order_date": [D(2024, 3, 12), D(2024, 3, 12), D(2024, 3, 12), D(2024, 3, 14), D(2024, 3, 16)],
        "amount": [10.0, 5.0, 2.5, 20.0, -20.0],
        "product_id": ["p1", "p2", "p3", "p1", "p1"],
    })
    result = campaign(CAMPAIGNS, lines, as_of=D(2024, 3, 31))
    during = result.tables["windows"].filter((pl.col("campaign_id") == "C1") & (pl.col("window") == "during"))
    assert during["orders"].item() == 2 and during["revenue"].item() == pytest.approx(17.5)


def test_a_campaign_measured_by_its_holdout_is_not_matched_too(monkeypatch):
    # Matching every touched customer is the report's heaviest step; it is wasted where a
    # randomised holdout already gives the effect.
    module = sys.modules[campaign.__module__]

    experiments, tx, _, _ = holdout_data()
    touchpoints = pl.LazyFrame({"customer_id": ["u1", "u2"], "timestamp": dt.datetime(2024, 3, 10, 9),
                                "channel": "email", "campaign_id": ["C1", "C2"]})
    matched_for = []
    real = module.matched_rows

    def spy(touchpoints, transactions, tx, windows, max_controls):
        matched_for.extend(windows.collect()["campaign_id"].to_list())
        return real(touchpoints, transactions, tx, windows, max_controls)

    monkeypatch.setattr(module, "matched_rows", spy)
    result = campaign(CAMPAIGNS, tx, experiments, touchpoints, as_of=D(2024, 5, 31))
    methods = dict(result.tables["campaigns"].select("campaign_id", "method").iter_rows())
    assert methods["C1"] == "holdout"
    assert matched_for == ["C2"]
