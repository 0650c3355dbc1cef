"""The Reports screen driven with keys on the sample workspace: figures checked against
pandas, options changed and rerun, missing tables and bad options shown as notices; and
the terminal charts drawn from Chart specs."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pytest
from rich.console import Console
from textual.widgets import Input, OptionList, TabbedContent

import tui.app
from core.result import Chart, Result
from tui.app import LoyalistApp
from tui.screens import report_entries
from tui.screens.reports import ReportsScreen
from tui.widgets.charts import plot, render
from tui.widgets.plots import PlotView
from tui.widgets.options_form import FieldError, OptionsForm, parse
from tui.widgets.result_view import ResultView, prepare

SAMPLE = Path(__file__).resolve().parents[2] / "fixtures" / "sample"
SIZE = (120, 40)


class ReportsApp(LoyalistApp):
    """The app opened on the Reports screen (the first test reaches it with its key)."""

    DEFAULT_MODE = "reports"
    CSS_PATH = str(Path(tui.app.__file__).with_name("app.tcss"))


def view(app: LoyalistApp) -> ResultView:
    return app.screen.query_one(ResultView)


def figures(app: LoyalistApp) -> dict[str, str]:
    prepared = view(app).prepared
    assert prepared is not None, notice(app)
    return dict(prepared.figures)


def notice(app: LoyalistApp) -> str:
    return "\n".join(w.render().plain for w in view(app).query(".result-notice"))


def toasts(app: LoyalistApp) -> list[str]:
    return [str(t.render()) for t in app.screen.query("Toast")]


async def open_reports(pilot, settle) -> LoyalistApp:
    await settle(pilot)
    if not isinstance(pilot.app.screen, ReportsScreen):
        await pilot.press("p")
        await settle(pilot)
    return pilot.app


async def pick(pilot, key: str) -> None:
    """Move the list's highlight to a report, as an analyst would with the arrow keys."""
    reports = pilot.app.screen.query_one("#report-list", OptionList)
    reports.focus()
    for _ in range(reports.option_count):
        if reports.highlighted_option.id == key:
            await pilot.pause()
            return
        await pilot.press("down")
    raise AssertionError(f"{key} is not listed")


async def set_option(pilot, name: str, text: str) -> None:
    field = pilot.app.screen.query_one(f"#option-{name}", Input)
    field.focus()
    field.value = text
    await pilot.pause()


async def test_channels_report_figures(settle) -> None:
    async with LoyalistApp(SAMPLE).run_test(size=SIZE) as pilot:
        app = await open_reports(pilot, settle)
        assert "Press enter" in notice(app)  # before a run: what the report does and needs
        await pilot.press("enter")
        await settle(pilot)
        tx = pd.read_csv(SAMPLE / "transactions.csv")
        shown = figures(app)
        assert shown["Customers"] == f"{tx['customer_id'].nunique():,}"
        assert shown["Top channel by revenue"] == tx.groupby("channel")["amount"].sum().idxmax()
        assert shown["Purchase channels"] == str(tx["channel"].nunique())
        tabs = view(app).tab_ids()
        assert tabs[:2] == ["summary", "charts"]
        assert "table-channels" in tabs

        await pilot.press("right_square_bracket")  # ] : the charts
        assert app.screen.query_one(TabbedContent).active == "charts"
        charts = [c.border_title for c in view(app).query(PlotView)]
        assert "Revenue by channel" in charts
        # the sample's negative amounts are counted in a note that names the app's screen, not the CLI
        [warned] = [p for p in view(app).prepared.paragraphs if p.startswith("The data checks warn")]
        assert "negative amounts (kept as returns)" in warned
        assert "the Data screen's Findings (d, then f)" in warned and "loyalist data validate" not in warned


async def test_rerun_with_changed_options(settle) -> None:
    survey = pd.read_csv(SAMPLE / "survey.csv", parse_dates=["response_date"])
    async with ReportsApp(SAMPLE).run_test(size=SIZE) as pilot:
        app = await open_reports(pilot, settle)
        await pick(pilot, "report.nps")
        await pilot.press("g")
        await settle(pilot)
        nps = survey["nps"]
        expected = 100 * ((nps >= 9).mean() - (nps <= 6).mean())
        assert float(figures(app)["NPS"]) == pytest.approx(expected, abs=0.05)
        assert figures(app)["Responses"] == f"{len(survey):,}"

        await set_option(pilot, "since", "2025-06-15")
        await pilot.press("enter")  # enter in an option runs the report again
        await settle(pilot)
        later = survey[survey["response_date"] >= "2025-06-15"]
        assert figures(app)["Responses"] == f"{len(later):,}"
        later_nps = 100 * ((later["nps"] >= 9).mean() - (later["nps"] <= 6).mean())
        assert float(figures(app)["NPS"]) == pytest.approx(later_nps, abs=0.05)
        assert "since 2025-06-15" in view(app).prepared.params

        # another report and back: each keeps its own options and last result
        await pick(pilot, "report.cohorts")
        await pick(pilot, "report.nps")
        assert app.screen.query_one("#option-since", Input).value == "2025-06-15"
        assert figures(app)["Responses"] == f"{len(later):,}"


