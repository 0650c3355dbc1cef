"""Charts drawn as SVG: the marks say what was drawn, and their geometry matches the data."""

import datetime as dt
import math
import xml.etree.ElementTree as ET

import numpy as np
import polars as pl
import pytest

from core.export.charts import ChartError, chart_svg, date_ticks, nice_ticks
from core.result import Chart


def draw(chart, table):
    return ET.fromstring(chart_svg(chart, table))


def marks(svg, cls):
    return [e for e in svg.iter() if (e.get("class") or "").split()[:1] == [cls]]


def luminance(colour):
    r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


# --- scales ------------------------------------------------------------------------------


@pytest.mark.parametrize(("lo", "hi"), [(0, 1), (0, 587_275.93), (-20.25, 1234.5), (0.001, 0.0042), (5, 5)])
def test_nice_ticks_cover_the_range_with_round_steps(lo, hi):
    ticks = nice_ticks(lo, hi)
    assert ticks[0] <= lo and ticks[-1] >= hi
    steps = {round(b - a, 12) for a, b in zip(ticks, ticks[1:])}
    assert len(steps) == 1
    step = steps.pop()
    mantissa = step / 10 ** math.floor(math.log10(step))
    assert round(mantissa, 9) in (1, 2, 2.5, 5)
    assert 3 <= len(ticks) <= 12


def test_date_ticks_fall_on_month_starts():
    epoch = dt.date(1970, 1, 1)
    lo, hi = (dt.date(2024, 1, 15) - epoch).days, (dt.date(2024, 12, 31) - epoch).days
    ticks, labels = date_ticks(lo, hi)
    dates = [epoch + dt.timedelta(days=t) for t in ticks]
    assert all(d.day == 1 for d in dates) and all(lo <= t <= hi for t in ticks)
    assert labels[0] == dates[0].strftime("%Y-%m") and 3 <= len(ticks) <= 7


# --- bar ---------------------------------------------------------------------------------


def test_vertical_bars_are_proportional_to_values():
    table = pl.DataFrame({"segment": ["A", "B", "C"], "revenue": [100.0, 250.0, 50.0]})
    svg = draw(Chart("bar", "Revenue", "t", "segment", ("revenue",)), table)
    bars = marks(svg, "bar")
    assert [b.get("data-category") for b in bars] == ["A", "B", "C"]
    ratios = [float(b.get("height")) / float(b.get("data-value")) for b in bars]
    assert max(ratios) == pytest.approx(min(ratios), rel=0.01)
    bottoms = {round(float(b.get("y")) + float(b.get("height")), 1) for b in bars}
    assert len(bottoms) == 1  # all stand on the zero line


def test_negative_bars_hang_below_zero():
    table = pl.DataFrame({"channel": ["a", "b"], "lift": [2.0, -1.0]})
    up, down = marks(draw(Chart("bar", "Lift", "t", "channel", "lift"), table), "bar")
    assert float(up.get("y")) + float(up.get("height")) == pytest.approx(float(down.get("y")), abs=0.2)
    assert float(up.get("height")) == pytest.approx(2 * float(down.get("height")), rel=0.02)


def test_grouped_bars_one_per_series_and_a_legend():
    table = pl.DataFrame({"k": ["x", "y"], "actual": [1.0, 2.0], "predicted": [1.5, 1.8]})
    svg = draw(Chart("bar", "Actual vs predicted", "t", "k", ("actual", "predicted")), table)
    bars = marks(svg, "bar")
    assert [(b.get("data-category"), b.get("data-series"), float(b.get("data-value"))) for b in bars] == [
        ("x", "actual", 1.0), ("x", "predicted", 1.5), ("y", "actual", 2.0), ("y", "predicted", 1.8)]
    assert len(marks(svg, "legend-item")) == 2


def test_long_form_bars_are_split_by_the_series_column():
    table = pl.DataFrame({"variant": ["A", "B", "A", "B"], "experiment": ["e1", "e1", "e2", "e2"],
                          "rate": [0.1, 0.12, 0.3, None]})
    bars = marks(draw(Chart("bar", "Rates", "t", "variant", ("rate",), "experiment"), table), "bar")
    got = {(b.get("data-category"), b.get("data-series")): float(b.get("data-value")) for b in bars}
    assert got == {("A", "e1"): 0.1, ("B", "e1"): 0.12, ("A", "e2"): 0.3}


def test_groups_split_by_series_get_one_coloured_bar_each():
    # NPS by tier and by region: each group belongs to one dimension only.
    table = pl.DataFrame({"group": ["gold", "silver", "North", "South"],
                          "dimension": ["tier", "tier", "region", "region"], "nps": [20.0, -5.0, 12.0, 3.0]})
    svg = draw(Chart("bar", "NPS by group", "t", "group", ("nps",), "dimension"), table)
    bars = marks(svg, "bar")
    assert [(b.get("data-category"), b.get("data-series")) for b in bars] == [
        ("gold", "tier"), ("silver", "tier"), ("North", "region"), ("South", "region")]
    assert len({b.get("fill") for b in bars[:2]}) == 1 and bars[0].get("fill") != bars[2].get("fill")
    assert len({round(float(b.get("width")), 1) for b in bars}) == 1  # full-width bars, not sparse groups
    assert len(marks(svg, "legend-item")) == 2


