"""The Scale builder driven with keys on a copy of the sample workspace: alpha, item
statistics, weights and tiers checked against pingouin and plain pandas arithmetic; the
spec file opened and saved without ever replacing a file silently."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import pingouin as pg
import pytest
from textual.widgets import Input, OptionList

import tui.app
from core.scale.spec import load_spec, parse_spec
from tui.app import LoyalistApp
from tui.screens import scale as scale_screen
from tui.screens.scale import ScaleScreen
from core.scale.edit import add_item, flip_direction, next_normalise, next_transform, set_method, spec_text
from tui.widgets.dialogs import ChoiceDialog, ConfirmDialog, TextDialog
from tui.widgets.result_view import ResultTable
from tui.widgets.scale_items import ScaleItemsTable

SAMPLE = Path(__file__).resolve().parents[2] / "fixtures" / "sample"
SIZE = (120, 40)
LIKERT = ["loy_recommend", "loy_repurchase", "loy_first_choice", "loy_trust", "loy_switch", "loy_weekend"]
SPEC = "[scale]\nname = \"Attitudinal loyalty\"\n" + "".join(
    f"\n[[items]]\ncolumn = \"{c}\"\nrange = [1, 7]\n" for c in LIKERT)


class ScaleApp(LoyalistApp):
    """The app opened on the Scale builder (the first test reaches it with its key)."""

    DEFAULT_MODE = "scale"
    CSS_PATH = str(Path(tui.app.__file__).with_name("app.tcss"))


@pytest.fixture(autouse=True)
def no_pause(monkeypatch) -> None:
    """The pause that gathers a burst of key presses into one computation only slows tests."""
    monkeypatch.setattr(scale_screen, "DEBOUNCE", 0.0)


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    """A copy of the sample workspace (files may be written) with a six-item Likert spec."""
    for file in SAMPLE.glob("*.csv"):
        shutil.copy(file, tmp_path / file.name)
    (tmp_path / "scale.toml").write_text(SPEC, encoding="utf-8")
    return tmp_path


@pytest.fixture(scope="module")
def answers() -> pd.DataFrame:
    survey = pd.read_csv(SAMPLE / "survey.csv")
    return survey[LIKERT].dropna(how="all")


def reference_alpha(frame: pd.DataFrame) -> float:
    return float(pg.cronbach_alpha(frame.dropna(how="all"))[0])


def shown_alpha(app: LoyalistApp) -> float:
    text = app.screen.query_one("#scale-summary").render().plain
    match = re.search(r"α (\d\.\d{3})", text)
    assert match, text
    return float(match.group(1))


def items(app: LoyalistApp) -> ScaleItemsTable:
    return app.screen.query_one(ScaleItemsTable)


def column(app: LoyalistApp, key: str) -> dict[str, str]:
    table = items(app)
    return dict(zip([r.column for r in table.rows_shown], table.column_values(key)))


async def open_scale(pilot, settle) -> LoyalistApp:
    await settle(pilot)
    if not isinstance(pilot.app.screen, ScaleScreen):
        await pilot.press("l")
        await settle(pilot)
    assert isinstance(pilot.app.screen, ScaleScreen)
    return pilot.app


async def highlight(pilot, name: str) -> None:
    table = items(pilot.app)
    for _ in range(table.row_count):
        if table.highlighted_item == name:
            return
        await pilot.press("down")
    assert table.highlighted_item == name


async def choose(pilot, option_id: str) -> None:
    options = pilot.app.screen.query_one(OptionList)
    for _ in range(options.option_count):
        if options.highlighted_option.id == option_id:
            await pilot.press("enter")
            return
        await pilot.press("down")
    raise AssertionError(f"{option_id} is not offered")


def tier_counts(app: LoyalistApp) -> dict[str, int]:
    table = app.screen.query_one("#scale-tiers", ResultTable)
    return {row[0].plain: int(row[3].plain.replace(",", "")) for row in table.shown.rows}


def reference_tiers(answers: pd.DataFrame, weights: dict[str, float], reverse: tuple[str, ...] = (),
                    cuts: tuple[float, ...] = (40, 70), names: tuple[str, ...] = ("Low", "Medium", "High")) -> dict:
    """Pairwise score: the weighted mean of the answered items on 0-100, cut at `cuts`."""
    normalised = (answers[list(weights)] - 1) / 6 * 100
    for item in reverse:
        normalised[item] = 100 - normalised[item]
    w = pd.Series(weights)
    score = (normalised.fillna(0) * w).sum(axis=1) / (normalised.notna() * w).sum(axis=1)
    # Rounded so a score that is exactly a cut point (mean answer 4 is 50) counts as that
    # point whatever the float noise, and goes to the higher tier as the spec says.
    tiers = pd.cut(score.dropna().round(9), [0, *cuts, 100.0001], right=False, labels=list(names))
    return {k: int(v) for k, v in tiers.value_counts().items()}


async def test_alpha_follows_reversing_and_removing_items(sample: Path, answers: pd.DataFrame, settle) -> None:
    async with LoyalistApp(sample).run_test(size=SIZE) as pilot:
        app = await open_scale(pilot, settle)
        assert [r.column for r in items(app).rows_shown] == LIKERT
        assert shown_alpha(app) == pytest.approx(reference_alpha(answers), abs=5e-4)
        assert "reverse-keyed" in column(app, "flag")["loy_switch"]
        ci = re.search(r"CI (\d\.\d{3})–(\d\.\d{3})", app.screen.query_one("#scale-summary").render().plain)
        assert [float(ci.group(1)), float(ci.group(2))] == pytest.approx(
            list(pg.cronbach_alpha(answers)[1]), abs=1.5e-3)  # Feldt's interval, as pingouin's

        await highlight(pilot, "loy_switch")
        await pilot.press("i")
        await settle(pilot)
        reversed_answers = answers.assign(loy_switch=8 - answers["loy_switch"])
        assert column(app, "direction")["loy_switch"] == "↓ lower"
        assert column(app, "flag")["loy_switch"] == ""
        assert shown_alpha(app) == pytest.approx(reference_alpha(reversed_answers), abs=5e-4)

        if_deleted = float(column(app, "alpha_if_deleted")["loy_weekend"])
        await highlight(pilot, "loy_weekend")
        await pilot.press("delete")
        await settle(pilot)
        without_noise = reversed_answers.drop(columns="loy_weekend")
        assert "loy_weekend" not in column(app, "item")
        assert shown_alpha(app) == pytest.approx(reference_alpha(without_noise), abs=5e-4)
        assert shown_alpha(app) == pytest.approx(if_deleted, abs=5e-4)  # as the row said it would
        assert shown_alpha(app) > reference_alpha(answers)
        assert "unsaved changes" in app.screen.query_one("#status").render().plain

        await pilot.press("r")  # reloading the workspace keeps the scale being edited
        await settle(pilot)
        assert column(app, "direction")["loy_switch"] == "↓ lower"
        assert "loy_weekend" not in column(app, "item")
        assert shown_alpha(app) == pytest.approx(reference_alpha(without_noise), abs=5e-4)
        assert "unsaved changes" in app.screen.query_one("#status").render().plain


async def test_typed_weight_moves_tiers(sample: Path, answers: pd.DataFrame, settle) -> None:
    async with ScaleApp(sample).run_test(size=SIZE) as pilot:
        app = await open_scale(pilot, settle)
        equal = {c: 1.0 for c in LIKERT}
        assert tier_counts(app) == reference_tiers(answers, equal)

        await highlight(pilot, "loy_recommend")
        await pilot.press("w")
        assert isinstance(app.screen, TextDialog)
        await pilot.press("backspace", "4", "enter")
        await settle(pilot)
        weighted = {**equal, "loy_recommend": 4.0}
        assert column(app, "weight")["loy_recommend"] == "4 · 44%"  # 4 / 9
        assert column(app, "weight")["loy_trust"] == "1 · 11%"
        assert tier_counts(app) == reference_tiers(answers, weighted)
        assert sum(tier_counts(app).values()) == len(answers)


async def test_settings_recut_the_tiers(sample: Path, answers: pd.DataFrame, settle) -> None:
    async with ScaleApp(sample).run_test(size=SIZE) as pilot:
        app = await open_scale(pilot, settle)
        await pilot.press("c")
        app.screen.query_one("#option-cuts", Input).value = "50, 80, 50"
        app.screen.query_one("#option-names", Input).value = "Cold, Warm, Hot, Fan"
        await pilot.press("ctrl+s")  # in a form dialog: OK
        assert "increase" in app.screen.query_one(".dialog-error").render().plain  # still open, says why
        # Cut points no mean of 1-6 answers on 1-7 hits exactly: core.scale.score cuts with no
        # tolerance, so an exact 80 can land below the cut through float noise (reported).
        app.screen.query_one("#option-cuts", Input).value = "35, 55, 85"
        await pilot.press("ctrl+s")
        await settle(pilot)
        expected = reference_tiers(answers, {c: 1.0 for c in LIKERT}, cuts=(35, 55, 85),
                                   names=("Cold", "Warm", "Hot", "Fan"))
        assert tier_counts(app) == expected
        assert list(tier_counts(app)) == ["Cold", "Warm", "Hot", "Fan"]


async def test_equal_and_delphi_weights(sample: Path, settle) -> None:
    async with ScaleApp(sample).run_test(size=SIZE) as pilot:
        app = await open_scale(pilot, settle)
        await pilot.press("m")
        assert isinstance(app.screen, ChoiceDialog)
        await choose(pilot, "delphi")  # the workspace's delphi.csv rates a seventh item...
        await settle(pilot)
        assert "loy_attachment" in app.screen.query_one("#scale-summary").render().plain

        await pilot.press("a")  # ...so add it
        await choose(pilot, "loy_attachment")
        await settle(pilot)
        delphi = pd.read_csv(sample / "delphi.csv")
        last = delphi[delphi["round"] == delphi["round"].max()].groupby("item")["rating"].mean()
        expected = last / last.sum()
        shown = column(app, "weight")
        assert set(shown) == set(expected.index)
        for item in expected.index:
            assert shown[item] == f"{expected[item]:.1%}"
        assert "weights delphi" in app.screen.query_one("#scale-summary").render().plain

        await pilot.press("m")
        await choose(pilot, "equal")
        await settle(pilot)
        assert set(column(app, "weight").values()) == {f"{1 / 7:.1%}"}


async def test_add_item_suggests_log_for_money(sample: Path, settle) -> None:
    async with ScaleApp(sample).run_test(size=SIZE) as pilot:
        app = await open_scale(pilot, settle)
        await pilot.press("a")
        await choose(pilot, "monetary")
        await settle(pilot)
        assert column(app, "transform")["monetary"] == "log"
        assert items(app).highlighted_item == "monetary"
        assert re.search(r"· 7 items ·", app.screen.query_one("#scale-summary").render().plain)


async def test_a_scale_that_cannot_be_computed_says_why(sample: Path, settle) -> None:
    async with ScaleApp(sample).run_test(size=SIZE, notifications=True) as pilot:
        app = await open_scale(pilot, settle)
        await highlight(pilot, "loy_weekend")  # the last row: the cursor moves up as rows go
        for _ in range(len(LIKERT) - 1):
            await pilot.press("delete")
        await settle(pilot)
        summary = app.screen.query_one("#scale-summary")
        assert "Cannot compute this scale" in summary.render().plain
        assert summary.has_class("-error")
        toasts = [str(t.render()) for t in app.screen.query("Toast")]
        assert any("at least 2 items" in t for t in toasts), toasts
        assert [r.column for r in items(app).rows_shown] == ["loy_recommend"]
        await pilot.press("a")  # and the app goes on: add one back, alpha returns
        await choose(pilot, "loy_repurchase")
        await settle(pilot)
        pair = pd.read_csv(SAMPLE / "survey.csv")[["loy_recommend", "loy_repurchase"]]
        assert shown_alpha(app) == pytest.approx(reference_alpha(pair), abs=5e-4)


async def test_save_never_replaces_a_file_without_asking(sample: Path, settle) -> None:
    spec_file = sample / "scale.toml"
    async with ScaleApp(sample).run_test(size=SIZE) as pilot:
        app = await open_scale(pilot, settle)
        await highlight(pilot, "loy_switch")
        await pilot.press("i")
        await settle(pilot)

        await pilot.press("ctrl+s")
        dialog = app.screen
        assert isinstance(dialog, TextDialog)
        assert dialog.query_one(Input).value == str(spec_file)
        await pilot.press("enter")
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("n")
        assert spec_file.read_text(encoding="utf-8") == SPEC  # declined: untouched

        await pilot.press("ctrl+s", "enter")
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("y")
        await settle(pilot)
        saved = load_spec(spec_file)
        assert [i.direction for i in saved.items if i.column == "loy_switch"] == ["lower"]
        assert [i.column for i in saved.items] == LIKERT
        assert "unsaved" not in app.screen.query_one("#status").render().plain

        # a new name is written at once, relative to the workspace folder
        await pilot.press("ctrl+s")
        field = app.screen.query_one(Input)
        field.value = "other.toml"
        await pilot.press("enter")
        await settle(pilot)
        assert load_spec(sample / "other.toml").columns == tuple(LIKERT)


async def test_open_reports_spec_errors_and_keeps_the_scale(sample: Path, settle) -> None:
    (sample / "broken.toml").write_text('[scale]\nweights = "magic"\n\n[[items]]\ncolumn = "nps"\n',
                                        encoding="utf-8")
    (sample / "two.toml").write_text(SPEC.split("\n[[items]]")[0] + "".join(
        f'\n[[items]]\ncolumn = "{c}"\n' for c in ("loy_recommend", "loy_trust")), encoding="utf-8")
    async with ScaleApp(sample).run_test(size=SIZE) as pilot:
        app = await open_scale(pilot, settle)
        await pilot.press("ctrl+o")
        app.screen.query_one(Input).value = "broken.toml"
        await pilot.press("enter")
        error = app.screen.query_one(".dialog-error").render().plain
        assert "line 2" in error and "magic" in error
        await pilot.press("escape")
        assert len(items(app).rows_shown) == len(LIKERT)

        await pilot.press("ctrl+o")
        app.screen.query_one(Input).value = "two.toml"
        await pilot.press("enter")
        await settle(pilot)
        assert [r.column for r in items(app).rows_shown] == ["loy_recommend", "loy_trust"]
        both = pd.read_csv(SAMPLE / "survey.csv")[["loy_recommend", "loy_trust"]]
        assert shown_alpha(app) == pytest.approx(reference_alpha(both), abs=5e-4)


async def test_screenshot_at_80_by_24(sample: Path, settle, tmp_path: Path) -> None:
    async with ScaleApp(sample).run_test(size=(80, 24)) as pilot:
        app = await open_scale(pilot, settle)
        svg = app.export_screenshot()
    (tmp_path / "scale.svg").write_text(svg, encoding="utf-8")
    text = re.sub(r"<[^>]+>", "", svg).replace("&#160;", " ")
    for visible in ("Scale builder", "Items", "Score distribution", "Tiers", "loy_recommend", "Medium"):
        assert visible in text


def test_spec_text_round_trips_through_the_parser(tmp_path: Path) -> None:
    spec = parse_spec(SPEC)
    for edit in (lambda s: flip_direction(s, "loy_switch"), lambda s: next_transform(s, "loy_trust"),
                 lambda s: next_transform(next_transform(s, "loy_trust"), "loy_trust"),
                 lambda s: next_normalise(s, "loy_weekend"), lambda s: add_item(s, "nps"),
                 lambda s: set_method(s, "delphi", tmp_path / "panel" / "delphi.csv")):
        spec = edit(spec)
    path = tmp_path / "scale.toml"
    back = parse_spec(spec_text(spec, path), source=str(path))
    assert back.items == spec.items
    assert back.tiers == spec.tiers and back.weights == "delphi"
    assert back.delphi == tmp_path / "panel" / "delphi.csv"
    assert [i.range for i in back.items if i.column == "nps"] == [(0.0, 10.0)]


async def test_palette_lists_every_scale_action(sample: Path, settle) -> None:
    async with ScaleApp(sample).run_test(size=SIZE) as pilot:
        app = await open_scale(pilot, settle)
        titles = {c.title for c in app.get_system_commands(app.screen)}
        assert {"Add", "Remove", "Reverse", "Transform", "Normalise", "Weight", "Weighting", "Settings",
                "Details", "Open", "Save"} <= titles
        await pilot.press("v")  # details: every table of the computed scale, exportable
        await settle(pilot)
        exported = app.screen.exportable()
        assert {"scores", "tiers", "items", "sensitivity"} <= set(exported.result.tables)
        await pilot.press("escape")
        assert app.screen.exportable().table == "scores"


async def test_a_customers_history_shows_the_scale_score(sample: Path, settle) -> None:
    from tui.messages import OpenCustomer
    from tui.screens.customer import CustomerScreen

    async with LoyalistApp(sample).run_test(size=SIZE) as pilot:
        app = await open_scale(pilot, settle)
        scores = app.screen.outcome.scores.tables["scores"]
        someone = scores.drop_nulls("score").row(0, named=True)
        app.post_message(OpenCustomer(someone["customer_id"]))
        await settle(pilot)
        assert isinstance(app.screen, CustomerScreen)
        facts = dict(app.screen.result.tables["scores"].iter_rows())
        shown = {str(k).lower(): v for k, v in facts.items()}
        assert any("loyalty" in k and "score" in k for k in shown), facts
        assert someone["tier"] in {str(v) for v in facts.values()}