async def test_a_yes_no_option_says_which_it_is(settle) -> None:
    """A checkbox's tick shows only in colour: its word follows the value, as restored
    from the defaults and as toggled with the keyboard."""
    from textual.widgets import Checkbox

    async with ReportsApp(SAMPLE).run_test(size=SIZE) as pilot:
        await open_reports(pilot, settle)
        await pick(pilot, "predict.demand")
        trend = pilot.app.screen.query_one("#option-trend", Checkbox)
        assert (trend.value, str(trend.label)) == (False, "no")
        trend.focus()
        await pilot.press("space")
        await pilot.pause()
        assert (trend.value, str(trend.label)) == (True, "yes")
        assert pilot.app.screen.query_one(OptionsForm).values()["trend"] is True


async def test_missing_table_is_a_notice(workspace: Path, settle) -> None:
    """The conftest workspace has transactions and customers only: no survey."""
    async with ReportsApp(workspace).run_test(size=SIZE, notifications=True) as pilot:
        app = await open_reports(pilot, settle)
        reports = app.screen.query_one("#report-list", OptionList)
        nps_prompt = reports.get_option("report.nps").prompt
        assert "needs survey" in nps_prompt.plain
        await pick(pilot, "report.nps")
        assert "no survey table" in notice(app)
        await pilot.press("g")
        await settle(pilot)
        assert "needs the 'survey' table" in notice(app)
        assert view(app).query_one(".result-notice").has_class("-error")
        assert any("NPS & CSAT could not run" in t for t in toasts(app))
        assert app.screen.exportable() is None

        await pick(pilot, "report.cohorts")  # and the app goes on
        await pilot.press("g")
        await settle(pilot)
        assert "Customers" in figures(app)


async def test_bad_option_is_named_and_nothing_runs(settle) -> None:
    async with ReportsApp(SAMPLE).run_test(size=SIZE, notifications=True) as pilot:
        app = await open_reports(pilot, settle)
        await set_option(pilot, "window_days", "soon")
        await pilot.press("enter")
        await settle(pilot)
        assert any("Window days" in t and "whole number" in t for t in toasts(app))
        assert app.screen.query_one("#option-window_days", Input).has_class("-invalid")
        assert view(app).prepared is None


async def test_clv_shows_customers_in_a_virtual_table(settle) -> None:
    async with ReportsApp(SAMPLE).run_test(size=SIZE) as pilot:
        app = await open_reports(pilot, settle)
        await pick(pilot, "predict.clv")
        await pilot.press("g")
        await settle(pilot)
        prepared = view(app).prepared
        customers = next(t for t in prepared.tables if t.name == "customers")
        tx = pd.read_csv(SAMPLE / "transactions.csv")
        assert customers.height == tx["customer_id"].nunique()
        assert customers.backend is not None and not customers.rows  # drawn row by row
        assert [c.title for c in prepared.charts][:1] == ["P(alive) across customers"]
        assert all(c.plot is not None for c in prepared.charts)
        exported = app.screen.exportable()
        assert exported.result.name == prepared.result.name


async def test_escape_stops_a_running_report(monkeypatch, settle) -> None:
    release = threading.Event()

    def slow(ws, options):
        release.wait(5)
        return Result("slow", "Slow", {"t": pl.DataFrame({"a": [1]})})

    entry = report_entries.BY_KEY["report.kpi"]
    monkeypatch.setitem(report_entries.BY_KEY, "report.kpi", type(entry)(**{**entry.__dict__, "run": slow}))
    monkeypatch.setattr("tui.screens.reports.BY_KEY", report_entries.BY_KEY)
    async with ReportsApp(SAMPLE).run_test(size=SIZE) as pilot:
        app = await open_reports(pilot, settle)
        await pick(pilot, "report.kpi")
        await pilot.press("g")
        await pilot.pause()
        assert view(app).loading
        assert "escape stops it" in app.screen.query_one("#status").render().plain
        await pilot.press("escape")
        release.set()
        await settle(pilot)
        assert not view(app).loading
        assert "cancelled" in notice(app)
        assert view(app).prepared is None  # the late result was dropped


async def test_screenshot_at_80_by_24(settle, tmp_path: Path) -> None:
    async with ReportsApp(SAMPLE).run_test(size=(80, 24)) as pilot:
        app = await open_reports(pilot, settle)
        await pilot.press("enter")
        await settle(pilot)
        svg = app.export_screenshot()
    (tmp_path / "reports.svg").write_text(svg, encoding="utf-8")
    text = re.sub(r"<[^>]+>", "", svg).replace("&#160;", " ")
    for visible in ("Reports", "Channels", "Options", "Summary", "Customers", "Run"):
        assert visible in text


# --- the widgets on their own ----------------------------------------------------------------


def drawn(renderable, width: int = 60) -> list[str]:
    console = Console(width=width, color_system=None, legacy_windows=False)
    with console.capture() as capture:
        console.print(renderable)
    return capture.get().splitlines()