def test_groups_whose_names_repeat_across_series_are_listed_not_merged():
    table = pl.DataFrame({"group": ["a", "b", "web", "store", "web", "store", "app"],
                          "dimension": ["tier", "tier", "first", "first", "channel", "channel", "channel"],
                          "nps": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]})
    bars = marks(draw(Chart("bar", "NPS by group", "t", "group", ("nps",), "dimension"), table), "bar")
    assert [(b.get("data-category"), b.get("data-series"), float(b.get("data-value"))) for b in bars] == list(
        zip(table["group"], table["dimension"], table["nps"]))


def test_many_categories_turn_bars_horizontal_with_every_label():
    names = [f"客户群 {i}" for i in range(20)]
    table = pl.DataFrame({"segment": names, "customers": list(range(20, 0, -1))})
    svg = draw(Chart("bar", "Customers", "t", "segment", ("customers",)), table)
    bars = marks(svg, "bar")
    assert len(bars) == 20
    widths = [float(b.get("width")) for b in bars]
    assert widths == sorted(widths, reverse=True)  # length carries the value
    assert {float(b.get("x")) for b in bars} == {float(bars[0].get("x"))}
    texts = [t.text for t in svg.iter("text")]
    assert all(n in texts for n in names)


def test_too_many_categories_are_cut_with_a_note():
    table = pl.DataFrame({"id": [f"c{i}" for i in range(55)], "value": [1.0] * 55})
    svg = draw(Chart("bar", "Many", "t", "id", ("value",)), table)
    assert len(marks(svg, "bar")) == 40
    assert "first 40 of 55 categories shown" in [t.text for t in svg.iter("text")]


# --- line --------------------------------------------------------------------------------


def test_line_points_follow_dates_and_values():
    months = [dt.date(2024, m, 1) for m in (3, 1, 2, 4)]  # unsorted on purpose
    table = pl.DataFrame({"month": months, "revenue": [30.0, 10.0, 20.0, 40.0]})
    svg = draw(Chart("line", "Revenue", "t", "month", ("revenue",)), table)
    points = marks(svg, "point")
    assert [float(p.get("data-value")) for p in points] == [10.0, 20.0, 30.0, 40.0]
    xs = [float(p.get("cx")) for p in points]
    ys = [float(p.get("cy")) for p in points]
    assert xs == sorted(xs) and ys == sorted(ys, reverse=True)
    gaps = np.diff(xs)
    assert gaps[0] == pytest.approx(31 / 29 * gaps[1], rel=0.02)  # January has 31 days, February 29


def test_lines_per_series_and_a_gap_for_missing_values():
    table = pl.DataFrame({"week": [1, 2, 3, 1, 2, 3], "channel": ["web"] * 3 + ["store"] * 3,
                          "orders": [5.0, None, 7.0, 1.0, 2.0, 3.0]})
    svg = draw(Chart("line", "Orders", "t", "week", "orders", "channel"), table)
    lines = marks(svg, "line")
    assert [line.get("data-series") for line in lines] == ["web", "web", "store"]
    assert [len(line.get("points").split()) for line in lines] == [1, 1, 3]


# --- histogram ---------------------------------------------------------------------------


def _pure_counts(values, edges):
    counts = [0] * (len(edges) - 1)
    for v in values:
        v = min(v, edges[-1])
        for i in range(len(counts)):
            if edges[i] <= v < edges[i + 1] or (i == len(counts) - 1 and v == edges[-1]):
                counts[i] += 1
                break
    return counts


def test_histogram_counts_every_value_in_the_right_bin():
    values = np.random.default_rng(3).normal(50, 10, 500).round(3)
    svg = draw(Chart("histogram", "Spread", "t", "score"), pl.DataFrame({"score": values}))
    bars = marks(svg, "bar")
    edges = [float(bars[0].get("data-low"))] + [float(b.get("data-high")) for b in bars]
    assert [int(b.get("data-value")) for b in bars] == _pure_counts(values.tolist(), edges)
    assert 10 <= len(bars) <= 40


def test_histogram_folds_a_long_tail_into_the_last_bin_and_says_so():
    values = np.random.default_rng(4).lognormal(3, 1.5, 1000)
    svg = draw(Chart("histogram", "CLV", "t", "clv"), pl.DataFrame({"clv": values}))
    bars = marks(svg, "bar")
    assert sum(int(b.get("data-value")) for b in bars) == 1000
    cut = float(bars[-1].get("data-high"))
    above = int((values > cut).sum())
    assert 0 < above <= 10
    assert any(f"{above} values above" in (t.text or "") for t in svg.iter("text"))


