"""Behavioural loyalty quadrants on a hand-made table."""

from __future__ import annotations

import polars as pl
import pytest

from core.errors import AnalysisError
from core.segments.quadrants import QUADRANTS, quadrant_segments


def _frame() -> pl.DataFrame:
    return pl.DataFrame({
        "customer_id": ["a", "b", "c", "d", "e", "f"],
        "recency_days": [1, 2, 3, 4, 5, None],
        "frequency": [5, 4, 1, 1, 2, 0],
        "monetary": [500.0, 300.0, 20.0, 10.0, 50.0, -5.0],
        "engagement": [9, 0, 7, 0, 1, 0],
    })


def _segments(result) -> dict[str, str]:
    return dict(zip(*result.tables["customers"].select("customer_id", "segment")))


def test_median_splits_by_hand() -> None:
    result = quadrant_segments(_frame())
    # Medians: frequency 1.5, engagement 0.5; high = strictly above.
    assert result.headline["frequency_split"] == 1.5
    assert result.headline["engagement_split"] == 0.5
    assert _segments(result) == {
        "a": "Active loyal", "b": "Passive loyal", "c": "Chasers",
        "d": "Lapsed", "e": "Active loyal", "f": "Lapsed",
    }
    summary = result.tables["segments"]
    assert summary["segment"].to_list() == list(QUADRANTS)
    assert summary["customers"].to_list() == [2, 1, 1, 2]
    splits = result.tables["splits"]
    assert splits["source"].to_list() == ["median", "median"]


def test_given_splits_and_empty_quadrant() -> None:
    result = quadrant_segments(_frame(), frequency_split=4, engagement_split=5)
    seg = _segments(result)
    assert seg["a"] == "Active loyal" and seg["b"] == "Lapsed" and seg["c"] == "Chasers"
    summary = {r["segment"]: r for r in result.tables["segments"].iter_rows(named=True)}
    assert summary["Passive loyal"]["customers"] == 0
    assert any("empty: Passive loyal" in n for n in result.notes)
    assert result.tables["splits"]["source"].to_list() == ["given", "given"]


def test_heavy_ties_at_the_median_fall_low() -> None:
    frame = _frame().with_columns(frequency=pl.lit(1), engagement=pl.Series([0, 0, 0, 0, 3, 4]))
    result = quadrant_segments(frame)
    # Everyone bought once (median 1): nobody is "high frequency" rather than everybody.
    assert result.tables["segments"]["customers"].to_list() == [0, 0, 2, 4]


def test_needs_engagement() -> None:
    with pytest.raises(AnalysisError, match="touchpoints"):
        quadrant_segments(_frame().drop("engagement"))
    with pytest.raises(AnalysisError):
        quadrant_segments(_frame().clear())
