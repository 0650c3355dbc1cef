"""Recommendations on thin data follow their stated rules: a customer item-item has nothing
for gets best sellers (marked and noted), nobody is offered what they bought, and a
product bought by one customer only is never recommended, by any method (the rules'
minimum support: 2 customers)."""

import pytest

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
    # A and B have bought all but the lone product, which no method offers: nothing for them.
    assert set(picks.filter(pl.col("source") == "popularity")["customer_id"]) == {"D"}
    assert not {"A", "B"} & set(picks["customer_id"])
    assert any("1 customer(s) got best sellers" in n for n in result.notes)
    assert any("3 customer(s) have fewer than 2 products left" in n for n in result.notes)  # C has jam only
    assert any("1 product(s) are not candidates: a candidate was bought by at least 2 customers" in n
               for n in result.notes)
    c = picks.filter(pl.col("customer_id") == "C")
    assert c["product_id"].to_list() == ["jam"] and c["source"][0] == "item_item"
    assert c["reason"][0] in {"bought with tea by 67% of buyers of tea", "bought with cake by 67% of buyers of cake"}
    assert "lone" not in picks.filter(pl.col("source") == "item_item")["product_id"].to_list()
    bought = pl.DataFrame(rows, schema=["customer_id", "product_id"], orient="row")
    assert picks.join(bought, on=["customer_id", "product_id"]).height == 0  # never what they have


@pytest.mark.parametrize("method", ["popularity", "item_item", "als"])
def test_no_method_recommends_a_product_only_one_customer_bought(method):
    # "lone" was bought by one customer (E), so often that it is the most bought line of all; F
    # has bought every other product, so before the rule a best-seller list offered F "lone".
    rows = [("A", "tea"), ("A", "cake"), ("B", "tea"), ("B", "jam"), ("C", "cake"), ("C", "jam"),
            ("F", "tea"), ("F", "cake"), ("F", "jam"), *[("E", "lone")] * 5, ("E", "tea")]
    if method == "als":
        pytest.importorskip("implicit")
    picks = recommend_for(purchases(rows), method=method, n=3).tables["recommendations"]
    assert "lone" not in picks["product_id"].to_list()
    assert picks.filter(pl.col("customer_id") == "F").height == 0  # nothing left worth offering
    assert set(picks["product_id"]) <= {"tea", "cake", "jam"}
    assert picks.height > 0


def test_the_fast_top_n_picks_what_sorting_every_score_picks(monkeypatch):
    # top_n_csr partitions padded rows in chunks instead of sorting every candidate; on random
    # scores with many ties and chunk limits small and large it must pick exactly what a full
    # sort (ties: lower item code first) picks.
    import numpy as np
    from scipy import sparse

    from core.products import recommenders

    rng = np.random.default_rng(1)
    for trial in range(30):
        scores = sparse.random(300, 400, density=rng.uniform(0.001, 0.3), format="csr", random_state=trial)
        scores.data = np.round(scores.data * 5) / 5 - 0.2  # ties, and zeros and negatives to leave out
        n = int(rng.integers(1, 15))
        monkeypatch.setattr(recommenders, "PADDED_CELLS", int(rng.integers(20, 5000)))
        coo = scores.tocoo()
        keep = coo.data > 0
        expected = recommenders.top_n(coo.row[keep].astype(np.int64), coo.col[keep].astype(np.int64),
                                      coo.data[keep], n)
        found = recommenders.top_n_csr(scores, n)
        assert all(np.array_equal(a, b) for a, b in zip(expected, found)), trial


