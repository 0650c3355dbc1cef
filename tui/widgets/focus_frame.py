"""The focused panel's frame set on the panel alone (its inline style), instead of by a
`:focus-within` rule in app.tcss.

Textual restyles every widget inside a panel that has a `:focus-within` rule whenever the
focus enters or leaves it (Screen._update_focus_styles): the Data screen's tabs, hidden ones
included, are some thirty widgets, 12-17 ms of the UI thread each time, once in the same go
as the first rows. The frame looks the same as app.tcss's rule for the other panels: heavy,
in the theme's accent, with a bold title; the dim frame is app.tcss's own.
"""

from __future__ import annotations

from textual.color import Color
from textual.screen import Screen
from textual.widget import Widget

FRAME_RULES = ("border_top", "border_right", "border_bottom", "border_left",
               "border_title_color", "border_title_style")


def frame_when_focused(screen: Screen, panel: Widget) -> None:
    """Keep `panel` framed as focused while the focus is on it or inside it (and through a
    change of theme)."""

    def follow(_=None) -> None:
        focused = screen.focused
        set_frame(panel, focused is not None and panel in focused.ancestors_with_self)

    screen.watch(screen, "focused", follow, init=True)
    screen.watch(screen.app, "theme", follow, init=False)


def set_frame(panel: Widget, focused: bool) -> None:
    styles = panel.styles
    if focused:
        accent = Color.parse(panel.app.theme_variables["accent"])
        styles.border = ("heavy", accent)
        styles.border_title_color = accent
        styles.border_title_style = "bold"
    elif any([styles.clear_rule(rule) for rule in FRAME_RULES]):  # every rule, then one refresh
        panel.refresh(layout=True)
