"""Sums that come out the same to the last digit however the rows are ordered.

Polars adds a group's floats in whatever order its threads met the rows, and floating
point addition is not associative, so two runs of one analysis could differ in the last
digits (issue 20: three `predict clv` runs, three correlations). Integers add exactly in
any order: amounts are summed in millionths of a unit as 64-bit integers (exact for money
and anything else with six decimals; up to 9 trillion units per sum) and divided back.
"""

from __future__ import annotations

import polars as pl

SCALE = 1_000_000


def exact_sum(expr: pl.Expr) -> pl.Expr:
    """The sum of `expr` (a float column), the same whatever the order of its rows."""
    return (expr * SCALE).round().cast(pl.Int64).sum() / SCALE
