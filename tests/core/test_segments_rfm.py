"""RFM scores checked by hand (ties included) and against pandas qcut; the R x F map."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pytest

from core.errors import AnalysisError, InputError
from core.segments.rfm import DEFAULT_RFM_MAP, parse_rfm_map, rfm_scores, rfm_segments, to_five_point


def _tiny() -> pl.DataFrame:
    # Six of ten customers bought once (a heavy tie in frequency); c10 only returned.
    return pl.DataFrame({
        "customer_id": [f"c{i:02d}" for i in range(1, 11)],
        "recency_days": [1, 2, 3, 4, 5, 6, 7, 8, 9, None],
        "frequency": [1, 1, 1, 1, 1, 1, 2, 3, 4, 0],
        "monetary": [10.0, 20, 30, 40, 50, 60, 70, 80, 90, -5],
    }, schema_overrides={"recency_days": pl.Int64, "frequency": pl.Int64})


def _scores(frame: pl.DataFrame, col: str) -> list[int]:
    return frame.sort("customer_id")[col].to_list()


def test_rank_scores_by_hand() -> None:
    s = rfm_scores(_tiny(), bins=5)
    # Recency: c10 (no purchase) is least recent, then c09 (9 days) ... c01 (1 day).
    assert _scores(s, "r_score") == [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]
    # Frequency: the six one-purchase customers are ordered by spend, so the tie is spread
    # over scores 1-4 and every score holds exactly two customers.
    assert _scores(s, "f_score") == [1, 2, 2, 3, 3, 4, 4, 5, 5, 1]
    assert _scores(s, "m_score") == [1, 2, 2, 3, 3, 4, 4, 5, 5, 1]
    for col in ("r_score", "f_score", "m_score"):
        assert s[col].value_counts()["count"].to_list() == [2] * 5


def test_midrank_keeps_ties_together() -> None:
    s = rfm_scores(_tiny(), bins=5, method="midrank")
    # The six tied customers share midrank 4.5: floor(5 * 4 / 10) + 1 = 3; score 2 is empty.
    assert _scores(s, "f_score") == [3, 3, 3, 3, 3, 3, 4, 5, 5, 1]
    # Without ties midrank gives the same equal bins as rank.
    assert _scores(s, "m_score") == _scores(rfm_scores(_tiny()), "m_score")


def test_recency_ties_broken_by_frequency_then_spend() -> None:
    frame = pl.DataFrame({
        "customer_id": ["a", "b", "c", "d"],
        "recency_days": [10, 10, 10, 10],
        "frequency": [1, 5, 5, 2],
        "monetary": [100.0, 10.0, 20.0, 5.0],
    })
    s = rfm_scores(frame, bins=4)
    # All equally recent: more purchases, then more spend, rank higher.
    assert _scores(s, "r_score") == [1, 3, 4, 2]


def test_rank_scores_match_pandas_qcut_on_first_ranks() -> None:
    rng = np.random.default_rng(3)
    n = 200
    frame = pl.DataFrame({
        "customer_id": [f"k{i:03d}" for i in range(n)],
        "recency_days": rng.integers(0, 30, n),
        "frequency": rng.choice([1, 1, 1, 1, 2, 2, 3, 5], n),  # heavy ties
        "monetary": np.round(rng.gamma(2, 50, n), 0),
    })
    ours = rfm_scores(frame, bins=5).sort("customer_id").to_pandas()
    ref = frame.to_pandas()
    # pandas reference: sort by the documented tie-break keys, then qcut the "first" ranks.
    ref["r_good"] = -ref.recency_days
    for score, keys in (("f_score", ["frequency", "monetary", "r_good", "customer_id"]),
                        ("r_score", ["r_good", "frequency", "monetary", "customer_id"]),
                        ("m_score", ["monetary", "frequency", "r_good", "customer_id"])):
        ordered = ref.sort_values(keys)
        ordered[score] = pd.qcut(ordered[keys[0]].rank(method="first"), 5,
                                 labels=[1, 2, 3, 4, 5]).astype(int)
        expected = ordered.sort_values("customer_id")[score].to_numpy()
        np.testing.assert_array_equal(ours[score].to_numpy(), expected, err_msg=score)


def test_packed_and_multi_column_sorts_agree(monkeypatch) -> None:
    import core.segments.rfm as rfm

    rng = np.random.default_rng(8)
    frame = pl.DataFrame({
        "customer_id": [f"p{i:03d}" for i in range(300)],
        "recency_days": rng.integers(0, 20, 300), "frequency": rng.integers(1, 4, 300),
        "monetary": np.round(rng.gamma(2, 5, 300), 0),
    })
    packed = rfm_scores(frame)
    monkeypatch.setattr(rfm, "_PACK_LIMIT", 1)  # force the multi-column sort
    assert rfm_scores(frame).equals(packed)


def test_unsorted_input_gives_the_same_scores() -> None:
    shuffled = _tiny().sample(fraction=1.0, shuffle=True, seed=4)
    assert rfm_scores(shuffled).equals(rfm_scores(_tiny()))


@pytest.mark.parametrize("n", [7, 203, 1001])
@pytest.mark.parametrize("bins", [3, 4, 5])
def test_bins_are_balanced_under_heavy_ties(n: int, bins: int) -> None:
    frame = pl.DataFrame({
        "customer_id": [f"x{i}" for i in range(n)],
        "recency_days": [5] * n,
        "frequency": [1] * (n - n // 10) + [2] * (n // 10),  # 90% bought once
        "monetary": [10.0] * n,
    })
    counts = rfm_scores(frame, bins=bins)["f_score"].value_counts()["count"]
    assert len(counts) == min(bins, n) and counts.max() - counts.min() <= 1


def test_map_segments_by_hand_with_empty_segments() -> None:
    result = rfm_segments(_tiny())
    customers = result.tables["customers"].sort("customer_id")
    assert customers["segment"].to_list() == [
        "New", "Potential Loyalists", "Potential Loyalists", "Potential Loyalists",
        "Need Attention", "Loyal", "At Risk", "Can't Lose Them", "Can't Lose Them",
        "Hibernating",
    ]
    assert customers["rfm_code"][0] == "511"
    summary = {r["segment"]: r for r in result.tables["segments"].iter_rows(named=True)}
    assert list(summary) == list(DEFAULT_RFM_MAP)
    for empty in ("Champions", "Promising", "About to Sleep"):
        assert summary[empty]["customers"] == 0 and summary[empty]["revenue_share"] == 0
        assert summary[empty]["monetary_mean"] is None
    pl_ = summary["Potential Loyalists"]
    assert pl_["customers"] == 3 and pl_["customer_share"] == pytest.approx(0.3)
    assert pl_["revenue"] == pytest.approx(90.0)
    assert pl_["revenue_share"] == pytest.approx(90 / 445)
    assert pl_["recency_mean"] == pytest.approx(3.0)
    assert pl_["frequency_mean"] == pytest.approx(1.0)
    assert pl_["rule"] == "R4-5 F2-3"
    assert summary["Hibernating"]["recency_mean"] is None  # c10 has no purchase
    assert result.tables["segments"]["customers"].sum() == 10
    assert result.tables["grid"]["customers"].sum() == 10
    assert result.headline["segment_count"] == 7


def test_every_default_pair_has_one_segment() -> None:
    assert parse_rfm_map(DEFAULT_RFM_MAP) == DEFAULT_RFM_MAP
    grid = rfm_segments(_tiny()).tables["grid"]
    assert grid.height == 25 and grid["segment"].null_count() == 0


def test_levels_scheme() -> None:
    result = rfm_segments(_tiny(), scheme="levels")
    seg = dict(zip(*result.tables["customers"].select("customer_id", "segment")))
    # r + f + m: c01 5+1+1 = 7 (mid), c06 3+4+4 = 11 (high), c10 1+1+1 = 3 (low).
    assert seg["c01"] == "Mid value" and seg["c06"] == "High value" and seg["c10"] == "Low value"
    assert result.tables["segments"]["segment"].to_list() == ["High value", "Mid value", "Low value"]


def test_three_and_four_bins_on_the_five_point_map() -> None:
    def mapped(bins: int) -> list[int]:
        frame = pl.DataFrame({"s": list(range(1, bins + 1))}, schema={"s": pl.Int8})
        return frame.select(to_five_point(pl.col("s"), bins))["s"].to_list()
    assert mapped(3) == [1, 3, 5] and mapped(4) == [1, 2, 4, 5] and mapped(5) == [1, 2, 3, 4, 5]
    result = rfm_segments(_tiny(), bins=3)
    c01 = result.tables["customers"].filter(pl.col("customer_id") == "c01").row(0, named=True)
    assert (c01["r_score"], c01["f_score"], c01["segment"]) == (3, 1, "New")
    assert any("midpoint" in n for n in result.notes)


def test_custom_map_replaces_default() -> None:
    custom = {"Best": {"r": "4-5", "f": [3, 5]}, "Rest": {"r": [1, 5], "f": [1, 2]},
              "Fading": {"r": [1, 3], "f": [3, 5]}}
    result = rfm_segments(_tiny(), rfm_map=custom)
    assert result.tables["segments"]["segment"].to_list() == ["Best", "Rest", "Fading"]
    # (R, F): c04 (4, 3) is Best; c01, c02, c03, c10 have F <= 2; c05-c09 have R <= 3, F >= 3.
    assert result.tables["segments"]["customers"].to_list() == [1, 4, 5]


def test_bad_maps_name_the_problem() -> None:
    gap = {k: v for k, v in DEFAULT_RFM_MAP.items() if k != "New"}
    with pytest.raises(InputError, match="not covered: R5F1"):
        parse_rfm_map(gap)
    overlap = {**DEFAULT_RFM_MAP, "Everyone": {"r": 5, "f": 1}}
    with pytest.raises(InputError, match=r"covered twice: R5F1 \(New and Everyone\)"):
        parse_rfm_map(overlap)
    with pytest.raises(InputError, match="outside 1-5"):
        parse_rfm_map({"All": {"r": [0, 5], "f": [1, 5]}})
    with pytest.raises(InputError, match="exactly the keys"):
        parse_rfm_map({"All": {"r": [1, 5]}})


def test_bad_options_and_empty_input() -> None:
    with pytest.raises(InputError, match="bins"):
        rfm_scores(_tiny(), bins=6)
    with pytest.raises(InputError, match="method"):
        rfm_scores(_tiny(), method="qcut")
    with pytest.raises(AnalysisError):
        rfm_segments(_tiny().clear())
