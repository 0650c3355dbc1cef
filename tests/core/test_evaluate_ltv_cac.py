"""LTV:CAC report: a ledger worked by hand, the CLV model's expectation reused as is, and the
sample's planted acquisition truths (fixtures/README.md: referral brings better customers
than display at a third of the cost)."""

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from core.errors import AnalysisError, MissingTableError
from core.evaluate.ltv_cac import DAYS_PER_MONTH, ltv_cac

D = dt.date
SAMPLE = Path(__file__).resolve().parents[2] / "fixtures" / "sample"


def ledger():
    customers = pl.LazyFrame({"customer_id": ["a", "b", "c", "d"],
                              "acquisition_channel": ["referral", "referral", "display", "display"],
                              "acquisition_cost": [10.0, 20.0, 30.0, 30.0],
                              "tier": ["gold", "silver", "gold", "gold"]})
    transactions = pl.LazyFrame({
        "customer_id": ["a", "a", "b", "b", "b", "c", "c"],
        "order_date": [D(2024, 1, 1), D(2024, 2, 10), D(2024, 1, 15), D(2024, 3, 10), D(2024, 4, 1),
                       D(2024, 2, 1), D(2024, 2, 5)],
        "amount": [50.0, 20.0, 10.0, 30.0, 100.0, 100.0, -40.0],
    })
    return transactions, customers


def test_ledger_worked_by_hand():
    # Two months after each first purchase (30.44 days each), long before the as-of date, so
    # every figure is observed. Margin 50%.
    # a: 50 (day 0), 20 (day 40: month 2) -> 25, 35.  b: 10 (day 0), 30 (day 55: month 2),
    # 100 (day 77: after month 2) -> 5, 20.  c: 100 - 40 (return, day 4) -> 30, 30.  d: never bought.
    # referral: mean margin 15, 27.5 against CAC 15 -> payback month 1, LTV 27.5, ratio 27.5/15.
    # display: 15, 15 against CAC 30 -> no payback, LTV 15, ratio 0.5.
    transactions, customers = ledger()
    result = ltv_cac(transactions, customers, margin=0.5, horizon_months=2, as_of=D(2024, 12, 31))
    rows = {r["acquisition_channel"]: r for r in result.tables["channels"].iter_rows(named=True)}
    ref, disp = rows["referral"], rows["display"]
    assert (ref["customers"], ref["buyers"], ref["cac"], ref["total_cost"]) == (2, 2, 15.0, 30.0)
    assert ref["ltv"] == pytest.approx(27.5) and ref["ltv_cac_ratio"] == pytest.approx(27.5 / 15)
    assert ref["payback_months"] == 1
    assert (disp["customers"], disp["buyers"], disp["cac"]) == (2, 1, 30.0)
    assert disp["ltv"] == pytest.approx(15.0) and disp["ltv_cac_ratio"] == pytest.approx(0.5)
    assert disp["payback_months"] is None
    assert any("do not pay back" in n for n in result.notes)
    assert result.headline["ltv_cac_ratio"] == pytest.approx((27.5 * 2 + 15 * 2) / 90)
    curve = result.tables["payback"].filter(pl.col("group") == "referral").sort("month")
    assert curve["cumulative_margin"].to_list() == pytest.approx([15.0, 27.5])


def test_by_splits_each_channel():
    transactions, customers = ledger()
    table = ltv_cac(transactions, customers, margin=0.5, horizon_months=2, by="tier",
                    as_of=D(2024, 12, 31)).tables["channels"]
    gold = table.filter(pl.col("acquisition_channel") == "display", pl.col("tier") == "gold").row(0, named=True)
    assert gold["customers"] == 2 and gold["ltv"] == pytest.approx(15.0)
    referral_gold = table.filter(pl.col("acquisition_channel") == "referral", pl.col("tier") == "gold")
    assert referral_gold["ltv"].to_list() == pytest.approx([35.0]) and referral_gold["cac"].to_list() == [10.0]


def test_bad_input_is_named():
    transactions, customers = ledger()
    with pytest.raises(MissingTableError, match="'customers' table"):
        ltv_cac(transactions, None)
    with pytest.raises(AnalysisError, match="'acquisition_cost'"):
        ltv_cac(transactions, customers.drop("acquisition_cost"))
    with pytest.raises(AnalysisError, match="--margin"):
        ltv_cac(transactions, customers, margin=30)


def sample(name):
    return pl.scan_csv(SAMPLE / f"{name}.csv", try_parse_dates=True)


@pytest.fixture(scope="module")
def on_sample():
    return ltv_cac(sample("transactions"), sample("customers"), margin=0.3, horizon_months=36)


