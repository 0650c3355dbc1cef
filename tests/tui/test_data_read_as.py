"""The Data screen says how a file was read: encoding, decimal comma, each column's convention."""

from __future__ import annotations

from textual.widgets import Static

from tests.tui.test_data_screen import column_values
from tui.app import LoyalistApp
from tui.widgets.browser import TableBrowser
from tui.widgets.frame_table import FrameTable


async def test_a_decimal_comma_latin1_export_is_shown_as_read(tmp_path, settle) -> None:
    text = "customer_id;order_date;amount;city\nK1;2024-03-01;12,50;Zürich\nK2;2024-03-02;1.234,50;Köln\n"
    (tmp_path / "transactions.csv").write_bytes(text.encode("cp1252"))
    app = LoyalistApp(tmp_path)
    async with app.run_test(size=(160, 30)) as pilot:
        await settle(pilot)
        mapping = app.screen.query_one("#mapping-table", FrameTable)
        formats = dict(zip(column_values(mapping, "column"), column_values(mapping, "number format")))
        assert formats["amount"] == 'decimal ",", thousands "." (detected)'
        browser = app.screen.query_one(TableBrowser)
        caption = browser.query_one("#browser-caption", Static).render().plain
        assert 'cp1252, decimal ","' in caption
        assert [v.strip() for v in browser.table.get_column_at(2)] == ["12.50", "1,234.50"]  # read, then shown as reports show money
