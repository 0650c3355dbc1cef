"""Segment profiles (sizes, shares, index, channels) and two-segment comparison."""

from __future__ import annotations

import numpy as np
import pingouin
import polars as pl
import pytest

from core.errors import InputError
from core.segments.profile import compare_segments, segment_profile, segment_summary


def _features() -> pl.DataFrame:
    return pl.DataFrame({
        "customer_id": ["a", "b", "c", "d"],
        "recency_days": [10, 20, 100, None],
        "frequency": [4, 2, 1, 0],
        "monetary": [400.0, 200.0, 100.0, -20.0],
        "gross_spend": [400.0, 200.0, 100.0, 0.0],
        "multi_channel": [True, False, False, False],
        "last_channel": ["web", "store", "web", None],
        "share_store": [0.25, 1.0, 0.0, None],
        "share_web": [0.75, 0.0, 1.0, None],
    })


def _segments() -> pl.DataFrame:
    return pl.DataFrame({"customer_id": ["a", "b", "c", "d"],
                         "segment": ["Top", "Top", "Rest", "Rest"]})


def test_summary_by_hand() -> None:
    assigned = _features().join(_segments(), on="customer_id")
    s = {r["segment"]: r for r in segment_summary(assigned, ["Top", "Rest", "Empty"]).iter_rows(named=True)}
    assert list(s) == ["Top", "Rest", "Empty"]
    assert s["Top"]["customers"] == 2 and s["Top"]["customer_share"] == 0.5
    assert s["Top"]["revenue"] == 600 and s["Top"]["revenue_share"] == pytest.approx(600 / 680)
    assert s["Rest"]["recency_mean"] == 100  # d has no purchase, so no recency
    assert s["Empty"]["customers"] == 0 and s["Empty"]["recency_mean"] is None


def test_profile_index_and_channels_by_hand() -> None:
    result = segment_profile(_features(), _segments(), order=["Top", "Rest"])
    long = {(r["segment"], r["feature"]): r for r in result.tables["features"].iter_rows(named=True)}
    top_m = long[("Top", "monetary")]
    assert top_m["mean"] == 300 and top_m["median"] == 300
    assert top_m["overall_mean"] == pytest.approx(170.0)
    assert top_m["index"] == pytest.approx(100 * 300 / 170)
    # Booleans profile as shares: Top has one multi-channel customer of two.
    assert long[("Top", "multi_channel")]["mean"] == 0.5
    assert long[("Top", "multi_channel")]["index"] == pytest.approx(100 * 0.5 / 0.25)
    assert ("Top", "customer_id") not in long
    # Top's gross spend: web 300 + 0 = 300, store 100 + 200 = 300 of 600.
    mix = {(r["segment"], r["channel"]): r["share"] for r in result.tables["channels"].iter_rows(named=True)}
    assert mix[("Top", "web")] == pytest.approx(0.5) and mix[("Rest", "web")] == pytest.approx(1.0)
    summary = {r["segment"]: r for r in result.tables["segments"].iter_rows(named=True)}
    assert summary["Rest"]["top_channels"] == "web 100%"
    wide = result.tables["index"]
    assert wide["segment"].to_list() == ["Top", "Rest"] and "monetary" in wide.columns


def test_compare_matches_pingouin_cohen_d() -> None:
    rng = np.random.default_rng(5)
    n = 120
    features = pl.DataFrame({
        "customer_id": [f"x{i}" for i in range(n)],
        "recency_days": rng.integers(0, 300, n),
        "frequency": rng.poisson(3, n) + 1,
        "monetary": rng.gamma(2, 100, n),
    })
    segments = features.select("customer_id", segment=pl.when(pl.int_range(n) < 50)
                               .then(pl.lit("A")).otherwise(pl.lit("B")))
    features = features.with_columns(
        monetary=pl.when(segments["segment"] == "A").then(pl.col("monetary") * 3).otherwise(pl.col("monetary")))
    result = compare_segments(features, segments, "A", "B")
    table = result.tables["differences"]
    a = features.filter(segments["segment"] == "A")
    b = features.filter(segments["segment"] == "B")
    for row in table.iter_rows(named=True):
        expected = pingouin.compute_effsize(a[row["feature"]].to_numpy().astype(float),
                                            b[row["feature"]].to_numpy().astype(float),
                                            eftype="cohen")
        assert row["std_difference"] == pytest.approx(expected), row["feature"]
    assert table["feature"][0] == "monetary"  # the planted difference ranks first
    assert table["std_difference"].abs().is_sorted(descending=True)
    assert "monetary: A higher than B" in result.notes[1]


def test_compare_errors() -> None:
    with pytest.raises(InputError, match="Nobody"):
        compare_segments(_features(), _segments(), "Top", "Nobody")
    with pytest.raises(InputError, match="two different"):
        compare_segments(_features(), _segments(), "Top", "Top")
