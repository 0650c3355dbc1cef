"""Churn risk: dates without leakage, metrics against references, planted risk factors.

References: scipy's Mann-Whitney U for AUC, scikit-learn's precision/recall, pandas for
the gains and calibration tables, and simulated customers whose churn is planted.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import polars as pl
import pytest
from polars.testing import assert_frame_equal
from scipy.stats import mannwhitneyu
from sklearn.metrics import precision_score, recall_score

from core.errors import AnalysisError, InputError
from core.features import customer_features
from core.predict.churn import (
    calibration_table,
    churn_analysis,
    churn_dates,
    classification_metrics,
    gains_table,
    snapshot,
)

BASE = dt.date(2022, 1, 1)


def simulate(n: int = 1500, days: int = 730, seed: int = 0):
    """Transactions of customers who buy at their own rate until they leave, and the
    dates of their complaints.

    Planted: a third of the customers complain once, on a random day, and stop buying a
    few days later; so a complaint in the last 30 days predicts churn even while the
    customer's purchase history still looks healthy.
    """
    rng = np.random.default_rng(seed)
    start = rng.integers(0, days // 2, n)
    rate = rng.gamma(2.0, 1 / 40, n)
    complained = rng.random(n) < 1 / 3
    complaint_day = np.where(complained, rng.integers(0, days, n), days + 1000)
    life = rng.exponential(1500, n)
    end = np.minimum(np.minimum(start + life, days), np.maximum(complaint_day + 5, start))
    counts = rng.poisson(rate * (end - start))
    cid = np.concatenate([np.arange(n), np.repeat(np.arange(n), counts)])
    day = np.concatenate([
        start,
        np.repeat(start, counts) + (rng.random(counts.sum()) * np.repeat(end - start, counts)),
    ]).astype(int)
    ids = np.array([f"c{i:05d}" for i in range(n)])
    tx = pl.DataFrame({
        "customer_id": ids[cid],
        "order_date": np.datetime64(BASE) + day.astype("timedelta64[D]"),
        "amount": rng.gamma(2, 25, len(cid)),
    }).with_columns(pl.col("order_date").cast(pl.Date)).lazy()
    complaints = pl.DataFrame({
        "customer_id": ids[complained],
        "complaint_date": np.datetime64(BASE) + complaint_day[complained].astype("timedelta64[D]"),
    }).with_columns(pl.col("complaint_date").cast(pl.Date))
    return tx, complaints


def with_complaints(tx: pl.LazyFrame, complaints: pl.DataFrame):
    """A features callable: transaction features plus 'recent_complaint' as of the date."""

    def features(d: dt.date) -> pl.LazyFrame:
        recent = complaints.filter(
            pl.col("complaint_date") <= d, pl.col("complaint_date") > d - dt.timedelta(days=30)
        ).select("customer_id", recent_complaint=pl.lit(1))
        return customer_features(tx, as_of=d).join(
            recent.lazy(), on="customer_id", how="left"
        ).with_columns(pl.col("recent_complaint").fill_null(0))

    return features


@pytest.fixture(scope="module")
def sim():
    return simulate()


@pytest.fixture(scope="module")
def result(sim):
    tx, complaints = sim
    return churn_analysis(tx, features=with_complaints(tx, complaints), horizon_days=90,
                          top=None)


# --- dates and leakage ------------------------------------------------------------------


def test_test_set_is_strictly_after_the_training_data(result):
    h = result.headline
    assert h["train_label_end"] == h["train_as_of"] + dt.timedelta(days=90)
    assert h["train_label_end"] <= h["test_as_of"]  # training labels end by the test date
    assert h["test_as_of"] < h["test_label_end"] <= h["as_of"]


def test_training_and_test_features_ignore_everything_after_the_test_date(sim):
    """Leakage check: cut the data at the test date (and poison what comes after):
    the training snapshot, labels included, and the test features do not change."""
    tx, _ = sim
    dates = churn_dates(BASE + dt.timedelta(days=729), 90)
    cut = tx.filter(pl.col("order_date") <= dates.test_as_of)
    poison = pl.DataFrame({
        "customer_id": ["c00000", "c00001", "zz-new"],
        "order_date": [dates.test_as_of + dt.timedelta(days=1)] * 3,
        "amount": [1e6, -50.0, 10.0],
    }).lazy()
    poisoned = pl.concat([cut, poison])

    def feats(data):
        return lambda d: customer_features(data, as_of=d)

    for data in (cut, poisoned):
        train_full = snapshot(tx, feats(tx), dates.train_as_of, 90)
        train_cut = snapshot(data, feats(data), dates.train_as_of, 90)
        assert_frame_equal(train_full.sort("customer_id"), train_cut.sort("customer_id"))
        test_full = snapshot(tx, feats(tx), dates.test_as_of, None)
        test_cut = snapshot(data, feats(data), dates.test_as_of, None)
        assert_frame_equal(test_full.sort("customer_id"), test_cut.sort("customer_id"))


def test_test_metrics_do_not_depend_on_data_after_the_test_window(sim):
    tx, _ = sim
    as_of = BASE + dt.timedelta(days=729)
    dates = churn_dates(as_of, 90)
    full = churn_analysis(tx, as_of=as_of)
    trimmed = churn_analysis(tx.filter(pl.col("order_date") <= dates.test_label_end),
                             as_of=dates.test_label_end, test_as_of=dates.test_as_of,
                             train_as_of=dates.train_as_of)
    assert_frame_equal(full.tables["models"], trimmed.tables["models"])


def test_overlapping_or_unobservable_dates_are_refused(sim):
    tx, _ = sim
    with pytest.raises(InputError, match="overlap"):
        churn_analysis(tx, test_as_of=dt.date(2023, 6, 1), train_as_of=dt.date(2023, 4, 1))
    with pytest.raises(InputError, match="data end"):
        churn_analysis(tx, test_as_of=dt.date(2023, 12, 1))
    with pytest.raises(InputError, match="threshold"):
        churn_analysis(tx, threshold=1.5)


# --- the models find the planted signal ---------------------------------------------------


def test_models_separate_churners_and_lift_the_top_decile(result):
    models = result.tables["models"]
    assert models["model"].to_list() == ["logistic", "boosting"]
    assert (models["validation_auc"] > 0.8).all() and models["chosen"].sum() == 1
    assert result.headline["test_auc"] > 0.8
    gains = result.tables["gains"]
    assert gains["lift"][0] > 1.2 and gains["lift"][-1] < 0.8
    assert gains["cumulative_gain"][-1] == pytest.approx(1.0)
    calibration = result.tables["calibration"]
    # a decently calibrated model: predicted and observed rates agree within 15 points
    assert (calibration["mean_predicted"] - calibration["observed_rate"]).abs().max() < 0.15


def test_planted_complaints_show_up_as_risk_factors(sim, result):
    tx, complaints = sim
    at_risk = result.main_table
    assert at_risk["churn_probability"].is_sorted(descending=True)
    assert at_risk["rank"].to_list() == list(range(1, at_risk.height + 1))
    now = with_complaints(tx, complaints)(result.headline["as_of"]).select(
        "customer_id", "recent_complaint").collect()
    recent_buyers = at_risk.join(now, on="customer_id").filter(pl.col("recency_days") <= 60)
    # their purchase history looks healthy; the complaint gives them away
    complainers = recent_buyers.filter(pl.col("recent_complaint") == 1)
    assert complainers.height >= 5
    assert (complainers["churn_probability"] > 0.8).all()
    assert complainers["risk_factor_1"].str.starts_with("recent_complaint = 1").all()
    others = recent_buyers.filter(pl.col("recent_complaint") == 0)
    assert others["churn_probability"].median() < 0.3


def test_value_at_risk_is_clv_times_probability_and_ranks_the_list(sim):
    tx, _ = sim
    ids = tx.select("customer_id").unique().collect()["customer_id"]
    clv = pl.DataFrame({"customer_id": ids,
                        "clv": np.random.default_rng(1).gamma(2, 100, len(ids))})
    result = churn_analysis(tx, clv=clv, top=50)
    at_risk = result.main_table
    np.testing.assert_allclose(
        at_risk["value_at_risk"].to_numpy(),
        (at_risk["clv"] * at_risk["churn_probability"]).to_numpy(),
    )
    assert at_risk["value_at_risk"].is_sorted(descending=True)
    assert at_risk.height == 50
    assert result.headline["value_at_risk_total"] >= at_risk["value_at_risk"].sum()
    # re-ranking by value keeps each customer's own probability and risk factors
    plain = churn_analysis(tx, top=None).main_table
    both = at_risk.join(plain, on="customer_id", suffix="_plain")
    assert both.height == 50
    np.testing.assert_allclose(both["churn_probability"], both["churn_probability_plain"])
    assert (both["risk_factor_1"] == both["risk_factor_1_plain"]).all()


def test_too_few_churners_is_an_analysis_error():
    days = pd.date_range("2022-01-01", "2023-12-31", freq="D").date
    tx = pl.DataFrame({  # everyone buys every day: nobody churns
        "customer_id": [f"c{i}" for i in range(20) for _ in days],
        "order_date": list(days) * 20,
        "amount": 10.0,
    }).lazy()
    with pytest.raises(AnalysisError, match="churners"):
        churn_analysis(tx)



def test_a_clv_made_beside_the_model_work_gives_the_list_of_the_same_table_given_ready(sim):
    tx, _ = sim
    ids = tx.select("customer_id").unique().collect()["customer_id"]
    clv = pl.DataFrame({"customer_id": ids, "clv": np.random.default_rng(1).gamma(2, 100, len(ids))})
    asked = []

    def clv_at(day, per_customer):  # churn_analysis calls it on a thread beside the model choice
        asked.append(day)
        return clv

    made = churn_analysis(tx, clv=clv_at, top=50)
    ready = churn_analysis(tx, clv=clv, top=50)
    assert asked == [made.headline["as_of"]]
    assert_frame_equal(made.main_table, ready.main_table)
    assert_frame_equal(made.tables["test_predictions"], ready.tables["test_predictions"])
    assert made.headline == ready.headline and made.notes == ready.notes


def test_the_clvs_error_comes_before_the_models_as_when_it_was_made_first():
    days = pd.date_range("2022-01-01", "2023-12-31", freq="D").date
    tx = pl.DataFrame({  # nobody churns (an AnalysisError), and the CLV refuses its input
        "customer_id": [f"c{i}" for i in range(20) for _ in days],
        "order_date": list(days) * 20,
        "amount": 10.0,
    }).lazy()

    def refused(day, per_customer):
        raise InputError("no CLV for these rows", fix="none")

    with pytest.raises(InputError, match="no CLV"):
        churn_analysis(tx, clv=refused)

# --- metric helpers against references ------------------------------------------------


def test_metrics_match_scipy_and_sklearn():
    rng = np.random.default_rng(4)
    y = rng.integers(0, 2, 500)
    p = np.clip(0.3 * y + rng.random(500) * 0.7, 0, 1)
    m = classification_metrics(y, p, 0.5)
    u = mannwhitneyu(p[y == 1], p[y == 0]).statistic
    assert m["auc"] == pytest.approx(u / ((y == 1).sum() * (y == 0).sum()))
    assert m["precision"] == pytest.approx(precision_score(y, p >= 0.5))
    assert m["recall"] == pytest.approx(recall_score(y, p >= 0.5))


def test_gains_and_calibration_tables_match_pandas():
    rng = np.random.default_rng(5)
    p = rng.random(1000)
    y = (rng.random(1000) < p).astype(int)
    frame = pd.DataFrame({"y": y, "p": p}).sort_values("p", ascending=False)
    frame["decile"] = np.arange(1000) // 100 + 1
    reference = frame.groupby("decile")["y"].agg(["sum", "mean"])
    gains = gains_table(y, p)
    np.testing.assert_array_equal(gains["churners"].to_numpy(), reference["sum"].to_numpy())
    np.testing.assert_allclose(gains["lift"].to_numpy(), reference["mean"] / y.mean())
    np.testing.assert_allclose(gains["cumulative_gain"].to_numpy(),
                               reference["sum"].cumsum() / y.sum())
    bins = pd.qcut(p, 10, labels=False) + 1
    ref = pd.DataFrame({"y": y, "p": p, "bin": bins}).groupby("bin").mean()
    calibration = calibration_table(y, p)
    np.testing.assert_allclose(calibration["mean_predicted"].to_numpy(), ref["p"].to_numpy())
    np.testing.assert_allclose(calibration["observed_rate"].to_numpy(), ref["y"].to_numpy())


def test_churn_risk_tracks_the_sample_workspaces_planted_dropouts():
    from pathlib import Path

    sample = Path(__file__).resolve().parents[2] / "fixtures" / "sample"
    if not (sample / "truth" / "customer_types.csv").exists():
        pytest.skip("the sample workspace has not been generated")
    from core.workspace import Workspace

    result = churn_analysis(Workspace.open(sample).scan("transactions"), top=None)
    truth = pl.read_csv(sample / "truth" / "customer_types.csv")
    joined = result.main_table.join(truth, on="customer_id")
    gone = ~joined["alive"].to_numpy()
    p = joined["churn_probability"].to_numpy()
    auc = mannwhitneyu(p[gone], p[~gone]).statistic / (gone.sum() * (~gone).sum())
    assert auc > 0.85  # customers the generator let drop out score as high risk


def test_a_feature_with_no_value_in_training_is_left_out_and_said(sim):
    # NPS that starts after the training date (the sample as of 2025-09-30 ended in
    # "internal error" from the boosting model's binning).
    tx, _ = sim

    def features(d: dt.date) -> pl.LazyFrame:
        return customer_features(tx, as_of=d).with_columns(nps=pl.lit(None, pl.Float64))

    out = churn_analysis(tx, features=features, horizon_days=90, top=None)
    assert any("no value in the training snapshot" in n and "nps" in n for n in out.notes)
    assert out.headline["validation_auc_boosting"] > 0.5


def test_the_model_is_chosen_without_looking_at_the_test_set(sim):
    from sklearn.metrics import brier_score_loss, roc_auc_score

    tx, _ = sim
    as_of = BASE + dt.timedelta(days=729)
    dates = churn_dates(as_of, 90)
    # Same history up to the test date; in the test window, every other customer's
    # purchases are dropped: the test labels change, nothing the choice may see does.
    rows = tx.with_row_index("_i")
    in_test = (pl.col("order_date") > dates.test_as_of) & (pl.col("order_date") <= dates.test_label_end)
    odd = pl.col("customer_id").str.slice(-1).cast(pl.Int32) % 2 == 1
    altered = rows.filter(~(in_test & odd)).drop("_i")
    a = churn_analysis(tx, as_of=as_of, top=None)
    b = churn_analysis(altered, as_of=as_of, top=None)
    assert_frame_equal(a.tables["models"], b.tables["models"])  # same validation AUCs, same choice
    assert a.headline["test_auc"] != b.headline["test_auc"]
    for r in (a, b):
        predictions = r.tables["test_predictions"]
        assert predictions.height == r.headline["n_test"]
        y, p = predictions["churned"].to_numpy(), predictions["churn_probability"].to_numpy()
        # The test figures are those of the chosen model, recomputable from the table.
        assert r.headline["test_auc"] == pytest.approx(roc_auc_score(y, p), abs=1e-12)
        assert r.headline["test_brier"] == pytest.approx(brier_score_loss(y, p), abs=1e-12)
        assert r.tables["models"].filter("chosen")["model"].item() == r.headline["model"]
        assert "auc_logistic" not in r.headline and "auc_boosting" not in r.headline
    assert any("a quarter of the training customers held out of its fit" in n for n in a.notes)


def test_a_named_model_is_used_without_a_choice(sim):
    tx, _ = sim
    out = churn_analysis(tx, model="logistic", top=10)
    assert out.headline["model"] == "logistic"
    assert out.tables["models"]["model"].to_list() == ["logistic"]
    assert "validation_auc_logistic" not in out.headline


def _three_dates(tx: pl.LazyFrame, horizon: int = 90):
    last = tx.select(pl.col("order_date").max()).collect().item()
    return churn_dates(last, horizon)


def test_one_pass_snapshots_equal_customer_features_at_each_date_on_the_sample():
    # The reference is customer_features itself, run once per date (three reads).
    from pathlib import Path

    from core.predict.churn import churn_labels, one_pass_snapshots
    from core.workspace import Workspace

    ws = Workspace.open(Path(__file__).resolve().parents[2] / "fixtures" / "sample")
    tx = ws.scan("transactions")
    tables = {t: ws.scan_if(t) for t in ("customers", "touchpoints", "survey")}
    assert all(frame is not None for frame in tables.values())  # every feature table is exercised
    dates = _three_dates(tx)

    def features(d):
        return customer_features(tx, as_of=d, **tables)

    snapshots = one_pass_snapshots(tx, dates, **tables)
    expected = (snapshot(tx, features, dates.train_as_of, 90), snapshot(tx, features, dates.test_as_of, 90),
                snapshot(tx, features, dates.as_of, None))
    for got, want in zip(snapshots, expected):
        assert_frame_equal(got, want)
    assert "engagement" in snapshots[0].columns and "nps" in snapshots[0].columns
    # the labels are churn_labels' buyers of each window
    train_buyers = churn_labels(tx, dates.train_as_of, 90).collect()["customer_id"]
    assert set(snapshots[0].filter(pl.col("churned") == 0)["customer_id"]) \
        == set(train_buyers) & set(snapshots[0]["customer_id"])


def test_one_pass_snapshots_handle_what_crosses_a_date():
    # An order whose rows span the training date, a channel first seen after it, a
    # customer who only returned, rows without a customer, and no order_id at all.
    from core.features import customer_features_at

    d = dt.date
    tx = pl.LazyFrame({
        "customer_id": ["a", "a", "a", "b", "b", "c", None, "a", "b", "d"],
        "order_id": ["o1", "o1", "o2", "o3", None, "o4", "o5", "o6", "o7", "o8"],
        "order_date": [d(2024, 1, 10), d(2024, 2, 10), d(2024, 2, 10), d(2024, 1, 5), d(2024, 2, 1),
                       d(2024, 1, 20), d(2024, 1, 1), d(2024, 3, 5), d(2024, 3, 1), d(2024, 3, 2)],
        "amount": [10.0, 5.0, 7.0, 20.0, 3.0, -4.0, 9.0, 8.0, -2.0, 6.0],
        "channel": ["web", "web", "app", "web", "store", "web", "web", "app", "store", "web"],
    })
    dates = [d(2024, 1, 31), d(2024, 2, 20), d(2024, 3, 10)]
    for frame in (tx, tx.drop("order_id"), tx.drop("channel")):
        read = customer_features_at(frame, dates, purchase_windows=[(dates[0], dates[1])])
        for day in dates:
            assert_frame_equal(read.features[day], customer_features(frame, as_of=day).collect())
        bought = read.purchased[(dates[0], dates[1])].filter("bought")["customer_id"].sort().to_list()
        assert bought == ["a", "b"]  # "b" bought on 2024-02-01, "a" on 2024-02-10
    # o1 spans the first date: with o2, two orders up to the second date, not three
    a = customer_features_at(tx, dates).features[dates[1]].filter(pl.col("customer_id") == "a")
    assert a["orders"].item() == 2 and a["frequency"].item() == 2


def test_one_pass_snapshots_apply_the_per_date_rules_for_signups_answers_and_touches():
    # customer_features_at joins signups, touches and answers once for all dates; each date must still
    # see only what is dated up to it: a signup after a date, an answer after it, a same-day tie (the
    # lower answer counts), a blank answer, a customer without any, and a survey without dates.
    from core.features import customer_features_at

    d, t = dt.date, dt.datetime
    tx = pl.LazyFrame({
        "customer_id": ["a", "a", "b", "c", "r"], "order_id": ["o1", "o2", "o3", "o4", "o5"],
        "order_date": [d(2024, 1, 10), d(2024, 3, 1), d(2024, 2, 5), d(2024, 1, 15), d(2024, 1, 5)],
        "amount": [10.0, 5.0, 7.0, 3.0, -4.0],  # "r" only returned, so only a signup gives a tenure
    })
    customers = pl.LazyFrame({"customer_id": ["a", "a", "b", "c", "z", "r"],
                              "signup_date": [d(2023, 12, 1), d(2023, 11, 1), d(2024, 2, 25), None, d(2023, 1, 1),
                                              d(2024, 2, 25)]})
    touchpoints = pl.LazyFrame({"customer_id": ["a", "a", "b", "z"],
                                "timestamp": [t(2024, 1, 20), t(2024, 2, 15), t(2024, 3, 5), t(2024, 1, 1)]})
    survey = pl.LazyFrame({
        "customer_id": ["a", "a", "a", "b", "b", "c"],
        "response_date": [d(2024, 1, 20), d(2024, 1, 20), d(2024, 2, 28), d(2024, 1, 5), d(2024, 2, 1), d(2024, 1, 16)],
        "nps": [9, 4, None, 10, 6, 7], "csat": [5, 5, 3, None, 2, None],
    })
    dates = [d(2024, 1, 31), d(2024, 2, 20), d(2024, 3, 10)]
    for answers in (survey, survey.drop("response_date")):
        tables = {"customers": customers, "touchpoints": touchpoints, "survey": answers}
        read = customer_features_at(tx, dates, **tables)
        for day in dates:
            assert_frame_equal(read.features[day], customer_features(tx, as_of=day, **tables).collect())
    first = customer_features_at(tx, dates, survey=survey).features[dates[0]].filter(pl.col("customer_id") == "a")
    assert first["nps"].item() == 4  # two answers on 2024-01-20: the lower one


# --- fitting on a sample of the training customers ----------------------------------------


def test_the_training_sample_keeps_the_churn_rate_and_is_reproducible():
    from core.predict.churn import training_sample

    y = np.r_[np.ones(300, int), np.zeros(700, int)]
    rows = training_sample(y, 200, random_state=3)
    assert len(rows) == 200 and len(np.unique(rows)) == 200
    assert np.all(np.diff(rows) > 0)  # sorted: the snapshot's (customer) order
    assert y[rows].sum() == 60  # 30% churners, as in all the training customers
    assert np.array_equal(rows, training_sample(y, 200, random_state=3))
    assert not np.array_equal(rows, training_sample(y, 200, random_state=4))
    assert np.array_equal(training_sample(y, 1000), np.arange(1000))  # no more rows than there are


def test_a_model_fitted_on_a_sample_meets_the_same_whole_test_set(sim, monkeypatch):
    from sklearn.metrics import roc_auc_score

    from core.predict import churn

    tx, complaints = sim
    full = churn_analysis(tx, features=with_complaints(tx, complaints), top=None)
    cap = full.headline["n_train"] // 2
    monkeypatch.setattr(churn, "MAX_TRAIN_ROWS", cap)
    sampled = churn_analysis(tx, features=with_complaints(tx, complaints), top=None)
    assert any(f"fitted on a random {cap:,} of the {full.headline['n_train']:,} training customers" in n
               for n in sampled.notes)
    assert not any("fitted on a random" in n for n in full.notes)
    # The test set is not sampled: the same customers and outcomes, every one of them scored.
    for name in ("customer_id", "churned"):
        assert sampled.tables["test_predictions"][name].equals(full.tables["test_predictions"][name])
    assert sampled.headline["n_test"] == full.headline["n_test"]
    assert sampled.headline["n_scored"] == full.headline["n_scored"]
    predictions = sampled.tables["test_predictions"]
    assert sampled.headline["test_auc"] == pytest.approx(
        roc_auc_score(predictions["churned"], predictions["churn_probability"]), abs=1e-12)
    # Half the customers still find the planted pattern (AUC well above chance, near the full fit).
    assert sampled.headline["test_auc"] > 0.75
    assert abs(sampled.headline["test_auc"] - full.headline["test_auc"]) < 0.05


def test_validation_customers_are_left_out_of_the_sample_and_keep_the_churn_rate():
    from core.predict import churn

    y = np.r_[np.ones(300, int), np.zeros(700, int)]
    fit = churn.training_sample(y, 500, random_state=3)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(churn, "VALIDATION_ROWS", 200)
        rows = churn.validation_rows(y, fit, random_state=3)
        assert len(rows) == 200 and not np.intersect1d(rows, fit).size  # none of them fitted on
        assert np.all(np.diff(rows) > 0)
        assert y[rows].sum() == 60  # 30% churners, as in all the training customers
        assert np.array_equal(rows, churn.validation_rows(y, fit, random_state=3))
        # too few left out of the sample, or too few of a class among them: no held-out draw
        assert churn.validation_rows(y, churn.training_sample(y, 900), random_state=3) is None
        assert churn.validation_rows(np.r_[np.ones(12, int), np.zeros(988, int)], fit) is None


def test_with_a_training_sample_the_models_are_judged_on_customers_left_out_of_it(sim, monkeypatch):
    # Above MAX_TRAIN_ROWS both models are fitted on the sample and judged on training customers
    # left out of it; the chosen fit is the model, with no refit. The reference: scikit-learn's
    # roc_auc_score of each model fitted on the sample, over the customers left out.
    from sklearn.metrics import roc_auc_score

    from core.predict import churn

    tx, complaints = sim
    features = with_complaints(tx, complaints)
    n_train = churn_analysis(tx, features=features, top=None).headline["n_train"]
    monkeypatch.setattr(churn, "MAX_TRAIN_ROWS", n_train // 2)
    monkeypatch.setattr(churn, "VALIDATION_ROWS", n_train // 4)
    out = churn_analysis(tx, features=features, top=None)
    dates = churn.churn_dates(tx.select(pl.col("order_date").max()).collect().item(), 90)
    train = churn.snapshot(tx, features, dates.train_as_of, 90, None)
    test = churn.snapshot(tx, features, dates.test_as_of, 90, None)
    names = out.params["features"]
    x, y = churn._matrix(train, names), train["churned"].to_numpy().astype(int)
    fit = churn.training_sample(y, n_train // 2)
    left_out = np.setdiff1d(np.arange(len(y)), fit)
    held = churn.validation_rows(y, fit)
    assert len(held) == n_train // 4 and np.isin(held, left_out).all()
    fitted = {kind: churn.make_model(kind).fit(x[fit], y[fit]) for kind in churn.MODELS}
    validation = dict(out.tables["models"].select("model", "validation_auc").iter_rows())
    for kind, model in fitted.items():
        assert validation[kind] == pytest.approx(roc_auc_score(y[held], model.predict_proba(x[held])[:, 1]),
                                                 abs=1e-12)
    # the test predictions are those of the chosen model fitted on the sample
    p = fitted[out.headline["model"]].predict_proba(churn._matrix(test, names))[:, 1]
    assert np.array_equal(out.tables["test_predictions"]["churn_probability"].to_numpy(), p)
    assert any(f"{n_train // 4:,} training customers left out of the models' fit" in n for n in out.notes)
    assert not any("quarter of the training customers held out" in n for n in out.notes)


def _orders_path(monkeypatch) -> list[str]:
    """Which way customer_features_at counted orders, recorded per call: "first line" or "exact"."""
    from core import features

    paths, cumulative = [], features._cumulative

    def spy(per_period, order_counts, *args, **kwargs):
        paths.append("exact" if order_counts is not None else "first line")
        return cumulative(per_period, order_counts, *args, **kwargs)

    monkeypatch.setattr(features, "_cumulative", spy)
    return paths


def _adjacent_orders() -> pl.LazyFrame:
    # each order's purchase lines adjacent and on one day; a return line after order o2's;
    # a line of o4 (a return) on another day; orders on both sides of each date
    d = dt.date
    return pl.LazyFrame({
        "customer_id": ["a", "a", "b", "a", "a", "a", "b", "b", "c", "a", "b", "c"],
        "order_id": ["o1", "o1", "o3", "o2", "o2", "o2", "o4", "o5", "o6", "o7", "o4", "o8"],
        "order_date": [d(2024, 1, 10), d(2024, 1, 10), d(2024, 1, 12), d(2024, 2, 3), d(2024, 2, 3),
                       d(2024, 2, 3), d(2024, 2, 5), d(2024, 2, 5), d(2024, 2, 25), d(2024, 3, 1),
                       d(2024, 3, 2), d(2024, 3, 8)],
        "amount": [5.0, 6.0, 7.0, 8.0, 2.0, -1.0, 9.0, 3.0, 4.0, 0.0, -9.0, 11.0],
    })


@pytest.mark.parametrize("case", ["adjacent", "spans a date", "split", "return inside", "shared id", "missing id"])
def test_orders_counted_at_their_first_line_equal_distinct_orders_or_take_the_exact_path(monkeypatch, case):
    # customer_features (one n_unique per customer) is the reference at every date. Orders are
    # counted at the line that starts them only when the data allow it; otherwise exactly.
    from core.features import customer_features_at

    d = dt.date
    tx = _adjacent_orders().collect()
    changed = {
        "adjacent": tx,
        # o1's second line a day later: an order across a date
        "spans a date": tx.with_columns(order_date=pl.when(pl.int_range(pl.len()) == 1)
                                        .then(d(2024, 2, 1)).otherwise("order_date")),
        # o1's lines apart: another order's line between them
        "split": tx[[0, 2, 1, *range(3, len(tx))]],
        # o2's return line between its two purchase lines
        "return inside": tx[[0, 1, 2, 3, 5, 4, *range(6, len(tx))]],
        # one order id for two customers' adjacent lines
        "shared id": tx.with_columns(customer_id=pl.when(pl.int_range(pl.len()) == 1)
                                     .then(pl.lit("c")).otherwise("customer_id")),
        "missing id": tx.with_columns(order_id=pl.when(pl.int_range(pl.len()) == 7)
                                      .then(None).otherwise("order_id")),
    }[case].lazy()
    paths = _orders_path(monkeypatch)
    dates = [d(2024, 1, 31), d(2024, 2, 20), d(2024, 3, 10)]
    read = customer_features_at(changed, dates)
    assert paths == ["first line" if case == "adjacent" else "exact"]
    for day in dates:
        assert_frame_equal(read.features[day], customer_features(changed, as_of=day).collect())
    if case == "split":  # o1 still one order for "a" up to the first date
        assert read.features[dates[0]].filter(pl.col("customer_id") == "a")["orders"].item() == 1


@pytest.mark.parametrize("passes", [None, 1000])
@pytest.mark.parametrize("hashed", ["distinct", "two ids share one", "all share one"])
def test_the_one_read_keys_customers_by_hash_and_gives_every_id_its_own_rows(monkeypatch, passes, hashed):
    # The one read groups on a hash of customer_id; when two ids hash alike it must not merge
    # them: each date's table still equals customer_features', id by id
    from pathlib import Path

    from core import features
    from core.workspace import Workspace

    monkeypatch.setattr(features, "ROWS_PER_PASS", passes)
    shared = ["C000001", "C000002"]
    if hashed != "distinct":
        ids = pl.col("customer_id")
        monkeypatch.setattr(features, "customer_id_hash", lambda: (
            pl.when(ids.is_in(shared)).then(pl.lit(0, pl.UInt64)).otherwise(ids.hash(1))
            if hashed == "two ids share one" else pl.lit(0, pl.UInt64) * ids.str.len_bytes()))
    tx = Workspace.open(Path(__file__).resolve().parents[2] / "fixtures" / "sample").scan("transactions")
    assert tx.filter(pl.col("customer_id").is_in(shared)).select(pl.len()).collect().item() > 0
    dates = [_three_dates(tx).train_as_of, _three_dates(tx).test_as_of, _three_dates(tx).as_of]
    read = features.customer_features_at(tx, dates)
    for day in dates:
        assert_frame_equal(read.features[day], customer_features(tx, as_of=day).collect())


@pytest.mark.parametrize("hashed", ["distinct", "two ids share one"])
@pytest.mark.parametrize("known", ["customers", "customers less a buyer"])
def test_the_one_read_takes_its_ids_from_known_ids_and_reads_its_own_when_one_is_missing(monkeypatch, hashed, known):
    # known_ids (the customers table when the checks found no orphan) stand in for the transactions'
    # own distinct ids; should they miss a buyer, that buyer's rows must still be counted, id by id
    from pathlib import Path

    from core import features
    from core.workspace import Workspace

    shared = ["C000001", "C000002"]
    if hashed != "distinct":
        ids = pl.col("customer_id")
        monkeypatch.setattr(features, "customer_id_hash", lambda: (
            pl.when(ids.is_in(shared)).then(pl.lit(0, pl.UInt64)).otherwise(ids.hash(1))))
    read_ids = []
    original = features._KeyedByHash.__init__

    def spy(self, rows, slots, known_ids=None):
        original(self, rows, slots, known_ids)
        read_ids.append("known" if known_ids is not None else "transactions")
    monkeypatch.setattr(features._KeyedByHash, "__init__", spy)
    ws = Workspace.open(Path(__file__).resolve().parents[2] / "fixtures" / "sample")
    tx, customers = ws.scan("transactions"), ws.scan("customers")
    if known != "customers":
        customers = customers.filter(pl.col("customer_id") != "C000003")
    assert tx.filter(pl.col("customer_id") == "C000003").select(pl.len()).collect().item() > 0
    dates = [_three_dates(tx).train_as_of, _three_dates(tx).test_as_of, _three_dates(tx).as_of]
    read = features.customer_features_at(tx, dates, known_ids=customers)
    for day in dates:
        assert_frame_equal(read.features[day], customer_features(tx, as_of=day).collect())
    # two known ids hashed alike: the text is the key, and no id can go missing
    missed = known != "customers" and hashed == "distinct"
    assert read_ids == (["known", "transactions"] if missed else ["known"])


@pytest.mark.parametrize("passes", [None, 1000])
def test_orders_at_the_first_line_on_the_sample_equal_the_exact_count(monkeypatch, passes):
    # the sample's order lines are adjacent: both paths, the same tables (in one pass, and in
    # many over disjoint customers, where each pass still sees the lines in file order)
    from pathlib import Path

    from core import features
    from core.workspace import Workspace

    monkeypatch.setattr(features, "ROWS_PER_PASS", passes)

    tx = Workspace.open(Path(__file__).resolve().parents[2] / "fixtures" / "sample").scan("transactions")
    dates = [_three_dates(tx).train_as_of, _three_dates(tx).test_as_of, _three_dates(tx).as_of]
    paths = _orders_path(monkeypatch)
    fast = features.customer_features_at(tx, dates)
    monkeypatch.setattr(features, "ORDERS_AT_FIRST_LINE", False)
    exact = features.customer_features_at(tx, dates)
    assert paths == ["first line", "exact"]
    for day in dates:
        assert_frame_equal(fast.features[day], exact.features[day])


def test_predict_churn_loads_scipy_and_sklearn_beside_its_feature_read_not_before_it():
    # The modules predict churn imports first load neither: they come on import_beside's thread
    import subprocess
    import sys

    code = ("import sys; import core.predict.run, core.predict.churn; "
            "print(sorted(m for m in ('scipy', 'sklearn', 'core.predict.clv') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    # and the package's names still import, on first use
    from core.predict import BetaGeoModel
    from core.predict import churn_analysis as named

    assert named is churn_analysis and BetaGeoModel.__module__ == "core.predict.bgnbd"


def test_import_beside_loads_the_modules_and_leaves_a_failed_import_to_the_caller(capsys):
    import sys

    from core.predict.churn import import_beside

    sys.modules.pop("colorsys", None)
    import_beside(["colorsys", "no_such_module_for_churn", "json"]).join()
    assert "colorsys" in sys.modules
    assert capsys.readouterr().err == ""  # quiet on its thread: the caller's own import raises
    with pytest.raises(ModuleNotFoundError):
        import no_such_module_for_churn  # noqa: F401


def test_predict_churn_reads_the_ids_from_customers_once_the_checks_found_every_buyer_there(sample_copy, monkeypatch):
    # the command's own checks count the orphans first (core.validate.every_customer_known)
    from core.predict import churn
    from core.registry.run import run_analysis
    from core.workspace import Workspace

    given = []
    original = churn.one_pass_snapshots

    def spy(*args, **kwargs):
        given.append(kwargs.get("known_ids") is not None)
        return original(*args, **kwargs)
    monkeypatch.setattr(churn, "one_pass_snapshots", spy)
    run_analysis("predict.churn", Workspace.open(sample_copy), {"with_clv": False})
    customers = sample_copy / "customers.csv"
    lines = customers.read_text().splitlines(keepends=True)
    customers.write_text("".join(line for line in lines if not line.startswith("C000003,")))  # bought, no customer now
    run_analysis("predict.churn", Workspace.open(sample_copy), {"with_clv": False})
    assert given == [True, False]