def test_future_months_are_predict_clv_undiscounted(on_sample):
    # A customer whose first purchase is 100-300 days before the as-of date: LTV over 36 months
    # is the observed margin plus predict clv's expected value over the remaining days.
    from core.predict.clv import clv_analysis

    tx, customers = sample("transactions"), sample("customers")
    as_of = tx.select(pl.col("order_date").max()).collect().item()
    first = (tx.filter(pl.col("amount") > 0).group_by("customer_id").agg(pl.col("order_date").min())
             .with_columns(tenure=(pl.lit(as_of) - pl.col("order_date")).dt.total_days())
             .filter(pl.col("tenure").is_between(100, 300)).collect().sort("customer_id"))
    who, tenure = first["customer_id"][0], first["tenure"][0]
    mine = customers.filter(pl.col("customer_id") == who)
    result = ltv_cac(tx, mine, margin=1.0, horizon_months=36)
    remaining = 36 * DAYS_PER_MONTH - tenure
    clv = clv_analysis(tx, calibration_end=as_of, unit="day", horizon=remaining, discount_rate=0.0)
    expected = clv.tables["customers"].filter(pl.col("customer_id") == who)["clv"].item()
    observed = tx.filter(pl.col("customer_id") == who, pl.col("order_date") <= as_of).select(
        pl.col("amount").sum()).collect().item()
    assert result.tables["channels"]["ltv"].item() == pytest.approx(observed + expected, rel=1e-9)


def test_sample_ranks_channels_as_planted(on_sample):
    rows = {r["acquisition_channel"]: r for r in on_sample.tables["channels"].iter_rows(named=True)}
    planted_cac = {"referral": 12, "paid_search": 40, "social": 28, "display": 35, "store": 6}
    for channel, cac in planted_cac.items():
        assert rows[channel]["cac"] == pytest.approx(cac, rel=0.1), channel  # lognormal, sigma 0.35
    assert rows["organic"]["cac"] == 0 and rows["organic"]["ltv_cac_ratio"] is None
    # Display brings the worst customers, referral and organic the best.
    assert min(rows, key=lambda c: rows[c]["ltv"]) == "display"
    assert rows["referral"]["ltv"] > rows["organic"]["ltv"] > rows["paid_search"]["ltv"]
    paid = ("referral", "paid_search", "social", "display")
    assert max(paid, key=lambda c: rows[c]["ltv_cac_ratio"]) == "referral"
    assert min(paid, key=lambda c: rows[c]["ltv_cac_ratio"]) == "display"


def test_ratio_interval_matches_a_bootstrap_over_customers():
    """The delta-method interval of LTV:CAC against 4,000 bootstrap resamples of customers (numpy
    only, written here), on 3,000 customers whose LTV rises with their cost."""
    import numpy as np

    from core.evaluate.ltv_cac import channel_table

    rng = np.random.default_rng(11)
    n = 3000
    cost = rng.gamma(4.0, 10.0, n)
    ltv = 1.5 * cost + rng.gamma(2.0, 30.0, n) * rng.binomial(1, 0.6, n)
    people = pl.DataFrame({"acquisition_channel": ["paid"] * n, "acquisition_cost": cost, "bought": [True] * n})
    row = channel_table(people, ltv[:, None], ["acquisition_channel"])[0].row(0, named=True)
    boots = rng.integers(0, n, (4000, n))
    ratios = ltv[boots].mean(axis=1) / cost[boots].mean(axis=1)
    half = (row["ltv_cac_ratio_ci_high"] - row["ltv_cac_ratio_ci_low"]) / 2
    assert half == pytest.approx(1.959964 * ratios.std(ddof=1), rel=0.06)
    assert row["ltv_cac_ratio"] == pytest.approx(ltv.mean() / cost.mean())
    ltv_half = (row["ltv_ci_high"] - row["ltv_ci_low"]) / 2
    z = 1.959963984540054  # the normal 97.5% point
    assert ltv_half == pytest.approx(z * ltv.std(ddof=1) / np.sqrt(n), rel=1e-9)


def test_hand_ledger_intervals_bracket_the_figures():
    transactions, customers = ledger()
    result = ltv_cac(transactions, customers, margin=0.5, horizon_months=2, as_of=D(2024, 12, 31))
    for row in result.tables["channels"].iter_rows(named=True):
        assert row["ltv_ci_low"] <= row["ltv"] <= row["ltv_ci_high"]
        assert row["ltv_cac_ratio_ci_low"] <= row["ltv_cac_ratio"] <= row["ltv_cac_ratio_ci_high"]
    low, high = result.headline["ltv_cac_ratio_ci"]
    assert low < result.headline["ltv_cac_ratio"] < high
    assert any("delta method" in n for n in result.notes)
