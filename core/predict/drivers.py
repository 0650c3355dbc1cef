"""Key-driver analysis: which measures move an outcome (NPS, a loyalty score, retention).

Input is a plain DataFrame: one outcome column and numeric predictor columns, one row
per respondent or customer. The analysis reports, per driver:

- the standardised regression coefficient (beta) with a bootstrap interval;
- its share of the explained variance (Johnson's relative weights, or the Shapley
  decomposition of R^2), with a bootstrap interval: the headline number;
- permutation importance on a holdout, for a model fitted on the rest of the rows;
- how stable its share and rank are across cross-validation folds;

plus a plain-language summary ("delivery explains 31% of the explained variance").
A 0/1 outcome (retention) is treated as a linear probability model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import polars as pl
from threadpoolctl import threadpool_limits

from core.errors import AnalysisError, InputError
from core.predict.importance import METHODS, r_squared, standardized_coefficients
from core.result import Chart, Result

ID_COLUMNS = ("customer_id",)
MIN_ROWS = 30
ROWS_PER_PREDICTOR = 5
MAX_CONDITION = 1e8  # correlation-matrix condition number beyond which betas are noise
SUMMARY_MIN_SHARE = 5.0  # drivers below this share of explained variance go unmentioned
WEAK_R2 = 0.05  # below this the drivers explain too little for their shares to mean much


def _design(
    data: pl.DataFrame, outcome: str, predictors: Sequence[str] | None
) -> tuple[np.ndarray, np.ndarray, list[str], int]:
    if outcome not in data.columns:
        raise InputError(
            f"no outcome column {outcome!r}; columns are {', '.join(data.columns)}",
            column=outcome, fix="choose an existing column with --outcome",
        )
    if predictors is None:
        predictors = [
            c for c, t in data.schema.items()
            if c != outcome and c not in ID_COLUMNS and (t.is_numeric() or t == pl.Boolean)
        ]
    predictors = list(predictors)
    if not predictors:
        raise InputError("no numeric predictor columns", fix="name the predictors to use")
    for col in [outcome, *predictors]:
        if col not in data.columns:
            raise InputError(f"no column {col!r}", column=col, fix="check the predictor names")
        dtype = data.schema[col]
        if not (dtype.is_numeric() or dtype == pl.Boolean):
            raise InputError(
                f"column {col!r} is {dtype}, not numeric", column=col,
                fix="code it as numbers (e.g. a 1-5 scale or 0/1) or leave it out",
            )
    if outcome in predictors:
        raise InputError(f"the outcome {outcome!r} is also a predictor", column=outcome,
                         fix="leave it out of the predictors")
    frame = data.select([outcome, *predictors]).cast(pl.Float64)
    complete = frame.drop_nulls().filter(pl.all_horizontal(pl.all().is_finite()))
    dropped = frame.height - complete.height
    values = complete.to_numpy()
    y, x = values[:, 0], values[:, 1:]
    need = max(MIN_ROWS, ROWS_PER_PREDICTOR * (len(predictors) + 1))
    if len(y) < need:
        raise AnalysisError(
            f"key-driver analysis of {len(predictors)} predictors needs at least {need} "
            f"complete rows; there are {len(y)}"
        )
    if np.ptp(y) == 0:
        raise AnalysisError(f"the outcome {outcome!r} does not vary, so nothing drives it")
    flat = [p for p, v in zip(predictors, np.ptp(x, axis=0)) if v == 0]
    if flat:
        raise InputError(
            f"predictor(s) {', '.join(flat)} do not vary", column=flat[0], fix="leave them out"
        )
    return x, y, predictors, dropped


def _correlations(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r = np.corrcoef(np.column_stack([x, y]), rowvar=False)
    return r[:-1, :-1], r[:-1, -1]


def _check_collinearity(rxx: np.ndarray, names: list[str]) -> None:
    if np.linalg.cond(rxx) > MAX_CONDITION:
        off = np.abs(rxx - np.eye(len(names)))
        i, j = np.unravel_index(np.argmax(off), off.shape)
        raise AnalysisError(
            f"the predictors are (nearly) perfectly collinear, e.g. {names[i]} and {names[j]} "
            f"(r = {rxx[i, j]:.3f}); drop one of them"
        )


def _importance(x, y, method) -> tuple[np.ndarray, np.ndarray, float]:
    """(betas, raw importances, R^2) from one sample of rows."""
    rxx, rxy = _correlations(x, y)
    return standardized_coefficients(rxx, rxy), METHODS[method](rxx, rxy), r_squared(rxx, rxy)


def _bootstrap(x, y, method, n_boot, rng) -> tuple[np.ndarray, np.ndarray, int]:
    n = len(y)
    betas, shares, failed = [], [], 0
    for _ in range(n_boot):  # replicates, each a few small matrix operations
        rows = rng.integers(0, n, n)
        xb, yb = x[rows], y[rows]
        if np.ptp(yb) == 0 or (np.ptp(xb, axis=0) == 0).any():
            failed += 1
            continue
        try:
            b, imp, r2 = _importance(xb, yb, method)
        except (np.linalg.LinAlgError, AnalysisError):
            failed += 1
            continue
        betas.append(b)
        shares.append(100 * imp / imp.sum())
    if len(betas) < max(20, n_boot // 2):
        raise AnalysisError(
            f"only {len(betas)} of {n_boot} bootstrap samples could be analysed: the data "
            "are too few or too lumpy for confidence intervals"
        )
    return np.array(betas), np.array(shares), failed


def _ols(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Least-squares coefficients with an intercept first."""
    design = np.column_stack([np.ones(len(y)), x])
    return np.linalg.lstsq(design, y, rcond=None)[0]


