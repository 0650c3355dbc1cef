"""Recommendations on thin data follow their stated rules: a customer item-item has nothing
for gets best sellers (marked and noted), nobody is offered what they bought, and a
product bought by one customer only is never an item-item pick."""

import datetime as dt

import polars as pl

from core.products.data import read_purchases
from core.products.recommend import recommend_for


def purchases(rows: list[tuple[str, str]]):
    return read_purchases(pl.LazyFrame({
        "order_id": [f"o{i}" for i in range(len(rows))], "customer_id": [c for c, _ in rows],
        "order_date": dt.date(2024, 1, 2), "amount": 5.0, "product_id": [p for _, p in rows]}))


def test_a_customer_without_neighbours_gets_best_sellers_marked_as_such():
    # A, B, C buy tea and cake together (and A, B also jam); D's only purchase is a lone product.
    rows = [("A", "tea"), ("A", "cake"), ("A", "jam"), ("B", "tea"), ("B", "cake"), ("B", "jam"),
            ("C", "tea"), ("C", "cake"), ("D", "lone")]
    result = recommend_for(purchases(rows), method="item_item", n=2)
    picks = result.tables["recommendations"]
    d = picks.filter(pl.col("customer_id") == "D")
    assert d["product_id"].to_list() == ["cake", "tea"]  # bought by 3 customers each, ties by name
    assert set(d["source"]) == {"popularity"} and d["reason"][0] == "best seller: bought by 75% of customers"
    # A and B have bought all but the lone product: item-item has nothing for them either.
    assert set(picks.filter(pl.col("source") == "popularity")["customer_id"]) == {"A", "B", "D"}
    assert any("3 customer(s) got best sellers" in n for n in result.notes)
    c = picks.filter(pl.col("customer_id") == "C")
    assert c["product_id"].to_list() == ["jam"] and c["source"][0] == "item_item"
    assert c["reason"][0] in {"bought with tea by 67% of buyers of tea", "bought with cake by 67% of buyers of cake"}
    assert "lone" not in picks.filter(pl.col("source") == "item_item")["product_id"].to_list()
    bought = pl.DataFrame(rows, schema=["customer_id", "product_id"], orient="row")
    assert picks.join(bought, on=["customer_id", "product_id"]).height == 0  # never what they have
