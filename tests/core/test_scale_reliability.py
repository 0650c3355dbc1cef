"""Reliability checked against published psych::alpha output and independent libraries.

Reference data and the published values are described in tests/data/README.md.
"""

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from core.errors import AnalysisError, InputError
from core.scale.reliability import reliability

DATA = Path(__file__).resolve().parent.parent / "data"
AGREE = ["A1", "A2", "A3", "A4", "A5"]


@pytest.fixture(scope="module")
def bfi() -> pl.DataFrame:
    return pl.read_csv(DATA / "bfi.csv")


@pytest.fixture(scope="module")
def agree(bfi) -> pl.DataFrame:
    """Agreeableness with A1 reverse-coded, as in the published psych::alpha run."""
    return bfi.select(AGREE).with_columns(A1=7 - pl.col("A1"))


@pytest.fixture(scope="module")
def wide_missing() -> pl.DataFrame:
    return pl.read_csv(DATA / "cronbach_wide_missing.csv")


def _items(result) -> dict[str, dict]:
    return {row["item"]: row for row in result.tables["items"].iter_rows(named=True)}


# --- published psych::alpha output on bfi agreeableness (pairwise) -----------------------

def test_bfi_alpha_matches_published_psych_output(agree):
    r = reliability(agree, missing="pairwise")
    h = r.headline
    assert round(h["alpha"], 2) == 0.70
    assert round(h["std_alpha"], 2) == 0.71
    assert round(h["g6"], 2) == 0.68
    assert round(h["average_r"], 2) == 0.33
    low, high = h["alpha_ci"]
    assert (round(low, 2), round(high, 2)) == (0.69, 0.72)


def test_bfi_item_statistics_match_published_psych_output(agree):
    items = _items(reliability(agree, missing="pairwise"))
    published = {  # n, raw.r, std.r, r.cor, r.drop, mean, sd, alpha-if-dropped raw, std
        "A1": (2784, 0.58, 0.57, 0.38, 0.31, 4.6, 1.4, 0.72, 0.725),
        "A2": (2773, 0.73, 0.75, 0.67, 0.56, 4.8, 1.2, 0.62, 0.625),
        "A3": (2774, 0.76, 0.77, 0.71, 0.59, 4.6, 1.3, 0.60, 0.613),
        "A4": (2781, 0.65, 0.63, 0.47, 0.39, 4.7, 1.5, 0.69, 0.693),
        "A5": (2784, 0.69, 0.70, 0.59, 0.49, 4.6, 1.3, 0.64, 0.655),
    }
    for item, (n, raw_r, std_r, r_cor, r_drop, mean, sd, drop_raw, drop_std) in published.items():
        row = items[item]
        assert row["n"] == n
        got = [row[k] for k in ("raw_r", "std_r", "r_cor", "r_drop", "alpha_if_deleted")]
        assert [round(v, 2) for v in got] == [raw_r, std_r, r_cor, r_drop, drop_raw], item
        assert round(row["std_alpha_if_deleted"], 3) == drop_std, item
        assert (round(row["mean"], 1), round(row["sd"], 1)) == (mean, sd), item
    assert not any(row["reverse_keyed"] for row in items.values())


def test_unreversed_item_is_flagged_reverse_keyed_with_a_fix(bfi):
    r = reliability(bfi.select(AGREE), missing="pairwise")
    items = _items(r)
    assert items["A1"]["reverse_keyed"] and items["A1"]["r_drop"] < 0
    assert items["A1"]["flag"] == "reverse-keyed"
    assert [i for i, row in items.items() if row["reverse_keyed"]] == ["A1"]
    assert any("'A1'" in note and "reverse" in note and "Fix" in note for note in r.notes)


# --- pingouin's documented values (checked by its authors against psych) -------------------

def test_pairwise_alpha_and_feldt_ci_match_pingouin_documentation(wide_missing):
    r = reliability(wide_missing, missing="pairwise")
    assert r.headline["alpha"] == pytest.approx(0.732660835214447, abs=1e-12)
    assert np.round(r.headline["alpha_ci"], 3).tolist() == [0.435, 0.909]
    assert r.headline["n"] == 12


def test_listwise_alpha_matches_pingouin_documentation(wide_missing):
    r = reliability(wide_missing, missing="listwise")
    assert r.headline["alpha"] == pytest.approx(0.8016949152542373, abs=1e-12)
    assert r.headline["n"] == wide_missing.drop_nulls().height < 12


