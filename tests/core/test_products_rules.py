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
