"""CLV: the BTYD summary, BG/NBD, Gamma-Gamma and the clv analysis.

References: the CDNOW 2,357-customer sample and its published summary (tests/data, see
README there); Fader, Hardie & Lee (2005) for BG/NBD parameters and log-likelihood;
Hardie's BG/NBD Excel sheet for expectations; the Gamma-Gamma note / FHL (2005, JMR) for
p, q, gamma and Hardie's sheet for conditional mean spend; lifetimes' published summary
for the BG/NBD standard errors; and data simulated from known parameters.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pytest

from core.errors import AnalysisError, InputError
from core.predict import (
    BetaGeoModel,
    GammaGammaModel,
    btyd_summary,
    clv_analysis,
    frequency_spend_check,
)

DATA = Path(__file__).resolve().parents[1] / "data"
CALIBRATION_END = dt.date(1997, 9, 30)  # 39 weeks from 1997-01-01, inclusive
HOLDOUT_END = dt.date(1998, 6, 30)


@pytest.fixture(scope="module")
def cdnow_transactions() -> pl.LazyFrame:
    return pl.read_csv(
        DATA / "cdnow_sample_transactions.csv",
        schema={"customer_id": pl.String, "order_date": pl.Date, "amount": pl.Float64},
    ).lazy()


@pytest.fixture(scope="module")
def cdnow_summary() -> pl.DataFrame:
    return pl.read_csv(DATA / "cdnow_summary.csv")


@pytest.fixture(scope="module")
def cdnow_result(cdnow_transactions):
    return clv_analysis(
        cdnow_transactions, calibration_end=CALIBRATION_END, holdout_end=HOLDOUT_END,
        unit="week",
    )


def _tx(rows) -> pl.LazyFrame:
    return pl.DataFrame(
        rows, schema={"customer_id": pl.String, "order_date": pl.Date, "amount": pl.Float64},
        orient="row",
    ).lazy()


# --- the summary --------------------------------------------------------------------


def test_summary_reproduces_the_published_cdnow_summary(cdnow_transactions, cdnow_summary):
    ours = btyd_summary(cdnow_transactions, CALIBRATION_END, unit="week")
    assert ours.height == 2357
    joined = cdnow_summary.with_columns(pl.col("ID").cast(pl.String)).join(
        ours, left_on="ID", right_on="customer_id", how="inner"
    )
    assert joined.height == 2357
    assert (joined["x"] == joined["frequency"]).all()
    # the published file rounds to two decimals
    assert (joined["t_x"] - joined["recency"]).abs().max() <= 0.005 + 1e-9
    assert (joined["T"] - joined["T_right"]).abs().max() <= 0.005 + 1e-9
    assert (joined["zbar"] - joined["monetary_value"]).abs().max() <= 0.005 + 1e-9


def test_summary_merges_same_day_orders_ignores_returns_and_later_orders():
    tx = _tx([
        ("a", dt.date(2024, 1, 1), 10.0),
        ("a", dt.date(2024, 1, 1), 5.0),  # same day: one purchase day worth 15
        ("a", dt.date(2024, 1, 8), 20.0),
        ("a", dt.date(2024, 1, 8), 6.0),
        ("a", dt.date(2024, 1, 10), -30.0),  # a return: not a purchase
        ("a", dt.date(2024, 1, 15), 40.0),
        ("a", dt.date(2024, 2, 1), 99.0),  # after the calibration end
        ("b", dt.date(2024, 1, 29), 12.0),  # single purchase on the as-of date
        ("c", dt.date(2024, 2, 2), 12.0),  # first purchase after the end: not a customer yet
    ])
    s = btyd_summary(tx, dt.date(2024, 1, 29), unit="day")
    a, b = s.row(0, named=True), s.row(1, named=True)
    assert s["customer_id"].to_list() == ["a", "b"]
    assert (a["frequency"], a["recency"], a["T"]) == (2, 14.0, 28.0)
    assert a["monetary_value"] == pytest.approx((26.0 + 40.0) / 2)
    assert (b["frequency"], b["recency"], b["T"], b["monetary_value"]) == (0, 0.0, 0.0, 0.0)
    weeks = btyd_summary(tx, dt.date(2024, 1, 29), unit="week")
    assert weeks["T"][0] == pytest.approx(4.0)


def test_summary_counts_holdout_purchase_days():
    tx = _tx([
        ("a", dt.date(2024, 1, 1), 10.0),
        ("a", dt.date(2024, 2, 2), 5.0),
        ("a", dt.date(2024, 2, 2), 5.0),
        ("a", dt.date(2024, 2, 9), 7.0),
        ("a", dt.date(2024, 3, 9), 7.0),  # after the holdout end
        ("b", dt.date(2024, 1, 3), 1.0),
    ])
    s = btyd_summary(tx, dt.date(2024, 1, 31), holdout_end=dt.date(2024, 2, 29))
    assert s["holdout_frequency"].to_list() == [2, 0]
    assert s["holdout_spend"].to_list() == [17.0, 0.0]


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda tx: btyd_summary(tx, dt.date(2024, 1, 1), unit="month"), "unit"),
        (lambda tx: btyd_summary(tx, dt.date(2024, 1, 1), holdout_end=dt.date(2023, 1, 1)),
         "holdout"),
        (lambda tx: btyd_summary(tx.drop("amount"), dt.date(2024, 1, 1)), "amount"),
    ],
)
def test_summary_bad_input_is_an_input_error(call, match):
    tx = _tx([("a", dt.date(2024, 1, 1), 1.0)])
    with pytest.raises(InputError, match=match):
        call(tx)


def test_summary_with_nobody_before_the_end_is_an_analysis_error():
    with pytest.raises(AnalysisError, match="no customer"):
        btyd_summary(_tx([("a", dt.date(2024, 5, 1), 1.0)]), dt.date(2024, 1, 1))


# --- BG/NBD on CDNOW ------------------------------------------------------------------


def test_bgnbd_reproduces_fader_hardie_lee_2005(cdnow_summary):
    model = BetaGeoModel().fit(cdnow_summary["x"], cdnow_summary["t_x"], cdnow_summary["T"])
    published = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    for name, value in published.items():
        assert model.params_[name] == pytest.approx(value, abs=1e-3), name
    assert model.log_likelihood_ == pytest.approx(-9582.4, abs=0.05)
    assert model.fit_.starts_converged == model.fit_.starts >= 3


def test_bgnbd_standard_errors_match_lifetimes_published_summary(cdnow_summary):
    # lifetimes' BetaGeoFitter.summary on this data, as printed in its documentation
    model = BetaGeoModel().fit(cdnow_summary["x"], cdnow_summary["t_x"], cdnow_summary["T"])
    published = {"r": 0.012557, "alpha": 0.378221, "a": 0.185719, "b": 0.705345}
    for name, value in published.items():
        assert model.se_[name] == pytest.approx(value, rel=0.01), name


def test_bgnbd_expectations_match_hardies_excel_sheet(cdnow_summary):
    model = BetaGeoModel().fit(cdnow_summary["x"], cdnow_summary["t_x"], cdnow_summary["T"])
    times = [0.1429, 1.0, 3.00, 31.8571, 32.00, 78.00]
    expected = [0.0078, 0.0532, 0.1506, 1.0405, 1.0437, 1.8576]
    np.testing.assert_allclose(model.expected_purchases_new(times), expected, atol=6e-4)
    conditional = model.expected_purchases(39, [2], [30.43], [38.86])
    assert conditional[0] == pytest.approx(1.226, abs=1e-3)


def test_conditional_expectation_is_eq_10_and_stays_finite_for_frequent_buyers():
    """FHL (2005) eq. 10 written out with scipy's 2F1 where it does not overflow; the
    implementation must agree there and stay finite where the direct form overflows."""
    from scipy.special import hyp2f1

    r, alpha, a, b = 0.24, 31.0, 0.79, 2.43
    model = BetaGeoModel()
    model.params_ = {"r": r, "alpha": alpha, "a": a, "b": b}
    x, tx, big_t, t = np.array([1.0, 5, 40, 120]), np.array([10.0, 200, 600, 690]), 700.0, 365.0
    direct = (a + b + x - 1) / (a - 1) * (
        1 - ((alpha + big_t) / (alpha + big_t + t)) ** (r + x)
        * hyp2f1(r + x, b + x, a + b + x - 1, t / (alpha + big_t + t))
    ) / (1 + a / (b + x - 1) * ((alpha + big_t) / (alpha + tx)) ** (r + x))
    np.testing.assert_allclose(model.expected_purchases(t, x, tx, np.full(4, big_t)), direct,
                               rtol=1e-9)
    heavy = model.expected_purchases(t, [500.0, 2000.0], [699.0, 699.0], [700.0, 700.0])
    assert np.all(np.isfinite(heavy)) and heavy[1] > heavy[0] > 200


def test_bgnbd_p_alive_is_one_without_repeat_purchases_and_falls_with_silence(cdnow_summary):
    model = BetaGeoModel().fit(cdnow_summary["x"], cdnow_summary["t_x"], cdnow_summary["T"])
    p = model.p_alive([0, 5, 5], [0.0, 30.0, 5.0], [38.0, 38.0, 38.0])
    assert p[0] == 1.0
    assert 0 < p[2] < p[1] < 1


def test_bgnbd_units_only_rescale_alpha(cdnow_transactions):
    weeks = btyd_summary(cdnow_transactions, CALIBRATION_END, unit="week")
    days = btyd_summary(cdnow_transactions, CALIBRATION_END, unit="day")
    w = BetaGeoModel().fit(weeks["frequency"], weeks["recency"], weeks["T"]).params_
    d = BetaGeoModel().fit(days["frequency"], days["recency"], days["T"]).params_
    for name in ("r", "a", "b"):
        assert d[name] == pytest.approx(w[name], rel=1e-4)
    assert d["alpha"] == pytest.approx(7 * w["alpha"], rel=1e-4)


def test_bgnbd_likelihood_matches_the_papers_formula_written_out(cdnow_summary):
    """Independent check: FHL (2005) eq. 6 in natural parameters, no logs."""
    from scipy.special import beta as B
    from scipy.special import gamma as G

    x = cdnow_summary["x"].to_numpy().astype(float)
    tx, big_t = cdnow_summary["t_x"].to_numpy(), cdnow_summary["T"].to_numpy()
    model = BetaGeoModel().fit(x, tx, big_t)
    r, alpha, a, b = (model.params_[k] for k in ("r", "alpha", "a", "b"))
    x_small = x <= 20  # plain gamma functions overflow beyond this; the rest are few
    xs, txs, ts = x[x_small], tx[x_small], big_t[x_small]
    lik = B(a, b + xs) / B(a, b) * G(r + xs) * alpha**r / (G(r) * (alpha + ts) ** (r + xs))
    lik += (xs > 0) * B(a + 1, b + xs - 1) / B(a, b) * G(r + xs) * alpha**r / (
        G(r) * (alpha + txs) ** (r + xs)
    )
    from core.predict.bgnbd import _Histories

    ours = -_Histories(xs, txs, ts, np.ones(len(xs))).negative_log_likelihood(
        np.log([r, alpha, a, b])
    )[0]
    assert ours == pytest.approx(np.log(lik).sum(), rel=1e-10)


# --- Gamma-Gamma on CDNOW ---------------------------------------------------------------


def test_gamma_gamma_reproduces_the_published_parameters(cdnow_summary):
    model = GammaGammaModel().fit(cdnow_summary["x"], cdnow_summary["zbar"])
    for name, value in {"p": 6.25, "q": 3.74, "gamma": 15.44}.items():
        assert model.params_[name] == pytest.approx(value, abs=0.01), name
    assert model.n_customers_ == 946


def test_gamma_gamma_conditional_spend_matches_hardies_sheet(cdnow_summary):
    model = GammaGammaModel().fit(cdnow_summary["x"], cdnow_summary["zbar"])
    head = cdnow_summary.head(10)
    expected = [24.65, 18.91, 35.17, 35.17, 35.17, 71.46, 18.91, 35.17, 27.28, 35.17]
    # the sheet shows two decimals; its spreadsheet parameters differ in the third
    np.testing.assert_allclose(model.expected_spend(head["x"], head["zbar"]), expected, atol=0.01)


def test_cdnow_spend_and_frequency_are_only_weakly_correlated(cdnow_summary):
    check = frequency_spend_check(cdnow_summary["x"], cdnow_summary["zbar"])
    reference = cdnow_summary.filter(pl.col("x") > 0).to_pandas()
    assert check.correlation == pytest.approx(reference["x"].corr(reference["zbar"]), abs=1e-12)
    assert check.ok and check.n == 946


def test_frequency_spend_check_flags_a_strong_correlation():
    rng = np.random.default_rng(3)
    x = rng.integers(1, 20, 500).astype(float)
    check = frequency_spend_check(x, 10 + 3 * x + rng.normal(0, 2, 500))
    assert not check.ok and check.correlation > 0.8


# --- recovery from simulated data -------------------------------------------------------


def simulate_bgnbd(n, r, alpha, a, b, T, rng):
    """(x, t_x, T) for n customers drawn from the BG/NBD story (FHL 2005, section 3).

    Purchases while alive are Poisson(lambda), lambda ~ Gamma(r, rate alpha); after each
    repeat purchase the customer dies with probability p ~ Beta(a, b).
    """
    T = np.broadcast_to(np.asarray(T, float), (n,)).copy()
    lam = rng.gamma(r, 1.0 / alpha, n)
    p = rng.beta(a, b, n)
    arrivals = rng.poisson(lam * T)  # purchases in (0, T] had the customer stayed
    x = np.minimum(arrivals, rng.geometric(p))  # dies right after its k-th repeat purchase
    tx = np.zeros(n)
    pos = x > 0
    # the x-th of N uniform arrival times on (0, T] is T * Beta(x, N - x + 1)
    tx[pos] = T[pos] * rng.beta(x[pos], arrivals[pos] - x[pos] + 1)
    return x.astype(float), tx, T


def test_bgnbd_recovers_simulated_parameters():
    rng = np.random.default_rng(2005)
    truth = {"r": 0.5, "alpha": 6.0, "a": 0.7, "b": 3.0}
    x, tx, big_t = simulate_bgnbd(20_000, *truth.values(), rng.uniform(26, 78, 20_000), rng)
    model = BetaGeoModel().fit(x, tx, big_t)
    for name, value in truth.items():
        est, se = model.params_[name], model.se_[name]
        assert abs(est - value) < 3.5 * se, (name, est, se)
        assert se < 0.2 * value  # the fit is informative, not vacuously wide


def test_bgnbd_predictions_match_simulated_futures():
    """Calibration histories to T and purchases in (T, T + t] from the same simulated lives.

    Poisson increments are independent, so arrivals before and after T are drawn apart;
    a customer alive at T (fewer arrivals than their death index K) keeps buying until K.
    """
    rng = np.random.default_rng(7)
    truth = {"r": 0.4, "alpha": 5.0, "a": 0.8, "b": 2.5}
    n, big_t, t = 200_000, 30.0, 20.0
    lam = rng.gamma(truth["r"], 1.0 / truth["alpha"], n)
    k = rng.geometric(rng.beta(truth["a"], truth["b"], n))
    before, after = rng.poisson(lam * big_t), rng.poisson(lam * t)
    x = np.minimum(before, k)
    future = np.where(before < k, np.minimum(after, k - before), 0)
    tx = np.zeros(n)
    tx[x > 0] = big_t * rng.beta(x[x > 0], before[x > 0] - x[x > 0] + 1)
    model = BetaGeoModel()
    model.params_ = truth
    predicted = model.expected_purchases(t, x, tx, np.full(n, big_t))
    assert predicted.sum() == pytest.approx(future.sum(), rel=0.03)
    silent = x == 0
    assert predicted[silent][0] == pytest.approx(future[silent].mean(), rel=0.05)
    assert model.expected_purchases_new(big_t + t) == pytest.approx((x + future).mean(), rel=0.03)
    # P(alive) is the share still alive among customers with the same history
    assert model.p_alive(x, tx, np.full(n, big_t)).mean() == pytest.approx(
        (before < k).mean(), rel=0.02
    )


def test_gamma_gamma_recovers_simulated_parameters():
    rng = np.random.default_rng(13)
    p, q, gamma, n = 4.0, 5.0, 60.0, 8_000
    x = rng.integers(1, 12, n).astype(float)
    nu = rng.gamma(q, 1.0 / gamma, n)
    zbar = rng.gamma(p * x, 1.0 / (x * nu))  # mean of x Gamma(p, nu) spends
    model = GammaGammaModel().fit(x, zbar)
    for name, value in {"p": p, "q": q, "gamma": gamma}.items():
        assert abs(model.params_[name] - value) < 3.5 * model.se_[name], name


def test_large_data_explores_starts_on_a_subsample_and_still_recovers_parameters():
    rng = np.random.default_rng(99)
    truth = {"r": 0.3, "alpha": 4.0, "a": 0.9, "b": 2.0}
    x, tx, big_t = simulate_bgnbd(120_000, *truth.values(), rng.uniform(20, 52, 120_000), rng)
    model = BetaGeoModel().fit(np.round(x), np.round(tx * 7) / 7, np.round(big_t * 7) / 7)
    assert model.fit_.explored_on == 50_000
    for name, value in truth.items():
        assert abs(model.params_[name] - value) < 4 * model.se_[name], name


# --- failures are errors, never NaN ------------------------------------------------------


def test_unidentifiable_data_raise_analysis_errors_not_nans():
    with pytest.raises(AnalysisError, match="identify"):
        BetaGeoModel().fit(np.full(200, 10.0), np.full(200, 10.0), np.full(200, 10.0))
    with pytest.raises(AnalysisError, match="at least 10"):
        BetaGeoModel().fit([0, 1, 2], [0, 1, 2], [3, 3, 3])
    with pytest.raises(AnalysisError, match="identify"):
        GammaGammaModel().fit(np.full(50, 3.0), np.full(50, 20.0))
    with pytest.raises(AnalysisError, match="at least 10"):
        GammaGammaModel().fit([1, 2], [3.0, 4.0])


def test_inconsistent_histories_are_input_errors():
    with pytest.raises(InputError, match="recency"):
        BetaGeoModel().fit([1, 0] * 10, [5.0, 0.0] * 10, [4.0, 3.0] * 10)


# --- the analysis -------------------------------------------------------------------------


def test_clv_analysis_reproduces_cdnow_from_raw_transactions(cdnow_result):
    h = cdnow_result.headline
    for name, value in {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}.items():
        assert h[name] == pytest.approx(value, abs=1e-3), name
    for name, value in {"p": 6.25, "q": 3.74, "gamma": 15.44}.items():
        assert h[name] == pytest.approx(value, abs=0.01), name
    # CLVTools' Gamma-Gamma log-likelihood on the unrounded spends
    assert h["gamma_gamma_log_likelihood"] == pytest.approx(-4055.9177, abs=1e-3)
    assert h["log_likelihood"] == pytest.approx(-9582.4, abs=0.05)
    assert h["unit"] == "week" and h["customer_count"] == 2357 and h["repeat_customers"] == 946
    params = cdnow_result.tables["parameters"]
    assert params["parameter"].to_list() == ["r", "alpha", "a", "b", "p", "q", "gamma"]
    assert (params["ci_lower"] < params["estimate"]).all()
    assert (params["estimate"] < params["ci_upper"]).all()


def test_clv_customers_table_has_one_row_per_customer(cdnow_result):
    customers = cdnow_result.main_table
    assert customers.height == customers["customer_id"].n_unique() == 2357
    assert customers["clv"].is_sorted(descending=True)
    for col in ("p_alive", "expected_purchases", "expected_spend", "clv"):
        assert customers[col].is_finite().all() and (customers[col] >= 0).all(), col
    assert customers["p_alive"].max() <= 1.0


def test_holdout_actuals_match_an_independent_count(cdnow_result):
    raw = pd.read_csv(DATA / "cdnow_sample_transactions.csv", parse_dates=["order_date"])
    raw = raw[raw["amount"] >= 0]
    calibration = raw[raw["order_date"] <= "1997-09-30"]
    holdout = raw[(raw["order_date"] > "1997-09-30") & (raw["order_date"] <= "1998-06-30")]
    days = holdout.drop_duplicates(["customer_id", "order_date"])
    assert cdnow_result.headline["holdout_actual_total"] == len(days)
    repeat = calibration.drop_duplicates(["customer_id", "order_date"]).groupby("customer_id").size() - 1
    per_customer = days.groupby("customer_id").size().reindex(repeat.index, fill_value=0)
    by_freq = per_customer.groupby(repeat.clip(upper=7)).mean()
    table = cdnow_result.tables["holdout"]
    np.testing.assert_allclose(table["actual_mean"].to_numpy(), by_freq.to_numpy())
    assert table["calibration_frequency"].to_list() == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert table["predicted_total"].sum() == pytest.approx(
        cdnow_result.headline["holdout_predicted_total"]
    )


def test_holdout_predictions_track_the_actuals_like_the_paper(cdnow_result):
    h = cdnow_result.headline
    # FHL (2005) show BG/NBD tracking CDNOW's holdout closely; within 15% in total
    assert abs(h["holdout_total_error_pct"]) < 15
    assert h["holdout_correlation"] > 0.5
    table = cdnow_result.tables["holdout"]
    assert table["predicted_mean"].is_sorted() and table["actual_mean"].is_sorted()


def test_clv_without_discount_is_spend_times_expected_purchases(cdnow_transactions):
    result = clv_analysis(
        cdnow_transactions, calibration_end=CALIBRATION_END, horizon=52, discount_rate=0.0
    )
    c = result.main_table
    np.testing.assert_allclose(
        c["clv"].to_numpy(), (c["expected_spend"] * c["expected_purchases"]).to_numpy(),
        rtol=1e-9,
    )
    discounted = clv_analysis(
        cdnow_transactions, calibration_end=CALIBRATION_END, horizon=52, discount_rate=0.2
    ).headline["total_clv"]
    assert 0.85 * result.headline["total_clv"] < discounted < result.headline["total_clv"]


def test_clv_options_are_checked(cdnow_transactions):
    with pytest.raises(InputError, match="discount"):
        clv_analysis(cdnow_transactions, calibration_end=CALIBRATION_END, discount_rate=10)
    with pytest.raises(InputError, match="horizon"):
        clv_analysis(cdnow_transactions, calibration_end=CALIBRATION_END, horizon=0)
    with pytest.raises(InputError, match="calibration"):
        clv_analysis(cdnow_transactions, holdout_end=HOLDOUT_END)


def test_clv_result_is_json_ready(cdnow_result):
    import json

    payload = json.loads(json.dumps(cdnow_result.to_dict()))
    assert payload["name"] == "predict.clv"
    assert set(payload) >= {
        "r", "alpha", "a", "b", "p", "q", "gamma", "log_likelihood", "unit"
    }


def test_p_alive_and_spend_track_the_sample_workspaces_planted_truth():
    sample = Path(__file__).resolve().parents[2] / "fixtures" / "sample"
    if not (sample / "truth" / "customer_types.csv").exists():
        pytest.skip("the sample workspace has not been generated")
    from scipy.stats import mannwhitneyu, spearmanr

    from core.workspace import Workspace

    result = clv_analysis(Workspace.open(sample).scan("transactions"), unit="week")
    truth = pl.read_csv(sample / "truth" / "customer_types.csv")
    joined = result.main_table.join(truth, on="customer_id")
    assert joined.height == truth.height
    alive = joined["alive"].to_numpy()
    p = joined["p_alive"].to_numpy()
    auc = mannwhitneyu(p[alive], p[~alive]).statistic / (alive.sum() * (~alive).sum())
    assert auc > 0.9  # P(alive) separates the planted live and lapsed customers
    rho = spearmanr(joined["expected_spend"], joined["mean_order_value"]).statistic
    assert rho > 0.8  # Gamma-Gamma's spend ranks customers like their planted mean spend
    # the planted types make spend and frequency correlate, and the check says so
    assert any("correlated" in note for note in result.notes)


@pytest.mark.parametrize("unit, freq", [("week", "W"), ("day", "D")])
def test_monthly_discounting_reproduces_lifetimes_customer_lifetime_value(cdnow_transactions, unit, freq):
    lifetimes = pytest.importorskip("lifetimes")
    import warnings

    summary = btyd_summary(cdnow_transactions, CALIBRATION_END, unit=unit).to_pandas()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lifetimes on today's pandas/numpy warns about deprecations
        bg = lifetimes.BetaGeoFitter().fit(summary["frequency"], summary["recency"], summary["T"])
        repeat = summary[summary["frequency"] > 0]
        gg = lifetimes.GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])
        expected = gg.customer_lifetime_value(
            bg, summary["frequency"], summary["recency"], summary["T"], summary["monetary_value"],
            time=12, discount_rate=0.01, freq=freq)
    ours = clv_analysis(cdnow_transactions, calibration_end=CALIBRATION_END, unit=unit,
                        discount_rate=0.01, discount_period="month")
    # Both fit the same likelihoods; their optima agree to about 1e-6.
    assert ours.headline["total_clv"] == pytest.approx(expected.sum(), rel=1e-4)
    per_customer = ours.tables["customers"].sort("customer_id")["clv"].to_numpy()
    by_id = expected.to_numpy()[np.argsort(summary["customer_id"].to_numpy())]
    assert per_customer == pytest.approx(by_id, rel=1e-4, abs=1e-6)
    assert any("lifetimes' convention" in n for n in ours.notes)


def test_the_annual_convention_is_not_lifetimes_monthly_one(cdnow_transactions):
    yearly = clv_analysis(cdnow_transactions, calibration_end=CALIBRATION_END, discount_rate=0.01 * 12)
    monthly = clv_analysis(cdnow_transactions, calibration_end=CALIBRATION_END, discount_rate=0.01,
                           discount_period="month")
    assert yearly.headline["horizon"] == pytest.approx(365 / 7)
    assert monthly.headline["horizon"] == pytest.approx(12 * 4.345)
    assert yearly.headline["total_clv"] != pytest.approx(monthly.headline["total_clv"], rel=1e-6)
    with pytest.raises(InputError, match="unknown discount period"):
        clv_analysis(cdnow_transactions, discount_period="week")


# --- the lean path predict churn's value at risk uses --------------------------------


def test_customer_clv_is_lifetimes_clv_and_predict_clvs_numbers(cdnow_transactions):
    lifetimes = pytest.importorskip("lifetimes")
    import warnings

    from core.predict.clv import customer_clv

    summary = btyd_summary(cdnow_transactions, CALIBRATION_END, unit="day").to_pandas()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bg = lifetimes.BetaGeoFitter().fit(summary["frequency"], summary["recency"], summary["T"])
        repeat = summary[summary["frequency"] > 0]
        gg = lifetimes.GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])
        expected = gg.customer_lifetime_value(
            bg, summary["frequency"], summary["recency"], summary["T"], summary["monetary_value"],
            time=12, discount_rate=0.01, freq="D")
    options = {"calibration_end": CALIBRATION_END, "unit": "day", "discount_rate": 0.01, "discount_period": "month"}
    lean = customer_clv(cdnow_transactions, **options)
    assert lean.columns == ["customer_id", "clv"] and lean.height == len(summary)
    by_id = dict(zip(summary["customer_id"], expected.to_numpy()))
    assert lean["clv"].to_numpy() == pytest.approx(
        [by_id[c] for c in lean["customer_id"]], rel=1e-4, abs=1e-6)
    # value at risk and `predict clv` value every customer the same
    full = clv_analysis(cdnow_transactions, **options).tables["customers"].select("customer_id", "clv")
    joined = full.join(lean, on="customer_id", suffix="_lean")
    assert joined.height == lean.height
    assert joined["clv_lean"].to_numpy() == pytest.approx(joined["clv"].to_numpy(), rel=1e-12, abs=1e-12)


def test_compress_is_numpys_unique_rows():
    from core.predict._mle import compress

    rng = np.random.default_rng(3)
    columns = [rng.integers(0, 4, 500).astype(float), rng.integers(0, 3, 500) / 7, rng.integers(0, 5, 500) * 0.5]
    (unique, counts, inverse) = compress(*columns)
    rows, ref_inverse, ref_counts = np.unique(np.column_stack(columns), axis=0, return_inverse=True,
                                              return_counts=True)
    assert np.array_equal(np.column_stack(unique), rows)  # sorted as numpy sorts them
    assert np.array_equal(counts, ref_counts)
    assert np.array_equal(inverse, ref_inverse.ravel())
    assert compress(np.array([]))[1].size == 0
