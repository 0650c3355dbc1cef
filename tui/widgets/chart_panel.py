"""Every chart of one Result in a scrolling panel (e.g. the Segments screen's Charts tab).

The numbers are pulled in a thread worker (`tui.widgets.charts.safe_plot`: a scatter of a
million customers is sampled there), then the UI thread only mounts the `PlotView`s. A
result replaced before its charts are ready is dropped.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import work
from textual.containers import VerticalScroll
from textual.widgets import Static

from core.result import Result
from tui.widgets.charts import MUTED, Plot, safe_plot
from tui.widgets.plots import PlotView


class ChartPanel(VerticalScroll):
    def __init__(self, empty: str = "No charts yet.", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.empty = empty
        self.result: Result | None = None

    def compose(self):
        yield Static(Text(self.empty, MUTED), classes="chart-panel-empty")

    def show_result(self, result: Result | None) -> None:
        """Draw the result's charts (None: the empty message)."""
        if result is not None and result is self.result:
            return  # already drawn or being drawn
        self.result = result
        if result is None:
            self.call_later(self._mount, None, [])
            return
        self._prepare(result)

    @work(thread=True, exclusive=True, group="chart-panel")
    def _prepare(self, result: Result) -> None:
        plots = [(chart.title, *safe_plot(chart, result.tables.get(chart.table))) for chart in result.charts_to_draw]
        self.app.call_from_thread(self._mount, result, plots)

    async def _mount(self, result: Result | None, plots: list[tuple[str, Plot | None, str]]) -> None:
        if result is not self.result:  # replaced meanwhile
            return
        await self.remove_children()
        if not plots:
            await self.mount(Static(Text(self.empty, MUTED), classes="chart-panel-empty"))
            return
        await self.mount_all([PlotView(p, title, problem=problem, classes="result-chart") for title, p, problem in plots])
