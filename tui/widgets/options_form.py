"""A form of analysis options: one compact input per option, read back as keyword arguments.

`fields_from(function)` builds the fields from an analysis function's keyword-only
parameters (type from the annotation, default from the signature), so a new option in
core shows up in the form without a change here; a screen adds what a signature cannot
say (choices, help, bounds) through `overrides`. Values are parsed on `values()`; a bad
one raises FieldError naming the option, never a half-read set of options.
"""

from __future__ import annotations

import datetime as dt
import inspect
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid
from textual.widget import Widget
from textual.widgets import Checkbox, Input, Label, Select

from core.export.display import label

INT, FLOAT, DATE, TEXT, CHOICE, LIST, PAIRS, BOOL = "int", "float", "date", "text", "choice", "list", "pairs", "bool"
SKIP_TYPES = ("LazyFrame", "DataFrame", "Features", "Callable")
SKIP_NAMES = ("workspace",)


def yes_no(value: bool) -> str:
    return "yes" if value else "no"


@dataclass(frozen=True)
class Field:
    name: str  # the keyword argument
    kind: str  # int | float | date | text | choice | list | pairs | bool
    default: Any = None
    title: str = ""
    help: str = ""
    choices: tuple[str, ...] = ()
    optional: bool = False  # empty means None (the analysis picks)
    low: float | None = None
    high: float | None = None
    placeholder: str = ""

    @property
    def label(self) -> str:
        return self.title or label(self.name)

    def shown_default(self) -> str:
        if self.default is None:
            return ""
        if self.kind in (LIST,):
            return ", ".join(map(str, self.default))
        if self.kind == PAIRS:
            return ", ".join(f"{k}={v:g}" for k, v in self.default.items())
        if isinstance(self.default, dt.date):
            return self.default.isoformat()
        if isinstance(self.default, float):
            return f"{self.default:g}"
        return str(self.default)


class FieldError(ValueError):
    def __init__(self, field: Field, message: str) -> None:
        self.field = field
        super().__init__(f"{field.label}: {message}")


def kind_of(annotation: str) -> str | None:
    """The field kind an annotation (as a string: modules use `from __future__ import
    annotations`) asks for; None for parameters that are not options (tables, callbacks)."""
    if any(t in annotation for t in SKIP_TYPES):
        return None
    if "Mapping" in annotation or "dict" in annotation:
        return PAIRS
    if "tuple" in annotation or "Sequence" in annotation or "list" in annotation:
        return LIST
    if "date" in annotation:
        return DATE
    for word, kind in (("bool", BOOL), ("int", INT), ("float", FLOAT), ("str", TEXT)):
        if word in annotation:
            return kind
    return None


def fields_from(function: Callable[..., Any], *, skip: Iterable[str] = (),
                overrides: Mapping[str, Mapping[str, Any]] | None = None) -> tuple[Field, ...]:
    """A field per keyword-only parameter of `function` that an analyst can set."""
    overrides = overrides or {}
    skip = set(skip) | set(SKIP_NAMES)
    fields = []
    for p in inspect.signature(function).parameters.values():
        if p.kind is not inspect.Parameter.KEYWORD_ONLY or p.name in skip:
            continue
        annotation = p.annotation if isinstance(p.annotation, str) else getattr(p.annotation, "__name__", "")
        kind = kind_of(str(annotation))
        if kind is None:
            continue
        default = None if p.default is inspect.Parameter.empty else p.default
        field = Field(p.name, kind, default, optional="None" in str(annotation))
        extra = dict(overrides.get(p.name, {}))
        if "choices" in extra:
            extra.setdefault("kind", CHOICE)
        fields.append(replace(field, **extra))
    return tuple(fields)


def parse(field: Field, text: str) -> Any:
    """The value typed for `field`; empty text means its default."""
    text = text.strip()
    if not text:
        if field.default is None and not field.optional and field.kind not in (LIST, PAIRS, TEXT):
            raise FieldError(field, "a value is needed")
        return field.default
    try:
        if field.kind == INT:
            value: Any = int(text)
        elif field.kind == FLOAT:
            value = float(text)
            if not math.isfinite(value):
                raise ValueError
        elif field.kind == DATE:
            value = dt.date.fromisoformat(text)
        elif field.kind == LIST:
            value = tuple(t.strip() for t in text.split(",") if t.strip())
        elif field.kind == PAIRS:
            value = {}
            for part in text.split(","):
                name, sep, number = part.partition("=")
                if not sep or not name.strip():
                    raise ValueError
                value[name.strip()] = float(number)
        else:
            value = text
    except ValueError:
        raise FieldError(field, f"cannot read {text!r}; {_expected(field)}") from None
    if field.kind in (INT, FLOAT):
        if field.low is not None and value < field.low:
            raise FieldError(field, f"{text} is below the lowest allowed value, {field.low:g}")
        if field.high is not None and value > field.high:
            raise FieldError(field, f"{text} is above the highest allowed value, {field.high:g}")
    return value


