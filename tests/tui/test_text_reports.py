"""The comments and Kano reports reach the app's Reports screen from the registry: run with
keys on the sample, figures checked against the survey file read by pandas."""

from __future__ import annotations

import pandas as pd

from tests.tui.test_reports_screen import SAMPLE, SIZE, figures, open_reports, pick, view
from tui.app import LoyalistApp


async def test_comments_and_kano_reports_run_from_the_reports_screen(settle) -> None:
    survey = pd.read_csv(SAMPLE / "survey.csv")
    async with LoyalistApp(SAMPLE).run_test(size=SIZE) as pilot:
        app = await open_reports(pilot, settle)
        await pick(pilot, "report.comments")
        await pilot.press("enter")
        await settle(pilot)
        shown = figures(app)
        assert shown["Comments"] == str(survey["comment"].notna().sum())  # every sample comment is zh or en
        tabs = view(app).tab_ids()
        assert {"table-summary", "table-themes", "table-coverage"} <= set(tabs)

        await pick(pilot, "report.kano")
        await pilot.press("enter")
        await settle(pilot)
        shown = figures(app)
        features = {c[len("kano_"):-len("_func")] for c in survey.columns if c.startswith("kano_") and c.endswith("_func")}
        assert shown["Features asked"] == str(len(features))
        assert "table-features" in view(app).tab_ids()
