"""Charts in the app drawn with plotext (tui.widgets.plots): the Reports screen shows the
demand forecast with its shaded interval, the Segments screen's Charts tab shows the
quadrant scatter; a narrow window, a low one, Chinese labels and heatmaps get the text
chart instead, and nothing crashes on the way."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from textual.app import App
from textual.widgets import OptionList, TabbedContent

import tui.app
from core.result import Chart
from tui.app import LoyalistApp
from tui.screens.reports import ReportsScreen
from tui.widgets.chart_panel import ChartPanel
from tui.widgets.charts import Bars, Heatmap, Lines, Scatter, plot
from tui.widgets.plots import MIN_WIDTH, PlotView, plotext_can_draw
from tui.widgets.result_view import ResultView

SAMPLE = Path(__file__).resolve().parents[2] / "fixtures" / "sample"


def drawn(view: PlotView) -> str:
    """What the widget shows, as plain text."""
    from rich.console import Console

    console = Console(width=max(view.content_size.width, 1), color_system=None, record=True)
    with console.capture() as capture:
        console.print(view.render())
    return capture.get()


class OnePlot(App):
    """One PlotView, as a screen's charts tab would hold it."""

    def __init__(self, p, title: str = "Chart") -> None:
        super().__init__()
        self.p, self.chart_title = p, title

    def compose(self):
        yield PlotView(self.p, self.chart_title)


def forecast_like() -> tuple[Chart, pl.DataFrame]:
    history = [10.0, 12.0, 11.0, 13.0, 12.0, 14.0]
    table = pl.DataFrame({
        "period": list(range(10)),
        "actual": history + [None] * 4,
        "forecast": [None] * 6 + [14.0, 15.0, 15.5, 16.0],
        "forecast_low": [None] * 6 + [12.0, 12.5, 12.5, 12.0],
        "forecast_high": [None] * 6 + [16.0, 17.5, 18.5, 20.0],
    })
    chart = Chart("line", "Revenue per week", "series", "period", ("actual", "forecast"),
                  intervals=(("forecast", "forecast_low", "forecast_high"),))
    return chart, table


async def test_a_line_with_its_interval_is_drawn_by_plotext_with_a_legend() -> None:
    chart, table = forecast_like()
    lines = plot(chart, table)
    assert isinstance(lines, Lines) and lines.bands[0].high[-1] == 20.0
    async with OnePlot(lines).run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        view = pilot.app.query_one(PlotView)
        assert view.uses_plotext()
        text = drawn(view)
        assert "Forecast interval" in text and "Actual" in text and "Forecast" in text  # the legend
        assert "Period" in text  # the x axis title
        assert "┤" in text and "└" in text  # plotext's axes
        assert "20" in text  # the y axis reaches the top of the band, not just the line


async def test_a_narrow_window_falls_back_to_the_text_chart() -> None:
    chart, table = forecast_like()
    async with OnePlot(plot(chart, table)).run_test(size=(MIN_WIDTH - 10, 30)) as pilot:
        await pilot.pause()
        view = pilot.app.query_one(PlotView)
        assert not view.uses_plotext()
        text = drawn(view)
        assert "┤" not in text
        assert any(0x2800 < ord(ch) <= 0x28FF for ch in text)  # the text chart's braille line
        assert "widen the window to see the interval" in " ".join(text.split())
        assert view.size.height >= 8  # sized to the text chart's lines, not squashed


async def test_a_low_window_falls_back_too() -> None:
    chart, table = forecast_like()
    async with OnePlot(plot(chart, table)).run_test(size=(120, 20)) as pilot:
        await pilot.pause()
        assert not pilot.app.query_one(PlotView).uses_plotext()


def test_what_plotext_draws_and_what_stays_text() -> None:
    heat = plot(Chart("heatmap", "Retention", "t", "period", ("retention",), "cohort"),
                pl.DataFrame({"cohort": ["a", "a"], "period": [0, 1], "retention": [1.0, 0.4]}))
    assert isinstance(heat, Heatmap) and not plotext_can_draw(heat)  # coloured cells with their shares
    simple = plot(Chart("bar", "Customers", "t", "segment", ("customers",)),
                  pl.DataFrame({"segment": ["a", "b"], "customers": [3, 4]}))
    assert isinstance(simple, Bars) and not plotext_can_draw(simple)  # bars with values printed
    whiskers = plot(Chart("bar", "Elasticity", "t", "category", ("e",), intervals=(("e", "lo", "hi"),)),
                    pl.DataFrame({"category": ["a", "b"], "e": [-1.0, -2.0], "lo": [-1.5, -2.4], "hi": [-0.5, -1.6]}))
    assert isinstance(whiskers, Bars) and whiskers.ends == {(0, 0): (-1.5, -0.5), (1, 0): (-2.4, -1.6)}
    assert plotext_can_draw(whiskers)
    chinese = plot(Chart("bar", "Lift", "t", "region", ("a", "b")),
                   pl.DataFrame({"region": ["华东", "West"], "a": [1.0, 2.0], "b": [2.0, 1.0]}))
    assert not plotext_can_draw(chinese)  # plotext counts characters, not cells: its axes would shift


