"""Drill-down driven as an analyst would: run a report, move to its table, Enter on a row
lists the customers behind it (as many as the row counts), Enter on one opens their
history; the footer offers Enter only where it works; escape goes back."""

from __future__ import annotations

import polars as pl
from textual.widgets import DataTable

from tests.conftest import SAMPLE
from tests.tui.test_reports_screen import ReportsApp, open_reports, pick, view
from tui.screens.customer import CustomerScreen
from tui.screens.drill import CustomersScreen
from tui.screens.reports import ReportsScreen

SIZE = (160, 48)


def footer_keys(app) -> set[str]:
    return {b.binding.action for b in app.screen.active_bindings.values() if b.binding.show and b.enabled}


async def run_to_table(pilot, settle, kind: str, tab: str) -> None:
    await open_reports(pilot, settle)
    await pick(pilot, kind)
    await pilot.press("g")
    await settle(pilot)
    assert view(pilot.app).prepared is not None
    view(pilot.app).show_tab(tab)
    view(pilot.app).focus_content()
    await pilot.pause()


async def test_enter_on_a_channel_lists_its_customers_then_one_history(settle) -> None:
    async with ReportsApp(SAMPLE).run_test(size=SIZE) as pilot:
        await run_to_table(pilot, settle, "report.channels", "table-channels")
        assert "drill" in footer_keys(pilot.app)
        channels = view(pilot.app).result.tables["channels"]
        table = pilot.app.screen.focused
        assert isinstance(table, DataTable) and table.cursor_coordinate.row == 0
        first = channels.row(0, named=True)
        await pilot.press("enter")
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, CustomersScreen)
        listed = screen.listed.tables["customers"]
        assert listed.height == first["customers"]  # the row's own count
        assert f"Customers of channel {first['channel']}" in screen.query_one("#status").render().plain
        assert screen.exportable().table == "customers"
        await pilot.press("enter")
        await settle(pilot)
        history = pilot.app.screen
        assert isinstance(history, CustomerScreen)
        assert history.customer_id == listed["customer_id"][0]  # the top row: the biggest spender
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(pilot.app.screen, ReportsScreen)


async def test_enter_works_only_where_rows_have_customers_behind_them(settle) -> None:
    async with ReportsApp(SAMPLE).run_test(size=SIZE) as pilot:
        await run_to_table(pilot, settle, "report.channels", "table-single_vs_multi")
        assert "drill" not in footer_keys(pilot.app)  # metrics, not customers
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(pilot.app.screen, ReportsScreen)
        pilot.app.screen.query_one("#report-list").focus()
        await pilot.pause()
        assert "drill" not in footer_keys(pilot.app)
        await pilot.press("enter")  # on the list, enter still runs the report
        await settle(pilot)
        assert isinstance(pilot.app.screen, ReportsScreen) and view(pilot.app).prepared is not None


async def test_a_cohort_row_lists_the_customers_first_buying_then(settle) -> None:
    async with ReportsApp(SAMPLE).run_test(size=SIZE) as pilot:
        await run_to_table(pilot, settle, "report.cohorts", "table-customer_retention")
        cohorts = view(pilot.app).result.tables["customer_retention"]
        await pilot.press("down", "down", "enter")
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, CustomersScreen)
        assert screen.listed.tables["customers"].height == cohorts["customers"][2]
        assert screen.listed.params["cohort"] == cohorts["cohort"][2]


async def test_a_cohort_cell_lists_the_customers_active_in_that_period(settle) -> None:
    async with ReportsApp(SAMPLE).run_test(size=SIZE) as pilot:
        await run_to_table(pilot, settle, "report.cohorts", "table-customer_retention")
        result = view(pilot.app).result
        table = pilot.app.screen.focused
        await pilot.press("down", "down")
        for _ in range(10):  # along the row to period 3
            if table.sheet_columns()[table.sheet_cursor()[1]] == "m3":
                break
            await pilot.press("right")
        await pilot.press("enter")
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, CustomersScreen)
        cohort = result.tables["customer_retention"]["cohort"][2]
        cell = result.tables["cohorts"].filter((pl.col("cohort") == cohort) & (pl.col("period") == 3))
        assert screen.listed.tables["customers"].height == cell["active"].item()  # the cell's own count
        assert screen.listed.params == {"from": "report.cohorts", "cohort": cohort, "period": "m3"}
        assert f"Customers of cohort {cohort} active in m3" in screen.query_one("#status").render().plain
        await pilot.press("enter")  # and on to the first one's history
        await settle(pilot)
        assert isinstance(pilot.app.screen, CustomerScreen)


async def test_enter_on_a_customer_row_opens_their_history(settle) -> None:
    async with ReportsApp(SAMPLE).run_test(size=SIZE) as pilot:
        await run_to_table(pilot, settle, "predict.clv", "table-customers")  # 2,000 rows: the virtualised table
        assert "drill" in footer_keys(pilot.app)
        customers = view(pilot.app).result.tables["customers"]
        await pilot.press("down", "enter")
        await settle(pilot)
        history = pilot.app.screen
        assert isinstance(history, CustomerScreen)
        assert history.customer_id == customers["customer_id"][1]


async def test_escape_cancels_a_slow_list_then_goes_back(monkeypatch, settle) -> None:
    import asyncio
    import threading

    import tui.screens.drill as drill_module
    from core.progress import step

    reached, release = threading.Event(), threading.Event()
    real = drill_module.customers_behind

    def slow(*args):  # noqa: ANN002, ANN202
        step("finding the customers", 1, 2)
        reached.set()
        release.wait(10)
        step("joining their names", 2, 2)  # cancelled: stops here
        return real(*args)

    monkeypatch.setattr(drill_module, "customers_behind", slow)
    async with ReportsApp(SAMPLE).run_test(size=SIZE) as pilot:
        await run_to_table(pilot, settle, "report.channels", "table-channels")
        await pilot.press("enter")
        assert await asyncio.to_thread(reached.wait, 10)
        screen = pilot.app.screen
        assert isinstance(screen, CustomersScreen)
        await pilot.press("escape")
        release.set()
        await settle(pilot)
        assert pilot.app.screen is screen and screen.listed is None
        assert "Cancelled" in screen.query_one("#status").render().plain
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(pilot.app.screen, ReportsScreen)
