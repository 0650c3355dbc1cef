"""Validity: EFA, KMO and Bartlett against factor_analyzer; AUC against scikit-learn;
the later-activity outcome on a hand-made transactions table."""

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from core.errors import AnalysisError, InputError
from core.scale.reliability import reliability
from core.scale.validity import criterion_validity, efa, later_activity

DATA = Path(__file__).resolve().parent.parent / "data"


@pytest.fixture
def factor_analyzer(monkeypatch):
    """factor_analyzer 0.5.1 with the argument sklearn ≥ 1.8 renamed (force_all_finite)."""
    fa = pytest.importorskip("factor_analyzer")
    from sklearn.utils import check_array

    def compat(x, force_all_finite=True, **kwargs):
        return check_array(x, ensure_all_finite=force_all_finite, **kwargs)

    monkeypatch.setattr(fa.factor_analyzer, "check_array", compat)
    return fa


@pytest.fixture(scope="module")
def bfi_ac() -> pl.DataFrame:
    """bfi agreeableness and conscientiousness items, complete rows."""
    bfi = pl.read_csv(DATA / "bfi.csv")
    return bfi.select([c for c in bfi.columns if c[0] in "AC"]).drop_nulls()


def _match_columns(mine: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Reorder and re-sign `ref`'s factors to line up with `mine` (factors are unordered)."""
    out = np.empty_like(ref)
    for j in range(mine.shape[1]):
        best = int(np.argmax(np.abs(mine[:, j] @ ref)))
        out[:, j] = ref[:, best] * np.sign(mine[:, j] @ ref[:, best])
    return out


def test_kmo_bartlett_eigenvalues_match_factor_analyzer(bfi_ac, factor_analyzer):
    fa = factor_analyzer
    result = efa(bfi_ac, n_factors=2)
    per_item, overall = fa.calculate_kmo(bfi_ac.to_pandas())
    chi2, p = fa.calculate_bartlett_sphericity(bfi_ac.to_pandas())
    assert result.headline["kmo"] == pytest.approx(overall, abs=1e-10)
    assert result.tables["loadings"]["kmo"].to_numpy() == pytest.approx(per_item, abs=1e-10)
    assert result.headline["bartlett_chi2"] == pytest.approx(chi2, rel=1e-10)
    assert result.headline["bartlett_df"] == 10 * 9 // 2
    assert result.headline["bartlett_p"] == pytest.approx(p, abs=1e-12)
    model = fa.FactorAnalyzer(n_factors=2, rotation="varimax", method="minres").fit(bfi_ac.to_numpy())
    assert result.tables["eigenvalues"]["eigenvalue"].to_numpy() == pytest.approx(
        model.get_eigenvalues()[0], abs=1e-10)


def test_varimax_loadings_and_variance_match_factor_analyzer(bfi_ac, factor_analyzer):
    model = factor_analyzer.FactorAnalyzer(n_factors=2, rotation="varimax", method="minres")
    model.fit(bfi_ac.to_numpy())
    result = efa(bfi_ac, n_factors=2)
    mine = result.tables["loadings"].select("factor_1", "factor_2").to_numpy()
    ref = _match_columns(mine, model.loadings_)
    assert mine == pytest.approx(ref, abs=5e-3)
    ss = result.tables["variance"]["ss_loadings"].to_numpy()
    assert sorted(ss) == pytest.approx(sorted(model.get_factor_variance()[0]), abs=1e-2)
    # The two traits separate: A items load on one factor, C items on the other.
    a_factor = np.argmax(np.abs(mine[1:5]).mean(axis=0))
    assert np.all(np.abs(mine[1:5, a_factor]) > np.abs(mine[1:5, 1 - a_factor]))
    assert np.all(np.abs(mine[5:, 1 - a_factor]) > np.abs(mine[5:, a_factor]))


def test_kaiser_criterion_picks_the_number_of_factors(bfi_ac):
    eig = np.linalg.eigvalsh(np.corrcoef(bfi_ac.to_numpy(), rowvar=False))
    assert efa(bfi_ac).headline["n_factors"] == int((eig > 1).sum())


def _planted(n=1500, seed=11) -> pl.DataFrame:
    """Five items on one latent factor, a reverse-keyed item and a pure-noise item."""
    rng = np.random.default_rng(seed)
    f = rng.normal(size=n)
    cols = {f"loy{j}": 0.75 * f + 0.66 * rng.normal(size=n) for j in range(1, 6)}
    cols["switch"] = -0.6 * f + 0.8 * rng.normal(size=n)
    cols["weekend"] = rng.normal(size=n)
    return pl.DataFrame({"customer_id": [f"c{i}" for i in range(n)], **cols})


def test_planted_factor_noise_and_reverse_item_are_recovered():
    data = _planted()
    rel = reliability(data)
    items = {r["item"]: r for r in rel.tables["items"].iter_rows(named=True)}
    assert [i for i, r in items.items() if r["reverse_keyed"]] == ["switch"]
    fixed = data.with_columns(switch=-pl.col("switch"))
    rel = reliability(fixed)
    items = {r["item"]: r for r in rel.tables["items"].iter_rows(named=True)}
    assert items["weekend"]["alpha_if_deleted"] > rel.headline["alpha"]
    assert items["weekend"]["flag"] == "alpha rises if dropped"
    loadings = efa(fixed, n_factors=1).tables["loadings"]
    by_item = dict(zip(loadings["item"], loadings["factor_1"]))
    assert abs(by_item["weekend"]) < 0.1
    assert all(by_item[f"loy{j}"] > 0.6 for j in range(1, 6))
    assert min(by_item, key=lambda k: abs(by_item[k])) == "weekend"


def test_efa_needs_three_items():
    with pytest.raises(InputError, match="at least 3"):
        efa(_planted().select("loy1", "loy2"))


def test_too_many_factors_is_an_analysis_error():
    with pytest.raises(AnalysisError, match="cannot be identified"):
        efa(_planted().select("loy1", "loy2", "loy3"), n_factors=2)


# --- criterion validity ------------------------------------------------------------------

def _scored(n=1000, seed=5):
    rng = np.random.default_rng(seed)
    score = rng.uniform(0, 100, n).round(1)  # rounded: ties happen
    active = rng.random(n) < 1 / (1 + np.exp(-(score - 50) / 15))
    ids = [f"c{i}" for i in range(n)]
    return (pl.DataFrame({"customer_id": ids, "score": score}),
            pl.DataFrame({"customer_id": ids, "active": active}))


def test_auc_matches_scikit_learn_with_ties():
    metrics = pytest.importorskip("sklearn.metrics")
    scores, outcome = _scored()
    result = criterion_validity(scores, outcome)
    expected = metrics.roc_auc_score(outcome["active"].to_numpy(), scores["score"].to_numpy())
    assert result.headline["auc"] == pytest.approx(expected, abs=1e-12)
    assert result.headline["auc"] > 0.7


def test_decile_rates_rise_with_the_score_and_add_up():
    scores, outcome = _scored()
    result = criterion_validity(scores, outcome)
    deciles = result.tables["deciles"]
    assert deciles["decile"].to_list() == list(range(1, 11))
    assert deciles["customers"].to_list() == [100] * 10
    assert deciles["rate"][-1] > deciles["rate"][0] + 0.4
    base = outcome["active"].mean()
    assert result.headline["base_rate"] == pytest.approx(base)
    assert (deciles["rate"] * deciles["customers"]).sum() / 1000 == pytest.approx(base)
    # Decile 1 holds the 100 lowest scores.
    joined = scores.join(outcome, on="customer_id").sort("score", "customer_id")
    assert deciles["rate"][0] == pytest.approx(joined["active"].head(100).mean())


def test_criterion_needs_both_outcomes():
    scores, outcome = _scored()
    with pytest.raises(AnalysisError, match="same for every customer"):
        criterion_validity(scores, outcome.with_columns(active=pl.lit(True)))


def test_later_activity_counts_purchases_after_as_of_within_the_window():
    d = dt.date
    tx = pl.DataFrame({
        "customer_id": ["a", "a", "b", "b", "c", "d", "e", "e"],
        "order_date": [d(2024, 1, 5), d(2024, 3, 1), d(2024, 1, 31), d(2024, 5, 1),
                       d(2024, 1, 10), d(2024, 2, 10), d(2024, 1, 2), d(2024, 2, 1)],
        "amount": [10.0, 20.0, 5.0, 5.0, 8.0, 9.0, 30.0, -30.0],
    })
    as_of = d(2024, 1, 31)
    out = later_activity(tx.lazy(), as_of, 30).collect().sort("customer_id")
    # a bought 30 days after as_of (inside); b's next purchase is outside the window;
    # c never came back; d was not yet a customer at as_of; e only returned goods.
    assert out.to_dict(as_series=False) == {
        "customer_id": ["a", "b", "c", "e"], "active": [True, False, False, False]}
    # A purchase on as_of itself is history, not the outcome.
    assert later_activity(tx.lazy(), d(2024, 3, 1), 30).collect().filter(
        pl.col("customer_id") == "a")["active"].to_list() == [False]


@pytest.fixture(scope="module")
def bfi_ace() -> pl.DataFrame:
    bfi = pl.read_csv(DATA / "bfi.csv")
    return bfi.select([c for c in bfi.columns if c[0] in "ACE"]).drop_nulls()


@pytest.mark.parametrize("n_factors", [2, 3])
@pytest.mark.parametrize("rotation", ["oblimin", "promax"])
def test_oblique_rotation_of_the_same_loadings_matches_factor_analyzer(bfi_ace, factor_analyzer, rotation,
                                                                       n_factors):
    from core.scale.rotation import rotate

    unrotated = factor_analyzer.FactorAnalyzer(n_factors=n_factors, rotation=None, method="minres").fit(
        bfi_ace.to_numpy()).loadings_
    rotator = factor_analyzer.Rotator(method=rotation)
    ref = rotator.fit_transform(unrotated)
    signs = np.sign(ref.sum(axis=0))  # factor_analyzer sets these signs after rotating
    mine = rotate(unrotated, rotation)
    assert mine.loadings == pytest.approx(ref * signs, abs=1e-4)
    assert mine.phi == pytest.approx(rotator.phi_ * np.outer(signs, signs), abs=1e-4)


@pytest.mark.parametrize("rotation", ["oblimin", "promax"])
def test_efa_with_an_oblique_rotation_reports_factor_correlations(bfi_ac, factor_analyzer, rotation):
    model = factor_analyzer.FactorAnalyzer(n_factors=2, rotation=rotation, method="minres").fit(bfi_ac.to_numpy())
    result = efa(bfi_ac, n_factors=2, rotation=rotation)
    mine = result.tables["loadings"].select("factor_1", "factor_2").to_numpy()
    ref = _match_columns(mine, model.loadings_)
    assert mine == pytest.approx(ref, abs=5e-3)  # the extractions agree to about 1e-3
    phi = result.tables["factor_correlations"].select("factor_1", "factor_2").to_numpy()
    assert abs(phi[0, 1]) == pytest.approx(abs(model.phi_[0, 1]), abs=5e-3)
    assert 0.1 < abs(phi[0, 1]) < 0.6  # agreeableness and conscientiousness do correlate
    structure = result.tables["structure"].select("factor_1", "factor_2").to_numpy()
    assert structure == pytest.approx(mine @ phi, abs=1e-12)
    # Communalities do not depend on the rotation.
    varimax = efa(bfi_ac, n_factors=2).tables["loadings"]["communality"].to_numpy()
    assert result.tables["loadings"]["communality"].to_numpy() == pytest.approx(varimax, abs=1e-9)
    assert result.headline["rotation"] == rotation and any("oblique" in n for n in result.notes)


def test_unknown_rotation_is_refused(bfi_ac):
    with pytest.raises(InputError, match="unknown rotation 'quartimax'"):
        efa(bfi_ac, n_factors=2, rotation="quartimax")
