"""Cohorts: a worked example, and random data against an independent pandas computation."""

import datetime as dt

import numpy as np
import pandas as pd
import polars as pl
import pytest

from core.errors import AnalysisError, InputError, MissingTableError
from core.evaluate.cohorts import cohorts

D = dt.date


def small():
    return pl.LazyFrame({
        "customer_id": ["a", "a", "b", "b", "c", "a", "d"],
        "order_date": [D(2024, 1, 5), D(2024, 2, 7), D(2024, 1, 20), D(2024, 3, 1), D(2024, 2, 2),
                       D(2024, 3, 9), D(2024, 3, 15)],
        "amount": [10.0, 20, 30, 40, 50, -5, 7],
    })


def test_worked_example():
    result = cohorts(small())
    retention = result.tables["customer_retention"]
    assert retention.columns == ["cohort", "customers", "m0", "m1", "m2"]
    assert retention.rows() == [
        ("2024-01", 2, 1.0, 0.5, 0.5),   # a and b; a buys in Feb, b in March
        ("2024-02", 1, 1.0, 0.0, None),  # c never again; March is observed, April is not
        ("2024-03", 1, 1.0, None, None),
    ]
    revenue = result.tables["revenue_retention"]
    # January cohort: 40 in its first month, 20 in Feb, 40 - 5 (a return) in March.
    assert revenue.row(0) == pytest.approx(("2024-01", 2, 1.0, 0.5, 35 / 40))
    assert result.headline["retention_m1"] == pytest.approx(1 / 3)  # 1 of 3 customers observed a month on
    assert result.headline["retention_m3"] is None
    assert any("partial" in n for n in result.notes)


def test_as_of_counts_quiet_periods_as_zero_and_weeks_start_on_monday():
    result = cohorts(small(), period="week", as_of=D(2024, 3, 31), max_periods=3)
    retention = result.tables["customer_retention"]
    assert retention["cohort"].to_list() == ["2024-01-01", "2024-01-15", "2024-01-29", "2024-03-11"]
    assert retention.row(3) == ("2024-03-11", 1, 1.0, 0.0, 0.0, None)  # weeks 1-2 seen, week 3 not yet
    assert not any("partial" in n for n in result.notes)  # 2024-03-31 is a Sunday
    early = cohorts(small(), as_of=D(2024, 1, 31))
    assert early.tables["customer_retention"].rows() == [("2024-01", 2, 1.0)]


def pandas_cohorts(df: pd.DataFrame):
    """Textbook cohort table with pandas: first-purchase month, months since, unique buyers."""
    df = df.copy()
    df["month"] = df["order_date"].dt.to_period("M")
    buys = df[df["amount"] > 0]
    df["cohort"] = df["customer_id"].map(buys.groupby("customer_id")["month"].min())
    df = df.dropna(subset=["cohort"])
    df["k"] = (df["month"] - df["cohort"]).apply(lambda offset: offset.n)
    df = df[df["k"] >= 0]  # a return dated before the first purchase belongs to no period
    size = df.groupby("cohort")["customer_id"].nunique()
    active = df[df["amount"] > 0].groupby(["cohort", "k"])["customer_id"].nunique()
    revenue = df.groupby(["cohort", "k"])["amount"].sum()
    retention = active.div(size, level="cohort")
    revenue_retention = revenue.div(revenue.xs(0, level="k"), level="cohort")
    return size, retention, revenue_retention


def test_random_data_matches_pandas():
    rng = np.random.default_rng(7)
    n = 3000
    df = pd.DataFrame({
        "customer_id": rng.integers(0, 400, n).astype(str),
        "order_date": pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 540, n), unit="D"),
        "amount": np.round(rng.gamma(2.0, 30.0, n) * np.where(rng.random(n) < 0.05, -1, 1), 2),
    })
    result = cohorts(pl.from_pandas(df).with_columns(pl.col("order_date").dt.date()).lazy())
    long = result.tables["cohorts"]
    size, retention, revenue_retention = pandas_cohorts(df)
    got = {(r["cohort"], r["period"]): r for r in long.iter_rows(named=True)}
    assert long.filter(pl.col("period") == 0)["customers"].to_list() == size.to_list()
    for (cohort, k), value in retention.items():
        assert got[(str(cohort), k)]["retention"] == pytest.approx(value)
    for (cohort, k), value in revenue_retention.items():
        assert got[(str(cohort), k)]["revenue_retention"] == pytest.approx(value)
    # Every observed cell pandas did not list had no buyer: zero, not missing.
    listed = {(str(c), k) for c, k in retention.index}
    assert all(r["retention"] == 0 for key, r in got.items() if key not in listed)


def test_clear_errors():
    with pytest.raises(MissingTableError, match="transactions"):
        cohorts(None, workspace="shop")
    with pytest.raises(InputError, match="period"):
        cohorts(small(), period="year")
    with pytest.raises(AnalysisError, match="cohort"):
        cohorts(small().filter(pl.col("amount") < 0))


def test_a_matrix_shows_cohort_sizes_as_counts_and_periods_as_shares():
    from core.export.columns import kinds

    for period in ("month", "week"):
        result = cohorts(small(), period=period)
        for table in ("customer_retention", "revenue_retention"):
            shown = kinds(result.tables[table], result.kinds, table)
            assert shown["customers"] == "count"  # 57 customers, never "5700.0%"
            assert {shown[c] for c in result.tables[table].columns[2:]} == {"percent"}
