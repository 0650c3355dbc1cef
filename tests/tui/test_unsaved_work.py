"""Work is never lost: quitting with unsaved scale edits asks save / discard / cancel,
from whichever screen the analyst is on; saving never replaces a different file silently;
when the terminal goes away, the edits are kept in a file the next opening names."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input

from core.scale.spec import load_spec
from core.session import kept_files
from tui.app import LoyalistApp
from tui.screens.scale import ScaleScreen
from tui.widgets.dialogs import AskDialog, ConfirmDialog, TextDialog

from tests.tui.test_scale_screen import LIKERT, SPEC, ScaleApp, highlight, items, no_pause, open_scale, sample

__all__ = ["no_pause", "sample"]  # fixtures shared with the Scale builder's tests
SIZE = (120, 40)


async def reverse_switch(pilot, settle) -> None:
    await open_scale(pilot, settle)
    await highlight(pilot, "loy_switch")
    await pilot.press("i")
    await settle(pilot)


def directions(app: LoyalistApp) -> dict[str, str]:
    table = items(app)
    return dict(zip([r.column for r in table.rows_shown], table.column_values("direction")))


async def test_quit_without_edits_leaves_at_once(sample: Path, settle) -> None:
    async with ScaleApp(sample).run_test(size=SIZE) as pilot:
        await open_scale(pilot, settle)
        await pilot.press("q")
        await pilot.pause()
        assert not pilot.app.is_running


async def test_cancel_keeps_the_app_and_the_edits(sample: Path, settle) -> None:
    async with ScaleApp(sample).run_test(size=SIZE) as pilot:
        await reverse_switch(pilot, settle)
        await pilot.press("q")
        assert isinstance(pilot.app.screen, AskDialog)
        await pilot.press("escape")
        await pilot.pause()
        assert pilot.app.is_running and isinstance(pilot.app.screen, ScaleScreen)
        assert directions(pilot.app)["loy_switch"] == "↓ lower"
        assert "unsaved" in pilot.app.screen.query_one("#status").render().plain
        assert (sample / "scale.toml").read_text(encoding="utf-8") == SPEC


async def test_discard_quits_and_leaves_the_file(sample: Path, settle) -> None:
    async with ScaleApp(sample).run_test(size=SIZE) as pilot:
        await reverse_switch(pilot, settle)
        await pilot.press("d")  # to the Data screen: the question is asked from anywhere
        await settle(pilot)
        await pilot.press("q")
        assert isinstance(pilot.app.screen, AskDialog)
        await pilot.press("d")
        await pilot.pause()
        assert not pilot.app.is_running
    assert (sample / "scale.toml").read_text(encoding="utf-8") == SPEC


async def test_save_writes_the_specs_own_file_and_quits(sample: Path, settle) -> None:
    async with ScaleApp(sample).run_test(size=SIZE) as pilot:
        await reverse_switch(pilot, settle)
        await pilot.press("q", "s")
        await pilot.pause()
        assert not pilot.app.is_running
    saved = load_spec(sample / "scale.toml")
    assert [i.column for i in saved.items] == LIKERT
    assert {i.column: i.direction for i in saved.items}["loy_switch"] == "lower"


async def test_save_asks_before_replacing_a_file_changed_since_it_was_read(sample: Path, settle) -> None:
    async with ScaleApp(sample).run_test(size=SIZE) as pilot:
        await reverse_switch(pilot, settle)
        changed = SPEC.replace("Attitudinal loyalty", "Edited elsewhere")
        (sample / "scale.toml").write_text(changed, encoding="utf-8")
        await pilot.press("q", "s")
        assert isinstance(pilot.app.screen, TextDialog)  # where to save, suggesting its file
        assert pilot.app.screen.query_one(Input).value == str(sample / "scale.toml")
        await pilot.press("enter")
        assert isinstance(pilot.app.screen, ConfirmDialog)
        await pilot.press("n")
        await pilot.pause()
        # not saved, so not quit: the edits and the other file are both still there
        assert pilot.app.is_running and isinstance(pilot.app.screen, ScaleScreen)
        assert directions(pilot.app)["loy_switch"] == "↓ lower"
        assert (sample / "scale.toml").read_text(encoding="utf-8") == changed


async def test_save_of_a_new_scale_suggests_a_name(sample: Path, settle) -> None:
    (sample / "scale.toml").unlink()
    async with ScaleApp(sample).run_test(size=SIZE) as pilot:
        await open_scale(pilot, settle)
        await pilot.press("i")
        await settle(pilot)
        await pilot.press("q", "s")
        assert isinstance(pilot.app.screen, TextDialog)
        assert pilot.app.screen.query_one(Input).value == str(sample / "scale.toml")
        await pilot.press("enter")
        await pilot.pause()
        assert not pilot.app.is_running
    assert load_spec(sample / "scale.toml").items


def kept_notes(app: LoyalistApp) -> list[str]:
    return [n.message for n in app._notifications if n.title == "Unsaved work kept"]


async def test_a_lost_terminal_keeps_the_edits_and_the_next_opening_names_them_once(
        sample: Path, settle, remembering) -> None:
    async with ScaleApp(sample).run_test(size=SIZE) as pilot:
        await reverse_switch(pilot, settle)
        pilot.app.lose_terminal()  # what the terminal's hang-up calls (tui.hangup)
        await pilot.pause()
        assert not pilot.app.is_running
        assert pilot.app.return_code == 129
    assert (sample / "scale.toml").read_text(encoding="utf-8") == SPEC  # nothing replaced unasked
    [kept] = kept_files(sample)
    assert kept.parent == sample / ".loyalist" / "kept"
    spec = load_spec(kept)
    assert [i.column for i in spec.items] == LIKERT
    assert {i.column: i.direction for i in spec.items}["loy_switch"] == "lower"  # the unsaved edit

    async with ScaleApp(sample).run_test(size=SIZE) as pilot:
        await settle(pilot)
        [note] = kept_notes(pilot.app)
        assert str(kept) in note and "ctrl+o" in note
    async with ScaleApp(sample).run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert kept_notes(pilot.app) == []  # said once, while the file stays for the analyst


async def test_a_lost_terminal_without_edits_keeps_nothing(sample: Path, settle) -> None:
    async with ScaleApp(sample).run_test(size=SIZE) as pilot:
        await open_scale(pilot, settle)
        pilot.app.lose_terminal()
        await pilot.pause()
        assert not pilot.app.is_running
    assert kept_files(sample) == []