def bar_cells(line: str) -> float:
    eighths = " ▏▎▍▌▋▊▉█"
    return sum(1 if ch == "█" else eighths.index(ch) / 8 for ch in line if ch in eighths[1:])


def test_bar_lengths_are_proportional_and_negatives_go_left() -> None:
    table = pl.DataFrame({"channel": ["web", "store", "app"], "revenue": [400.0, 200.0, 100.0]})
    lines = drawn(render(plot(Chart("bar", "Revenue", "t", "channel", ("revenue",)), table)))
    lengths = [bar_cells(line) for line in lines]
    assert lengths[0] / lengths[1] == pytest.approx(2, rel=0.05)
    assert lengths[0] / lengths[2] == pytest.approx(4, rel=0.05)
    assert [line.split()[-1] for line in lines] == ["400", "200", "100"]

    diffs = pl.DataFrame({"metric": ["up", "down"], "diff": [1.0, -1.0]})
    up, down = drawn(render(plot(Chart("bar", "Diff", "t", "metric", "diff"), diffs)))
    assert up.index("█") > down.rindex("█")  # the negative bar ends where the positive one starts


def test_histogram_of_binned_and_raw_values() -> None:
    binned = pl.DataFrame({"bin_start": [0, 5, 10], "customers": [1, 4, 2]})
    hist = plot(Chart("histogram", "Scores", "t", "bin_start", "customers"), binned)
    assert hist.counts == [1, 4, 2] and hist.edges == [0, 5, 10, 15]
    raw = pl.DataFrame({"clv": np.arange(1000, dtype=float)})
    hist = plot(Chart("histogram", "CLV", "t", "clv"), raw)
    assert sum(hist.counts) == 1000
    assert list(hist.counts) == list(np.histogram(np.arange(1000.0), bins=hist.edges)[0])
    lines = drawn(render(hist))
    assert "n = 1,000" in lines[-1]


def test_heatmap_and_lines_show_their_values() -> None:
    cohorts = pl.DataFrame({"cohort": ["2024-01", "2024-01", "2024-02"], "period": [0, 1, 0],
                            "retention": [1.0, 0.25, 1.0]})
    text = "\n".join(drawn(render(plot(Chart("heatmap", "Retention", "t", "period", ("retention",), "cohort"),
                                       cohorts)), width=50))
    assert "2024-02" in text and "25.0%" in text and "100.0%" in text
    curve = pl.DataFrame({"units": [100, 200, 400], "power": [0.2, 0.5, 0.9]})
    lines = drawn(render(plot(Chart("line", "Power", "t", "units", ("power",)), curve)))
    assert any(0x2800 < ord(ch) <= 0x28FF for line in lines for ch in line)  # braille dots
    assert lines[-1].split() == ["100", "400"]


def test_cjk_labels_keep_bars_aligned() -> None:
    table = pl.DataFrame({"region": ["华东", "West", "华南地区"], "customers": [3, 3, 3]})
    lines = drawn(render(plot(Chart("bar", "Customers", "t", "region", "customers"), table)), width=40)
    console = Console(width=40)
    starts = {console.measure(line[: line.index("█")]).maximum for line in lines}
    assert len(starts) == 1  # every bar starts in the same terminal column


def test_prepare_formats_figures_and_keeps_long_text_apart() -> None:
    result = Result("x", "X", {"t": pl.DataFrame({"share": [0.125], "revenue": [1234.5]})},
                    headline={"share": 0.125, "summary": "A long sentence " * 5, "alpha_ci": (0.6684, 0.7082)})
    prepared = prepare(result)
    assert dict(prepared.figures) == {"Share": "12.5%", "Alpha CI": "[0.668, 0.708]"}
    assert prepared.paragraphs == ["A long sentence " * 5]
    assert [c.plain for c in prepared.tables[0].rows[0]] == ["12.5%", "1,234.50"]


def test_option_fields_parse_and_refuse_bad_values() -> None:
    entry = report_entries.BY_KEY["report.experiment"]
    split = next(f for f in entry.fields if f.name == "split")
    assert parse(split, "control=50, treatment=50") == {"control": 50.0, "treatment": 50.0}
    confidence = next(f for f in entry.fields if f.name == "confidence")
    with pytest.raises(FieldError, match="highest allowed"):
        parse(confidence, "1.5")
    assert parse(confidence, "") == 0.95
    assert isinstance(OptionsForm(entry.fields).fields, tuple)


async def test_palette_and_help_cover_the_screen(settle) -> None:
    async with ReportsApp(SAMPLE).run_test(size=SIZE) as pilot:
        app = await open_reports(pilot, settle)
        titles = {c.title for c in app.get_system_commands(app.screen)}
        assert {"Run", "Options", "Defaults", "Back", "Report list", "Reports", "Scale"} <= titles
        await pilot.press("question_mark")
        await pilot.pause()
        help_text = app.screen.query_one("HelpPanel #widget-help").source
        assert "Pick a report" in help_text
