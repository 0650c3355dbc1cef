"""The Data screen's rows panel (#detail) is framed in the theme's accent while the focus is
inside it, without restyling the widgets in its tabs each time the focus moves
(tui/widgets/focus_frame.py; a `:focus-within` rule did, in the go that draws the first rows)."""

from __future__ import annotations

from pathlib import Path

from textual.color import Color

from tui.app import LoyalistApp
from tui.widgets.browser import TableBrowser

SAMPLE = Path(__file__).resolve().parents[2] / "fixtures" / "sample"


def frame(widget) -> tuple[str, Color, Color | None, str]:
    styles = widget.styles
    return styles.border_top[0], styles.border_top[1], styles.border_title_color, str(styles.border_title_style)


async def test_the_rows_panel_is_framed_while_it_has_the_focus_and_its_tabs_keep_their_styles(settle) -> None:
    async with LoyalistApp(SAMPLE).run_test(size=(120, 40)) as pilot:
        app = pilot.app
        await settle(pilot)
        screen = app.screen
        tables, detail = screen.query_one("#tables"), screen.query_one("#detail")
        grid = screen.query_one(TableBrowser).table
        assert app.focused is grid
        accent = Color.parse(app.theme_variables["accent"])
        assert frame(detail)[:3] == ("heavy", accent, accent) and "bold" in frame(detail)[3]
        # the list's frame as app.tcss draws a focused panel: the same look
        tables.focus()
        await pilot.pause()
        assert frame(tables)[:3] == ("heavy", accent, accent)
        assert frame(detail)[0] == "round" and frame(detail)[1] != accent

        restyled = []
        update_nodes = app.stylesheet.update_nodes

        def counting(nodes, animate=False):
            nodes = list(nodes)
            restyled.extend(nodes)
            return update_nodes(nodes, animate=animate)

        app.stylesheet.update_nodes = counting
        try:
            grid.focus()
            await pilot.pause()
            tables.focus()
            await pilot.pause()
        finally:
            app.stylesheet.update_nodes = update_nodes
        inside = [n for n in restyled if n is not detail and detail in n.ancestors]
        # the widget given and losing the focus restyle themselves (:focus); the tabs' others stay
        assert len({id(n) for n in inside}) <= 2, [type(n).__name__ for n in inside]

        grid.focus()
        await pilot.pause()
        app.theme = "textual-light" if app.theme != "textual-light" else "nord"
        await pilot.pause()
        accent = Color.parse(app.theme_variables["accent"])
        assert frame(detail)[:3] == ("heavy", accent, accent)
