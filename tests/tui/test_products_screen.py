"""The Products screen driven with keys on the sample: the planted pairs in the rules table,
filters that re-mine, a rule's customers checked against the transactions, the highlighted
customer's recommendations, the evaluation table and chart; bad filters and a workspace
without product_id are told, never a crash."""

from __future__ import annotations

import polars as pl
from textual.widgets import Input

from tests.tui.test_hostile_content import CONTROL
from tests.tui.test_reports_screen import SAMPLE, SIZE
from tui.app import LoyalistApp
from tui.screens.customer import CustomerScreen
from tui.screens.products import ProductsScreen
from tui.widgets.bars import BarChart


def cells(table) -> list[list[str]]:
    return [[str(c) for c in table.get_row_at(r)] for r in range(table.row_count)]


async def open_products(pilot, settle) -> ProductsScreen:
    await settle(pilot)
    await pilot.press("k")
    await settle(pilot)
    assert isinstance(pilot.app.screen, ProductsScreen)
    return pilot.app.screen


async def set_filter(pilot, name: str, text: str) -> None:
    box = pilot.app.screen.query_one(f"#{name}", Input)
    box.focus()
    box.value = text
    await pilot.press("enter")


async def test_rules_customers_recommendations_and_evaluation(settle) -> None:
    tx = pl.read_csv(SAMPLE / "transactions.csv", try_parse_dates=True).filter(pl.col("amount") > 0)
    app = LoyalistApp(SAMPLE)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_products(pilot, settle)
        shown = cells(screen.query_one("#products-rules"))
        assert ["ELE-003", "ELE-052"] in [row[:2] for row in shown]  # a planted pair (fixtures/README.md)

        await set_filter(pilot, "min-lift", "60")
        await settle(pilot)
        rules = screen.rules.tables["rules"]
        assert 0 < rules.height < len(shown) and rules["lift"].min() >= 60
        assert len(cells(screen.query_one("#products-rules"))) == rules.height

        # The first rule's customers: bought its first side, not its second (from the file itself).
        first = rules.row(0, named=True)
        buyers = lambda product: set(tx.filter(pl.col("product_id") == product)["customer_id"])  # noqa: E731
        expected = buyers(first["antecedent"]) - buyers(first["consequent"])
        listed = {row[0] for row in cells(screen.query_one("#products-audience"))}
        assert listed == expected and listed

        # The highlighted customer's recommendations: ten products they never bought, with a reason.
        await pilot.press("m")
        await settle(pilot)
        customer = screen.asked["recommend"].value
        assert customer in expected
        picks = cells(screen.query_one("#products-recommended"))
        assert len(picks) == 10
        assert not {p[1] for p in picks} & set(tx.filter(pl.col("customer_id") == customer)["product_id"])
        assert all("bought with" in p[2] or "best seller" in p[2] for p in picks)

        await pilot.press("v")
        await settle(pilot)
        methods = [row[0] for row in cells(screen.query_one("#products-evaluation"))]
        assert methods == ["item_item", "als", "popularity"]
        chart = screen.query_one("#products-evaluation-chart", BarChart)
        assert [b.label for b in chart.bars] == methods
        assert chart.reference == screen.evaluation.headline["popularity_ndcg"]
        assert "no method beats the best sellers beyond chance" in str(screen.query_one("#evaluation-caption").render())
        assert screen.exportable().result.name == "products.evaluate"


async def test_enter_on_a_customer_opens_their_history(settle) -> None:
    app = LoyalistApp(SAMPLE)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_products(pilot, settle)
        first = screen.audience["customer_id"][0]
        screen.query_one("#products-audience").focus()
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, CustomerScreen) and app.screen.customer_id == first


async def test_a_filter_out_of_bounds_is_told_and_the_rules_stay(settle) -> None:
    app = LoyalistApp(SAMPLE)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_products(pilot, settle)
        before = screen.rules
        await set_filter(pilot, "min-support", "2")
        await settle(pilot)
        assert screen.rules is before
        said = "min support must be a number between 0 and 1"
        told = [t for t in app.screen.query("Toast") if said in str(t.render())]
        assert len(told) == 1  # said once
        assert app.focused is screen.query_one("#min-support")


async def test_without_product_id_the_status_names_the_mapping(workspace, settle) -> None:
    app = LoyalistApp(workspace)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_products(pilot, settle)
        status = str(screen.query_one("#status").render())
        assert "product_id" in status and "press M (Map columns)" in status
        assert "loyalist.toml" not in status  # the app names its own control, not a file to edit
        assert screen.rules is None and screen.exportable() is None


async def test_hostile_product_and_customer_ids_are_shown_literally(make_workspace, settle) -> None:
    # Three customers buy "[b]tea" with a cake whose id clears the screen; a fourth, whose id
    # sets the window title, buys the tea alone: the rule's customer to offer the cake to.
    lines = [f"o{c},C{c},2024-01-0{c},5.00,[b]tea" for c in (1, 2, 3)] + \
            [f"o{c},C{c},2024-01-0{c},4.00,\x1b[2Jcake" for c in (1, 2, 3)] + \
            ["o4,\x1b]0;owned\x07C4,2024-01-05,5.00,[b]tea"]
    folder = make_workspace({"transactions.csv": "order_id,customer_id,order_date,amount,product_id\n"
                                                 + "\n".join(lines) + "\n"})
    app = LoyalistApp(folder)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_products(pilot, settle)
        rules = cells(screen.query_one("#products-rules"))
        assert [row[:2] for row in rules] == [["␛[2Jcake", "[b]tea"], ["[b]tea", "␛[2Jcake"]]
        await pilot.press("down")  # tea → cake: who has the tea and not the cake
        await settle(pilot)
        audience = cells(screen.query_one("#products-audience"))
        caption = str(screen.query_one("#audience-caption").render())
        shown = [c for row in rules + audience for c in row] + [caption]
        assert "[b]tea" in [row[0] for row in rules] and "␛[2Jcake" in [row[1] for row in rules]
        assert [row[0] for row in audience] == ["␛]0;owned␇C4"]
        assert not any(CONTROL.search(text) for text in shown)


def drawn_lines(app: LoyalistApp) -> list[str]:
    return [strip.text for strip in app.screen._compositor.render_strips()]  # noqa: SLF001


async def test_lift_and_its_filter_are_seen_at_100_columns(settle) -> None:
    """The rules panel shows the Lift column (next to the rule) and the lift filter whole,
    and the side tabs are not cut, without scrolling sideways."""
    app = LoyalistApp(SAMPLE)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_products(pilot, settle)
        panel = screen.query_one("#products-rules-panel").region
        inside = [line[panel.x:panel.right] for line in drawn_lines(app)]
        header = next(line for line in inside if "Antecedent" in line)
        assert "Lift" in header and "Confidence" in header
        lift = screen.query_one("#min-lift", Input).region
        assert panel.x < lift.x and lift.right < panel.right  # the whole box, inside the panel
        assert any("lift ≥" in line for line in inside)
        rules = screen.query_one("#products-rules")
        top = screen.rules.tables["rules"].row(0, named=True)
        assert f"{top['lift']:.2f}" in next(line for line in inside if top["antecedent"] in line)
        assert rules.scroll_offset.x == 0
        tabs_line = drawn_lines(app)[screen.query_one("#products-tabs").region.y]
        assert all(title in tabs_line for title in ("Customers", "Recommended", "Evaluation"))
