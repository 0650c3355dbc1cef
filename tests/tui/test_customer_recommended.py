"""A customer's history has a Recommended tab: products they have not bought, with the
reason, from the products recommender; a workspace without product_id says why not."""

from __future__ import annotations

import polars as pl

from tests.tui.test_reports_screen import SAMPLE, SIZE
from tui.app import LoyalistApp
from tui.messages import OpenCustomer
from tui.screens.customer import CustomerScreen


def cells(table) -> list[list[str]]:
    return [[str(c) for c in table.get_row_at(r)] for r in range(table.row_count)]


async def test_recommended_tab_lists_products_not_bought_with_a_reason(settle) -> None:
    bought = set(pl.read_csv(SAMPLE / "transactions.csv").filter(pl.col("customer_id") == "C000001")["product_id"])
    app = LoyalistApp(SAMPLE)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.post_message(OpenCustomer("C000001"))
        await settle(pilot)
        assert isinstance(app.screen, CustomerScreen)
        await pilot.press("m")
        rows = cells(app.screen.query_one("#customer-recommended"))
        assert len(rows) == 10
        products = [r[1] for r in rows]
        assert not set(products) & bought
        assert all("bought with" in r[2] or "best seller" in r[2] for r in rows)


async def test_without_product_id_the_tab_says_why(workspace, settle) -> None:
    app = LoyalistApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.post_message(OpenCustomer("C1"))
        await settle(pilot)
        assert isinstance(app.screen, CustomerScreen)
        text = " ".join(" ".join(r) for r in cells(app.screen.query_one("#customer-recommended")))
        assert "no recommendations" in text and "product_id" in text
        assert app.screen.result is not None  # the history itself still shows
