"""The Segments screen driven as an analyst would, on the sample workspace: RFM segments
with their sizes, a segment's profile, its customers and one customer's history, the other
segmentations, a comparison, the migration matrix; failures become readable notices."""

from __future__ import annotations

import asyncio
import csv
import threading
from collections import defaultdict
from pathlib import Path

import polars as pl
import pytest
from textual.widgets import Input, Static, TabbedContent

from core.features import customer_features
from core.segments.profile import compare_segments, segment_profile
from core.segments.quadrants import QUADRANTS
from core.segments.rfm import DEFAULT_RFM_MAP, rfm_segments
from core.workspace import Workspace
from tui.app import LoyalistApp
from tui.screens.choose import ChooseDialog
from tui.screens.customer import CustomerScreen
from tui.screens.dates import DatesDialog
from tui.screens.segments import SegmentsScreen
from tui.widgets.bars import BarChart
from tui.widgets.browser import TableBrowser
from tui.widgets.matrix import MatrixTable
from tui.widgets.segment_list import SegmentList

SIZE = (100, 30)


def listed(app: LoyalistApp) -> list[tuple[str, int, str]]:
    table = app.screen.query_one(SegmentList)
    return [(str(r[0]), int(str(r[1]).replace(",", "")), str(r[2]))
            for r in (table.get_row_at(i) for i in range(table.row_count))]


def text_of(app: LoyalistApp, selector: str) -> str:
    return app.screen.query_one(selector, Static).render().plain


def toasts(app: LoyalistApp) -> list[str]:
    return [str(t.render()) for t in app.screen.query("Toast")]


async def open_segments(app: LoyalistApp, pilot, settle) -> SegmentsScreen:
    await settle(pilot)
    await pilot.press("s")
    await settle(pilot)
    assert isinstance(app.screen, SegmentsScreen)
    return app.screen


def sample_rfm(root: Path):
    ws = Workspace.open(root)
    features = customer_features(ws.scan("transactions"), customers=ws.scan("customers"),
                                 touchpoints=ws.scan("touchpoints"), survey=ws.scan("survey")).collect()
    return features, rfm_segments(features)


async def test_rfm_segments_listed_with_sizes_and_revenue_share(sample_copy: Path, settle) -> None:
    app = LoyalistApp(sample_copy)
    async with app.run_test(size=SIZE) as pilot:
        await open_segments(app, pilot, settle)
        rows = listed(app)
        _, expected = sample_rfm(sample_copy)
        summary = expected.tables["segments"]
        assert [r[0] for r in rows] == list(DEFAULT_RFM_MAP)  # the 10 named segments, in map order
        assert [r[1] for r in rows] == summary["customers"].to_list()
        assert sum(r[1] for r in rows) == 2000  # every customer of the sample in exactly one segment
        assert [r[2] for r in rows] == [f"{v:.1%}" for v in summary["revenue_share"]]
        assert "RFM: 2,000 customers" in text_of(app, "#status")
        assert "as of 2025-12-31" in text_of(app, "#status")  # the last transaction date
        titles = {c.title for c in app.get_system_commands(app.screen)}  # every action in the palette
        assert {"Segments", "RFM", "Clusters", "Quadrants", "Customers", "Compare", "Migration", "As of",
                "Profile", "Export"} <= titles


