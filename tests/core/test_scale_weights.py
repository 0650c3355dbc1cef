"""Weights: Kendall's W and Delphi on hand-checked tables, data-driven weights against
scikit-learn / factor_analyzer / statsmodels, sensitivity against scipy."""

import numpy as np
import polars as pl
import pytest
from scipy import stats

from core.errors import InputError
from core.scale.weights import (
    data_weights, delphi, equal_weights, kendalls_w, manual_weights, sensitivity,
)


@pytest.fixture
def factor_analyzer(monkeypatch):
    """factor_analyzer 0.5.1 with the argument sklearn ≥ 1.8 renamed (force_all_finite)."""
    fa = pytest.importorskip("factor_analyzer")
    from sklearn.utils import check_array

    def compat(x, force_all_finite=True, **kwargs):
        return check_array(x, ensure_all_finite=force_all_finite, **kwargs)

    monkeypatch.setattr(fa.factor_analyzer, "check_array", compat)
    return fa


def _weights(result) -> dict[str, float]:
    t = result.tables["weights"]
    return dict(zip(t["item"], t["weight"]))


# --- manual and equal -------------------------------------------------------------------

def test_manual_weights_are_normalised_and_shown_with_what_was_given():
    result = manual_weights({"nps": 2.0, "trust": 1.0, "frequency": 1.0})
    table = result.tables["weights"]
    assert table["given"].to_list() == [2.0, 1.0, 1.0]
    assert table["weight"].to_list() == [0.5, 0.25, 0.25]
    assert _weights(equal_weights(["a", "b", "c", "d"])) == {k: 0.25 for k in "abcd"}


def test_negative_or_all_zero_manual_weights_are_refused():
    with pytest.raises(InputError, match="every weight is 0"):
        manual_weights({"a": 0.0, "b": 0.0})


# --- Kendall's W --------------------------------------------------------------------------

def test_kendalls_w_hand_checked_without_ties():
    # Three experts rank four items. Rank sums 4, 6, 8, 12 around a mean of 7.5:
    # S = 3.5² + 1.5² + 0.5² + 4.5² = 35, W = 12·35 / (3²·(4³ − 4)) = 420 / 540 = 7/9.
    ranks = np.array([[1, 2, 3, 4], [2, 1, 3, 4], [1, 3, 2, 4]], float)
    w, chi2, dof, p = kendalls_w(ranks)
    assert w == pytest.approx(7 / 9, abs=1e-12)
    assert chi2 == pytest.approx(3 * 3 * 7 / 9) and dof == 3
    assert p == pytest.approx(stats.chi2.sf(7.0, 3))


def test_kendalls_w_hand_checked_with_ties():
    # Ratings (higher = more important) become ranks per expert, ties averaged:
    # e1 9,9,5 -> 2.5,2.5,1 (one pair tied: T = 2³ − 2 = 6); e2 8,6,4 -> 3,2,1;
    # e3 7,7,7 -> 2,2,2 (T = 3³ − 3 = 24). Rank sums 7.5, 6.5, 4 around 6: S = 6.5.
    # W = 12·6.5 / (9·24 − 3·30) = 78 / 126.
    ratings = np.array([[9, 9, 5], [8, 6, 4], [7, 7, 7]], float)
    assert kendalls_w(ratings)[0] == pytest.approx(78 / 126, abs=1e-12)


def test_kendalls_w_agrees_with_friedman_tie_corrected_statistic():
    rng = np.random.default_rng(2)
    ratings = rng.integers(1, 6, size=(8, 6)).astype(float)  # many ties
    w, chi2, dof, p = kendalls_w(ratings)
    friedman = stats.friedmanchisquare(*ratings.T)
    assert chi2 == pytest.approx(friedman.statistic, rel=1e-10)
    assert w == pytest.approx(friedman.statistic / (8 * (6 - 1)), rel=1e-10)
    assert p == pytest.approx(friedman.pvalue, rel=1e-8)


# --- Delphi -------------------------------------------------------------------------------

def _panel() -> pl.DataFrame:
    rows = []
    round1 = {"e1": (9, 4, 6), "e2": (5, 8, 3), "e3": (7, 7, 7)}
    round2 = {"e1": (9, 6, 3), "e2": (8, 6, 4), "e3": (10, 6, 2)}
    for rnd, table in ((1, round1), (2, round2)):
        for expert, ratings in table.items():
            rows += [(expert, rnd, item, float(r)) for item, r in zip(("nps", "trust", "freq"), ratings)]
    return pl.DataFrame(rows, schema=["expert", "round", "item", "rating"], orient="row")


def test_delphi_weights_are_the_last_rounds_mean_ratings_normalised():
    result = delphi(_panel(), ["nps", "trust", "freq"])
    # Round 2 means: nps 9, trust 6, freq 3 -> 9/18, 6/18, 3/18.
    table = result.tables["weights"]
    assert table["mean_rating"].to_list() == [9.0, 6.0, 3.0]
    assert table["weight"].to_list() == pytest.approx([0.5, 1 / 3, 1 / 6])


