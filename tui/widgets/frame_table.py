"""A small Polars frame (a Result table: tables, mapping, findings) shown as a DataTable.

For frames of a few hundred rows at most; big tables go to TableBrowser, which hands
the frame to a virtualised backend instead of holding Python rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import polars as pl
from rich.text import Text
from textual.widgets import DataTable

from core.export.display import printable


def cell(value: Any) -> Text:
    """A value as display text; Text (not str) so user data is never read as markup, and
    control characters replaced so it never steers the terminal."""
    if value is None:
        return Text("–", style="dim")
    if isinstance(value, bool):
        return Text("yes" if value else "")
    if isinstance(value, int):
        return Text(f"{value:,}", justify="right")
    if isinstance(value, float):
        return Text(f"{value:,.2f}", justify="right")
    if isinstance(value, (dt.date, dt.datetime)):
        return Text(value.isoformat())
    return Text(printable(str(value)))


class FrameTable(DataTable):
    """Rows of a frame with friendly column labels; `key` names the column used as row key."""

    def __init__(self, *, key: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("cursor_type", "row")
        kwargs.setdefault("zebra_stripes", True)
        super().__init__(**kwargs)
        self.key_column = key

    def show_frame(self, frame: pl.DataFrame, labels: Mapping[str, str] | None = None) -> None:
        """Show `frame`; the same rows and columns again are updated in place, so the
        cursor (and the user's selection) stays where it is."""
        if self.key_column and self._same_shape(frame):
            for row in frame.iter_rows(named=True):
                for name, value in row.items():
                    self.update_cell(str(row[self.key_column]), name, cell(value), update_width=True)
            return
        labels = labels or {}
        self.clear(columns=True)
        for name in frame.columns:
            self.add_column(Text(printable(labels.get(name, name)), style="bold"), key=name)
        for row in frame.iter_rows(named=True):
            key = str(row[self.key_column]) if self.key_column else None
            self.add_row(*(cell(v) for v in row.values()), key=key)

    def _same_shape(self, frame: pl.DataFrame) -> bool:
        columns = [c.value for c in self.columns]
        rows = [r.value for r in self.rows]
        return columns == frame.columns and rows == [str(k) for k in frame[self.key_column]]

    @property
    def highlighted_key(self) -> str | None:
        if not self.row_count:
            return None
        return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
