"""0–100 scores and tiers on small tables whose answers can be worked out by hand."""

import math

import numpy as np
import polars as pl
import pytest
from scipy import stats

from core.errors import AnalysisError, InputError
from core.scale.build import check, reliability_of, weights
from core.scale.items import normalise_items
from core.scale.score import score
from core.scale.spec import parse_spec


def _spec(items: str, *, scale: str = "", tiers: str = "") -> object:
    return parse_spec(f"[scale]\n{scale}\n{items}\n{tiers}")


TWO = """
[[items]]
column = "nps"
range = [0, 10]
weight = 3
[[items]]
column = "recency"
direction = "lower"
weight = 1
"""

DATA = pl.DataFrame({
    "customer_id": ["a", "b", "c", "d"],
    "nps": [10.0, 5.0, 0.0, 8.0],
    "recency": [0.0, 50.0, 100.0, 20.0],
    "spend": [100.0, 50.0, 10.0, 70.0],
})


def test_score_is_the_weighted_mean_of_normalised_items():
    result = score(DATA, _spec(TWO))
    scores = result.tables["scores"]
    # nps on its fixed range 0–10; recency min–max on the data, reversed.
    assert scores["nps"].to_list() == [100.0, 50.0, 0.0, 80.0]
    assert scores["recency"].to_list() == [100.0, 50.0, 0.0, 80.0]
    assert scores["score"].to_list() == pytest.approx([100.0, 50.0, 0.0, 80.0])
    assert scores.columns == ["customer_id", "nps", "recency", "score", "tier"]
    assert scores["tier"].to_list() == ["High", "Medium", "Low", "High"]
    assert result.tables["weights"]["weight"].to_list() == [0.75, 0.25]


def test_weights_change_the_score():
    data = DATA.with_columns(recency=pl.Series([100.0, 0.0, 50.0, 20.0]))
    s = score(data, _spec(TWO)).tables["scores"]
    # b: nps 50, recency reversed 100 -> 0.75·50 + 0.25·100 = 62.5
    assert s.filter(pl.col("customer_id") == "b")["score"].item() == pytest.approx(62.5)


def test_log_winsorise_percentile_and_zscore_normalisations():
    rng = np.random.default_rng(1)
    x = np.exp(rng.normal(3, 1, 200))
    data = pl.DataFrame({"customer_id": [str(i) for i in range(200)], "a": x, "b": x, "c": x, "d": x})
    spec = _spec("""
[[items]]
column = "a"
transform = "log"
[[items]]
column = "b"
transform = "winsorise"
winsorise = [0.1, 0.9]
[[items]]
column = "c"
normalise = "percentile"
[[items]]
column = "d"
normalise = "zscore"
""")
    out = normalise_items(data, spec)
    logged = np.log1p(x)
    assert out["a"].to_numpy() == pytest.approx((logged - logged.min()) / np.ptp(logged) * 100)
    lo, hi = np.quantile(x, [0.1, 0.9])
    clipped = np.clip(x, lo, hi)
    assert out["b"].to_numpy() == pytest.approx((clipped - lo) / (hi - lo) * 100)
    assert out["c"].to_numpy() == pytest.approx((stats.rankdata(x) - 0.5) / 200 * 100)
    assert out["d"].to_numpy() == pytest.approx(stats.norm.cdf(stats.zscore(x, ddof=1)) * 100)


def test_missing_data_policies_when_scoring():
    data = DATA.with_columns(nps=pl.Series([10.0, None, 0.0, 8.0]))
    pairwise = score(data, _spec(TWO)).tables["scores"]
    # b has only recency (50, reversed 50): scored on what it has.
    assert pairwise.filter(pl.col("customer_id") == "b")["score"].item() == pytest.approx(50.0)
    listwise = score(data, _spec(TWO, scale='missing = "listwise"'))
    assert listwise.tables["scores"].filter(pl.col("customer_id") == "b")["score"].item() is None
    assert listwise.headline["scored"] == 3 and "1 customers have no score" in listwise.notes[0]
    imputed = score(data, _spec(TWO, scale='missing = "impute_median"')).tables["scores"]
    # The median of 10, 0, 8 is 8 -> nps 80, recency 50: 0.75·80 + 0.25·50 = 72.5.
    assert imputed.filter(pl.col("customer_id") == "b")["score"].item() == pytest.approx(72.5)


def test_quantile_tiers_split_customers_by_score_rank():
    rng = np.random.default_rng(0)
    data = pl.DataFrame({"customer_id": [str(i) for i in range(1000)],
                         "nps": rng.integers(0, 11, 1000).astype(float),
                         "recency": rng.uniform(0, 365, 1000)})
    spec = _spec(TWO, tiers='[tiers]\nmethod = "quantile"\ncuts = [0.5, 0.8]\nnames = ["C", "B", "A"]')
    result = score(data, spec)
    tiers = result.tables["tiers"]
    assert tiers["tier"].to_list() == ["C", "B", "A"]
    assert tiers["customers"].to_list() == pytest.approx([500, 300, 200], abs=5)
    cuts = np.quantile(result.tables["scores"]["score"].to_numpy(), [0.5, 0.8])
    assert result.headline["tier_cuts"] == pytest.approx(cuts)
    # Tier means of the raw inputs rise with the tier; recency (reversed) falls.
    assert tiers["mean_nps"].is_sorted() and tiers["mean_recency"].is_sorted(descending=True)
    assert tiers["share"].sum() == pytest.approx(1.0)


