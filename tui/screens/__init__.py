"""The registry of top-level screens: one entry each feeds the app's modes, its key
bindings and the command palette. Add a screen by adding a module and a line here."""

from __future__ import annotations

from dataclasses import dataclass

from textual.screen import Screen

from tui.screens.data import DataScreen


@dataclass(frozen=True)
class ScreenSpec:
    name: str  # mode name, used in actions: show_screen('data')
    title: str
    key: str
    screen: type[Screen]
    help: str


SCREENS: tuple[ScreenSpec, ...] = (
    ScreenSpec("data", "Data", "d", DataScreen,
               "Tables found, column mapping, validation findings and a row browser"),
)
