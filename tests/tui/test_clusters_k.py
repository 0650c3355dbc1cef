"""Clusters: the analyst sees the silhouette of each k as bars and chooses k in the app; the
silhouettes and the chosen clustering are checked against scikit-learn run here on the same
standardised features."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from textual.widgets import OptionList

from core.features import customer_features
from core.workspace import Workspace
from tui.app import LoyalistApp
from tui.screens.choose import ChooseDialog
from tui.widgets.bars import BarChart
from tui.widgets.segment_list import SegmentList

from tests.tui.test_segments_screen import open_segments, text_of

SAMPLE = Path(__file__).resolve().parents[2] / "fixtures" / "sample"
SIZE = (120, 40)


@pytest.fixture(scope="module")
def design() -> np.ndarray:
    """log recency, log frequency, log spend and channel count, nulls filled, standardised."""
    ws = Workspace.open(SAMPLE)
    f = customer_features(ws.scan("transactions"), customers=ws.scan("customers"),
                          touchpoints=ws.scan("touchpoints"), survey=ws.scan("survey")).collect()
    columns = []
    for name, logged in (("recency_days", True), ("frequency", True), ("monetary", True), ("n_channels", False)):
        values = f[name].cast(pl.Float64)
        values = values.fill_null(values.max() if name == "recency_days" else values.median()).to_numpy()
        columns.append(np.sign(values) * np.log1p(np.abs(values)) if logged else values)
    x = np.column_stack(columns)
    assert len(x) <= 2000  # the app scores every customer, no sample drawn
    return (x - x.mean(axis=0)) / x.std(axis=0)


def reference_silhouette(x: np.ndarray, k: int) -> float:
    return float(silhouette_score(x, KMeans(n_clusters=k, random_state=0, n_init=4).fit_predict(x)))


async def test_choose_k_with_the_silhouette_of_each(design: np.ndarray, settle) -> None:
    async with LoyalistApp(SAMPLE).run_test(size=SIZE) as pilot:
        app = pilot.app
        screen = await open_segments(app, pilot, settle)
        await pilot.press("2")
        await settle(pilot)
        auto_k = screen.segmentation.headline["k"]
        await pilot.press("K")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ChooseDialog)
        bars = dialog.query_one(BarChart).bars
        assert [b.label for b in bars] == [f"k = {k}" for k in range(2, 9)]
        expected = [reference_silhouette(design, k) for k in range(2, 9)]
        assert [b.value for b in bars] == pytest.approx(expected, abs=1e-9)
        assert auto_k == 2 + int(np.argmax(expected))

        options = dialog.query_one(OptionList)
        while options.highlighted_option.id != "6":
            await pilot.press("down")
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is screen and screen.segmentation.headline["k"] == 6
        assert screen.query_one(SegmentList).row_count == 6
        assert screen.segmentation.headline["silhouette"] == pytest.approx(reference_silhouette(design, 6),
                                                                           abs=1e-9)
        assert "k = 6, silhouette" in text_of(app, "#status") and "(chosen)" in text_of(app, "#status")
        assert app.remembered["segments"]["k"] == 6

        await pilot.press("K")  # the bars still show every k, the chosen one marked
        await pilot.pause()
        marked = [b.label for b in app.screen.query_one(BarChart).bars if "shown" in b.text]
        assert marked == ["k = 6"]
        assert app.screen.query_one(OptionList).highlighted_option.id == "6"
        await pilot.press("escape")