def test_median_imputation_matches_pingouin_documentation(wide_missing):
    r = reliability(wide_missing, missing="impute_median")
    assert r.headline["alpha"] == pytest.approx(0.7380191693290734, abs=1e-12)
    assert np.round(r.headline["alpha_ci"], 3).tolist() == [0.447, 0.911]


# --- live comparisons with pingouin on generated data with gaps ----------------------------

def _survey(n=400, k=5, missing_rate=0.08, seed=3) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    factor = rng.normal(size=n)
    loadings = np.linspace(0.8, 0.4, k)
    x = np.clip(np.round(4 + 1.2 * (factor[:, None] * loadings + rng.normal(size=(n, k)) * 0.8)), 1, 7)
    x[rng.random((n, k)) < missing_rate] = np.nan
    return pl.DataFrame({f"q{j + 1}": x[:, j] for j in range(k)}).fill_nan(None)


@pytest.mark.parametrize("policy", ["pairwise", "listwise"])
def test_alpha_ci_and_alpha_if_deleted_match_pingouin(policy):
    pg = pytest.importorskip("pingouin")
    data = _survey()
    frame = data.to_pandas()
    if policy == "listwise":
        # pingouin sizes the interval with every row even after listwise deletion;
        # Loyalist uses the rows kept, which is pingouin run on the complete rows.
        frame = frame.dropna()
    r = reliability(data, missing=policy)
    alpha, ci = pg.cronbach_alpha(frame, nan_policy="pairwise")
    assert r.headline["alpha"] == pytest.approx(alpha, abs=1e-10)
    assert r.headline["alpha_ci"] == pytest.approx(tuple(ci), abs=6e-4)  # pingouin rounds to 3
    items = _items(r)
    for column in frame.columns:
        dropped, _ = pg.cronbach_alpha(frame.drop(columns=column), nan_policy="pairwise")
        assert items[column]["alpha_if_deleted"] == pytest.approx(dropped, abs=1e-10)


def test_listwise_item_total_is_the_correlation_with_the_rest():
    data = _survey()
    complete = data.drop_nulls().to_numpy()
    items = _items(reliability(data, missing="listwise"))
    for j, name in enumerate(data.columns):
        rest = np.delete(complete, j, axis=1).sum(axis=1)
        assert items[name]["r_drop"] == pytest.approx(np.corrcoef(complete[:, j], rest)[0, 1], abs=1e-12)
        assert items[name]["n"] == complete.shape[0]


def test_policies_differ_when_data_are_missing():
    data = _survey(missing_rate=0.2)
    pairwise = reliability(data, missing="pairwise").headline
    listwise = reliability(data, missing="listwise").headline
    assert pairwise["n"] == data.height > listwise["n"] == data.drop_nulls().height
    assert pairwise["alpha"] != pytest.approx(listwise["alpha"], abs=1e-6)


@pytest.fixture
def factor_analyzer(monkeypatch):
    """factor_analyzer 0.5.1 with the argument sklearn ≥ 1.8 renamed (force_all_finite)."""
    fa = pytest.importorskip("factor_analyzer")
    from sklearn.utils import check_array

    def compat(x, force_all_finite=True, **kwargs):
        return check_array(x, ensure_all_finite=force_all_finite, **kwargs)

    monkeypatch.setattr(fa.factor_analyzer, "check_array", compat)
    return fa


def test_omega_total_from_an_independent_one_factor_fit(factor_analyzer):
    fa = factor_analyzer
    data = _survey(missing_rate=0.0)
    model = fa.FactorAnalyzer(n_factors=1, rotation=None, method="minres").fit(data.to_numpy())
    loadings = model.loadings_[:, 0]
    expected = loadings.sum() ** 2 / (loadings.sum() ** 2 + (1 - loadings**2).sum())
    assert reliability(data).headline["omega_total"] == pytest.approx(expected, abs=2e-3)


def test_split_half_is_odd_even_with_spearman_brown():
    data = _survey(missing_rate=0.0)
    x = data.to_numpy()
    r = np.corrcoef(x[:, ::2].sum(axis=1), x[:, 1::2].sum(axis=1))[0, 1]
    h = reliability(data).headline
    assert h["split_half_r"] == pytest.approx(r, abs=1e-12)
    assert h["split_half_sb"] == pytest.approx(2 * r / (1 + r), abs=1e-12)


