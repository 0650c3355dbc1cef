"""Migration between segmentations at two dates: counts add up, shares by row."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from core.errors import InputError
from core.segments.migration import GONE, NEW, migration_between, segment_migration
from core.segments.rfm import rfm_segments


def _table(pairs: dict[str, str]) -> pl.DataFrame:
    return pl.DataFrame({"customer_id": list(pairs), "segment": list(pairs.values())})


def test_transition_matrix_by_hand() -> None:
    before = _table({"a": "Champions", "b": "Champions", "c": "Champions", "d": "At Risk"})
    after = _table({"a": "Champions", "b": "At Risk", "c": "At Risk", "d": "At Risk",
                    "e": "New"})
    result = segment_migration(before, after, order=["Champions", "At Risk", "New"])
    counts = result.tables["counts"]
    assert counts["from_segment"].to_list() == ["Champions", "At Risk", "New", NEW]
    assert counts.columns == ["from_segment", "Champions", "At Risk", "New", "total"]
    assert counts.row(0) == ("Champions", 1, 2, 0, 3)  # two Champions became At Risk
    assert counts.row(1) == ("At Risk", 0, 1, 0, 1)
    assert counts.row(2) == ("New", 0, 0, 0, 0)  # an empty before-segment keeps its row
    assert counts.row(3) == (NEW, 0, 0, 1, 1)
    shares = result.tables["shares"]
    assert shares.row(0)[1:] == pytest.approx((1 / 3, 2 / 3, 0))
    assert shares.row(2)[1:] == (None, None, None)
    assert result.headline == {"customers_before": 4, "customers_after": 5, "stayed": 2,
                               "moved": 2, "new": 1, "gone": 0}
    assert "2 moved from Champions to At Risk (67% of Champions)" in result.notes


def test_customers_only_before_go_to_gone() -> None:
    result = segment_migration(_table({"a": "X", "b": "Y"}), _table({"a": "Y"}))
    moves = dict(zip(*result.tables["customers"].select("customer_id", "to_segment")))
    assert moves == {"a": "Y", "b": GONE}
    assert GONE in result.tables["counts"].columns and result.headline["gone"] == 1


def test_rfm_migration_counts_add_up() -> None:
    rng = np.random.default_rng(2)
    n = 4000
    tx = pl.LazyFrame({
        "customer_id": [f"c{i:03d}" for i in rng.integers(0, 400, n)],
        "order_date": pl.date_range(dt.date(2023, 1, 1), dt.date(2024, 12, 31), eager=True)
        .sample(n, with_replacement=True, seed=3),
        "amount": rng.gamma(2, 30, n),
    })
    before, after = dt.date(2024, 3, 31), dt.date(2024, 12, 31)
    result = migration_between(tx, rfm_segments, before, after)
    counts = result.tables["counts"]
    from core.features import customer_features
    n_before = customer_features(tx, as_of=before).collect().height
    n_after = customer_features(tx, as_of=after).collect().height
    assert int(counts["total"].sum()) == n_after  # every later customer counted once
    seen_before = counts.filter(pl.col("from_segment") != NEW)["total"].sum()
    assert seen_before == n_before  # nobody disappears when transactions only accumulate
    transitions = result.tables["transitions"]
    row_sums = transitions.group_by("from_segment").agg(pl.col("row_share").sum())
    assert row_sums.filter(pl.col("row_share") > 0)["row_share"].to_numpy() == pytest.approx(1.0)
    assert result.params["segmentation"] == "segment.rfm"
    # Per-segment totals match the separate RFM runs at each date.
    early = rfm_segments(customer_features(tx, as_of=before).collect()).tables["segments"]
    by_segment = dict(zip(counts["from_segment"], counts["total"]))
    for row in early.iter_rows(named=True):
        assert by_segment[row["segment"]] == row["customers"]


def test_dates_must_be_in_order() -> None:
    tx = pl.LazyFrame({"customer_id": ["a"], "order_date": [dt.date(2024, 1, 1)], "amount": [1.0]})
    with pytest.raises(InputError, match="before"):
        migration_between(tx, rfm_segments, dt.date(2024, 2, 1), dt.date(2024, 1, 1))


def test_a_first_date_before_any_purchase_names_it_and_the_data_s_start() -> None:
    from core.errors import AnalysisError

    tx = pl.LazyFrame({"customer_id": ["a", "b"], "order_date": [dt.date(2024, 3, 1)] * 2, "amount": [1.0, 2.0]})
    with pytest.raises(AnalysisError, match="by the first date, 2024-01-01 .the transactions start 2024-03-01."):
        migration_between(tx, rfm_segments, dt.date(2024, 1, 1), dt.date(2024, 4, 1))
