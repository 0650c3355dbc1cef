"""Maximum likelihood in log-parameter space: several starts, checks, standard errors.

Models hand over the negative log-likelihood and its gradient, both with respect to the
log of each (positive) parameter. The best of several L-BFGS-B runs wins; the fit is
accepted only if it converged, is finite and is not stuck on the search box. Standard
errors come from the observed information: a numerical Hessian (central differences of
the analytic gradient) in log space, carried to the natural scale by the delta method.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from threadpoolctl import threadpool_limits

from core.errors import AnalysisError

# Above this many customers the starting points are explored on a random subsample.
EXPLORE_SIZE = 50_000
# Largest gradient of the mean log-likelihood accepted as a stationary point.
GRADIENT_TOL = 1e-5
# exp(±15) spans 3e-7 .. 3e6, wider than any sensible parameter of these models; an
# estimate beyond exp(±14) (1e6) counts as having run off to 0 or infinity.
LOG_BOUND = 15.0
# A log-scale standard error above this (95% interval wider than a factor of ~100 each
# way) marks a parameter as poorly determined.
WEAK_LOG_SE = 2.3
Objective = Callable[[np.ndarray], tuple[float, np.ndarray]]


@dataclass(frozen=True)
class MLEFit:
    names: tuple[str, ...]
    estimates: np.ndarray  # natural scale
    log_likelihood: float
    cov: np.ndarray  # natural scale
    se: np.ndarray
    n_iter: int
    starts: int
    starts_converged: int
    starts_at_best: int  # converged starts that reached the best log-likelihood
    message: str
    explored_on: int | None = None  # subsample size the starts ran on, if any

    @property
    def poorly_determined(self) -> tuple[str, ...]:
        """Parameters whose 95% interval spans more than a factor of ~100 each way."""
        log_se = self.se / self.estimates
        return tuple(n for n, v in zip(self.names, log_se) if v > WEAK_LOG_SE)


def _minimise(objective: Objective, n_obs: float, start: np.ndarray, k: int, max_iter: int):
    """One L-BFGS-B run on the mean negative log-likelihood (tolerances independent of n)."""

    def mean_objective(x: np.ndarray) -> tuple[float, np.ndarray]:
        value, grad = objective(x)
        return value / n_obs, grad / n_obs

    with np.errstate(all="ignore"):
        res = minimize(
            mean_objective, np.asarray(start, float), jac=True, method="L-BFGS-B",
            bounds=[(-LOG_BOUND, LOG_BOUND)] * k,
            options={"maxiter": max_iter, "ftol": 1e-12, "gtol": 1e-9},
        )
    if not (np.isfinite(res.fun) and np.all(np.isfinite(res.x))):
        return None
    # L-BFGS-B reports an "abnormal" line search when it cannot improve at machine
    # precision; with a vanishing gradient that is convergence, not failure.
    res.success = bool(res.success or np.max(np.abs(res.jac)) < GRADIENT_TOL)
    return res


def fit_log_space(
    objective: Objective,
    names: Sequence[str],
    starts: Sequence[np.ndarray],
    *,
    model: str,
    n_obs: float,
    explore: tuple[Objective, float] | None = None,
    hint: str = "",
    max_iter: int = 2000,
) -> MLEFit:
    """Minimise ``objective`` (total negative log-likelihood, gradient) from every start.

    With ``explore`` (the objective on a random subsample and its size), the starts run
    on the subsample and only the best is then polished on all the data: a million
    customers cost a few full-data passes instead of a few hundred. ``hint`` completes
    the error message when the data do not identify the model.
    """
    # L-BFGS-B calls BLAS on tiny matrices every step; a threaded BLAS turns each call
    # into thread wake-ups that cost milliseconds, far more than the likelihood itself.
    with threadpool_limits(limits=1, user_api="blas"):
        return _fit(objective, names, starts, model, n_obs, explore, hint, max_iter)


def _fit(objective, names, starts, model, n_obs, explore, hint, max_iter) -> MLEFit:
    search, search_n = explore or (objective, n_obs)
    runs = [r for s in starts if (r := _minimise(search, search_n, s, len(names), max_iter))]
    converged = [r for r in runs if r.success]
    if not converged:
        why = runs[0].message if runs else "the likelihood was not finite at any start"
        raise AnalysisError(
            f"the {model} model did not converge from {len(starts)} starting points ({why}); "
            "the data may be too few or too regular for this model"
        )
    best = min(converged, key=lambda r: r.fun)
    at_best = sum(abs(r.fun - best.fun) <= 1e-6 * max(1.0, abs(best.fun)) for r in converged)
    if explore is not None:
        best = _minimise(objective, n_obs, best.x, len(names), max_iter)
        if best is None or not best.success:
            raise AnalysisError(
                f"the {model} model did not converge on the full data "
                f"({best.message if best is not None else 'the likelihood was not finite'})"
            )
    at_bound = [n for n, v in zip(names, best.x) if abs(v) > LOG_BOUND - 1]
    if at_bound:
        raise AnalysisError(
            f"the {model} model's parameter(s) {', '.join(at_bound)} ran off towards 0 or "
            f"infinity: the data do not identify the model{f' ({hint})' if hint else ''}"
        )
    theta = np.exp(best.x)
    cov_log = _inverse_hessian(objective, best.x, model)
    cov = cov_log * np.outer(theta, theta)
    return MLEFit(
        names=tuple(names), estimates=theta, log_likelihood=-float(best.fun) * n_obs, cov=cov,
        se=np.sqrt(np.diag(cov)), n_iter=int(best.nit), starts=len(starts),
        starts_converged=len(converged), starts_at_best=int(at_best), message=str(best.message),
        explored_on=int(search_n) if explore is not None else None,
    )


def _inverse_hessian(objective: Objective, x: np.ndarray, model: str) -> np.ndarray:
    k = len(x)
    hess = np.empty((k, k))
    for j in range(k):
        h = 1e-5 * max(1.0, abs(x[j]))
        up, down = x.copy(), x.copy()
        up[j] += h
        down[j] -= h
        hess[:, j] = (objective(up)[1] - objective(down)[1]) / (2 * h)
    hess = (hess + hess.T) / 2
    eigen = np.linalg.eigvalsh(hess)
    if not np.all(np.isfinite(eigen)) or eigen.min() <= 0:
        raise AnalysisError(
            f"the {model} likelihood is flat or curved the wrong way at the best fit (the "
            "information matrix is not positive definite): the data do not pin down all the "
            "parameters, so the estimates and their standard errors cannot be trusted"
        )
    return np.linalg.inv(hess)


def compress(*columns: np.ndarray) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """Unique rows of the given columns, their counts and the map back to every row.

    Customers with identical (x, t_x, T) contribute identical likelihood terms, so
    fitting on unique rows with counts as weights is exact and much faster. Dates make
    histories coincide often: a million customers have a few hundred thousand distinct ones.
    """
    cols = [np.asarray(c, float) for c in columns]
    n = len(cols[0])
    # One lexicographic sort (ascending, so the likelihood is summed in the same order every
    # run: issue 20) and a scan for where a row differs from the one before; several times
    # cheaper than a group_by joined back to every row.
    order = np.lexsort(cols[::-1])
    ordered = [c[order] for c in cols]
    new = np.zeros(n, bool)
    new[:1] = True
    for c in ordered:
        new[1:] |= c[1:] != c[:-1]
    starts = np.flatnonzero(new)
    inverse = np.empty(n, np.int64)
    inverse[order] = np.cumsum(new) - 1
    counts = np.diff(np.append(starts, n)).astype(float)
    return [c[starts] for c in ordered], counts, inverse


def exploration_sample(n: int, seed: int) -> np.ndarray | None:
    """Row indices of a random subsample for exploring starts, or None if n is small."""
    if n <= EXPLORE_SIZE:
        return None
    return np.random.default_rng(seed).choice(n, EXPLORE_SIZE, replace=False)


def dot(a: np.ndarray, b: np.ndarray) -> float:
    """Sum of a * b without BLAS: a threaded BLAS dot on a busy machine (or beside other
    threads in the app) costs far more than the multiply-and-add itself."""
    return float(np.add.reduce(a * b))


def store_fit(model: object, fit: MLEFit, *, n_customers: int) -> None:
    """Set the learned attributes every maximum-likelihood model here shares."""
    model.fit_ = fit
    model.params_ = dict(zip(fit.names, fit.estimates.tolist()))
    model.se_ = dict(zip(fit.names, fit.se.tolist()))
    model.cov_ = fit.cov
    model.log_likelihood_ = fit.log_likelihood
    model.n_customers_ = n_customers