def test_bootstrap_interval_is_reproducible_and_near_feldt_on_large_samples():
    data = _survey(n=600, missing_rate=0.05)
    boot = reliability(data, ci="bootstrap", n_boot=300, seed=7).headline
    again = reliability(data, ci="bootstrap", n_boot=300, seed=7).headline
    feldt = reliability(data).headline
    assert boot["alpha_ci"] == again["alpha_ci"]
    low, high = boot["alpha_ci"]
    assert low < boot["alpha"] < high
    assert low == pytest.approx(feldt["alpha_ci"][0], abs=0.03)
    assert high == pytest.approx(feldt["alpha_ci"][1], abs=0.03)


def test_default_items_are_the_numeric_columns():
    data = _survey().with_columns(customer_id=pl.lit("x"), note=pl.lit("text"))
    assert reliability(data).params["items"] == ["q1", "q2", "q3", "q4", "q5"]


def test_bad_input_names_the_column():
    data = _survey().with_columns(note=pl.lit("text"))
    with pytest.raises(InputError, match="'nope'"):
        reliability(data, ["q1", "nope"])
    with pytest.raises(InputError, match="'note' is not numeric"):
        reliability(data, ["q1", "note"])
    with pytest.raises(InputError, match="missing-data policy"):
        reliability(data, missing="sometimes")


def test_constant_item_is_an_analysis_error():
    data = _survey(missing_rate=0.0).with_columns(q3=pl.lit(4.0))
    with pytest.raises(AnalysisError, match="'q3'"):
        reliability(data)


def test_two_items_one_slightly_negative_is_reported_not_a_crash():
    import numpy as np
    import polars as pl

    from core.scale.reliability import reliability

    rng = np.random.default_rng(3)
    a = rng.integers(1, 8, 400).astype(float)
    b = np.clip(8 - a + rng.integers(-3, 4, 400), 1, 7)  # weakly opposite
    result = reliability(pl.DataFrame({"customer_id": [str(i) for i in range(400)], "a": a, "b": b}), ["a", "b"])
    assert result.headline["k"] == 2
    assert any("'a'" in note or "'b'" in note for note in result.notes)


def test_omega_flips_reverse_keyed_items_and_says_so(bfi, factor_analyzer):
    # bfi Agreeableness with A1 ("indifferent to the feelings of others") as answered.
    raw = reliability(bfi.select(AGREE), missing="listwise")
    reversed_by_hand = bfi.select(AGREE).with_columns(A1=7 - pl.col("A1")).drop_nulls()
    model = factor_analyzer.FactorAnalyzer(n_factors=1, rotation=None, method="minres").fit(
        reversed_by_hand.to_numpy())
    loadings = model.loadings_[:, 0]
    expected = loadings.sum() ** 2 / (loadings.sum() ** 2 + (1 - loadings**2).sum())
    assert raw.headline["omega_total"] == pytest.approx(expected, abs=2e-3)
    assert raw.headline["omega_total"] == pytest.approx(0.72, abs=0.01)  # not 0.59 unflipped
    assert raw.headline["omega_reversed"] == ["A1"]
    assert any("'A1' reversed" in n and "omega" in n.lower() for n in raw.notes)
    keyed = reliability(reversed_by_hand).headline
    assert keyed["omega_reversed"] == [] and keyed["omega_total"] == pytest.approx(
        raw.headline["omega_total"], abs=1e-6)


def test_a_copied_item_gets_lambda_6_by_regression_and_a_note(recwarn):
    import statsmodels.api as sm

    rng = np.random.default_rng(3)
    trait = rng.normal(size=400)
    data = pl.DataFrame({f"q{i}": np.clip(np.round(3 + trait + rng.normal(size=400)), 1, 5) for i in range(4)})
    data = data.with_columns(q4=pl.col("q0"), q5=pl.col("q1") + pl.col("q2"))  # a copy, a sum
    x = data.to_numpy()
    # Guttman's lambda 6 from its definition: each item's R² on the others, by OLS.
    r2 = [sm.OLS(x[:, i], sm.add_constant(np.delete(x, i, axis=1))).fit().rsquared for i in range(6)]
    expected = 1 - (6 - sum(r2)) / np.corrcoef(x, rowvar=False).sum()
    result = reliability(data, missing="listwise")
    assert result.headline["g6"] == pytest.approx(expected, abs=1e-9)
    note = next(n for n in result.notes if "singular" in n)
    assert all(f"'{q}'" in note for q in ("q0", "q4", "q1", "q2", "q5")) and "'q3'" not in note
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]
