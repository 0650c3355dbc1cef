"""Text numbers read through the plain-cast helper column (core.coerce.number_value with
`plain`, what Workspace.scan and the checks use) are exactly what the full cleaning reads:
currencies, brackets, thousands, decimal commas, missing-value tokens, NaN and infinities.
The reference is the cleaning alone, value by value (NaN equal to NaN)."""

from __future__ import annotations

import math

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import contract as c
from core.coerce import MISSING_TOKENS, ParseOptions, coerce, plain_number
from core.workspace import Workspace, coercions

MESSY = ["12.5", " 3 ", "(12.00)", "¥1,234.50", "N/A", "", None, "1e3", "-5", "abc", "1,234", "nan", "inf",
         "-inf", "  -  ", "$1,000", "1 234,50", "12,50", "-.", ".", "1.234.567", "0,125", "(1.234,50)", "7.0",
         "7.5", "1e400", "+4", "0x10", "１２", "12.", ".5", "RMB 8", "1'234.5", *MISSING_TOKENS]
OPTIONS = [ParseOptions(), ParseOptions(decimal=","), ParseOptions(decimal=",", thousands="."),
           ParseOptions(decimal=".", thousands="")]


def same(a: list, b: list) -> bool:
    return len(a) == len(b) and all(x == y or (isinstance(x, float) and isinstance(y, float)
                                               and math.isnan(x) and math.isnan(y)) for x, y in zip(a, b))


def both(values: list, options: ParseOptions, kind: str = c.MONEY) -> tuple[list, list]:
    frame = pl.DataFrame({"v": values}, schema={"v": pl.String})
    cleaned = frame.select(coerce("v", kind, pl.String, options)).to_series().to_list()
    staged = (frame.with_columns(p=plain_number(pl.col("v"), options))
              .select(coerce("v", kind, pl.String, options, plain=pl.col("p"))).to_series().to_list())
    return cleaned, staged


@pytest.mark.parametrize("options", OPTIONS)
@pytest.mark.parametrize("kind", [c.MONEY, c.INTEGER])
def test_the_plain_path_reads_every_messy_value_as_the_cleaning_does(options, kind):
    cleaned, staged = both(MESSY, options, kind)
    assert same(cleaned, staged), list(zip(MESSY, cleaned, staged))
    if kind == c.MONEY and options == ParseOptions():  # and the cleaning still cleans
        read = dict(zip(MESSY, staged))
        assert read["(12.00)"] == -12.0 and read["¥1,234.50"] == 1234.5 and read["N/A"] is None


@settings(max_examples=150, deadline=None)
@given(st.lists(st.text(alphabet="0123456789.,-() $¥eE+naNA/ ", max_size=9), min_size=1, max_size=30),
       st.sampled_from(OPTIONS))
def test_any_text_reads_the_same_both_ways(values, options):
    cleaned, staged = both(values, options)
    assert same(cleaned, staged), list(zip(values, cleaned, staged))


def test_a_workspace_scan_equals_the_unstaged_coercion(make_workspace):
    folder = make_workspace({"transactions.csv": "customer_id,order_date,amount,quantity,score\n"
                                                 "C1,2024-01-05,\"1,234.50\",2,N/A\nC2,2024-01-06,(12.00),x,7\n"
                                                 "C3,2024-01-07,-3,3.0,\nC4,2024-01-08,¥8,4.5,1e3\n"})
    ws = Workspace.open(folder)
    raw = ws.scan_raw("transactions")
    unstaged = raw.select(coercions(ws.sources["transactions"], raw.collect_schema())).collect()
    staged = ws.scan("transactions").collect()
    assert staged.equals(unstaged)
    assert staged["amount"].to_list() == [1234.5, -12.0, -3.0, 8.0]
    assert staged["quantity"].to_list() == [2.0, None, 3.0, 4.5]
    assert staged["score"].to_list() == [None, 7.0, None, 1000.0]  # an extra number column: N/A is missing