async def test_profile_against_the_average_and_compare_two_segments(sample_copy: Path, settle) -> None:
    app = LoyalistApp(sample_copy)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_segments(app, pilot, settle)
        features, rfm = sample_rfm(sample_copy)
        profile = segment_profile(features, rfm.tables["customers"],
                                  order=rfm.tables["segments"]["segment"].to_list())
        champions = rfm.tables["segments"].row(0, named=True)
        head = text_of(app, "#profile-head")
        assert "Champions · R5 F4-5" in head and f"{champions['customers']} customers" in head
        index = {b.label: b for b in screen.query_one("#profile-index", BarChart).bars}
        rows = profile.tables["features"].filter(pl.col("segment") == "Champions")
        frequency = rows.filter(pl.col("feature") == "frequency").row(0, named=True)
        assert index["Frequency"].value == pytest.approx(frequency["index"])
        assert index["Frequency"].value > 150  # champions buy far more often than average
        assert index["Recency days"].value < 50  # and far more recently
        channels = [b.label for b in screen.query_one("#profile-channels", BarChart).bars]
        assert set(channels) == {"web", "store", "app", "social"}

        await pilot.press("down")  # the next segment's profile follows the cursor
        await settle(pilot)
        assert text_of(app, "#profile-head").startswith("Loyal")

        await pilot.press("up", "c")
        await settle(pilot)
        assert isinstance(app.screen, ChooseDialog)
        await pilot.press("enter")  # the first other segment: Loyal
        await settle(pilot)
        assert screen.query_one(TabbedContent).active == "compare"
        assert text_of(app, "#compare-head").startswith("Champions vs Loyal")
        expected = compare_segments(features, rfm.tables["customers"], "Champions", "Loyal")
        top = expected.tables["differences"].row(0, named=True)
        first = screen.query_one("#compare-bars", BarChart).bars[0]
        assert first.value == pytest.approx(top["std_difference"])
        assert f"{top['std_difference']:+.2f}" in first.text


async def test_drill_into_a_segment_and_open_a_customer(sample_copy: Path, settle) -> None:
    app = LoyalistApp(sample_copy)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_segments(app, pilot, settle)
        await pilot.press("enter")  # Champions: list its customers
        await settle(pilot)
        assert screen.query_one(TabbedContent).active == "members"
        table = screen.query_one("#members-browser", TableBrowser).table
        assert table.row_count == listed(app)[0][1]
        assert table.has_focus
        customer_id = table.get_row_at(0)[0]

        await pilot.press("enter")  # that customer's history
        await settle(pilot)
        assert isinstance(app.screen, CustomerScreen)
        history = app.screen.result
        assert customer_id in history.title
        expected = orders_by_channel(sample_copy / "transactions.csv", customer_id)
        bars = app.screen.query_one("#customer-channels", BarChart).bars
        assert {b.label: b.value for b in bars} == pytest.approx({c: v["spend"] for c, v in expected.items()})
        channels = history.tables["channels"]
        assert dict(zip(channels["channel"], channels["orders"])) == {c: v["orders"] for c, v in expected.items()}
        scores = dict(history.tables["scores"].iter_rows())
        assert scores["segment"] == "Champions" and scores["r_score"] == "5"
        assert "orders" in text_of(app, "#customer-status")

        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, SegmentsScreen)


def orders_by_channel(path: Path, customer_id: str) -> dict[str, dict]:
    """Independent count with the csv module: distinct purchase orders and net spend per channel."""
    orders, spend = defaultdict(set), defaultdict(float)
    with path.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["customer_id"] != customer_id:
                continue
            amount = float(row["amount"])
            spend[row["channel"]] += amount
            if amount > 0:
                orders[row["channel"]].add(row["order_id"])
    return {c: {"orders": len(orders[c]), "spend": round(spend[c], 2)} for c in spend}


async def test_survey_answers_in_the_customer_history(sample_copy: Path, settle) -> None:
    with (sample_copy / "survey.csv").open(encoding="utf-8") as f:
        answered = next(csv.DictReader(f))
    app = LoyalistApp(sample_copy)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        from tui.messages import OpenCustomer

        app.post_message(OpenCustomer(answered["customer_id"]))  # any screen may ask for a history
        await settle(pilot)
        assert isinstance(app.screen, CustomerScreen)
        await pilot.press("a")
        survey = app.screen.result.tables["survey"]
        answers = dict(zip(survey["question"], survey["answer"]))
        assert answers["nps"] == answered["nps"]
        assert float(answers["loy_trust"]) == float(answered["loy_trust"])
        assert app.screen.query_one("#customer-survey").row_count == survey.height


