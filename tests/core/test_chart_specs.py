"""Chart specs built from results read the result's own tables: the forecast band is the
forecast's interval, the elasticity and lift whiskers are their confidence intervals, the
quadrant scatter places every customer by the two split columns, and the churn-risk
histogram counts every scored customer (checked against numpy's histogram). The HTML
exporter draws the new marks (band, whiskers, points) with those values."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from core.export.charts import chart_svg
from core.registry import run_analysis
from core.result import Chart
from core.workspace import Workspace

SAMPLE = Path(__file__).resolve().parents[2] / "fixtures" / "sample"


@pytest.fixture(scope="module")
def ws() -> Workspace:
    return Workspace.open(SAMPLE)


def only(result, title_part: str) -> Chart:
    found = [c for c in result.charts_to_draw if title_part in c.title]
    assert len(found) == 1, [c.title for c in result.charts]
    return found[0]


def test_demand_chart_shades_the_forecast_interval(ws) -> None:
    result = run_analysis("predict.demand", ws, {"horizon": 8})
    chart = only(result, "history and forecast")
    assert chart.kind == "line" and chart.x == "period" and chart.y == ("actual", "forecast")
    assert chart.interval("forecast") == ("forecast_low", "forecast_high")
    series, forecast = result.tables[chart.table], result.tables["forecast"]
    ahead = series.filter(pl.col("forecast").is_not_null()).sort("period")
    assert ahead["period"].to_list() == forecast.sort("period")["period"].to_list()
    assert ahead["forecast_low"].to_list() == forecast.sort("period")["forecast_low"].to_list()
    assert ahead["forecast_high"].to_list() == forecast.sort("period")["forecast_high"].to_list()
    assert series.filter(pl.col("actual").is_not_null())["forecast_low"].null_count() == \
        series["actual"].drop_nulls().len()  # history rows carry no interval

    svg = chart_svg(chart, series)
    band = re.search(r'<polygon class="band" points="([^"]+)"', svg)
    assert band is not None and 'data-series="forecast"' in svg
    assert len(band.group(1).split()) == 2 * ahead.height  # low edge out, high edge back
    assert "shaded: Forecast low to Forecast high" in svg


def test_demand_by_group_draws_a_history_and_a_forecast_chart_one_line_per_group() -> None:
    from core.forecast.demand import demand_charts

    history, forecast = demand_charts("revenue", "week", "category", 0.95)
    assert (history.table, history.y, history.series) == ("series", ("actual",), "group")
    assert (forecast.table, forecast.y, forecast.series) == ("forecast", ("forecast",), "group")


def test_elasticity_whiskers_are_the_confidence_intervals(ws) -> None:
    result = run_analysis("report.pricing", ws, {})
    chart = only(result, "elasticity")
    assert chart.kind == "bar" and chart.x == "category"
    assert chart.interval("elasticity") == ("elasticity_ci_low", "elasticity_ci_high")
    categories = result.tables["categories"].filter(pl.col("elasticity").is_not_null())
    svg = chart_svg(chart, result.tables[chart.table])
    drawn = {m[0]: (float(m[1]), float(m[2])) for m in
             re.findall(r'class="whisker"[^>]*data-category="([^"]+)"[^>]*data-low="([^"]+)" data-high="([^"]+)"', svg)}
    expected = {r["category"]: (r["elasticity_ci_low"], r["elasticity_ci_high"])
                for r in categories.iter_rows(named=True)}
    assert drawn == expected
    for low, high in drawn.values():
        assert low < high


def test_promotion_lift_chart_carries_both_intervals(ws) -> None:
    result = run_analysis("report.promotions", ws, {})
    chart = only(result, "lift")
    assert chart.interval("sales_lift") == ("sales_lift_ci_low", "sales_lift_ci_high")
    assert chart.interval("post_dip") == ("post_dip_ci_low", "post_dip_ci_high")
    table = result.tables[chart.table]
    svg = chart_svg(chart, table)
    lifts = re.findall(r'class="whisker"[^>]*data-series="sales_lift" data-low="([^"]+)"', svg)
    known = table.filter(pl.col("sales_lift_ci_low").is_not_null() & pl.col("sales_lift_ci_high").is_not_null())
    assert [float(v) for v in lifts] == known["sales_lift_ci_low"].to_list()


def test_quadrant_scatter_places_every_customer_by_frequency_and_engagement(ws) -> None:
    result = run_analysis("segment.quadrant", ws, {})
    chart = only(result, "coloured by quadrant")
    assert (chart.kind, chart.table, chart.x, chart.y, chart.series) == \
        ("scatter", "customers", "frequency", "engagement", "segment")
    from core.export.charts.scatter import scatter_points

    customers = result.tables["customers"]
    points = scatter_points(chart, customers)
    counts = dict(customers.group_by("segment").len().iter_rows())
    assert {name: len(xs) for name, xs, _ in points.groups} == counts
    assert (points.x_title, points.y_title) == ("Frequency", "Engagement")
    for name, xs, ys in points.groups:  # every point is on its own side of both splits
        high_f = [x > result.headline["frequency_split"] for x in xs]
        high_e = [y > result.headline["engagement_split"] for y in ys]
        if name == "Active loyal":
            assert all(high_f) and all(high_e)
        if name == "Lapsed":
            assert not any(high_f) and not any(high_e)
    splits = (result.headline["frequency_split"], result.headline["engagement_split"])
    assert [(axis, value) for axis, value, _ in chart.references] == [("x", splits[0]), ("y", splits[1])]
    svg = chart_svg(chart, customers)
    drawn = [float(v) for v in re.findall(r'<line class="reference"[^>]*data-value="([^"]+)"', svg)]
    assert drawn == list(splits)  # the split points as dashed lines
    assert svg.count("<circle") == customers.height
    assert 'data-kind="scatter"' in svg and ">Frequency<" in svg and ">Engagement<" in svg


def test_a_scatter_of_many_rows_draws_a_seeded_sample_and_says_so() -> None:
    from core.export.charts.scatter import scatter_points

    rng = np.random.default_rng(1)
    table = pl.DataFrame({"x": rng.normal(size=20_000), "y": rng.normal(size=20_000)})
    chart = Chart("scatter", "Many", "t", "x", "y")
    first, again = scatter_points(chart, table, 1000), scatter_points(chart, table, 1000)
    assert first.count == 1000 and first.groups == again.groups
    assert first.note == "1,000 of 20,000 points shown (a random sample)"
    svg = chart_svg(chart, table)  # the HTML report draws up to 5,000
    assert svg.count("<circle") == 5000 and "5,000 of 20,000 points shown (a random sample)" in svg


def test_churn_risk_histogram_counts_every_scored_customer(ws) -> None:
    result = run_analysis("predict.churn", ws, {"top": 0})  # 0: the at-risk list holds everyone scored
    chart = only(result, "Churn probability across")
    assert (chart.kind, chart.x, chart.y) == ("histogram", "bin_start", "customers")
    bins = result.tables["risk_distribution"]
    p = result.tables["at_risk"]["churn_probability"].to_numpy()
    expected, _ = np.histogram(p, bins=np.linspace(0, 1, 21))
    assert bins["customers"].to_list() == expected.tolist()
    assert bins["customers"].sum() == result.headline["n_scored"]
    svg = chart_svg(chart, bins)
    values = [int(v) for v in re.findall(r'<rect class="bar"[^>]*data-value="(\d+)"', svg)]
    assert values == expected.tolist()
    assert f"n = {result.headline['n_scored']:,}" in svg


def test_an_interval_column_that_is_missing_is_named() -> None:
    from core.export.charts import ChartError

    table = pl.DataFrame({"c": ["a"], "v": [1.0]})
    with pytest.raises(ChartError, match="v_low"):
        chart_svg(Chart("bar", "V", "t", "c", ("v",), intervals=(("v", "v_low", "v_high"),)), table)


def test_written_documents_carry_the_intervals_and_references(ws) -> None:
    from core.export.tables import result_document

    pricing = result_document(run_analysis("report.pricing", ws, {}))
    assert pricing["charts"][0]["intervals"] == [["elasticity", "elasticity_ci_low", "elasticity_ci_high"]]
    assert "intervals" not in pricing["charts"][1]
    quadrants = run_analysis("segment.quadrant", ws, {})
    (scatter,) = [c for c in result_document(quadrants)["charts"] if c["kind"] == "scatter"]
    assert [r[:2] for r in scatter["references"]] == [["x", quadrants.headline["frequency_split"]],
                                                       ["y", quadrants.headline["engagement_split"]]]
