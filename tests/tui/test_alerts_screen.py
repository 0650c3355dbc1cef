"""Fired alerts show on the first screen (Data) when loyalist.toml has [[alerts]]."""

from __future__ import annotations

from textual.widgets import Static

from tui.app import LoyalistApp

TX = ("customer_id,order_date,amount\n"
      "A,2024-02-10,100\nB,2024-02-11,50\nC,2024-02-12,40\nD,2024-03-01,10\nA,2024-03-10,60\nB,2024-03-31,50\n")
RULE = '[[alerts]]\nname = "active falls"\nmetric = "active_customers"\nchange = "-15%"\nwindow = "28d"\n'


async def test_fired_alerts_show_on_the_data_screen(make_workspace, settle) -> None:
    app = LoyalistApp(make_workspace({"transactions.csv": TX, "loyalist.toml": RULE}))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        alerts = app.screen.query_one("#alerts", Static)
        assert alerts.display
        text = alerts.render().plain
        assert "Alerts: 1 of 1 rule fired" in text
        assert "active falls: 2 against 4 (-50.0%), 2 customers" in text


async def test_no_rules_no_alerts_line(make_workspace, settle) -> None:
    app = LoyalistApp(make_workspace({"transactions.csv": TX}))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert not app.screen.query_one("#alerts", Static).display
