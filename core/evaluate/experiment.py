"""A/B experiment readout: per variant rates and revenue, each variant against the control.

Conversions: two-proportion z-test (pooled) p-value, Newcombe's hybrid score interval for
the difference (or Wald, Agresti-Caffo), log-ratio (Katz) interval for the relative lift. Revenue per unit: Welch's t-test, after
CUPED (Deng, Xu, Kohavi & Walker 2013) when a pre-period covariate is named. With
`sequential`, an anytime-valid t-test (Lindon et al. 2024) of each difference as well,
for analysts who look before the planned end.
Several variants: Holm-adjusted p-values. Sample-ratio mismatch: chi-square of units
against the planned split. The plan calculator lives in core/evaluate/plan.py.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import numpy as np
import polars as pl
import polars.selectors as cs

from core.errors import AnalysisError, InputError
from core.evaluate import stats
from core.evaluate.inputs import UNNAMED, names, on_or_before, require
from core.result import Chart, Result

ANALYSIS = "experiment report"
CONTROL_NAMES = ("control", "ctrl", "baseline", "holdout", "a")
# Kohavi et al.'s usual alarm level for a sample-ratio mismatch.
SRM_ALPHA = 0.001
# --covariate pre_revenue, when the experiments table has no such column: each unit's
# spend in the window_days before its exposure date, from transactions.
PRE_REVENUE = "pre_revenue"


def experiment(
    experiments: pl.LazyFrame | None,
    transactions: pl.LazyFrame | None = None,
    campaigns: pl.LazyFrame | None = None,
    *,
    experiment: str | None = None,
    control: str | None = None,
    split: Mapping[str, float] | None = None,
    confidence: float = 0.95,
    interval: str = "newcombe",
    window_days: int = 30,
    covariate: str | None = None,
    sequential: bool = False,
    as_of: dt.date | None = None,
    workspace: str = UNNAMED,
) -> Result:
    """Read out one experiment (or every experiment in the table).

    Outcomes come from the experiments table's converted/revenue columns; where those are
    missing, from transactions within `window_days` after each unit's exposure_date.
    `split` maps variant to planned weight (equal by default) for the SRM check. Campaign
    holdout tests (experiments named after a campaign_id) are left to the campaign report
    unless `experiment` names one. `interval` is the method of the conversion-rate
    difference's interval (newcombe, wald, agresti-caffo; Wald is too narrow with few
    conversions and collapses to a point with none in an arm). `covariate` names a numeric column of the experiments
    table measured before exposure (or "pre_revenue", spend in the `window_days` before
    exposure from transactions): revenue per unit is then compared after CUPED, which
    removes the part of revenue the covariate predicts and narrows the interval.
    `sequential` adds anytime-valid p-values and confidence sequences (sequential_*
    columns), which stay valid however often the experiment is read before it stops;
    `significant` then follows them.
    """
    require(experiments, "experiments", ANALYSIS, workspace)
    if not 0 < confidence < 1:
        raise InputError("the confidence level must be between 0 and 1", fix="pass --confidence 0.95")
    if interval not in stats.DIFF_INTERVALS:
        raise InputError(f"unknown interval method {interval!r}", fix="pass --interval " + "|".join(stats.DIFF_INTERVALS))
    lf = experiments
    if as_of is not None and "exposure_date" in names(lf):
        lf = lf.filter(on_or_before(pl.col("exposure_date"), as_of))
    holdouts = pl.LazyFrame({"experiment": []}, schema={"experiment": pl.String})
    if experiment is not None:
        lf = lf.filter(pl.col("experiment") == experiment)
    elif campaigns is not None:
        holdouts = campaigns.select(pl.col("campaign_id").alias("experiment")).unique()
        lf = lf.join(holdouts, on="experiment", how="anti")
    units, notes, has_revenue = unit_outcomes(lf, transactions, window_days, as_of, covariate)
    if covariate is not None and not has_revenue:
        raise InputError(f"--covariate {covariate} adjusts revenue per unit, and this experiment has no revenue",
                         fix="add a revenue column to the experiments table, or give transactions")
    cuped_stats = []
    if covariate is not None:
        units = units.with_columns(cuped(pl.col("revenue"), pl.col("covariate"), "experiment"))
        cuped_stats = [pl.col("revenue_cuped").mean().alias("revenue_cuped_mean"),
                       pl.col("revenue_cuped").var().alias("revenue_cuped_var"), pl.col("theta").first()]
    summary, overlap, skipped = pl.collect_all([
        units.group_by("experiment", "variant").agg(
            pl.len().alias("units"),
            pl.col("converted").sum().alias("conversions"),
            pl.col("revenue").sum().alias("revenue"),
            pl.col("revenue").mean().alias("revenue_per_unit"),
            pl.col("revenue").var().alias("revenue_var"),
            *cuped_stats,
        ).sort("experiment", "variant"),
        units.group_by("experiment", "customer_id").agg(pl.col("variant").n_unique().alias("n"))
        .filter(pl.col("n") > 1).group_by("experiment").agg(pl.len().alias("customers")),
        experiments.select("experiment").unique().join(holdouts, on="experiment").sort("experiment"),
    ])
    if skipped.height:
        notes.append(
            f"Campaign holdout tests ({', '.join(skipped['experiment'])}) are read in the campaign "
            "report; name one with --experiment to read it here."
        )
    if summary.is_empty():
        where = f"experiment {experiment!r}" if experiment else "the experiments table"
        raise AnalysisError(f"{ANALYSIS}: {where} has no units. Fix: check --experiment and the dates")
    for row in overlap.iter_rows(named=True):
        notes.append(
            f"{row['experiment']}: {row['customers']} customers are in more than one variant; "
            "each assignment is counted as its own unit."
        )
    readouts = [
        read_out(group, key[0], control, split, confidence, interval, sequential)
        for key, group in summary.group_by("experiment", maintain_order=True)
    ]
    variants_df, comparisons_df, srm_df = (pl.concat(parts) for parts in zip(*readouts))
    notes.extend(verdicts(comparisons_df, srm_df, confidence))
    notes.append(f"Conversion-rate differences: {stats.interval_name(interval)} interval.")
    if sequential:
        notes.append("Sequential: sequential_* p-values and intervals are anytime-valid (Lindon et al. 2024, "
                     f"normal mixture, prior precision {stats.SEQUENTIAL_PHI:g}); they hold however often the "
                     "experiment is read, and 'significant' follows them. They are wider than the fixed-horizon "
                     "ones: that is the price of peeking.")
    if covariate is not None:
        notes.extend(cuped_notes(summary, covariate))
    if not has_revenue:
        variants_df = variants_df.drop("revenue", "revenue_per_unit")
        comparisons_df = comparisons_df.drop(cs.starts_with("revenue_"))
        notes.append("No revenue: the experiments table has no revenue column and no transactions were given.")
    alpha = round(1 - confidence, 12)
    return Result(
        name="report.experiment",
        title="Experiment: variants against the control",
        tables={"comparisons": comparisons_df, "variants": variants_df, "srm": srm_df},
        headline={
            "experiments": srm_df.height,
            "units": int(variants_df["units"].sum()),
            "significant": int(comparisons_df["significant"].sum()),
            "sample_ratio_mismatch": srm_df.filter(pl.col("mismatch"))["experiment"].to_list(),
            "alpha": alpha,
        },
        charts=(Chart("bar", "Conversion rate by variant", "variants", "variant", ("rate",), "experiment"),),
        params={"experiment": experiment, "control": control, "split": dict(split or {}),
                "confidence": confidence, "interval": interval, "window_days": window_days, "covariate": covariate, "sequential": sequential, "as_of": as_of},
        notes=tuple(notes),
    )


def unit_outcomes(
    lf: pl.LazyFrame, transactions: pl.LazyFrame | None, window_days: int, as_of: dt.date | None,
    covariate: str | None = None,
) -> tuple[pl.LazyFrame, list[str], bool]:
    """One row per (experiment, variant, customer): converted (bool), revenue (float) and,
    when `covariate` names one, the covariate (float).

    Also notes on where outcomes came from, and whether revenue was measured at all.
    """
    columns = names(lf)
    notes: list[str] = []
    keys = ("experiment", "variant", "customer_id")
    derive = [c for c in ("converted", "revenue") if c not in columns]
    if derive and (transactions is None or "exposure_date" not in columns):
        if "converted" in derive:
            raise AnalysisError(
                f"{ANALYSIS} needs a 'converted' column in the experiments table, or an "
                "'exposure_date' column plus the transactions table to see who bought after exposure. "
                "Fix: add converted (yes/no) per unit, or exposure_date"
            )
        lf = lf.with_columns(pl.lit(0.0).alias("revenue"))
        derive, has_revenue = [], False
    else:
        has_revenue = True
    if derive:
        end = pl.col("exposure_date") + pl.duration(days=window_days)
        bought = (
            lf.select(*keys, "exposure_date").unique()
            .join(transactions.filter(on_or_before(pl.col("order_date"), as_of))
                  .select("customer_id", "order_date", "amount"), on="customer_id")
            .filter(pl.col("order_date").is_between(pl.col("exposure_date"), end))
            .group_by(keys)
            .agg((pl.col("amount") > 0).any().alias("_converted"), pl.sum("amount").alias("_revenue"))
        )
        lf = lf.join(bought, on=list(keys), how="left").with_columns(
            pl.col(f"_{c}").alias(c) for c in derive
        )
        notes.append(
            f"{' and '.join(derive).capitalize()} measured from transactions within {window_days} "
            "days after each unit's exposure date."
        )
    extra = []
    if covariate is not None:
        lf, covariate_expr = with_covariate(lf, transactions, covariate, window_days, as_of)
        extra = [covariate_expr.cast(pl.Float64).mean().alias("covariate")]
    units = lf.group_by(keys, maintain_order=True).agg(
        pl.col("converted").fill_null(False).cast(pl.Boolean).any(),
        pl.col("revenue").cast(pl.Float64).fill_null(0.0).sum(),
        *extra,
    )
    return units, notes, has_revenue


def with_covariate(lf: pl.LazyFrame, transactions: pl.LazyFrame | None, covariate: str, window_days: int,
                   as_of: dt.date | None) -> tuple[pl.LazyFrame, pl.Expr]:
    """The experiments rows with what CUPED needs, and the expression of the covariate.

    A column of the experiments table must be numeric and answered for every unit (CUPED
    has no value to put for a unit without one); "pre_revenue", when no column has that
    name, is spend in the window_days before exposure (0 without purchases).
    """
    columns = lf.collect_schema()
    if covariate in columns:
        if not columns[covariate].is_numeric():
            raise InputError(f"the covariate column {covariate!r} of the experiments table is not numeric "
                             f"({columns[covariate]})", column=covariate,
                             fix="name a numeric column measured before exposure, e.g. spend last quarter")
        missing = lf.select(pl.col(covariate).is_null().sum()).collect().item()
        if missing:
            raise InputError(f"the covariate column {covariate!r} is empty on {missing} experiments rows; "
                             "CUPED needs it for every unit", column=covariate,
                             fix="fill it (0 when a unit has no pre-period activity) or drop --covariate")
        return lf, pl.col(covariate)
    if covariate != PRE_REVENUE:
        raise InputError(f"the experiments table has no covariate column {covariate!r}", column=covariate,
                         fix=f"name a numeric column of the experiments table, or --covariate {PRE_REVENUE} "
                         "(spend before exposure, from transactions)")
    if transactions is None or "exposure_date" not in columns:
        raise InputError(f"--covariate {PRE_REVENUE} needs the experiments table's exposure_date and the "
                         "transactions table", column="exposure_date",
                         fix="add exposure_date per unit, or name a numeric covariate column")
    keys = ["experiment", "variant", "customer_id", "exposure_date"]
    start = pl.col("exposure_date") - pl.duration(days=window_days)
    before = (
        lf.select(keys).unique()
        .join(transactions.filter(on_or_before(pl.col("order_date"), as_of))
              .select("customer_id", "order_date", "amount"), on="customer_id")
        .filter((pl.col("order_date") >= start) & (pl.col("order_date") < pl.col("exposure_date")))
        .group_by(keys).agg(pl.col("amount").cast(pl.Float64).sum().alias("_pre_revenue"))
    )
    lf = lf.join(before, on=keys, how="left")
    return lf, pl.col("_pre_revenue").fill_null(0.0)


def cuped(y: pl.Expr, x: pl.Expr, by: str) -> list[pl.Expr]:
    """CUPED (Deng, Xu, Kohavi & Walker 2013): y - θ(x - mean x), θ = cov(x, y) / var(x),
    over all units of an experiment, every arm together, so the adjustment has mean zero
    in each arm in expectation and the effect estimate stays unbiased. θ is 0 when x does
    not vary. Gives the columns theta and revenue_cuped."""
    centred = x - x.mean().over(by)
    ss = (centred * centred).sum().over(by)
    theta = pl.when(ss > 0).then((centred * (y - y.mean().over(by))).sum().over(by) / ss).otherwise(0.0)
    return [theta.alias("theta"), (y - theta * centred).alias("revenue_cuped")]


def cuped_notes(summary: pl.DataFrame, covariate: str) -> list[str]:
    """Per experiment: θ and how much of revenue's variance CUPED removed."""
    by_experiment = summary.group_by("experiment", maintain_order=True).agg(
        pl.col("theta").first(),
        (1 - ((pl.col("units") - 1) * pl.col("revenue_cuped_var")).sum()
         / ((pl.col("units") - 1) * pl.col("revenue_var")).sum()).alias("reduction"),
    )
    return [
        f"{r['experiment']}: revenue per unit compared after CUPED on {covariate} (theta {r['theta']:.4g}); "
        f"within-variant variance of revenue {max(r['reduction'] or 0.0, 0.0):.0%} lower."
        for r in by_experiment.iter_rows(named=True)
    ]


