"""A spec applied to a table of items: check, weigh, score and validate in one place.

`data` is a per-customer table: customer_id, the spec's item columns (survey answers
and/or customer features) and, for tier profiles, any other numeric features.
core.scale.run does the same starting from a workspace.
"""

from __future__ import annotations

import polars as pl

from core.errors import InputError
from core.result import Result
from core.scale.items import normalise_items
from core.scale.readers import read_table
from core.scale.reliability import reliability
from core.scale.spec import ScaleSpec
from core.scale.validity import criterion_validity, efa
from core.scale.weights import data_weights, delphi, equal_weights, manual_weights, sensitivity

OUTCOME = "active"  # the outcome column name used by later_activity


def merge(name: str, title: str, *results: Result, params: dict | None = None) -> Result:
    """One Result holding the tables, headline figures, charts and notes of several."""
    tables: dict[str, pl.DataFrame] = {}
    headline: dict = {}
    for r in results:
        for key, table in r.tables.items():
            tables[key if key not in tables else f"{r.name.split('.')[-1]}_{key}"] = table
        headline.update(r.headline)
    return Result(
        name=name, title=title, tables=tables, headline=headline,
        charts=tuple(c for r in results for c in r.charts),
        params={**{k: v for r in results for k, v in r.params.items()}, **(params or {})},
        notes=tuple(n for r in results for n in r.notes),
    )


def reliability_of(data: pl.DataFrame, spec: ScaleSpec, *, ci: str = "feldt",
                   level: float = 0.95, n_boot: int = 1000, seed: int | None = 0) -> Result:
    """Reliability of the spec's items as they enter the score (normalised, direction-aligned).

    Reverse-keyed items get a fix in the spec's terms (flip their direction).
    """
    normalised = normalise_items(data, spec)
    directions = {i.column: i.direction for i in spec.items}
    return reliability(normalised, list(spec.columns), missing=spec.missing, ci=ci,
                       level=level, n_boot=n_boot, seed=seed, directions=directions)


def weights(spec: ScaleSpec, data: pl.DataFrame, *,
            outcome: pl.DataFrame | None = None,
            delphi_table: pl.DataFrame | None = None) -> Result:
    """The weights the spec asks for, as a Result whose "weights" table has item, weight.

    delphi reads spec.delphi unless `delphi_table` is given; regression needs `outcome`
    (customer_id, active) for the customers of `data`, e.g. from
    core.scale.validity.later_activity.
    """
    items = list(spec.columns)
    notes: tuple[str, ...] = ()
    if spec.weights != "manual" and any(i.weight is not None for i in spec.items):
        notes = (f"The weights written next to the items are not used: weights = "
                 f"\"{spec.weights}\" in [scale].",)
    if spec.weights == "manual":
        result = manual_weights(spec.manual_weights())
    elif spec.weights == "equal":
        result = equal_weights(items)
    elif spec.weights == "delphi":
        if delphi_table is None:
            if spec.delphi is None:
                raise InputError('weights = "delphi" needs delphi = "FILE" in [scale]',
                                 file=spec.source, fix="name the expert ratings file")
            delphi_table = read_table(spec.delphi)
        result = delphi(delphi_table, items, source=str(spec.delphi) if spec.delphi else None)
    else:
        normalised = normalise_items(data, spec)
        if spec.weights == "regression":
            if outcome is None:
                raise InputError("regression weights need an outcome (bought again within "
                                 "outcome_days after a date)", file=spec.source,
                                 fix="run with a workspace, or choose another weighting")
            normalised = normalised.join(outcome.select("customer_id", OUTCOME),
                                         on="customer_id", how="inner")
        result = data_weights(normalised, items, spec.weights, missing=spec.missing,
                              outcome=OUTCOME if spec.weights == "regression" else None)
    if notes:
        result = Result(result.name, result.title, result.tables, result.headline,
                        result.charts, result.params, (*result.notes, *notes))
    return result


def weight_map(result: Result) -> dict[str, float]:
    table = result.tables["weights"]
    return dict(zip(table["item"].to_list(), table["weight"].to_list()))


def check(data: pl.DataFrame, spec: ScaleSpec, *, ci: str = "feldt", level: float = 0.95,
          n_boot: int = 1000,
          seed: int | None = 0, outcome: pl.DataFrame | None = None,
          delphi_table: pl.DataFrame | None = None, weights_result: Result | None = None,
          params: dict | None = None) -> Result:
    """Everything a careful analyst checks before scoring: reliability, weights, sensitivity.

    Tables: "items" (reliability per item), "weights", "sensitivity" (and "agreement",
    "spread" for Delphi weights). Headline: the reliability figures plus the weighting
    method and the lowest rank correlation under a ±20% weight change. `weights_result`
    replaces the weights step when they were worked out elsewhere (core.scale.run).
    """
    rel = reliability_of(data, spec, ci=ci, level=level, n_boot=n_boot, seed=seed)
    w = weights_result or weights(spec, data, outcome=outcome, delphi_table=delphi_table)
    cuts = list(spec.tiers.cuts) if spec.tiers.method == "fixed" else None
    sens = sensitivity(normalise_items(data, spec), weight_map(w), tier_cuts=cuts)
    return merge("scale.check", f"{spec.name}: reliability, weights and sensitivity",
                 rel, w, sens, params={"spec": spec.source, **(params or {})})


def validate(data: pl.DataFrame, spec: ScaleSpec, *, scores: pl.DataFrame | None = None,
             outcome: pl.DataFrame | None = None, n_factors: int | None = None,
             rotation: str = "varimax") -> Result:
    """EFA of the normalised items and, with scores and an outcome, criterion validity.

    Tables: "loadings", "eigenvalues", "variance", "correlations" and, with an outcome,
    "deciles". Headline: kmo, bartlett_*, n_factors and auc, base_rate, top_rate...
    """
    normalised = normalise_items(data, spec)
    results = [efa(normalised, list(spec.columns), missing=spec.missing, n_factors=n_factors,
                   rotation=rotation)]
    if scores is not None and outcome is not None:
        results.append(criterion_validity(scores, outcome, outcome_column=OUTCOME))
    return merge("scale.validity", f"{spec.name}: validity", *results,
                 params={"spec": spec.source})
