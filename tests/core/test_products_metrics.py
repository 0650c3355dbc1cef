"""Top-k metrics: a hand-computed example, and NDCG against scikit-learn's ndcg_score."""

import math

import numpy as np
import polars as pl
import pytest
from sklearn.metrics import ndcg_score

from core.products.metrics import per_customer


def recs(rows: dict[int, list[int]]) -> pl.DataFrame:
    flat = [(c, r, i) for c, items in rows.items() for r, i in enumerate(items, start=1)]
    return pl.DataFrame({"customer": [f[0] for f in flat], "rank": [f[1] for f in flat],
                         "item": [f[2] for f in flat]}, schema={"customer": pl.Int64, "rank": pl.Int64,
                                                               "item": pl.Int64})


def wanted(rows: dict[int, set[int]]) -> pl.DataFrame:
    flat = [(c, i) for c, items in rows.items() for i in sorted(items)]
    return pl.DataFrame({"customer": [f[0] for f in flat], "item": [f[1] for f in flat]},
                        schema={"customer": pl.Int64, "item": pl.Int64})


def test_hand_computed_example():
    # Customer 1: recommended 10, 11, 12; bought 11 and 13 -> one hit at rank 2.
    # Customer 2: only two recommendations (20, 21) at k = 3; bought 20 -> a hit at rank 1.
    # Customer 3: no recommendation; bought 30.
    table = per_customer(recs({1: [10, 11, 12], 2: [20, 21]}), wanted({1: {11, 13}, 2: {20}, 3: {30}}), k=3)
    one, two, three = table.sort("customer").iter_rows(named=True)
    assert one["precision"] == pytest.approx(1 / 3) and one["recall"] == pytest.approx(1 / 2)
    assert one["ap"] == pytest.approx((1 / 2) / 2)  # precision at the hit rank / min(R, k)
    assert one["ndcg"] == pytest.approx((1 / math.log2(3)) / (1 + 1 / math.log2(3)))
    assert one["hit"]
    assert two["precision"] == pytest.approx(1 / 3)  # the empty slot is a miss
    assert two["recall"] == 1.0 and two["ap"] == 1.0 and two["ndcg"] == 1.0
    assert (three["precision"], three["recall"], three["ap"], three["ndcg"], three["hit"]) == (0, 0, 0, 0, False)


def test_ndcg_equals_scikit_learn_on_random_lists():
    rng = np.random.default_rng(3)
    k, catalogue = 5, 40
    lists, bought = {}, {}
    for customer in range(200):
        lists[customer] = rng.choice(catalogue, size=k, replace=False).tolist()
        bought[customer] = set(rng.choice(catalogue, size=int(rng.integers(1, 8)), replace=False).tolist())
    table = per_customer(recs(lists), wanted(bought), k=k).sort("customer")
    expected = []
    for customer in range(200):
        truth = np.zeros(catalogue)
        truth[list(bought[customer])] = 1
        score = np.full(catalogue, -1.0)
        score[lists[customer]] = np.arange(k, 0, -1)  # rank 1 scores highest
        expected.append(ndcg_score(truth[None, :], score[None, :], k=k))
    assert table["ndcg"].to_numpy() == pytest.approx(np.array(expected), rel=1e-12)
    hits = [len(set(lists[c]) & bought[c]) for c in range(200)]
    assert table["precision"].to_list() == pytest.approx([h / k for h in hits])
    assert table["recall"].to_list() == pytest.approx([h / len(bought[c]) for c, h in enumerate(hits)])
