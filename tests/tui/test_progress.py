"""Long work says what it is doing and for how long, and ctrl+c or escape cancels it: the
run stops at its next step, nothing of it is kept, and the app takes the next run."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import polars as pl

from core.progress import step
from core.result import Result
from tests.conftest import SAMPLE
from tests.tui.test_reports_screen import ReportsApp, notice, open_reports, pick, view
from tui.app import LoyalistApp
from tui.screens import report_entries

SIZE = (120, 40)


def status(app: LoyalistApp) -> str:
    return app.screen.query_one("#status").render().plain


async def test_a_running_report_shows_its_step_and_ctrl_c_cancels_it(monkeypatch, settle) -> None:
    reached, release = threading.Event(), threading.Event()
    went_on: list[str] = []

    def slow(ws, options):
        step("reading the orders", 1, 4)
        reached.set()
        release.wait(10)
        step("scoring the customers", 2, 4)  # cancelled: stops here
        went_on.append("scored")
        return Result("slow", "Slow", {"t": pl.DataFrame({"a": [1]})})

    entry = report_entries.BY_KEY["report.kpi"]
    monkeypatch.setitem(report_entries.BY_KEY, "report.kpi", type(entry)(**{**entry.__dict__, "run": slow}))
    monkeypatch.setattr("tui.screens.reports.BY_KEY", report_entries.BY_KEY)
    async with ReportsApp(SAMPLE).run_test(size=SIZE) as pilot:
        app = await open_reports(pilot, settle)
        await pick(pilot, "report.kpi")
        await pilot.press("g")
        assert await asyncio.to_thread(reached.wait, 10)
        app.screen.ticker.refresh()  # what the half-second clock does
        await pilot.pause()
        line = status(app)
        assert "Running KPI overview: reading the orders…" in line and "1/4" in line
        assert " s · escape stops it" in line
        await pilot.press("ctrl+c")
        release.set()
        await settle(pilot)
        assert went_on == []  # the run stopped at its next step
        assert "cancelled" in status(app) and "cancelled" in notice(app)
        assert view(app).prepared is None and app.screen.ticker is None
        await pilot.press("ctrl+c")  # nothing running: the app's own ctrl+c (a hint), not a crash
        await pilot.pause()
        assert app.is_running


async def test_a_finished_report_says_how_long_it_took(settle) -> None:
    async with ReportsApp(SAMPLE).run_test(size=SIZE) as pilot:
        app = await open_reports(pilot, settle)
        await pick(pilot, "report.channels")
        await pilot.press("g")
        await settle(pilot)
        assert view(app).prepared is not None
        assert " s · + adds it to the report" in status(app)


async def test_segments_show_the_step_and_elapsed_time_and_ctrl_c_cancels(sample_copy: Path, settle,
                                                                          monkeypatch) -> None:
    import tui.screens.segments as segments_module

    reached, release = threading.Event(), threading.Event()
    real = segments_module.segmentation_of

    def slow(method, *args):  # noqa: ANN001, ANN202
        if method == "kmeans":
            step("trying 3 clusters", 1, 7)
            reached.set()
            release.wait(10)
            step("trying 4 clusters", 2, 7)
        return real(method, *args)

    monkeypatch.setattr(segments_module, "segmentation_of", slow)
    app = LoyalistApp(sample_copy)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        screen = app.screen
        await pilot.press("2")
        assert await asyncio.to_thread(reached.wait, 10)
        screen.ticker.refresh()
        await pilot.pause()
        line = status(app)
        assert line.startswith("Clusters as of ") and "trying 3 clusters… ██░░░░░░░░░░ 1/7 · " in line
        assert line.endswith(" s · Esc cancels")
        await pilot.press("ctrl+c")
        release.set()
        await settle(pilot)
        assert "Cancelled" in status(app) and "kmeans" not in screen.segmentations
