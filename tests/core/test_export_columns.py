"""The column-name rule for money and percentages, and how values read in reports."""

import datetime as dt

import polars as pl
import pytest

from core.export import columns as k
from core.export.cells import flatten, neutralise_formulas
from core.export.display import column_formatter, format_value, label


@pytest.mark.parametrize(("name", "dtype", "kind"), [
    ("revenue", pl.Float64, k.MONEY), ("amount", pl.Float64, k.MONEY), ("monetary_value", pl.Float64, k.MONEY),
    ("total_spend", pl.Float64, k.MONEY), ("clv", pl.Float64, k.MONEY), ("aov", pl.Float64, k.MONEY),
    ("value", pl.Float64, k.MONEY), ("acquisition_cost", pl.Float64, k.MONEY), ("Revenue", pl.Int64, k.MONEY),
    ("p_value", pl.Float64, k.NUMBER), ("log_clv", pl.Float64, k.NUMBER),
    ("customer_share", pl.Float64, k.PERCENT), ("conversion_rate", pl.Float64, k.PERCENT),
    ("rate", pl.Float64, k.PERCENT), ("share", pl.Float64, k.PERCENT), ("revenue_share", pl.Float64, k.PERCENT),
    ("change_pct", pl.Float64, k.PERCENT), ("diff_points", pl.Float64, k.POINTS), ("lift_pp", pl.Float64, k.POINTS),
    ("revenue_retention", pl.Float64, k.PERCENT),
    ("retention_m1", pl.Float64, k.PERCENT),
    ("customer_id", pl.Int64, k.ID), ("year", pl.Int32, k.ID), ("orders", pl.Int64, k.COUNT),
    ("p_alive", pl.Float64, k.NUMBER), ("revenue", pl.String, k.TEXT), ("rate", pl.Boolean, k.BOOLEAN),
    ("first_purchase", pl.Date, k.DATE), ("seen", pl.Datetime("us"), k.DATETIME),
])
def test_column_kind_rule(name, dtype, kind):
    assert k.column_kind(name, dtype) == kind


@pytest.mark.parametrize(("value", "kind", "text"), [
    (1234567.891, k.MONEY, "1,234,567.89"), (-20.25, k.MONEY, "-20.25"), (0.4123, k.PERCENT, "41.2%"),
    (0.004, k.PERCENT, "0.40%"), (12.5, k.PERCENT, "1,250.0%"), (-3.2, k.POINTS, "-3.2%"), (2000, k.COUNT, "2,000"), (2000.0, k.COUNT, "2,000"),
    (2024, k.ID, "2024"), (0.000012345, k.NUMBER, "1.23e-05"), (0.69712, k.NUMBER, "0.697"),
    (273.004, k.NUMBER, "273.00"), (911.0, k.NUMBER, "911"), (123456.7, k.NUMBER, "123,457"), (None, k.MONEY, "—"),
    (float("nan"), k.NUMBER, "—"), (True, k.BOOLEAN, "yes"), (dt.date(2024, 2, 29), k.DATE, "2024-02-29"),
    (dt.datetime(2024, 1, 1, 9, 30), k.DATETIME, "2024-01-01 09:30"), (["a", "中"], k.OTHER, "[a, 中]"),
    ((-1.2778, 25.6257), k.NUMBER, "[-1.28, 25.63]"),
    ({"a": 1}, k.OTHER, '{"a": 1}'),
])
def test_format_value(value, kind, text):
    assert format_value(value, kind) == text


@pytest.mark.parametrize(("values", "kind", "texts"), [
    ([0.125, 0.0417, 0.0, 1.0], k.NUMBER, ["0.125", "0.042", "0.000", "1.000"]),
    ([442.0, 9.0, 0.0, 7.75], k.NUMBER, ["442.00", "9.00", "0.00", "7.75"]),
    ([2.0, 56.0, None], k.NUMBER, ["2", "56", "—"]),
    ([0.5, 1.2e-08, float("nan")], k.NUMBER, ["0.5", "1.20e-08", "—"]),
    ([123456.7, 512.5], k.NUMBER, ["123,457", "512"]),
    ([123456.7, 5.5], k.NUMBER, ["123,456.70", "5.50"]),
    ([177858.2, 0.649], k.NUMBER, ["177,858.20", "0.65"]),  # a KPI column: the rate must not read "1"
    ([0.467, 0.0008], k.PERCENT, ["46.70%", "0.08%"]),
    ([0.467, 0.2], k.PERCENT, ["46.7%", "20.0%"]),
    ([4934.499, 0.5], k.PERCENT, ["493,449.9%", "50.0%"]),  # an ROI on a near-free channel
    ([-3.25, 10.0], k.POINTS, ["-3.2%", "10.0%"]),
    ([1234.5, 0.0], k.MONEY, ["1,234.50", "0.00"]),
])
def test_a_column_is_shown_one_way(values, kind, texts):
    column = pl.Series("x", values, dtype=pl.Float64)
    show = column_formatter(column, kind)
    assert [show(v) for v in column.to_list()] == texts


def test_headline_keys_follow_the_same_rule():
    assert k.value_kind("mean_clv", 273.0) == k.MONEY
    assert k.value_kind("repeat_rate", 0.4) == k.PERCENT
    assert k.value_kind("customers", 2000) == k.COUNT
    assert k.value_kind("best", "Champions") == k.OTHER


def test_labels_read_as_words():
    assert label("mean_clv") == "Mean CLV"
    assert label("change_pct") == "Change %"
    assert label("客户名称") == "客户名称"


def test_neutralise_only_text_that_could_run():
    df = pl.DataFrame({"s": ["=1+1", "+44 20", "-5", "+3.25", "-1,234.5", "-12%", "@x", "\tcmd", "ok", None, "a=b"],
                       "n": [-1] * 11})
    out = neutralise_formulas(df)
    assert out["s"].to_list() == ["'=1+1", "'+44 20", "-5", "+3.25", "-1,234.5", "-12%", "'@x", "'\tcmd", "ok",
                                  None, "a=b"]
    assert out["n"].to_list() == [-1] * 11


def test_flatten_turns_nested_values_into_json_text():
    df = pl.DataFrame({"rows": [[1, 2], None], "info": [{"a": "中"}, None], "d": [dt.timedelta(minutes=1), None]})
    assert flatten(df).rows() == [("[1,2]", '{"a":"中"}', 60.0), (None, None, None)]
