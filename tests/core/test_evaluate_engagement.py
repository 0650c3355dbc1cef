"""Engagement report: a hand-worked funnel, statsmodels' Wilson intervals, and the sample's
planted contact-fatigue threshold (fixtures/README.md: past 2 messages in 30 days)."""

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from statsmodels.stats.proportion import proportion_confint

from core.demo import params
from core.errors import AnalysisError, MissingTableError
from core.evaluate.engagement import engagement

D, T = dt.date, dt.datetime
SAMPLE = Path(__file__).resolve().parents[2] / "fixtures" / "sample"


def touches(rows):
    return pl.LazyFrame(rows, schema=["customer_id", "timestamp", "channel", "touch_type"], orient="row")


def small():
    # email: 5 sent, 4 delivered, 2 opened, 1 of them clicked; social logged as clicks only.
    tp = touches([
        ("a", T(2024, 3, 1, 9), "email", "click"),
        ("a", T(2024, 3, 20, 9), "email", "delivered"),
        ("b", T(2024, 3, 1, 9), "email", "open"),
        ("b", T(2024, 3, 2, 9), "email", "sent"),
        ("c", T(2024, 3, 5, 9), "email", "delivered"),
        ("c", T(2024, 3, 6, 9), "social", "click"),
        ("d", T(2024, 3, 6, 9), "social", "click"),
    ])
    tx = pl.LazyFrame({"customer_id": ["a", "a", "c", "c"],
                       "order_date": [D(2024, 3, 4), D(2024, 3, 5), D(2024, 3, 6), D(2024, 4, 30)],
                       "amount": [40.0, 60.0, 25.0, 99.0]})
    customers = pl.LazyFrame({"customer_id": ["a", "b", "c", "d"], "tier": ["gold", "gold", None, "silver"]})
    return tp, tx, customers


def test_funnel_worked_by_hand():
    tp, tx, _ = small()
    rows = {r["channel"]: r for r in engagement(tp, tx).tables["funnel"].iter_rows(named=True)}
    email = rows["email"]
    assert (email["contacts"], email["reach"], email["sent"], email["delivered"], email["opened"],
            email["clicked"]) == (5, 3, 5, 4, 2, 1)
    assert email["delivery_rate"] == pytest.approx(4 / 5)
    assert email["open_rate"] == pytest.approx(2 / 4)
    assert email["click_rate"] == pytest.approx(1 / 4)
    assert email["click_to_open_rate"] == pytest.approx(1 / 2)
    # a's Mar 1 email is followed by orders on Mar 4 and 5 (within 7 days); c's Mar 5 email by Mar 6.
    assert email["converted"] == 2 and email["conversion_rate"] == pytest.approx(2 / 5)
    # Mar 4 and 5 orders credit a's Mar 1 email; c's Mar 6 order credits the Mar 6 social click
    # (c's last contact), not the Mar 5 email; the Apr 30 order is outside 7 days.
    assert email["revenue"] == pytest.approx(100.0)
    assert email["revenue_per_contact"] == pytest.approx(100.0 / 5)
    social = rows["social"]
    assert social["revenue"] == pytest.approx(25.0) and social["converted"] == 1
    # A channel logged only as clicks has no sends, deliveries or opens: rates empty, not 100%.
    for column in ("sent", "delivered", "opened", "delivery_rate", "open_rate", "click_rate", "click_to_open_rate"):
        assert social[column] is None, column


def test_intervals_are_statsmodels_wilson():
    tp, tx, _ = small()
    email = engagement(tp, tx, confidence=0.9).tables["funnel"].filter(pl.col("channel") == "email").row(0, named=True)
    for rate, hits, n in (("delivery_rate", 4, 5), ("open_rate", 2, 4), ("click_rate", 1, 4),
                          ("click_to_open_rate", 1, 2), ("conversion_rate", 2, 5)):
        low, high = proportion_confint(hits, n, alpha=0.1, method="wilson")
        assert email[f"{rate}_ci_low"] == pytest.approx(low, abs=1e-12), rate
        assert email[f"{rate}_ci_high"] == pytest.approx(high, abs=1e-12), rate


def test_by_a_customers_column_splits_each_channel():
    tp, tx, customers = small()
    funnel = engagement(tp, tx, customers, by="tier").tables["funnel"]
    gold = funnel.filter(pl.col("channel") == "email", pl.col("tier") == "gold").row(0, named=True)
    assert (gold["contacts"], gold["reach"], gold["opened"]) == (4, 2, 2)
    with pytest.raises(AnalysisError, match="'segment' is not a column of the customers table"):
        engagement(tp, tx, customers, by="segment")


