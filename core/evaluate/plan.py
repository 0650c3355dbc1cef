"""Experiment planning: sample size, power and minimum detectable effect for conversion rates.

The effect size is Cohen's h = 2·asin(√p2) − 2·asin(√p1) and the test a two-sided normal
test, as statsmodels' NormalIndPower computes it (both tails count towards power).
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl
from scipy import optimize
from scipy import stats as st

from core.errors import InputError
from core.result import Chart, Result

GRID_LIFTS = (0.02, 0.05, 0.10, 0.15, 0.20, 0.30, 0.50)


def cohens_h(p1: float, p2: float) -> float:
    return 2 * math.asin(math.sqrt(p2)) - 2 * math.asin(math.sqrt(p1))


def power(h, n_control, alpha: float, ratio: float = 1.0):
    """Power of the two-sided test with n_control units in control and ratio·n in the variant."""
    n = np.asarray(n_control, dtype=float)
    effective = 1 / (1 / n + 1 / (n * ratio))
    shift = np.abs(h) * np.sqrt(effective)
    crit = st.norm.isf(alpha / 2)
    return st.norm.sf(crit - shift) + st.norm.cdf(-crit - shift)


def required_units(h: float, alpha: float, target_power: float, ratio: float = 1.0) -> int:
    """Smallest control-group size reaching the target power (variant: ratio times that)."""
    if h == 0:
        raise InputError("a lift of zero cannot be detected", fix="pass a non-zero --lift")
    upper = 10.0
    while power(h, upper, alpha, ratio) < target_power:
        upper *= 10
    n = optimize.brentq(lambda m: power(h, m, alpha, ratio) - target_power, 1e-9, upper, xtol=1e-9)
    return math.ceil(n - 1e-9)


def detectable_rate(baseline: float, n_control: float, alpha: float, target_power: float,
                    ratio: float = 1.0) -> float:
    """Smallest rate above the baseline the test detects with the target power."""
    reach = math.pi - 2 * math.asin(math.sqrt(baseline))  # largest h upwards (p2 = 1)
    if power(reach, n_control, alpha, ratio) < target_power:
        return float("nan")
    h = optimize.brentq(lambda d: power(d, n_control, alpha, ratio) - target_power, 1e-12, reach)
    return math.sin(math.asin(math.sqrt(baseline)) + h / 2) ** 2


def plan(
    baseline: float,
    lift: float,
    *,
    relative: bool = True,
    alpha: float = 0.05,
    power_target: float = 0.8,
    ratio: float = 1.0,
    units: int | None = None,
) -> Result:
    """Units per variant to detect `lift` over the `baseline` rate; with `units`, power and MDE."""
    check(0 < baseline < 1, "the baseline rate must be between 0 and 1", "--baseline 0.05")
    check(0 < alpha < 1, "alpha must be between 0 and 1", "--alpha 0.05")
    check(0 < power_target < 1, "power must be between 0 and 1", "--power 0.8")
    check(ratio > 0, "the variant/control ratio must be positive", "--ratio 1")
    target = baseline * (1 + lift) if relative else baseline + lift
    check(0 < target < 1 and target != baseline,
          f"the lift gives a target rate of {target:.4g}, which must differ from the baseline "
          "and lie between 0 and 1", "a smaller --lift (relative: 0.1 means +10%)")
    h = cohens_h(baseline, target)
    n_control = required_units(h, alpha, power_target, ratio)
    n_variant = math.ceil(n_control * ratio - 1e-9)
    headline = {
        "baseline": baseline, "target_rate": target,
        "absolute_lift": target - baseline, "relative_lift": target / baseline - 1,
        "alpha": alpha, "power": power_target, "ratio": ratio, "effect_size_h": h,
        "units_control": n_control, "units_variant": n_variant, "units_total": n_control + n_variant,
    }
    if units is not None:
        check(units >= 2, "units must be 2 or more", "--units 1000")
        mde = detectable_rate(baseline, units, alpha, power_target, ratio)
        headline |= {
            "units_given": units,
            "power_at_units": float(power(h, units, alpha, ratio)),
            "mde_rate": mde, "mde_absolute": mde - baseline, "mde_relative": mde / baseline - 1,
        }
    lifts = sorted({*GRID_LIFTS, round(target / baseline - 1, 6)})
    grid = [
        (r, baseline * (1 + r), required_units(cohens_h(baseline, baseline * (1 + r)), alpha,
                                               power_target, ratio))
        for r in lifts if baseline * (1 + r) < 1
    ]
    sizes = pl.DataFrame(grid, schema=["relative_lift", "target_rate", "units_control"], orient="row")
    sizes = sizes.with_columns(
        (pl.col("units_control") * ratio - 1e-9).ceil().cast(pl.Int64).alias("units_variant")
    )
    ns = np.unique(np.linspace(max(n_control / 10, 2), n_control * 2, 40).round().astype(int))
    curve = pl.DataFrame({"units_control": ns, "power": power(h, ns, alpha, ratio)})
    return Result(
        name="report.experiment.plan",
        title="Experiment plan: sample size, power and minimum detectable effect",
        tables={"sample_sizes": sizes, "power_curve": curve},
        headline=headline,
        charts=(Chart("line", "Power by units per group", "power_curve", "units_control", ("power",)),),
        params={"baseline": baseline, "lift": lift, "relative": relative, "alpha": alpha,
                "power": power_target, "ratio": ratio, "units": units},
        notes=(
            f"Two-sided test at alpha {alpha:g}, power {power_target:g}; effect size Cohen's h "
            "(arcsine), normal approximation.",
        ),
    )


def plan_experiment(*, baseline: float, lift: float, absolute: bool = False, alpha: float = 0.05,
                    power: float = 0.8, ratio: float = 1.0, units: int | None = None) -> Result:
    """`plan` under the options `report experiment --plan` and recipes use (core.registry)."""
    return plan(baseline, lift, relative=not absolute, alpha=alpha, power_target=power, ratio=ratio, units=units)


def check(ok: bool, message: str, example: str) -> None:
    if not ok:
        raise InputError(message, fix=f"pass e.g. {example}")
