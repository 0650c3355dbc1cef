"""Key drivers: standardised betas, relative weights, Shapley R², bootstrap, holdout, CV.

References: the rwa R package's published output on mtcars (relative weights);
statsmodels OLS on z-scored data (betas, R²); an all-orderings Shapley average computed
with statsmodels regressions; data simulated with planted drivers.
"""

from __future__ import annotations

import datetime as dt
from itertools import permutations
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import statsmodels.api as sm

from core.errors import AnalysisError, InputError
from core.predict.drivers import key_drivers
from core.predict.importance import relative_weights, shapley_r2

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="module")
def mtcars() -> pl.DataFrame:
    return pl.read_csv(DATA / "mtcars.csv")


def _corr(df: pl.DataFrame, outcome: str, predictors: list[str]):
    r = np.corrcoef(df.select(*predictors, outcome).to_numpy(), rowvar=False)
    return r[:-1, :-1], r[:-1, -1]


def planted(n: int = 600, seed: int = 1) -> tuple[pl.DataFrame, dict[str, float]]:
    """Outcome = 0.6 delivery + 0.4 price + 0.2 support + noise; 'packaging' is irrelevant.

    Predictors are independent with unit variance, so each one's true share of the
    explained variance is its squared weight over the sum of squared weights.
    """
    rng = np.random.default_rng(seed)
    weights = {"delivery": 0.6, "price": 0.4, "support": 0.2, "packaging": 0.0}
    x = {k: rng.normal(0, 1, n) for k in weights}
    y = sum(w * x[k] for k, w in weights.items()) + rng.normal(0, 0.5, n)
    total = sum(w**2 for w in weights.values())
    return (
        pl.DataFrame({"customer_id": [f"c{i}" for i in range(n)], "nps": y, **x}),
        {k: 100 * w**2 / total for k, w in weights.items()},
    )


def test_relative_weights_match_rwa_on_mtcars(mtcars):
    predictors = ["cyl", "disp", "hp", "wt"]
    raw = relative_weights(*_corr(mtcars, "mpg", predictors))
    # rwa::rwa_multiregress(mtcars, "mpg", c("cyl","disp","hp","wt")) as published
    np.testing.assert_allclose(raw, [0.2096904, 0.1883043, 0.1799590, 0.2706812], atol=1e-7)
    result = key_drivers(mtcars, "mpg", predictors, n_boot=100, n_folds=4)
    shares = dict(zip(result.main_table["driver"], result.main_table["share"]))
    published = {"cyl": 24.70914, "disp": 22.18908, "hp": 21.20570, "wt": 31.89607}
    for name, value in published.items():
        assert shares[name] == pytest.approx(value, abs=1e-4)
    assert result.headline["top_driver"] == "wt"


def test_betas_and_r2_match_statsmodels_on_standardised_data(mtcars):
    predictors = ["cyl", "disp", "hp", "wt"]
    result = key_drivers(mtcars, "mpg", predictors, n_boot=50, n_folds=4)
    z = mtcars.select(predictors + ["mpg"]).to_pandas()
    z = (z - z.mean()) / z.std()
    ols = sm.OLS(z["mpg"], sm.add_constant(z[predictors])).fit()
    betas = dict(zip(result.main_table["driver"], result.main_table["beta"]))
    for name in predictors:
        assert betas[name] == pytest.approx(ols.params[name], abs=1e-10)
    assert result.headline["r2"] == pytest.approx(ols.rsquared, abs=1e-12)
    assert result.main_table["importance"].sum() == pytest.approx(ols.rsquared, abs=1e-12)


def test_shapley_equals_the_average_over_all_orders_of_entry(mtcars):
    predictors = ["cyl", "disp", "hp", "wt"]
    data = mtcars.to_pandas()

    def r2(cols):
        if not cols:
            return 0.0
        return sm.OLS(data["mpg"], sm.add_constant(data[list(cols)])).fit().rsquared

    orders = list(permutations(predictors))
    reference = dict.fromkeys(predictors, 0.0)
    for order in orders:
        for i, name in enumerate(order):
            reference[name] += (r2(order[: i + 1]) - r2(order[:i])) / len(orders)
    ours = shapley_r2(*_corr(mtcars, "mpg", predictors))
    np.testing.assert_allclose(ours, [reference[p] for p in predictors], atol=1e-10)