def test_rows_without_touch_type_are_counted_in_a_note():
    tp, tx, _ = small()
    extra = touches([("a", T(2024, 3, 3, 9), "email", None), ("b", T(2024, 3, 3, 9), "email", None)])
    result = engagement(pl.concat([tp, extra]), tx)
    assert result.headline["rows_without_touch_type"] == 2
    assert any(n.startswith("2 touchpoints rows have no touch_type") for n in result.notes)
    email = result.tables["funnel"].filter(pl.col("channel") == "email").row(0, named=True)
    assert email["contacts"] == 7 and email["open_rate"] == pytest.approx(2 / 4)


def test_no_touchpoints_table_names_it():
    with pytest.raises(MissingTableError, match="'touchpoints' table"):
        engagement(None, workspace="shop")


def test_without_transactions_conversion_is_empty_not_zero():
    tp, _, _ = small()
    result = engagement(tp)
    assert result.tables["funnel"]["conversion_rate"].null_count() == result.tables["funnel"].height
    assert any("No transactions table" in n for n in result.notes)


def sample(name):
    return pl.scan_csv(SAMPLE / f"{name}.csv", try_parse_dates=True)


def test_sample_recovers_the_planted_fatigue_threshold():
    planted = params.ENGAGEMENT
    result = engagement(sample("touchpoints"), sample("transactions"), window_days=int(planted.window_days))
    assert result.headline["fatigue_threshold"] == planted.fatigue_threshold
    curve = {r["contacts_in_window"]: r for r in result.tables["fatigue"].iter_rows(named=True)}
    # Past the threshold the rate is clearly lower than at it (intervals apart).
    assert curve[3]["response_rate_ci_high"] < curve[2]["response_rate_ci_low"]
    email = result.tables["funnel"].filter(pl.col("channel") == "email").row(0, named=True)
    assert email["delivery_rate_ci_low"] <= planted.funnels[0].delivered <= email["delivery_rate_ci_high"]


def test_no_fatigue_is_reported_when_response_does_not_fall():
    rng = np.random.default_rng(5)
    n = 4000
    cust = rng.integers(0, 300, n)
    when = [T(2024, 1, 1) + dt.timedelta(days=float(d)) for d in rng.random(n) * 120]
    opened = rng.random(n) < 0.3  # the same chance however many messages came before
    tp = pl.LazyFrame({"customer_id": cust.astype(str), "timestamp": when, "channel": "email",
                       "touch_type": np.where(opened, "open", "delivered")})
    result = engagement(tp)
    assert result.tables["fatigue"].height >= 5  # the counts do vary
    assert result.headline["fatigue_threshold"] is None
    assert any("No contact fatigue detected" in n for n in result.notes)


def test_unsubscribe_rates_by_channel_and_by_messages_in_the_window():
    # e: three emails in ten days, unsubscribing after the third; f: one email, unsubscribed;
    # g: two delivered emails. Push never logs unsubscribes: its rate is unknown, not 0.
    tp = touches([
        ("e", T(2024, 3, 1, 9), "email", "open"),
        ("e", T(2024, 3, 5, 9), "email", "delivered"),
        ("e", T(2024, 3, 10, 9), "email", "unsubscribe"),
        ("f", T(2024, 3, 1, 9), "email", "unsubscribe"),
        ("g", T(2024, 3, 1, 9), "email", "delivered"),
        ("g", T(2024, 3, 3, 9), "email", "delivered"),
        ("h", T(2024, 3, 3, 9), "push", "open"),
    ])
    result = engagement(tp, window_days=30)
    rows = {r["channel"]: r for r in result.tables["funnel"].iter_rows(named=True)}
    assert (rows["email"]["unsubscribed"], rows["email"]["delivered"], rows["email"]["opened"]) == (2, 6, 1)
    assert rows["email"]["unsubscribe_rate"] == pytest.approx(2 / 6)
    assert rows["push"]["unsubscribed"] is None and rows["push"]["unsubscribe_rate"] is None
    assert result.headline["unsubscribe_rate"] == pytest.approx(2 / 6)
    fatigue = {r["contacts_in_window"]: r for r in result.tables["fatigue"].iter_rows(named=True)}
    # first messages: e, f, g (f unsubscribed; push logs no sends, so it is no message channel);
    # second: e, g; third: e (unsubscribed)
    assert (fatigue[1]["contacts"], fatigue[1]["unsubscribed"]) == (3, 1)
    assert (fatigue[3]["contacts"], fatigue[3]["unsubscribed"]) == (1, 1)
    low, high = proportion_confint(1, 3, alpha=0.05, method="wilson")
    assert fatigue[1]["unsubscribe_rate_ci_low"] == pytest.approx(low, abs=1e-12)
    assert fatigue[1]["unsubscribe_rate_ci_high"] == pytest.approx(high, abs=1e-12)


def test_no_unsubscribes_logged_leaves_the_rate_empty():
    tp, tx, _ = small()
    result = engagement(tp, tx)
    assert result.headline["unsubscribe_rate"] is None
    assert result.tables["fatigue"]["unsubscribe_rate"].null_count() == result.tables["fatigue"].height
