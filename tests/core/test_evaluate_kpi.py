"""KPI overview: every indicator worked out by hand on a small shop."""

import datetime as dt

import polars as pl
import pytest

from core.errors import AnalysisError, InputError, MissingTableError
from core.evaluate.kpi import kpi

D, T = dt.date, dt.datetime


def shop():
    rows = [
        ("a", D(2024, 2, 12), 10.0), ("a", D(2024, 2, 25), 20.0), ("a", D(2024, 3, 2), 30.0),
        ("a", D(2024, 3, 5), 40.0), ("b", D(2024, 2, 22), 50.0), ("c", D(2024, 3, 3), 60.0),
        ("c", D(2024, 3, 3), -10.0), ("d", D(2024, 2, 15), 70.0), ("d", D(2024, 3, 8), 80.0),
        ("e", D(2023, 1, 5), 100.0), ("e", D(2024, 1, 10), 100.0),
    ]
    transactions = pl.LazyFrame(rows, schema=["customer_id", "order_date", "amount"], orient="row")
    customers = pl.LazyFrame({"customer_id": list("abcde"), "acquisition_cost": [5.0, 8.0, 12.0, 3.0, 1.0]})
    touchpoints = pl.LazyFrame({"customer_id": ["a", "b", "f", "a"],
                                "timestamp": [T(2024, 3, 1), T(2024, 3, 4), T(2024, 3, 2), T(2024, 2, 21)],
                                "channel": "email", "cost": 0.5})
    survey = pl.LazyFrame({"customer_id": list("abcde"),
                           "response_date": [D(2024, 3, 1)] * 4 + [D(2024, 2, 25)],
                           "nps": [10, 9, 3, 7, 0], "csat": [5, 4, 2, 3, 1]})
    return transactions, customers, touchpoints, survey


def test_every_kpi_worked_by_hand():
    transactions, customers, touchpoints, survey = shop()
    # Period Mar 1-10; previous Feb 20-29; the one before that Feb 10-19.
    result = kpi(transactions, customers, touchpoints, survey, start=D(2024, 3, 1), end=D(2024, 3, 10))
    got = {r["kpi"]: (r["current"], r["previous"]) for r in result.tables["kpis"].iter_rows(named=True)}
    assert got["customers"] == (5, 4)  # c's first purchase is in March
    assert got["active_customers"] == (3, 2)  # a, c, d | a, b
    assert got["new_customers"] == (1, 1)  # c | b
    assert got["retention_rate"] == (0.5, 0.5)  # of {a, b}: a | of {a, d}: a
    assert got["churn_rate"] == (0.5, 0.5)
    assert got["repeat_purchase_rate"] == pytest.approx((1 / 3, 0.0))  # a ordered twice in March
    assert got["revenue"] == (200, 70)  # c's return counts against March
    assert got["revenue_growth"][0] == pytest.approx(200 / 70 - 1)
    assert got["orders"] == (4, 2)
    assert got["aov"] == (210 / 4, 35)
    assert got["cac"] == (12, 8)  # acquisition cost of c | of b
    assert got["conversion_rate"][0] == pytest.approx(1 / 3)  # touched a, b, f; a bought
    assert got["nps"] == (25, -100)
    assert got["csat"] == (3.5, 1)
    # Yearly retention: only e bought in the year before last, and again: r = 1, so the
    # multiplier r / (1 + 0.1 - r) is 10; annual value caps the year at 365 days.
    march = [100, 50, 50, 150, 200 * 365 / 431]
    february = [30, 50, 70, 200 * 365 / 421]
    assert got["clv"] == pytest.approx((sum(march) / 5 * 10, sum(february) / 4 * 10))
    kpis = result.tables["kpis"]
    assert kpis["level"].unique().sort().to_list() == ["brand", "customer", "sales"]
    change = kpis.filter(pl.col("kpi") == "revenue").row(0, named=True)
    assert change["change"] == 130 and change["change_pct"] == pytest.approx(200 / 70 - 1)
    assert result.headline["revenue"] == 200


def test_default_period_is_the_last_days_up_to_the_last_order():
    transactions, *_ = shop()
    result = kpi(transactions, days=10)
    assert (result.params["start"], result.params["end"]) == (D(2024, 2, 28), D(2024, 3, 8))
    assert "nps" not in result.tables["kpis"]["kpi"].to_list()  # no survey: not shown as zero
    assert any("Not available" in n and "nps" in n for n in result.notes)


def test_cac_from_marketing_cost_without_acquisition_costs():
    transactions, customers, touchpoints, _ = shop()
    result = kpi(transactions, customers.drop("acquisition_cost"), touchpoints,
                 start=D(2024, 3, 1), end=D(2024, 3, 10))
    cac = result.tables["kpis"].filter(pl.col("kpi") == "cac").row(0, named=True)
    assert cac["current"] == pytest.approx(1.5 / 1)  # three touches at 0.5, one new customer
    assert cac["previous"] == pytest.approx(0.5 / 1)


def test_clear_errors():
    transactions, *_ = shop()
    with pytest.raises(MissingTableError, match="transactions"):
        kpi(None, workspace="shop")
    with pytest.raises(AnalysisError, match="no purchases between"):
        kpi(transactions, start=D(2020, 1, 1), end=D(2020, 1, 31))
    with pytest.raises(InputError, match="starts"):
        kpi(transactions, start=D(2024, 3, 1), end=D(2024, 2, 1))
