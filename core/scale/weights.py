"""Item weights: manual, equal, Delphi panels, data-driven, and how fragile they are.

All weights are returned normalised to sum to 1, next to what they came from, so the
analyst sees both. Data-driven weights:
- pca: loadings on the first principal component of the item correlation matrix;
- factor: loadings of a one-factor minres model;
- regression: standardised OLS coefficients of a named outcome on the items.
A negative loading or coefficient (an item pulling against the scale) gets weight 0
and a note, since a negative weight would reward disloyalty.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import polars as pl
from scipy import stats

from core.errors import AnalysisError, InputError
from core.result import Chart, Result
from core.scale.covariance import item_matrix, moments
from core.scale.factor import first_component, minres

DELPHI_COLUMNS = ("expert", "round", "item", "rating")


def normalise_weights(raw: Mapping[str, float]) -> dict[str, float]:
    """Scale non-negative weights to sum to 1."""
    bad = {k: v for k, v in raw.items() if not np.isfinite(v) or v < 0}
    if bad:
        name, value = next(iter(bad.items()))
        raise InputError(f"weight {value!r} of item {name!r} is negative or not a number",
                         fix="give weights ≥ 0")
    total = float(sum(raw.values()))
    if total <= 0:
        raise InputError("every weight is 0", fix="give at least one item a positive weight")
    return {k: float(v) / total for k, v in raw.items()}


def weight_table(source: Mapping[str, float], basis: str) -> pl.DataFrame:
    """item, the value the weight came from (`basis`), and the normalised weight."""
    positive = {k: max(v, 0.0) for k, v in source.items()}
    weights = normalise_weights(positive)
    return pl.DataFrame({
        "item": list(source), basis: [float(v) for v in source.values()],
        "weight": [weights[k] for k in source],
    })


def _weights_result(table: pl.DataFrame, method: str, notes: Sequence[str] = (),
                    params: Mapping | None = None, extra: Mapping | None = None) -> Result:
    return Result(
        name="scale.weights", title=f"Scale weights ({method})",
        tables={"weights": table, **(extra or {})},
        headline={"method": method},
        charts=(Chart("bar", "Item weights", "weights", "item", "weight"),),
        params={"method": method, **(params or {})}, notes=tuple(notes),
    )


def manual_weights(given: Mapping[str, float]) -> Result:
    return _weights_result(weight_table(given, "given"), "manual")


def equal_weights(items: Sequence[str]) -> Result:
    return _weights_result(weight_table({i: 1.0 for i in items}, "given"), "equal")


# --- Delphi ----------------------------------------------------------------------------

def kendalls_w(ratings: np.ndarray) -> tuple[float, float, int, float]:
    """Kendall's W for an m × k matrix (m experts rating k items), corrected for ties.

    Each expert's ratings are ranked (ties get the average rank);
    W = 12·S / (m²(k³ − k) − m·ΣT), T = Σ(t³ − t) over an expert's groups of tied ranks.
    Returns W, the chi-square m(k − 1)W, its degrees of freedom k − 1 and p-value.
    """
    m, k = ratings.shape
    if m < 2 or k < 2:
        raise AnalysisError(f"Kendall's W needs at least 2 experts and 2 items (got {m} × {k})")
    ranks = stats.rankdata(ratings, axis=1)
    s = float(((ranks.sum(axis=0) - m * (k + 1) / 2) ** 2).sum())
    ties = 0.0
    for row in ranks:
        _, t = np.unique(row, return_counts=True)
        ties += float((t**3 - t).sum())
    denominator = m**2 * (k**3 - k) - m * ties
    if denominator <= 0:
        raise AnalysisError("every expert gave every item the same rating; agreement is undefined")
    w = 12 * s / denominator
    chi2 = m * (k - 1) * w
    return w, chi2, k - 1, float(stats.chi2.sf(chi2, k - 1))


def check_delphi_table(ratings: pl.DataFrame, source: str | None = None) -> pl.DataFrame:
    missing = [c for c in DELPHI_COLUMNS if c not in ratings.columns]
    if missing:
        raise InputError(f"the Delphi table has no {missing[0]!r} column", file=source,
                         column=missing[0], fix="columns must be expert, round, item, rating")
    table = ratings.select(
        pl.col("expert").cast(pl.String), pl.col("round"), pl.col("item").cast(pl.String),
        pl.col("rating"),
    )
    for column in ("round", "rating"):
        if not table.schema[column].is_numeric():
            raise InputError(f"Delphi {column}s must be numbers", file=source, column=column,
                             fix=f"write each {column} as a number")
    table = table.with_columns(pl.col("round").cast(pl.Int64), pl.col("rating").cast(pl.Float64))
    nulls = table.with_row_index("row").filter(pl.any_horizontal(pl.all().is_null()))
    if nulls.height:
        raise InputError("Delphi rows with an empty cell", file=source,
                         rows=[r + 2 for r in nulls["row"].head(5).to_list()],
                         fix="fill in or delete those rows")
    dupes = table.with_row_index("row").filter(
        pl.len().over("expert", "round", "item") > 1)
    if dupes.height:
        raise InputError("an expert rated the same item twice in one round", file=source,
                         rows=[r + 2 for r in dupes["row"].head(5).to_list()],
                         fix="keep one rating per expert, round and item")
    return table


def delphi(ratings: pl.DataFrame, items: Sequence[str] | None = None,
           source: str | None = None) -> Result:
    """Delphi weights from the last round's mean ratings, and the panel's agreement per round.

    Tables: "weights" (item, mean_rating, weight), "agreement" (round, experts, items,
    kendall_w, chi2, df, p_value, mean_sd), "spread" (round, item, experts, mean, sd,
    min, q1, median, q3, max, iqr). Kendall's W uses the experts who rated every item in
    that round.
    """
    table = check_delphi_table(ratings, source)
    if items is not None:
        unknown = sorted(set(table["item"]) - set(items))
        absent = [i for i in items if i not in set(table["item"])]
        if unknown:
            raise InputError(f"the Delphi table rates {unknown[0]!r}, which is not a scale item",
                             file=source, column="item", fix="items: " + ", ".join(items))
        if absent:
            raise InputError(f"no expert rated item {absent[0]!r}", file=source, column="item",
                             fix="every scale item needs ratings in the last round")
    spread = (
        table.group_by("round", "item")
        .agg(experts=pl.len(), mean=pl.col("rating").mean(), sd=pl.col("rating").std(),
             min=pl.col("rating").min(), q1=pl.col("rating").quantile(0.25, "linear"),
             median=pl.col("rating").median(), q3=pl.col("rating").quantile(0.75, "linear"),
             max=pl.col("rating").max())
        .with_columns(iqr=pl.col("q3") - pl.col("q1"))
        .sort("round", "item")
    )
    agreement_rows, notes = [], []
    for rnd in sorted(table["round"].unique().to_list()):
        wide = table.filter(pl.col("round") == rnd).pivot(
            on="item", index="expert", values="rating", sort_columns=True)
        complete = wide.drop_nulls()
        if complete.height < wide.height:
            notes.append(f"Round {rnd}: {wide.height - complete.height} experts skipped an "
                         "item and are left out of Kendall's W.")
        w, chi2, dof, p = kendalls_w(complete.drop("expert").to_numpy().astype(float))
        agreement_rows.append({
            "round": rnd, "experts": complete.height, "items": wide.width - 1,
            "kendall_w": w, "chi2": chi2, "df": dof, "p_value": p,
            "mean_sd": spread.filter(pl.col("round") == rnd)["sd"].mean(),
        })
    agreement = pl.DataFrame(agreement_rows)
    last = int(agreement["round"].max())
    means = spread.filter(pl.col("round") == last).select("item", "mean")
    order = list(items) if items is not None else means["item"].to_list()
    mean_of = dict(zip(means["item"], means["mean"]))
    if items is not None:
        lacking = [i for i in items if i not in mean_of]
        if lacking:
            raise InputError(f"item {lacking[0]!r} has no rating in the last round ({last})",
                             file=source, fix="every item needs last-round ratings")
    weights = weight_table({i: mean_of[i] for i in order}, "mean_rating")
    first_w, last_w = agreement["kendall_w"][0], agreement["kendall_w"][-1]
    if agreement.height > 1:
        trend = "rose" if last_w > first_w else "did not rise"
        notes.append(f"Agreement (Kendall's W) {trend} from {first_w:.2f} in round "
                     f"{agreement['round'][0]} to {last_w:.2f} in round {last}.")
    result = _weights_result(
        weights, "delphi", notes, params={"last_round": last},
        extra={"agreement": agreement, "spread": spread},
    )
    return Result(
        name="scale.delphi", title="Delphi weights and panel agreement",
        tables=result.tables,
        headline={"method": "delphi", "rounds": agreement.height, "last_round": last,
                  "kendall_w_first": first_w, "kendall_w_last": last_w,
                  "mean_sd_first": agreement["mean_sd"][0],
                  "mean_sd_last": agreement["mean_sd"][-1]},
        charts=(*result.charts, Chart("line", "Kendall's W by round", "agreement",
                                      "round", "kendall_w")),
        params=result.params, notes=result.notes,
    )


# --- data-driven -----------------------------------------------------------------------

def data_weights(
    data: pl.DataFrame, items: Sequence[str], method: str, *, missing: str = "pairwise",
    outcome: str | None = None,
) -> Result:
    """Weights from the data: "pca", "factor" or "regression" (needs `outcome`, a column
    of `data`). Items should be the normalised items (direction already applied)."""
    if method in ("pca", "factor"):
        matrix = item_matrix(data, items, missing)
        _, r = moments(matrix)
        if method == "pca":
            loadings = first_component(r)
        else:
            fit = minres(r, 1)
            loadings = fit.loadings[:, 0]
        source = dict(zip(items, loadings.tolist()))
        table = weight_table(source, "loading")
        basis = "loading"
        n = matrix.n
    elif method == "regression":
        if outcome is None or outcome not in data.columns:
            raise InputError("regression weights need an outcome column",
                             column=outcome, fix="name an outcome, e.g. active in the next period")
        betas, n = standardised_betas(data, items, outcome)
        source = dict(zip(items, betas.tolist()))
        table = weight_table(source, "beta")
        basis = "beta"
    else:
        raise InputError(f"unknown data-driven weighting {method!r}",
                         fix="use pca, factor or regression")
    notes = [
        f"Item {item!r} has a negative {basis} ({value:.3f}) and gets weight 0: it pulls "
        "against the scale. Check its direction."
        for item, value in source.items() if value < 0
    ]
    result = _weights_result(table, method, notes, params={"missing": missing, "outcome": outcome})
    return Result(result.name, result.title, result.tables,
                  {**result.headline, "n": n}, result.charts, result.params, result.notes)


def standardised_betas(data: pl.DataFrame, items: Sequence[str],
                       outcome: str) -> tuple[np.ndarray, int]:
    """OLS of the standardised outcome on the standardised items (complete rows)."""
    values = (
        data.select(pl.col([*items, outcome]).cast(pl.Float64).fill_nan(None))
        .drop_nulls().to_numpy()
    )
    n = values.shape[0]
    if n < len(items) + 2:
        raise AnalysisError(f"only {n} customers have every item and the outcome; "
                            "regression weights need more")
    sd = values.std(axis=0, ddof=1)
    if np.any(sd == 0):
        which = ([*items, outcome])[int(np.flatnonzero(sd == 0)[0])]
        raise AnalysisError(f"{which!r} does not vary among the customers used; "
                            "regression weights cannot be estimated")
    z = (values - values.mean(axis=0)) / sd
    betas, *_ = np.linalg.lstsq(z[:, :-1], z[:, -1], rcond=None)
    return betas, n


# --- sensitivity -----------------------------------------------------------------------

def weighted_score(normalised: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Σ wᵢxᵢ / Σ wᵢ over each customer's answered items (NaN if none answered)."""
    present = ~np.isnan(normalised)
    return _weighted(np.where(present, normalised, 0.0), present.astype(float), weights)


