"""A small dialog asking for one or more dates (YYYY-MM-DD), checked before it closes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static


def parse_date(text: str, label: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{label}: {text.strip() or 'empty'!r} is not a date; write YYYY-MM-DD") from None


class DatesDialog(ModalScreen[tuple[dt.date, ...] | None]):
    """Returns the dates in field order, or None when cancelled. With `increasing`, each
    date must come after the one before (e.g. the two dates of a migration)."""

    BINDINGS: ClassVar = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, fields: Sequence[tuple[str, dt.date | None]], prompt: str = "",
                 increasing: bool = False) -> None:
        super().__init__()
        self.title_text, self.fields, self.prompt, self.increasing = title, list(fields), prompt, increasing

    def compose(self) -> ComposeResult:
        with Vertical(id="dates-box", classes="dialog"):
            if self.prompt:
                yield Static(Text(self.prompt), classes="dialog-prompt")
            for i, (label, default) in enumerate(self.fields):
                with Horizontal(classes="dialog-row"):
                    yield Label(label, classes="dialog-label")
                    yield Input(default.isoformat() if default else "", placeholder="YYYY-MM-DD",
                                id=f"date-{i}", classes="date-input")
            yield Static("", id="dates-error", classes="dialog-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("OK", variant="primary", id="dates-ok")
                yield Button("Cancel", id="dates-cancel")

    def on_mount(self) -> None:
        self.query_one("#dates-box").border_title = self.title_text
        self.query_one("#date-0", Input).focus()

    @on(Input.Submitted)
    @on(Button.Pressed, "#dates-ok")
    def submit(self) -> None:
        try:
            dates = tuple(parse_date(self.query_one(f"#date-{i}", Input).value, label)
                          for i, (label, _) in enumerate(self.fields))
            if self.increasing and any(a >= b for a, b in zip(dates, dates[1:])):
                raise ValueError("each date must be after the one above it")
        except ValueError as exc:
            self.query_one("#dates-error", Static).update(Text(str(exc)))
            return
        self.dismiss(dates)

    @on(Button.Pressed, "#dates-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
