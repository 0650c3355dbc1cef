"""Small modal dialogs: choose one of a list, type a value, confirm, fill a form.

Each is a ModalScreen that dismisses with the answer (None when cancelled with escape),
so a screen asks with `self.app.push_screen(dialog, callback)` or, from a worker-free
async handler, `await self.app.push_screen_wait(dialog)`. Keys: enter answers, escape
cancels; the confirm dialog also takes y and n, the ask dialog each answer's key.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, OptionList, Static
from textual.widgets.option_list import Option

from tui.export import Exportable, file_stem
from tui.widgets.options_form import Field, FieldError, OptionsForm
from tui.widgets.result_view import ResultView


class Dialog(ModalScreen):
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, message: str = "") -> None:
        super().__init__()
        self.dialog_title, self.message = title, message

    def frame(self) -> Vertical:
        box = Vertical(classes="dialog")
        box.border_title = self.dialog_title
        return box

    def message_line(self) -> Static:
        return Static(Text(self.message), classes="dialog-message")

    def error_line(self) -> Static:
        return Static("", classes="dialog-error")

    def show_error(self, text: str) -> None:
        self.query_one(".dialog-error", Static).update(Text(text))

    def action_cancel(self) -> None:
        self.dismiss(None)


class ChoiceDialog(Dialog):
    """One of `choices`: (value, label, help) each; dismisses with the value."""

    def __init__(self, title: str, choices: Sequence[tuple[str, str, str]], *, message: str = "",
                 current: str | None = None) -> None:
        super().__init__(title, message)
        self.choices, self.current = list(choices), current

    def compose(self) -> ComposeResult:
        with self.frame():
            if self.message:
                yield self.message_line()
            options = []
            for value, name, help_text in self.choices:
                prompt = Text(name, style="bold")
                if help_text:
                    prompt.append(f"\n{help_text}", "dim")
                options.append(Option(prompt, id=value))
            yield OptionList(*options, classes="dialog-choices")

    def on_mount(self) -> None:
        choices = self.query_one(OptionList)
        if self.current is not None and any(c[0] == self.current for c in self.choices):
            choices.highlighted = choices.get_option_index(self.current)
        choices.focus()

    @on(OptionList.OptionSelected)
    def chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)


class TextDialog(Dialog):
    """A typed value; `check(text)` returns an error to show, or "" to accept."""

    def __init__(self, title: str, message: str = "", *, value: str = "", placeholder: str = "",
                 check: Callable[[str], str] | None = None) -> None:
        super().__init__(title, message)
        self.value, self.placeholder, self.check = value, placeholder, check

    def compose(self) -> ComposeResult:
        with self.frame():
            if self.message:
                yield self.message_line()
            yield Input(self.value, placeholder=self.placeholder, classes="dialog-input")
            yield self.error_line()
            yield Static(Text("enter: OK · escape: cancel"), classes="dialog-keys")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def submitted(self, event: Input.Submitted) -> None:
        event.stop()
        problem = self.check(event.value) if self.check else ""
        if problem:
            self.show_error(problem)
            return
        self.dismiss(event.value)


class ConfirmDialog(Dialog):
    """Yes or no; dismisses with True or False (escape: False)."""

    BINDINGS = [Binding("escape,n", "answer(False)", "No"), Binding("y", "answer(True)", "Yes")]

    def __init__(self, title: str, message: str, *, yes: str = "Yes", no: str = "No") -> None:
        super().__init__(title, message)
        self.yes, self.no = yes, no

    def compose(self) -> ComposeResult:
        with self.frame():
            yield self.message_line()
            with Horizontal(classes="dialog-buttons"):
                yield Button(f"{self.yes} (y)", variant="warning", id="yes", compact=True)
                yield Button(f"{self.no} (n)", id="no", compact=True)

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)

    @on(Button.Pressed)
    def pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")


class AskDialog(Dialog):
    """One of a few answers, each a button with its own key; dismisses with the answer's
    value (escape: None, i.e. cancel)."""

    def __init__(self, title: str, message: str, answers: Sequence[tuple[str, str, str]]) -> None:
        super().__init__(title, message)
        self.answers = list(answers)  # (value, label, key)

    def compose(self) -> ComposeResult:
        with self.frame():
            yield self.message_line()
            with Horizontal(classes="dialog-buttons"):
                for value, label, key in self.answers:
                    yield Button(f"{label} ({key})", id=f"answer-{value}", compact=True)

    def on_mount(self) -> None:
        self.query_one(Button).focus()

    def on_key(self, event) -> None:  # noqa: ANN001
        for value, _, key in self.answers:
            if event.key == key:
                event.stop()
                self.dismiss(value)
                return

    @on(Button.Pressed)
    def pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id.removeprefix("answer-"))


class FormDialog(Dialog):
    """Several options at once (an OptionsForm); dismisses with the parsed values.
    `check(values)` may return an error to show instead of closing."""

    BINDINGS = [Binding("escape", "cancel", "Cancel"), Binding("ctrl+s", "submit", "OK")]

    def __init__(self, title: str, fields: tuple[Field, ...], *, message: str = "",
                 check: Callable[[dict[str, Any]], str] | None = None) -> None:
        super().__init__(title, message)
        self.fields, self.check = fields, check

    def compose(self) -> ComposeResult:
        with self.frame():
            if self.message:
                yield self.message_line()
            yield OptionsForm(self.fields, classes="dialog-form")
            yield self.error_line()
            yield Static(Text("enter: OK · tab: next field · escape: cancel"), classes="dialog-keys")

    def on_mount(self) -> None:
        self.query_one(OptionsForm).focus_first()

    @on(Input.Submitted)
    def submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_submit()

    def action_submit(self) -> None:
        try:
            values = self.query_one(OptionsForm).values()
        except FieldError as exc:
            self.show_error(str(exc))
            return
        problem = self.check(values) if self.check else ""
        if problem:
            self.show_error(problem)
            return
        self.dismiss(values)


class ResultDialog(ModalScreen):
    """A whole Result (every figure, note, chart and table) over the screen; escape closes."""

    BINDINGS = [Binding("escape", "dismiss", "Close"),
                Binding("left_square_bracket", "cycle(-1)", "Prev tab", key_display="["),
                Binding("right_square_bracket", "cycle(1)", "Next tab", key_display="]")]

    def __init__(self, shown: Any, title: str = "", tab: str | None = None) -> None:
        super().__init__()
        self.shown, self.dialog_title, self.tab = shown, title, tab  # tab: opened on it (e.g. "table-record")

    def compose(self) -> ComposeResult:
        box = Vertical(classes="dialog result-dialog")
        box.border_title = self.dialog_title or None
        box.border_subtitle = "[ ] tabs · escape closes"
        with box:
            yield ResultView()

    async def on_mount(self) -> None:
        view = self.query_one(ResultView)
        await view.show(self.shown)
        if self.tab:
            view.show_tab(self.tab)
        view.focus_content()

    def action_cycle(self, step: int) -> None:
        self.query_one(ResultView).cycle_tab(step)

    def exportable(self) -> Exportable | None:
        result = self.query_one(ResultView).result
        return Exportable(result, file_stem(result.name)) if result is not None else None