def _r2(coef: np.ndarray, x: np.ndarray, y: np.ndarray) -> float:
    """R^2 of a fitted model on (possibly new) rows: 1 - SSE / SS around their mean."""
    resid = y - coef[0] - x @ coef[1:]
    return float(1 - (resid @ resid) / ((y - y.mean()) @ (y - y.mean())))


def _permutation_importance(coef, x, y, n_repeats, rng) -> tuple[np.ndarray, np.ndarray]:
    """Drop in R^2 on these rows when one column is shuffled (Breiman; mean and sd)."""
    base = _r2(coef, x, y)
    drops = np.empty((x.shape[1], n_repeats))
    for j in range(x.shape[1]):
        shuffled = x.copy()
        for k in range(n_repeats):
            shuffled[:, j] = rng.permutation(x[:, j])
            drops[j, k] = base - _r2(coef, shuffled, y)
    return drops.mean(axis=1), drops.std(axis=1)


def _cross_validation(x, y, method, n_folds, rng) -> tuple[np.ndarray, np.ndarray]:
    """Shares fitted on each fold's training rows, and out-of-fold R^2."""
    fold = rng.permutation(len(y)) % n_folds
    shares, oof_r2 = [], []
    for k in range(n_folds):
        train, test = fold != k, fold == k
        _, imp, _ = _importance(x[train], y[train], method)
        shares.append(100 * imp / imp.sum())
        oof_r2.append(_r2(_ols(x[train], y[train]), x[test], y[test]))
    return np.array(shares), np.array(oof_r2)


def _ranks(shares: np.ndarray) -> np.ndarray:
    """Rank 1 = largest share, per row."""
    order = np.argsort(-shares, axis=-1, kind="stable")
    return np.argsort(order, axis=-1, kind="stable") + 1


def _sentence(
    label: str, outcome: str, share: float, lo: float, hi: float, r: float, confidence: float
) -> str:
    # direction from the plain correlation: betas of correlated drivers can flip sign
    direction = "" if r >= 0 else f"; higher {label} goes with lower {outcome}"
    return (
        f"{label} explains {share:.0f}% of the explained variance in {outcome} "
        f"({confidence:.0%} CI {lo:.0f}-{hi:.0f}%){direction}."
    )


def _plain_summary(
    drivers: pl.DataFrame, outcome: str, r2: float, holdout_r2: float, confidence: float
) -> tuple[str, list[str]]:
    """The overall fit in words, then one sentence per driver that matters."""
    overall = (
        f"Together the {drivers.height} drivers explain {r2:.0%} of the variance in {outcome} "
        f"({max(holdout_r2, 0.0):.0%} on held-out rows)."
    )
    if r2 < WEAK_R2 or holdout_r2 <= 0:
        overall += (" That is too little to rank the drivers with confidence: read the shares "
                    "below as noise.")
    sentences = [
        _sentence(d["label"], outcome, d["share"], d["share_ci_lower"], d["share_ci_upper"],
                  d["correlation"], confidence)
        for d in drivers.iter_rows(named=True)
        if d["share"] >= SUMMARY_MIN_SHARE
    ]
    return overall, sentences


def key_drivers(
    data: pl.DataFrame,
    outcome: str,
    predictors: Sequence[str] | None = None,
    *,
    method: str = "relative_weights",
    labels: Mapping[str, str] | None = None,
    n_boot: int = 500,
    holdout: float = 0.25,
    n_folds: int = 5,
    n_repeats: int = 20,
    confidence: float = 0.95,
    random_state: int = 0,
) -> Result:
    """Which predictors drive ``outcome``; see the module docstring for what is reported."""
    if method not in METHODS:
        raise InputError(f"unknown importance method {method!r}",
                         fix=f"use one of {', '.join(METHODS)}")
    if not 0 < holdout < 1 or n_folds < 2 or n_boot < 20 or not 0.5 < confidence < 1:
        raise InputError(
            "holdout must be a fraction in (0, 1), folds at least 2, bootstrap samples at "
            "least 20 and confidence in (0.5, 1)", fix="e.g. --holdout 0.25 --folds 5",
        )
    x, y, names, dropped = _design(data, outcome, predictors)
    labels = {n: (labels or {}).get(n, n) for n in names}
    # every matrix here is predictors x predictors: threads only add start-up cost
    with threadpool_limits(limits=1):
        return _analyse(x, y, names, labels, dropped, outcome, method, n_boot, holdout,
                        n_folds, n_repeats, confidence, random_state)


