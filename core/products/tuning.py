"""How the ALS defaults are chosen: on an earlier split than the one an evaluation reports.

`als_grid` fits ALS for every (factors, regularization) of a small grid on the purchases up to
`train_until` and scores NDCG@k against what each customer bought new in the next `test_days`
days (core.products.evaluate), beside popularity on the same customers. The defaults
(core.products.defaults: ALS_FACTORS, ALS_REGULARIZATION) are the grid's best on the sample
with training up to TUNING_SPLIT and a 90-day test window that ends before the split the
sample's evaluation reports (EVALUATION_SPLIT): the choice never saw the purchases it is
judged on, so "ALS beats popularity" after EVALUATION_SPLIT is out of sample.
"""

from __future__ import annotations

import datetime as dt
import itertools

import polars as pl

from core.products.evaluate import score_method, time_split

FACTORS = (4, 8, 16, 32)
REGULARIZATION = (0.1, 1.0, 10.0, 100.0)
TUNING_SPLIT = dt.date(2025, 6, 30)  # the sample's: train to here, test the next 90 days
EVALUATION_SPLIT = dt.date(2025, 9, 30)  # what the tests and README report, after the tuning window


def als_grid(tx: pl.LazyFrame, *, train_until: dt.date, test_days: int = 90, k: int = 10,
             factors=FACTORS, regularization=REGULARIZATION, as_of: dt.date | None = None) -> pl.DataFrame:
    """One row per grid point: factors, regularization, customers, ndcg and ndcg_gain over
    popularity, best first (ties: fewer factors, then more regularization: the simpler model)."""
    split = time_split(tx, train_until, test_days, as_of)
    base, _ = score_method(split, "popularity", k)
    rows = []
    for f, reg in itertools.product(factors, regularization):  # a 16-point grid, not rows
        per, _ = score_method(split, "als", k, factors=f, regularization=reg)
        rows.append({"factors": f, "regularization": reg, "customers": per.height, "ndcg": per["ndcg"].mean(),
                     "ndcg_gain": per["ndcg"].mean() - base["ndcg"].mean()})
    return pl.DataFrame(rows).sort(["ndcg", "factors", "regularization"], descending=[True, False, True])
