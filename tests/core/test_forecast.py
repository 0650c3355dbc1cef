"""predict demand's parts against independent references: the model against statsmodels'
own fit of the same specification on a series that ships with it, the backtest metrics on a
hand-computed example, the holiday calendar against dateutil and the `holidays` package."""

from __future__ import annotations

import datetime as dt
import warnings

import numpy as np
import pytest

from core.forecast import backtest as bt
from core.forecast.design import fourier, regressors, usable_columns
from core.forecast.holidays import BUILT_IN, SPRING_FESTIVAL, black_friday, calendar, easter
from core.forecast.model import DemandModel


@pytest.fixture(scope="module")
def co2():
    """statsmodels' Mauna Loa CO2 series (weekly, Saturdays), its gaps interpolated; the
    last ten years."""
    from statsmodels.datasets import co2 as data

    frame = data.load_pandas().data["co2"].interpolate()
    return frame.iloc[-520:]


def test_fit_on_co2_equals_statsmodels_own_fit_of_the_same_specification(co2):
    """A regression with ARIMA(1,1,0) errors on 3 yearly Fourier pairs, estimated by feasible
    GLS: our design and model give the forecast and intervals statsmodels gives with its own
    Fourier terms (DeterministicProcess, a different phase: the same column space)."""
    import pandas as pd
    from statsmodels.tsa.arima.model import ARIMA
    from statsmodels.tsa.deterministic import DeterministicProcess, Fourier

    y = co2.to_numpy()
    periods = [d.date() for d in pd.date_range(co2.index[0], periods=len(y) + 52, freq="7D")]
    X, names = regressors(periods, "week", fourier_terms=3, holidays=())
    ours = DemandModel(order=(1, 1, 0), transform="none").fit(y, X[:len(y)], names)
    mine = ours.forecast(52, X[len(y):], alpha=0.10)

    process = DeterministicProcess(co2.index, additional_terms=[Fourier(365.25 / 7, 3)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = ARIMA(co2, exog=process.in_sample(), order=(1, 1, 0)).fit(method="burg", gls=True)
        pred = ref.get_forecast(52, exog=process.out_of_sample(52))
    ci = np.asarray(pred.conf_int(alpha=0.10))
    np.testing.assert_allclose(mine.mean, np.asarray(pred.predicted_mean), rtol=1e-6)
    np.testing.assert_allclose(mine.low, ci[:, 0], rtol=1e-6)
    np.testing.assert_allclose(mine.high, ci[:, 1], rtol=1e-6)
    # the AR coefficient and the error variance are statsmodels' too
    assert ours.params_[ours.names_.index("ar.L1")] == pytest.approx(ref.params["ar.L1"], rel=1e-6)
    # and the forecast is a forecast: CO2 rises through the next year's seasonal cycle
    assert mine.mean[-1] > y[-52:].mean()


def test_weekly_seasonal_model_equals_statsmodels_on_co2(co2):
    """The weekly spec (AR(1) errors after a 52-week seasonal difference) on log(1 + y).
    Our forecast is the exact conditional mean at the estimates: statsmodels' state-space
    filter gives it when started exactly diffuse; ARIMA's default approximate-diffuse start
    (variance 1e6) leaves a trace of about 1e-9 in the mean and 1e-7 in the bounds."""
    from statsmodels.tsa.arima.model import ARIMA
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    y = co2.to_numpy()
    ours = DemandModel(order=(1, 0, 0), seasonal_order=(0, 1, 0, 52)).fit(y)
    mine = ours.forecast(26)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = ARIMA(np.log1p(y), order=(1, 0, 0), seasonal_order=(0, 1, 0, 52)).fit(method="burg")
        exact = SARIMAX(np.log1p(y), order=(1, 0, 0), seasonal_order=(0, 1, 0, 52),
                        use_exact_diffuse=True).filter(ref.params)
    np.testing.assert_allclose(ours.params_, np.asarray(ref.params), rtol=1e-12)
    for res, rtol in ((exact, 1e-12), (ref, 1e-6)):
        pred = res.get_forecast(26)
        np.testing.assert_allclose(mine.mean, np.expm1(np.asarray(pred.predicted_mean)), rtol=rtol)
        np.testing.assert_allclose(mine.high, np.expm1(np.asarray(pred.conf_int(alpha=0.05))[:, 1]), rtol=rtol)


def test_weekly_model_with_holidays_equals_a_cold_statsmodels_fit(co2):
    """The spec `predict demand --freq week` fits, with holiday regressors: the estimates are
    those of a cold `ARIMA(...).fit(method="burg", gls=True)` and the forecast and interval
    those of its state-space form (exactly diffuse start), on a real series, two years ahead
    (the second year forecast from the first's forecasts)."""
    import pandas as pd
    from statsmodels.tsa.arima.model import ARIMA
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    y = co2.to_numpy()
    periods = [d.date() for d in pd.date_range(co2.index[0], periods=len(y) + 104, freq="7D")]
    X, names = regressors(periods, "week", fourier_terms=0, holidays=calendar("both"))
    keep = usable_columns(X[:len(y)], names, seasonal_lag=52)
    X, names = X[:, keep], [names[j] for j in keep]
    assert len(names) >= 5  # holidays that move between weeks: something to estimate
    ours = DemandModel(order=(1, 0, 0), seasonal_order=(0, 1, 0, 52), transform="none").fit(y, X[:len(y)], names)
    mine = ours.forecast(104, X[len(y):], alpha=0.10)
    exog = pd.DataFrame(X, columns=names)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = ARIMA(y, exog=exog.iloc[:len(y)], order=(1, 0, 0), seasonal_order=(0, 1, 0, 52)).fit(
            method="burg", gls=True)
        exact = SARIMAX(y, exog=exog.iloc[:len(y)], order=(1, 0, 0), seasonal_order=(0, 1, 0, 52),
                        use_exact_diffuse=True).filter(ref.params)
    np.testing.assert_allclose(ours.params_, np.asarray(ref.params), rtol=1e-10)
    assert ours.names_ == list(ref.model.param_names)
    pred = exact.get_forecast(104, exog=exog.iloc[len(y):])
    ci = np.asarray(pred.conf_int(alpha=0.10))
    np.testing.assert_allclose(mine.mean, np.asarray(pred.predicted_mean), rtol=1e-10)
    np.testing.assert_allclose(mine.low, ci[:, 0], rtol=1e-10)
    np.testing.assert_allclose(mine.high, ci[:, 1], rtol=1e-10)


@pytest.mark.parametrize("order", [(0, 0, 1), (1, 0, 1)])
def test_weekly_ma_and_arma_errors_equal_statsmodels_on_co2(co2, order):
    """The weekly spec's other error candidates, MA(1) and ARMA(1,1), with holiday regressors:
    the estimates are statsmodels' `ARIMA(...).fit(method="innovations_mle", gls=True)`, the
    forecast and interval (which need the last innovation) its state-space form's with an
    exactly diffuse start, two years ahead, and the AIC the criterion compares is ARIMA's
    (its approximate-diffuse start leaves a trace of about 1e-5)."""
    import pandas as pd
    from statsmodels.tsa.arima.model import ARIMA
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    y = co2.to_numpy()
    periods = [d.date() for d in pd.date_range(co2.index[0], periods=len(y) + 104, freq="7D")]
    X, names = regressors(periods, "week", fourier_terms=0, holidays=calendar("both"))
    keep = usable_columns(X[:len(y)], names, seasonal_lag=52)
    X, names = X[:, keep], [names[j] for j in keep]
    ours = DemandModel(order=order, seasonal_order=(0, 1, 0, 52), transform="none").fit(y, X[:len(y)], names)
    mine = ours.forecast(104, X[len(y):], alpha=0.10)
    exog = pd.DataFrame(X, columns=names)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = ARIMA(y, exog=exog.iloc[:len(y)], order=order, seasonal_order=(0, 1, 0, 52)).fit(
            method="innovations_mle", gls=True)
        exact = SARIMAX(y, exog=exog.iloc[:len(y)], order=order, seasonal_order=(0, 1, 0, 52),
                        use_exact_diffuse=True).filter(ref.params)
    np.testing.assert_allclose(ours.params_, np.asarray(ref.params), rtol=1e-8)
    assert ours.names_ == list(ref.model.param_names)
    assert ours.aic_ == pytest.approx(ref.aic, rel=1e-4)
    pred = exact.get_forecast(104, exog=exog.iloc[len(y):])
    ci = np.asarray(pred.conf_int(alpha=0.10))
    np.testing.assert_allclose(mine.mean, np.asarray(pred.predicted_mean), rtol=1e-10)
    np.testing.assert_allclose(mine.low, ci[:, 0], rtol=1e-10)
    np.testing.assert_allclose(mine.high, ci[:, 1], rtol=1e-10)


def test_an_ma_forecast_from_a_short_history_carries_its_last_innovations_uncertainty():
    """With 30 periods and theta near -1 the last innovation is not pinned down: the lead-1
    variance exceeds sigma2 by 2%, and the mean and interval still equal statsmodels' exact
    filter (sigma2 alone would give too narrow an interval)."""
    from statsmodels.tsa.arima.model import ARIMA
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    rng = np.random.default_rng(1)
    e = rng.normal(size=31)
    y = 10.0 + np.cumsum(e[1:] - 0.9 * e[:-1])
    ours = DemandModel(order=(0, 1, 1), transform="none").fit(y)
    mine = ours.forecast(5, alpha=0.05)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = ARIMA(y, order=(0, 1, 1)).fit(method="innovations_mle")
        exact = SARIMAX(y, order=(0, 1, 1), use_exact_diffuse=True).filter(ref.params)
    np.testing.assert_allclose(ours.params_, np.asarray(ref.params), rtol=1e-8)
    pred = exact.get_forecast(5)
    assert pred.var_pred_mean[0] > 1.01 * ours.sigma2_  # the case this test is about
    ci = np.asarray(pred.conf_int(alpha=0.05))
    np.testing.assert_allclose(mine.mean, np.asarray(pred.predicted_mean), rtol=1e-9)
    np.testing.assert_allclose(mine.low, ci[:, 0], rtol=1e-9)
    np.testing.assert_allclose(mine.high, ci[:, 1], rtol=1e-9)


def test_the_weekly_error_model_is_the_candidate_statsmodels_gives_the_lowest_aic(co2):
    """fit_best keeps the candidate with the lowest AIC: the same one statsmodels' ARIMA fits
    of each candidate rank lowest, on CO2 and on a simulated series with AR(1) errors."""
    from statsmodels.tsa.arima.model import ARIMA

    from core.forecast.demand import WEEKLY_ERRORS, fit_best, model_spec

    rng = np.random.default_rng(3)
    e = rng.normal(scale=0.05, size=260)
    n = np.zeros(260)
    for t in range(260):  # simulation, not data rows
        n[t] = (n[t - 52] if t >= 52 else 0.0) + (0.5 * (n[t - 1] - n[t - 53]) if t >= 53 else 0.0) + e[t]
    pulse = np.zeros((260, 1))  # a holiday-like regressor
    pulse[np.arange(10, 260, 37), 0] = 1.0
    series = {"co2": co2.to_numpy()[-260:], "simulated": 5.0 + n}
    chosen = {}
    for name, y in series.items():
        model = fit_best(model_spec("week", True, "none", "auto"), y, pulse, ["pulse"], intervals=False)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            aic = {order: ARIMA(y, exog=pulse, order=order, seasonal_order=(0, 1, 0, 52)).fit(
                method="burg" if order[2] == 0 else "innovations_mle", gls=True).aic for order in WEEKLY_ERRORS}
        assert model.order == min(aic, key=aic.get), (name, aic)
        chosen[name] = model.order
    assert chosen["simulated"] == (1, 0, 0)  # AR(1) errors: AR(1) it is


def test_backtest_metrics_on_a_hand_computed_example():
    actual = np.array([10.0, 0.0, 5.0, 20.0])
    forecast = np.array([12.0, 1.0, 5.0, 10.0])
    # MAPE leaves the zero actual out: (2/10 + 0/5 + 10/20) / 3
    assert bt.mape(actual, forecast) == pytest.approx(0.7 / 3)
    # sMAPE: 4/22, 2/1, 0, 20/30
    assert bt.smape(actual, forecast) == pytest.approx((4 / 22 + 2.0 + 0.0 + 20 / 30) / 4)
    # MASE: seasonal differences (m = 2) of 1, 3, 2, 6 are 1 and 3, scale 2; mean |e| = 13/4
    history = np.array([1.0, 3.0, 2.0, 6.0])
    scale = bt.naive_scale(history, 2)
    assert scale == 2.0
    assert bt.mase(actual, forecast, np.full(4, scale)) == pytest.approx(13 / 8)
    assert bt.seasonal_naive(history, 3, 2).tolist() == [2.0, 6.0, 2.0]
    assert bt.smape(np.zeros(2), np.zeros(2)) == 0.0  # y = f = 0 scores 0, not NaN
    assert bt.mape(np.zeros(2), np.ones(2)) is None  # nothing to divide by: no figure


def test_rolling_origins_and_the_backtest_score_both_forecasts_on_the_same_points():
    # a horizon apart where the history allows (the sample's weekly default: the last year)
    assert bt.origins(156, 13, 4, 104) == [104, 117, 130, 143]
    assert bt.origins(100, 12, 4, 80) == [80, 85, 90, 95]  # else as far apart as it allows
    assert bt.origins(100, 12, 4, 95) == [97]  # origins leave enough history to fit on
    y = np.arange(1.0, 21.0)
    perfect = bt.backtest(y, [14, 17], 5, 4, lambda origin, steps: y[origin:origin + steps])
    assert perfect.lead.tolist() == [1, 2, 3, 4, 5, 1, 2, 3]  # cut at the end of the data
    assert perfect.model_scores.mape == 0.0 and perfect.model_scores.mase == 0.0
    # seasonal naive repeats the last 4: at origin 14 it forecasts 11, 12, 13, 14, 11 for 15..19
    assert perfect.naive[:5].tolist() == [11.0, 12.0, 13.0, 14.0, 11.0]
    assert perfect.naive_scores.mase == pytest.approx(np.mean([4, 4, 4, 4, 8, 4, 4, 4]) / 4)


def test_easter_black_friday_and_spring_festival_match_independent_calendars():
    from dateutil.easter import easter as dateutil_easter
    import holidays

    assert all(easter(y) == dateutil_easter(y) for y in range(1990, 2041))
    us = holidays.US(years=range(2015, 2036))
    thanksgiving = {d.year: d for d, name in us.items() if name == "Thanksgiving Day"}
    assert all(black_friday(y) == thanksgiving[y] + dt.timedelta(days=1) for y in range(2015, 2036))
    china = holidays.China(years=range(2015, 2036))
    first_days = {}
    for d, name in sorted(china.items()):
        if name.startswith("Chinese New Year (Spring Festival)") and "observed" not in name:
            first_days.setdefault(d.year, d)
    assert {y: dt.date(y, *md) for y, md in SPRING_FESTIVAL.items()} == first_days


def test_calendar_choices_and_windows():
    china = {h.name for h in calendar("china")}
    assert {"spring_festival", "618", "singles_day", "double_12"} <= china
    assert "christmas" not in china and calendar("none") == ()
    spring = next(h for h in BUILT_IN if h.name == "spring_festival")
    assert spring.windows(dt.date(2025, 1, 1), dt.date(2025, 12, 31))[0] == dt.date(2025, 1, 28)  # the eve
    assert len(spring.windows(dt.date(2025, 1, 1), dt.date(2025, 12, 31))) == 7


def test_weekly_holiday_columns_spread_a_window_and_identical_columns_go():
    periods = [dt.date(2024, 12, 19) + dt.timedelta(days=7 * i) for i in range(3)]
    X, names = regressors(periods, "week", fourier_terms=0, holidays=calendar("western"))
    christmas = X[:, names.index("holiday_christmas")]
    assert christmas.tolist() == [1.0, 0.0, 0.0]  # 24 and 25 December in the week of 19-25
    new_year = X[:, names.index("holiday_new_year")]
    assert new_year.tolist() == [0.0, 1.0, 0.0]
    kept = [names[j] for j in usable_columns(X, names)]
    assert "holiday_christmas" in kept and "holiday_easter" not in kept  # no Easter in these weeks


def test_fourier_terms_are_a_yearly_cycle():
    days = np.array([0.0, 365.25, 365.25 / 2])
    X, names = fourier(days, 1)
    assert names == ["year_sin1", "year_cos1"]
    np.testing.assert_allclose(X[0], X[1], atol=1e-12)
    np.testing.assert_allclose(X[2, 1], -X[0, 1], atol=1e-12)


@pytest.mark.parametrize("order", [(1, 0, 0), (0, 0, 1), (1, 0, 1)])
def test_in_sample_h_step_errors_are_statsmodels_dynamic_predictions(co2, order):
    """The empirical interval widths rest on the fitted model's h-step errors over its own
    history: from each origin, the forecast made with only the periods before it. They equal
    statsmodels' dynamic in-sample predictions (`get_prediction(dynamic=True)`) of the same
    model at the same estimates, with holiday regressors, MA terms included."""
    import pandas as pd
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    y = co2.to_numpy()[-260:]  # five years: the state-space filter is the slow part
    periods = [d.date() for d in pd.date_range(co2.index[-260], periods=len(y), freq="7D")]
    X, names = regressors(periods, "week", fourier_terms=0, holidays=calendar("both"))
    keep = usable_columns(X, names, seasonal_lag=52)
    X, names = X[:, keep], [names[j] for j in keep]
    ours = DemandModel(order=order, seasonal_order=(0, 1, 0, 52), transform="none").fit(y, X, names)
    steps = 26
    errors = ours.insample_errors(steps)
    first = len(y) - len(errors)  # the first origin's first forecast period
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = SARIMAX(y, exog=X, order=order, seasonal_order=(0, 1, 0, 52),
                      use_exact_diffuse=True).filter(ours.params_)
        for start in (120, 171, len(y) - steps):
            pred = np.asarray(ref.get_prediction(start=start, end=start + steps - 1, dynamic=True).predicted_mean)
            np.testing.assert_allclose(errors[start - first], y[start:start + steps] - pred, atol=1e-8)
    # past the history's end there is nothing to score
    assert np.isnan(errors[-1, 1:]).all() and np.isfinite(errors[-1, 0])


def test_empirical_widths_are_the_root_mean_squared_h_step_errors(co2):
    """widths="empirical": the same point forecast; the half-width at lead h is 1.96 times the
    root mean square of the in-sample h-step errors, and past the last lead with 13 of them
    it grows from there as the model's own variance does."""
    from scipy.stats import norm

    y = co2.to_numpy()[-130:]  # 130 weeks: 77 origins at lead 1, 13 at lead 65
    model = DemandModel(order=(1, 0, 0), seasonal_order=(0, 1, 0, 52), transform="none")
    ours = model.fit(y)
    steps = 70
    psi = DemandModel(order=(1, 0, 0), seasonal_order=(0, 1, 0, 52), transform="none").fit(y).forecast(steps)
    emp = DemandModel(order=(1, 0, 0), seasonal_order=(0, 1, 0, 52), transform="none",
                      widths="empirical").fit(y).forecast(steps)
    np.testing.assert_allclose(emp.mean, psi.mean, rtol=1e-12)
    errors = ours.insample_errors(steps)
    z = norm.ppf(0.975)
    last = 64  # lead 65 is the last with 13 errors
    assert np.sum(np.isfinite(errors[:, last])) == 13 and np.sum(np.isfinite(errors[:, last + 1])) == 12
    rms = np.sqrt([np.mean(errors[np.isfinite(errors[:, h]), h] ** 2) for h in range(last + 1)])
    np.testing.assert_allclose((emp.high - emp.mean)[:last + 1], z * rms, rtol=1e-10)
    model_half = psi.high - psi.mean
    np.testing.assert_allclose((emp.high - emp.mean)[last:], z * rms[-1] * model_half[last:] / model_half[last],
                               rtol=1e-10)
    with pytest.raises(ValueError, match="widths"):
        DemandModel(widths="wide")