def _analyse(x, y, names, labels, dropped, outcome, method, n_boot, holdout, n_folds,
             n_repeats, confidence, random_state) -> Result:
    rxx, rxy = _correlations(x, y)
    _check_collinearity(rxx, names)
    beta, raw, r2 = _importance(x, y, method)
    share = 100 * raw / raw.sum()

    rng = np.random.default_rng(random_state)
    boot_beta, boot_share, failed = _bootstrap(x, y, method, n_boot, rng)
    tail = 100 * (1 - confidence) / 2
    beta_lo, beta_hi = np.percentile(boot_beta, [tail, 100 - tail], axis=0)
    share_lo, share_hi = np.percentile(boot_share, [tail, 100 - tail], axis=0)

    order = rng.permutation(len(y))
    n_test = max(int(round(holdout * len(y))), 10)
    test, train = order[:n_test], order[n_test:]
    coef = _ols(x[train], y[train])
    holdout_r2 = _r2(coef, x[test], y[test])
    perm_mean, perm_sd = _permutation_importance(coef, x[test], y[test], n_repeats, rng)

    cv_shares, cv_r2 = _cross_validation(x, y, method, n_folds, rng)
    cv_ranks = _ranks(cv_shares)
    rank = _ranks(share)

    drivers = pl.DataFrame({
        "driver": names,
        "label": [labels[n] for n in names],
        "correlation": rxy,
        "beta": beta,
        "beta_ci_lower": beta_lo,
        "beta_ci_upper": beta_hi,
        "importance": raw,
        "share": share,
        "share_ci_lower": share_lo,
        "share_ci_upper": share_hi,
        "permutation_importance": perm_mean,
        "permutation_sd": perm_sd,
        "cv_share_mean": cv_shares.mean(axis=0),
        "cv_share_sd": cv_shares.std(axis=0, ddof=1),
        "cv_rank_min": cv_ranks.min(axis=0),
        "cv_rank_max": cv_ranks.max(axis=0),
        "rank": rank,
    }).sort("rank")
    stability = pl.DataFrame({
        "fold": np.repeat(np.arange(1, n_folds + 1), len(names)),
        "driver": names * n_folds,
        "share": cv_shares.ravel(),
        "rank": cv_ranks.ravel(),
    })
    top = drivers.row(0, named=True)
    overall, sentences = _plain_summary(drivers, outcome, r2, holdout_r2, confidence)
    method_name = {"relative_weights": "Johnson's relative weights",
                   "shapley": "the Shapley decomposition of R²"}[method]
    notes = [
        overall,
        *sentences,
        f"Shares of explained variance (R² = {r2:.3f}) by {method_name}; {confidence:.0%} "
        f"intervals from {len(boot_share)} bootstrap samples (percentile method).",
        f"Holdout: a linear model fitted on {len(train)} rows explains {holdout_r2:.1%} of the "
        f"variance of {len(test)} held-out rows; permutation importance is the drop in "
        "held-out R² when a driver's values are shuffled.",
        f"Across {n_folds} cross-validation folds the top driver was {top['label']} in "
        f"{int((cv_ranks[:, names.index(top['driver'])] == 1).sum())} of {n_folds}.",
    ]
    if dropped:
        notes.append(f"{dropped} rows with a missing value were left out (listwise).")
    if failed:
        notes.append(f"{failed} bootstrap samples without variation in a column were skipped.")
    if set(np.unique(y)) <= {0.0, 1.0}:
        notes.append(f"{outcome} is 0/1: read the model as a linear probability model.")
    return Result(
        name="predict.drivers",
        title=f"Key drivers of {outcome}",
        tables={"drivers": drivers, "stability": stability},
        # shares of explained variance are in percent (0-100)
        kinds={"drivers/share*": "points", "drivers/cv_share_*": "points", "stability/share": "points",
               "top_share": "points"},
        headline={
            "outcome": outcome,
            "method": method,
            "n": len(y),
            "predictors": len(names),
            "r2": r2,
            "holdout_r2": holdout_r2,
            "cv_r2_mean": float(cv_r2.mean()),
            "cv_r2_sd": float(cv_r2.std(ddof=1)),
            "top_driver": top["driver"],
            "top_share": top["share"],
            "top_driver_fold_agreement": float(
                (cv_ranks[:, names.index(top["driver"])] == 1).mean()
            ),
            "summary": " ".join([overall, *sentences[:3]]),
        },
        charts=(
            Chart("bar", "Share of explained variance (%)", "drivers", "label", "share"),
            Chart("bar", "Permutation importance on the holdout", "drivers", "label",
                  "permutation_importance"),
        ),
        params={
            "outcome": outcome, "predictors": names, "method": method, "n_boot": n_boot,
            "holdout": holdout, "n_folds": n_folds, "n_repeats": n_repeats,
            "confidence": confidence, "random_state": random_state,
        },
        notes=tuple(notes),
    )
