"""LTV:CAC and payback by acquisition channel (customers.acquisition_channel, acquisition_cost).

A customer's cumulative margin m months after the first purchase is margin x net revenue
in those months: observed up to the as-of date, and after it the CLV model's expectation
(predict clv's BG/NBD and Gamma-Gamma fit, undiscounted: expected purchases in the months
still to come times expected spend per purchase). LTV is that margin at the horizon;
payback is the first whole month in which a channel's mean cumulative margin per acquired
customer covers its CAC (mean acquisition cost). Customers who never bought count with 0.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from core.errors import AnalysisError
from core.evaluate.inputs import UNNAMED, names, require, require_columns, require_rows
from core.evaluate.stats import z_critical
from core.features import default_as_of
from core.result import Chart, Result

ANALYSIS = "LTV:CAC report"
DAYS_PER_MONTH = 365.25 / 12


def ltv_cac(
    transactions: pl.LazyFrame | None,
    customers: pl.LazyFrame | None = None,
    *,
    margin: float = 0.3,
    horizon_months: int = 36,
    by: str | None = None,
    as_of: dt.date | None = None,
    confidence: float = 0.95,
    workspace: str = UNNAMED,
) -> Result:
    """Per acquisition channel (and `by`): customers, CAC, LTV, LTV:CAC and payback months."""
    require(transactions, "transactions", ANALYSIS, workspace)
    require(customers, "customers", ANALYSIS, workspace)
    require_columns(customers, "customers", ("acquisition_channel", "acquisition_cost"), ANALYSIS,
                    "add each customer's acquisition channel and cost as 'acquisition_channel' and "
                    "'acquisition_cost'")
    if by and by not in names(customers):
        raise AnalysisError(f"{ANALYSIS}: --by {by!r} is not a column of the customers table "
                            f"({', '.join(names(customers))}). "
                            "Fix: pick one such as tier or region, or leave --by empty")
    if not 0 < margin <= 1:
        raise AnalysisError(f"{ANALYSIS}: --margin must be a fraction in (0, 1], got {margin}. "
                            "Fix: give the gross margin as a share of revenue, e.g. --margin 0.35")
    as_of = as_of or default_as_of(transactions)
    keys = ["acquisition_channel", *([by] if by else [])]
    people, revenue = collect_inputs(transactions, customers, keys, as_of, horizon_months)
    require_rows(people.height, 1, "customers with an acquisition channel", ANALYSIS)
    observed = observed_revenue(people, revenue, horizon_months)
    tenure = people["tenure_days"].to_numpy()
    notes = [f"Margin {margin:.0%} of net revenue (returns subtracted), undiscounted, over the first "
             f"{horizon_months} months after each customer's first purchase; observed up to {as_of}, expected by "
             "the CLV model (BG/NBD + Gamma-Gamma, fitted on all transactions as of that day) after it."]
    needs_model = np.isfinite(tenure) & (tenure < horizon_months * DAYS_PER_MONTH)
    expected = np.zeros_like(observed)
    if needs_model.any():
        try:
            expected = expected_revenue(transactions, people, as_of, horizon_months)
        except AnalysisError as exc:
            notes.append(f"No CLV model, so LTV counts observed margin only (an understatement): {exc}")
    curves = margin * (observed + expected)
    z = z_critical(confidence)
    table, curve = channel_table(people.select(keys + ["acquisition_cost", "bought"]), curves, keys, z)
    never = table.filter(pl.col("payback_months").is_null() & (pl.col("cac") > 0)).height
    if never:
        notes.append(f"{never} group(s) do not pay back their CAC within {horizon_months} months: payback_months "
                     "is empty.")
    if table.filter(pl.col("cac") == 0).height:
        notes.append("Groups whose CAC is 0 have no LTV:CAC ratio (payback is immediate: 0 months).")
    best = table.filter(pl.col("ltv_cac_ratio").is_not_null()).sort("ltv_cac_ratio", descending=True)
    notes.append(f"Intervals ({confidence:.0%}): LTV, mean ± z x its standard error; LTV:CAC by the delta method for "
                 "a ratio of means, from the variances and covariance of customers' LTV and acquisition cost. They "
                 "hold the CLV model's fit fixed (its own uncertainty is not in them).")
    headline = {
        "customers": people.height,
        "total_acquisition_cost": float(people["acquisition_cost"].sum()),
        "ltv_cac_ratio": _ratio(table),
        "ltv_cac_ratio_ci": overall_ratio_interval(curves[:, -1], people["acquisition_cost"].to_numpy(), z),
        "best_channel": best["acquisition_channel"][0] if best.height else None,
        "margin": margin,
        "horizon_months": horizon_months,
    }
    return Result(
        name="report.ltv_cac",
        title="LTV:CAC and payback by acquisition channel",
        tables={"channels": table, "payback": curve},
        headline=headline,
        charts=(Chart("bar", "LTV:CAC by acquisition channel", "channels", "acquisition_channel", ("ltv_cac_ratio",)),
                Chart("line", "Cumulative margin per customer", "payback", "month", ("cumulative_margin",),
                      "group")),
        params={"margin": margin, "horizon_months": horizon_months, "by": by, "as_of": as_of,
                "confidence": confidence},
        notes=tuple(notes),
    )


def _ratio(table: pl.DataFrame) -> float | None:
    cost = float((table["cac"] * table["customers"]).sum())
    return float((table["ltv"] * table["customers"]).sum()) / cost if cost > 0 else None


def collect_inputs(transactions: pl.LazyFrame, customers: pl.LazyFrame, keys: list[str], as_of: dt.date,
                   horizon_months: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Customers with their channel, cost, first purchase and tenure; revenue per month index."""
    tx = transactions.filter(pl.col("order_date") <= as_of)
    first = (tx.filter(pl.col("amount") > 0).group_by("customer_id")
             .agg(pl.col("order_date").min().alias("first_purchase")))
    people = (customers.filter(pl.col("acquisition_channel").is_not_null())
              .select("customer_id", *keys, "acquisition_cost").unique("customer_id", keep="first")
              .join(first, on="customer_id", how="left")
              .with_columns(pl.col("first_purchase").is_not_null().alias("bought"),
                            (pl.lit(as_of) - pl.col("first_purchase")).dt.total_days().cast(pl.Float64)
                            .fill_null(float("inf")).alias("tenure_days"))
              .sort("customer_id").with_row_index("_row"))
    month = ((pl.col("order_date") - pl.col("first_purchase")).dt.total_days() / DAYS_PER_MONTH).floor()
    revenue = (tx.join(people.select("customer_id", "_row", "first_purchase"), on="customer_id")
               .filter(pl.col("order_date") >= pl.col("first_purchase"))
               .with_columns(month.cast(pl.Int64).alias("month"))
               .filter(pl.col("month") < horizon_months)
               .group_by("_row", "month").agg(pl.col("amount").sum()))
    people, revenue = pl.collect_all([people, revenue])
    return people, revenue


