"""Frequent itemsets and association rules, exactly, on a sparse basket x item matrix.

Level-wise like Apriori but counted with sparse matrix products instead of candidate
lists: items by column counts; pairs by the co-occurrence matrix XᵀX; a k-itemset S ∪ {i}
by YᵀX, where Y marks the baskets holding every item of a frequent (k-1)-itemset S (the
baskets whose row of X·Mᵀ reaches k-1, M the sets' item membership). Each frequent
k-itemset is found once, from its k-1 smallest items (frequent too, by the Apriori
property), so the result is the same list FP-growth gives, with exact counts.

Rules A → C come from every split of a frequent itemset into two non-empty parts, with
support P(A ∪ C), confidence P(C | A), lift confidence / P(C), leverage P(A ∪ C) - P(A)P(C)
and conviction (1 - P(C)) / (1 - confidence) (infinite when the confidence is 1), as
mlxtend's fpgrowth + association_rules compute them.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import polars as pl

from core.errors import InputError

# Work limits: pair counting touches sum over baskets of n(n-1)/2 item pairs (n = frequent
# items in the basket); beyond this the counts would not fit in memory on a laptop.
MAX_PAIR_WORK = 400_000_000
MAX_ITEMSETS = 2_000_000


def min_count(min_support: float, baskets: int) -> int:
    """The smallest count whose support count / baskets is at least min_support (as a float
    comparison, like mlxtend's), and never below 1."""
    count = max(1, math.ceil(min_support * baskets))
    while count > 1 and (count - 1) / baskets >= min_support:
        count -= 1
    while count / baskets < min_support:
        count += 1
    return count


def frequent_itemsets(matrix, threshold: int, max_size: int) -> list[pl.DataFrame]:
    """Frequent itemsets by size: element k-1 holds columns i0..i{k-1} (item codes, ascending)
    and count, for every itemset of size k bought in at least `threshold` baskets."""
    from scipy import sparse

    counts = np.asarray(matrix.getnnz(axis=0))
    frequent = np.flatnonzero(counts >= threshold)
    levels = [pl.DataFrame({"i0": np.arange(len(frequent), dtype=np.int64),
                            "count": counts[frequent].astype(np.int64)})]
    if max_size < 2 or len(frequent) < 2:
        return [_recoded(level, frequent) for level in levels]
    x = sparse.csr_matrix(matrix[:, frequent], dtype=np.int32)  # columns renumbered 0..F-1
    per_basket = np.diff(x.indptr).astype(np.int64)
    work = int((per_basket * (per_basket - 1) // 2).sum())
    if work > MAX_PAIR_WORK:
        raise InputError(
            f"counting item pairs would touch {work:,} pairs (baskets hold up to {per_basket.max():,} items "
            f"bought often enough); the limit is {MAX_PAIR_WORK:,}",
            fix="raise --min-support, use shorter --window-days (or order baskets), or --level category")
    co = sparse.triu(x.T @ x, k=1).tocoo()
    keep = co.data >= threshold
    pairs = pl.DataFrame({"i0": co.row[keep].astype(np.int64), "i1": co.col[keep].astype(np.int64),
                          "count": co.data[keep].astype(np.int64)})
    levels.append(pairs)
    xc = x.tocsc()
    for size in range(3, max_size + 1):
        previous = levels[-1]
        if previous.height == 0:
            break
        if previous.height > MAX_ITEMSETS:
            raise InputError(f"{previous.height:,} frequent itemsets of {size - 1} items; the limit is "
                             f"{MAX_ITEMSETS:,}", fix="raise --min-support or lower --max-size")
        levels.append(_grow(x, xc, previous, size, threshold))
    return [_recoded(level, frequent) for level in levels]


def _recoded(level: pl.DataFrame, frequent: np.ndarray) -> pl.DataFrame:
    """Item codes 0..F-1 of the frequent-item matrix back to the caller's codes."""
    columns = [c for c in level.columns if c.startswith("i")]
    return level.with_columns(pl.Series(c, frequent[level[c].to_numpy()].astype(np.int64)) for c in columns)


def _grow(x, xc, previous: pl.DataFrame, size: int, threshold: int) -> pl.DataFrame:
    """The frequent itemsets of `size` items that extend a frequent (size-1)-itemset by a larger item."""
    from scipy import sparse

    k = size - 1
    n_sets, n_items = previous.height, x.shape[1]
    members = np.column_stack([previous[f"i{j}"].to_numpy() for j in range(k)])
    # The work of X·Mᵀ: every basket holding item i meets every set holding i.
    sets_per_item = np.bincount(members.ravel(), minlength=n_items)
    work = int((np.diff(xc.indptr).astype(np.int64) * sets_per_item).sum())
    if work > MAX_PAIR_WORK:
        raise InputError(f"counting itemsets of {size} items would touch {work:,} basket-set pairs; the limit is "
                         f"{MAX_PAIR_WORK:,}", fix="raise --min-support or lower --max-size")
    membership = sparse.csr_matrix((np.ones(n_sets * k, dtype=np.int32),
                                    (np.repeat(np.arange(n_sets), k), members.ravel())), shape=(n_sets, n_items))
    held = (x @ membership.T).tocsr()
    held.data = (held.data == k).astype(np.int32)
    held.eliminate_zeros()  # baskets x sets: the basket holds the whole set
    grown = (held.T @ x).tocoo()  # sets x items: baskets holding the set and the item
    last = members[:, -1]
    keep = (grown.col > last[grown.row]) & (grown.data >= threshold)
    rows = grown.row[keep]
    columns = {f"i{j}": members[rows, j].astype(np.int64) for j in range(k)}
    columns[f"i{k}"] = grown.col[keep].astype(np.int64)
    columns["count"] = grown.data[keep].astype(np.int64)
    return pl.DataFrame(columns).sort([f"i{j}" for j in range(size)])


def association_rules(levels: list[pl.DataFrame], baskets: int) -> pl.DataFrame:
    """Every rule A → C from the frequent itemsets of two items or more: item codes of A and C
    as lists, counts and the five measures."""
    counts = {len(level.columns) - 1: level for level in levels}
    parts = []
    for size, level in counts.items():
        if size < 2 or level.height == 0:
            continue
        items = [f"i{j}" for j in range(size)]
        for r in range(1, size):
            for chosen in itertools.combinations(range(size), r):
                rest = [j for j in range(size) if j not in chosen]
                rule = level.select(
                    pl.concat_list([items[j] for j in chosen]).alias("antecedent"),
                    pl.concat_list([items[j] for j in rest]).alias("consequent"),
                    pl.col("count").alias("both_count"),
                    *[pl.col(items[j]).alias(f"a{n}") for n, j in enumerate(chosen)],
                    *[pl.col(items[j]).alias(f"c{n}") for n, j in enumerate(rest)],
                )
                rule = _with_count(rule, counts[r], "a", r, "antecedent_count")
                rule = _with_count(rule, counts[size - r], "c", size - r, "consequent_count")
                parts.append(rule.select("antecedent", "consequent", "antecedent_count", "consequent_count",
                                         "both_count"))
    if not parts:
        return pl.DataFrame(schema={"antecedent": pl.List(pl.Int64), "consequent": pl.List(pl.Int64),
                                    "antecedent_count": pl.Int64, "consequent_count": pl.Int64,
                                    "both_count": pl.Int64, "support": pl.Float64, "confidence": pl.Float64,
                                    "lift": pl.Float64, "leverage": pl.Float64, "conviction": pl.Float64})
    n = float(baskets)
    support_a, support_c = pl.col("antecedent_count") / n, pl.col("consequent_count") / n
    support = pl.col("both_count") / n
    confidence = support / support_a
    return pl.concat(parts).with_columns(
        support=support, confidence=confidence, lift=confidence / support_c,
        leverage=support - support_a * support_c,
        conviction=pl.when(confidence < 1).then((1 - support_c) / (1 - confidence)).otherwise(float("inf")),
    )


def _with_count(rule: pl.DataFrame, level: pl.DataFrame, prefix: str, size: int, name: str) -> pl.DataFrame:
    lookup = level.rename({f"i{j}": f"{prefix}{j}" for j in range(size)} | {"count": name})
    return rule.join(lookup, on=[f"{prefix}{j}" for j in range(size)], how="left")