def test_histogram_of_a_constant_and_of_small_integers():
    one = marks(draw(Chart("histogram", "c", "t", "v"), pl.DataFrame({"v": [2.0] * 5})), "bar")
    assert [int(b.get("data-value")) for b in one] == [5]
    ints = marks(draw(Chart("histogram", "n", "t", "n"), pl.DataFrame({"n": [0, 1, 1, 2, 2, 2, 5]})), "bar")
    assert [int(b.get("data-value")) for b in ints] == [1, 2, 3, 0, 0, 1]


# --- heatmap -----------------------------------------------------------------------------


def test_long_form_heatmap_places_cells_and_shades_by_value():
    table = pl.DataFrame({"cohort": ["2024-01"] * 3 + ["2024-02"] * 2, "period": [0, 1, 2, 0, 1],
                          "retention_rate": [1.0, 0.5, 0.25, 1.0, 0.6]})
    svg = draw(Chart("heatmap", "Retention", "t", "period", ("retention_rate",), "cohort"), table)
    cells = [c for c in svg.iter("rect") if c.get("class") == "cell"]
    empty = [c for c in svg.iter("rect") if c.get("class") == "cell empty"]
    assert {(c.get("data-row"), c.get("data-column")): float(c.get("data-value")) for c in cells} == {
        ("2024-01", "0"): 1.0, ("2024-01", "1"): 0.5, ("2024-01", "2"): 0.25, ("2024-02", "0"): 1.0,
        ("2024-02", "1"): 0.6}
    assert [(c.get("data-row"), c.get("data-column")) for c in empty] == [("2024-02", "2")]
    by_value = sorted(cells, key=lambda c: float(c.get("data-value")))
    shades = [luminance(c.get("fill")) for c in by_value]
    assert shades == sorted(shades, reverse=True)  # darker means more
    assert "50.0%" in [t.text for t in svg.iter("text")]  # rates shown as percentages


def test_wide_form_heatmap_for_a_migration_matrix():
    table = pl.DataFrame({"from_segment": ["Loyal", "At Risk"], "Loyal": [80, 10], "At Risk": [20, 90]})
    svg = draw(Chart("heatmap", "Migration", "t", "from_segment"), table)
    cells = {(c.get("data-row"), c.get("data-column")): float(c.get("data-value"))
             for c in svg.iter("rect") if c.get("class") == "cell"}
    assert cells == {("Loyal", "Loyal"): 80, ("Loyal", "At Risk"): 20, ("At Risk", "Loyal"): 10,
                     ("At Risk", "At Risk"): 90}


def test_diverging_colours_for_signed_values():
    table = pl.DataFrame({"r": ["a", "b", "c"], "x": [-1.0, 0.0, 1.0]})
    svg = draw(Chart("heatmap", "Correlation", "t", "r", ("x",)), table)
    fills = [c.get("fill") for c in svg.iter("rect") if c.get("class") == "cell"]
    red, white, blue = (tuple(int(f[i:i + 2], 16) for i in (1, 3, 5)) for f in fills)
    assert red[0] > red[2] and blue[2] > blue[0] and min(white) > 230


# --- errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(("chart", "message"), [
    (Chart("bar", "t", "t", "nope", ("v",)), "no column 'nope'"),
    (Chart("bar", "t", "t", "k", ("k",)), "not numeric"),
    (Chart("histogram", "t", "t", "k"), "not numeric"),
    (Chart("donut", "t", "t", "k"), "unknown chart kind"),
])
def test_charts_that_cannot_be_drawn_raise_chart_error(chart, message):
    with pytest.raises(ChartError, match=message):
        chart_svg(chart, pl.DataFrame({"k": ["a"], "v": [1.0]}))


def test_all_missing_values_is_a_chart_error():
    with pytest.raises(ChartError, match="missing"):
        empty = pl.DataFrame({"k": ["a"], "v": [None]}, schema={"k": pl.String, "v": pl.Float64})
        chart_svg(Chart("bar", "t", "t", "k", ("v",)), empty)


def test_heatmap_with_row_and_value_columns_as_segment_results_write_it():
    # Chart("heatmap", ..., x="f_score", y=("r_score", "customers")): x repeats, so rows are r_score.
    grid = pl.DataFrame({"r_score": [2, 2, 1, 1], "f_score": [1, 2, 1, 2], "customers": [5, 7, 3, 0]})
    svg = draw(Chart("heatmap", "R by F", "grid", x="f_score", y=("r_score", "customers")), grid)
    cells = {(c.get("data-row"), c.get("data-column")): float(c.get("data-value"))
             for c in svg.iter("rect") if c.get("class") == "cell"}
    assert cells == {("1", "1"): 3, ("1", "2"): 0, ("2", "1"): 5, ("2", "2"): 7}
    rows = [c.get("data-row") for c in svg.iter("rect") if c.get("class") == "cell"]
    assert rows == ["1", "1", "2", "2"]  # numeric rows in order