def observed_revenue(people: pl.DataFrame, revenue: pl.DataFrame, horizon_months: int) -> np.ndarray:
    """Customers x months: net revenue observed by the end of month 1..horizon after the first purchase."""
    grid = np.zeros((people.height, horizon_months))
    np.add.at(grid, (revenue["_row"].to_numpy(), revenue["month"].to_numpy()), revenue["amount"].to_numpy())
    return np.cumsum(grid, axis=1)


def expected_revenue(transactions: pl.LazyFrame, people: pl.DataFrame, as_of: dt.date,
                     horizon_months: int) -> np.ndarray:
    """Customers x months: expected revenue after the as-of date by the end of each month since the
    first purchase, from predict clv's fitted models (E[purchases in (T, T + t]] x expected spend)."""
    from core.predict.bgnbd import BetaGeoModel
    from core.predict.clv import clv_analysis

    fitted = clv_analysis(transactions, calibration_end=as_of, unit="day")
    bg = BetaGeoModel()
    bg.params_ = {name: fitted.headline[name] for name in ("r", "alpha", "a", "b")}
    model = people.select("_row", "customer_id").join(
        fitted.tables["customers"].select("customer_id", "frequency", "recency", "T", "expected_spend"),
        on="customer_id", how="inner")
    rows = model["_row"].to_numpy()
    x, tx, big_t = (model[c].to_numpy().astype(float) for c in ("frequency", "recency", "T"))
    spend = model["expected_spend"].to_numpy()
    out = np.zeros((people.height, horizon_months))
    for m in range(1, horizon_months + 1):  # a few dozen months, each vectorised over customers
        ahead = np.maximum(m * DAYS_PER_MONTH - big_t, 0.0)
        out[rows, m - 1] = np.where(ahead > 0, bg.expected_purchases(ahead, x, tx, big_t), 0.0) * spend
    return out


