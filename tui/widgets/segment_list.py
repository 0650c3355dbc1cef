"""The segments of a segmentation (its `segments` summary table) as a list with size and
revenue share; the cursor row is the selected segment. Narrow on purpose (it sits beside
the profile at 80 columns): the customer share is in the profile."""

from __future__ import annotations

import polars as pl
from rich.cells import cell_len
from rich.text import Text
from textual.widgets import DataTable

COLUMNS = (("segment", "segment"), ("customers", "cust."), ("revenue_share", "% rev"))
NAME_WIDTH = 24  # long cluster names are cut here; the profile shows them whole


def percent(value: float | None) -> Text:
    if value is None:
        return Text("–", style="dim", justify="right")
    return Text(f"{value:.1%}", justify="right")


class SegmentList(DataTable):
    def __init__(self, **kwargs) -> None:  # noqa: ANN003
        kwargs.setdefault("cursor_type", "row")
        kwargs.setdefault("zebra_stripes", True)
        super().__init__(**kwargs)

    def show_summary(self, summary: pl.DataFrame, select: str | None = None) -> None:
        """Fill from a SUMMARY_COLUMNS table; keep the cursor on `select` if it is listed."""
        self.clear(columns=True)
        longest = max((cell_len(name) for name in summary["segment"]), default=7)
        for key, label in COLUMNS:
            self.add_column(Text(label, style="bold", justify="left" if key == "segment" else "right"),
                            key=key, width=min(max(longest, 7), NAME_WIDTH) if key == "segment" else None)
        for row in summary.iter_rows(named=True):
            self.add_row(
                Text(row["segment"], style="dim" if not row["customers"] else "", overflow="ellipsis",
                     no_wrap=True),
                Text(f"{row['customers']:,}", justify="right"),
                percent(row["revenue_share"]),
                key=row["segment"],
            )
        names = summary["segment"].to_list()
        if select in names:
            self.move_cursor(row=names.index(select))

    @property
    def selected(self) -> str | None:
        if not self.row_count:
            return None
        return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value

    @property
    def names(self) -> list[str]:
        return [row.value for row in self.rows]