def test_delphi_agreement_per_round_shows_convergence():
    result = delphi(_panel(), ["nps", "trust", "freq"])
    agreement = result.tables["agreement"]
    # Round 2: every expert ranks nps > trust > freq, so W = 1.
    assert agreement["kendall_w"].to_list()[1] == pytest.approx(1.0)
    # Round 1 by hand: ranks e1 3,1,2; e2 2,3,1; e3 2,2,2 (all tied, T = 24).
    # Sums 7, 6, 5 around 6: S = 2; W = 12·2 / (9·24 − 3·24) = 24 / 144.
    assert agreement["kendall_w"].to_list()[0] == pytest.approx(24 / 144)
    assert result.headline["kendall_w_last"] > result.headline["kendall_w_first"]
    spread = result.tables["spread"].filter(pl.col("round") == 2, pl.col("item") == "nps")
    assert spread["sd"].item() == pytest.approx(np.std([9, 8, 10], ddof=1))
    assert spread["iqr"].item() == pytest.approx(np.subtract(*np.percentile([9, 8, 10], [75, 25])))
    assert any("rose" in n for n in result.notes)


def test_delphi_table_problems_name_rows_and_items():
    panel = _panel()
    with pytest.raises(InputError, match="rated the same item twice"):
        delphi(pl.concat([panel, panel.head(1)]))
    with pytest.raises(InputError, match="'freq', which is not a scale item"):
        delphi(panel, ["nps", "trust"])
    with pytest.raises(InputError, match="'rating' column"):
        delphi(panel.drop("rating"))


# --- data-driven weights ------------------------------------------------------------------

def _items(n=800, seed=4) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    f = rng.normal(size=n)
    data = {f"x{j}": lam * f + np.sqrt(1 - lam**2) * rng.normal(size=n)
            for j, lam in enumerate((0.9, 0.7, 0.5, 0.3), start=1)}
    data["y"] = 0.6 * data["x1"] + 0.3 * data["x3"] + rng.normal(size=n)
    return pl.DataFrame({"customer_id": [f"c{i}" for i in range(n)], **data})


ITEMS = ["x1", "x2", "x3", "x4"]


def test_pca_weights_follow_sklearn_first_component():
    decomposition = pytest.importorskip("sklearn.decomposition")
    data = _items()
    x = data.select(ITEMS).to_numpy()
    z = (x - x.mean(axis=0)) / x.std(axis=0, ddof=1)
    pca = decomposition.PCA(n_components=1).fit(z)
    loading = np.abs(pca.components_[0]) * np.sqrt(pca.explained_variance_[0])
    result = data_weights(data, ITEMS, "pca")
    assert result.tables["weights"]["loading"].to_numpy() == pytest.approx(loading, abs=1e-10)
    assert result.tables["weights"]["weight"].to_numpy() == pytest.approx(loading / loading.sum())


def test_factor_weights_follow_an_independent_one_factor_fit(factor_analyzer):
    data = _items()
    model = factor_analyzer.FactorAnalyzer(n_factors=1, rotation=None, method="minres")
    loading = np.abs(model.fit(data.select(ITEMS).to_numpy()).loadings_[:, 0])
    result = data_weights(data, ITEMS, "factor")
    assert result.tables["weights"]["loading"].to_numpy() == pytest.approx(loading, abs=5e-3)


def test_regression_weights_are_standardised_ols_coefficients():
    sm = pytest.importorskip("statsmodels.api")
    data = _items()
    x = data.select(ITEMS).to_numpy()
    y = data["y"].to_numpy()
    zx = (x - x.mean(axis=0)) / x.std(axis=0, ddof=1)
    zy = (y - y.mean()) / y.std(ddof=1)
    betas = sm.OLS(zy, sm.add_constant(zx)).fit().params[1:]
    result = data_weights(data, ITEMS, "regression", outcome="y")
    assert result.tables["weights"]["beta"].to_numpy() == pytest.approx(betas, abs=1e-10)
    # Negative coefficients get weight 0, with a note naming the item.
    negative = [i for i, b in zip(ITEMS, betas) if b < 0]
    weights = _weights(result)
    assert all(weights[i] == 0 for i in negative)
    assert sum(weights.values()) == pytest.approx(1.0)
    assert all(any(repr(i) in n for n in result.notes) for i in negative)


# --- sensitivity -------------------------------------------------------------------------

def test_sensitivity_rank_correlation_matches_scipy():
    data = _items().with_columns(pl.col(ITEMS) * 10 + 50)
    weights = {"x1": 0.4, "x2": 0.3, "x3": 0.2, "x4": 0.1}
    result = sensitivity(data, weights, tier_cuts=[40, 60])
    table = result.tables["sensitivity"]
    assert table.height == 8
    x = data.select(ITEMS).to_numpy()
    w = np.array(list(weights.values()))
    base = x @ w
    bumped = w.copy()
    bumped[0] *= 1.2
    new = x @ (bumped / bumped.sum())
    row = table.filter(pl.col("item") == "x1", pl.col("change") == 0.2).row(0, named=True)
    assert row["weight_after"] == pytest.approx(0.48 / 1.08)
    assert row["spearman"] == pytest.approx(stats.spearmanr(base, new).statistic, abs=1e-12)
    changed = (np.digitize(base, [40, 60]) != np.digitize(new, [40, 60])).mean()
    assert row["tier_changed"] == pytest.approx(changed)


def test_sensitivity_flags_a_fragile_scale():
    rng = np.random.default_rng(0)
    # Two unrelated items with equal weight: reweighting reorders customers a lot.
    data = pl.DataFrame({"a": rng.uniform(0, 100, 500), "b": rng.uniform(0, 100, 500)})
    result = sensitivity(data, {"a": 0.5, "b": 0.5})
    assert result.headline["min_spearman"] < 0.99
    solid = pl.DataFrame({"a": data["a"], "b": data["a"] + rng.normal(0, 1, 500)})
    assert sensitivity(solid, {"a": 0.5, "b": 0.5}).headline["min_spearman"] > 0.999
