"""Undo and redo over immutable states (the Scale builder's frozen ScaleSpec).

Every edit records the state it replaced; undo steps back and keeps the undone state for
redo; a new edit after an undo drops the redo states, as editors do. Bounded, so a long
session does not grow without end.
"""

from __future__ import annotations

from typing import Generic, TypeVar

T = TypeVar("T")
LIMIT = 200  # undo steps kept


class History(Generic[T]):
    def __init__(self, limit: int = LIMIT) -> None:
        self.limit = limit
        self.done: list[tuple[T, str]] = []  # (state before the edit, what the edit did)
        self.undone: list[tuple[T, str]] = []  # (state before the undo, what the edit did)

    def clear(self) -> None:
        self.done.clear()
        self.undone.clear()

    def record(self, before: T, what: str) -> None:
        self.done.append((before, what))
        del self.done[:-self.limit]
        self.undone.clear()

    def undo(self, current: T) -> tuple[T, str] | None:
        """The state to go back to and what is undone; None when there is nothing to undo."""
        if not self.done:
            return None
        before, what = self.done.pop()
        self.undone.append((current, what))
        return before, what

    def redo(self, current: T) -> tuple[T, str] | None:
        if not self.undone:
            return None
        after, what = self.undone.pop()
        self.done.append((current, what))
        return after, what
