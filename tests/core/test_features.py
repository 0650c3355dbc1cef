"""Per-customer features: a hand-checked table, as-of handling, and a pandas reference."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import polars as pl
import pytest

from core.errors import InputError
from core.features import (
    FEATURES, MAX_CHANNELS, customer_features, default_as_of, feature_description,
)

D = dt.date
AS_OF = D(2024, 3, 31)


def _tx() -> pl.LazyFrame:
    rows = [
        # A: two orders on Jan 1 (web, store), one two-line order on Feb 1, a return on Mar 1,
        # and a purchase after as_of that must not count.
        ("A", D(2024, 1, 1), 100.0, "web", "o1"),
        ("A", D(2024, 1, 1), 50.0, "store", "o2"),
        ("A", D(2024, 2, 1), 20.0, "web", "o3"),
        ("A", D(2024, 2, 1), 10.0, "web", "o3"),
        ("A", D(2024, 3, 1), -40.0, "web", "o4"),
        ("A", D(2024, 4, 5), 999.0, "store", "o10"),
        # B: a single purchase on the as-of date.
        ("B", D(2024, 3, 31), 25.0, "app", "o5"),
        # C: only a return.
        ("C", D(2024, 2, 10), -15.0, "web", "o6"),
        # D: three purchases ten days apart, long ago.
        ("D", D(2023, 6, 1), 10.0, "store", "o7"),
        ("D", D(2023, 6, 11), 10.0, "store", "o8"),
        ("D", D(2023, 6, 21), 10.0, "store", "o9"),
        # E: only after as_of.
        ("E", D(2024, 4, 2), 70.0, "web", "o11"),
    ]
    return pl.LazyFrame(rows, orient="row", schema={
        "customer_id": pl.String, "order_date": pl.Date, "amount": pl.Float64,
        "channel": pl.String, "order_id": pl.String})


def _by_id(frame: pl.LazyFrame) -> dict[str, dict]:
    return {r["customer_id"]: r for r in frame.collect().iter_rows(named=True)}


def test_hand_checked_features() -> None:
    f = _by_id(customer_features(_tx(), as_of=AS_OF))
    assert set(f) == {"A", "B", "C", "D"}
    a = f["A"]
    assert a["first_purchase"] == D(2024, 1, 1) and a["last_purchase"] == D(2024, 2, 1)
    assert a["recency_days"] == (AS_OF - D(2024, 2, 1)).days == 59
    assert a["t_days"] == (AS_OF - D(2024, 1, 1)).days == 90
    assert a["frequency"] == 2  # Jan 1 and Feb 1
    assert a["orders"] == 3  # o1, o2 and the two-line o3
    assert a["monetary"] == pytest.approx(140.0)
    assert a["gross_spend"] == pytest.approx(180.0)
    assert a["returns_value"] == pytest.approx(40.0)
    assert a["aov"] == pytest.approx(60.0)
    assert a["mean_ipt_days"] == pytest.approx(31.0)
    assert a["n_channels"] == 2 and a["multi_channel"] is True
    assert a["last_channel"] == "web"
    assert a["share_web"] == pytest.approx(130 / 180)
    assert a["share_store"] == pytest.approx(50 / 180)
    assert a["share_app"] == pytest.approx(0.0)
    assert a["return_rate"] == pytest.approx(40 / 180)
    assert a["inactivity_threshold_days"] == pytest.approx(93.0)  # 3 x 31
    assert a["active"] is True

    d = f["D"]
    assert d["frequency"] == 3 and d["mean_ipt_days"] == pytest.approx(10.0)
    assert d["recency_days"] == (AS_OF - D(2023, 6, 21)).days
    assert d["inactivity_threshold_days"] == pytest.approx(30.0)
    assert d["active"] is False
    assert d["multi_channel"] is False and d["last_channel"] == "store"


def test_one_purchase_customer() -> None:
    b = _by_id(customer_features(_tx(), as_of=AS_OF))["B"]
    # A purchase on the as-of date has recency 0 and T 0 (DESIGN.md: as_of inclusive).
    assert b["recency_days"] == 0 and b["t_days"] == 0
    assert b["frequency"] == 1 and b["orders"] == 1
    assert b["mean_ipt_days"] is None
    # One purchase day: the threshold uses the median of the repeat buyers (31 and 10).
    assert b["inactivity_threshold_days"] == pytest.approx(3 * 20.5)
    assert b["active"] is True


def test_returns_only_customer() -> None:
    c = _by_id(customer_features(_tx(), as_of=AS_OF))["C"]
    assert c["frequency"] == 0 and c["orders"] == 0
    assert c["monetary"] == pytest.approx(-15.0) and c["gross_spend"] == 0
    assert c["recency_days"] is None and c["t_days"] is None and c["aov"] is None
    assert c["return_rate"] is None and c["n_channels"] == 0
    assert c["active"] is False


def test_as_of_excludes_later_transactions() -> None:
    early = _by_id(customer_features(_tx(), as_of=AS_OF))
    late = _by_id(customer_features(_tx(), as_of=D(2024, 4, 5)))
    assert "E" not in early and "E" in late
    assert late["A"]["monetary"] == pytest.approx(140.0 + 999.0)
    assert late["A"]["recency_days"] == 0
    # Before D's second purchase, D has bought once.
    mid = _by_id(customer_features(_tx(), as_of=D(2023, 6, 10)))
    assert set(mid) == {"D"} and mid["D"]["frequency"] == 1


def test_default_as_of_is_last_transaction_date() -> None:
    assert default_as_of(_tx()) == D(2024, 4, 5)
    f = _by_id(customer_features(_tx()))
    assert f["A"]["recency_days"] == 0  # A's purchase on 2024-04-05
    assert f["E"]["recency_days"] == 3


def test_fixed_inactivity_days() -> None:
    f = _by_id(customer_features(_tx(), as_of=AS_OF, inactivity_days=50))
    assert f["A"]["active"] is False  # recency 59 > 50
    assert f["B"]["active"] is True
    assert {r["inactivity_threshold_days"] for r in f.values()} == {50.0}
    g = _by_id(customer_features(_tx(), as_of=AS_OF, inactivity_multiple=1.5))
    assert g["A"]["inactivity_threshold_days"] == pytest.approx(46.5)
    assert g["A"]["active"] is False


def test_optional_tables() -> None:
    customers = pl.LazyFrame({
        "customer_id": ["A", "B"],
        "signup_date": [D(2023, 12, 1), D(2024, 5, 1)],  # B signs up after as_of: ignored
    })
    start = AS_OF - dt.timedelta(days=89)  # the 90-day window, as_of inclusive
    touchpoints = pl.LazyFrame({
        "customer_id": ["A", "A", "A", "A", "D"],
        "timestamp": [dt.datetime(2024, 3, 31, 23, 0), dt.datetime.combine(start, dt.time()),
                      dt.datetime.combine(start, dt.time()) - dt.timedelta(hours=1),
                      dt.datetime(2024, 4, 1), dt.datetime(2024, 2, 1)],
        "channel": ["email"] * 5,
    })
    survey = pl.LazyFrame({
        "customer_id": ["A", "A", "A", "D"],
        "response_date": [D(2024, 1, 10), D(2024, 3, 15), D(2024, 4, 10), D(2023, 7, 1)],
        "nps": [6, 9, 0, 3],
        "csat": [3, None, 1, 2],
    })
    f = _by_id(customer_features(_tx(), as_of=AS_OF, customers=customers,
                                 touchpoints=touchpoints, survey=survey))
    assert f["A"]["tenure_days"] == (AS_OF - D(2023, 12, 1)).days
    assert f["B"]["tenure_days"] == 0
    assert f["D"]["tenure_days"] == f["D"]["t_days"]
    assert f["A"]["engagement"] == 2 and f["D"]["engagement"] == 1 and f["B"]["engagement"] == 0
    assert f["A"]["nps"] == 9 and f["A"]["csat"] == 3  # latest non-missing on or before as_of
    assert f["D"]["nps"] == 3 and f["B"]["nps"] is None


def test_columns_are_documented_and_lazy() -> None:
    lazy = customer_features(_tx(), as_of=AS_OF)
    assert isinstance(lazy, pl.LazyFrame)
    for column in lazy.collect_schema().names():
        assert feature_description(column)
    assert list(FEATURES)[0] == "customer_id"


def test_without_optional_columns() -> None:
    f = customer_features(_tx().drop("channel", "order_id"), as_of=AS_OF).collect()
    assert "n_channels" not in f.columns and "last_channel" not in f.columns
    a = f.filter(pl.col("customer_id") == "A").row(0, named=True)
    assert a["orders"] == 4  # without order ids every purchase row is an order


def test_bad_input_is_named() -> None:
    with pytest.raises(InputError, match="amount"):
        customer_features(_tx().drop("amount"))
    many = pl.LazyFrame({
        "customer_id": ["x"] * (MAX_CHANNELS + 1), "order_date": [AS_OF] * (MAX_CHANNELS + 1),
        "amount": [1.0] * (MAX_CHANNELS + 1),
        "channel": [f"shop {i}" for i in range(MAX_CHANNELS + 1)]})
    with pytest.raises(InputError, match="channel"):
        customer_features(many)
    with pytest.raises(InputError):
        customer_features(_tx(), inactivity_days=0)


def _random_transactions(seed: int = 7, customers: int = 300, rows: int = 3000) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    amount = np.round(rng.gamma(2.0, 20.0, rows), 2)
    amount[rng.random(rows) < 0.08] *= -1
    return pd.DataFrame({
        "customer_id": [f"c{i:03d}" for i in rng.integers(0, customers, rows)],
        "order_date": pd.to_datetime("2023-01-01")
        + pd.to_timedelta(rng.integers(0, 500, rows), unit="D"),
        "amount": amount,
        "channel": rng.choice(["app", "store", "web"], rows),
        # Some orders have several lines (a shared order id).
        "order_id": [f"o{i}" for i in rng.integers(0, int(rows * 0.8), rows)],
    })


def test_matches_pandas_reference() -> None:
    raw = _random_transactions()
    as_of = pd.Timestamp("2024-03-01")
    lazy = pl.from_pandas(raw).lazy().with_columns(pl.col("order_date").dt.date())
    ours = customer_features(lazy, as_of=as_of.date()).collect().to_pandas().set_index("customer_id")

    seen = raw[raw.order_date <= as_of]
    buys = seen[seen.amount > 0]
    grouped = buys.groupby("customer_id")
    ref = pd.DataFrame({
        "monetary": seen.groupby("customer_id").amount.sum(),
        "frequency": grouped.order_date.nunique(),
        "orders": grouped.order_id.nunique(),
        "last": grouped.order_date.max(),
        "first": grouped.order_date.min(),
        "gross": grouped.amount.sum(),
        "n_channels": grouped.channel.nunique(),
    })
    ref["recency"] = (as_of - ref["last"]).dt.days
    ref["t"] = (as_of - ref["first"]).dt.days
    ref["ipt"] = buys.drop_duplicates(["customer_id", "order_date"]).sort_values("order_date") \
        .groupby("customer_id").order_date.apply(lambda s: s.diff().dt.days.mean())
    web = buys[buys.channel == "web"].groupby("customer_id").amount.sum()
    ref["share_web"] = (web / ref["gross"]).fillna(0.0)
    last_rows = buys.merge(ref["last"].rename("last").reset_index(), on="customer_id")
    last_rows = last_rows[last_rows.order_date == last_rows["last"]]
    ref["last_channel"] = last_rows.groupby("customer_id").channel.min()

    assert set(ours.index) == set(seen.customer_id)
    buyers = ref.index
    pd.testing.assert_series_equal(ours.loc[seen.customer_id.unique(), "monetary"].sort_index(),
                                   ref["monetary"].reindex(seen.customer_id.unique()).fillna(0)
                                   .sort_index(), check_names=False)
    for ours_col, ref_col in [("frequency", "frequency"), ("orders", "orders"),
                              ("recency_days", "recency"), ("t_days", "t"),
                              ("n_channels", "n_channels")]:
        np.testing.assert_array_equal(ours.loc[buyers, ours_col].to_numpy(),
                                      ref.loc[buyers, ref_col].to_numpy(), err_msg=ours_col)
    np.testing.assert_allclose(ours.loc[buyers, "aov"], ref["gross"] / ref["orders"])
    np.testing.assert_allclose(ours.loc[buyers, "mean_ipt_days"].astype(float),
                               ref["ipt"].astype(float), equal_nan=True)
    np.testing.assert_allclose(ours.loc[buyers, "share_web"], ref["share_web"])
    assert (ours.loc[buyers, "last_channel"] == ref["last_channel"]).all()


def test_aggregating_in_passes_gives_the_same_features(monkeypatch) -> None:
    """Big histories are aggregated in several passes over disjoint customers (bounded
    memory); the features must not depend on how many passes were made."""
    import core.features as features
    from core.workspace import Workspace, bundled_sample

    ws = Workspace.open(bundled_sample())
    tables = {t: ws.scan(t) for t in ("customers", "touchpoints", "survey")}
    one_pass = features.customer_features(ws.scan("transactions"), **tables).collect()
    monkeypatch.setattr(features, "ROWS_PER_PASS", 5_000)
    assert features.aggregation_passes(ws.scan("transactions")) > 1
    in_passes = features.customer_features(ws.scan("transactions"), **tables).collect()
    from polars.testing import assert_frame_equal

    assert_frame_equal(in_passes.sort("customer_id"), one_pass.sort("customer_id"))


def test_the_memory_budget_sets_the_passes(monkeypatch) -> None:
    """LOYALIST_MEMORY_LIMIT sizes the passes: a small budget splits 12M rows, a laptop's
    memory reads them in one pass (each extra pass re-reads the file)."""
    import core.features as features
    from core.errors import InputError

    twelve_million = pl.LazyFrame({"x": [0]}).select(pl.repeat(0, 12_000_000))
    monkeypatch.setenv("LOYALIST_MEMORY_LIMIT", "8g")
    assert features.aggregation_passes(twelve_million) == 1
    monkeypatch.setenv("LOYALIST_MEMORY_LIMIT", "500m")
    assert features.aggregation_passes(twelve_million) == 3  # 4.4M rows a pass at 120 B
    monkeypatch.setenv("LOYALIST_MEMORY_LIMIT", "lots")
    with pytest.raises(InputError, match="LOYALIST_MEMORY_LIMIT"):
        features.aggregation_passes(twelve_million)


def test_one_read_gives_what_the_as_of_date_found_first_gives(monkeypatch) -> None:
    """read_features finds the default as-of date in the same read as the aggregation:
    the same table, date and count of later rows as reading the dates first, also with a
    row without a customer dating the data, rows after today and in several passes."""
    import core.features as features
    from polars.testing import assert_frame_equal

    today = D(2024, 4, 3)  # A's 2024-04-05 purchase is "after today"
    extra = pl.LazyFrame({"customer_id": [None, "F"], "order_date": [D(2024, 4, 3), D(2030, 1, 1)],
                          "amount": [5.0, 8.0], "channel": ["web", "web"], "order_id": ["o12", "o13"]},
                         schema=_tx().collect_schema())
    tx = pl.concat([_tx(), extra])
    for passes in (None, 3):
        monkeypatch.setattr(features, "ROWS_PER_PASS", passes)
        read = features.read_features(tx, channels=["app", "store", "web"], today=today)
        # the customer-less row, on today, is the last date up to today: it dates the data
        assert read.as_of == default_as_of(tx, today) == today
        assert read.after_today == 2  # A's 2024-04-05 and F's 2030 rows
        expected = customer_features(tx, as_of=read.as_of, channels=["app", "store", "web"]).collect()
        assert_frame_equal(read.table, expected)
        assert set(read.table["customer_id"]) == {"A", "B", "C", "D", "E"}  # F only after today
        assert read.table.filter(pl.col("customer_id") == "E")["recency_days"].item() == 1
        assert_frame_equal(
            features.read_features(tx, columns=["customer_id", "recency_days"], channels=(), today=today).table,
            expected.select("customer_id", "recency_days"))


def test_one_read_with_nothing_up_to_today_says_so() -> None:
    from core.errors import AnalysisError
    from core.features import read_features

    with pytest.raises(AnalysisError, match="no dated rows up to today"):
        read_features(_tx(), channels=(), today=D(2020, 1, 1))
