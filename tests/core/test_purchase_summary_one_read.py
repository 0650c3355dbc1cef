"""predict churn's value at risk from the features' own read of the transactions:
core.features.customer_features_at(summary_at=...) makes the per-customer table
core.predict.summary.btyd_summary fits BG/NBD and Gamma-Gamma on, from the per-period group_by.

References: the published CDNOW summary (tests/data, as in test_predict_clv.py), hand-computed
figures, and btyd_summary reading the transactions itself.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from core import features
from core.features import customer_features_at
from core.predict.clv import customer_clv
from core.predict.summary import btyd_summary

DATA = Path(__file__).resolve().parents[1] / "data"
SAMPLE = Path(__file__).resolve().parents[2] / "fixtures" / "sample"
d = dt.date


def _shared(tx: pl.LazyFrame, dates: list[dt.date], at: dt.date, unit: str = "day") -> pl.DataFrame:
    per_customer = customer_features_at(tx, dates, summary_at=at).purchase_summary
    return btyd_summary(None, at, unit=unit, per_customer=per_customer)


def test_the_shared_read_reproduces_the_published_cdnow_summary():
    tx = pl.read_csv(DATA / "cdnow_sample_transactions.csv",
                     schema={"customer_id": pl.String, "order_date": pl.Date, "amount": pl.Float64}).lazy()
    end = d(1997, 9, 30)  # 39 weeks, as Fader, Hardie & Lee (2005)
    ours = _shared(tx, [d(1997, 3, 31), end, d(1998, 6, 30)], end, unit="week")
    published = pl.read_csv(DATA / "cdnow_summary.csv").with_columns(pl.col("ID").cast(pl.String))
    joined = published.join(ours, left_on="ID", right_on="customer_id", how="inner")
    assert ours.height == joined.height == 2357
    assert (joined["x"] == joined["frequency"]).all()
    for theirs, mine in (("t_x", "recency"), ("T", "T_right"), ("zbar", "monetary_value")):
        assert (joined[theirs] - joined[mine]).abs().max() <= 0.005 + 1e-9  # published to two decimals


@pytest.mark.parametrize("passes", [None, 1000])
def test_the_shared_read_equals_btyd_summary_on_the_sample(monkeypatch, passes):
    from core.workspace import Workspace

    # 1000 rows per pass: several passes over disjoint sets of customers
    monkeypatch.setattr(features, "ROWS_PER_PASS", passes)
    tx = Workspace.open(SAMPLE).scan("transactions")
    if passes:
        tx = tx.head(5000)
    last = tx.select(pl.col("order_date").max()).collect().item()
    dates = [last - dt.timedelta(days=180), last - dt.timedelta(days=90), last]
    for at in (dates[0], dates[-1]):  # the first period alone, and every period
        assert_frame_equal(_shared(tx, dates, at), btyd_summary(tx, at, unit="day"))


def _hand_made() -> pl.LazyFrame:
    rows = [
        # a: zero amounts are purchases (a free item on a day of its own counts as a purchase day);
        # a return on the first day does not lower the first day's spend
        ("a", d(2024, 1, 10), 10.123457), ("a", d(2024, 1, 10), 0.0), ("a", d(2024, 1, 10), -4.0),
        ("a", d(2024, 2, 1), 0.0), ("a", d(2024, 3, 5), 7.1),
        # b: same-day rows on a period's boundary (dates[0] is in the first period), and one the next day
        ("b", d(2024, 1, 31), 3.3), ("b", d(2024, 1, 31), 2.2), ("b", d(2024, 2, 1), 1.1),
        # c: only returns and a row without an amount: no purchase, so no row
        ("c", d(2024, 1, 20), -5.0), ("c", d(2024, 2, 20), None),
        # e: first purchase in the second period, only a zero amount before it, a return after
        ("e", d(2024, 2, 5), 0.0), ("e", d(2024, 2, 5), 0.3), ("e", d(2024, 3, 1), 0.1), ("e", d(2024, 3, 2), -9.0),
        # f: a purchase after the summary date only
        ("f", d(2024, 3, 20), 50.0),
        # rows without a customer id, and one without a date
        (None, d(2024, 1, 2), 99.0), (None, d(2024, 3, 1), 1.0), ("b", None, 8.0),
    ]
    return pl.LazyFrame(rows, schema={"customer_id": pl.String, "order_date": pl.Date, "amount": pl.Float64},
                        orient="row")


def test_zero_amounts_returns_boundaries_and_nulls_follow_btyd_summary_rules():
    tx = _hand_made()
    dates = [d(2024, 1, 31), d(2024, 2, 20), d(2024, 3, 10)]
    at = dates[-1]
    ours = _shared(tx, dates, at)
    # rows without a customer id are nobody's, in both (churn never scores a null customer)
    assert_frame_equal(ours, btyd_summary(tx, at, unit="day"))
    by_id = {row["customer_id"]: row for row in ours.iter_rows(named=True)}
    assert sorted(by_id) == ["a", "b", "e"]
    a, b, e = by_id["a"], by_id["b"], by_id["e"]
    # by hand: a bought on 01-10, 02-01 (zero) and 03-05; repeat spend (0 + 7.1) / 2
    assert (a["frequency"], a["recency"], a["T"]) == (2, 55.0, 60.0)
    assert a["monetary_value"] == pytest.approx(3.55, abs=1e-12)
    assert (b["frequency"], b["recency"], b["T"], b["monetary_value"]) == (1, 1.0, 39.0, pytest.approx(1.1))
    assert (e["frequency"], e["recency"], e["T"]) == (1, 25.0, 34.0)
    assert e["monetary_value"] == pytest.approx(0.1)
    # the first period alone: b's boundary day is in it, e is not a customer yet
    first = _shared(tx, dates, dates[0])
    assert_frame_equal(first, btyd_summary(tx, dates[0], unit="day"))
    assert first["customer_id"].to_list() == ["a", "b"]


def test_spend_is_summed_exactly_across_periods():
    # 0.1 + 0.2 in floats is not 0.3; summed in millionths over two periods it is the same as in one
    tx = pl.LazyFrame({"customer_id": ["a"] * 4, "order_date": [d(2024, 1, 1), d(2024, 1, 2), d(2024, 2, 2),
                                                                   d(2024, 3, 3)],
                       "amount": [1.0, 0.1, 0.2, 0.000001]})
    dates = [d(2024, 1, 15), d(2024, 2, 15), d(2024, 3, 15)]
    per_customer = customer_features_at(tx, dates, summary_at=dates[-1]).purchase_summary
    assert per_customer["spend"].item() == 1.300001 and per_customer["first_spend"].item() == 1.0
    assert per_customer["purchase_days"].item() == 4


def test_customer_clv_from_the_shared_read_is_the_clv_from_a_read_of_its_own():
    from core.workspace import Workspace

    tx = Workspace.open(SAMPLE).scan("transactions")
    last = tx.select(pl.col("order_date").max()).collect().item()
    dates = [last - dt.timedelta(days=180), last - dt.timedelta(days=90), last]
    per_customer = customer_features_at(tx, dates, summary_at=last).purchase_summary
    assert_frame_equal(customer_clv(tx, calibration_end=last, unit="day", per_customer=per_customer),
                       customer_clv(tx, calibration_end=last, unit="day"))


def test_summary_at_must_be_one_of_the_dates():
    with pytest.raises(ValueError, match="not one of the dates"):
        customer_features_at(_hand_made(), [d(2024, 1, 31)], summary_at=d(2024, 2, 1))


def test_without_zero_amounts_or_fine_cents_the_features_own_sums_make_the_summary(monkeypatch):
    # the common case: every figure from the features' per-period group_by, no second read
    def second_read(*args):
        raise AssertionError("read the transactions again")

    monkeypatch.setattr(features, "_purchase_summary", second_read)
    tx = _hand_made().filter(pl.col("amount") != 0).with_columns(pl.col("amount").round(2))
    dates = [d(2024, 1, 31), d(2024, 2, 20), d(2024, 3, 10)]
    for at in (dates[0], dates[-1]):
        assert_frame_equal(_shared(tx, dates, at), btyd_summary(tx, at, unit="day"))
    # a zero amount (a purchase for the BTYD models, not for the features) takes the other way
    with pytest.raises(AssertionError, match="again"):
        _shared(_hand_made(), dates, dates[-1])
