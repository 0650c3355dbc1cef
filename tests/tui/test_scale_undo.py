"""Undo and redo in the Scale builder: every kind of edit (add, remove, reverse, weight,
tiers) is taken back with ctrl+z and made again with ctrl+y, the figures follow (alpha
checked against pingouin, tiers against plain pandas), and undoing back to the saved spec
leaves nothing unsaved. ctrl+s suggests a file name that replaces nothing the first time."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from textual.widgets import Input

from tui.widgets.dialogs import TextDialog

from tests.tui.test_scale_screen import (LIKERT, ScaleApp, answers, choose, column, highlight, items,
                                         no_pause, open_scale, reference_alpha, reference_tiers, sample,
                                         shown_alpha, tier_counts)

__all__ = ["answers", "no_pause", "sample"]
SIZE = (120, 40)


def status(app) -> str:
    return app.screen.query_one("#status").render().plain


async def test_undo_and_redo_remove_and_reverse(sample: Path, answers: pd.DataFrame, settle) -> None:
    async with ScaleApp(sample).run_test(size=SIZE) as pilot:
        app = await open_scale(pilot, settle)
        await highlight(pilot, "loy_trust")
        await pilot.press("delete")  # not asked: undoable instead
        await highlight(pilot, "loy_switch")
        await pilot.press("i")
        await settle(pilot)
        assert [r.column for r in items(app).rows_shown] == [c for c in LIKERT if c != "loy_trust"]
        reversed_answers = answers.assign(loy_switch=8 - answers["loy_switch"])
        assert shown_alpha(app) == pytest.approx(reference_alpha(reversed_answers.drop(columns="loy_trust")),
                                                 abs=5e-4)

        await pilot.press("ctrl+z")  # the reversal
        await settle(pilot)
        assert column(app, "direction")["loy_switch"] == "↑ higher"
        assert shown_alpha(app) == pytest.approx(reference_alpha(answers.drop(columns="loy_trust")), abs=5e-4)
        assert "unsaved" in status(app)

        await pilot.press("ctrl+z")  # the item is back, in its place: the spec as it is on disk
        await settle(pilot)
        assert [r.column for r in items(app).rows_shown] == LIKERT
        assert items(app).highlighted_item == "loy_trust"
        assert shown_alpha(app) == pytest.approx(reference_alpha(answers), abs=5e-4)
        assert "unsaved" not in status(app)
        assert app.screen.unsaved_work() is None

        await pilot.press("ctrl+z")  # nothing more to undo: nothing changes
        await pilot.press("ctrl+y", "ctrl+y")
        await settle(pilot)
        assert column(app, "direction")["loy_switch"] == "↓ lower"
        assert "loy_trust" not in column(app, "item")
        assert shown_alpha(app) == pytest.approx(reference_alpha(reversed_answers.drop(columns="loy_trust")),
                                                 abs=5e-4)
        assert "unsaved" in status(app)


async def test_undo_add_weight_and_tiers(sample: Path, answers: pd.DataFrame, settle) -> None:
    equal = {c: 1.0 for c in LIKERT}
    async with ScaleApp(sample).run_test(size=SIZE) as pilot:
        app = await open_scale(pilot, settle)
        await highlight(pilot, "loy_recommend")
        await pilot.press("w")
        assert isinstance(app.screen, TextDialog)
        await pilot.press("backspace", "4", "enter")
        await pilot.press("a")
        await choose(pilot, "monetary")
        await pilot.press("c")
        app.screen.query_one("#option-cuts", Input).value = "35, 55, 85"
        app.screen.query_one("#option-names", Input).value = "Cold, Warm, Hot, Fan"
        await pilot.press("ctrl+s")  # OK in the settings form
        await settle(pilot)
        assert list(tier_counts(app)) == ["Cold", "Warm", "Hot", "Fan"]

        await pilot.press("ctrl+z")  # the tiers
        await settle(pilot)
        assert list(tier_counts(app)) == ["Low", "Medium", "High"]
        assert column(app, "weight")["loy_recommend"].startswith("4 ·")

        await pilot.press("ctrl+z", "ctrl+z")  # the added item, then the weight
        await settle(pilot)
        assert [r.column for r in items(app).rows_shown] == LIKERT
        assert tier_counts(app) == reference_tiers(answers, equal)

        await pilot.press("ctrl+y")  # the weight again, then a new edit drops what was undone
        await settle(pilot)
        assert column(app, "weight")["loy_recommend"].startswith("4 ·")
        assert tier_counts(app) == reference_tiers(answers, {**equal, "loy_recommend": 4.0})
        await highlight(pilot, "loy_switch")
        await pilot.press("i")
        await pilot.press("ctrl+y")
        await settle(pilot)
        assert "monetary" not in column(app, "item")


async def test_first_save_suggests_a_name_that_replaces_nothing(sample: Path, settle) -> None:
    (sample / "scale.toml").write_text("not [toml", encoding="utf-8")  # unreadable: a starting spec
    async with ScaleApp(sample).run_test(size=SIZE) as pilot:
        app = await open_scale(pilot, settle)
        assert app.screen.spec_path is None
        await pilot.press("ctrl+s")
        suggested = Path(app.screen.query_one(Input).value)
        assert suggested.parent == sample and suggested.suffix == ".toml" and not suggested.exists()
        await pilot.press("enter")  # written at once: there was nothing to replace
        await settle(pilot)
        assert suggested.is_file() and app.screen.spec_path == suggested
        assert (sample / "scale.toml").read_text(encoding="utf-8") == "not [toml"