def test_planted_drivers_are_recovered_with_intervals_covering_the_truth():
    data, truth = planted(n=2000)
    for method in ("relative_weights", "shapley"):
        result = key_drivers(data, "nps", method=method, n_boot=300, confidence=0.99)
        table = result.main_table
        assert table["driver"].to_list() == ["delivery", "price", "support", "packaging"]
        for row in table.iter_rows(named=True):
            if row["driver"] == "packaging":  # shares cannot go below 0: no interval covers it
                assert row["share_ci_upper"] < 2.0
                continue
            assert row["share_ci_lower"] <= truth[row["driver"]] <= row["share_ci_upper"], row
        assert result.headline["top_driver_fold_agreement"] == 1.0
        assert result.headline["holdout_r2"] > 0.5
    perm = dict(zip(table["driver"], table["permutation_importance"]))
    assert perm["delivery"] > perm["price"] > perm["support"] > 5 * abs(perm["packaging"])
    assert result.notes[0].startswith("Together the 4 drivers explain")
    assert result.notes[1].startswith("delivery explains 6")  # 0.36/0.56 = 64%


def test_customer_id_is_not_a_predictor_and_summary_speaks_plainly():
    data, _ = planted(seed=2)
    result = key_drivers(
        data, "nps", labels={"delivery": "satisfaction with delivery"}, n_boot=50
    )
    assert "customer_id" not in result.main_table["driver"].to_list()
    assert "satisfaction with delivery explains" in result.headline["summary"]
    assert "of the explained variance in nps (95% CI" in result.headline["summary"]


def test_stability_table_has_every_fold_and_driver():
    data, _ = planted(seed=3)
    result = key_drivers(data, "nps", n_boot=50, n_folds=4)
    stability = result.tables["stability"]
    assert stability.height == 4 * 4
    sums = stability.group_by("fold").agg(pl.col("share").sum())["share"]
    np.testing.assert_allclose(sums.to_numpy(), 100.0)


def test_negative_driver_is_described_as_such():
    rng = np.random.default_rng(5)
    wait = rng.normal(0, 1, 300)
    other = rng.normal(0, 1, 300)
    data = pl.DataFrame({"wait": wait, "other": other, "nps": -wait + 0.2 * other
                         + rng.normal(0, 0.5, 300)})
    result = key_drivers(data, "nps", n_boot=50)
    assert "higher wait goes with lower nps" in result.notes[1]


def test_binary_outcome_is_flagged_as_linear_probability():
    rng = np.random.default_rng(6)
    x = rng.normal(0, 1, 400)
    data = pl.DataFrame({"x": x, "z": rng.normal(0, 1, 400),
                         "retained": (x + rng.normal(0, 1, 400) > 0).astype(int)})
    result = key_drivers(data, "retained", n_boot=50)
    assert any("linear probability" in n for n in result.notes)


def test_missing_values_are_dropped_listwise_and_reported():
    data, _ = planted(seed=4)
    data = data.with_columns(
        pl.when(pl.int_range(pl.len()) < 7).then(None).otherwise(pl.col("price")).alias("price")
    )
    result = key_drivers(data, "nps", n_boot=50)
    assert result.headline["n"] == data.height - 7
    assert any("7 rows with a missing value" in n for n in result.notes)


def test_weak_models_are_flagged_in_plain_words():
    rng = np.random.default_rng(8)
    data = pl.DataFrame({"a": rng.normal(size=300), "b": rng.normal(size=300),
                         "nps": rng.normal(size=300)})
    result = key_drivers(data, "nps", n_boot=50)
    assert "too little to rank the drivers" in result.headline["summary"]


def test_bad_inputs_are_clear_errors(mtcars):
    with pytest.raises(InputError, match="no outcome column"):
        key_drivers(mtcars, "nps")
    with pytest.raises(InputError, match="not numeric"):
        key_drivers(mtcars, "mpg", ["model", "wt"])
    with pytest.raises(AnalysisError, match="at least"):
        key_drivers(mtcars, "mpg", ["cyl", "disp", "hp", "wt", "drat", "qsec", "vs"])
    collinear = mtcars.with_columns(wt2=pl.col("wt") * 2)
    with pytest.raises(AnalysisError, match="collinear"):
        key_drivers(collinear, "mpg", ["wt", "wt2", "hp"])
    with pytest.raises(InputError, match="do not vary"):
        key_drivers(mtcars.with_columns(k=pl.lit(1.0)), "mpg", ["wt", "k"])
    with pytest.raises(InputError, match="method"):
        key_drivers(mtcars, "mpg", ["wt", "hp"], method="magic")


# --- the sample workspace's planted drivers -------------------------------------------


def _sample_survey_and_transactions() -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """The committed sample workspace if present, else the same generator's output."""
    sample = Path(__file__).resolve().parents[2] / "fixtures" / "sample"
    if (sample / "survey.csv").exists() or (sample / "survey.parquet").exists():
        from core.workspace import Workspace

        ws = Workspace.open(sample)
        return ws.scan("survey"), ws.scan("transactions")
    from core.demo import generate

    tables = generate()
    return tables["survey"].lazy(), tables["transactions"].lazy()


