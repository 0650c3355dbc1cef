"""Invalid rows in the app, under the CLI's policy (core.invalid): a workspace whose
loyalist.toml says on_invalid = "skip" gives the app the figures `loyalist ...` gives, with
the rows left out counted; invalid rows that stop an analysis are named (file, column,
rows) and S writes on_invalid = "skip" into loyalist.toml, keeping its comments, and runs
the analysis again."""

from __future__ import annotations

from pathlib import Path

import pytest
from polars.testing import assert_frame_equal
from textual.widgets import Static

from core.registry import run_analysis
from core.workspace import Workspace
from tests.tui.test_reports_screen import ReportsApp, notice, open_reports, pick, view
from tests.tui.test_segments_screen import listed, open_segments
from tui.app import LoyalistApp
from tui.widgets.dialogs import AskDialog

SIZE = (160, 48)
# A customer the sample does not have, whose one order's amount is beyond any real figure:
# read as it is, it would be a 2,001st customer and the biggest spender of all.
BAD_ROW = "O999999,C999999,2025-06-01,1e308,web,home,HOM-001,1,,\n"
TOML = """# Shop settings, written by hand: the app must keep this comment
[tables.customers]
# the CRM export is clean
on_invalid = "error"
"""


@pytest.fixture
def with_bad_row(sample_copy: Path) -> tuple[Path, int]:
    """The sample with one invalid transaction; (folder, the bad row's number as errors name it)."""
    path = sample_copy / "transactions.csv"
    with path.open("a", encoding="utf-8") as out:
        out.write(BAD_ROW)
    rows = sum(1 for _ in path.open(encoding="utf-8"))  # the header is row 1, as in every message
    return sample_copy, rows


def footer_actions(app: LoyalistApp) -> set[str]:
    return {b.binding.action for b in app.screen.active_bindings.values() if b.binding.show and b.enabled}


async def test_segments_skip_invalid_rows_as_the_cli_does(with_bad_row, settle) -> None:
    folder, _ = with_bad_row
    (folder / "loyalist.toml").write_text('[tables.transactions]\non_invalid = "skip"\n', encoding="utf-8")
    cli = run_analysis("segment.rfm", Workspace.open(folder))
    app = LoyalistApp(folder)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_segments(app, pilot, settle)
        rows = listed(app)
        expected = cli.tables["segments"]
        assert [r[0] for r in rows] == expected["segment"].to_list()
        assert [r[1] for r in rows] == expected["customers"].to_list()
        assert sum(r[1] for r in rows) == 2000  # C999999 left out, as on the CLI
        status = screen.query_one("#status", Static).render().plain
        assert "RFM: 2,000 customers" in status and "1 invalid row left out" in status
        notes = screen.segmentation.notes  # and so in every export of the segments
        assert any(n.startswith("1 row of transactions.csv left out as invalid") for n in notes)
        assert "skip_invalid" not in footer_actions(app)  # nothing stopped: no S


async def test_segments_stopped_by_invalid_rows_name_them_and_s_skips_them(with_bad_row, settle) -> None:
    folder, bad = with_bad_row
    (folder / "loyalist.toml").write_text(TOML, encoding="utf-8")
    app = LoyalistApp(folder)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_segments(app, pilot, settle)
        assert listed(app) == []
        said = screen.query_one("#profile-head", Static).render().plain
        assert "transactions.csv" in said and "'amount'" in said and f"rows {bad}" in said
        assert "press S to skip the invalid rows of transactions" in said
        assert "--skip-invalid" not in said and "loyalist data" not in said  # the app's key, not the CLI's
        assert "skip_invalid" in footer_actions(app)
        await pilot.press("S")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, AskDialog)
        assert '+on_invalid = "skip"' in dialog.message and "[tables.transactions]" in dialog.message
        await pilot.press("w")
        await settle(pilot)
        written = (folder / "loyalist.toml").read_text(encoding="utf-8")
        assert written.startswith(TOML)  # comments and the other table's keys kept as written
        assert written.endswith('[tables.transactions]\non_invalid = "skip"\n')
        assert sum(r[1] for r in listed(app)) == 2000  # run again, without the invalid row
        assert "1 invalid row left out" in screen.query_one("#status", Static).render().plain
        assert "skip_invalid" not in footer_actions(app)


