"""Prediction-interval coverage in the backtest (hand-made examples where it is known, and
simulated ARIMA series where the nominal 95% must come back) and the start-up rule."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from core.forecast import backtest as bt
from core.forecast.demand import coverage_by_lead, coverage_note, demand_forecast
from core.forecast.model import DemandModel
from core.forecast.startup import startup_end
from core.workspace import Workspace

SAMPLE = Path(__file__).resolve().parents[2] / "fixtures" / "sample"


def test_coverage_counts_actuals_inside_the_interval_bounds_included():
    actual = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    low = np.array([0.0, 2.0, 3.5, 0.0, np.nan])
    high = np.array([2.0, 3.0, 4.0, 3.9, np.nan])
    held = bt.coverage(actual, low, high)
    # 1 in [0, 2], 2 on the lower bound, 3 below [3.5, 4], 4 above [0, 3.9]; the last has no interval
    assert (held.covered, held.points, held.share) == (2, 4, 0.5)
    # Clopper-Pearson for 2 of 4: the beta quantiles (textbook values 0.0676, 0.9324)
    assert held.low == pytest.approx(0.067586, abs=1e-5) and held.high == pytest.approx(0.932414, abs=1e-5)
    assert bt.coverage(actual, np.full(5, np.nan), np.full(5, np.nan)) is None


def test_the_backtest_keeps_each_origins_interval_and_coverage_by_lead():
    y = np.arange(1.0, 21.0)

    def forecast(origin, steps):  # an interval that misses every second lead
        truth = y[origin:origin + steps]
        wide = np.where(np.arange(steps) % 2 == 0, 1.0, -0.5)
        return truth, truth - wide, truth + wide

    test = bt.backtest(y, [14, 17], 5, 4, forecast)
    assert test.coverage.covered == 5 and test.coverage.points == 8  # leads 1, 3, 5 of origin 14; 1, 3 of 17
    table = coverage_by_lead([test])
    assert table["lead"].to_list() == [1, 2, 3, 4, 5]
    assert table["points"].to_list() == [2, 2, 2, 1, 1]
    assert table["coverage"].to_list() == [1.0, 0.0, 1.0, 0.0, 1.0]
    points_only = bt.backtest(y, [14], 3, 4, lambda o, s: y[o:o + s])
    assert points_only.coverage is None  # a point forecast has no interval to check


def test_the_note_calls_intervals_too_narrow_too_wide_or_in_line():
    narrow = bt.Coverage(62, 100, 0.517, 0.715)
    assert coverage_note(narrow, 0.95, 1.0).endswith("held 62% of the backtest's 100 actuals "
                                                     "(binomial 95% interval 52% to 72%): treat them as too narrow.")
    wide = bt.Coverage(100, 100, 0.964, 1.0)
    assert "about 3.0 times wider than the errors needed: treat them as too wide" in coverage_note(wide, 0.95, 3.0)
    fine = bt.Coverage(93, 100, 0.861, 0.971)
    assert "in line with 95%" in coverage_note(fine, 0.95, 1.1)
    # 80% intervals holding 97%: too wide even before the width is measured
    assert "too wide" in coverage_note(bt.Coverage(97, 100, 0.915, 0.994), 0.80, None)


def test_width_ratio_compares_the_interval_with_the_errors():
    actual = np.array([0.0, 1.0, -1.0, 2.0, -2.0])
    forecast = np.zeros(5)
    # 80% of |errors| (0, 1, 1, 2, 2) are within 2: the band needed is 4 wide; intervals 12 wide
    assert bt.width_ratio(actual, forecast, np.full(5, -6.0), np.full(5, 6.0), 0.8) == pytest.approx(3.0)


@pytest.mark.parametrize("lead", [1, 6])
def test_simulated_arima_series_recover_the_nominal_95_percent(lead):
    """400 independent ARIMA(1,1,0) series with a regressor: the share of their next values
    inside the model's 95% interval is 95% within its binomial interval, at lead 1 and lead
    6. Intervals without the psi weights (a one-step width at every lead) would hold about
    66% at lead 6, and a sigma off by a third would move lead 1 outside too."""
    rng = np.random.default_rng(20261206)
    phi, beta, n, steps = 0.6, 0.8, 160, 6
    hits = []
    for _ in range(400):
        x = (rng.random(n + steps) < 0.1).astype(float)[:, None]
        e = rng.normal(size=n + steps)
        u = np.zeros(n + steps)
        for t in range(1, n + steps):  # simulation, not data rows
            u[t] = phi * u[t - 1] + e[t]
        y = 50.0 + beta * x[:, 0] + np.cumsum(u)
        model = DemandModel(order=(1, 1, 0), transform="none").fit(y[:n], x[:n], ["x"], intervals=False)
        f = model.forecast(steps, x[n:], alpha=0.05)
        hits.append(f.low[lead - 1] <= y[n + lead - 1] <= f.high[lead - 1])
    held = bt.coverage(np.array(hits, dtype=float), np.full(len(hits), 1.0), np.full(len(hits), 1.0))
    assert held.low <= 0.95 <= held.high, (held.share, held.low, held.high)


def test_startup_ends_where_the_level_reaches_half_of_the_last_years():
    ramp = np.r_[np.linspace(1.0, 40.0, 30), np.full(100, 100.0)]
    # the median of the next 13 weeks first reaches 50 at week 24 (values 32.9 ... 100)
    cut = startup_end(ramp, "week")
    window = np.median(ramp[cut:cut + 13])
    assert window >= 50.0 and np.median(ramp[cut - 1:cut + 12]) < 50.0
    assert startup_end(np.full(130, 100.0), "week") == 0  # no start-up
    assert startup_end(ramp[:60], "week") == 0  # too short to tell
    # a sparse series' first weeks below half its level: noise, not a start-up of a quarter
    sparse = np.r_[[24.0, 56.0, 0.0, 0.0, 406.0, 0.0, 0.0, 0.0, 87.0, 0.0], np.tile([60.0, 0.0, 80.0], 40)]
    assert np.median(sparse[:13]) < 0.5 * np.median(sparse[-52:]) and startup_end(sparse, "week") == 0


@pytest.fixture(scope="module")
def sample_tx():
    return Workspace.open(SAMPLE).scan("transactions")


def test_on_the_sample_the_startup_is_left_out_and_the_intervals_narrow(sample_tx):
    """The sample's customer base ramps up through 2023: fitted from after it, the backtest's
    intervals are narrower against the errors than fitted on everything (--from the first
    day: 1.4 against 1.7 times the band needed; the final 13-week interval, whose widths come
    from the later errors, hardly changes), the coverage is reported beside the nominal
    level, and a note says how to override."""
    auto = demand_forecast(sample_tx, measure="revenue", freq="week", horizon=13)
    everything = demand_forecast(sample_tx, measure="revenue", freq="week", horizon=13, since=dt.date(2023, 1, 1))
    note = next(n for n in auto.notes if n.startswith("Fitted from "))
    assert "start-up" in note and "--from 2023-01-05 fits on everything" in note
    assert not any(n.startswith("Fitted from ") for n in everything.notes)
    width = {name: r.headline["interval_width_ratio"] for name, r in (("auto", auto), ("everything", everything))}
    assert width["auto"] < 0.9 * width["everything"], width
    h = auto.headline
    assert 0 <= h["interval_coverage"] <= 1 and h["interval_nominal"] == 0.95
    assert auto.tables["backtest"]["interval_coverage"][0] == h["interval_coverage"]
    assert auto.tables["coverage"]["points"].sum() == auto.tables["backtest"]["points"][0]
    assert any(n.startswith("The 95% intervals held ") for n in auto.notes)


@pytest.mark.parametrize("measure, by", [("revenue", None), ("orders", None), ("revenue", "category")])
def test_on_the_sample_the_default_weekly_intervals_hold_about_95_percent_and_are_not_too_wide(
        sample_tx, measure, by):
    """The default weekly model's backtest (4 origins 13 weeks apart, each refit on what came
    before): its 95% intervals hold 90-98% of the actuals and are less than TOO_WIDE times
    the band the errors needed, and the note says "in line". With the AR(1)'s psi-weight
    widths they held 98% of revenue and 96% of orders at 3.5 and 2.6 times (the category
    series 3.7 times): a growing customer base read as persistence."""
    from core.forecast.demand import TOO_WIDE

    result = demand_forecast(sample_tx, measure=measure, freq="week", by=by, horizon=13)
    h = result.headline
    assert 0.90 <= h["interval_coverage"] <= 0.98, h
    assert h["interval_width_ratio"] < TOO_WIDE, h
    note = next(n for n in result.notes if n.startswith("The 95% intervals held "))
    assert "in line with 95%" in note and "too wide" not in note, note
    assert any("own forecasts 1 to h periods ahead missed by" in n for n in result.notes)
    if by is None:  # the interval 13 weeks out: 4.5-5.2 to 1 high to low, the AR(1)'s 11-12 to 1
        last = result.tables["forecast"].tail(1).row(0, named=True)
        assert last["forecast_high"] / last["forecast_low"] < 6.0, last


def test_on_co2_the_default_weekly_intervals_hold_about_95_percent_too():
    """Not tuned to the sample: statsmodels' Mauna Loa CO2 series (a steady rise, which the
    AR(1) on 52-week changes also reads as persistence), the weekly default's procedure at 30
    origins over its last ten years: 95% intervals hold 92-98% of 390 actuals at under 1.5
    times the band the errors needed (the psi-weight widths: 99% at 1.3 times)."""
    from statsmodels.datasets import co2

    from core.forecast.demand import _fit_group, model_spec
    from core.forecast.design import period_starts, regressors

    y = co2.load_pandas().data["co2"].resample("W").mean().interpolate().to_numpy()[-520:]
    periods = period_starts(dt.date(2000, 1, 3), len(y) + 13, "week")
    X, names = regressors(periods, "week", fourier_terms=0, holidays=())
    fitted = _fit_group("co2", y, len(y), periods, X, names, 13, "week", 0.05, 30, 104,
                        model_spec("week", True, "log"))
    test = fitted.test
    assert test.coverage.points == 390
    assert 0.92 <= test.coverage.share <= 0.98, test.coverage
    assert bt.width_ratio(test.actual, test.model, test.low, test.high, 0.95) < 1.5
    assert test.model_scores.mase < test.naive_scores.mase


def test_a_daily_model_keeps_the_whole_history(sample_tx):
    """Daily models take first differences, which a start-up does not inflate: no cut."""
    daily = demand_forecast(sample_tx, measure="orders", freq="day", horizon=7, backtest_origins=0)
    assert not any(n.startswith("Fitted from ") for n in daily.notes)


def test_the_method_note_names_the_error_models_the_series_chose():
    from core.forecast.demand import Fitted, chosen_errors

    def fitted(errors):
        return Fitted("g", None, [], None, [], "log", errors=errors)

    assert chosen_errors([fitted("MA(1)")], None) == "MA(1) (a lower AIC than AR(1) or ARMA(1,1))"
    assert chosen_errors([fitted("AR(1)")] * 2, "category") == \
        "AR(1) (a lower AIC than MA(1) or ARMA(1,1) in every series)"
    assert chosen_errors([fitted("ARMA(1,1)"), fitted("AR(1)"), fitted("ARMA(1,1)")], "category") == \
        "ARMA(1,1) or AR(1) (the lowest AIC per series: 2 ARMA(1,1), 1 AR(1))"