def test_distribution_counts_every_scored_customer_in_5_point_bins():
    result = score(DATA, _spec(TWO))
    dist = result.tables["distribution"]
    assert dist.height == 20 and dist["customers"].sum() == 4
    # Scores 100, 50, 0, 80: 100 falls in the last bin [95, 100].
    counts = dict(zip(dist["bin_start"], dist["customers"]))
    assert (counts[0], counts[50], counts[80], counts[95]) == (1, 1, 1, 1)


def test_bad_items_are_named():
    with pytest.raises(InputError, match="'loyalty'"):
        score(DATA, _spec(TWO.replace('"recency"', '"loyalty"')))
    with pytest.raises(InputError, match="outside its range"):
        score(DATA.with_columns(nps=pl.Series([11.0, 5, 0, 8])), _spec(TWO))
    with pytest.raises(InputError, match="negative values"):
        score(DATA.with_columns(recency=-pl.col("recency")),
              _spec(TWO.replace('direction = "lower"', 'transform = "log"')))
    with pytest.raises(InputError, match="more than once"):
        score(pl.concat([DATA, DATA.head(1)]), _spec(TWO))
    with pytest.raises(AnalysisError, match="same value"):
        score(DATA.with_columns(recency=pl.lit(3.0)), _spec(TWO))


def test_check_uses_the_items_as_they_enter_the_score_and_names_the_spec_fix():
    rng = np.random.default_rng(3)
    f = rng.normal(size=600)
    data = pl.DataFrame({
        "customer_id": [str(i) for i in range(600)],
        "trust": f + rng.normal(size=600), "recommend": f + rng.normal(size=600),
        "recency": np.exp(-0.8 * f + rng.normal(size=600) * 0.5),  # low recency = loyal
    })
    items = "\n".join(f'[[items]]\ncolumn = "{c}"' for c in ("trust", "recommend", "recency"))
    forgot = reliability_of(data, _spec(items))
    flagged = forgot.tables["items"].filter(pl.col("reverse_keyed"))["item"].to_list()
    assert flagged == ["recency"]
    assert any('set direction = "lower"' in n for n in forgot.notes)
    fixed = reliability_of(data, _spec(items.replace('column = "recency"', 'column = "recency"\ndirection = "lower"')))
    assert not fixed.tables["items"]["reverse_keyed"].any()
    assert fixed.headline["alpha"] > forgot.headline["alpha"]


def test_spec_weights_resolve_by_method():
    manual = weights(_spec(TWO), DATA)
    assert manual.tables["weights"]["weight"].to_list() == [0.75, 0.25]
    equal = weights(_spec(TWO, scale='weights = "equal"'), DATA)
    assert equal.tables["weights"]["weight"].to_list() == [0.5, 0.5]
    assert any("not used" in n for n in equal.notes)
    assert math.isclose(sum(weights(_spec(TWO, scale='weights = "pca"'), DATA)
                            .tables["weights"]["weight"]), 1.0)


def test_check_gathers_reliability_weights_and_sensitivity():
    rng = np.random.default_rng(8)
    f = rng.normal(size=300)
    data = pl.DataFrame({"customer_id": [str(i) for i in range(300)],
                         "nps": np.clip(np.round(6 + 2 * f + rng.normal(size=300)), 0, 10),
                         "recency": np.exp(3 - f + rng.normal(size=300))})
    result = check(data, _spec(TWO))
    assert set(result.tables) == {"items", "weights", "sensitivity"}
    assert result.headline["method"] == "manual" and result.headline["k"] == 2
    assert result.tables["sensitivity"].height == 4  # two items, ±20% each
    assert result.tables["items"]["alpha_if_deleted"].null_count() == 2  # one item left
    assert 0 < result.headline["alpha"] < 1


def test_delphi_weights_come_from_the_file_named_next_to_the_spec(tmp_path):
    (tmp_path / "panel.csv").write_text(
        "expert,round,item,rating\n"
        "e1,1,nps,5\ne1,1,recency,5\ne2,1,nps,9\ne2,1,recency,3\n"
        "e1,2,nps,8\ne1,2,recency,4\ne2,2,nps,8\ne2,2,recency,4\n", encoding="utf-8")
    spec_path = tmp_path / "scale.toml"
    spec_path.write_text('[scale]\nweights = "delphi"\ndelphi = "panel.csv"\n'
                         + TWO.replace("weight = 3", "").replace("weight = 1", ""), encoding="utf-8")
    from core.scale.spec import load_spec

    result = weights(load_spec(spec_path), DATA)
    assert result.tables["weights"]["weight"].to_list() == pytest.approx([2 / 3, 1 / 3])
    # Round 1: e1 ties the two items, e2 does not: S = 0.5, W = 12·0.5 / (4·6 − 2·6) = 0.5.
    assert result.tables["agreement"]["kendall_w"].to_list() == pytest.approx([0.5, 1.0])
    scored = score(DATA, load_spec(spec_path), dict(zip(result.tables["weights"]["item"],
                                                         result.tables["weights"]["weight"])))
    # a: nps 100, recency 100 -> 100; b: 50 and 50 -> 50.
    assert scored.tables["scores"]["score"].to_list()[:2] == pytest.approx([100.0, 50.0])


def test_a_score_a_float_hair_below_a_cut_goes_to_the_higher_tier():
    import polars as pl

    from core.scale.score import assign_tiers

    scores = pl.Series([49.99999999999999, 50.0, 49.9, 80.0])
    tiers = assign_tiers(scores, [30.0, 50.0, 80.0], ("low", "mid", "high", "top"))
    assert tiers.to_list() == ["high", "high", "mid", "top"]