async def test_clusters_and_quadrants(sample_copy: Path, settle) -> None:
    app = LoyalistApp(sample_copy)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_segments(app, pilot, settle)
        await pilot.press("2")
        await settle(pilot)
        clusters = listed(app)
        assert len(clusters) >= 2 and sum(r[1] for r in clusters) == 2000
        assert "silhouette" in text_of(app, "#status")
        assert screen.segmentation.name == "segment.kmeans"

        await pilot.press("3")
        await settle(pilot)
        assert [r[0] for r in listed(app)] == list(QUADRANTS)
        assert sum(r[1] for r in listed(app)) == 2000

        await pilot.press("1")  # back to RFM: kept, not recomputed
        rfm = screen.segmentations["rfm"]
        await settle(pilot)
        assert screen.segmentation is rfm
        assert listed(app)[0][0] == "Champions"

        await pilot.press("a")  # segment as of an earlier date: only what was known then
        await settle(pilot)
        app.screen.query_one("#date-0", Input).value = "2024-12-31"
        await pilot.press("enter")
        await settle(pilot)
        with (sample_copy / "transactions.csv").open(encoding="utf-8") as f:
            known = {r["customer_id"] for r in csv.DictReader(f) if r["order_date"] <= "2024-12-31"}
        assert sum(r[1] for r in listed(app)) == len(known) < 2000
        assert "as of 2024-12-31" in text_of(app, "#status")


async def test_migration_between_two_dates(sample_copy: Path, settle) -> None:
    app = LoyalistApp(sample_copy)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_segments(app, pilot, settle)
        await pilot.press("m")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, DatesDialog)
        assert dialog.query_one("#date-1", Input).value == "2025-12-31"
        dialog.query_one("#date-0", Input).value = "2026-02-01"  # after the second date: refused
        await pilot.press("enter")
        await settle(pilot)
        assert "after the one above" in dialog.query_one("#dates-error", Static).render().plain
        dialog.query_one("#date-0", Input).value = "2025-06-30"
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, SegmentsScreen)
        assert screen.query_one(TabbedContent).active == "migration"
        matrix = screen.query_one(MatrixTable)
        assert matrix.display and matrix.row_count > 0
        result = screen.migration
        assert result.params["before"] == "2025-06-30" and result.params["after"] == "2025-12-31"
        totals = [int(str(matrix.get_row_at(i)[-1]).replace(",", "")) for i in range(matrix.row_count)]
        assert sum(totals) == 2000  # every customer known at the later date, from a segment or (new)
        assert "2025-06-30 → 2025-12-31" in text_of(app, "#migration-head")


async def test_every_migration_column_is_seen_at_160_columns(sample_copy: Path, settle) -> None:
    """RFM's ten segments and the total fit beside each other: the segment list makes room
    while the Migration tab shows, and comes back with the other tabs."""
    app = LoyalistApp(sample_copy)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await open_segments(app, pilot, settle)
        await pilot.press("m")
        await settle(pilot)
        await pilot.press("enter")  # the dialog's dates as offered
        await settle(pilot)
        matrix = screen.query_one(MatrixTable)
        assert len(matrix.columns) == 12  # from, ten segments, total
        assert matrix.virtual_size.width <= matrix.scrollable_content_region.width
        assert not screen.query_one("#segment-list").display
        await pilot.press("u")  # the customers tab: the list is back
        await settle(pilot)
        assert screen.query_one("#segment-list").display


async def test_quadrants_without_touchpoints_is_a_notice_not_a_crash(sample_copy: Path, settle) -> None:
    (sample_copy / "touchpoints.csv").unlink()
    app = LoyalistApp(sample_copy)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await open_segments(app, pilot, settle)
        await pilot.press("3")
        await settle(pilot)
        assert app.is_running
        assert any("Could not segment by Quadrants" in t for t in toasts(app))
        assert "touchpoints" in text_of(app, "#profile-head")
        assert "-error" in app.screen.query_one("#status").classes
        await pilot.press("1")
        await settle(pilot)
        assert listed(app)[0][0] == "Champions"


