"""`loyalist predict demand`: revenue, orders or units by day or week, overall or per group,
forecast over a horizon with prediction intervals, and a rolling-origin backtest against
seasonal naive that states the forecast error.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from core.errors import AnalysisError, InputError
from core.forecast import backtest as bt
from core.forecast.design import period_starts, regressors, usable_columns
from core.forecast.growth import growth_split, weekly_parts
from core.forecast.holidays import Holiday, calendar
from core.forecast.model import DemandModel
from core.forecast.series import DemandSeries, demand_series
from core.forecast.startup import SHARE, startup_end
from core.result import Chart, Result

SEASON = {"day": 7, "week": 52}  # seasonal-naive period and MASE lag
FOURIER_PAIRS = 3  # yearly sin/cos pairs of a daily series
YEAR = {"day": 730, "week": 104}  # two years: the least history for yearly seasonality
SHORT = {"day": 56, "week": 26}  # the least history without it
DEFAULT_HORIZON = {"day": 28, "week": 13}
UNIT = {"day": "days", "week": "weeks"}


@dataclass(frozen=True)
class Fitted:
    group: str
    forecast: pl.DataFrame
    effects: list[tuple[str, float, float, float]]
    test: bt.Backtest | None
    dropped_holidays: list[str]
    transform: str  # "none" where a log series would have had zero periods
    startup: int = 0  # leading periods left out of the fit as a start-up
    fit_from: dt.date | None = None  # the first period fitted, when a start-up was left out
    startup_capped: bool = False  # the start-up ran longer, but the fit needs `need` periods
    errors: str = "AR(1)"  # the error model the fit chose (lowest AIC among the spec's candidates)


def demand_forecast(tx: pl.LazyFrame, *, measure: str = "revenue", freq: str = "week", by: str | None = None,
                    horizon: int | None = None, confidence: float = 0.95, as_of: dt.date | None = None,
                    since: dt.date | None = None, holidays: str = "both",
                    custom_holidays: Sequence[Mapping[str, Any]] = (),
                    yearly: bool = True, trend: bool = False, transform: str = "log", backtest_origins: int = 4,
                    top: int = 200, errors: str = "ar",
                    customers: pl.LazyFrame | None = None, config_file: str = "loyalist.toml") -> Result:
    from core.features import default_as_of

    if errors not in ("ar", "auto"):
        raise InputError(f"unknown error model {errors!r}", fix="use --errors ar or --errors auto")
    if freq not in SEASON:
        raise InputError(f"unknown frequency {freq!r}", fix="use --freq day or --freq week")
    horizon = horizon or DEFAULT_HORIZON[freq]
    if horizon < 1:
        raise InputError(f"--horizon must be at least 1, got {horizon}", fix="pass e.g. --horizon 13")
    as_of = as_of or default_as_of(tx)
    cal = calendar(holidays, custom_holidays, where=config_file)
    series = demand_series(tx, measure=measure, freq=freq, as_of=as_of, since=since, by=by,
                           customers=customers)
    need = YEAR[freq] if yearly else SHORT[freq]

    lengths = series.frame.group_by("group").agg(pl.len().alias("n"), pl.col("value").sum().alias("total"))
    kept = lengths.filter(pl.col("n") >= need).sort("total", descending=True)
    too_short = lengths.height - kept.height
    beyond_top = max(kept.height - top, 0) if top else 0
    kept = kept.head(top) if top else kept
    if kept.is_empty():
        longest = int(lengths["n"].max())
        what = "the series" if by is None else f"every {by} series"
        raise AnalysisError(
            f"{what} is too short: yearly seasonality needs {need} {UNIT[freq]} of history (two years), "
            f"the longest has {longest}; pass --no-yearly to forecast without yearly seasonality" if yearly else
            f"{what} is too short: the model needs {need} {UNIT[freq]} of history, the longest has {longest}")

    first = series.frame["period"].min()
    n_all = len(pl.date_range(first, as_of if freq == "day" else as_of - dt.timedelta(days=6),
                              "1d" if freq == "day" else "7d", eager=True))
    periods = period_starts(first, n_all + horizon, freq)
    fourier = FOURIER_PAIRS if yearly and freq == "day" else 0
    X_all, names = regressors(periods, freq, fourier_terms=fourier, holidays=cal, trend=trend)
    spec = model_spec(freq, yearly, transform, errors)
    alpha = 1.0 - confidence
    by_group = series.frame.partition_by("group", as_dict=True)
    fitted, failed = [], []
    for g in kept["group"].to_list():  # one model per group: a few hundred at most
        try:
            fitted.append(_fit_group(str(g), by_group[(g,)]["value"].to_numpy(), n_all, periods, X_all, names,
                                     horizon, freq, alpha, backtest_origins, need, spec,
                                     skip_startup=since is None))
        except AnalysisError:
            if by is None:
                raise
            failed.append(str(g))
    if not fitted:
        raise AnalysisError(f"the demand model could not be fitted to any {by} series")
    # With a trend asked for, say where the overall growth comes from (core.forecast.growth).
    growth = (growth_split(weekly_parts(tx, as_of, since), cal, confidence) if trend and by is None
              else None)
    return _result(fitted, series, measure=measure, freq=freq, by=by, horizon=horizon, confidence=confidence,
                   growth=growth,
                   holidays=cal, yearly=yearly, trend=trend, transform=transform, too_short=too_short,
                   beyond_top=beyond_top,
                   failed=failed,
                   need=need, backtest_origins=backtest_origins, errors=errors, spec=spec)


def model_spec(freq: str, yearly: bool, transform: str, errors: str = "ar") -> dict[str, Any]:
    """Weekly with yearly seasonality: AR(1) errors after a 52-week seasonal difference, so the
    forecast starts from the same weeks last year (what seasonal naive does) and corrects for
    holidays that move and for the current deviation; `errors="auto"` also fits MA(1) and
    ARMA(1,1) errors and keeps the lowest AIC. Otherwise ARIMA(1,1,0) errors (a level
    that wanders), with Fourier terms and day-of-week effects for daily series.

    The weekly model's interval widths are empirical (core.forecast.model): its 52-week
    changes carry the growth of the customer base, which the AR(1) reads as persistence, so
    its psi weights made the intervals 2.6-3.5 times wider than the backtest's errors needed
    on the sample (holding 96-100% at 95%); its own h-week errors over the training history
    bring them to 1.2-1.8 times, holding 92-97% (the README's demand section has the figures)."""
    if freq == "week" and yearly:
        return {"order": (1, 0, 0), "seasonal_order": (0, 1, 0, 52), "transform": transform, "widths": "empirical",
                **({"orders": WEEKLY_ERRORS} if errors == "auto" else {})}
    return {"order": (1, 1, 0), "transform": transform}


# The weekly seasonal model's error candidates, AR(1) first (kept on a tie). After a 52-week
# difference the year-over-year change often drifts slowly: AR(1) near 1 then makes the
# variance grow almost like a random walk, where an MA(1) error fits that noise better.
WEEKLY_ERRORS = ((1, 0, 0), (0, 0, 1), (1, 0, 1))
ERRORS = {(1, 0, 0): "AR(1)", (0, 0, 1): "MA(1)", (1, 0, 1): "ARMA(1,1)", (1, 1, 0): "ARIMA(1,1,0)"}


def fit_best(spec: dict[str, Any], y: np.ndarray, X: np.ndarray, names: list[str], intervals: bool) -> DemandModel:
    """The spec's model; with candidate error orders, each one fitted to the same sample and the
    one with the lowest AIC kept (they have as many parameters, so the higher likelihood)."""
    base = {k: v for k, v in spec.items() if k != "orders"}
    best, failure = None, None
    for order in spec.get("orders", (spec["order"],)):
        try:
            model = DemandModel(**{**base, "order": order}).fit(y, X, names, intervals=intervals)
        except AnalysisError as exc:
            failure = exc
            continue
        if best is None or model.aic_ < best.aic_:
            best = model
    if best is None:
        raise failure
    return best


def _describe(freq: str, yearly: bool, trend: bool, transform: str, holidays: int, chosen: str) -> str:
    errors = (f"{chosen} errors after a 52-week seasonal difference" if freq == "week" and yearly
              else "ARIMA(1,1,0) errors")
    parts = ["a linear trend (drift)" if trend else "no trend",
             f"{FOURIER_PAIRS} yearly Fourier pairs" if freq == "day" and yearly else "",
             "day-of-week effects" if freq == "day" else "", f"{holidays} holiday windows"]
    scale = "log(1 + y)" if transform == "log" else "y"
    return f"a regression with {errors} on {scale}, with {', '.join(p for p in parts if p)}"


def chosen_errors(fitted: list[Fitted], by: str | None) -> str:
    """The error model(s) the fits chose, for the method note."""
    counts = {e: sum(f.errors == e for f in fitted) for e in dict.fromkeys(f.errors for f in fitted)}
    if len(counts) == 1:
        what = next(iter(counts))
        other = " or ".join(ERRORS[o] for o in WEEKLY_ERRORS if ERRORS[o] != what)
        return f"{what} (a lower AIC than {other}{'' if by is None else ' in every series'})"
    return (f"{' or '.join(counts)} (the lowest AIC per series: "
            f"{', '.join(f'{n} {e}' for e, n in counts.items())})")


def _fit_group(group: str, y: np.ndarray, n_all: int, periods: list[dt.date], X_all: np.ndarray, names: list[str],
               horizon: int, freq: str, alpha: float, origins: int, need: int, spec: dict[str, Any],
               skip_startup: bool = True) -> Fitted:
    offset = n_all - len(y)  # a group's series starts at its first sale
    X = X_all[offset:]
    n = len(y)

    # Only a seasonal difference spans a start-up: a first difference sees its growth spread
    # thin (on the sample's daily series leaving the start-up out made the intervals 3x wider).
    seasonal = spec.get("seasonal_order", (0, 0, 0, 0))[1] > 0

    def start(train: int) -> tuple[int, int]:
        """(first period fitted, the start-up's length) for a fit on y[:train]: after a start-up,
        but leaving the `need` periods the model needs (core.forecast.startup)."""
        found = startup_end(y[:train], freq) if skip_startup and seasonal else 0
        return min(found, max(train - need, 0)), found

    cut, found = start(n)
    if spec["transform"] == "log" and np.any(y[cut:] == 0):
        # log(1 + 0) = 0 sits far below log(1 + y) of a normal period: one empty day would
        # drag the effects and the level down, so such a series is modelled as it is.
        spec = {**spec, "transform": "none"}

    def fit(first: int, train: int, intervals: bool) -> tuple[DemandModel, list[int]]:
        keep = usable_columns(X[first:train], names, seasonal_lag=spec.get("seasonal_order", (0, 0, 0, 0))[3])
        model = fit_best(spec, y[first:train], X[first:train, keep], [names[j] for j in keep], intervals)
        return model, keep

    model, keep = fit(cut, n, True)
    # Backtest refits choose their error model again (with --errors auto), on what was known at
    # their origin: a choice made on the whole history would have seen the weeks it is scored on.
    pred = model.forecast(horizon, X[n:n + horizon, keep], alpha)
    # Demand is never negative: on the raw scale a forecast or bound below zero is cut at zero.
    forecast = pl.DataFrame({"group": group, "period": periods[n_all:n_all + horizon],
                             "forecast": np.maximum(pred.mean, 0.0), "forecast_low": np.maximum(pred.low, 0.0),
                             "forecast_high": np.maximum(pred.high, 0.0)})
    effects = model.effects([names[j] for j in keep if not names[j].startswith("year_")], alpha)
    dropped = [names[j].removeprefix("holiday_") for j in range(len(names))
               if j not in keep and names[j].startswith("holiday_") and np.any(X[n:n + horizon, j])]

    def refit(origin: int, steps: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        # the same procedure as the forecast, start-up rule included, on what was known then
        m, cols = fit(start(origin)[0], origin, False)
        f = m.forecast(steps, X[origin:origin + steps, cols], alpha)
        return np.maximum(f.mean, 0.0), np.maximum(f.low, 0.0), np.maximum(f.high, 0.0)

    at = bt.origins(n, horizon, origins, need)
    test = bt.backtest(y, at, horizon, SEASON[freq], refit) if at else None
    return Fitted(group, forecast, effects, test, dropped, spec["transform"], startup=cut,
                  fit_from=periods[offset + cut] if cut else None, startup_capped=found > cut,
                  errors=ERRORS.get(model.order, str(model.order)))


def _result(fitted: list[Fitted], series: DemandSeries, *, measure: str, freq: str, by: str | None, horizon: int,
            confidence: float, holidays: tuple[Holiday, ...], yearly: bool, trend: bool, transform: str,
            too_short: int,
            beyond_top: int, failed: list[str], need: int, backtest_origins: int, errors: str = "ar",
            growth: pl.DataFrame | None = None, spec: Mapping[str, Any] | None = None) -> Result:
    spec = spec or {}
    forecast = pl.concat([f.forecast for f in fitted]).with_columns(
        pl.col("forecast", "forecast_low", "forecast_high").round(2))
    history = series.frame.filter(pl.col("group").is_in([f.group for f in fitted])).rename({"value": "actual"})
    chart_table = history_and_forecast(history, forecast)
    effects = pl.DataFrame([(f.group, *e, "multiplier" if f.transform == "log" else "added")
                            for f in fitted for e in f.effects],
                           schema={"group": pl.String, "term": pl.String, "effect": pl.Float64,
                                   "effect_low": pl.Float64, "effect_high": pl.Float64, "scale": pl.String},
                           orient="row")
    effects = effects.with_columns(pl.col("term").str.replace(r"^(holiday|weekday)_", ""),
                                   pl.col("effect", "effect_low", "effect_high").round(4))
    tested = [f for f in fitted if f.test is not None and len(f.test.actual)]
    rows = []
    for f in tested:
        m, s = f.test.model_scores, f.test.naive_scores
        held = f.test.coverage
        rows.append({"group": f.group, "origins": int(len(np.unique(f.test.origin))), "points": m.points,
                     "model_mape": m.mape, "naive_mape": s.mape, "model_smape": m.smape, "naive_smape": s.smape,
                     "model_mase": m.mase, "naive_mase": s.mase, "beats_naive": _beats(m, s),
                     "interval_coverage": held.share if held else None})
    backtest = pl.DataFrame(rows, schema={"group": pl.String, "origins": pl.Int64, "points": pl.Int64,
                                          "model_mape": pl.Float64, "naive_mape": pl.Float64,
                                          "model_smape": pl.Float64, "naive_smape": pl.Float64,
                                          "model_mase": pl.Float64, "naive_mase": pl.Float64,
                                          "beats_naive": pl.Boolean, "interval_coverage": pl.Float64})
    pooled = _pooled([f.test for f in tested])
    coverage = coverage_by_lead([f.test for f in tested])
    if by is None:
        forecast, effects, backtest = (t.drop("group") for t in (forecast, effects, backtest))
        chart_table = chart_table.drop("group")

    unit = UNIT[freq]
    total = float(forecast["forecast"].sum())
    headline: dict[str, Any] = {"forecast_total": round(total, 2), "horizon": horizon}
    method = _describe(freq, yearly, trend, fitted[0].transform if by is None else transform, len(holidays),
                       chosen_errors(fitted, by) if errors == "auto" else "AR(1)")
    notes = [f"{measure.capitalize()} per {freq} forecast {horizon} {unit} ahead from {series.as_of} with "
             f"{confidence:.0%} prediction intervals: "
             f"{method} "
             "(statsmodels ARIMA, feasible GLS). Point forecasts are medians; "
             f"{WIDTHS[spec.get('widths', 'model')]}"]
    if pooled is not None:
        m, s = pooled
        headline |= {"forecast_error": m.mape, "naive_error": s.mape, "model_mase": m.mase,
                     "naive_mase": s.mase, "beats_naive": _beats(m, s)}
        err = f"±{m.mape:.0%}" if m.mape is not None else "not measurable (every actual is zero)"
        naive = f"±{s.mape:.0%}" if s.mape is not None else "n/a"
        verdict = ("beats" if _beats(m, s) else "does not beat") + " seasonal naive"
        notes.insert(0, f"Forecast error {err} (backtest MAPE over {m.points} forecasts from up to "
                        f"{backtest_origins} rolling origins); seasonal naive {naive}: the model {verdict} "
                        f"(MASE {_fmt(m.mase)} against {_fmt(s.mase)}).")
        held = _pooled_coverage([f.test for f in tested])
        if held is not None:
            headline |= {"interval_coverage": held.share, "interval_nominal": confidence}
            ratio = _pooled_width_ratio([f.test for f in tested], confidence)
            if ratio is not None:
                headline["interval_width_ratio"] = round(ratio, 2)
            notes.insert(1, coverage_note(held, confidence, ratio))
        if m.zero_actuals:
            notes.append(f"MAPE leaves out {m.zero_actuals} backtest periods whose actual was zero "
                         "(sMAPE and MASE include them).")
    else:
        headline |= {"forecast_error": None, "beats_naive": None}
        notes.insert(0, f"No backtest: the history leaves no origin with {need} {unit} to fit on before it; "
                        "the forecast error is unknown.")
    trend_rows = effects.filter(pl.col("term") == "trend") if trend and by is None else effects.clear()
    if trend_rows.height:
        t = trend_rows.row(0, named=True)
        headline["trend_per_year"] = t["effect"]
        size = (f"x{t['effect']:.3f} per year ({t['effect_low']:.3f} to {t['effect_high']:.3f})"
                if t["scale"] == "multiplier" else
                f"{t['effect']:+,.2f} {measure} per {freq} per year "
                f"({t['effect_low']:+,.2f} to {t['effect_high']:+,.2f})")
        notes.append(f"Trend: {size}, forecast forward. It is all growth, whatever drives it: a growing customer "
                     "base shows here too.")
    if growth is not None and growth.height:
        parts = "; ".join(f"{r['part']} {r['growth_per_year']:+.1%} a year ({r['growth_low']:+.1%} to "
                          f"{r['growth_high']:+.1%})" for r in growth.iter_rows(named=True))
        notes.append(f"Where the growth comes from (regular orders: no campaign or promotion tag; a straight line "
                     f"per part, as a share of its level in the first week, {confidence:.0%} intervals): {parts}. "
                     "Shopping days (a customer buying on a day) grow with the customer base; orders per shopping "
                     "day and revenue per order are what customers do once there.")
    notes += startup_notes(fitted, by, freq, series.frame["period"].min())
    if by is not None:
        headline |= {"groups": len(fitted), "groups_skipped": too_short + beyond_top + len(failed)}
        if failed:
            notes.append(f"{len(failed)} {by} series could not be fitted and were skipped: "
                         f"{', '.join(failed[:5])}{' ...' if len(failed) > 5 else ''}.")
        if too_short:
            notes.append(f"{too_short} {by} series with under {need} {unit} of history were skipped.")
        if beyond_top:
            notes.append(f"Only the {len(fitted)} largest {by} series were forecast; {beyond_top} smaller "
                         "ones were not (raise --top).")
    raw = sum(f.transform != transform for f in fitted)
    if raw:
        what = "The series has" if by is None else f"{raw} {by} series have"
        notes.append(f"{what} {freq}s without sales, so {'it was' if by is None else 'they were'} modelled on the "
                     "raw scale, not log(1 + y) (a zero would be an outlier there): effects add, in the "
                     "measure's units.")
    if series.returns_left_out:
        notes.append(f"{series.returns_left_out} return lines (negative amount or quantity) were left out: the "
                     "forecast is of gross demand.")
    if series.no_quantity:
        notes.append(f"{series.no_quantity} sale lines without a quantity count as 0 units; fill in their quantity "
                     "in the transactions, or forecast revenue or orders.")
    if series.zero_periods:
        notes.append(f"{series.zero_periods} {freq}s with no sales count as zero.")
    if freq == "week":
        notes.append(f"Weeks end on {series.as_of} (the as-of day) and are labelled by their first day; a first, "
                     "partial week is left out.")
    dropped = sorted({h for f in fitted for h in f.dropped_holidays})
    if dropped:
        why = ("not seen in the history, or in the same week every year and so part of the yearly seasonality"
               if freq == "week" and yearly else "not seen in the history")
        notes.append(f"No separate effect for {', '.join(dropped)}: {why}.")
    kind = "money" if measure == "revenue" else "number"
    return Result(
        name="predict.demand",
        title=f"Demand forecast: {measure} per {freq}" + (f" by {by}" if by else ""),
        tables={"forecast": forecast, "backtest": backtest, "coverage": coverage, "effects": effects,
                "series": chart_table, **({"growth": growth} if growth is not None else {})},
        headline=headline,
        charts=demand_charts(measure, freq, by, confidence),
        params={"measure": measure, "freq": freq, "by": by, "horizon": horizon, "confidence": confidence,
                "as_of": series.as_of, "since": series.since, "holidays": [h.name for h in holidays], "yearly": yearly,
                "trend": trend,
                "transform": transform, "errors": errors, "backtest_origins": backtest_origins},
        notes=tuple(notes),
        kinds={"forecast/forecast*": kind, "series/actual": kind, "series/forecast*": kind, "forecast_total": kind,
               "backtest/*mape": "percent", "forecast_error": "percent", "naive_error": "percent",
               "backtest/interval_coverage": "percent", "coverage/coverage*": "percent",
               "interval_coverage": "percent", "interval_nominal": "percent", "interval_width_ratio": "number",
               "effects/effect*": "number", "growth/growth*": "percent", "growth/level_at_start": "number",
               "growth/change_per_year": "number"},
    )


def _pooled(tests: list[bt.Backtest]) -> tuple[bt.Scores, bt.Scores] | None:
    if not tests:
        return None
    cat = {k: np.concatenate([getattr(t, k) for t in tests]) for k in ("actual", "model", "naive", "scale")}
    return (bt.score(cat["actual"], cat["model"], cat["scale"]), bt.score(cat["actual"], cat["naive"], cat["scale"]))


def _pooled_coverage(tests: list[bt.Backtest]) -> bt.Coverage | None:
    if not tests:
        return None
    return bt.coverage(*(np.concatenate([getattr(t, k) for t in tests]) for k in ("actual", "low", "high")))


def _pooled_width_ratio(tests: list[bt.Backtest], level: float) -> float | None:
    cat = [np.concatenate([getattr(t, k) for t in tests]) for k in ("actual", "model", "low", "high")]
    return bt.width_ratio(*cat, level)


def coverage_by_lead(tests: list[bt.Backtest]) -> pl.DataFrame:
    """Backtest coverage of the prediction intervals by lead (1 = the period after the origin),
    pooled over origins and groups, with its Clopper-Pearson 95% interval."""
    rows = []
    if tests:
        cat = {k: np.concatenate([getattr(t, k) for t in tests]) for k in ("lead", "actual", "low", "high")}
        for lead in np.unique(cat["lead"]):
            at = cat["lead"] == lead
            held = bt.coverage(cat["actual"][at], cat["low"][at], cat["high"][at])
            if held is not None:
                rows.append((int(lead), held.points, held.covered, held.share, held.low, held.high))
    return pl.DataFrame(rows, schema={"lead": pl.Int64, "points": pl.Int64, "covered": pl.Int64,
                                      "coverage": pl.Float64, "coverage_low": pl.Float64,
                                      "coverage_high": pl.Float64}, orient="row")


WIDTHS = {"model": "the intervals leave out the uncertainty of the estimates.",
          "empirical": "the intervals are as wide as the fitted model's own forecasts 1 to h periods ahead "
                       "missed by over its history (root mean square per lead), not as its error model's "
                       "variance says: AR(1) errors read a growing customer base in the 52-week changes as "
                       "persistence, and their widths come out several times wider than the errors need."}

FAR = 0.10  # coverage this far from nominal, and outside its binomial interval, is called off
TOO_WIDE = 2.0  # intervals this many times wider than the backtest's errors need are called too wide


def coverage_note(held: bt.Coverage, nominal: float, ratio: float | None) -> str:
    """What the backtest says about the intervals: too narrow, too wide, or consistent."""
    said = (f"The {nominal:.0%} intervals held {held.share:.0%} of the backtest's {held.points} actuals "
            f"(binomial 95% interval {held.low:.0%} to {held.high:.0%})")
    wide = f"about {ratio:.1f} times wider than the errors needed" if ratio is not None else ""
    if held.share < nominal - FAR and held.high < nominal:
        return f"{said}: treat them as too narrow."
    if (held.share > nominal + FAR and held.low > nominal) or (
            held.share >= nominal and ratio is not None and ratio >= TOO_WIDE):
        return f"{said} and are {wide or 'wider than the errors needed'}: treat them as too wide."
    return (f"{said}, in line with {nominal:.0%} as far as {held.points} forecasts from overlapping origins can "
            "tell" + (f"; they are {wide}." if wide else "."))


def startup_notes(fitted: list[Fitted], by: str | None, freq: str, first: dt.date) -> list[str]:
    """Which series were fitted from after a start-up, and how to choose the start instead."""
    trimmed = [f for f in fitted if f.startup]
    if not trimmed:
        return []
    unit = UNIT[freq]
    rule = (f"a start-up: the median of the next {13 if freq == 'week' else 91} {unit} stays under "
            f"{SHARE:.0%} of the last year's median, and 52-week differences across it would be growth, not "
            "noise, inflating the intervals")
    how = f"pass --from to choose the start yourself (--from {first} fits on everything)"
    if by is None:
        f = trimmed[0]
        capped = (f" (the start-up runs longer, but the model needs {YEAR[freq] if f.startup_capped else ''} "
                  f"{unit} to fit on)" if f.startup_capped else "")
        return [f"Fitted from {f.fit_from}: the {f.startup} {unit} before it are {rule}{capped}; {how}."]
    return [f"{len(trimmed)} {by} series were fitted from after {rule}; {how}."]


def _beats(m: bt.Scores, s: bt.Scores) -> bool | None:
    """The model beats seasonal naive on MASE (sMAPE when MASE is undefined)."""
    if m.mase is not None and s.mase is not None:
        return m.mase < s.mase
    if m.smape is not None and s.smape is not None:
        return m.smape < s.smape
    return None


def _fmt(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.2f}"


# --- the chart: history, forecast and its interval ------------------------------------------------


def history_and_forecast(history: pl.DataFrame, forecast: pl.DataFrame) -> pl.DataFrame:
    """One row per group and period: the actual value (history) or the forecast with its interval."""
    missing = pl.lit(None, pl.Float64)
    return pl.concat([history.with_columns(missing.alias("forecast"), missing.alias("forecast_low"),
                                           missing.alias("forecast_high")),
                      forecast.select("group", "period", missing.alias("actual"), "forecast", "forecast_low",
                                      "forecast_high")])


def demand_charts(measure: str, freq: str, by: str | None, confidence: float) -> tuple[Chart, ...]:
    """Overall: history and forecast as two lines, the prediction interval shaded around the
    forecast. By group: a chart draws one column per group, so history and forecast get a chart each."""
    what = f"{measure.capitalize()} per {freq}"
    if by:
        return (Chart("line", f"{what} by {by}: history", "series", "period", ("actual",), series="group"),
                Chart("line", f"{what} by {by}: forecast", "forecast", "period", ("forecast",), series="group"))
    return (Chart("line", f"{what}: history and forecast with its {confidence:.0%} interval", "series", "period",
                  ("actual", "forecast"), intervals=(("forecast", "forecast_low", "forecast_high"),)),)
