"""Association rules: a textbook basket set (Han, Kamber & Pei, Table 6.1) and the sample,
against mlxtend's fpgrowth + association_rules (used only here), and the planted pairs."""

import datetime as dt
import json

import pandas as pd
import polars as pl
import pytest
from mlxtend.frequent_patterns import association_rules, fpgrowth

from core.errors import InputError
from core.products.data import read_purchases
from core.products.rules import JOIN, mine_rules
from tests.conftest import SAMPLE

# Han, Kamber & Pei, Data Mining: Concepts and Techniques, 3rd ed., Table 6.1 (AllElectronics).
TEXTBOOK = {
    "T100": ["I1", "I2", "I5"], "T200": ["I2", "I4"], "T300": ["I2", "I3"], "T400": ["I1", "I2", "I4"],
    "T500": ["I1", "I3"], "T600": ["I2", "I3"], "T700": ["I1", "I3"], "T800": ["I1", "I2", "I3", "I5"],
    "T900": ["I1", "I2", "I3"],
}
MEASURES = ("support", "confidence", "lift", "leverage", "conviction")


def lines_of(baskets: dict[str, list[str]]) -> pl.LazyFrame:
    # One customer per order, as a POS export of single visits looks.
    rows = [(order, f"C-{order}", item) for order, items in baskets.items() for item in items]
    return pl.LazyFrame({"order_id": [r[0] for r in rows], "customer_id": [r[1] for r in rows],
                         "order_date": dt.date(2024, 5, 1), "amount": 9.99, "product_id": [r[2] for r in rows]})


def reference(onehot: pd.DataFrame, min_support: float, max_len: int) -> pd.DataFrame:
    sets = fpgrowth(onehot, min_support=min_support, use_colnames=True, max_len=max_len)
    found = association_rules(sets, num_itemsets=len(onehot), metric="confidence", min_threshold=0.0)
    return pd.DataFrame({
        "antecedent": [JOIN.join(sorted(a)) for a in found["antecedents"]],
        "consequent": [JOIN.join(sorted(c)) for c in found["consequents"]],
        **{m: found[m].to_numpy() for m in MEASURES}}).sort_values(["antecedent", "consequent"]).reset_index(drop=True)


def ours(purchases, min_support: float, max_size: int) -> pd.DataFrame:
    result = mine_rules(purchases, min_support=min_support, min_confidence=0.0, min_lift=0.0, max_size=max_size,
                        top=0)
    table = result.tables["rules"].select("antecedent", "consequent", *MEASURES).sort("antecedent", "consequent")
    return table.to_pandas()


def assert_same_rules(mine: pd.DataFrame, theirs: pd.DataFrame) -> None:
    assert list(mine["antecedent"]) == list(theirs["antecedent"])
    assert list(mine["consequent"]) == list(theirs["consequent"])
    for measure in MEASURES:
        assert mine[measure].to_numpy() == pytest.approx(theirs[measure].to_numpy(), rel=1e-9, abs=1e-12), measure


def test_textbook_rules_equal_mlxtend_and_the_published_confidences():
    purchases = read_purchases(lines_of(TEXTBOOK), as_of=dt.date(2024, 5, 31))
    onehot = pd.DataFrame([{i: i in items for i in ("I1", "I2", "I3", "I4", "I5")} for items in TEXTBOOK.values()])
    mine = ours(purchases, 2 / 9, 3)
    assert_same_rules(mine, reference(onehot, 2 / 9, 3))
    # The book's rules from {I1, I2, I5} (Example 6.4): confidences 50%, 100%, 100%, 33%, 29%, 100%.
    conf = {(a, c): v for a, c, v in mine[["antecedent", "consequent", "confidence"]].itertuples(index=False)}
    assert conf[("I1 + I2", "I5")] == pytest.approx(2 / 4)
    assert conf[("I1 + I5", "I2")] == pytest.approx(1.0)
    assert conf[("I2 + I5", "I1")] == pytest.approx(1.0)
    assert conf[("I1", "I2 + I5")] == pytest.approx(2 / 6)
    assert conf[("I2", "I1 + I5")] == pytest.approx(2 / 7)
    assert conf[("I5", "I1 + I2")] == pytest.approx(1.0)


@pytest.fixture(scope="module")
def sample_lines() -> pd.DataFrame:
    if not SAMPLE.is_dir():
        pytest.skip("the sample workspace has not been generated")
    return pd.read_csv(SAMPLE / "transactions.csv", dtype={"order_id": str, "customer_id": str,
                                                           "product_id": str})