def _expected(field: Field) -> str:
    return {INT: "give a whole number", FLOAT: "give a number such as 0.95",
            DATE: "give a date as YYYY-MM-DD", PAIRS: "give name=number pairs, e.g. control=50, treatment=50",
            }.get(field.kind, "check the value")


class OptionsForm(Widget, can_focus=False):
    """Labels and compact inputs in a grid; `values()` returns the options as keyword arguments."""

    # Escape leaves the form, whatever field has the focus: the screen's cancel action goes
    # back to its main list (a dialog's closes the dialog). Shown, so the footer says how out.
    BINDINGS: ClassVar = [Binding("escape", "screen.cancel", "Back")]

    def __init__(self, fields: tuple[Field, ...] = (), **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.fields = fields

    def compose(self) -> ComposeResult:
        with Grid(classes="options-grid"):
            if not self.fields:
                yield Label("This analysis has no options.", classes="options-empty")
            for field in self.fields:
                yield Label(field.label, classes="option-label")
                yield self._input(field)

    def _input(self, field: Field) -> Widget:
        widget_id = f"option-{field.name}"
        if field.kind == BOOL:
            widget: Widget = Checkbox(yes_no(bool(field.default)), bool(field.default), compact=True, id=widget_id)
        elif field.kind == CHOICE:
            options = [(c, c) for c in field.choices]
            value = field.default if field.default in field.choices else Select.NULL
            widget = Select(options, value=value, allow_blank=field.optional or value is Select.NULL,
                            compact=True, id=widget_id, prompt="(automatic)")
        else:
            placeholder = field.placeholder or ("automatic" if field.default is None else "")
            widget = Input(field.shown_default(), placeholder=placeholder, compact=True, id=widget_id,
                           select_on_focus=False)
        widget.tooltip = field.help or None
        return widget

    async def set_fields(self, fields: tuple[Field, ...], raw: Mapping[str, Any] | None = None) -> None:
        """Show other fields (another analysis), filled as `raw()` left them where given."""
        self.fields = fields
        await self.recompose()
        names = {f.name for f in fields}
        for name, value in (raw or {}).items():
            if name in names:
                self.restore_value(name, value)

    def restore_value(self, name: str, value: Any) -> None:
        """Put back a value `raw()` or `saved()` gave; one that no longer fits (a choice
        since removed, a value of another type from an old state file) leaves the default."""
        field, widget = self.field(name), self.query_one(f"#option-{name}")
        if isinstance(widget, Select):
            widget.value = value if value in field.choices else (
                Select.NULL if field.optional or value in (None, Select.NULL) else widget.value)
        elif isinstance(widget, Checkbox):
            if isinstance(value, bool):
                widget.value = value
        elif isinstance(value, str):
            widget.value = value  # type: ignore[attr-defined]

    def field(self, name: str) -> Field:
        return next(f for f in self.fields if f.name == name)

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        # The box's tick shows only in colour; the word says it in any terminal.
        event.checkbox.label = yes_no(event.value)

    def set_value(self, name: str, value: Any) -> None:
        field = self.field(name)
        widget = self.query_one(f"#option-{name}")
        if isinstance(widget, Checkbox):
            widget.value = bool(value)
        elif isinstance(widget, Select):
            widget.value = value if value in field.choices else Select.NULL
        elif isinstance(widget, Input):
            widget.value = replace(field, default=value).shown_default()

    def raw(self) -> dict[str, Any]:
        """What is typed or chosen, unparsed (to restore a form later); while the form is
        being rebuilt for other fields, only those already there."""
        shown = {f.name: self.query(f"#option-{f.name}") for f in self.fields}
        return {name: found.first().value for name, found in shown.items() if found}  # type: ignore[attr-defined]

    def saved(self) -> dict[str, Any]:
        """`raw()` as JSON values, for the app's state file (no choice is None)."""
        return {k: None if v is Select.NULL else v for k, v in self.raw().items()}

    def values(self) -> dict[str, Any]:
        """The options as keyword arguments; FieldError names the first bad one."""
        out: dict[str, Any] = {}
        for field in self.fields:
            widget = self.query_one(f"#option-{field.name}")
            if isinstance(widget, Checkbox):
                out[field.name] = widget.value
            elif isinstance(widget, Select):
                out[field.name] = None if widget.value is Select.NULL else widget.value
            else:
                out[field.name] = parse(field, widget.value)  # type: ignore[attr-defined]
        return out

    def reset(self) -> None:
        for field in self.fields:
            self.set_value(field.name, field.default)

    def focus_first(self) -> None:
        for widget in self.query("Input, Select, Checkbox"):
            widget.focus()
            return

    def help_for(self, widget: Widget | None) -> str:
        """The help line of the field `widget` edits ("" if it edits none)."""
        if widget is None or not (widget.id or "").startswith("option-"):
            return ""
        name = widget.id.removeprefix("option-")
        field = next((f for f in self.fields if f.name == name), None)
        return f"{field.label}: {field.help}" if field and field.help else ""

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        event.input.remove_class("-invalid")
