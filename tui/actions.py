"""One declaration per user action, feeding both the key bindings and the command palette.

A screen lists its actions once (`ACTIONS`); `bindings()` turns them into Textual
bindings (shown in the footer) and the app turns the same list into palette commands,
so a key and its palette entry can never drift apart.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from textual.binding import Binding


@dataclass(frozen=True)
class Action:
    key: str  # Textual key name(s), e.g. "t" or "question_mark"
    action: str  # action string, e.g. "next_table" or "show_tab('mapping')"
    title: str  # footer label and palette title
    help: str  # palette help line
    show: bool = True  # shown in the footer
    key_display: str | None = None
    priority: bool = False  # before the focused widget's own key (e.g. enter on a table)

    def binding(self) -> Binding:
        return Binding(self.key, self.action, self.title, show=self.show, key_display=self.key_display,
                       priority=self.priority)


def bindings(actions: Iterable[Action]) -> list[Binding]:
    return [a.binding() for a in actions]
