"""Customer lifetime value: BG/NBD for purchases, Gamma-Gamma for spend, discounted.

``clv_analysis`` is the one call the CLI and the app make. CLV over a horizon sums the
expected purchases in each month-long step (the last may be shorter) times the expected
spend per purchase, each step discounted at the annual ``discount_rate`` to its end:
CLV = E[spend] * sum_k (E[Y(t_k)] - E[Y(t_(k-1))]) / (1 + d)^(t_k in years), with
months of 365.25 / 12 = 30.4375 days. With ``discount_period="month"`` the convention of
the lifetimes package instead: ``discount_rate`` is a monthly rate, a month is 30 days
(unit day) or 4.345 weeks (unit week), the exponent counts months, and the default
horizon is 12 of those months.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from core.errors import InputError
from core.predict._mle import compress
from core.predict.bgnbd import BetaGeoModel
from core.predict.gammagamma import GammaGammaModel, frequency_spend_check
from core.predict.summary import btyd_summary, last_order_date, unit_days

if TYPE_CHECKING:
    from core.engines import Reducer
from core.result import Chart, Result

DAYS_PER_YEAR = 365.25
DAYS_PER_MONTH = DAYS_PER_YEAR / 12
DEFAULT_HORIZON_DAYS = 365
DISCOUNT_PERIODS = ("year", "month")
LIFETIMES_MONTH = {"day": 30.0, "week": 4.345}  # lifetimes' month, in each unit
FREQUENCY_BUCKETS = 7  # holdout table rows 0..6 and "7+", as in FHL (2005), Figure 4
Z95 = 1.959963984540054


def discounted_clv(
    bg: BetaGeoModel,
    spend: np.ndarray,
    frequency, recency, T,
    *,
    horizon: float,
    days_per_unit: float,
    discount_rate: float,
    month_units: float | None = None,
) -> np.ndarray:
    """CLV over ``horizon`` units, discounted monthly at an annual rate; with
    ``month_units`` (a month in units) at a monthly rate per such month, as lifetimes."""
    histories = compress(frequency, recency, T)
    value, _ = _discounted_purchases(bg, histories, horizon=horizon, days_per_unit=days_per_unit,
                                     discount_rate=discount_rate, month_units=month_units)
    return value[histories[2]] * np.asarray(spend, float)


def _discounted_purchases(bg: BetaGeoModel, histories, *, horizon: float, days_per_unit: float,
                          discount_rate: float, month_units: float | None
                          ) -> tuple[np.ndarray, np.ndarray]:
    """Discounted expected purchases over the horizon and expected purchases at its end, per
    distinct history (``histories`` from compress(frequency, recency, T)).

    E[Y(t)] = scale(x, t_x, T) * term(t; x, T) (FHL 2005 eq. 10), so the discounted sum of the
    monthly increments is scale * sum_k (term_k - term_(k-1)) / (1 + d)^k: P(alive) once per
    history, the hypergeometric terms once per distinct (x, T) (far fewer) and month.
    """
    step = DAYS_PER_MONTH / days_per_unit if month_units is None else month_units
    edges = np.minimum(np.arange(1, math.ceil(horizon / step - 1e-9) + 1) * step, horizon)
    (ux, utx, ut), _, _ = histories
    (kx, kt), _, key_of = compress(ux, ut)
    value = np.zeros(len(kx))
    previous = np.zeros(len(kx))
    for edge in edges:  # a dozen steps for a year; each step is vectorised over (x, T)
        cumulative = bg._expected_term(np.full(len(kx), edge), kx, kt)
        periods = edge * days_per_unit / DAYS_PER_YEAR if month_units is None else edge / month_units
        value += (cumulative - previous) / (1.0 + discount_rate) ** periods
        previous = cumulative
    scale = bg._expected_scale(ux, utx, ut)
    with np.errstate(over="ignore", invalid="ignore"):
        at_horizon = scale * previous[key_of]
    bg._check_finite(at_horizon)
    return scale * value[key_of], at_horizon


@dataclass(frozen=True)
class ValuedCustomers:
    """The fitted models and every customer's CLV: what value at risk needs, and what
    clv_analysis builds its tables on."""

    summary: pl.DataFrame  # btyd_summary, sorted by customer_id
    bg: BetaGeoModel
    gg: GammaGammaModel
    histories: tuple  # compress(frequency, recency, T)
    expected_spend: np.ndarray
    expected_purchases: np.ndarray  # over the horizon
    clv: np.ndarray
    calibration_end: dt.date
    horizon: float
    month_units: float | None

    def p_alive(self) -> np.ndarray:
        (ux, utx, ut), _, inverse = self.histories
        return self.bg._alive(ux, utx, ut)[inverse]


def value_customers(
    transactions: pl.LazyFrame,
    *,
    calibration_end: dt.date | None = None,
    holdout_end: dt.date | None = None,
    unit: str = "week",
    horizon: float | None = None,
    discount_rate: float = 0.10,
    discount_period: str = "year",
    n_starts: int = 4,
    random_state: int = 0,
    engine: Reducer | None = None,
    per_customer: pl.DataFrame | None = None,
) -> ValuedCustomers:
    """Fit BG/NBD and Gamma-Gamma as of ``calibration_end`` and value every customer (the
    options as clv_analysis): no diagnostics, tables or checks beyond the fits'. With
    `per_customer` (btyd_summary's) the summary is built from it, not from a read."""
    days = unit_days(unit)
    month_units = LIFETIMES_MONTH.get(unit) if discount_period == "month" else None
    if horizon is None:
        horizon = DEFAULT_HORIZON_DAYS / days if month_units is None else 12 * month_units
    horizon = float(horizon)
    _check_options(horizon, discount_rate, calibration_end, holdout_end, discount_period)
    if per_customer is not None and calibration_end is None:
        raise ValueError("per_customer needs the calibration end date it was reduced to")
    calibration_end = calibration_end or last_order_date(transactions, engine)
    summary = btyd_summary(transactions, calibration_end, unit=unit, holdout_end=holdout_end, engine=engine,
                           per_customer=per_customer)
    x, tx, big_t = (summary[c].to_numpy().astype(float) for c in ("frequency", "recency", "T"))
    m = summary["monetary_value"].to_numpy()

    histories = compress(x, tx, big_t)  # once, for the fit and the predictions
    bg = BetaGeoModel(n_starts=n_starts, random_state=random_state).fit(x, tx, big_t, histories=histories)
    gg = GammaGammaModel(n_starts=n_starts, random_state=random_state).fit(x, m)
    spend = gg.expected_spend(x, m)
    discounted, at_horizon = _discounted_purchases(
        bg, histories, horizon=horizon, days_per_unit=days, discount_rate=discount_rate,
        month_units=month_units,
    )
    inverse = histories[2]
    return ValuedCustomers(
        summary=summary, bg=bg, gg=gg, histories=histories, expected_spend=spend,
        expected_purchases=at_horizon[inverse], clv=discounted[inverse] * spend,
        calibration_end=calibration_end, horizon=horizon, month_units=month_units,
    )


def customer_clv(transactions: pl.LazyFrame, **options) -> pl.DataFrame:
    """customer_id and clv for every customer (value_customers' options): the same numbers as
    clv_analysis's customers table, without its diagnostics; what value at risk uses."""
    valued = value_customers(transactions, **options)
    return valued.summary.select("customer_id").with_columns(clv=pl.Series(valued.clv))


def _check_options(horizon: float, discount_rate: float, calibration_end, holdout_end,
                   discount_period: str = "year") -> None:
    if discount_period not in DISCOUNT_PERIODS:
        raise InputError(f"unknown discount period {discount_period!r}", fix="use year or month")
    if not horizon > 0:
        raise InputError(f"the horizon must be positive, got {horizon}",
                         fix="use e.g. --horizon 52")
    if not 0 <= discount_rate < 1:
        raise InputError(
            f"the {'monthly' if discount_period == 'month' else 'annual'} discount rate must be in [0, 1), "
            f"got {discount_rate}",
            fix="give it as a fraction, e.g. --discount-rate 0.1 for 10%",
        )
    if holdout_end is not None and calibration_end is None:
        raise InputError(
            "a holdout check needs a calibration end date",
            fix="give --calibration-end (the last day of the calibration period) too",
        )


def _parameter_table(bg: BetaGeoModel, gg: GammaGammaModel) -> pl.DataFrame:
    rows = []
    for model, fitted in (("BG/NBD", bg), ("Gamma-Gamma", gg)):
        for name, value in fitted.params_.items():
            se = fitted.se_[name]
            spread = math.exp(Z95 * se / value)  # Wald interval on the log scale
            rows.append((model, name, value, se, value / spread, value * spread))
    return pl.DataFrame(
        rows, schema=["model", "parameter", "estimate", "se", "ci_lower", "ci_upper"], orient="row"
    )


def _holdout_tables(
    summary: pl.DataFrame, predicted: np.ndarray
) -> tuple[pl.DataFrame, dict[str, float]]:
    frame = summary.select("frequency", "holdout_frequency").with_columns(
        predicted=pl.Series(predicted),
        bucket=pl.col("frequency").clip(upper_bound=FREQUENCY_BUCKETS),
    )
    by_frequency = (
        frame.group_by("bucket")
        .agg(
            customers=pl.len(),
            actual_mean=pl.col("holdout_frequency").mean(),
            predicted_mean=pl.col("predicted").mean(),
            actual_total=pl.col("holdout_frequency").sum().cast(pl.Float64),
            predicted_total=pl.col("predicted").sum(),
        )
        .sort("bucket")
        .with_columns(
            calibration_frequency=pl.when(pl.col("bucket") >= FREQUENCY_BUCKETS)
            .then(pl.lit(f"{FREQUENCY_BUCKETS}+"))
            .otherwise(pl.col("bucket").cast(pl.String))
        )
        .select(
            "calibration_frequency", "customers", "actual_mean", "predicted_mean",
            "actual_total", "predicted_total",
        )
    )
    actual = frame["holdout_frequency"].to_numpy().astype(float)
    error = predicted - actual
    total_actual, total_predicted = float(actual.sum()), float(predicted.sum())
    metrics = {
        "holdout_actual_total": total_actual,
        "holdout_predicted_total": total_predicted,
        "holdout_total_error_pct": (
            100 * (total_predicted - total_actual) / total_actual if total_actual else None
        ),
        "holdout_mae": float(np.abs(error).mean()),
        "holdout_rmse": float(np.sqrt((error**2).mean())),
        "holdout_correlation": (
            float(np.corrcoef(predicted, actual)[0, 1]) if actual.std() > 0 else None
        ),
    }
    return by_frequency, metrics


def clv_analysis(
    transactions: pl.LazyFrame,
    *,
    calibration_end: dt.date | None = None,
    holdout_end: dt.date | None = None,
    unit: str = "week",
    horizon: float | None = None,
    discount_rate: float = 0.10,
    discount_period: str = "year",
    n_starts: int = 4,
    random_state: int = 0,
    engine: Reducer | None = None,
) -> Result:
    """Fit BG/NBD and Gamma-Gamma as of ``calibration_end`` and value every customer.

    ``horizon`` is in ``unit`` (default: one year). With ``holdout_end``, purchases in
    (calibration_end, holdout_end] are compared with the model's predictions. With an
    `engine` (core.engines) the per-customer summary is reduced there.
    ``discount_period`` "year" (``discount_rate`` is annual) or "month" (monthly, in
    lifetimes' months; the default horizon is then 12 of them).
    """
    valued = value_customers(
        transactions, calibration_end=calibration_end, holdout_end=holdout_end, unit=unit,
        horizon=horizon, discount_rate=discount_rate, discount_period=discount_period,
        n_starts=n_starts, random_state=random_state, engine=engine,
    )
    summary, bg, gg = valued.summary, valued.bg, valued.gg
    calibration_end, horizon, month_units = valued.calibration_end, valued.horizon, valued.month_units
    days = unit_days(unit)
    x, tx, big_t = (summary[c].to_numpy().astype(float) for c in ("frequency", "recency", "T"))
    m = summary["monetary_value"].to_numpy()
    check = frequency_spend_check(x, m)
    customers = summary.select(
        "customer_id", "first_purchase", "frequency", "recency", "T", "monetary_value"
    ).with_columns(
        p_alive=pl.Series(valued.p_alive()),
        expected_purchases=pl.Series(valued.expected_purchases),
        expected_spend=pl.Series(valued.expected_spend),
        clv=pl.Series(valued.clv),
    )
    tables: dict[str, pl.DataFrame] = {}
    headline: dict[str, object] = {
        "unit": unit,
        "customer_count": summary.height,
        "repeat_customers": int((x > 0).sum()),
        **bg.params_,
        "log_likelihood": bg.log_likelihood_,
        **gg.params_,
        "gamma_gamma_log_likelihood": gg.log_likelihood_,
        "frequency_spend_correlation": check.correlation,
        "horizon": horizon,
        "discount_rate": discount_rate,
        "discount_period": discount_period,
        "total_clv": float(customers["clv"].sum()),
        "mean_clv": float(customers["clv"].mean()),
        "mean_p_alive": float(customers["p_alive"].mean()),
        "expected_purchases_total": float(customers["expected_purchases"].sum()),
    }
    charts = [
        Chart("histogram", "P(alive) across customers", "customers", "p_alive"),
        Chart("histogram", f"CLV over {round(horizon, 1):g} {unit}s", "customers", "clv"),
    ]
    if holdout_end is not None:
        holdout_length = (holdout_end - calibration_end).days / days
        predicted = bg.expected_purchases(holdout_length, x, tx, big_t)
        customers = customers.with_columns(
            holdout_frequency=summary["holdout_frequency"],
            predicted_holdout_frequency=pl.Series(predicted),
        )
        tables["holdout"], metrics = _holdout_tables(summary, predicted)
        headline |= {"holdout_length": holdout_length, **metrics}
        charts.append(Chart(
            "bar", "Holdout purchases per customer: actual vs predicted", "holdout",
            "calibration_frequency", ("actual_mean", "predicted_mean"),
        ))
    tables = {
        "customers": customers.sort("clv", "customer_id", descending=[True, False]),
        "parameters": _parameter_table(bg, gg),
        **tables,
    }
    notes = [
        f"Times are in {unit}s; frequency counts repeat purchase days (orders on one day "
        "merged), recency is the time from the first to the last purchase, T the time from "
        f"the first purchase to {calibration_end}. Returns (negative amounts) are not "
        "purchases.",
        f"BG/NBD: {bg.fit_.starts_converged} of {bg.fit_.starts} starting points converged, "
        f"{bg.fit_.starts_at_best} reached the best log-likelihood {bg.log_likelihood_:.2f}. "
        f"Gamma-Gamma: {gg.fit_.starts_converged} of {gg.fit_.starts} converged, fitted on "
        f"{gg.n_customers_} repeat buyers.",
        "Standard errors from the observed information (numerical Hessian of the "
        "log-likelihood in log-parameters, delta method); intervals are 95% Wald intervals "
        "on the log scale.",
        f"CLV: expected purchases over {round(horizon, 1):g} {unit}s times expected spend per "
        + (f"purchase, discounted monthly at {discount_rate:.1%} a year (months of 30.4375 days, "
           "each step discounted to its end)." if month_units is None else
           f"purchase, discounted at {discount_rate:.1%} a month (lifetimes' convention: months of "
           f"{month_units:g} {unit}s)."),
    ]
    for model, fitted in (("BG/NBD", bg), ("Gamma-Gamma", gg)):
        if fitted.fit_.poorly_determined:
            notes.append(
                f"Warning: the data barely determine the {model} parameter(s) "
                f"{', '.join(fitted.fit_.poorly_determined)} (very wide intervals); "
                "predictions may still be usable, the parameter values are not."
            )
    if bg.fit_.explored_on:
        notes.append(
            f"Starting points were explored on a random {bg.fit_.explored_on:,} customers; "
            "the best was then fitted on all of them."
        )
    if math.isnan(check.correlation):
        notes.append("Too few repeat buyers to check that spend and frequency are unrelated.")
    elif not check.ok:
        notes.append(
            f"Warning: mean spend and repeat frequency are correlated (r = "
            f"{check.correlation:.2f}, p = {check.p_value:.3g}); Gamma-Gamma assumes they are "
            "independent, so CLV may be biased."
        )
    return Result(
        name="predict.clv",
        title="Customer lifetime value (BG/NBD + Gamma-Gamma)",
        tables=tables,
        headline=headline,
        charts=tuple(charts),
        params={
            "calibration_end": calibration_end, "holdout_end": holdout_end, "unit": unit,
            "horizon": horizon, "discount_rate": discount_rate, "discount_period": discount_period,
            "n_starts": n_starts,
        },
        notes=tuple(notes),
    )