def ratio_se(ltv_mean: pl.Expr, cost_mean: pl.Expr, ltv_var: pl.Expr, cost_var: pl.Expr, cov: pl.Expr,
             n: pl.Expr) -> pl.Expr:
    """Delta-method standard error of mean(LTV) / mean(cost) (the ratio estimator's variance,
    Cochran 1977, 6.3): sqrt((s_L^2 - 2R s_LC + R^2 s_C^2) / n) / mean(cost)."""
    ratio = ltv_mean / cost_mean
    return ((ltv_var - 2 * ratio * cov + ratio**2 * cost_var).clip(lower_bound=0) / n).sqrt() / cost_mean


def overall_ratio_interval(ltv: np.ndarray, cost: np.ndarray, z: float) -> tuple[float, float] | None:
    """The interval of every customer's LTV:CAC together (customers with a cost)."""
    frame = pl.DataFrame({"l": ltv, "c": cost}).drop_nulls()
    if frame.height < 2 or not frame["c"].mean():
        return None
    row = frame.select(pl.col("l").mean(), pl.col("c").mean(),
                       ratio_se(pl.col("l").mean(), pl.col("c").mean(), pl.col("l").var(), pl.col("c").var(),
                                pl.cov("l", "c"), pl.len()).alias("se")).row(0, named=True)
    ratio = row["l"] / row["c"]
    return (ratio - z * row["se"], ratio + z * row["se"])


def channel_table(people: pl.DataFrame, curves: np.ndarray, keys: list[str],
                  z: float = 1.959963984540054) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Mean cumulative margin per group and month; LTV, CAC, ratio and payback per group, with intervals."""
    horizon = curves.shape[1]
    wide = people.with_columns(pl.Series(f"m{m + 1}", curves[:, m]) for m in range(horizon))
    months = [f"m{m + 1}" for m in range(horizon)]
    last, has = pl.col(months[-1]), pl.col("acquisition_cost").is_not_null()
    costed_ltv, cost = last.filter(has), pl.col("acquisition_cost").filter(has)
    grouped = wide.group_by(keys).agg(
        last.std().alias("_ltv_sd"),
        ratio_se(costed_ltv.mean(), cost.mean(), costed_ltv.var(), cost.var(), pl.cov(costed_ltv, cost),
                 has.sum()).alias("_ratio_se"),
        pl.len().alias("customers"), pl.col("bought").sum().alias("buyers"),
        pl.col("acquisition_cost").is_not_null().sum().alias("customers_with_cost"),
        pl.col("acquisition_cost").mean().alias("cac"),
        pl.col("acquisition_cost").sum().alias("total_cost"),
        *(pl.col(m).mean() for m in months),
    ).sort(keys, nulls_last=True)
    curve_matrix = grouped.select(months).to_numpy()
    cac = grouped["cac"].to_numpy().astype(float)
    covered = curve_matrix >= cac[:, None]
    payback = np.where(cac <= 0, 0, np.where(covered.any(axis=1), covered.argmax(axis=1) + 1, -1))
    table = grouped.select(*keys, "customers", "buyers", "customers_with_cost", "cac", "total_cost", "_ltv_sd",
                           "_ratio_se").with_columns(
        pl.Series("ltv", curve_matrix[:, -1]),
        pl.Series("payback_months", payback).replace(-1, None).cast(pl.Int64),
    ).with_columns(pl.when(pl.col("cac") > 0).then(pl.col("ltv") / pl.col("cac")).alias("ltv_cac_ratio"))
    half = z * pl.col("_ltv_sd") / pl.col("customers").sqrt()
    table = table.with_columns(
        (pl.col("ltv") - half).alias("ltv_ci_low"), (pl.col("ltv") + half).alias("ltv_ci_high"),
        (pl.col("ltv_cac_ratio") - z * pl.col("_ratio_se")).alias("ltv_cac_ratio_ci_low"),
        (pl.col("ltv_cac_ratio") + z * pl.col("_ratio_se")).alias("ltv_cac_ratio_ci_high"),
    ).drop("_ltv_sd", "_ratio_se").fill_nan(None)
    label = pl.concat_str([pl.col(k).cast(pl.String).fill_null("(none)") for k in keys], separator=" / ")
    curve = (grouped.select(label.alias("group"), "cac", *months)
             .unpivot(index=["group", "cac"], variable_name="month", value_name="cumulative_margin")
             .with_columns(pl.col("month").str.slice(1).cast(pl.Int64))
             .select("group", "month", "cumulative_margin", "cac"))
    return table, curve
