"""A one-line prompt under the row browser: a search text, a filter expression or a row
number. Enter submits (posts QueryBar.Submitted), Escape closes it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Input, Label, Static

from tui.query import FILTER_EXAMPLE

MODES = {
    "search": ("Search", "Text to look for in any column, in any case. Enter applies · empty clears · "
                         "Esc closes"),
    "filter": ("Filter", "A SQL condition on the columns; dates as DATE '2025-01-01'. Enter applies · "
                         "empty clears · Esc closes"),
    "goto": ("Go to row", "A row number: 1 is the first row. Enter moves · Esc closes"),
}


class QueryBar(Vertical):
    BINDINGS: ClassVar = [Binding("escape", "close", "Close")]  # shown: the footer says how out

    @dataclass
    class Submitted(Message):
        mode: str
        value: str

    class Closed(Message):
        """Closed without submitting; the screen puts the focus back."""

    def __init__(self, **kwargs) -> None:  # noqa: ANN003
        super().__init__(**kwargs)
        self.mode = "search"

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield Label("", classes="query-prompt")
            yield Input(id="query-input", compact=True)
        yield Static("", classes="query-help")

    @property
    def is_open(self) -> bool:
        return self.has_class("-open")

    def open(self, mode: str, value: str = "", note: str = "") -> None:
        self.mode = mode
        title, help_text = MODES[mode]
        self.query_one(".query-prompt", Label).update(title)
        self.query_one(".query-help", Static).update(Text(note or help_text))
        field = self.query_one(Input)
        field.value = value
        field.placeholder = FILTER_EXAMPLE if mode == "filter" else ""
        field.type = "integer" if mode == "goto" else "text"
        self.add_class("-open")
        field.focus()
        field.cursor_position = len(value)

    def action_close(self) -> None:
        self.remove_class("-open")
        self.post_message(self.Closed())

    @on(Input.Submitted, "#query-input")
    def submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.remove_class("-open")
        self.post_message(self.Submitted(self.mode, event.value.strip()))
