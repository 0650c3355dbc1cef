"""A/B experiment readout: per variant rates and revenue, each variant against the control.

Conversions: two-proportion z-test (pooled) p-value, Wald interval for the difference,
log-ratio (Katz) interval for the relative lift. Revenue per unit: Welch's t-test.
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


def experiment(
    experiments: pl.LazyFrame | None,
    transactions: pl.LazyFrame | None = None,
    campaigns: pl.LazyFrame | None = None,
    *,
    experiment: str | None = None,
    control: str | None = None,
    split: Mapping[str, float] | None = None,
    confidence: float = 0.95,
    window_days: int = 30,
    as_of: dt.date | None = None,
    workspace: str = UNNAMED,
) -> Result:
    """Read out one experiment (or every experiment in the table).

    Outcomes come from the experiments table's converted/revenue columns; where those are
    missing, from transactions within `window_days` after each unit's exposure_date.
    `split` maps variant to planned weight (equal by default) for the SRM check. Campaign
    holdout tests (experiments named after a campaign_id) are left to the campaign report
    unless `experiment` names one.
    """
    require(experiments, "experiments", ANALYSIS, workspace)
    if not 0 < confidence < 1:
        raise InputError("the confidence level must be between 0 and 1", fix="pass --confidence 0.95")
    lf = experiments
    if as_of is not None and "exposure_date" in names(lf):
        lf = lf.filter(on_or_before(pl.col("exposure_date"), as_of))
    holdouts = pl.LazyFrame({"experiment": []}, schema={"experiment": pl.String})
    if experiment is not None:
        lf = lf.filter(pl.col("experiment") == experiment)
    elif campaigns is not None:
        holdouts = campaigns.select(pl.col("campaign_id").alias("experiment")).unique()
        lf = lf.join(holdouts, on="experiment", how="anti")
    units, notes, has_revenue = unit_outcomes(lf, transactions, window_days, as_of)
    summary, overlap, skipped = pl.collect_all([
        units.group_by("experiment", "variant").agg(
            pl.len().alias("units"),
            pl.col("converted").sum().alias("conversions"),
            pl.col("revenue").sum().alias("revenue"),
            pl.col("revenue").mean().alias("revenue_per_unit"),
            pl.col("revenue").var().alias("revenue_var"),
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
        read_out(group, key[0], control, split, confidence)
        for key, group in summary.group_by("experiment", maintain_order=True)
    ]
    variants_df, comparisons_df, srm_df = (pl.concat(parts) for parts in zip(*readouts))
    notes.extend(verdicts(comparisons_df, srm_df, confidence))
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
                "confidence": confidence, "window_days": window_days, "as_of": as_of},
        notes=tuple(notes),
    )


def unit_outcomes(
    lf: pl.LazyFrame, transactions: pl.LazyFrame | None, window_days: int, as_of: dt.date | None
) -> tuple[pl.LazyFrame, list[str], bool]:
    """One row per (experiment, variant, customer): converted (bool) and revenue (float).

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
    units = lf.group_by(keys).agg(
        pl.col("converted").fill_null(False).cast(pl.Boolean).any(),
        pl.col("revenue").cast(pl.Float64).fill_null(0.0).sum(),
    )
    return units, notes, has_revenue


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
    confidence: float,
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
    lo, hi = stats.diff_ci_wald(x[t], n[t], x[c], n[c], confidence)
    rlo, rhi = stats.ratio_ci_log(x[t], n[t], x[c], n[c], confidence)
    m = group["revenue_per_unit"].to_numpy()
    var = group["revenue_var"].to_numpy()
    rdiff, rev_lo, rev_hi, _, _, rp = stats.welch(m[t], var[t], n[t], m[c], var[c], n[c], confidence)
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
        "srm_p_value": srm_p,
    }).with_columns(unknown_to_null()).with_columns(
        (pl.col("p_value_holm") < 1 - confidence).fill_null(False).alias("significant"))
    srm = pl.DataFrame({
        "experiment": [experiment], "units": [int(n.sum())], "chi2": [chi2],
        "df": [len(variants) - 1], "p_value": [srm_p], "mismatch": [srm_p < SRM_ALPHA],
    })
    rows = rows.sort(~pl.col("is_control"), "variant").select(
        "experiment", "variant", "is_control", "units", "share", "planned_share", "conversions", "rate",
        "revenue", "revenue_per_unit",
    )
    return rows, comparisons, srm


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
    for r in comparisons.iter_rows(named=True):
        if r["diff_ci_low"] is None:
            continue
        word = "significant" if r["significant"] else "not significant"
        out.append(
            f"{r['experiment']}: {r['variant']} vs {r['baseline']} {r['diff'] * 100:+.2f} pts "
            f"({level} CI {r['diff_ci_low'] * 100:+.2f} to {r['diff_ci_high'] * 100:+.2f}), "
            f"p={r['p_value']:.3g} (Holm {r['p_value_holm']:.3g}): {word} at {level}."
        )
    return out
