"""The command palette teaches the keys: each command shows the key that runs it, and the
Scale builder's Save and Open are found by typing their names."""

from __future__ import annotations

from pathlib import Path

from textual.command import CommandList, CommandPalette

from tests.tui.test_scale_screen import ScaleApp, no_pause, open_scale, sample

__all__ = ["no_pause", "sample"]
SIZE = (120, 40)


async def palette_lines(pilot, settle, query: str) -> list[str]:
    await pilot.press("ctrl+p")
    await pilot.pause()
    assert isinstance(pilot.app.screen, CommandPalette)
    await pilot.press(*query)
    palette = pilot.app.screen
    # the search runs in the palette's own workers; wait for them and the list they fill
    await settle(pilot)
    await palette.workers.wait_for_complete()
    await pilot.pause()
    options = palette.query_one(CommandList)
    # each option: the title and its key on the first line, the help below
    return [str(options.get_option_at_index(i).prompt).splitlines()[0] for i in range(options.option_count)]


async def test_save_and_open_are_in_the_palette_with_their_keys(sample: Path, settle) -> None:
    async with ScaleApp(sample).run_test(size=SIZE) as pilot:
        await open_scale(pilot, settle)
        lines = await palette_lines(pilot, settle, "save")
        assert any(line.startswith("Save") and "^s" in line for line in lines), lines
        await pilot.press("escape")
        await pilot.pause()
        lines = await palette_lines(pilot, settle, "open")
        assert any(line.startswith("Open") and "^o" in line for line in lines), lines


async def test_every_listed_command_with_a_key_shows_it(sample: Path, settle) -> None:
    async with ScaleApp(sample).run_test(size=SIZE) as pilot:
        app = await open_scale(pilot, settle)
        commands = {c.title: c.key for c in app.palette_commands(app.screen)}
        assert commands["Reverse"] == "i" and commands["Remove"] == "del" and commands["Help"] == "?"
        assert commands["Quit"] == "q" and commands["Export"] == "e" and commands["Reports"]
        lines = await palette_lines(pilot, settle, "reverse")
        assert any(line.startswith("Reverse") and line.rstrip().endswith("i") for line in lines), lines