def test_a_best_seller_speaks_for_its_strongest_items_only():
    """Every item has the best seller among its neighbours; bought, it speaks for only
    fan_out x neighbours items, those it is most similar to (ties: the lower code), so a
    customer is never scored on the whole catalogue (the cause of 300 s and 7 GB at a
    million transactions). Checked against the similarities computed by hand (cosine)."""
    import numpy as np
    from scipy import sparse

    from core.products.recommenders import ItemItem

    # 40 items; item 0 is bought by all 120 customers, each other item by its own 2-4 of them,
    # so item 0 is every item's only neighbour.
    rows, cols, first = list(range(120)), [0] * 120, 0
    for k in range(1, 40):
        size = 2 + (k * 7) % 3
        rows += range(first, first + size)
        cols += [k] * size
        first += size
    matrix = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(120, 40))
    model = ItemItem(neighbours=3, fan_out=2).fit(matrix)
    x = matrix.toarray()
    co = x.T @ x
    cosine = co / np.sqrt(np.outer(x.sum(0), x.sum(0)))
    has_zero = list(range(1, 40))
    expected = sorted(has_zero, key=lambda k: (-cosine[0, k], k))[:6]
    assert sorted(model.sim_[0].indices.tolist()) == sorted(expected)
    np.testing.assert_allclose(model.sim_[0, expected].toarray().ravel(), cosine[0, expected])


def test_item_item_picks_do_not_depend_on_blocks_or_threads(monkeypatch):
    """Customers are scored in blocks on several threads; the picks are the same however
    they are split."""
    import numpy as np

    import core.products.recommenders as recommenders

    rng = np.random.default_rng(3)
    rows = [(f"C{c:03d}", f"P{min(int(rng.zipf(1.6)), 60):02d}") for c in range(400) for _ in range(rng.integers(1, 9))]
    bought = purchases(rows)
    whole = recommend_for(bought, method="item_item", n=5).tables["recommendations"]
    monkeypatch.setattr(recommenders, "USER_BLOCK", 37)
    for threads in (1, 3):
        monkeypatch.setattr(recommenders, "BLOCK_THREADS", threads)
        split = recommend_for(bought, method="item_item", n=5).tables["recommendations"]
        assert split.equals(whole)
    assert whole["customer_id"].n_unique() > 300


def test_item_item_picks_and_reasons_equal_a_dense_computation_on_the_sample(monkeypatch):
    """Every customer of the sample, scored the plain way on dense arrays: an item's score is
    the sum of its similarities to the items bought, owned items are never picked, the top n
    by score (ties: the lower code), and the reason is the bought item most similar to the
    pick (ties: the lower code). The fast path (scoring product with the owned items ruled
    out inside it, top n on length-sorted rows, reasons by a sparse element-wise product)
    must give the same ids and scores to 1e-9, whatever the blocks and threads."""
    import numpy as np

    import core.products.recommenders as recommenders
    from core.products.recommend import capped
    from core.products.recommenders import ItemItem
    from tests.conftest import SAMPLE

    if not SAMPLE.is_dir():
        pytest.skip("the sample workspace has not been generated")
    tx = pl.scan_csv(SAMPLE / "transactions.csv", try_parse_dates=True,
                     schema_overrides={"order_id": pl.String, "customer_id": pl.String})
    bought_lines, _ = capped(read_purchases(tx, as_of=dt.date(2030, 1, 1)))
    bought = (bought_lines.customer_counts() > 0).astype(np.float32).tocsr()
    n = 10
    model = ItemItem().fit(bought)
    x, sim = bought.toarray() > 0, model.sim_.toarray()
    scores = x.astype(np.float64) @ sim
    expected = []
    for row in range(x.shape[0]):
        candidates = [(-scores[row, j], j) for j in np.flatnonzero((scores[row] > 0) & ~x[row])]
        for rank, (negative, item) in enumerate(sorted(candidates)[:n], start=1):
            owned = np.flatnonzero(x[row])
            strength = sim[owned, item]
            because = int(owned[strength == strength.max()].min())
            expected.append((row, rank, item, -negative, because))
    expected = np.array(expected)
    assert len(expected) > 10 * 1000
    for block, threads in ((recommenders.USER_BLOCK, 1), (97, 3)):
        monkeypatch.setattr(recommenders, "USER_BLOCK", block)
        monkeypatch.setattr(recommenders, "BLOCK_THREADS", threads)
        picks = ItemItem().fit(bought).recommend(bought, n)
        assert picks.row.tolist() == expected[:, 0].astype(int).tolist()
        assert picks.rank.tolist() == expected[:, 1].astype(int).tolist()
        assert picks.item.tolist() == expected[:, 2].astype(int).tolist()
        np.testing.assert_allclose(picks.score, expected[:, 3], rtol=1e-9, atol=0)
        assert picks.because.tolist() == expected[:, 4].astype(int).tolist()
