"""The footer every screen shows: "? Help" and "q Quit" are pinned at the right end, so a
narrow terminal (100 columns) never cuts them; the other keys follow in their order (the
focused table's first, then the screen's, then the app's) and the ones that do not fit are
hidden whole, never cut mid-word, with "… ? all keys" saying where the rest are.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import HorizontalGroup
from textual.widgets import Footer, Label

PINNED = ("toggle_help", "quit")  # actions whose keys are always shown
MORE = "… ? all keys"


class KeysFooter(Footer):
    DEFAULT_CSS = """
    KeysFooter #footer-pinned {
        dock: right;
        width: auto;
        height: 1;
        background: $footer-background;
    }
    KeysFooter #footer-pinned FooterKey.-command-palette {
        dock: none;
    }
    KeysFooter #footer-more {
        color: $footer-description-foreground;
        margin: 0 1 0 0;
    }
    """

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("compact", True)
        super().__init__(**kwargs)
        self.composed_keys: tuple | None = None  # shown_keys() when the keys were last drawn

    def shown_keys(self) -> tuple:
        """What the footer draws from: the screen's shown bindings, with their state."""
        keys = tuple((b.key, b.action, b.description, b.key_display, enabled, tooltip,
                      b.group.description if b.group else None)
                     for _, b, enabled, tooltip in self.screen.active_bindings.values()
                     if b.show or b.key == self.app.COMMAND_PALETTE_BINDING)
        return keys, self.compact, self.show_command_palette

    async def recompose(self) -> None:
        # Footer redraws (unmounts and mounts every key) whenever the focus moves or a
        # widget starts loading: several times while a screen opens, each costing the UI
        # thread tens of milliseconds. Only a change in the keys shown needs it.
        if self.composed_keys is not None and self.is_attached and self.shown_keys() == self.composed_keys:
            return
        if not (self.composed_keys is not None and self.is_attached and await self._replace_changed_keys()):
            await super().recompose()
        self.call_after_refresh(self.fit)

    async def _replace_changed_keys(self) -> bool:
        """Keep the keys shown before that are shown again (in the same order) and mount only
        the others: as the first rows' grid takes the focus, its keys replace the tables
        list's, and mounting every key again (restyle, layout, drawing) cost the UI thread
        25-30 ms. False (nothing changed) when the footer holds anything but keys."""
        old = list(self.children)
        new = list(self.compose())
        old_marks, new_marks = [_mark(w) for w in old], [_mark(w) for w in new]
        if not old or None in old_marks or None in new_marks:
            return False
        kept: list = []  # the widget shown for each new one: an old one kept, or the new one
        start = 0
        for widget, mark in zip(new, new_marks):
            found = next((i for i in range(start, len(old)) if old_marks[i] == mark), None)
            if found is None:
                kept.append(widget)
            else:
                kept.append(old[found])
                start = found + 1
        async with self.batch():
            gone = [w for w in old if not any(w is k for k in kept)]
            if gone:
                await self.remove_children(gone)
            run: list = []  # each run of new widgets goes before the next kept one (or last)
            for widget in [*kept, None]:
                if widget is not None and not any(widget is w for w in old):
                    run.append(widget)
                    continue
                if run:
                    await (self.mount_all(run) if widget is None else self.mount_all(run, before=widget))
                run = []
        return True

    def compose(self) -> ComposeResult:
        keys = list(super().compose())
        self.composed_keys = self.shown_keys() if keys else None  # none drawn before the bindings are ready
        # Footer's key widgets (FooterKey) are private to Textual: known by their `action` instead
        pinned = [k for k in keys if getattr(k, "action", None) in PINNED or "-command-palette" in k.classes]
        yield from (k for k in keys if k not in pinned)
        if pinned:
            more = Label(MORE, id="footer-more")
            more.display = False
            yield HorizontalGroup(more, *pinned, id="footer-pinned")

    def on_resize(self) -> None:
        self.call_after_refresh(self.fit)

    def fit(self) -> None:
        """Show the keys that fit whole, in order, before the pinned ones; hide the rest."""
        if not self.is_attached:
            return
        keys = [k for k in self.children if k.id != "footer-pinned"]
        pinned = self.query("#footer-pinned")
        more = self.query("#footer-more")
        room = self.size.width - (sum(self._width(k) for k in pinned.first().children
                                      if k.id != "footer-more") if pinned else 0)
        widths = [self._width(k) for k in keys]
        if sum(widths) <= room:
            shown = len(keys)
        else:
            room -= self._width(more.first())
            shown, used = 0, 0
            while shown < len(keys) and used + widths[shown] <= room:
                used += widths[shown]
                shown += 1
        for i, key in enumerate(keys):
            key.display = i < shown
        if more:
            more.first().display = shown < len(keys)

    @staticmethod
    def _width(key) -> int:
        """Columns the key takes: its text, padding, border and margins."""
        styles = key.styles
        return key.get_content_width(key.container_size, key.container_size) + styles.gutter.width + styles.margin.width


def _mark(widget) -> tuple | None:
    """What a footer widget shows, to know it again in a new composition; None for widgets
    other than keys and the pinned group (grouped keys: the footer is composed afresh)."""
    if type(widget).__name__ == "FooterKey":
        return ("key", widget.key, widget.key_display, widget.description, widget.action, widget._disabled,
                str(widget.tooltip or ""), "-command-palette" in widget.classes)  # not -compact: set once mounted
    if widget.id == "footer-pinned":
        marks = tuple(_mark(w) if w.id != "footer-more" else "more" for w in widget.children)
        return None if None in marks else ("pinned", marks)
    return None
