"""The products recommended to one customer, each with its reason: the customer history's
Recommended tab and the Products screen show the same table from the same worker call.

`recommend_customer` runs in a thread worker (it fits item-item filtering on every
purchase, core.products.recommend); the table only shows what it returns.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from core.result import Result
from core.workspace import Workspace
from tui.widgets.frame_table import FrameTable

RECOMMENDED = 10  # products suggested per customer
LABELS = {"rank": "#", "product_id": "product", "reason": "why"}


def recommend_customer(ws: Workspace, customer_id: str, as_of: dt.date | None = None) -> Result:
    """Worker side: the item-item recommendations for one customer (raises what core raises)."""
    from core.products.recommend import recommend

    return recommend(ws, customers=[customer_id], n=RECOMMENDED, as_of=as_of)


class RecommendedTable(FrameTable):
    """Rank, product and why; a one-cell line while working, when empty or when it failed."""

    def working(self) -> None:
        self.show_frame(only_row("working out recommendations…"))

    def show_result(self, result: Result) -> None:
        picks = result.tables["recommendations"]
        self.show_frame(picks.select("rank", "product_id", "reason") if picks.height
                        else only_row("nothing left to suggest"), LABELS)

    def show_error(self, error: str) -> None:
        self.show_frame(only_row(f"no recommendations: {error}"))


def only_row(text: str) -> pl.DataFrame:
    return pl.DataFrame({"": [text]})
