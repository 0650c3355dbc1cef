"""At 100 columns every screen's footer keeps "? Help" and "q Quit" whole at its right end;
keys that do not fit are hidden whole (never cut mid-word) and a hint says where they are;
at 160 columns nothing needs hiding on the Data screen."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Footer

from tui.app import LoyalistApp
from tui.widgets.footer import MORE

SAMPLE = Path(__file__).resolve().parents[2] / "fixtures" / "sample"
SCREENS = {"d": "DataScreen", "s": "SegmentsScreen", "l": "ScaleScreen", "p": "ReportsScreen", "k": "ProductsScreen"}


def shown_keys(app: LoyalistApp) -> list[tuple[str, int, int]]:
    """(text, first column, last column + 1) of each footer item drawn on screen, left to right."""
    footer = app.screen.query_one(Footer)
    items = [(w.render().plain, w.region.x, w.region.right) for w in footer.query("FooterKey, #footer-more")
             if w.display and w.region.width]
    return sorted(items, key=lambda item: item[1])


def footer_line(app: LoyalistApp) -> str:
    """The footer's row as the screen draws it: what the analyst reads."""
    strips = app.screen._compositor.render_strips()  # noqa: SLF001 (Textual has no public "screen as text")
    return strips[app.screen.query_one(Footer).region.y].text


async def footer_with_tables_focused(app: LoyalistApp, pilot, settle) -> Footer:
    """The Data screen's footer once the tables list has the focus (the keys before the rows')."""
    await settle(pilot)
    app.screen.query_one("#tables").focus()
    await settle(pilot)
    return app.screen.query_one(Footer)


@pytest.mark.parametrize("key", list(SCREENS))
async def test_help_and_quit_stay_whole_at_100_columns(key: str, settle, sample_copy: Path) -> None:
    app = LoyalistApp(sample_copy)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press(key)
        await settle(pilot)
        assert type(app.screen).__name__ == SCREENS[key]
        items = shown_keys(app)
        texts = [t for t, *_ in items]
        assert "? Help" in texts and "q Quit" in texts, texts
        for (_, _, end), (text, start, _) in zip(items, items[1:]):
            assert end <= start, f"{text!r} is drawn over its neighbour: {items}"
        assert all(end <= 100 for *_, end in items), items
        line = footer_line(app)
        assert "? Help" in line and "q Quit" in line, line
        for text in texts:  # every key shown is readable whole on the drawn line
            assert text in line, (text, line)
        if MORE in texts:  # something was hidden: the hint comes right before Help
            assert texts.index(MORE) == texts.index("? Help") - 1


async def test_a_wide_terminal_shows_every_key_without_the_hint(settle, sample_copy: Path) -> None:
    app = LoyalistApp(sample_copy)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        texts = [t for t, *_ in shown_keys(app)]
        assert MORE not in texts
        assert {"o Sort", "/ Search", "w Filter", "e Export", "? Help", "q Quit"} <= set(texts)


async def test_the_keys_are_redrawn_only_when_they_change(settle, sample_copy: Path) -> None:
    # a redraw unmounts and mounts every key: the focus moving between widgets with the
    # same keys keeps them; moving into the rows (the table verbs) changes them
    app = LoyalistApp(sample_copy)
    async with app.run_test(size=(160, 48)) as pilot:
        footer = await footer_with_tables_focused(app, pilot, settle)
        keys = list(footer.query("FooterKey"))
        await footer.recompose()  # as on every change of the screen's bindings
        assert list(footer.query("FooterKey")) == keys
        app.screen.query_one("#browser").table.focus()
        await settle(pilot)
        assert list(footer.query("FooterKey")) != keys
        assert "o Sort" in [t for t, *_ in shown_keys(app)]


async def test_a_change_of_keys_keeps_the_keys_shown_again_and_reads_as_a_fresh_footer(settle, sample_copy: Path) -> None:
    # the grid's keys replace the tables list's: the keys both show (the screen's, the app's)
    # stay mounted, and the footer reads as the library's own full redraw would make it
    app = LoyalistApp(sample_copy)
    async with app.run_test(size=(160, 48)) as pilot:
        footer = await footer_with_tables_focused(app, pilot, settle)
        before = {k.key: k for k in footer.query("FooterKey")}
        app.screen.query_one("#browser").table.focus()
        await settle(pilot)
        after = list(footer.query("FooterKey"))
        kept = [k for k in after if before.get(k.key) is k]
        assert {"d", "s", "e"} <= {k.key for k in kept} and len(kept) < len(after)
        drawn, line = shown_keys(app), footer_line(app)
        footer.composed_keys = None  # drawn afresh: every key unmounted and mounted again
        footer.call_later(footer.recompose)  # on the footer itself, as Textual does it
        await settle(pilot)
        assert not any(before.get(k.key) is k for k in footer.query("FooterKey"))
        assert shown_keys(app) == drawn and footer_line(app) == line
