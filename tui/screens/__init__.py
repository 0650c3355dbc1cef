"""The registry of top-level screens: one entry each feeds the app's modes, its key
bindings and the command palette. Add a screen by adding a module and a line here."""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from textual.screen import Screen

from core.workspace import Workspace


@dataclass(frozen=True)
class ScreenSpec:
    name: str  # mode name, used in actions: show_screen('data')
    title: str
    key: str
    screen_path: str  # "module:Class", imported when the screen is first shown
    help: str
    # "module:function(workspace, remembered)": the screen's first data, read in the worker
    # that opens the workspace while the screen is mounted (WorkspaceState.first_page)
    prefetch_path: str = ""

    def prefetch(self, workspace: Workspace, remembered: dict) -> object | None:
        if not self.prefetch_path:
            return None
        module, function = self.prefetch_path.split(":")
        return getattr(importlib.import_module(module), function)(workspace, remembered)

    def screen(self) -> Screen:
        # Importing a screen loads its analyses (scipy, scikit-learn): only the first
        # screen's cost is paid at start-up.
        module, cls = self.screen_path.split(":")
        return getattr(importlib.import_module(module), cls)()


SCREENS: tuple[ScreenSpec, ...] = (
    ScreenSpec("data", "Data", "d", "tui.screens.data:DataScreen",
               "Tables found, column mapping, validation findings and a row browser",
               prefetch_path="tui.screens.data:first_rows"),
    ScreenSpec("segments", "Segments", "s", "tui.screens.segments:SegmentsScreen",
               "RFM segments, clusters or loyalty quadrants: profiles, customers, compare, migration"),
    ScreenSpec("scale", "Scale", "l", "tui.screens.scale:ScaleScreen",
               "Scale builder: loyalty scale items, directions, transforms and weights; reliability, "
               "score histogram and tiers; open and save the spec"),
    ScreenSpec("reports", "Reports", "p", "tui.screens.reports:ReportsScreen",
               "Evaluation reports (channels, attribution, experiments, campaigns, program, NPS, "
               "cohorts, KPIs) and predictions (CLV, churn, key drivers)"),
    ScreenSpec("products", "Products", "k", "tui.screens.products:ProductsScreen",
               "Association rules with filters, the customers a rule speaks to and their recommendations, "
               "and whether the recommenders beat the best sellers"),
)
