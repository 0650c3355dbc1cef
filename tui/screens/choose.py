"""A small dialog that picks one item from a list (e.g. the segment to compare with),
optionally above a bar chart of what the choices score (e.g. silhouette per k)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from tui.widgets.bars import Bar, BarChart


class ChooseDialog(ModalScreen[str | None]):
    """Returns the chosen option's id, or None when cancelled."""

    BINDINGS: ClassVar = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, options: Sequence[tuple[str, str]], prompt: str = "",
                 bars: Sequence[Bar] = (), current: str | None = None) -> None:
        super().__init__()
        self.title_text, self.options, self.prompt = title, list(options), prompt
        self.bars, self.current = tuple(bars), current

    def compose(self) -> ComposeResult:
        with Vertical(id="choose-box", classes="dialog"):
            if self.prompt:
                yield Static(Text(self.prompt), classes="dialog-prompt")
            if self.bars:
                yield BarChart(id="choose-chart")
            yield OptionList(*(Option(Text(label), id=key) for key, label in self.options), id="choose-list")
            yield Static("↑↓ move · Enter chooses · Esc cancels", classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one("#choose-box").border_title = self.title_text
        if self.bars:
            self.query_one(BarChart).show(self.bars)
        options = self.query_one(OptionList)
        if self.current is not None:
            try:
                options.highlighted = options.get_option_index(self.current)
            except Exception:  # noqa: BLE001 - an id not offered: the first option stays
                pass
        options.focus()

    @on(OptionList.OptionSelected)
    def chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
