"""Add to report: results from two screens collected with +, written with E into one HTML
report (read back with html.parser) and saved as a recipe that the CLI reruns next month."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

from textual.widgets import Input, OptionList
from typer.testing import CliRunner

from commands.app import app as cli
from core.export.recipe import load_recipe
from tests.tui.test_reports_screen import SAMPLE, ReportsApp, open_reports, pick, set_option, toasts
from tui.screens.pack import PackDialog


class Sections(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.kinds: list[str] = []
        self.contents: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "section":
            self.kinds.append(attrs["data-result"])
        if tag == "a" and attrs.get("href", "").startswith("#report-"):
            self.contents.append(attrs["href"])


def sections(path: Path) -> Sections:
    parser = Sections()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


async def test_three_results_become_one_report_and_a_recipe(settle, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)  # the dialog proposes files in the current folder
    async with ReportsApp(SAMPLE).run_test(size=(120, 40), notifications=True) as pilot:
        app = await open_reports(pilot, settle)
        await pilot.press("plus")  # nothing has run yet: nothing to add
        assert app.pack.items == [] and any("Nothing to export yet" in t for t in toasts(app))

        await pilot.press("g")  # Channels, the first report, with its defaults
        await settle(pilot)
        await pilot.press("plus")
        await pick(pilot, "report.kpi")
        await set_option(pilot, "days", "60")
        await pilot.press("enter")  # runs KPI over 60 days
        await settle(pilot)
        app.screen.query_one("#report-list", OptionList).focus()
        await pilot.press("plus", "plus")  # the second + adds nothing twice
        assert any("already in the report" in t for t in toasts(app))

        await pilot.press("s")  # the Segments screen: RFM segments by default
        await settle(pilot)
        await pilot.press("plus")
        assert [i.result.name for i in app.pack.items] == ["report.channels", "report.kpi", "segment.rfm"]

        await pilot.press("E")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, PackDialog)
        assert dialog.query_one("#pack-sections", OptionList).option_count == 3
        dialog.query_one("#pack-title", Input).value = "Monthly report"
        dialog.query_one("#pack-path", Input).value = str(tmp_path / "monthly.html")
        dialog.query_one("#pack-recipe").focus()
        await pilot.press("enter")  # the recipe first: the dialog stays open and says where it went
        await settle(pilot)
        assert isinstance(app.screen, PackDialog)
        assert "loyalist export run monthly.toml" in dialog.query_one("#pack-message").render().plain
        dialog.query_one("#pack-path", Input).focus()
        await pilot.press("enter")  # then the report: the dialog closes
        await settle(pilot)
        assert not isinstance(app.screen, PackDialog)

    report = sections(tmp_path / "monthly.html")
    assert report.kinds == ["report.channels", "report.kpi", "segment.rfm"]
    assert report.contents == ["#report-1", "#report-2", "#report-3"]

    recipe = load_recipe(tmp_path / "monthly.toml")
    assert recipe.title == "Monthly report" and recipe.output == tmp_path / "monthly.html"
    assert recipe.workspace.resolve() == SAMPLE.resolve()
    assert [(r.kind, r.options.get("days")) for r in recipe.reports] == [
        ("report.channels", None), ("report.kpi", 60), ("segment.rfm", None)]
    # next month: the same report from the command line, for a later date
    result = CliRunner().invoke(cli, ["export", "run", str(tmp_path / "monthly.toml"), "--as-of", "2025-11-30",
                                      "--force"])
    assert result.exit_code == 0, result.output
    assert sections(tmp_path / "monthly.html").kinds == report.kinds
    assert "2025-11-30" in (tmp_path / "monthly.html").read_text(encoding="utf-8")


async def test_an_empty_report_says_how_to_fill_it(settle) -> None:
    async with ReportsApp(SAMPLE).run_test(size=(120, 40), notifications=True) as pilot:
        app = await open_reports(pilot, settle)
        await pilot.press("E")
        await settle(pilot)
        assert not isinstance(app.screen, PackDialog)
        assert any("press + on a result" in t for t in toasts(app))
        titles = {c.title for c in app.get_system_commands(app.screen)}
        assert {"Add to report", "Export report", "Reports: NPS & CSAT", "Predict: Churn risk"} <= titles


async def test_a_shareable_report_and_its_recipe(sample_copy: Path, settle, tmp_path: Path, monkeypatch) -> None:
    import csv

    from textual.widgets import Checkbox

    from tui.app import LoyalistApp

    monkeypatch.chdir(tmp_path)
    names = [r["name"] for r in csv.DictReader((sample_copy / "customers.csv").open(encoding="utf-8"))]
    async with LoyalistApp(sample_copy).run_test(size=(120, 40), notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)  # the segments are computed before they can be added
        await pilot.press("plus")  # RFM segments (a recipe reruns them)
        await settle(pilot)
        await pilot.press("enter")  # Champions' customers, with their names
        await settle(pilot)
        await pilot.press("plus", "E")
        await settle(pilot)
        dialog = app_screen = pilot.app.screen
        assert isinstance(app_screen, PackDialog)
        dialog.query_one("#pack-pseudonymise", Checkbox).value = True
        dialog.query_one("#pack-path", Input).value = str(tmp_path / "shared.html")
        await pilot.pause()
        dialog.query_one("#pack-recipe").focus()
        await pilot.press("enter")  # Save recipe (the dialog stays open)
        await settle(pilot)
        dialog.query_one("#pack-go").focus()
        await pilot.press("enter")
        await settle(pilot)
    html = (tmp_path / "shared.html").read_text(encoding="utf-8")
    assert "pseudonymised" in html
    assert not [n for n in names if n in html]
    assert [i.result.name for i in pilot.app.pack.items][0] == "segment.rfm" and len(pilot.app.pack.items) == 2
    assert load_recipe(tmp_path / "shared.toml").pseudonymise is True


async def collect_channels(pilot, settle):
    app = await open_reports(pilot, settle)
    await pilot.press("g")  # Channels, the first report, with its defaults
    await settle(pilot)
    await pilot.press("plus")
    assert [i.result.name for i in app.pack.items] == ["report.channels"]
    return app


async def test_quitting_with_a_report_not_written_asks_first(settle, tmp_path: Path, monkeypatch) -> None:
    """The collected report is work too: q asks Save / Discard / Cancel, as for scale edits;
    Save opens the Report dialog and quits once the report is written."""
    from tui.widgets.dialogs import AskDialog

    monkeypatch.chdir(tmp_path)
    async with ReportsApp(SAMPLE).run_test(size=(120, 40)) as pilot:
        app = await collect_channels(pilot, settle)
        await pilot.press("q")
        await pilot.pause()
        assert isinstance(app.screen, AskDialog)
        assert "The report being collected (1 section) has not been written" in app.screen.message
        await pilot.press("escape")  # Cancel: the app and the report stay
        await pilot.pause()
        assert app.is_running and len(app.pack.items) == 1
        await pilot.press("q", "s")  # Save: the Report dialog
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, PackDialog)
        dialog.query_one("#pack-path", Input).value = str(tmp_path / "kept.html")
        dialog.query_one("#pack-path", Input).focus()
        await pilot.press("enter")
        await settle(pilot)
        assert not app.is_running  # written, then the quit went on
    assert sections(tmp_path / "kept.html").kinds == ["report.channels"]


async def test_a_written_report_quits_at_once(settle, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    async with ReportsApp(SAMPLE).run_test(size=(120, 40)) as pilot:
        app = await collect_channels(pilot, settle)
        await pilot.press("E")
        await settle(pilot)
        app.screen.query_one("#pack-path", Input).value = str(tmp_path / "done.html")
        app.screen.query_one("#pack-path", Input).focus()
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("q")
        await pilot.pause()
        assert not app.is_running


async def test_a_lost_terminal_keeps_the_collected_report(settle, tmp_path: Path) -> None:
    import shutil

    from core.session import kept_files

    folder = tmp_path / "ws"
    shutil.copytree(SAMPLE, folder, ignore=shutil.ignore_patterns(".loyalist"))
    async with ReportsApp(folder).run_test(size=(120, 40)) as pilot:
        app = await collect_channels(pilot, settle)
        app.lose_terminal()
        await pilot.pause()
        assert not app.is_running
    [kept] = kept_files(folder)
    assert kept.suffix == ".html" and sections(kept).kinds == ["report.channels"]
