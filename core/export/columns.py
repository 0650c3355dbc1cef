"""What a column holds, read from its name and dtype, so every format shows it the same way.

The naming rule (documented for analysts and for the authors of analyses):

- percent: a numeric column named `share`, `rate`, `pct`, `percent`, or ending in
  `_share`, `_rate`, `_pct` or `_percent`, or with the word `retention`, `relative` or
  `roi` anywhere, holds fractions: 0.125 is shown as 12.5% (as pandas' pct_change and
  Excel's 0.0% do); a relative lift of 3.69 reads +369.0%, never "x3.69".
- points: a numeric column ending in `_points` or `_pp` already holds percent points:
  12.5 is shown as 12.5% (not multiplied again).
- money: a numeric column whose name has one of the words revenue, amount, monetary,
  spend, clv, aov, value, cost, price, sales, profit, ltv, cac (words are split on `_`,
  spaces and `-`), except statistics such as `p_value`, correlations and survey items
  (`sat_price`); shown with two decimals and thousands separators.
- id: an integer column named `id`, `year`, `cohort` or ending in `_id`/`_year`/`_code`
  is a label, shown without thousands separators.
- count: any other integer column, shown with thousands separators.
- number: any other float column.
The rules apply to headline figures too, by their key, and an interval's bounds
(`open_rate_ci_low`, `share_ci_upper`) read as the figure they bound.

Where a name would mislead (NPS's `promoters` hold percent points, a cohort matrix's `m3`
a retention share, a profile's `index` table indexes), the analysis declares the kind in
`Result.kinds` (a name, `table/column`, or a pattern such as `customer_retention/m*`),
and that declaration wins in every renderer.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping

import polars as pl

MONEY = "money"
PERCENT = "percent"  # fractions, 0.125 -> 12.5%
POINTS = "points"  # percent points, 12.5 -> 12.5%
COUNT = "count"
ID = "id"
NUMBER = "number"
TEXT = "text"
DATE = "date"
DATETIME = "datetime"
BOOLEAN = "boolean"
OTHER = "other"  # lists, structs, durations: shown as text

MONEY_WORDS = frozenset({"revenue", "amount", "monetary", "spend", "clv", "aov", "value", "cost", "price",
                         "sales", "profit", "ltv", "cac"})
# Words that make a "value" a statistic rather than money (p_value, t_value, log_value...).
NOT_MONEY_WORDS = frozenset({"p", "t", "z", "f", "chi2", "log", "ln", "eigen", "test", "se", "correlation",
                             "sat", "loy"})
PERCENT_WORDS = frozenset({"share", "rate", "pct", "percent", "percentage"})
PERCENT_ANYWHERE = frozenset({"retention", "relative", "roi"})
INTERVAL_WORDS = frozenset({"ci", "low", "high", "lower", "upper"})
KINDS = frozenset({"money", "percent", "points", "count", "id", "number", "text", "date", "datetime",
                   "boolean", "other"})
POINTS_WORDS = frozenset({"points", "pp"})
ID_WORDS = frozenset({"id", "year", "cohort", "code"})

_WORD_SPLIT = re.compile(r"[_\s\-]+")


def words(name: str) -> list[str]:
    return [w for w in _WORD_SPLIT.split(name.strip().lower()) if w]


def name_kind(name: str, numeric: bool = True, integer: bool = False) -> str:
    """The kind a numeric value takes from its column name (or headline key) alone."""
    if not numeric:
        return TEXT
    parts = words(name)
    while len(parts) > 1 and parts[-1] in INTERVAL_WORDS:  # open_rate_ci_low reads as open_rate
        parts = parts[:-1]
    last = parts[-1] if parts else ""
    if last in PERCENT_WORDS or PERCENT_ANYWHERE.intersection(parts):
        return PERCENT
    if last in POINTS_WORDS:
        return POINTS
    if integer and last in ID_WORDS:
        return ID
    if MONEY_WORDS.intersection(parts) and not NOT_MONEY_WORDS.intersection(parts):
        return MONEY
    return COUNT if integer else NUMBER


def declared_kind(declared: Mapping[str, str] | None, name: str, table: str | None = None) -> str | None:
    """The kind an analysis declared for a column (`table/column` first, then the name) or
    headline key, exactly or by pattern; None when it declared none."""
    if not declared:
        return None
    qualified = f"{table}/{name}" if table else None
    for key in (qualified, name):
        if key is not None and key in declared:
            return declared[key]
    for pattern, kind in declared.items():
        if fnmatch.fnmatchcase(qualified if "/" in pattern and qualified else name, pattern):
            return kind
    return None


def column_kind(name: str, dtype: pl.DataType, declared: Mapping[str, str] | None = None,
                table: str | None = None) -> str:
    if dtype.is_numeric() and (kind := declared_kind(declared, name, table)) is not None:
        return kind
    if dtype == pl.Boolean:
        return BOOLEAN
    if dtype == pl.Date:
        return DATE
    if isinstance(dtype, pl.Datetime):
        return DATETIME
    if dtype.is_integer():
        return name_kind(name, integer=True)
    if dtype.is_float() or dtype.is_decimal():
        return name_kind(name)
    if dtype in (pl.String, pl.Categorical) or isinstance(dtype, pl.Enum):
        return TEXT
    return OTHER


def value_kind(name: str, value: object, declared: Mapping[str, str] | None = None) -> str:
    """The kind of a single headline figure or parameter."""
    if isinstance(value, bool):
        return BOOLEAN
    if isinstance(value, (int, float, list, tuple)) and (kind := declared_kind(declared, name)) is not None:
        return kind
    if isinstance(value, int):
        return name_kind(name, integer=True)
    if isinstance(value, float):
        return name_kind(name)
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, int | float) and not isinstance(v, bool)
                                                          for v in value if v is not None):
        return name_kind(name)  # an interval (nps_ci) reads as its figure does
    return OTHER


def kinds(df: pl.DataFrame, declared: Mapping[str, str] | None = None, table: str | None = None) -> dict[str, str]:
    return {name: column_kind(name, dtype, declared, table) for name, dtype in df.schema.items()}