def test_recovers_the_sample_workspaces_planted_drivers():
    from core.demo import params
    from core.predict.driver_data import driver_frame
    from core.predict.importance import relative_weights as rw

    survey, _ = _sample_survey_and_transactions()
    frame, names, _ = driver_frame(survey, "nps", ["sat_*"])
    assert names == list(params.DRIVERS)
    result = key_drivers(frame, "nps", names, n_boot=300)
    # truth: relative weights of the planted latent model (equicorrelated drivers)
    k = len(names)
    rxx = np.full((k, k), params.DRIVER_CORRELATION) + (1 - params.DRIVER_CORRELATION) * np.eye(k)
    truth_raw = rw(rxx, rxx @ np.array(params.DRIVER_EFFECTS_NPS))
    truth = dict(zip(names, 100 * truth_raw / truth_raw.sum()))
    table = result.main_table
    for row in table.iter_rows(named=True):
        assert row["share_ci_lower"] <= truth[row["driver"]] <= row["share_ci_upper"], row
    # planted order: product and service lead (0.35, 0.30), then price, then delivery
    assert set(table["driver"][:2]) == {"sat_product", "sat_service"}
    assert table["driver"][2:].to_list() == ["sat_price", "sat_delivery"]
    assert result.headline["holdout_r2"] > 0.3


def test_retention_outcome_counts_purchases_after_the_answer():
    from core.predict.driver_data import driver_frame

    survey = pl.DataFrame({
        "customer_id": ["a", "b", "c", "d"],
        "response_date": [dt.date(2024, 1, 1), dt.date(2024, 1, 1), dt.date(2024, 1, 10),
                          dt.date(2024, 6, 1)],
        "sat_x": [1.0, 2.0, 3.0, 4.0],
        "nps": [1, 2, 3, 4],
    }).lazy()
    tx = pl.DataFrame({
        "customer_id": ["a", "a", "b", "c", "z"],
        "order_date": [dt.date(2023, 12, 1), dt.date(2024, 1, 20), dt.date(2024, 1, 1),
                       dt.date(2024, 5, 1), dt.date(2024, 6, 30)],
        "amount": [10.0, 10.0, 10.0, -5.0, 1.0],
    }).lazy()
    frame, names, notes = driver_frame(survey, "retention", transactions=tx, retention_days=60)
    # a bought 19 days later; b only on the answer day; c only returned; d's window is open
    assert frame["retention"].to_list() == [1, 0, 0]
    assert names == ["sat_x"]
    assert "left out" in notes[0]


def test_predictor_patterns_must_match_something():
    from core.predict.driver_data import driver_frame

    survey = pl.DataFrame({"customer_id": ["a"], "nps": [3], "q1": [1.0]}).lazy()
    with pytest.raises(InputError, match="matches"):
        driver_frame(survey, "nps", ["sat_*"])
    with pytest.raises(InputError, match="no column 'loyalty'"):
        driver_frame(survey, "loyalty")


def test_an_empty_survey_column_is_named_not_met_as_zero_complete_rows():
    from core.predict.driver_data import driver_frame

    rng = np.random.default_rng(1)
    survey = pl.DataFrame({"customer_id": [f"c{i}" for i in range(100)], "nps": rng.integers(0, 11, 100),
                           "sat_a": rng.normal(size=100), "sat_b": pl.Series([None] * 100, dtype=pl.Float64)}).lazy()
    # by default an empty driver is left out, and said so
    frame, names, notes = driver_frame(survey, "nps")
    assert names == ["sat_a"] and frame.columns == ["nps", "sat_a"]
    assert any("left out sat_b" in n for n in notes)
    # a driver the analyst chose, or the outcome, stops with the column named
    with pytest.raises(InputError, match="answer in sat_b") as caught:
        driver_frame(survey, "nps", ["sat_*"])
    assert (caught.value.file, caught.value.column) == ("survey", "sat_b")
    with pytest.raises(InputError, match="answer in nps"):
        driver_frame(survey.with_columns(nps=pl.lit(None, pl.Int64)), "nps")


def test_holdout_fit_and_permutation_importance_match_scikit_learn():
    from sklearn.inspection import permutation_importance
    from sklearn.linear_model import LinearRegression

    from core.predict.drivers import _ols, _permutation_importance, _r2

    data, _ = planted(n=400, seed=9)
    x = data.select("delivery", "price", "support", "packaging").to_numpy()
    y = data["nps"].to_numpy()
    train, test = slice(0, 300), slice(300, None)
    reference = LinearRegression().fit(x[train], y[train])
    coef = _ols(x[train], y[train])
    np.testing.assert_allclose(coef, [reference.intercept_, *reference.coef_], atol=1e-10)
    assert _r2(coef, x[test], y[test]) == pytest.approx(reference.score(x[test], y[test]))
    ours, _ = _permutation_importance(coef, x[test], y[test], 300, np.random.default_rng(0))
    theirs = permutation_importance(reference, x[test], y[test], scoring="r2", n_repeats=300,
                                    random_state=0).importances_mean
    np.testing.assert_allclose(ours, theirs, atol=0.02)