async def test_escape_cancels_a_running_segmentation(sample_copy: Path, settle, monkeypatch) -> None:
    import tui.screens.segments as segments_module

    started, release = threading.Event(), threading.Event()
    real = segments_module.segmentation_of

    def slow(method, *args):  # noqa: ANN001, ANN202
        if method == "kmeans":
            started.set()
            release.wait(10)
            return real("rfm", *args)  # any result: it must be dropped
        return real(method, *args)

    monkeypatch.setattr(segments_module, "segmentation_of", slow)
    app = LoyalistApp(sample_copy)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_segments(app, pilot, settle)
        await pilot.press("2")
        assert await asyncio.to_thread(started.wait, 10)
        await pilot.press("escape")
        release.set()
        await settle(pilot)
        assert "Cancelled" in text_of(app, "#status")
        assert "kmeans" not in screen.segmentations  # the late result was dropped
        assert screen.query_one(SegmentList).row_count == 0
        await pilot.press("2")  # and the same key starts it again
        await settle(pilot)
        assert "kmeans" in screen.segmentations and screen.query_one(SegmentList).row_count > 0


async def test_fits_80_by_24_and_snapshot(sample_copy: Path, settle, tmp_path: Path) -> None:
    app = LoyalistApp(sample_copy)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_segments(app, pilot, settle)
        segment_list = screen.query_one(SegmentList)
        index = screen.query_one("#profile-index", BarChart)
        assert segment_list.region.right <= 45 and segment_list.region.height >= 12
        assert index.region.x >= segment_list.region.right and index.region.width >= 34
        assert not segment_list.show_horizontal_scrollbar  # name, size and revenue share all fit
        svg = app.export_screenshot()
        (tmp_path / "segments.svg").write_text(svg, encoding="utf-8")
        for text in ("Champions", "Hibernating", "Against", "average", "R5", "F4-5"):
            assert text in svg



async def test_bar_charts_line_up_chinese_labels() -> None:
    from rich.cells import cell_len
    from textual.app import App, ComposeResult

    from tui.widgets.bars import Bar

    class Charts(App):
        def compose(self) -> ComposeResult:
            yield BarChart(id="index")
            yield BarChart(id="diff")

    app = Charts()
    async with app.run_test(size=(60, 12)) as pilot:
        index, diff = app.query_one("#index", BarChart), app.query_one("#diff", BarChart)
        index.show([Bar("高价值客户", 250.0, "9.9 vs 4.0"), Bar("Champions", 50.0, "2 vs 4"),
                    Bar("流失", 400.0, "16 vs 4")], reference=100.0, limit=300.0)
        diff.show([Bar("频次", 1.5, "+1.50"), Bar("recency", -0.5, "-0.50")], diverging=True, limit=2.0)
        await pilot.pause()
        lines = index.render().plain.split("\n")
        assert len({cell_len(line) for line in lines}) == 1, "every line ends in the same column"
        average = {cell_len(line[:line.index("│")]) for line in lines}
        assert len(average) == 1, "the 100 (average) mark is in the same column under CJK labels"
        assert all(line.endswith(text) for line, text in zip(lines, ("9.9 vs 4.0", "2 vs 4", "16 vs 4")))
        assert "›" in lines[2] and "›" not in lines[0], "only the bar beyond the limit says so"
        first, second = diff.render().plain.split("\n")
        assert cell_len(first[:first.index("│")]) == cell_len(second[:second.index("│")]), "one zero line"
        left, right = second.split("│")
        assert left.rstrip().endswith("█") and "█" not in right, "a negative bar grows to the left"
        assert "█" in first.split("│")[1], "a positive one to the right"


async def test_keys_without_a_workspace_do_no_harm(tmp_path: Path, settle) -> None:
    app = LoyalistApp(tmp_path / "no such folder")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        assert "Could not open" in text_of(app, "#status")
        await pilot.press("1", "2", "3", "u", "c", "m", "a", "v", "escape", "e")
        await settle(pilot)
        assert app.is_running and isinstance(app.screen, SegmentsScreen)
        assert app.screen.query_one(SegmentList).row_count == 0
