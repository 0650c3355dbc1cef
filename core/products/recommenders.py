"""Recommenders for implicit feedback (who bought what), scikit-learn style: parameters in
__init__, `fit(matrix)` returns self, learned state ends in `_`.

Each takes a customers x items sparse matrix (CSR; a value > 0 means bought) and
`recommend(rows, n)` returns, for the customers of `rows` (their purchases, the same items),
up to n items each that they have not bought, as a Picks of flat arrays (row, rank, item,
score, because): `because` is the bought item behind the pick (-1 for popularity).

Every method recommends only items bought by at least MIN_BUYERS customers (the same
minimum support as the rules): one customer's purchase is not a pattern to act on.

- Popularity: the items most customers bought (the baseline every method must beat).
- ItemItem: item-item collaborative filtering on sparse co-occurrence; an item's neighbours
  are the `neighbours` items most similar to it (cosine or lift of co-buyers), with at least
  `min_co_buyers` customers in common; a customer's score for an item is the sum of its
  similarities to the items they bought.
- ImplicitALS: matrix factorisation for implicit feedback (Hu, Koren & Volinsky 2008) by the
  `implicit` library's alternating least squares, on BM25-weighted purchase counts. Its
  defaults (ALS_FACTORS, ALS_REGULARIZATION) were chosen on an earlier split than the one
  its evaluation reports (core.products.tuning).

Everything is sparse and works in blocks of customers (and of items, when fitting), so
memory stays bounded by the block, not by customers x items.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from core.products.data import MIN_BUYERS
from core.products.defaults import ALS_FACTORS, ALS_REGULARIZATION

USER_BLOCK = 20_000  # customers scored at once
BLOCK_THREADS = max(1, min(4, os.cpu_count() or 1))  # threads scoring item-item's blocks
ITEM_BLOCK = 2_000  # item columns of the co-occurrence matrix computed at once
PADDED_CELLS = 4_000_000  # rows x longest row copied at once to find each row's top n
# A bought item speaks for at most FAN_OUT x neighbours items (ItemItem.fit). On the sample's
# planted tastes the share of picks that are the customer type's favourites is 0.44
# uncapped, 0.42 at 2x and 0.36 at 1x; each x costs about as much time as the last.
FAN_OUT = 2


@dataclass
class Picks:
    """Recommendations as flat arrays, sorted by row then rank (1 = best)."""

    row: np.ndarray
    rank: np.ndarray
    item: np.ndarray
    score: np.ndarray
    because: np.ndarray  # the bought item that led to the pick, or -1

    @classmethod
    def empty(cls) -> Picks:
        return cls(*(np.zeros(0, dtype=t) for t in (np.int64, np.int64, np.int64, np.float64, np.int64)))

    @classmethod
    def concat(cls, parts: list[Picks]) -> Picks:
        if not parts:
            return cls.empty()
        return cls(*(np.concatenate([getattr(p, f) for p in parts]) for f in ("row", "rank", "item", "score",
                                                                            "because")))

    def shifted(self, offset: int) -> Picks:
        return Picks(self.row + offset, self.rank, self.item, self.score, self.because)


def top_n(rows: np.ndarray, items: np.ndarray, scores: np.ndarray, n: int) -> tuple[np.ndarray, ...]:
    """The n best-scored items of each row (ties: the lower item code first), as sorted flat
    arrays (row, rank, item, score)."""
    order = np.lexsort((items, -scores, rows))
    rows, items, scores = rows[order], items[order], scores[order]
    starts = np.searchsorted(rows, rows)
    rank = np.arange(len(rows)) - starts + 1
    keep = rank <= n
    return rows[keep], rank[keep], items[keep], scores[keep]


def top_n_csr(scores, n: int) -> tuple[np.ndarray, ...]:
    """top_n of the positive entries of a CSR matrix of scores, without sorting all of them:
    each long row's n-th largest score is found by partitioning padded copies of the rows
    (O(entries)), and only the entries at or above it (ties included) are sorted.

    The rows are first put in order of length (one scipy row gather), so each chunk of rows
    padded together is a contiguous slice of the data, padded to about its own length."""
    scores = scores.tocsr()
    counts = np.diff(scores.indptr)
    order = np.argsort(counts, kind="stable")  # shortest first
    ordered = scores[order]
    indptr, data, lengths = ordered.indptr, ordered.data, counts[order]
    threshold = np.zeros(len(order))  # only positive scores are candidates
    start = int(np.searchsorted(lengths, n, side="right"))  # rows of n entries or fewer keep them all
    while start < len(order):  # chunks of rows whose padded copy stays small
        ahead = np.arange(start + 1, min(len(order), start + max(PADDED_CELLS // n, 1)) + 1)
        cost = (ahead - start) * lengths[ahead - 1]  # the widest row of a chunk is its last
        stop = int(ahead[max(np.searchsorted(cost, PADDED_CELLS, side="right") - 1, 0)])
        rows, width = stop - start, int(lengths[stop - 1])
        low = indptr[start]
        # Where each entry of the slice goes in a rows x width block.
        shift = np.arange(rows, dtype=np.int64) * width - (indptr[start:stop] - low)
        padded = np.full(rows * width, -np.inf)
        padded[np.arange(indptr[stop] - low) + np.repeat(shift, lengths[start:stop])] = data[low:indptr[stop]]
        threshold[start:stop] = np.maximum(np.partition(padded.reshape(rows, width), width - n, axis=1)[:, width - n],
                                           0.0)
        start = stop
    at = np.flatnonzero((data > 0) & (data >= np.repeat(threshold, lengths)))
    row = order[np.searchsorted(indptr, at, side="right") - 1].astype(np.int64)
    return top_n(row, ordered.indices[at].astype(np.int64), data[at], n)


def _blocks(count: int, size: int):
    for start in range(0, count, size):
        yield start, min(count, start + size)


class Popularity:
    """The items bought by the most customers, skipping those each customer already has."""

    def __init__(self, min_buyers: int = MIN_BUYERS) -> None:
        self.min_buyers = min_buyers

    def fit(self, matrix) -> Popularity:
        self.buyers_ = np.asarray((matrix > 0).sum(axis=0)).ravel()
        self.customers_ = matrix.shape[0]
        self.order_ = np.lexsort((np.arange(len(self.buyers_)), -self.buyers_))  # most bought first
        return self

    def recommend(self, rows, n: int) -> Picks:
        parts = [self._block(rows[a:b], n).shifted(a) for a, b in _blocks(rows.shape[0], USER_BLOCK)]
        return Picks.concat(parts)

    def _block(self, rows, n: int) -> Picks:
        ranked = self.order_[self.buyers_[self.order_] >= max(self.min_buyers, 1)]
        # Enough of the best sellers that n of them are left after each customer's purchases.
        length = min(len(ranked), n)
        while True:
            head = ranked[:length]
            bought = np.asarray((rows[:, head] > 0).sum(axis=1)).ravel()
            needed = min(len(ranked), n + int(bought.max(initial=0)))
            if needed <= length:
                break
            length = needed
        head = ranked[:length]
        owned = (rows[:, head] > 0).toarray()  # customers of the block x a short list: small
        free = ~owned
        rank = np.cumsum(free, axis=1)
        keep = free & (rank <= n)
        row, position = np.nonzero(keep)
        item = head[position]
        share = self.buyers_[item] / max(self.customers_, 1)
        return Picks(row.astype(np.int64), rank[row, position].astype(np.int64), item.astype(np.int64),
                     share.astype(np.float64), np.full(len(row), -1, dtype=np.int64))


class ItemItem:
    """Item-item collaborative filtering on the co-occurrence of items in customers' purchases."""

    def __init__(self, similarity: str = "cosine", neighbours: int = 50, min_co_buyers: int = MIN_BUYERS,
                 fan_out: int = FAN_OUT) -> None:
        self.similarity = similarity
        self.neighbours = neighbours
        self.min_co_buyers = min_co_buyers
        self.fan_out = fan_out

    def fit(self, matrix) -> ItemItem:
        from scipy import sparse

        x = sparse.csr_matrix(matrix > 0, dtype=np.float32)
        n_customers, n_items = x.shape
        buyers = np.asarray(x.sum(axis=0)).ravel()
        # Only items with enough buyers can have a neighbour: the rest (often most of a long
        # catalogue) stay out of the co-occurrence products.
        active = np.flatnonzero(buyers >= max(self.min_co_buyers, 1))
        x = x[:, active]
        xt = x.T.tocsr()
        xc = x.tocsc()

        def neighbours_of(block: tuple[int, int]) -> tuple[np.ndarray, ...]:
            a, b = block
            co = (xt @ xc[:, a:b]).tocoo()  # items x block: customers who bought both
            i, j, c = co.row, co.col + a, co.data
            keep = (i != j) & (c >= self.min_co_buyers)
            i, j, c = active[i[keep]], active[j[keep]], c[keep]
            if self.similarity == "lift":
                s = c * n_customers / (buyers[i] * buyers[j])
            else:
                s = c / np.sqrt(buyers[i] * buyers[j])
            # Keep each item's strongest neighbours: for column item j, the best i.
            order = np.lexsort((i, -s, j))
            i, j, c, s = i[order], j[order], c[order], s[order]
            rank = np.arange(len(j)) - np.searchsorted(j, j)
            keep = rank < self.neighbours
            return i[keep], j[keep], s[keep], c[keep]

        # Item blocks on BLOCK_THREADS threads (scipy and numpy release the GIL), each a share of
        # ITEM_BLOCK so the memory stays as with one thread; joined in block order.
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(BLOCK_THREADS) as pool:
            found = list(pool.map(neighbours_of, _blocks(len(active), max(ITEM_BLOCK // BLOCK_THREADS, 1))))
        rows = [np.zeros(0, dtype=np.int64), *(f[0] for f in found)]
        cols = [np.zeros(0, dtype=np.int64), *(f[1] for f in found)]
        sims, cos = [f[2] for f in found], [f[3] for f in found]
        i, j = np.concatenate(rows), np.concatenate(cols)
        s, c = np.concatenate([*sims, np.zeros(0)]), np.concatenate([*cos, np.zeros(0)])
        # A bought item speaks for at most fan_out x neighbours items: those it is most similar to among
        # the items that have it as a neighbour. Uncapped, a best seller (everyone's neighbour)
        # scored thousands of items for each of its buyers: 300 s and 7 GB for item-item
        # recommendations on a million transactions of 20,000 products.
        order = np.lexsort((j, -s, i))
        i, j, s, c = i[order], j[order], s[order], c[order]
        keep = np.arange(len(i)) - np.searchsorted(i, i) < self.fan_out * self.neighbours
        i, j, sims, cos = i[keep], j[keep], [s[keep]], [c[keep]]
        # sim_[i, j]: how much having bought i speaks for j (j's neighbours are the i's).
        self.sim_ = sparse.csr_matrix((np.concatenate(sims).astype(np.float64), (i, j)), shape=(n_items, n_items))
        self.co_ = sparse.csr_matrix((np.concatenate(cos).astype(np.float64), (i, j)), shape=(n_items, n_items))
        self.sim_.sort_indices()
        self.co_.sort_indices()
        # The matrix customers are scored with: sim_ plus -inf on the diagonal, so one product
        # both scores and rules out what a customer already has (an owned item's score is
        # -inf; every other item's sum is the same as with sim_, which has no diagonal).
        self.scoring_ = (self.sim_ + sparse.diags(np.full(n_items, -np.inf), format="csr")).tocsr()
        self.speaks_for_ = self.sim_.T.tocsr()  # row j: the bought items that speak for j
        self.speaks_for_.sort_indices()
        self.buyers_ = buyers
        return self

    def recommend(self, rows, n: int) -> Picks:
        # Blocks scored on BLOCK_THREADS threads (scipy and numpy release the GIL in their
        # loops: 1.5x faster on 2 cores), each a share of USER_BLOCK, so the customers scored
        # at once, and the memory, stay as with one thread; parts are joined in block order.
        from concurrent.futures import ThreadPoolExecutor

        threads = BLOCK_THREADS
        blocks = list(_blocks(rows.shape[0], max(USER_BLOCK // threads, 1)))
        with ThreadPoolExecutor(threads) as pool:
            parts = list(pool.map(lambda block: self._block(rows[block[0]:block[1]], n).shifted(block[0]),
                                  blocks))
        return Picks.concat(parts)

    def _block(self, rows, n: int) -> Picks:
        from scipy import sparse

        bought = sparse.csr_matrix(rows > 0, dtype=np.float64)
        scores = (bought @ self.scoring_).tocsr()  # owned items -inf: never what they already have
        row, rank, item, score = top_n_csr(scores, n)
        return Picks(row, rank, item, score, self.because(bought, row, item))

    def because(self, bought, row: np.ndarray, item: np.ndarray) -> np.ndarray:
        """For each pick (row, item): the bought item with the largest similarity to it."""
        # picks x items: the similarity of each item the customer bought to the pick, as one
        # sparse element-wise product of their purchases and the pick's column of sim_.
        linked = bought[row].multiply(self.speaks_for_[item]).tocsr()
        pick = np.repeat(np.arange(len(row)), np.diff(linked.indptr))
        return strongest(pick, linked.indices.astype(np.int64), linked.data, len(row))

    def co_buyer_share(self, owned: np.ndarray, item: np.ndarray) -> np.ndarray:
        """Share of the buyers of `owned` who also bought `item`."""
        return _lookup(self.co_, owned, item) / np.maximum(self.buyers_[owned], 1)


def _lookup(matrix, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """matrix[rows, cols] for a CSR matrix with sorted indices, vectorised (0 where absent)."""
    n = matrix.shape[1]
    keys = np.repeat(np.arange(matrix.shape[0], dtype=np.int64), np.diff(matrix.indptr)) * n + matrix.indices
    wanted = rows.astype(np.int64) * n + cols
    at = np.minimum(np.searchsorted(keys, wanted), max(len(keys) - 1, 0))
    found = len(keys) > 0
    hit = (keys[at] == wanted) if found else np.zeros(len(wanted), dtype=bool)
    return np.where(hit, matrix.data[at] if found else 0.0, 0.0)


class ImplicitALS:
    """Alternating least squares for implicit feedback, from the `implicit` library."""

    def __init__(self, factors: int = ALS_FACTORS, regularization: float = ALS_REGULARIZATION,
                 iterations: int = 20, random_state: int = 0, min_buyers: int = MIN_BUYERS) -> None:
        self.factors = factors
        self.regularization = regularization
        self.iterations = iterations
        self.random_state = random_state
        self.min_buyers = min_buyers

    def fit(self, matrix) -> ImplicitALS:
        try:
            from implicit.als import AlternatingLeastSquares
        except ImportError as error:
            from core.errors import InputError

            raise InputError("the als method needs the implicit library, which is not installed",
                             fix="pip install 'loyalist[products]', or use --method item_item") from error
        from implicit.nearest_neighbours import bm25_weight
        from scipy import sparse
        from threadpoolctl import threadpool_limits

        weighted = sparse.csr_matrix(bm25_weight(sparse.csr_matrix(matrix, dtype=np.float32), K1=100, B=0.8),
                                     dtype=np.float32)
        with threadpool_limits(1, "blas"):  # implicit runs its own threads; BLAS threads would fight them
            self.model_ = AlternatingLeastSquares(factors=self.factors, regularization=self.regularization,
                                                  iterations=self.iterations, random_state=self.random_state)
            self.model_.fit(weighted, show_progress=False)
        self.items_ = np.asarray(self.model_.item_factors)
        norms = np.linalg.norm(self.items_, axis=1)
        self.unit_items_ = self.items_ / np.where(norms > 0, norms, 1.0)[:, None]
        self.n_items_ = matrix.shape[1]
        buyers = np.asarray((sparse.csr_matrix(matrix) > 0).sum(axis=0)).ravel()
        self.candidates_ = np.flatnonzero(buyers >= max(self.min_buyers, 1))
        return self

    def recommend(self, rows, n: int, customers: np.ndarray | None = None) -> Picks:
        """`customers`: their row numbers in the fitted matrix (default: the first rows)."""
        from scipy import sparse

        count = rows.shape[0]
        customers = np.arange(count) if customers is None else customers
        parts = []
        if len(self.candidates_) == 0:
            return Picks.empty()
        for a, b in _blocks(count, USER_BLOCK):
            block = sparse.csr_matrix(rows[a:b], dtype=np.float32)
            ids, scores = self.model_.recommend(customers[a:b], block, N=min(n, len(self.candidates_)),
                                                filter_already_liked_items=True, items=self.candidates_)
            r = np.repeat(np.arange(b - a), ids.shape[1])
            item, score = ids.ravel().astype(np.int64), scores.ravel().astype(np.float64)
            valid = (item >= 0) & np.isfinite(score) & (score > np.finfo(np.float32).min)  # not a filler
            r, item, score = r[valid], item[valid], score[valid]
            block.sort_indices()
            owned = _lookup(block, r, item) > 0  # implicit fills short lists with owned items
            r, item, score = r[~owned], item[~owned], score[~owned]
            row, rank, item, score = top_n(r, item, score, n)
            parts.append(Picks(row, rank, item, score, self.because(block, row, item)).shifted(a))
        return Picks.concat(parts)

    def because(self, bought, row: np.ndarray, item: np.ndarray) -> np.ndarray:
        """The bought item whose factors are closest (cosine) to the pick's."""
        pick, owned = owned_pairs(bought, row)
        sim = np.einsum("ij,ij->i", self.unit_items_[owned], self.unit_items_[item[pick]])
        return strongest(pick, owned, sim, len(row))


def owned_pairs(bought, row: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(pick index, owned item) for every item the customer of each pick bought."""
    counts = np.diff(bought.indptr)[row]
    pick = np.repeat(np.arange(len(row)), counts)
    offset = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    return pick, bought.indices[np.repeat(bought.indptr[row], counts) + offset].astype(np.int64)


def strongest(pick: np.ndarray, owned: np.ndarray, strength: np.ndarray, picks: int) -> np.ndarray:
    """Per pick, the owned item of the largest strength (ties: the lower code); -1 if none.
    Each pick's largest strength by a grouped maximum, not a sort of every (pick, owned) pair."""
    best = np.full(picks, -1, dtype=np.int64)
    if not len(pick):
        return best
    if np.any(pick[1:] < pick[:-1]):  # owned_pairs lists each pick's items together; others may not
        order = np.argsort(pick, kind="stable")
        pick, owned, strength = pick[order], owned[order], strength[order]
    starts = np.flatnonzero(np.r_[True, pick[1:] != pick[:-1]])
    sizes = np.diff(np.r_[starts, len(pick)])
    top = np.repeat(np.maximum.reduceat(strength, starts), sizes)
    candidate = np.where(strength == top, owned, np.iinfo(np.int64).max)
    best[pick[starts]] = np.minimum.reduceat(candidate, starts)
    return best