def test_sample_order_rules_equal_mlxtend(sample_lines):
    bought = sample_lines[sample_lines["amount"] > 0]
    # The stated rule: a product bought by one customer only is no product relation.
    buyers = bought.groupby("product_id")["customer_id"].nunique()
    # Its orders still count as baskets (support is a share of all orders).
    onehot = (pd.crosstab(bought["order_id"], bought["product_id"]) > 0)[buyers[buyers >= 2].index]
    tx = pl.scan_csv(SAMPLE / "transactions.csv", try_parse_dates=True,
                     schema_overrides={"order_id": pl.String, "customer_id": pl.String})
    purchases = read_purchases(tx, as_of=dt.date(2030, 1, 1))
    assert purchases.n_baskets == len(onehot)
    assert_same_rules(ours(purchases, 0.001, 2), reference(onehot, 0.001, 2))


def test_the_planted_complementary_pairs_are_the_strongest_rules():
    truth = json.loads((SAMPLE / "truth" / "truth.json").read_text())
    planted = {(p["a"], p["b"]) for p in truth["realised"]["complements"]}
    tx = pl.scan_csv(SAMPLE / "transactions.csv", try_parse_dates=True)
    result = mine_rules(read_purchases(tx), min_support=0.001, min_lift=10.0)
    found = set(result.tables["rules"].select("antecedent", "consequent").iter_rows())
    assert planted <= found
    assert {(b, a) for a, b in planted} <= found  # lift is symmetric
    assert len(found) == 2 * len(planted)
    lifts = {(a, c): lift for a, c, lift in result.tables["rules"].select("antecedent", "consequent", "lift")
             .iter_rows()}
    for pair in truth["realised"]["complements"]:  # counted by the generator from its own baskets
        assert lifts[(pair["a"], pair["b"])] == pytest.approx(pair["lift"], rel=1e-9)


def test_no_product_id_names_the_column_and_the_mapping():
    tx = lines_of(TEXTBOOK).drop("product_id")
    with pytest.raises(InputError) as caught:
        read_purchases(tx, where="shop/transactions.csv")
    message = str(caught.value)
    assert "product_id" in message and "[tables.transactions.columns]" in message
    assert "--level category" in message


def test_baskets_hold_each_item_once_with_its_first_date():
    """Orders, days (no order_id) and windows, against baskets listed by hand: a product twice
    in a basket is one line dated by its first purchase; returns and later lines are left out;
    baskets are numbered by customer, then order (or day, or window)."""
    d = dt.date
    frame = pl.LazyFrame({
        "customer_id": ["B", "A", "A", "A", "A", "A", "B", "B", "A"],
        "order_id": ["o9", "o2", "o1", "o1", "o2", "o3", "o9", "o8", "o4"],
        "order_date": [d(2024, 1, 3), d(2024, 1, 9), d(2024, 1, 2), d(2024, 1, 2), d(2024, 1, 9), d(2024, 1, 5),
                       d(2024, 1, 3), d(2024, 1, 20), d(2024, 3, 1)],
        "amount": [5.0, 5.0, 5.0, 5.0, 5.0, -5.0, 5.0, 5.0, 5.0],
        "product_id": ["p2", "p1", "p1", "p1", "p3", "p2", "p1", "p2", "p9"],
    })

    def baskets(purchases):
        lines = purchases.lines
        return [(purchases.customers[c], b, purchases.items[i], day)
                for c, b, i, day in lines.select("customer", "basket", "item", "order_date").iter_rows()]

    as_of = d(2024, 2, 1)  # A's o4 is later
    # Orders: A's o1 (p1 twice), A's o2 (p1, p3); o3 is a return; B's o8 (p2), o9 (p1, p2).
    assert baskets(read_purchases(frame, as_of=as_of)) == [
        ("A", 0, "p1", d(2024, 1, 2)), ("A", 1, "p1", d(2024, 1, 9)), ("A", 1, "p3", d(2024, 1, 9)),
        ("B", 2, "p2", d(2024, 1, 20)), ("B", 3, "p1", d(2024, 1, 3)), ("B", 3, "p2", d(2024, 1, 3))]
    # Without order_id a basket is a customer's day.
    assert baskets(read_purchases(frame.drop("order_id"), as_of=as_of)) == [
        ("A", 0, "p1", d(2024, 1, 2)), ("A", 1, "p1", d(2024, 1, 9)), ("A", 1, "p3", d(2024, 1, 9)),
        ("B", 2, "p1", d(2024, 1, 3)), ("B", 2, "p2", d(2024, 1, 3)), ("B", 3, "p2", d(2024, 1, 20))]
    # 30-day windows from each customer's first purchase: A's p1 once, at its first date.
    assert baskets(read_purchases(frame, as_of=as_of, window_days=30)) == [
        ("A", 0, "p1", d(2024, 1, 2)), ("A", 0, "p3", d(2024, 1, 9)),
        ("B", 1, "p1", d(2024, 1, 3)), ("B", 1, "p2", d(2024, 1, 3))]