def _weighted(filled: np.ndarray, present: np.ndarray, weights: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return (filled @ weights) / (present @ weights)


def _ranks(values: np.ndarray) -> np.ndarray:
    """Average ranks (ties share the mean rank), as scipy.stats.rankdata; Polars is faster."""
    return pl.Series(values).rank("average").to_numpy().astype(float)


def sensitivity(
    normalised: pl.DataFrame, weights: Mapping[str, float], *, change: float = 0.2,
    tier_cuts: Sequence[float] | None = None,
) -> Result:
    """How much customers' ranks move when each weight changes by ±change (default 20%).

    For each item and direction the weight is multiplied by 1 ± change, the weights
    renormalised and the scores recomputed. Table "sensitivity": item, change,
    weight_before, weight_after, spearman (rank correlation with the baseline scores),
    mean_rank_shift (mean absolute change in percentile rank, in points) and, when tier
    cut points (scores) are given, tier_changed (share of customers changing tier).
    """
    items = list(weights)
    x = normalised.select(pl.col(items).cast(pl.Float64).fill_nan(None)).to_numpy().astype(float)
    base_w = np.array([weights[i] for i in items], float)
    base_w = base_w / base_w.sum()
    base = weighted_score(x, base_w)
    keep = np.isfinite(base)
    if keep.sum() < 3:
        raise AnalysisError("fewer than 3 customers have a score; sensitivity needs more")
    x = x[keep]
    present = ~np.isnan(x)
    filled, mask = np.where(present, x, 0.0), present.astype(float)
    base = base[keep]
    base_rank = _ranks(base)
    cuts = np.asarray(tier_cuts, float) if tier_cuts is not None else None
    base_tier = np.searchsorted(cuts, base, "right") if cuts is not None else None
    rows = []
    for j, item in enumerate(items):
        for sign in (-1, 1):
            w = base_w.copy()
            w[j] *= 1 + sign * change
            w = w / w.sum()
            new = _weighted(filled, mask, w)
            new_rank = _ranks(new)
            row = {
                "item": item, "change": sign * change, "weight_before": base_w[j],
                "weight_after": w[j],
                # Spearman's rho: Pearson's r of the (average) ranks.
                "spearman": float(np.corrcoef(base_rank, new_rank)[0, 1]),
                "mean_rank_shift": float(np.abs(new_rank - base_rank).mean() / new.size * 100),
            }
            if cuts is not None:
                row["tier_changed"] = float((np.searchsorted(cuts, new, "right") != base_tier).mean())
            rows.append(row)
    table = pl.DataFrame(rows)
    worst = table.sort("spearman").row(0, named=True)
    notes = []
    if worst["spearman"] < 0.95:
        notes.append(
            f"Fragile: changing the weight of {worst['item']!r} by {worst['change']:+.0%} "
            f"moves the ranking to a rank correlation of {worst['spearman']:.3f}.")
    return Result(
        name="scale.sensitivity", title="Weight sensitivity",
        tables={"sensitivity": table},
        headline={"min_spearman": worst["spearman"], "most_sensitive_item": worst["item"],
                  "customers": int(keep.sum()), "change": change},
        charts=(Chart("bar", "Rank correlation after a ±20% weight change", "sensitivity",
                      "item", "spearman", series="change"),),
        params={"change": change, "weights": dict(weights)}, notes=tuple(notes),
    )
