"""Scale analyses started from a workspace: what the CLI and the TUI call.

Dates: scores are as of `as_of` (the spec's as_of, else the last transaction date).
Anything that needs later behaviour (regression weights, criterion validity) looks at
an earlier date, as_of − outcome_days, so the outcome window is fully observed:
items as of that date, the outcome = bought within outcome_days after it.
"""

from __future__ import annotations

import datetime as dt

from core.errors import AnalysisError
from core.result import Result
from core.scale import build
from core.scale.data import outcome, scale_data, schema_columns
from core.scale.score import score
from core.scale.spec import ScaleSpec, init_spec

# Customer features offered as items by `scale init` (the others are listed in a comment).
INIT_FEATURES = ("recency_days", "frequency", "monetary", "tenure_days", "engagement")


def init_text(ws, *, name: str = "Loyalty index") -> str:
    """A commented starting spec from the workspace's survey columns and features."""
    survey, features = schema_columns(ws)
    chosen = [*survey, *(f for f in INIT_FEATURES if f in features)]
    others = [f for f in features if f not in chosen]
    ranges = {column: (low, high) for column, low, high, _ in ws.sources["survey"].ranges} if ws.has("survey") else {}
    return init_spec(chosen, name=name, also_available=others, ranges=ranges)


def _as_of(spec: ScaleSpec, as_of: dt.date | None) -> dt.date | None:
    return as_of or spec.as_of


def _calibration(ws, spec: ScaleSpec, as_of: dt.date):
    """Items as of as_of − outcome_days and the outcome in the window after it."""
    start = as_of - dt.timedelta(days=spec.outcome_days)
    data = scale_data(ws, start)
    if data.table.height == 0:
        raise AnalysisError(f"no customer had bought by {start} (as-of date minus "
                            f"{spec.outcome_days} outcome days); use a later as-of date")
    later, notes = outcome(ws, start, spec.outcome_days)
    return data, later, notes


def spec_weights(ws, spec: ScaleSpec, data) -> Result:
    data.require_items(spec)  # first: every path (check, score, validate, the app) weighs the items
    if spec.weights != "regression":
        return build.weights(spec, data.table)
    calib, later, notes = _calibration(ws, spec, data.as_of)
    result = build.weights(spec, calib.table, outcome=later)
    return Result(result.name, result.title, result.tables, result.headline, result.charts,
                  {**result.params, "calibration_date": calib.as_of}, (*result.notes, *notes))


def run_check(ws, spec: ScaleSpec, *, as_of: dt.date | None = None, ci: str = "feldt",
              level: float = 0.95, n_boot: int = 1000, seed: int | None = 0) -> Result:
    """Reliability, weights and sensitivity of the spec's items as of as_of."""
    data = scale_data(ws, _as_of(spec, as_of))
    return build.check(data.table, spec, ci=ci, level=level, n_boot=n_boot, seed=seed,
                       weights_result=spec_weights(ws, spec, data),
                       params={"as_of": data.as_of})


def run_score(ws, spec: ScaleSpec, *, as_of: dt.date | None = None) -> Result:
    data = scale_data(ws, _as_of(spec, as_of))
    w = spec_weights(ws, spec, data)
    result = score(data.table, spec, build.weight_map(w))
    return Result(result.name, result.title, result.tables,
                  {**result.headline, "as_of": data.as_of}, result.charts,
                  {**result.params, "as_of": data.as_of, "weight_method": spec.weights},
                  (*result.notes, *w.notes))


def run_validate(ws, spec: ScaleSpec, *, as_of: dt.date | None = None,
                 n_factors: int | None = None, rotation: str = "varimax") -> Result:
    """EFA on the items as of as_of; criterion validity of the score as of
    as_of − outcome_days against buying in the outcome_days after it."""
    data = scale_data(ws, _as_of(spec, as_of))
    calib, later, notes = _calibration(ws, spec, data.as_of)
    w = spec_weights(ws, spec, data)
    scores = score(calib.table, spec, build.weight_map(w)).tables["scores"]
    result = build.validate(data.table, spec, scores=scores, outcome=later, n_factors=n_factors,
                            rotation=rotation)
    if spec.weights == "regression":
        notes = [*notes, "The regression weights were fitted on this same outcome window, so "
                 "the AUC is optimistic; judge it on a later period."]
    return Result(result.name, result.title, result.tables,
                  {**result.headline, "as_of": data.as_of, "outcome_start": calib.as_of,
                   "outcome_days": spec.outcome_days},
                  result.charts, {**result.params, "as_of": data.as_of},
                  (*result.notes, *notes))


# -- from a spec file: what core.registry runs (`loyalist scale check|score|validate`) -------


def spec_from_file(path, missing: str | None = None) -> ScaleSpec:
    import dataclasses

    from core.scale.spec import load_spec

    spec = load_spec(path)
    return dataclasses.replace(spec, missing=missing) if missing else spec


def check_spec_file(ws, *, spec, missing: str | None = None, ci: str = "feldt", level: float = 0.95,
                    n_boot: int = 1000, seed: int = 0, as_of: dt.date | None = None) -> Result:
    return run_check(ws, spec_from_file(spec, missing), as_of=as_of, ci=ci, level=level, n_boot=n_boot, seed=seed)


def score_spec_file(ws, *, spec, as_of: dt.date | None = None) -> Result:
    return run_score(ws, spec_from_file(spec), as_of=as_of)


def validate_spec_file(ws, *, spec, factors: int | None = None, rotation: str = "varimax",
                       as_of: dt.date | None = None) -> Result:
    return run_validate(ws, spec_from_file(spec), as_of=as_of, n_factors=factors, rotation=rotation)
