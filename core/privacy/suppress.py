"""Small cells blanked in aggregate tables, so no figure describes fewer than `min_count` people.

Which cells (a rule on column names and dtypes, like core.export.columns):
- a group's size is an integer column named `customers`, `responses`, `respondents`,
  `units`, `members`, `buyers`, `users`, `people` or `n`, or starting with `n_`. A row whose
  group has 1 to min_count - 1 people has every number blanked (its means and shares
  describe those few people), except labels and scales (see below);
- any other count of people or of what they did (an integer column with a word such as
  `customers`, `orders`, `touches`, `converted`, `reached`, `churners`, `active`) and every
  cell of a cross-tab (integer columns named after the values of the table's label column,
  such as a migration or channel-overlap matrix) is blanked when it is 1 to min_count - 1;
- integer labels and scales are never counts: columns with a word such as score, rank, k,
  fold, decile, bin, period, days, cluster, month, year, id, code, cohort, df.
Zero is kept: it describes nobody. Tables with customer ids (one row per customer) are not
aggregates and are left whole; their ids are pseudonymised instead. Totals are kept, so a
lone blanked cell of a row can be worked out from its total: this keeps small groups out of
sight, it is not protection against differencing.
"""

from __future__ import annotations

import polars as pl

from core.export.columns import words

GROUP_SIZE = frozenset({"customers", "responses", "respondents", "units", "members", "buyers", "users", "people",
                        "n"})
COUNT_WORDS = GROUP_SIZE | {"orders", "touches", "converted", "conversions", "reached", "treated", "comparison",
                            "churners", "active", "journeys", "purchasers", "visitors", "controls"}
SCALE_WORDS = frozenset({"score", "rank", "k", "fold", "decile", "bin", "period", "days", "day", "cluster", "month",
                         "week", "year", "quarter", "level", "step", "round", "index", "tier", "quantile", "window",
                         "lag", "id", "code", "cohort", "df", "percentile"})


def suppress_small(df: pl.DataFrame, min_count: int) -> tuple[pl.DataFrame, int]:
    """The table with small cells blanked, and how many cells were blanked."""
    if min_count <= 1 or df.is_empty():
        return df, 0
    numbers = [n for n, t in df.schema.items() if t.is_numeric() and not SCALE_WORDS.intersection(words(n))]
    ints = [n for n in numbers if df.schema[n].is_integer()]
    groups = [n for n in ints if n in GROUP_SIZE or n.startswith("n_")]
    crosstab = _crosstab_columns(df, ints)
    counts = [n for n in ints if n in crosstab or COUNT_WORDS.intersection(words(n))]
    if not groups and not counts:
        return df, 0
    small_group = pl.any_horizontal([_small(n, min_count) for n in groups]) if groups else pl.lit(False)
    blank = {n: small_group | (_small(n, min_count) if n in counts else pl.lit(False)) for n in numbers}
    blanked = df.select(pl.sum_horizontal([(b & pl.col(n).is_not_null()).sum() for n, b in blank.items()]))
    changed = int(blanked.item())
    if not changed:
        return df, 0
    return df.with_columns(pl.when(b).then(None).otherwise(pl.col(n)).alias(n) for n, b in blank.items()), changed


def _small(column: str, min_count: int) -> pl.Expr:
    return pl.col(column).is_between(1, min_count - 1).fill_null(False)


def _crosstab_columns(df: pl.DataFrame, ints: list[str]) -> set[str]:
    """Integer columns named after the values of a text column: the cells of a cross-tab."""
    labels = [n for n, t in df.schema.items() if t == pl.String]
    named = set(ints)
    for label in labels:
        values = set(df[label].drop_nulls().unique().to_list())
        hits = named & values
        if len(hits) >= 2:
            return hits | ({"total"} & named)
    return set()