async def test_elasticity_whiskers_and_a_scatter_draw_without_error() -> None:
    whiskers = plot(Chart("bar", "Elasticity", "t", "category", ("e",), intervals=(("e", "lo", "hi"),)),
                    pl.DataFrame({"category": ["apparel", "beauty"], "e": [-1.0, -2.0], "lo": [-1.5, -2.4],
                                  "hi": [-0.5, -1.6]}))
    async with OnePlot(whiskers).run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        text = drawn(pilot.app.query_one(PlotView))
        assert "apparel" in text and "beauty" in text and "whiskers: the interval" in text
        assert "│" in text  # the vertical whiskers
    points = plot(Chart("scatter", "Quadrants", "t", "frequency", "engagement", series="segment"),
                  pl.DataFrame({"frequency": [1, 2, 8, 9], "engagement": [0.0, 5.0, 1.0, 6.0],
                                "segment": ["Lapsed", "Chasers", "Passive loyal", "Active loyal"]}))
    assert isinstance(points, Scatter) and points.points.count == 4
    async with OnePlot(points).run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        text = drawn(pilot.app.query_one(PlotView))
        assert "Frequency" in text and "Engagement" in text
        assert all(name in text for name in ("Lapsed", "Chasers", "Passive loyal", "Active loyal"))
        assert text.count("•") >= 4 + 4  # four points and four legend markers


class ReportsApp(LoyalistApp):
    DEFAULT_MODE = "reports"
    CSS_PATH = str(Path(tui.app.__file__).with_name("app.tcss"))


async def run_report(pilot, settle, key: str) -> ResultView:
    await settle(pilot)
    assert isinstance(pilot.app.screen, ReportsScreen)
    reports = pilot.app.screen.query_one("#report-list", OptionList)
    reports.focus()
    for _ in range(reports.option_count):
        if reports.highlighted_option.id == key:
            break
        await pilot.press("down")
    await pilot.press("g")
    await settle(pilot)
    return pilot.app.screen.query_one(ResultView)


async def test_the_demand_forecast_report_shows_its_chart_with_the_interval(settle) -> None:
    async with ReportsApp(SAMPLE).run_test(size=(160, 48)) as pilot:
        view = await run_report(pilot, settle, "predict.demand")
        assert view.result is not None and view.result.name == "predict.demand"
        view.show_tab("charts")
        await pilot.pause()
        (chart,) = view.query(PlotView)
        assert "history and forecast" in chart.border_title
        assert chart.uses_plotext()
        text = drawn(chart)
        assert "Forecast interval" in text and "Period" in text
        forecast = view.result.tables["forecast"]
        assert chart.plot.bands[0].high[-1] == forecast.sort("period")["forecast_high"][-1]


async def test_the_same_report_at_100_by_30_draws_or_falls_back_without_crashing(settle) -> None:
    async with ReportsApp(SAMPLE).run_test(size=(100, 30)) as pilot:
        view = await run_report(pilot, settle, "report.pricing")
        view.show_tab("charts")
        await pilot.pause()
        charts = list(view.query(PlotView))
        assert [c.border_title for c in charts][0].startswith("Own-price elasticity")
        for chart in charts:
            assert drawn(chart).strip()
            assert chart.size.height >= 3


async def test_segments_charts_tab_shows_the_quadrant_scatter(sample_copy: Path, settle) -> None:
    app = LoyalistApp(sample_copy)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        app.screen.query_one("#segment-detail", TabbedContent).active = "segment-charts-tab"
        await settle(pilot)
        panel = app.screen.query_one("#segment-charts", ChartPanel)
        assert panel.result is not None and panel.result.name == "segment.quadrant"
        views = {v.border_title: v for v in panel.query(PlotView)}
        scatter = views["Customers by frequency and engagement, coloured by quadrant"]
        assert scatter.uses_plotext()
        assert scatter.plot.points.count == panel.result.tables["customers"].height
        text = drawn(scatter)
        assert "Frequency" in text and "Active loyal" in text
        split = panel.result.headline["frequency_split"]
        assert f"x: split {split:g}" in text  # the split points are drawn and named

        await pilot.press("1")  # RFM: the panel follows the method
        await settle(pilot)
        assert panel.result.name == "segment.rfm"
        assert "Customers by R and F score" in {v.border_title for v in panel.query(PlotView)}


class LowPanel(App):
    """A histogram filling a fixed, low panel (as the Scale builder's at 100x30)."""

    CSS = "PlotView { height: 8; }"

    def compose(self):
        binned = pl.DataFrame({"bin_start": [0, 5, 10, 15], "customers": [2, 9, 4, 1]})
        yield PlotView(plot(Chart("histogram", "Scores", "t", "bin_start", "customers"), binned), "Scores",
                       fit_height=True)


async def test_a_histogram_in_a_low_panel_is_the_text_chart() -> None:
    async with LowPanel().run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        view = pilot.app.query_one(PlotView)
        assert not view.uses_plotext()
        text = drawn(view)
        assert "█" in text and "n = 16" in text and "┤" not in text