async def test_a_report_stopped_by_invalid_rows_runs_again_after_s(with_bad_row, settle) -> None:
    folder, bad = with_bad_row
    async with ReportsApp(folder).run_test(size=SIZE) as pilot:
        app = await open_reports(pilot, settle)
        await pick(pilot, "report.cohorts")
        await pilot.press("g")
        await settle(pilot)
        said = notice(app)
        assert f"rows {bad}" in said and "press S" in said and "--skip-invalid" not in said
        assert "skip_invalid" in footer_actions(app)
        await pilot.press("S")
        await pilot.pause()
        assert isinstance(app.screen, AskDialog)
        await pilot.press("w")
        await settle(pilot)
        assert (folder / "loyalist.toml").read_text(encoding="utf-8") == '[tables.transactions]\non_invalid = "skip"\n'
        result = view(app).result
        assert result is not None and result.name == "report.cohorts"  # run again on the reopened workspace
        assert any(n.startswith("1 row of transactions.csv left out as invalid") for n in result.notes)
        cli = run_analysis("report.cohorts", Workspace.open(folder))
        assert result.headline["customers"] == cli.headline["customers"] == 2000
        # the same figures (sums of floats may differ in the last bits: summed in another order)
        assert_frame_equal(result.tables["cohorts"], cli.tables["cohorts"], check_exact=False)


async def test_cancelling_s_writes_nothing(with_bad_row, settle) -> None:
    folder, _ = with_bad_row
    async with ReportsApp(folder).run_test(size=SIZE) as pilot:
        app = await open_reports(pilot, settle)
        await pick(pilot, "report.cohorts")
        await pilot.press("g")
        await settle(pilot)
        await pilot.press("S")
        await pilot.pause()
        await pilot.press("escape")
        await settle(pilot)
        assert not (folder / "loyalist.toml").exists()
        assert view(app).result is None and "skip_invalid" in footer_actions(app)


async def test_a_table_left_out_of_a_report_names_s_and_s_uses_its_valid_rows(make_workspace, settle) -> None:
    from tests.core.test_invalid_rows import SURVEY, TX

    folder = make_workspace({"transactions.csv": TX, "survey.csv": SURVEY})
    async with ReportsApp(folder).run_test(size=SIZE) as pilot:
        app = await open_reports(pilot, settle)
        await pick(pilot, "report.channels")
        await pilot.press("g")
        await settle(pilot)
        paragraphs = view(app).prepared.paragraphs
        said = next(p for p in paragraphs if "survey table" in p)
        assert "rows (3, 5)" in said and "press S to use its valid rows" in said
        assert "--skip-invalid" not in said and "loyalist data" not in said
        assert any("--skip-invalid" in n for n in view(app).result.notes)  # exports keep the CLI's words
        assert "S uses the valid rows of survey" in app.screen.query_one("#status", Static).render().plain
        assert "skip_invalid" in footer_actions(app)
        await pilot.press("S")
        await pilot.pause()
        await pilot.press("w")
        await settle(pilot)
        assert (folder / "loyalist.toml").read_text(encoding="utf-8") == '[tables.survey]\non_invalid = "skip"\n'
        notes = view(app).result.notes
        assert any(n.startswith("2 rows of survey.csv left out as invalid") for n in notes)
        assert not any("survey table" in n for n in notes) and "skip_invalid" not in footer_actions(app)


async def test_the_scale_builder_stopped_by_invalid_rows_builds_after_s(with_bad_row, settle) -> None:
    from tests.tui.test_scale_screen import ScaleApp, open_scale

    folder, bad = with_bad_row
    async with ScaleApp(folder).run_test(size=SIZE) as pilot:
        app = await open_scale(pilot, settle)
        said = app.screen.query_one("#status", Static).render().plain
        assert f"rows {bad}" in said and "press S to skip the invalid rows of transactions" in said
        assert "skip_invalid" in footer_actions(app)
        await pilot.press("S")
        await pilot.pause()
        await pilot.press("w")
        await settle(pilot)
        summary = app.screen.query_one("#scale-summary", Static).render().plain
        assert "2,000 customers" in summary  # C999999 and its one invalid order left out
        assert "skip_invalid" not in footer_actions(app)


async def test_products_stopped_by_invalid_rows_offer_s_and_mine_as_the_cli_does(with_bad_row, settle) -> None:
    from tests.tui.test_products_screen import open_products

    folder, bad = with_bad_row
    app = LoyalistApp(folder)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_products(pilot, settle)
        status = screen.query_one("#status", Static).render().plain
        assert screen.rules is None
        assert "transactions.csv" in status and f"rows {bad}" in status and "press S" in status
        assert "skip_invalid" in footer_actions(app)
        await pilot.press("S")
        await pilot.pause()
        assert isinstance(app.screen, AskDialog)
        await pilot.press("w")
        await settle(pilot)
        assert (folder / "loyalist.toml").read_text(encoding="utf-8") == '[tables.transactions]\non_invalid = "skip"\n'
        assert "skip_invalid" not in footer_actions(app)
        cli = run_analysis("products.rules", Workspace.open(folder))
        assert screen.rules is not None
        assert_frame_equal(screen.rules.tables["rules"], cli.tables["rules"])
        assert any(n.startswith("1 row of transactions.csv left out as invalid") for n in screen.rules.notes)