def pick_control(variants: list[str], control: str | None, experiment: str) -> str:
    if control is not None:
        if control not in variants:
            raise InputError(
                f"experiment {experiment!r} has no variant {control!r} (variants: {', '.join(variants)})",
                fix="pass --control with one of those variants",
            )
        return control
    by_name = {v.lower(): v for v in variants}
    return next((by_name[c] for c in CONTROL_NAMES if c in by_name), variants[0])


def read_out(
    group: pl.DataFrame, experiment: str, control: str | None, split: Mapping[str, float] | None,
    confidence: float, interval: str = "newcombe", sequential: bool = False,
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Variants, comparisons and SRM rows for one experiment's per-variant summary."""
    variants = group["variant"].to_list()
    if len(variants) < 2:
        raise AnalysisError(
            f"experiment {experiment!r} has only one variant ({variants[0]}); a readout needs a "
            "control and at least one other variant. Fix: check the variant column"
        )
    ctrl = pick_control(variants, control, experiment)
    planned = planned_shares(variants, split, experiment)
    n = group["units"].to_numpy().astype(float)
    x = group["conversions"].to_numpy().astype(float)
    chi2, srm_p = stats.chisquare_gof(n, planned)
    rows = group.with_columns(
        (pl.col("variant") == ctrl).alias("is_control"),
        (pl.col("units") / pl.col("units").sum()).alias("share"),
        pl.Series("planned_share", planned),
        (pl.col("conversions") / pl.col("units")).alias("rate"),
    )
    c = variants.index(ctrl)
    t = np.array([i for i in range(len(variants)) if i != c])
    z, p = stats.two_proportion_ztest(x[t], n[t], x[c], n[c])
    lo, hi = stats.diff_ci(x[t], n[t], x[c], n[c], confidence, interval)
    rlo, rhi = stats.ratio_ci_log(x[t], n[t], x[c], n[c], confidence)
    adjusted = "revenue_cuped_mean" in group.columns
    m = group["revenue_cuped_mean" if adjusted else "revenue_per_unit"].to_numpy()
    var = group["revenue_cuped_var" if adjusted else "revenue_var"].to_numpy()
    rdiff, rev_lo, rev_hi, _, _, rp = stats.welch(m[t], var[t], n[t], m[c], var[c], n[c], confidence)
    raw = group["revenue_per_unit"].to_numpy()
    rate = x / n
    with np.errstate(divide="ignore", invalid="ignore"):
        lift = rate[t] / rate[c] - 1
    comparisons = pl.DataFrame({
        "experiment": experiment,
        "variant": [variants[i] for i in t],
        "baseline": ctrl,
        "rate": rate[t],
        "baseline_rate": rate[c],
        "diff": rate[t] - rate[c],
        "diff_ci_low": lo, "diff_ci_high": hi,
        "relative_lift": lift, "relative_lift_ci_low": rlo - 1, "relative_lift_ci_high": rhi - 1,
        "z": z, "p_value": p, "p_value_holm": stats.holm(p),
        "revenue_diff": rdiff, "revenue_diff_ci_low": rev_lo, "revenue_diff_ci_high": rev_hi,
        "revenue_p_value": rp, "revenue_p_value_holm": stats.holm(rp),
        "revenue_diff_unadjusted": raw[t] - raw[c],
        "srm_p_value": srm_p,
    })
    decide_on = "p_value_holm"
    if sequential:
        comparisons = comparisons.with_columns(**sequential_columns(x, n, m, var, t, c, confidence))
        decide_on = "sequential_p_value_holm"
    comparisons = comparisons.with_columns(unknown_to_null()).with_columns(
        (pl.col(decide_on) < 1 - confidence).fill_null(False).alias("significant"))
    if not adjusted:
        comparisons = comparisons.drop("revenue_diff_unadjusted")
    srm = pl.DataFrame({
        "experiment": [experiment], "units": [int(n.sum())], "chi2": [chi2],
        "df": [len(variants) - 1], "p_value": [srm_p], "mismatch": [srm_p < SRM_ALPHA],
    })
    rows = rows.sort(~pl.col("is_control"), "variant").select(
        "experiment", "variant", "is_control", "units", "share", "planned_share", "conversions", "rate",
        "revenue", "revenue_per_unit",
    )
    return rows, comparisons, srm


def sequential_columns(x, n, m, var, t, c, confidence) -> dict[str, np.ndarray]:
    """Anytime-valid tests of the conversion rate (its 0/1 outcomes in the same linear
    model) and of revenue per unit, each variant against the control."""
    with np.errstate(divide="ignore", invalid="ignore"):
        rate_var = x * (n - x) / (n * (n - 1))  # sample variance of the 0/1 outcome
    _, lo, hi, p = stats.anytime_valid_t(x[t] / n[t], rate_var[t], n[t], x[c] / n[c], rate_var[c], n[c], confidence)
    _, rlo, rhi, rp = stats.anytime_valid_t(m[t], var[t], n[t], m[c], var[c], n[c], confidence)
    return {
        "sequential_diff_ci_low": lo, "sequential_diff_ci_high": hi,
        "sequential_p_value": p, "sequential_p_value_holm": stats.holm(p),
        "revenue_sequential_ci_low": rlo, "revenue_sequential_ci_high": rhi, "revenue_sequential_p_value": rp,
    }


def unknown_to_null() -> list[pl.Expr]:
    """0/0 rates, lifts against a zero baseline and tests on one unit are unknown, not numbers."""
    floats = cs.float()
    return [pl.when(floats.is_finite()).then(floats).otherwise(None).name.keep()]


def planned_shares(variants: list[str], split: Mapping[str, float] | None, experiment: str) -> np.ndarray:
    if not split:
        return np.full(len(variants), 1 / len(variants))
    missing = [v for v in variants if v not in split]
    if missing or any(w <= 0 for w in split.values()):
        raise InputError(
            f"the planned split must give a positive weight to every variant of {experiment!r} "
            f"(missing: {', '.join(missing) or 'none'})",
            fix="pass --split control=50,treatment=50",
        )
    weights = np.array([split[v] for v in variants], dtype=float)
    return weights / weights.sum()


def verdicts(comparisons: pl.DataFrame, srm: pl.DataFrame, confidence: float) -> list[str]:
    """One plain sentence per comparison, and an SRM warning where the split is broken."""
    level = f"{confidence:.0%}"
    out = [
        f"{r['experiment']} SAMPLE RATIO MISMATCH (p={r['p_value']:.2g}): units do not follow the "
        "planned split, so the assignment may be broken; do not read this result."
        for r in srm.filter(pl.col("mismatch")).iter_rows(named=True)
    ]
    prefix = "sequential_" if "sequential_p_value" in comparisons.columns else ""
    kind = "anytime-valid " if prefix else ""
    for r in comparisons.iter_rows(named=True):
        low, high, p, holm = (r[f"{prefix}{c}"] for c in ("diff_ci_low", "diff_ci_high", "p_value", "p_value_holm"))
        if low is None or p is None:  # 0/0: nothing to say
            continue
        word = "significant" if r["significant"] else "not significant"
        out.append(
            f"{r['experiment']}: {r['variant']} vs {r['baseline']} {r['diff'] * 100:+.2f} pts "
            f"({level} {kind}CI {low * 100:+.2f} to {high * 100:+.2f}), "
            f"{kind}p={p:.3g} (Holm {holm:.3g}): {word} at {level}."
        )
    return out
