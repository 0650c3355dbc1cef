"""Two groups of customers side by side: each metric, the difference and its interval.

Means use Welch's t interval and test, shares Newcombe's hybrid score interval with the pooled z-test,
NPS the difference of two NPS with SE = sqrt(SE1^2 + SE2^2) (normal approximation).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import polars as pl

if TYPE_CHECKING:
    import numpy as np

# numpy, scipy.special and core.evaluate.stats are imported where a comparison is made
# (about 0.3 s): importing this module for its Metric declarations costs nothing.

MEAN, SHARE, NPS = "mean", "share", "nps"


@dataclass(frozen=True)
class Metric:
    name: str  # row label, e.g. "retention"
    column: str  # per-customer column in the table
    kind: str  # MEAN | SHARE | NPS


def compare_groups(
    table: pl.DataFrame, flag: str, labels: tuple[str, str], metrics: list[Metric], confidence: float,
) -> pl.DataFrame:
    """One row per metric: value in each group (flag false, flag true), n, diff (true - false),
    its interval, relative difference and p-value. Metrics with no data in a group are skipped."""
    import numpy as np
    from scipy import special

    from core.evaluate import stats

    a_label, b_label = labels
    z = stats.z_critical(confidence)
    rows = []
    for metric in metrics:
        if metric.column not in table.columns:
            continue
        values = table.select(pl.col(flag), pl.col(metric.column)).drop_nulls()
        a = values.filter(~pl.col(flag))[metric.column].to_numpy()
        b = values.filter(pl.col(flag))[metric.column].to_numpy()
        if a.size < 2 or b.size < 2:
            continue
        if metric.kind == MEAN:
            va, vb = a.astype(float), b.astype(float)
            diff, lo, hi, _, _, p = stats.welch(vb.mean(), vb.var(ddof=1), vb.size,
                                                va.mean(), va.var(ddof=1), va.size, confidence)
            ea, eb = va.mean(), vb.mean()
        elif metric.kind == SHARE:
            xa, xb = a.astype(bool).sum(), b.astype(bool).sum()
            ea, eb = xa / a.size, xb / b.size
            lo, hi = stats.diff_ci_newcombe(xb, b.size, xa, a.size, confidence)
            _, p = stats.two_proportion_ztest(xb, b.size, xa, a.size)
            diff = eb - ea
        else:
            (ea, sa), (eb, sb) = nps_and_se(a), nps_and_se(b)
            diff = eb - ea
            se = np.hypot(sa, sb)
            lo, hi = diff - z * se, diff + z * se
            p = 2 * special.ndtr(-abs(diff) / se) if se > 0 else float("nan")
        rows.append({
            "metric": metric.name, a_label: float(ea), b_label: float(eb),
            f"n_{a_label}": int(a.size), f"n_{b_label}": int(b.size),
            "diff": float(diff), "diff_ci_low": float(lo), "diff_ci_high": float(hi),
            "relative_diff": float(diff / ea) if ea else None, "p_value": float(p),
        })
    schema = {"metric": pl.String, a_label: pl.Float64, b_label: pl.Float64,
              f"n_{a_label}": pl.Int64, f"n_{b_label}": pl.Int64, "diff": pl.Float64,
              "diff_ci_low": pl.Float64, "diff_ci_high": pl.Float64, "relative_diff": pl.Float64,
              "p_value": pl.Float64}
    return pl.DataFrame(rows, schema=schema).fill_nan(None)


def nps_and_se(scores: np.ndarray) -> tuple[float, float]:
    from core.evaluate import stats

    p, d = (scores >= 9).mean(), (scores <= 6).mean()
    return 100 * (p - d), float(stats.nps_se(p, d, scores.size))
