"""The products analyses in the app's Reports screen (their group's screen): run with keys,
the planted pairs in the rules table, and a workspace without product_id told the fix."""

from __future__ import annotations

from tests.tui.test_reports_screen import SAMPLE, SIZE, ReportsApp, figures, notice, open_reports, pick, set_option


async def test_rules_and_evaluation_run_from_the_report_list(settle) -> None:
    async with ReportsApp(SAMPLE).run_test(size=SIZE) as pilot:
        app = await open_reports(pilot, settle)
        await pick(pilot, "products.rules")
        await set_option(pilot, "min_lift", "10")
        await pilot.press("enter")
        await settle(pilot)
        assert figures(app)["Rule count"] == "12"
        rules = app.screen.query_one("ResultView").prepared.result.tables["rules"]
        assert ("ELE-003", "ELE-052") in set(rules.select("antecedent", "consequent").iter_rows())

        await pick(pilot, "products.evaluate")
        await pilot.press("g")
        await settle(pilot)
        assert figures(app)["Best method"] == "ALS (implicit)"
        assert figures(app)["Beats popularity"] == "no"  # ahead on average, not beyond chance


async def test_no_product_id_is_a_notice_naming_the_mapping(workspace, settle) -> None:
    async with ReportsApp(workspace).run_test(size=SIZE, notifications=True) as pilot:
        app = await open_reports(pilot, settle)
        await pick(pilot, "products.rules")
        await pilot.press("g")
        await settle(pilot)
        text = notice(app)
        assert "product_id" in text and "press M (Map columns)" in text and "loyalist.toml" not in text
